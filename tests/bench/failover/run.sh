#!/usr/bin/env bash
# Failover benchmark (issue 6): three real farmd with their data plane in network namespaces, 200 client addresses each
# opening a new TCP connection to the VIP every 10 ms; one node fails by kill -9 (farmd + app), veth link down (5 s)
# or SIGSTOP of farmd (5 s). Measures, for the clients of the failed node, failure -> first answer by another node
# (p50/p99/max), connections answered by two nodes and clients never served again, at farmd's default timings
# (50 ms / 300 ms / 150 ms) or others (--timing). Prints the tables and writes tests/bench/results/failover.md.
# Needs root (network namespaces), nft and tcpdump; touches no root-namespace setting: every namespace is created by
# the run and deleted at its end (also on Ctrl-C).
#
# The nodes run the farmd that ships: this script publishes it with installer/package.sh's farmd target, exactly as the
# .deb holds it (self-contained, ReadyToRun), into tests/bench/Farm.Bench.Failover/bin/farmd-package. A JIT-compiled build
# spends its first view change without a coordinator compiling that path (measured: a Prepare round 126 ms, not 18-40 ms).
#
# Usage: tests/bench/failover/run.sh [--jit | --farmd PATH] [--no-build] [options of the benchmark: --help]
#   --jit         run the Release build output (farmd.dll with dotnet, compiled as it runs) instead of the shipped build
#   --farmd PATH  run this farmd (a farmd.dll, or a published farmd executable), e.g. a build of another commit
#   --no-build    use what the last run built and published
# At --repetitions 10 it runs for about 5 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."

build=1 jit=0 farmd="" args=()
while (($#)); do
  case "$1" in
    --jit) jit=1 ;;
    --no-build) build=0 ;;
    --farmd)
      [[ $# -ge 2 ]] || { echo "run.sh: --farmd needs a path" >&2; exit 2; }
      farmd="$2"
      shift
      ;;
    *) args+=("$1") ;;
  esac
  shift
done

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
bench=tests/bench/Farm.Bench.Failover/bin/Release/net10.0/Farm.Bench.Failover.dll
if [[ " ${args[*]-} " == *" -h "* || " ${args[*]-} " == *" --help "* ]]; then
  sed -n '10,18p' "$0" | sed 's/^# \{0,1\}//'
  if [[ -e "$bench" ]]; then exec dotnet "$bench" --help; fi
  echo "(the benchmark's own options: build it first, e.g. run.sh --repetitions 1)"
  exit 0
fi
package=tests/bench/Farm.Bench.Failover/bin/farmd-package
if ((build)); then
  dotnet build -c Release -v quiet -nologo tests/bench/Farm.Bench.Failover >/dev/null
  if [[ -z "$farmd" ]] && ((!jit)); then
    # The farmd target publishes only into a new or empty folder.
    echo "publishing farmd as the .deb ships it (installer/package.sh farmd: self-contained, ReadyToRun) into $package"
    rm -rf "$package"
    installer/package.sh --output "$PWD/$package" farmd >/dev/null
  fi
fi

if [[ -z "$farmd" ]]; then
  farmd=$([[ $jit == 1 ]] && echo "$(dirname "$bench")/farmd.dll" || echo "$package/farmd")
fi
[[ -e "$farmd" ]] || { echo "run.sh: no farmd at $farmd (run without --no-build first)" >&2; exit 2; }
[[ -e "$bench" ]] || { echo "run.sh: the benchmark is not built (run without --no-build)" >&2; exit 2; }
exec dotnet "$bench" --farmd "$farmd" "${args[@]}"
