#!/usr/bin/env bash
# Membership at scale on the deterministic simulation (virtual time, default timings 50 / 300 / 150 ms): for 3, 8, 16
# and 64 nodes, the time until every survivor installed a view without a failed node (host gone, farmd killed; a
# member and the coordinator), and the membership messages and bytes each node sends per second. No processes, no
# network: it can run at any time (it keeps one core busy). Writes tests/bench/results/scale-sim.md.
# Usage: tests/bench/scale/sim.sh [--sizes 3,8,16,64] [--seeds 5] [--measure 5] [--notice-ms 100] [--out FILE]
#                                 [--interval-ms 50 --detection-ms 300 --lease-ms 150]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
for a in "$@"; do
  if [[ "$a" == -h || "$a" == --help ]]; then sed -n '2,7p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0; fi
done
dotnet build -c Release -v quiet -nologo tests/bench/Farm.Bench.Membership >/dev/null
exec dotnet tests/bench/Farm.Bench.Membership/bin/Release/net10.0/Farm.Bench.Membership.dll sim "$@"
