#!/usr/bin/env bash
# Farm side by side with what users would pick instead (issue 17, item 1). One run measures, one setup after the
# other, in the same network-namespace topology (one bridge namespace; 3 backend namespaces n0-n2, each running the
# same nginx with one worker answering a 3-byte body; one client namespace c0):
#   farm     3 farmd (one per backend namespace), VIP 198.18.0.100, tcp 80, client_ip_port affinity
#   haproxy  keepalived + HAProxy: two LB namespaces (lb0, lb1) with a VRRP VIP, HAProxy in tcp mode, round robin
#   nginx    keepalived + nginx upstream as the proxy (HTTP, keep-alive to the backends), two LB namespaces
#   direct   one nginx reached directly (n0's own address): the reference
#   flood    flood-only calibration: the client sends to Farm's virtual MAC (static neighbour entry), so the bridge
#            floods every frame to the three backend namespaces as with Farm; the VIP is on n0's lo and only n0 has
#            the netdev pkttype fix; no farmd, no bucket filter, no conntrack
# Each setup gets a fresh topology with no other namespace on the bridge. Prints a side-by-side table and writes a
# Markdown results file. Everything runs in namespaces named per run and deleted at the end (also on Ctrl-C).
set -euo pipefail
export LC_ALL=C

usage() {
  cat <<'EOF'
Usage: tests/bench/versus/run.sh [options]

Options:
  --setups LIST         comma-separated, from farm,haproxy,nginx,direct,flood (default: all five, in that order)
  --workloads LIST      from ka1,cl1,kaN,clN (default all): ka = keep-alive, cl = one connection per request
                        ('Connection: close'), 1 = one client source address, N = many (see --sources)
  --seconds N           wrk duration of each workload (default 8)
  --runs N              runs; each run goes through every setup once, so setups alternate (default 3)
  --threads N           wrk threads (default 2)
  --connections N       wrk connections (default 64)
  --sources N           client source addresses of the 'many' workloads (default 16): the client namespace holds
                        them and an nft SNAT rule (numgen inc) gives each new connection the next one
  --farm-warmup S       seconds farmd runs before the first load, so start-up JIT does not compete (default 15);
                        then the script waits until the three farmd use < 5 % of a core each over 2 s, at most
                        --farm-settle S more (default 90)
  --no-failover         skip the failover measurements
  --failover-clients N  clients (source addresses) of the failover client (default 32)
  --failover-period-ms  one new connection per client every this many ms (default 20)
  --vrrp-advert S       keepalived advert_int (VRRPv3; default 0.1, so the VRRP takeover ~0.35 s is comparable
                        with Farm's default 300 ms detection)
  --farmd DLL           run this farmd.dll or published farmd executable (default: the repository's
                        Release build, built first; the package ships a self-contained ReadyToRun farmd)
  --no-build            do not build src/Farm.Daemon (use the existing Release build)
  --heartbeat I/D/L     farmd heartbeat interval/detection_timeout/lease, e.g. 100ms/1s/600ms (default: the
                        shipped 50ms/300ms/150ms)
  --bridge-nf           leave br_netfilter's bridge-nf-call-* on in the bridge namespace (default off: a real
                        switch runs no netfilter, and with it on every flooded copy passes the IP hooks there)
  --out FILE            results file (default tests/bench/results/versus.md)
  --label TEXT          a note for the results file
  -h, --help            this help

Needs root, Debian 12 (installs wrk, nginx-light, haproxy, keepalived with apt-get when missing; their services
are not started in the root namespace), nft, tcpdump, curl, python3, the .NET 10 SDK for farm.
Time: about (setups x workloads x seconds + 30 s per setup + 20 s failover per setup) per run.

Failover (each run, after the setup's workloads): the failover client (failover_client.py; 32 source addresses,
each opening a new connection every 20 ms, 250 ms timeout) runs 6 s and SIGKILLs at 2 s:
  farm      every process in n1 (farmd + nginx): a node crash with the host up
  haproxy,  (1) every process in backend n1 (nginx); (2) every process in the LB namespace holding the VIP
  nginx     (haproxy or nginx, keepalived)
and reports, for the affected clients, kill -> first answer (p50/p99/max), errors after the kill, clients never
served again, and double answers (one SYN answered by SYN-ACKs from two MACs; tcpdump in the client namespace).
EOF
}

start_dir="$(pwd)"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
here="$root/tests/bench/versus"
cd "$root"
# shellcheck source=../lib/netbench.sh
source "$root/tests/bench/lib/netbench.sh"

setups="farm,haproxy,nginx,direct,flood" workloads="ka1,cl1,kaN,clN" seconds=8 runs=3 threads=2 connections=64
sources=16 farm_warmup=15 farm_settle=90 failover=1 fo_clients=32 fo_period=20 vrrp_advert=0.1 farmd="" build=1 out="" label=""
nb_parse_options --setups=setups --workloads=workloads --seconds=seconds --runs=runs --threads=threads \
  --connections=connections --sources=sources --farm-warmup=farm_warmup --farm-settle=farm_settle \
  --no-failover=failover:0 --failover-clients=fo_clients --failover-period-ms=fo_period --vrrp-advert=vrrp_advert \
  --farmd=farmd --no-build=build:0 --bridge-nf=NB_BRIDGE_NF:1 --heartbeat=NB_HEARTBEAT --out=out --label=label -- "$@"
nb_check_counts 1 "seconds:$seconds" "runs:$runs" "threads:$threads" "connections:$connections" "sources:$sources" \
  "farm-warmup:$farm_warmup" "farm-settle:$farm_settle" "failover-clients:$fo_clients" "failover-period-ms:$fo_period"
((sources <= 200 && fo_clients <= 200)) || { echo "run.sh: --sources and --failover-clients are at most 200" >&2; exit 2; }
[[ "$vrrp_advert" =~ ^[0-9]+(\.[0-9]+)?$ ]] || { echo "run.sh: --vrrp-advert must be seconds, e.g. 0.1" >&2; exit 2; }
IFS=, read -r -a setup_list <<<"$setups"
IFS=, read -r -a workload_list <<<"$workloads"
for s in "${setup_list[@]}"; do [[ "$s" =~ ^(farm|haproxy|nginx|direct|flood)$ ]] || { echo "run.sh: unknown setup '$s'" >&2; exit 2; }; done
for w in "${workload_list[@]}"; do [[ "$w" =~ ^(ka1|cl1|kaN|clN)$ ]] || { echo "run.sh: unknown workload '$w'" >&2; exit 2; }; done

out="${out:-tests/bench/results/versus.md}"
[[ "$out" = /* ]] || out="$root/$out"

nb_init versus
nb_install_traps
nb_require_tools ip=iproute2 nft=nftables tcpdump=tcpdump curl=curl wrk=wrk nginx=nginx-light haproxy=haproxy keepalived=keepalived
[[ -x /usr/bin/python3 ]] || nb_die "/usr/bin/python3 is missing (apt-get install python3)"
run_farm=0
for s in "${setup_list[@]}"; do [[ "$s" == farm ]] && run_farm=1; done
if ((run_farm)); then farmd="$(nb_resolve_farmd "$farmd" "$root" "$start_dir" "$build")"; fi

VIP=198.18.0.100
BACKENDS=(198.18.0.1 198.18.0.2 198.18.0.3)
LBS=(198.18.0.11 198.18.0.12)
client_addrs=()
for i in $(seq 1 $(( sources > fo_clients ? sources : fo_clients ))); do client_addrs+=("198.18.1.$i"); done
client_spec="c0=$(IFS=,; echo "${client_addrs[*]}")"

# --- setups -----------------------------------------------------------------------------------------------------
backends_up() {
  local i
  for i in 0 1 2; do nb_nginx_backend "$NB_WORK/$1" "n$i" "n$i"; done
  for i in 0 1 2; do nb_wait_http c0 "http://${BACKENDS[$i]}/" 15 || nb_die "backend n$i does not answer (log: $NB_WORK/$1/n$i/error.log)"; done
}

all_backends_answer() { nb_all_answer c0 "$1" "$2" n0 n1 n2; }

setup_farm() {
  local dir="$NB_WORK/farm-run$run" i
  nb_topology_up "n0=${BACKENDS[0]}" "n1=${BACKENDS[1]}" "n2=${BACKENDS[2]}" "$client_spec"
  backends_up farm
  nb_farm_config "$dir" "$VIP" tcp:80:client_ip_port "${BACKENDS[@]}"
  for i in 0 1 2; do nb_farmd_start "$farmd" "$dir" "n$i" "n$i"; done
  all_backends_answer "http://$VIP/" 60 || nb_die "the farm's VIP is not answered by all three nodes within 60 s (logs: $dir/n*.log)"
  nb_log "farm: all three nodes answer on the VIP; letting farmd run ${farm_warmup}s, then until it settles, before the load"
  sleep "$farm_warmup"
  local pids=() settled
  for i in 0 1 2; do pids+=($(nb_ns_pids "n$i")); done
  nb_wait_settled "$farm_settle" 5 $(for p in "${pids[@]}"; do [[ "$(cat "/proc/$p/comm" 2>/dev/null)" =~ ^(dotnet|farmd)$ ]] && echo "$p"; done)
  settled="$NB_SETTLED"
  nb_log "farm: farmd at $settled % of a core each over the last 2 s"
  echo "$settled" >> "$NB_WORK/settled"
  TARGET="$VIP"
}

# keepalived in both LB namespaces, VRRPv3 unicast between them; lb0 has the higher priority.
keepalived_up() {
  local dir="$1" i prio peer
  for i in 0 1; do
    prio=$((150 - 50 * i)) peer="${LBS[$((1 - i))]}"
    mkdir -p "$dir/lb$i"
    cat > "$dir/lb$i/keepalived.conf" <<EOF
global_defs {
  router_id lb$i
  vrrp_version 3
  vrrp_garp_master_delay 0
}
vrrp_instance bench {
  state BACKUP
  interface eth0
  virtual_router_id 51
  priority $prio
  advert_int $vrrp_advert
  unicast_src_ip ${LBS[$i]}
  unicast_peer { $peer }
  virtual_ipaddress { $VIP/16 dev eth0 }
}
EOF
    nb_exec "lb$i" keepalived -n -l -P -f "$dir/lb$i/keepalived.conf" -p "$dir/lb$i/keepalived.pid" \
      -r "$dir/lb$i/vrrp.pid" -c "$dir/lb$i/checkers.pid" < /dev/null > "$dir/lb$i/keepalived.log" 2>&1 & disown
  done
}

proxy_topology() {
  nb_topology_up "n0=${BACKENDS[0]}" "n1=${BACKENDS[1]}" "n2=${BACKENDS[2]}" "lb0=${LBS[0]}" "lb1=${LBS[1]}" "$client_spec"
  backends_up "$1"
}

proxy_ready() {
  all_backends_answer "http://$VIP/" 30 || nb_die "$1: the VIP is not answered through all three backends within 30 s (logs: $NB_WORK/$1/lb*/)"
  TARGET="$VIP"
}

# setup_proxy NAME: the proxy topology with NAME (haproxy or nginx) in both LB namespaces, each started by
# NAME_lb DIR NAMESPACE, then keepalived; ready once the VIP reaches all three backends.
setup_proxy() {
  local name="$1" dir="$NB_WORK/$1" i
  proxy_topology "$name"
  for i in 0 1; do
    mkdir -p "$dir/lb$i"
    "${name}_lb" "$dir/lb$i" "lb$i"
  done
  keepalived_up "$dir"
  proxy_ready "$name"
}

# backend_lines FORMAT: FORMAT (printf; arguments: the backend's index, its address) once per backend.
backend_lines() {
  local i
  for i in "${!BACKENDS[@]}"; do printf "$1\n" "$i" "${BACKENDS[$i]}"; done
}

setup_haproxy() { setup_proxy haproxy; }

haproxy_lb() {
  local dir="$1" ns="$2"
  cat > "$dir/haproxy.cfg" <<EOF
global
  maxconn 8000
defaults
  mode tcp
  timeout connect 1s
  timeout client 30s
  timeout server 30s
  retries 3
  option redispatch
frontend web
  bind :80
  default_backend nginx
backend nginx
  balance roundrobin
  default-server check inter 100ms fall 3 rise 2
$(backend_lines '  server n%s %s:80')
EOF
  nb_exec "$ns" haproxy -db -f "$dir/haproxy.cfg" < /dev/null > "$dir/haproxy.log" 2>&1 & disown
}

setup_nginx() { setup_proxy nginx; }

nginx_lb() {
  nb_nginx_start "$2" "$1" auto 16384 "  upstream backends {
$(backend_lines '    server %.0s%s:80;')
    keepalive 64;
    keepalive_requests 10000000;
  }
  server {
    listen 80 backlog=4096;
    location / {
      proxy_pass http://backends;
      proxy_http_version 1.1;
      proxy_set_header Connection \"\";
      proxy_connect_timeout 250ms;
      proxy_next_upstream error timeout;
    }
  }"
}

setup_direct() {
  nb_topology_up "n0=${BACKENDS[0]}" "n1=${BACKENDS[1]}" "n2=${BACKENDS[2]}" "$client_spec"
  backends_up direct
  TARGET="${BACKENDS[0]}"
}

setup_flood() {
  nb_topology_up "n0=${BACKENDS[0]}" "n1=${BACKENDS[1]}" "n2=${BACKENDS[2]}" "$client_spec"
  backends_up flood
  nb_flood_calibration "$VIP"
  TARGET="$VIP"
}

# --- measurement ------------------------------------------------------------------------------------------------
# Component name of a process: role of its namespace + command.
component_of() {
  local host="$1" comm="$2"
  case "$host:$comm" in
    n*:nginx) echo "backend-nginx" ;;
    n*:dotnet|n*:farmd|n*:.NET*) echo "farmd" ;;
    lb*:keepalived) echo "keepalived" ;;
    lb*:*) echo "lb-$comm" ;;
    c0:wrk) echo "wrk" ;;
    *) echo "other-$comm" ;;
  esac
}

# Writes "component ticks" summed over the topology's processes.
component_ticks() {
  local h comm ticks
  for h in "${NB_HOSTS[@]}"; do
    while read -r comm ticks; do
      if [[ -n "$comm" ]]; then echo "$(component_of "$h" "$comm") $ticks"; fi
    done < <(nb_ns_ticks "$h")
  done | awk '{s[$1] += $2} END {for (k in s) print k, s[k]}' | sort
}

# Many sources: every new connection from c0 to port 80 gets the next of the first $sources client addresses.
sources_many() {
  local map="" i
  for ((i = 0; i < sources; i++)); do map+="${map:+, }$i : ${client_addrs[$i]}"; done
  nb_exec c0 nft -f - <<EOF
table ip versus_src {
  chain post {
    type nat hook postrouting priority srcnat; policy accept;
    tcp dport 80 snat to numgen inc mod $sources map { $map }
  }
}
EOF
}
sources_one() { nb_exec c0 nft delete table ip versus_src 2>/dev/null || true; }

# measure SETUP RUN WORKLOAD: one wrk run; appends a row to $NB_WORK/rows.tsv and the CPU rows to cpu.tsv.
measure() {
  local setup="$1" run="$2" wl="$3" hdr=() f="$NB_WORK/wrk-$1-$2-$3.txt"
  [[ "$wl" == cl* ]] && hdr=(-H 'Connection: close')
  if [[ "$wl" == *N ]]; then sources_many; else sources_one; fi
  local m0 m1
  component_ticks > "$NB_WORK/cpu0"
  m0="$(nb_machine_ticks)"
  local t0 t1
  times > "$NB_WORK/times0" # the shell's children's user and system time (no subshell: a subshell has its own)
  nb_exec c0 wrk -t"$threads" -c"$connections" -d"${seconds}s" --latency "${hdr[@]}" "http://$TARGET/" > "$f" 2>&1 || true
  times > "$NB_WORK/times1"
  t0="$(sed -n 2p "$NB_WORK/times0")" t1="$(sed -n 2p "$NB_WORK/times1")"
  m1="$(nb_machine_ticks)"
  component_ticks > "$NB_WORK/cpu1"
  # wrk is gone before the second snapshot: its CPU comes from the shell's children times (0m1.234s 0m0.456s).
  local wrk_ticks
  wrk_ticks="$(awk -v a="$t0" -v b="$t1" -v hz="$NB_HZ" 'function s(x,  p) {split(x, p, /[ms]/); return p[1] * 60 + p[2]}
      BEGIN {split(a, x, " "); split(b, y, " "); printf "%d", (s(y[1]) + s(y[2]) - s(x[1]) - s(x[2])) * hz}')"
  echo "wrk 0" >> "$NB_WORK/cpu0"; echo "wrk $wrk_ticks" >> "$NB_WORK/cpu1"
  sort -o "$NB_WORK/cpu0" "$NB_WORK/cpu0"; sort -o "$NB_WORK/cpu1" "$NB_WORK/cpu1"
  local rps p50 p99 errs reqs
  rps="$(awk '/^Requests\/sec:/ {print $2}' "$f")"
  reqs="$(awk '/requests in/ {print $1}' "$f")"
  p50="$(awk '$1 == "50%" {print $2}' "$f")"
  p99="$(awk '$1 == "99%" {print $2}' "$f")"
  errs="$(awk '/Socket errors:/ {gsub(",", ""); s += $4 + $6 + $8 + $10} /Non-2xx/ {s += $NF} END {print s + 0}' "$f")"
  if [[ -z "$rps" || -z "$reqs" || "$reqs" == 0 ]]; then
    nb_log "$setup $wl: wrk gave no result:"; cat "$f" >&2
    rps=0 reqs=0 p50=- p99=-
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$setup" "$run" "$wl" "$rps" "$(to_ms "$p50")" "$(to_ms "$p99")" "$errs" >> "$NB_WORK/rows.tsv"
  # CPU per request (µs): per component, plus the machine's softirq and busy total (the machine includes other work).
  join -a2 -e0 -o 0,1.2,2.2 "$NB_WORK/cpu0" "$NB_WORK/cpu1" | awk -v s="$setup" -v r="$run" -v w="$wl" -v n="$reqs" -v hz="$NB_HZ" \
    'n > 0 {printf "%s\t%s\t%s\t%s\t%.2f\n", s, r, w, $1, 1e6 * ($3 - $2) / hz / n}' >> "$NB_WORK/cpu.tsv"
  awk -v a="$m0" -v b="$m1" -v s="$setup" -v r="$run" -v w="$wl" -v n="$reqs" -v hz="$NB_HZ" 'BEGIN {
      split(a, x, " "); split(b, y, " "); if (n == 0) exit
      printf "%s\t%s\t%s\tmachine-softirq\t%.2f\n", s, r, w, 1e6 * (y[7] - x[7]) / hz / n
      printf "%s\t%s\t%s\tmachine-sys\t%.2f\n", s, r, w, 1e6 * (y[3] - x[3]) / hz / n
      printf "%s\t%s\t%s\tmachine-busy\t%.2f\n", s, r, w, 1e6 * ((y[1]+y[2]+y[3]+y[6]+y[7]+y[8]) - (x[1]+x[2]+x[3]+x[6]+x[7]+x[8])) / hz / n
    }' >> "$NB_WORK/cpu.tsv"
  nb_log "$setup run $run $wl: $rps req/s, p50 $p50, p99 $p99, errors $errs"
}

# wrk prints latencies as 1.23ms / 456.00us / 1.02s.
to_ms() {
  awk -v v="$1" 'BEGIN {
    if (v ~ /us$/) printf "%.3f", substr(v, 1, length(v) - 2) / 1000
    else if (v ~ /ms$/) printf "%.3f", substr(v, 1, length(v) - 2)
    else if (v ~ /s$/) printf "%.3f", substr(v, 1, length(v) - 1) * 1000
    else print "-" }'
}

# failover SETUP RUN KIND KILL_HOST KILLED_BACKEND ALL_AFFECTED
failover() {
  local setup="$1" run="$2" kind="$3" host="$4" killed="$5" all="$6" pids cap="$NB_WORK/fo-$1-$2-$3.pcap" res
  pids="$(nb_ns_pids "$host" | paste -sd, -)"
  [[ -n "$pids" ]] || { nb_log "$setup $kind: nothing runs in $host"; return; }
  nb_exec c0 tcpdump -i eth0 -nn -U -s 96 -w "$cap" 'tcp[13] & 18 == 18' > "$NB_WORK/tcpdump.log" 2>&1 &
  local tcpdump_pid=$!
  NB_PIDS+=("$tcpdump_pid")
  sleep 1
  local src
  src="$(IFS=,; echo "${client_addrs[*]:0:$fo_clients}")"
  res="$(nb_exec c0 /usr/bin/python3 "$here/failover_client.py" --target "$TARGET" --sources "$src" --period-ms "$fo_period" \
          --seconds 6 --kill-at 2 --kill-pids "$pids" --killed "$killed" ${all:+--all-affected})"
  sleep 0.5
  kill -TERM "$tcpdump_pid" 2>/dev/null || true
  wait "$tcpdump_pid" 2>/dev/null || true
  # One SYN (client address:port, ISN+1 = the SYN-ACK's ack) answered by SYN-ACKs from two source MACs.
  local doubles
  doubles="$(tcpdump -r "$cap" -nn -e 2>/dev/null | awk '{
      mac = $2; dst = ""; ack = ""
      for (i = 3; i <= NF; i++) { if ($i == ">" && $(i + 1) ~ /^198\.18\.1\./) dst = $(i + 1); if ($i == "ack") ack = $(i + 1) }
      k = dst " " ack; if (!((k, mac) in seen)) { seen[k, mac] = 1; n[k]++ } }
    END { c = 0; for (k in n) if (n[k] > 1) c++; print c }')"
  printf '%s\t%s\t%s\t%s\t%s\n' "$setup" "$run" "$kind" "${doubles:-?}" "$res" >> "$NB_WORK/failover.tsv"
  nb_log "$setup run $run failover ($kind): $res, double answers ${doubles:-?}"
}

active_lb() {
  local i
  for i in 0 1; do ip -n "$(nb_ns "lb$i")" -4 address show dev eth0 | grep -q " $VIP/" && { echo "lb$i"; return; }; done
  echo lb0
}

: > "$NB_WORK/rows.tsv"; : > "$NB_WORK/cpu.tsv"; : > "$NB_WORK/failover.tsv"
started="$(date -u '+%Y-%m-%d %H:%M')"
load_start="$(cut -d' ' -f1-3 /proc/loadavg)"
for run in $(seq 1 "$runs"); do
  for setup in "${setup_list[@]}"; do
    nb_log "run $run/$runs: $setup"
    "setup_$setup"
    for wl in "${workload_list[@]}"; do measure "$setup" "$run" "$wl"; done
    sources_one
    if ((failover)); then
      case "$setup" in
        farm) failover farm "$run" "node n1 (farmd+nginx)" n1 n1 "" ;;
        haproxy|nginx)
          failover "$setup" "$run" "backend n1 (nginx)" n1 n1 ""
          lb="$(active_lb)"
          failover "$setup" "$run" "active LB $lb" "$lb" "" 1 ;;
      esac
    fi
    nb_topology_down
  done
done
load_end="$(cut -d' ' -f1-3 /proc/loadavg)"

# --- report -----------------------------------------------------------------------------------------------------
commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
[[ -z "$(git status --porcelain -- src 2>/dev/null)" ]] || commit="$commit+uncommitted changes in src/"
cpu_model="$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -n 1)"
wl_name() { case "$1" in ka1) echo "keep-alive, 1 source" ;; cl1) echo "new conn/request, 1 source" ;; kaN) echo "keep-alive, $sources sources" ;; clN) echo "new conn/request, $sources sources" ;; esac; }

# "min-max" of column C over the rows of setup S and workload W.
range_of() {
  awk -F'\t' -v s="$1" -v w="$2" -v c="$3" '$1 == s && $3 == w && $c != "-" {
      v = $c + 0; if (!n++ || v < lo) lo = v; if (n == 1 || v > hi) hi = v }
    END { if (!n) print "-"; else if (lo == hi) printf (c == 4 ? "%.0f" : "%.2f"), lo; else printf (c == 4 ? "%.0f-%.0f" : "%.2f-%.2f"), lo, hi }' "$NB_WORK/rows.tsv"
}
median_rps() {
  awk -F'\t' -v s="$1" -v w="$2" '$1 == s && $3 == w {print $4}' "$NB_WORK/rows.tsv" | sort -g | awk '{v[NR] = $1} END {if (NR) print v[int((NR + 1) / 2)]; else print 0}'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0 && a > 0) printf "%.2f", a / b; else print "-"}'; }

side_by_side() {
  local w s
  echo "| workload | $(for s in "${setup_list[@]}"; do printf '%s req/s | ' "$s"; done | sed 's/ | $//') |"
  echo "|---|$(for _ in "${setup_list[@]}"; do printf -- '---:|'; done)"
  for w in "${workload_list[@]}"; do
    echo "| $(wl_name "$w") | $(for s in "${setup_list[@]}"; do printf '%s | ' "$(range_of "$s" "$w" 4)"; done | sed 's/ | $//') |"
  done
}

report() {
  local s w
  echo "# Farm versus keepalived + HAProxy, nginx upstream, direct nginx and the flood limit"
  echo
  [[ -n "$label" ]] && { echo "**$label**"; echo; }
  echo "- Date (UTC): $started; load average 1/5/15 at the start $load_start, at the end $load_end"
  echo "- Commit: $commit; farmd: ${farmd:-not run}"
  echo "- Machine: ${cpu_model:-unknown CPU}, $(nproc) cores, $(uname -sr); wrk $(wrk -v 2>&1 | awk 'NR == 1 {print $2}'), nginx $(nginx -v 2>&1 | sed 's|.*/||'), $(haproxy -v | awk 'NR == 1 {print "HAProxy", $3}'), $(keepalived -v 2>&1 | awk 'NR == 1 {print $1, $2}')"
  echo "- Command: \`tests/bench/versus/run.sh --setups $setups --workloads $workloads --seconds $seconds --runs $runs --threads $threads --connections $connections --sources $sources --farm-warmup $farm_warmup --farm-settle $farm_settle$( ((failover)) || echo ' --no-failover') --vrrp-advert $vrrp_advert$( [[ -n "${NB_BRIDGE_NF:-}" ]] && echo ' --bridge-nf')$( [[ -n "${NB_HEARTBEAT:-}" ]] && echo " --heartbeat $NB_HEARTBEAT")\`"
  [[ -s "$NB_WORK/settled" ]] && echo "- farmd before the load (after --farm-warmup, waiting for < 5 %): $(paste -sd' ' "$NB_WORK/settled" | sed 's/ / %, /g') % of a core each over 2 s, per run"
  echo "- Load: wrk -t$threads -c$connections -d${seconds}s --latency from the client namespace; 'new conn/request' adds -H 'Connection: close'; '$sources sources' = an nft SNAT rule in the client namespace gives each new connection the next of $sources addresses (numgen inc)"
  echo
  echo "## Requests/s (range over $runs runs)"
  echo
  side_by_side
  echo
  echo "Median ratios: Farm / HAProxy, Farm / nginx proxy, Farm / direct, Farm / flood limit"
  echo
  echo "| workload | farm/haproxy | farm/nginx | farm/direct | farm/flood |"
  echo "|---|---:|---:|---:|---:|"
  for w in "${workload_list[@]}"; do
    local f
    f="$(median_rps farm "$w")"
    echo "| $(wl_name "$w") | $(ratio "$f" "$(median_rps haproxy "$w")") | $(ratio "$f" "$(median_rps nginx "$w")") | $(ratio "$f" "$(median_rps direct "$w")") | $(ratio "$f" "$(median_rps flood "$w")") |"
  done
  echo
  echo "## Latency at saturation, p50 / p99 in ms (range over runs)"
  echo
  echo "| workload | $(for s in "${setup_list[@]}"; do printf '%s p50 | %s p99 | ' "$s" "$s"; done | sed 's/ | $//') |"
  echo "|---|$(for _ in "${setup_list[@]}"; do printf -- '---:|---:|'; done)"
  for w in "${workload_list[@]}"; do
    echo "| $(wl_name "$w") | $(for s in "${setup_list[@]}"; do printf '%s | %s | ' "$(range_of "$s" "$w" 5)" "$(range_of "$s" "$w" 6)"; done | sed 's/ | $//') |"
  done
  echo
  echo "## CPU per request, µs (mean over runs)"
  echo
  echo "Per component: utime+stime of its processes (from /proc/PID/stat, summed over the topology) over the wrk run / requests."
  echo "machine-*: the whole machine's /proc/stat delta / requests (softirq is where the bridge, veth and netfilter work is"
  echo "mostly counted; the machine includes other work, so compare these only on a quiet machine)."
  echo
  echo "| setup | workload | $(cut -f4 "$NB_WORK/cpu.tsv" | sort -u | paste -sd'|' - | sed 's/|/ | /g') |"
  local comps
  comps="$(cut -f4 "$NB_WORK/cpu.tsv" | sort -u | paste -sd' ' -)"
  echo "|---|---|$(for _ in $comps; do printf -- '---:|'; done)"
  for s in "${setup_list[@]}"; do
    for w in "${workload_list[@]}"; do
      printf '| %s | %s | ' "$s" "$(wl_name "$w")"
      for c in $comps; do
        printf '%s | ' "$(awk -F'\t' -v s="$s" -v w="$w" -v c="$c" '$1 == s && $3 == w && $4 == c {t += $5; n++} END {if (n) printf "%.1f", t / n; else print "-"}' "$NB_WORK/cpu.tsv")"
      done
      echo
    done
  done | sed 's/ | $/ |/'
  echo
  if ((failover)); then
    echo "## Failover under load"
    echo
    echo "Failover client: $fo_clients source addresses, each a new connection every $fo_period ms (250 ms timeout), 6 s, SIGKILL at 2 s."
    echo "Affected clients: clients with a failed attempt after the kill, and those whose last answer before the kill came from the killed"
    echo "node or backend (an LB kill: all clients). Time to first success, per affected client: kill -> the end of its first complete"
    echo "answer from a backend that was not killed, among the attempts started after its last failed one. Errors: failed attempts"
    echo "(refused, reset, or no complete answer within 250 ms) that ended after the kill. Double answers: SYNs answered by SYN-ACKs"
    echo "from two MACs (tcpdump in the client namespace)."
    echo
    echo "| setup | run | killed | affected clients | first success p50 ms | p99 ms | max ms | errors after kill | clients with errors | never served again | double answers |"
    echo "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    while IFS=$'\t' read -r s r k d j; do
      echo "| $s | $r | $k | $(jq -r '[.affected, .first_success_ms.p50, .first_success_ms.p99, .first_success_ms.max, .errors_after_kill, .clients_with_errors, .never_served_again] | map(tostring) | join(" | ")' <<<"$j") | $d |"
    done < "$NB_WORK/failover.tsv"
    echo
  fi
  echo "## Every wrk run"
  echo
  echo "| setup | run | workload | req/s | p50 ms | p99 ms | errors |"
  echo "|---|---:|---|---:|---:|---:|---:|"
  while IFS=$'\t' read -r s r w a b c e; do echo "| $s | $r | $(wl_name "$w") | $a | $b | $c | $e |"; done < "$NB_WORK/rows.tsv"
}

mkdir -p "$(dirname "$out")"
report > "$out"
echo
side_by_side
echo
echo "Written to ${out#"$root"/}"
