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

# The commit the measured code comes from; "+dirty" when source files differ from it (results and docs do not count).
commit="$(git rev-parse --short HEAD)"
if [[ -n "$(git status --porcelain -- . ':!tests/bench/results' ':!docs')" ]]; then
  commit="$commit+dirty"
fi

pid=""
cleanup() {
  if [[ -n "$pid" ]]; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    # The benchmark deletes its namespaces itself; this catches a run that died before it could.
    for ns in $(ip netns list | awk '{print $1}' | grep "^farmt-$pid-" || true); do
      ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
      ip netns delete "$ns" 2>/dev/null || true
    done
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

dotnet tests/bench/Farm.Bench.Neighbor/bin/Release/net10.0/Farm.Bench.Neighbor.dll --commit "$commit" "$@" &
pid=$!
rc=0
wait "$pid" || rc=$?
pid_done="$pid"
pid=""
# Also after a normal exit: nothing of this run may stay behind.
for ns in $(ip netns list | awk '{print $1}' | grep "^farmt-$pid_done-" || true); do
  echo "run.sh: deleting leftover namespace $ns" >&2
  ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
  ip netns delete "$ns" 2>/dev/null || true
done
exit "$rc"
