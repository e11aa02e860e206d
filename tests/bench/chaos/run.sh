#!/usr/bin/env bash
# Chaos soak (issue 18, item 6): five real farmd with their data plane in network namespaces under TCP and UDP client
# load (client_ip and client_ip_port, IPv4 and IPv6), random faults one at a time or two at once (kill -9, SIGSTOP,
# link down, partition, heartbeat LAN loss, app crash, hung checker script, flapping checker, farmd restart), invariants
# checked all along; writes tests/bench/results/chaos.md (counts per fault kind, every violation with its time).
# Needs root (network namespaces), nft and ip; touches no root-namespace setting: every namespace is created by the run
# and deleted at its end (also on Ctrl-C, TERM and failure).
#
# Usage: tests/bench/chaos/run.sh --minutes N [--seed S] [--out FILE]   (--help for details)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
if [[ " $* " != *" --help "* && " $* " != *" -h "* ]]; then
    bash installer/deps.sh >/dev/null
fi
dotnet build -c Release -v quiet -nologo tests/bench/Farm.Bench.Chaos >/dev/null
exec dotnet tests/bench/Farm.Bench.Chaos/bin/Release/net10.0/Farm.Bench.Chaos.dll "$@"
