#!/usr/bin/env bash
# No false positive: three farmd on loopback for some minutes while busy loops saturate every core and each farmd is
# forced through a full blocking GC every few hundred ms; counts view changes (must be 0). Bounded: everything it
# starts stops by itself. Writes tests/bench/results/membership-soak.md.
# Usage: tests/bench/membership/soak.sh [--minutes 5] [--gc-ms 200] [--hogs 4]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
dotnet build -c Release -v quiet -nologo tests/bench/Farm.Bench.Membership >/dev/null
exec dotnet tests/bench/Farm.Bench.Membership/bin/Release/net10.0/Farm.Bench.Membership.dll soak "$@"
