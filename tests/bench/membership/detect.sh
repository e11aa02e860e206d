#!/usr/bin/env bash
# Failure detection with real farmd processes on loopback: kill -9 one of three nodes, time until both survivors agree
# on a view without it. Prints the figures and writes tests/bench/results/membership-detect.md.
# Usage: tests/bench/membership/detect.sh [--runs N]   (default 10)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
dotnet build -c Release -v quiet -nologo tests/bench/Farm.Bench.Membership >/dev/null
exec dotnet tests/bench/Farm.Bench.Membership/bin/Release/net10.0/Farm.Bench.Membership.dll detect "$@"
