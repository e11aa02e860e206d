#!/usr/bin/env bash
# Bucket-math micro-benchmarks: per-packet hash + owner lookup, and table transitions for 64 nodes.
# Builds tests/bench/Farm.Benchmarks in Release, runs BenchmarkDotNet with the short job in-process
# (no per-benchmark child build, so it stays within a few minutes on 2 cores), prints the tables and
# writes them with the machine description to tests/bench/results/micro.md.
#
# Usage: tests/bench/micro/run.sh [extra BenchmarkDotNet arguments]
#   FILTER='*Transition*' tests/bench/micro/run.sh    # run a subset
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
project="$root/tests/bench/Farm.Benchmarks"
results="$root/tests/bench/results"
report="$results/micro.md"
filter="${FILTER:-*}"
artifacts="$(mktemp -d "${TMPDIR:-/tmp}/farm-micro.XXXXXX")"
trap 'rm -rf "$artifacts"' EXIT

mkdir -p "$results"
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
dotnet build -c Release "$project" -nologo -v quiet
command=(dotnet run -c Release --no-build --project "$project" -- --filter "$filter" --job short --inProcess --exporters GitHub --artifacts "$artifacts" "$@")
"${command[@]}"

cpu="$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -n 1)"
{
  echo "# Bucket math micro-benchmarks"
  echo
  echo "- Date (UTC): $(date -u '+%Y-%m-%d %H:%M')"
  echo "- Machine: ${cpu:-unknown CPU}, $(nproc) cores, $(uname -sr)"
  echo "- .NET SDK: $(dotnet --version)"
  echo "- Load average (1/5/15 min) before the run: $load_before; other builds on the machine add noise, so compare Error columns"
  echo "- Command: \`tests/bench/micro/run.sh${*:+ $*}\`$( [[ "$filter" != "*" ]] && echo " with FILTER='$filter'" )"
  shown=("${command[@]/#$root\//}")
  echo "- Runs: \`${shown[*]/$artifacts/<tmp>}\`"
  echo
  for table in "$artifacts"/results/*-report-github.md; do
    [[ -e "$table" ]] || continue
    echo "## $(basename "$table" -report-github.md)"
    echo
    cat "$table"
    echo
  done
} > "$report"

echo
echo "==== $report ===="
cat "$report"
