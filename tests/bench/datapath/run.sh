#!/usr/bin/env bash
# Profile of Farm's data path (issue 17, item 2). For each node count (default 1, 3, 8: one bridge, N node namespaces
# each with nginx answering 3 bytes, one client namespace) it measures two configurations in a fresh topology:
#   farm   N farmd, VIP 198.18.0.100, rules tcp 80 and udp 9, both client_ip_port
#   flood  the flood-only calibration: no farmd; the client sends to Farm's virtual MAC (static neighbour entry), so
#          the bridge floods each frame to the N namespaces as with Farm; the VIP is on n0's lo and only n0 has the
#          netdev pkttype fix; the others drop the frame as PACKET_OTHERHOST; no bucket filter, no conntrack
# and in each:
#   1. idle window: the whole machine's busy CPU (/proc/stat) with no traffic, the baseline;
#   2. UDP window: a fixed-rate UDP stream (udpflood.c, 64 source ports) from the client to VIP:9, a sink on every
#      node; per-packet cost = (busy CPU in the window - idle baseline) / packets sent, in µs; packets/s per core
#      = 1e6 / that. Each packet is flooded to N nodes: one accepts it, N-1 drop it (farm: as foreign, in the
#      prerouting raw chain; flood: as OTHERHOST), so
#        accepted packet (1 node)       = farm-1, vs flood-1 (the same without Farm's rules and conntrack)
#        each added node, per packet    = (farm-N - farm-1) / (N - 1): one more flooded copy + one foreign drop
#        the same without Farm          = (flood-N - flood-1) / (N - 1): a flooded copy + an OTHERHOST drop
#   3. wrk windows (keep-alive and one connection per request, -t2 -c64): requests/s for the same load at N nodes;
#   4. per-thread CPU of the farmd processes during the UDP and wrk windows (farmd's own threads under load);
#   5. with perf (linux-perf): a system-wide profile (perf record -a, cpu-clock) of the UDP window and of the
#      wrk window at --perf-nodes nodes, grouped by where the time goes (bridge/flood, veth, nft rules, conntrack,
#      packet sockets = the ARP/NDP capture, IP/UDP/TCP, user space per command).
# Prints the tables and writes a Markdown results file. Namespaces are per run and deleted at the end (also Ctrl-C).
set -euo pipefail
export LC_ALL=C

usage() {
  cat <<'EOF'
Usage: tests/bench/datapath/run.sh [options]

Options:
  --nodes LIST       node counts (default 1,3,8; each 1..20)
  --rate PPS         UDP packets/s of the fixed-rate stream (default 20000)
  --seconds N        length of the idle, UDP and wrk windows (default 5)
  --configs LIST     from farm,flood,farm-noct (default farm,flood); farm-noct = farm with the conntrack-using
                     'admit' chain flushed on every node once it settled (conntrack then leaves the node
                     namespaces: an on/off experiment only, it also disables the hand-over checks)
  --warmup S         seconds farmd runs before the first window (default 15); then the script waits until the
                     farmd use < 5 % of a core each over 2 s, at most --settle S more (default 90)
  --no-wrk           skip the requests/s windows
  --no-perf          skip the perf profiles (default: on when perf is installed)
  --perf-nodes N     node count of the perf profiles (default 3)
  --farmd DLL        run this farmd.dll or published farmd executable (default: the repository's
                     Release build, built first; the package ships a self-contained ReadyToRun farmd)
  --no-build         do not build src/Farm.Daemon
  --heartbeat I/D/L  farmd heartbeat interval/detection_timeout/lease, e.g. 100ms/1s/600ms (default: the shipped
                     50ms/300ms/150ms; on a busy 2-core machine 8 starting farmd may not hold one view with them)
  --bridge-nf        leave br_netfilter's bridge-nf-call-* on in the bridge namespace (default off: a real switch
                     runs no netfilter; on, every flooded copy also passes the bridge namespace's IP hooks)
  --out FILE         results file (default tests/bench/results/datapath.md)
  -h, --help         this help

Needs root, nft, tcpdump, curl, gcc (udpflood.c is compiled into the temp dir), wrk and nginx (installed with
apt-get when missing), the .NET 10 SDK; perf is optional (apt-get install linux-perf). Run it on a quiet machine:
the CPU figures are whole-machine deltas and include everything else that runs.
EOF
}

start_dir="$(pwd)"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
cd "$root"
# shellcheck source=../lib/netbench.sh
source "$root/tests/bench/lib/netbench.sh"

nodes_list="1,3,8" rate=20000 seconds=5 configs="farm,flood" warmup=15 settle=90 do_wrk=1 do_perf=1 perf_nodes=3 farmd="" build=1 out=""
nb_parse_options --nodes=nodes_list --rate=rate --seconds=seconds --configs=configs --warmup=warmup --settle=settle \
  --no-wrk=do_wrk:0 --no-perf=do_perf:0 --perf-nodes=perf_nodes --farmd=farmd --no-build=build:0 \
  --bridge-nf=NB_BRIDGE_NF:1 --heartbeat=NB_HEARTBEAT --out=out -- "$@"
IFS=, read -r -a node_counts <<<"$nodes_list"
IFS=, read -r -a config_list <<<"$configs"
for n in "${node_counts[@]}" "$rate" "$seconds" "$warmup" "$settle" "$perf_nodes"; do
  [[ "$n" =~ ^[0-9]+$ && "$n" -ge 1 ]] || { echo "run.sh: '$n' must be a whole number >= 1" >&2; exit 2; }
done
for n in "${node_counts[@]}"; do ((n <= 20)) || { echo "run.sh: at most 20 nodes" >&2; exit 2; }; done
for c in "${config_list[@]}"; do [[ "$c" =~ ^(farm|flood|farm-noct)$ ]] || { echo "run.sh: unknown config '$c'" >&2; exit 2; }; done

out="${out:-tests/bench/results/datapath.md}"
[[ "$out" = /* ]] || out="$root/$out"

nb_init datapath
nb_install_traps
nb_require_tools ip=iproute2 nft=nftables curl=curl gcc=gcc wrk=wrk nginx=nginx-light
if ((do_perf)) && ! command -v perf >/dev/null 2>&1; then
  nb_log "perf not installed (apt-get install linux-perf): no profiles, only the on/off figures"; do_perf=0
fi
if ((do_perf)) && ! perf record -a -o "$NB_WORK/probe.data" -- true >/dev/null 2>&1; then
  nb_log "perf record -a does not work here: no profiles"; do_perf=0
fi
gcc -O2 -Wall -o "$NB_WORK/udpflood" "$root/tests/bench/datapath/udpflood.c" || nb_die "cannot compile udpflood.c"
if [[ " ${config_list[*]} " == *" farm"* ]]; then farmd="$(nb_resolve_farmd "$farmd" "$root" "$start_dir" "$build")"; fi

VIP=198.18.0.100
CLIENT=198.18.1.1
: > "$NB_WORK/udp.tsv"; : > "$NB_WORK/wrk.tsv"; : > "$NB_WORK/threads.tsv"; : > "$NB_WORK/perf.tsv"

busy_ticks() { nb_machine_ticks | awk '{print $1 + $2 + $3 + $6 + $7 + $8, $7}'; }
farmd_pids() {
  local i p
  for ((i = 0; i < $1; i++)); do
    for p in $(nb_ns_pids "n$i"); do
      if [[ "$(cat "/proc/$p/comm" 2>/dev/null)" =~ ^(dotnet|farmd)$ ]]; then echo "$p"; fi
    done
  done
}

# threads_window CONFIG N WINDOW PIDS_BEFORE_FILE: per-thread farmd CPU (% of one core) since the snapshot.
threads_since() {
  local cfg="$1" n="$2" win="$3" before="$4" elapsed="$5"
  nb_thread_ticks $(farmd_pids "$n") > "$NB_WORK/thr1"
  awk -v c="$cfg" -v n="$n" -v w="$win" -v hz="$NB_HZ" -v e="$elapsed" 'NR == FNR {a[$1] += $2; next} {b[$1] += $2}
    END {for (k in b) printf "%s\t%s\t%s\t%s\t%.1f\n", c, n, w, k, 100 * (b[k] - a[k]) / hz / e / n}' "$before" "$NB_WORK/thr1" >> "$NB_WORK/threads.tsv"
}

# window CONFIG N: the idle, UDP and wrk windows of the running topology.
windows() {
  local cfg="$1" n="$2" i b0 b1 s0 s1 t0 t1 sent res e
  # idle
  read -r b0 s0 < <(busy_ticks); t0="$(date +%s.%N)"
  sleep "$seconds"
  read -r b1 s1 < <(busy_ticks); t1="$(date +%s.%N)"
  local idle_rate
  idle_rate="$(awk -v b=$((b1 - b0)) -v t0="$t0" -v t1="$t1" 'BEGIN {print b / (t1 - t0)}')" # ticks per second
  # UDP at a fixed rate, a sink on every node
  [[ "$cfg" == farm* ]] && nb_thread_ticks $(farmd_pids "$n") > "$NB_WORK/thr0"
  for ((i = 0; i < n; i++)); do nb_exec "n$i" "$NB_WORK/udpflood" sink 9 $((seconds + 3)) > "$NB_WORK/sink-$i" 2>&1 & done
  sleep 0.5
  local perf_pid=""
  if ((do_perf && n == perf_nodes)); then
    perf record -a -F 999 -o "$NB_WORK/perf-$cfg-udp.data" -- sleep "$seconds" > /dev/null 2>&1 &
    perf_pid=$!
    if [[ "$cfg" == farm* ]]; then farmd_pids "$n" | paste -sd, - > "$NB_WORK/perf-$cfg-udp.pids"; fi
  fi
  read -r b0 s0 < <(busy_ticks); t0="$(date +%s.%N)"
  res="$(nb_exec c0 "$NB_WORK/udpflood" send "$VIP" 9 "$CLIENT" "$rate" "$seconds")"
  read -r b1 s1 < <(busy_ticks); t1="$(date +%s.%N)"
  e="$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')"
  [[ "$cfg" == farm* ]] && threads_since "$cfg" "$n" udp "$NB_WORK/thr0" "$e"
  [[ -n "$perf_pid" ]] && wait "$perf_pid" || true
  wait # the sinks
  sent="${res%% *}"
  local got=0
  for ((i = 0; i < n; i++)); do got=$((got + $(cat "$NB_WORK/sink-$i" 2>/dev/null | tail -n 1 || echo 0))); done
  awk -v c="$cfg" -v n="$n" -v b=$((b1 - b0)) -v sq=$((s1 - s0)) -v e="$e" -v idle="$idle_rate" -v p="$sent" -v got="$got" -v hz="$NB_HZ" 'BEGIN {
      cost = p > 0 ? 1e6 * (b - idle * e) / hz / p : 0
      printf "%s\t%d\t%d\t%d\t%.0f\t%.2f\t%.2f\t%.1f\n", c, n, p, got, p / e, cost, (p > 0 ? 1e6 * sq / hz / p : 0), 100 * idle / hz }' >> "$NB_WORK/udp.tsv"
  nb_log "$cfg N=$n UDP: $(tail -n 1 "$NB_WORK/udp.tsv" | cut -f3-)"
  ((do_wrk)) || return 0
  local wl hdr f
  for wl in ka cl; do
    hdr=() f="$NB_WORK/wrk-$cfg-$n-$wl"
    [[ "$wl" == cl ]] && hdr=(-H 'Connection: close')
    [[ "$cfg" == farm* ]] && nb_thread_ticks $(farmd_pids "$n") > "$NB_WORK/thr0"
    perf_pid=""
    if ((do_perf && n == perf_nodes)) && [[ "$wl" == cl ]]; then
      perf record -a -F 999 -o "$NB_WORK/perf-$cfg-wrk.data" -- sleep "$seconds" > /dev/null 2>&1 &
      perf_pid=$!
      if [[ "$cfg" == farm* ]]; then farmd_pids "$n" | paste -sd, - > "$NB_WORK/perf-$cfg-wrk.pids"; fi
    fi
    t0="$(date +%s.%N)"
    nb_exec c0 wrk -t2 -c64 -d"${seconds}s" "${hdr[@]}" "http://$VIP/" > "$f" 2>&1 || true
    t1="$(date +%s.%N)"
    [[ "$cfg" == farm* ]] && threads_since "$cfg" "$n" "wrk-$wl" "$NB_WORK/thr0" "$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')"
    [[ -n "$perf_pid" ]] && wait "$perf_pid" || true
    printf '%s\t%s\t%s\t%s\n' "$cfg" "$n" "$wl" "$(awk '/^Requests\/sec:/ {print $2}' "$f")" >> "$NB_WORK/wrk.tsv"
    nb_log "$cfg N=$n wrk $wl: $(tail -n 1 "$NB_WORK/wrk.tsv" | cut -f4) req/s"
  done
}

hosts_spec() { local i; for ((i = 0; i < $1; i++)); do printf 'n%d=198.18.0.%d ' "$i" $((i + 1)); done; echo "c0=$CLIENT"; }

run_farm-noct() { run_farm "$1" noct; }

run_farm() {
  local n="$1" variant="${2:-}" dir="$NB_WORK/farm${2:+-$2}-$1" i addrs=() names=()
  # shellcheck disable=SC2046
  nb_topology_up $(hosts_spec "$n")
  for ((i = 0; i < n; i++)); do nb_nginx_backend "$dir" "n$i" "n$i"; addrs+=("198.18.0.$((i + 1))"); names+=("n$i"); done
  nb_farm_config "$dir" "$VIP" tcp:80:client_ip_port,udp:9:client_ip_port "${addrs[@]}"
  for ((i = 0; i < n; i++)); do nb_farmd_start "$farmd" "$dir" "n$i" "n$i"; done
  nb_all_answer c0 "http://$VIP/" $((60 + 10 * n)) "${names[@]}" || nb_die "farm of $n: the VIP is not answered by every node within $((60 + 10 * n)) s (logs: $dir/n*.log; on a busy machine try --heartbeat 100ms/1s/600ms)"
  nb_log "farm of $n: every node answers; farmd runs ${warmup}s, then until it settles, before the windows"
  sleep "$warmup"
  local settled
  nb_wait_settled "$settle" 5 $(farmd_pids "$n")
  settled="$NB_SETTLED"
  nb_log "farm of $n: farmd at $settled % of a core each over the last 2 s"
  printf 'farm of %s: %s %%\n' "$n" "$settled" >> "$NB_WORK/settled"
  if [[ "$variant" == noct ]]; then
    for ((i = 0; i < n; i++)); do nb_exec "n$i" nft flush chain inet farm_web admit; done
    windows farm-noct "$n"
  else
    windows farm "$n"
  fi
  nb_topology_down
}

run_flood() {
  local n="$1" dir="$NB_WORK/flood-$1" i
  # shellcheck disable=SC2046
  nb_topology_up $(hosts_spec "$n")
  for ((i = 0; i < n; i++)); do nb_nginx_backend "$dir" "n$i" "n$i"; done
  nb_flood_calibration "$VIP"
  windows flood "$n"
  nb_topology_down
}

started="$(date -u '+%Y-%m-%d %H:%M')"
load_start="$(cut -d' ' -f1-3 /proc/loadavg)"
for n in "${node_counts[@]}"; do
  for c in "${config_list[@]}"; do nb_log "$c, $n node(s)"; "run_$c" "$n"; done
done
load_end="$(cut -d' ' -f1-3 /proc/loadavg)"

# perf: share of samples per group, from 'perf report --sort comm,dso,sym'. The profile is machine-wide: samples of
# commands that are not part of the benchmark (builds, tests of others) go to "other processes", kernel ones included;
# ".NET runtime threads" are farmd's unnamed runtime threads and those of any other .NET process on the machine.
perf_groups() {
  perf report -i "$1" --stdio --sort comm,dso,sym -g none 2>/dev/null | awk '
    /^#/ || NF < 4 {next}
    {
      pct = $1; sub(/%/, "", pct); comm = $2; sym = $NF; kernel = ($0 ~ /\[k\]/)
      ours = (comm ~ /^(nginx|wrk|udpflood|swapper|ksoftirqd|farm-|\.NET|dotnet)/)
      g = ""
      if (!ours) g = "other processes (user and kernel)"
      else if (!kernel) g = (comm ~ /^farm-/ ? "user space: farmd named threads (farm-*)" : comm ~ /^(\.NET|dotnet)/ ? "user space: .NET runtime threads" : "user space: " comm)
      else if (sym ~ /^(br_|__br_|nbp_|maybe_deliver|deliver_clone)/) g = "bridge (forwarding, flooding)"
      else if (sym ~ /^veth_/) g = "veth"
      else if (sym ~ /^(packet_rcv|tpacket_rcv|run_filter|bpf_prog|sk_filter|__bpf_prog|bpf_)/) g = "packet sockets + BPF (ARP/NDP capture, tcpdump)"
      else if (sym ~ /(nf_conntrack|nf_ct_|__nf_ct|hash_conntrack|ctnetlink|nf_nat)/) g = "conntrack"
      else if (sym ~ /^(nft_|__nft_|nf_tables|jhash|nft)/) g = "nft rules (ingress pkttype, live mark, classify, admit)"
      else if (sym ~ /^(nf_hook|nf_ingress|__nf_hook|nf_reinject)/) g = "netfilter hook core"
      else if (sym ~ /^(udp|__udp|tcp|__tcp|inet_|ip_|ip6_|__ip|raw_|icmp|sock_|__sock|sk_)/) g = "IP, UDP, TCP, sockets"
      else if (sym ~ /(netif|napi|net_rx|__dev|dev_|skb|kfree|kmem|alloc|slab|page|memcpy|memset|copy_)/) g = "skb, memory, device core"
      else if (sym ~ /(idle|cpuidle|poll_idle|acpi_|mwait|safe_halt|halt)/) g = "idle"
      else g = "other kernel (scheduler, syscalls, timers...)"
      s[g] += pct
    }
    END {for (k in s) printf "%s\t%.1f\n", k, s[k]}' | sort -t$'\t' -k2,2nr
}
perf_top() {
  perf report -i "$1" --stdio --sort comm,sym -g none 2>/dev/null | awk -v n="${2:-20}" '/^#/ || NF < 3 {next} ++k <= n {print}'
}

commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
[[ -z "$(git status --porcelain -- src 2>/dev/null)" ]] || commit="$commit+uncommitted changes in src/"
cpu_model="$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -n 1)"
cost_of() { awk -F'\t' -v c="$1" -v n="$2" '$1 == c && $2 == n {print $6}' "$NB_WORK/udp.tsv"; }

report() {
  echo "# Farm data path profile"
  echo
  echo "- Date (UTC): $started; load average 1/5/15 at the start $load_start, at the end $load_end"
  echo "- Commit: $commit; farmd: ${farmd:-not run}"
  echo "- Machine: ${cpu_model:-unknown CPU}, $(nproc) cores, $(uname -sr)"
  echo "- Command: \`tests/bench/datapath/run.sh --nodes $nodes_list --rate $rate --seconds $seconds --configs $configs --warmup $warmup --settle $settle$( ((do_wrk)) || echo ' --no-wrk')$( ((do_perf)) || echo ' --no-perf') --perf-nodes $perf_nodes$( [[ -n "${NB_BRIDGE_NF:-}" ]] && echo ' --bridge-nf')$( [[ -n "${NB_HEARTBEAT:-}" ]] && echo " --heartbeat $NB_HEARTBEAT")\`"
  [[ -s "$NB_WORK/settled" ]] && echo "- farmd before the windows (after --warmup, waiting for < 5 %, % of a core each over 2 s): $(paste -sd';' "$NB_WORK/settled" | sed 's/;/; /g')"
  echo
  echo "## Per-packet cost of a fixed-rate UDP stream ($rate packets/s, 18-byte payload, to VIP:9)"
  echo
  echo "cost = (whole machine busy ticks in the window - the idle window's rate x window) / packets sent; softirq = the"
  echo "window's softirq ticks / packets (not idle-corrected). Each packet reaches all N nodes; one accepts it."
  echo
  echo "| config | nodes | packets sent | packets received (all sinks) | sent/s | µs per packet | softirq µs per packet | idle machine busy, % of one core |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|"
  while IFS=$'\t' read -r c n p g r cost sq idle; do echo "| $c | $n | $p | $g | $r | $cost | $sq | $idle |"; done < "$NB_WORK/udp.tsv"
  echo
  echo "Derived (packets/s per core = 1e6 / µs):"
  echo
  echo "| figure | µs per packet | packets/s per core |"
  echo "|---|---:|---:|"
  local f1 l1 n
  f1="$(cost_of farm 1)" l1="$(cost_of flood 1)"
  [[ -n "$f1" ]] && echo "| accepted packet, farm of 1 (flood copy + ingress + live mark + classify + conntrack + admit + UDP delivery + sink) | $f1 | $(awk -v c="$f1" 'BEGIN {if (c > 0) printf "%.0f", 1e6 / c; else print "-"}') |"
  local c1
  c1="$(cost_of farm-noct 1)"
  [[ -n "$c1" ]] && echo "| accepted packet, farm of 1 with the 'admit' chain flushed (no conntrack) | $c1 | $(awk -v c="$c1" 'BEGIN {if (c > 0) printf "%.0f", 1e6 / c; else print "-"}') |"
  [[ -n "$l1" ]] && echo "| accepted packet without Farm (flood calibration of 1: pkttype fix only) | $l1 | $(awk -v c="$l1" 'BEGIN {if (c > 0) printf "%.0f", 1e6 / c; else print "-"}') |"
  for n in "${node_counts[@]}"; do
    ((n > 1)) || continue
    local fn ln
    fn="$(cost_of farm "$n")" ln="$(cost_of flood "$n")"
    [[ -n "$fn" && -n "$f1" ]] && echo "| each added node, farm (1 -> $n): flooded copy + foreign drop | $(awk -v a="$fn" -v b="$f1" -v n="$n" 'BEGIN {printf "%.2f", (a - b) / (n - 1)}') | $(awk -v a="$fn" -v b="$f1" -v n="$n" 'BEGIN {c = (a - b) / (n - 1); if (c > 0) printf "%.0f", 1e6 / c; else print "-"}') |"
    [[ -n "$ln" && -n "$l1" ]] && echo "| each added node, flood only (1 -> $n): flooded copy + OTHERHOST drop | $(awk -v a="$ln" -v b="$l1" -v n="$n" 'BEGIN {printf "%.2f", (a - b) / (n - 1)}') | $(awk -v a="$ln" -v b="$l1" -v n="$n" 'BEGIN {c = (a - b) / (n - 1); if (c > 0) printf "%.0f", 1e6 / c; else print "-"}') |"
  done
  echo
  if ((do_wrk)); then
    echo "## Requests/s for the same load (wrk -t2 -c64, ${seconds}s) by node count"
    echo
    echo "| config | nodes | keep-alive req/s | one connection per request req/s |"
    echo "|---|---:|---:|---:|"
    awk -F'\t' '{k = $1 "\t" $2; if (!(k in seen)) {seen[k] = 1; order[++n] = k} v[k, $3] = $4}
      END {for (i = 1; i <= n; i++) {split(order[i], a, "\t"); printf "| %s | %s | %s | %s |\n", a[1], a[2], v[order[i], "ka"], v[order[i], "cl"]}}' "$NB_WORK/wrk.tsv"
    echo
  fi
  if [[ -s "$NB_WORK/threads.tsv" ]]; then
    echo "## farmd threads under load (CPU % of one core per farmd, mean over the N farmd; threads grouped by name)"
    echo
    echo "| config | nodes | window | thread | CPU % |"
    echo "|---|---:|---|---|---:|"
    sort -t$'\t' -k1,1 -k2,2n -k3,3 -k5,5gr "$NB_WORK/threads.tsv" | awk -F'\t' '$5 >= 0.5 {printf "| %s | %s | %s | `%s` | %s |\n", $1, $2, $3, $4, $5}'
    echo
    echo "(threads under 0.5 % left out)"
    echo
  fi
  if ((do_perf)); then
    local cfg kind
    for cfg in "${config_list[@]}"; do
      for kind in udp wrk; do
        local data="$NB_WORK/perf-$cfg-$kind.data"
        [[ -f "$data" ]] || continue
        echo "## perf: $cfg of $perf_nodes, $( [[ $kind == udp ]] && echo "UDP stream at $rate packets/s" || echo "wrk, one connection per request") (share of all samples, %)"
        echo
        echo "| where | % |"
        echo "|---|---:|"
        perf_groups "$data" | awk -F'\t' '{printf "| %s | %s |\n", $1, $2}'
        if [[ -s "${data%.data}.pids" ]]; then
          echo
          echo "The farmd processes themselves (all their threads, user + kernel, by PID): $(perf report -i "$data" --pid "$(cat "${data%.data}.pids")" \
            --percentage absolute --stdio --sort comm -g none 2>/dev/null | awk '/^#/ || NF < 2 {next} {sub(/%/, "", $1); s += $1} END {printf "%.1f", s}') % of all samples."
        fi
        echo
        echo "<details><summary>top symbols</summary>"
        echo
        echo '```'
        perf_top "$data" 25
        echo '```'
        echo
        echo "</details>"
        echo
      done
    done
  fi
}

mkdir -p "$(dirname "$out")"
report > "$out"
echo
sed -n '/^## Per-packet/,/^## farmd threads/p' "$out" | sed '$d'
echo "Written to ${out#"$root"/}"
