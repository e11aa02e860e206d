#!/usr/bin/env bash
# Failover benchmark (issue 6): three real farmd with their data plane in network namespaces, 200 client addresses each
# opening a new TCP connection to the VIP every 10 ms; one node fails by kill -9 (farmd + app), veth link down (5 s)
# or SIGSTOP of farmd (5 s). Measures, for the clients of the failed node, failure -> first answer by another node
# (p50/p99/max), connections answered by two nodes and clients never served again, at the default timings
# (100 ms / 1 s / 600 ms) and at a fast setting (50 ms / 300 ms / 150 ms). Prints the tables and writes
# tests/bench/results/failover.md. Needs root (network namespaces), nft and tcpdump; touches no root-namespace setting:
# every namespace is created by the run and deleted at its end (also on Ctrl-C).
#
# Usage: tests/bench/failover/run.sh [--hogs N=0] [--repetitions N=10] [--timing default|1s|fast|both=default] (both = 1s and default) [--kinds kill,link,stop]
#                                   [--clients N=200] [--period-ms MS=10] [--out FILE]
# At --repetitions 10 with both timings it runs for about 15 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
dotnet build -c Release -v quiet -nologo tests/bench/Farm.Bench.Failover >/dev/null
exec dotnet tests/bench/Farm.Bench.Failover/bin/Release/net10.0/Farm.Bench.Failover.dll "$@"
