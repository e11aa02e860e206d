#!/usr/bin/env bash
# Before/after comparison of the ARP/NDP responder under the same machine load: builds the benchmark of commit BEFORE
# (which must contain tests/bench/Farm.Bench.Neighbor) from `git archive` in a temporary folder, builds this tree's,
# and runs the two alternately, N pairs. Each run appends its section (commit, date, load, p50/p90/p99/max) to FILE.
# Same network rules as run.sh: every namespace is created by a run and deleted at its end; the EXIT trap deletes what
# a dead run of this script left behind.
#
# Usage: tests/bench/neighbor/compare.sh BEFORE [--pairs N=3] [--out FILE=tests/bench/results/neighbor-compare.md]
#                                               [more Farm.Bench.Neighbor options, e.g. --requests 2000]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
root="$PWD"
if [[ $# -lt 1 || "$1" == -* ]]; then
  sed -n '2,9p' "$0" >&2
  exit 2
fi
before="$(git rev-parse --short "$1")"
shift
pairs=3
out="tests/bench/results/neighbor-compare.md"
extra=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --pairs) pairs="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) extra+=("$1"); shift ;;
  esac
done
out="$(realpath -m "$out")"

source tests/bench/neighbor/lib.sh
after="$(bench_commit)"

work="$(mktemp -d "${TMPDIR:-/tmp}/farm-neighbor-before.XXXXXX")"
pid=""
cleanup() {
  bench_stop
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bash installer/deps.sh >/dev/null
git archive "$before" | tar -x -C "$work"
dotnet build -c Release -v quiet -nologo "$work/tests/bench/Farm.Bench.Neighbor" >/dev/null
dotnet build -c Release -v quiet -nologo tests/bench/Farm.Bench.Neighbor >/dev/null

run() { # DIR LABEL COMMIT
  (cd "$1" && exec dotnet tests/bench/Farm.Bench.Neighbor/bin/Release/net10.0/Farm.Bench.Neighbor.dll \
     --label "$2" --commit "$3" --out "$out" "${extra[@]}") &
  pid=$!
  wait "$pid"
  pid=""
}

if [[ ! -f "$out" ]]; then
  mkdir -p "$(dirname "$out")"
  {
    echo "# ARP/NDP responder: before/after pairs under the same load"
    echo
    echo "Written by \`tests/bench/neighbor/compare.sh\`: the benchmark of \`tests/bench/neighbor/run.sh\` (method in"
    echo "\`neighbor.md\`), run alternately from a build of an earlier commit and from this tree; each section names its"
    echo "build. The \"Command\" line inside a section is what the benchmark program prints, not how compare.sh called it."
    echo
  } > "$out"
fi
echo "## compare.sh $before vs $after: $(date -u '+%Y-%m-%d %H:%M') UTC, $pairs pairs, options: ${extra[*]:-(defaults)}" >> "$out"
echo >> "$out"

for ((i = 1; i <= pairs; i++)); do
  run "$work" "before (pair $i of $pairs, compare.sh $before)" "$before"
  run "$root" "after (pair $i of $pairs, compare.sh $before)" "$after"
done
echo "appended $((2 * pairs)) runs to $out"
