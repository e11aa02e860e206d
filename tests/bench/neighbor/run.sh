#!/usr/bin/env bash
# ARP/NDP responder benchmark (issue 11): one real farmd with its data plane in a node namespace, a client namespace on
# the same bridge sending ARP requests and IPv6 neighbor solicitations for the VIPs one at a time; tcpdump on the
# client's interface times request on the wire -> reply on the wire (kernel timestamps, ns). Prints p50/p90/p99/max per
# family and appends a section (date, commit, command) to tests/bench/results/neighbor.md.
# Needs root (network namespaces), nft and tcpdump; touches no root-namespace setting: every namespace is created by
# the run (named farmt-PID-N) and deleted at its end, also on Ctrl-C or failure (the EXIT trap sweeps what is left).
#
# Usage: tests/bench/neighbor/run.sh [--label TEXT=run] [--requests N=2000] (per family) [--warmup N=100]
#                                    [--pause-ms MS=2] [--timeout-ms MS=200] [--out FILE]
# At the defaults it runs for about 15 s after the build.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
bash installer/deps.sh >/dev/null
dotnet build -c Release -v quiet -nologo tests/bench/Farm.Bench.Neighbor >/dev/null

source tests/bench/neighbor/lib.sh
commit="$(bench_commit)"

pid=""
trap bench_stop EXIT
trap 'exit 130' INT TERM

dotnet tests/bench/Farm.Bench.Neighbor/bin/Release/net10.0/Farm.Bench.Neighbor.dll --commit "$commit" "$@" &
pid=$!
rc=0
wait "$pid" || rc=$?
pid_done="$pid"
pid=""
# Also after a normal exit: nothing of this run may stay behind.
bench_sweep "$pid_done" run.sh
exit "$rc"
