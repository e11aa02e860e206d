#!/usr/bin/env bash
# Admit-race benchmark: can a packet fall between two bucket states while farmd swaps them?
#
# farmd's admit chain once met one rule per state set ("mark in draining? mark in incoming? ..." and, when none
# matched, accepted the packet as owned). nftables does not pin a packet's set lookups to one generation: a batch
# committed between two rules shows the packet the old contents in one rule and the new contents in the next. A bucket
# moving from the set checked second to the set checked first is then in neither, and the packet fell through to
# "owned": a UDP datagram of a flow a peer still serves was taken as new, and two nodes answered it from then on
# (the rebalance test's "answered by two"). The chain now decides with one lookup in a verdict map.
#
# This script measures both layouts on this kernel, in a network namespace of its own (loopback only): UDP datagrams
# to 127.0.0.1:9999 get the mark 7; one batch after the other moves mark 7 between state A and state B; counters say
# how many packets met state A, state B, or neither ("fell through"). Layout "per-set rules": two rules, set a then set
# b. Layout "one map": one verdict map lookup. Prints the table and writes a Markdown results file.
#
# Usage: tests/bench/kernel/admit-race.sh [--swaps N] [--senders N] [--out FILE]   (see --help)
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: tests/bench/kernel/admit-race.sh [options]

Counts packets that meet neither of two bucket states while nft batches move a bucket between them, for the admit
chain's old layout (one rule per state set) and its current one (one verdict map lookup).

Options:
  --swaps N     batches per layout, each moving the bucket once (default 1400)
  --senders N   processes sending UDP datagrams to loopback meanwhile (default 2)
  --out FILE    results file (default tests/bench/results/admit-race.md; relative paths are from the repository root)
  -h, --help    show this help

Needs root (a network namespace, nft). Nothing outside the namespace is touched; the namespace is deleted on exit.
Exit status 0 when the map layout let no packet fall through, 1 otherwise, 2 on usage errors.
EOF
}

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
# The option parser only: this benchmark makes its one namespace itself.
# shellcheck source=../lib/netbench.sh
source "$root/tests/bench/lib/netbench.sh"

swaps=1400 senders=2 out=tests/bench/results/admit-race.md
nb_parse_options --swaps=swaps --senders=senders --out=out -- "$@"
nb_check_counts 1 "swaps:$swaps" "senders:$senders"
[[ $EUID -eq 0 ]] || { echo "admit-race.sh: run as root (network namespace, nft)" >&2; exit 2; }

[[ "$out" = /* ]] || out="$root/$out"
ns="farm-admitrace-$$"
work="$(mktemp -d)"
cleanup() {
  ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
ip netns add "$ns"
ip netns exec "$ns" ip link set lo up

# One layout: $1 = name, $2 = the admit chain's body, $3/$4 = the batches that put the bucket in state A / B.
measure() {
  local name="$1" admit="$2" to_a="$3" to_b="$4"
  ip netns exec "$ns" nft -f - <<NFT
table inet race {
  counter a { }
  counter b { }
  counter fell { }
  set sa { type mark; flags interval; }
  set sb { type mark; flags interval; elements = { 7 } }
  map states { type mark : verdict; flags interval; elements = { 7 : goto state_b } }
  chain state_a { counter name a accept; }
  chain state_b { counter name b accept; }
  chain pre {
    type filter hook prerouting priority mangle; policy accept;
    udp dport 9999 meta mark set 7 jump admit
  }
  chain admit {
$admit
    counter name fell accept
  }
}
NFT
  printf '%s' "$to_a" > "$work/to-a.nft"
  printf '%s' "$to_b" > "$work/to-b.nft"
  local pids=() i
  for ((i = 0; i < senders; i++)); do
    ip netns exec "$ns" python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
while True:
    s.sendto(b"x", ("127.0.0.1", 9999))
' &
    pids+=($!)
  done
  local start=$SECONDS
  for ((i = 0; i < swaps; i++)); do
    ip netns exec "$ns" nft -f "$work/to-a.nft"
    ip netns exec "$ns" nft -f "$work/to-b.nft"
  done
  local seconds=$((SECONDS - start))
  kill "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
  local counts
  counts=$(ip netns exec "$ns" nft list counters table inet race | awk '/packets/ {print $2}' | tr '\n' ' ')
  ip netns exec "$ns" nft delete table inet race
  read -r ca cb cf <<<"$counts"
  printf '| %s | %d | %d s | %s | %s | **%s** |\n' "$name" $((2 * swaps)) "$seconds" "$ca" "$cb" "$cf" >> "$work/rows"
  echo "$cf" > "$work/fell-$name"
}

: > "$work/rows"
measure "per-set rules (old)" \
  $'    meta mark @sa counter name a accept\n    meta mark @sb counter name b accept' \
  $'flush set inet race sb\nflush set inet race sa\nadd element inet race sa { 7 }\n' \
  $'flush set inet race sa\nflush set inet race sb\nadd element inet race sb { 7 }\n'
measure "one map (now)" \
  $'    meta mark vmap @states' \
  $'flush map inet race states\nadd element inet race states { 7 : goto state_a }\n' \
  $'flush map inet race states\nadd element inet race states { 7 : goto state_b }\n'

commit="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
{
  echo "# Admit race: packets that meet neither of two bucket states while batches move the bucket"
  echo
  echo "- $(date -u '+%Y-%m-%d %H:%M UTC'), commit $commit, kernel $(uname -r), $(nft --version)"
  echo "- command: tests/bench/kernel/admit-race.sh --swaps $swaps --senders $senders"
  echo "- $senders processes send UDP datagrams to loopback in a namespace of their own; each batch moves mark 7 from one state to the other"
  echo
  echo "| layout | batches | time | met state A | met state B | fell through |"
  echo "|---|---:|---:|---:|---:|---:|"
  cat "$work/rows"
} > "$out"
cat "$out"
echo "Written to $out"
[[ "$(cat "$work/fell-one map (now)")" == 0 ]]
