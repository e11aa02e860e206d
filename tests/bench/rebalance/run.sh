#!/usr/bin/env bash
# Rebalance benchmark (issue 7): three real farmd with their data plane in network namespaces, 1000 long-lived TCP
# sessions from 200 client addresses (a message every 50 ms each); a fourth node joins, then one node is drained.
# Reports per move: broken sessions (target 0), time until the kernels split new flows in the new shares, and the
# latency clients saw during the move vs just before. Prints the table and writes tests/bench/results/rebalance.md.
# Needs root (network namespaces) and nft; touches no root-namespace setting: every namespace is created by the run
# and deleted at its end (also on Ctrl-C).
#
# Usage: tests/bench/rebalance/run.sh [--repetitions N=3] [--sessions-per-client N=5] [--out FILE]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
bash installer/deps.sh >/dev/null
dotnet build -c Release -v quiet -nologo tests/bench/Farm.Bench.Rebalance >/dev/null
exec dotnet tests/bench/Farm.Bench.Rebalance/bin/Release/net10.0/Farm.Bench.Rebalance.dll "$@"
