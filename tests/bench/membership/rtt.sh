#!/usr/bin/env bash
# Heartbeat round trips (a probe speaking as a configured node sends sealed heartbeats to each node every 50 ms) and
# farmd CPU/RSS per node at 3 nodes on loopback (data plane off), idle then with busy loops on every core; also each
# node's own heartbeat round trips from its status. Writes tests/bench/results/rtt-LABEL.md.
# Usage: tests/bench/membership/rtt.sh [--label after] [--warmup 60] [--measure 30] [--hogs 2] [timing]
#        FARM_BENCH_FARMD=/path/to/old/farmd.dll tests/bench/membership/rtt.sh --label before --legacy
# timing: --interval-ms 50 --detection-ms 300 --lease-ms 150 for the cluster file's defaults.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
dotnet build -c Release -v quiet -nologo tests/bench/Farm.Bench.Membership >/dev/null
exec dotnet tests/bench/Farm.Bench.Membership/bin/Release/net10.0/Farm.Bench.Membership.dll rtt "$@"
