#!/usr/bin/env bash
# What hostile requests cost farmd: 1,000 heartbeats with a wrong key, 1,000 oversized, 1,000 from an address outside
# the farm (new connection each), a few sealed drain reports that claim every bucket range. Three farmd on loopback
# (data plane off); everything it starts stops by itself. Writes tests/bench/results/hostile-LABEL.md.
# Usage: tests/bench/membership/hostile.sh [--label after] [--requests 1000] [--expansion 5]
#        FARM_BENCH_FARMD=/path/to/old/farmd.dll tests/bench/membership/hostile.sh --label before --legacy
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
dotnet build -c Release -v quiet -nologo tests/bench/Farm.Bench.Membership >/dev/null
exec dotnet tests/bench/Farm.Bench.Membership/bin/Release/net10.0/Farm.Bench.Membership.dll hostile "$@"
