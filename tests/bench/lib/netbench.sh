# Shared shell helpers of the network benchmarks (tests/bench/versus, tests/bench/datapath). Source it; it defines
# functions and a few variables and runs nothing by itself.
#
# Topology: one bridge namespace and one namespace per host, each host joined to the bridge by a veth pair whose host
# end is eth0 (the layout of src/Farm.Testing/Topology/FarmTopology.cs: no STP, no multicast snooping, no DAD).
# Addresses come from 198.18.0.0/16 only. Every namespace is named "$NB_PREFIX-<host>" (NB_PREFIX is unique per run)
# and is deleted by nb_cleanup, which the caller installs as its EXIT trap: it first kills every process still inside
# one of the run's namespaces, then deletes the namespaces, and the work directory unless the run failed (its logs
# are what the error names) or NB_KEEP_WORK is set.

NB_BRIDGE_NS=""     # the bridge namespace of the current topology
NB_HOSTS=()         # host names of the current topology (namespace = $NB_PREFIX-<host>)
NB_PREFIX="${NB_PREFIX:-nb$$-$(od -An -N2 -tx1 /dev/urandom | tr -d ' \n')}"
NB_WORK=""          # temporary directory (made by nb_init)
NB_PIDS=()          # background processes started on the host side (killed by nb_cleanup)

nb_die() { echo "$NB_NAME: $*" >&2; exit 1; }
nb_log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

# nb_parse_options SPEC... -- ARG...: the option loop of a bench script, from a table. SPEC is OPTION=VAR (the option
# takes a value: VAR=value), OPTION=VAR[] (a value appended to the array VAR, repeatable) or OPTION=VAR:VALUE (a flag:
# VAR=VALUE). -h and --help call the script's usage function and exit 0; an unknown option or a missing or empty value
# exits 2. It runs in the calling shell and sets the caller's (global) variables.
nb_parse_options() {
  local -A nb_opt_spec=()
  while [[ $# -gt 0 && "$1" != -- ]]; do nb_opt_spec["${1%%=*}"]="${1#*=}"; shift; done
  shift
  local nb_opt_var
  while [[ $# -gt 0 ]]; do
    [[ "$1" == -h || "$1" == --help ]] && { usage; exit 0; }
    [[ -n "${nb_opt_spec[$1]+set}" ]] || { echo "$(basename "$0"): unknown argument '$1' (see --help)" >&2; exit 2; }
    nb_opt_var="${nb_opt_spec[$1]}"
    if [[ "$nb_opt_var" == *:* ]]; then
      printf -v "${nb_opt_var%%:*}" '%s' "${nb_opt_var#*:}"
      shift
      continue
    fi
    [[ -n "${2:-}" ]] || { echo "$(basename "$0"): $1 needs a value" >&2; exit 2; }
    if [[ "$nb_opt_var" == *'[]' ]]; then
      local -n nb_opt_array="${nb_opt_var%'[]'}"
      nb_opt_array+=("$2")
      unset -n nb_opt_array
    else
      printf -v "$nb_opt_var" '%s' "$2"
    fi
    shift 2
  done
}

# nb_check_counts MIN NAME:VALUE...: exits 2 unless every VALUE is a whole number >= MIN (NAME is the option, without
# its leading --).
nb_check_counts() {
  local min="$1" pair
  shift
  for pair in "$@"; do
    [[ "${pair#*:}" =~ ^[0-9]+$ ]] && ((${pair#*:} >= min)) || { echo "$(basename "$0"): --${pair%%:*} must be a whole number >= $min" >&2; exit 2; }
  done
}

# nb_init NAME: remembers the script name for messages, checks root, makes the work directory.
nb_init() {
  NB_NAME="$1"
  [[ $(id -u) -eq 0 ]] || nb_die "run as root (it creates network namespaces)"
  NB_WORK="$(mktemp -d "${TMPDIR:-/tmp}/farm-$NB_NAME.XXXXXX")"
  chmod 700 "$NB_WORK"
}

# nb_require_tools CMD=PACKAGE...: installs the Debian packages of the missing commands (apt-get, idempotent). Services
# the packages ship (nginx, haproxy, keepalived) are kept from starting in the root namespace by a policy-rc.d that
# exists only during the install (an existing one is left as it is).
nb_require_tools() {
  local pair missing=() made_policy=0
  for pair in "$@"; do
    command -v "${pair%%=*}" >/dev/null 2>&1 || missing+=("${pair#*=}")
  done
  ((${#missing[@]})) || return 0
  command -v apt-get >/dev/null 2>&1 || nb_die "missing packages ${missing[*]} and no apt-get: install them by hand"
  nb_log "installing ${missing[*]} (apt-get)"
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && made_policy=1
  fi
  local rc=0
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>"$NB_WORK/apt.err" || {
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null 2>&1 || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>"$NB_WORK/apt.err" || rc=$?
  }
  ((made_policy)) && rm -f /usr/sbin/policy-rc.d
  ((rc == 0)) || { cat "$NB_WORK/apt.err" >&2; nb_die "apt-get install ${missing[*]} failed: install them by hand (Debian 12: apt-get install ${missing[*]})"; }
  for pair in "$@"; do
    command -v "${pair%%=*}" >/dev/null 2>&1 || nb_die "${pair%%=*} still missing after installing ${pair#*=}"
  done
}

nb_ns() { echo "$NB_PREFIX-$1"; }
nb_exec() { local h="$1"; shift; ip netns exec "$(nb_ns "$h")" "$@"; }

# Every namespace of this run (also ones of an earlier topology that failed half-way).
nb_all_namespaces() { ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^${NB_PREFIX}-" || true; }

# Kills every process inside the run's namespaces (SIGKILL) and deletes the namespaces.
nb_topology_down() {
  local ns pid
  disown -a 2>/dev/null || true # no "Killed" job notices for the processes killed here
  for ns in $(nb_all_namespaces); do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
  done
  for ns in $(nb_all_namespaces); do
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      [[ -z "$(ip netns pids "$ns" 2>/dev/null)" ]] && break
      sleep 0.1
    done
    ip netns delete "$ns" 2>/dev/null || true
  done
  NB_HOSTS=() NB_BRIDGE_NS=""
}

nb_cleanup() {
  local rc=$? pid
  trap - EXIT INT TERM
  for pid in "${NB_PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  nb_topology_down
  if [[ -n "$NB_WORK" && -d "$NB_WORK" ]]; then
    # A failed run keeps its logs and configs: the error names files in there.
    if ((rc != 0)) || [[ -n "${NB_KEEP_WORK:-}" ]]; then
      echo "$NB_NAME: kept $NB_WORK (logs and configs of this run; delete it when done)" >&2
    else
      rm -rf "$NB_WORK"
    fi
  fi
  [[ -n "$(nb_all_namespaces)" ]] && echo "$NB_NAME: could not delete namespaces: $(nb_all_namespaces | tr '\n' ' ')" >&2
  exit "$rc"
}

# nb_install_traps: cleanup on exit, Ctrl-C and TERM.
nb_install_traps() {
  trap nb_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# nb_topology_up HOST=ADDR[,ADDR...] ...: a bridge namespace and one namespace per host, addresses /16 on eth0.
nb_topology_up() {
  local spec host addrs a i=0 batch
  NB_BRIDGE_NS="$(nb_ns br)"
  ip netns add "$NB_BRIDGE_NS"
  ip -n "$NB_BRIDGE_NS" link set lo up
  # A kernel with br_netfilter passes every bridged frame (every flooded copy) through the IPv4/IPv6/ARP netfilter
  # hooks of the bridge namespace; a real switch does not. Off unless NB_BRIDGE_NF=1 (to measure what it costs).
  ip netns exec "$NB_BRIDGE_NS" sh -c "for f in /proc/sys/net/bridge/bridge-nf-call-*; do [ -w \"\$f\" ] && echo ${NB_BRIDGE_NF:-0} > \"\$f\"; done; true"
  ip -n "$NB_BRIDGE_NS" link add br0 type bridge stp_state 0 mcast_snooping 0 forward_delay 0
  ip -n "$NB_BRIDGE_NS" link set br0 up
  for spec in "$@"; do
    host="${spec%%=*}" addrs="${spec#*=}"
    local ns
    ns="$(nb_ns "$host")"
    ip netns add "$ns"
    # tcp_tw_reuse 1: a connect() may reuse a port in TIME_WAIT. One client namespace stands for many client hosts;
    # when the client closes first (HAProxy's tcp mode sends the answer before its FIN, so wrk's close comes first), its
    # ports otherwise fill with TIME_WAIT (14,000 measured) and every connect() searches the port range: wrk then spent
    # 1.4 ms of CPU per request on 'HAProxy, new connection' (2026-12-05), a limit of the one-box client, not of HAProxy.
    ip netns exec "$ns" sysctl -q -w net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 net.ipv4.tcp_tw_reuse=1
    ip -n "$ns" link set lo up
    ip -n "$ns" link add eth0 type veth peer name "p$i" netns "$NB_BRIDGE_NS"
    ip -n "$NB_BRIDGE_NS" link set "p$i" master br0 up
    batch=""
    for a in ${addrs//,/ }; do batch+="address add $a/16 dev eth0"$'\n'; done
    batch+="link set dev eth0 up"$'\n'
    ip -n "$ns" -batch - <<<"$batch"
    NB_HOSTS+=("$host")
    i=$((i + 1))
  done
}

# nb_ns_pids HOST: the PIDs running in the host's namespace.
nb_ns_pids() { ip netns pids "$(nb_ns "$1")" 2>/dev/null || true; }

# CPU accounting ---------------------------------------------------------------------------------------------------
NB_HZ="$(getconf CLK_TCK)"
# nb_proc_ticks PID: utime+stime (clock ticks) of a process, 0 when it is gone.
nb_proc_ticks() { { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null || echo; } | awk '{print ($12 + $13) + 0}'; }
# nb_ns_ticks HOST: "comm ticks" per process in the host's namespace.
nb_ns_ticks() {
  local pid
  for pid in $(nb_ns_pids "$1"); do
    printf '%s %s\n' "$(cat "/proc/$pid/comm" 2>/dev/null || echo gone)" "$(nb_proc_ticks "$pid")"
  done
}
# nb_machine_ticks: "user nice system idle iowait irq softirq steal" of the whole machine (all cores).
nb_machine_ticks() { awk '/^cpu / {print $2, $3, $4, $5, $6, $7, $8, $9}' /proc/stat; }

# Farm --------------------------------------------------------------------------------------------------------------
# nb_farm_config DIR VIP RULES NODE_ADDR...: writes DIR/cluster.yaml (default heartbeat timings, or
# NB_HEARTBEAT=INTERVAL/DETECTION/LEASE, e.g. 100ms/1s/600ms) and
# DIR/modules/web/farm.yaml (one VIP on eth0, 256 buckets, drain 1 s); RULES = PROTO:PORT:AFFINITY[,...], e.g.
# tcp:80:client_ip_port; nodes are n0, n1, ... with the given addresses.
nb_farm_config() {
  local dir="$1" vip="$2" rules="$3" i=0 a r
  shift 3
  mkdir -p "$dir/modules/web"
  {
    echo "cluster:"
    echo "  name: bench"
    echo "  key: \"bench-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')\""
    if [[ -n "${NB_HEARTBEAT:-}" ]]; then
      local hb
      IFS=/ read -r -a hb <<<"$NB_HEARTBEAT"
      echo "  heartbeat: { interval: ${hb[0]}, detection_timeout: ${hb[1]}, lease: ${hb[2]} }"
    fi
    echo "  nodes:"
    for a in "$@"; do echo "    - { name: n$i, addresses: [$a] }"; i=$((i + 1)); done
  } > "$dir/cluster.yaml"
  chmod 600 "$dir/cluster.yaml"
  {
    echo "module:"
    echo "  name: web"
    echo "  vips: [$vip]"
    echo "  interface: eth0"
    echo "  buckets: 256"
    echo "  timeouts: { drain: 1s }"
    echo "  rules:"
    for r in ${rules//,/ }; do
      IFS=: read -r -a f <<<"$r"
      echo "    - { protocol: ${f[0]}, ports: ${f[1]}, affinity: ${f[2]} }"
    done
  } > "$dir/modules/web/farm.yaml"
}

# nb_farmd_start PROGRAM DIR HOST NODE: farmd in the host's namespace (data plane on); log in DIR/NODE.log. PROGRAM is
# a farmd.dll (run with dotnet) or a published farmd executable (e.g. the package's self-contained ReadyToRun build).
nb_farmd_start() {
  local dll="$1" dir="$2" host="$3" node="$4" launcher=()
  [[ "$dll" == *.dll ]] && launcher=(dotnet)
  mkdir -p "$dir/$node" && chmod 700 "$dir/$node"
  DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 ip netns exec "$(nb_ns "$host")" "${launcher[@]}" "$dll" --cluster "$dir/cluster.yaml" --node "$node" \
    --admin-socket "$dir/$node/admin.sock" --state-dir "$dir/$node/state" --modules "$dir/modules" > "$dir/$node.log" 2>&1 < /dev/null & disown
}

# nb_resolve_farmd GIVEN ROOT START_DIR BUILD: prints the farmd program to run: GIVEN (relative to START_DIR), or the
# repository's Release farmd.dll, built first when BUILD is 1. Dies (in the caller's $(...)) when it is missing.
nb_resolve_farmd() {
  local given="$1" root="$2" start_dir="$3" build="$4" program
  command -v dotnet >/dev/null 2>&1 || nb_die "dotnet (the .NET 10 SDK) is missing: see installer/deps.sh"
  if [[ -n "$given" ]]; then
    program="$given"
    [[ "$program" = /* ]] || program="$start_dir/$program"
  else
    program="$root/src/Farm.Daemon/bin/Release/net10.0/farmd.dll"
    if ((build)); then
      nb_log "building src/Farm.Daemon (Release)"
      dotnet build -c Release -v quiet -nologo "$root/src/Farm.Daemon" >/dev/null || nb_die "the build of src/Farm.Daemon failed"
    fi
  fi
  [[ -f "$program" ]] || nb_die "$program is missing (drop --no-build, or give --farmd)"
  echo "$program"
}

# nb_flood_calibration VIP: the flood-only set-up of the running topology (hosts n0... and c0): the VIP on n0's lo,
# the netdev pkttype fix for Farm's vMAC on n0 only, and c0's neighbour entry for the VIP pinned to the vMAC, so the
# bridge (which never sees the vMAC as a source) floods every frame to the VIP to every port, as with Farm.
nb_flood_calibration() {
  local vip="$1" vmac
  vmac="$(nb_vmac4 "$vip")"
  ip -n "$(nb_ns n0)" address add "$vip/32" dev lo
  nb_exec n0 nft -f - <<NFT
table netdev calib {
  chain ingress {
    type filter hook ingress device "eth0" priority -500; policy accept;
    ether daddr $vmac meta pkttype set host
  }
}
NFT
  ip -n "$(nb_ns c0)" neigh replace "$vip" lladdr "$vmac" dev eth0 nud permanent
  nb_wait_http c0 "http://$vip/" 10 || nb_die "flood calibration: the VIP on n0's lo does not answer"
}

# nb_wait_settled MAX_SECONDS PERCENT PID...: after start-up, .NET keeps compiling (tiered JIT) for tens of seconds on a
# busy machine; wait until the processes together used less than PERCENT of one core per process over 2 s, or until
# MAX_SECONDS have passed. Sets NB_SETTLED to the last 2-s figure (% of one core per process). Runs in the calling
# shell (not in a $(...) subshell, which would keep looping after a TERM or INT sent to the script alone).
nb_wait_settled() {
  local max="$1" pct="$2" end pid a b
  shift 2
  NB_SETTLED="-"
  (($#)) || return 0
  end=$((SECONDS + max))
  while :; do
    a=0 b=0
    for pid in "$@"; do a=$((a + $(nb_proc_ticks "$pid"))); done
    sleep 2
    for pid in "$@"; do b=$((b + $(nb_proc_ticks "$pid"))); done
    NB_SETTLED="$(awk -v d=$((b - a)) -v hz="$NB_HZ" -v n=$# 'BEGIN {printf "%.1f", 100 * d / hz / 2 / n}')"
    if awk -v l="$NB_SETTLED" -v p="$pct" 'BEGIN {exit !(l < p)}' || ((SECONDS >= end)); then break; fi
  done
}

# nb_vmac4 VIP: Farm's virtual MAC of an IPv4 VIP (docs/dataplane.md: 02:46 + the address bytes).
nb_vmac4() { local IFS=.; set -- $1; printf '02:46:%02x:%02x:%02x:%02x\n' "$1" "$2" "$3" "$4"; }

# nginx -------------------------------------------------------------------------------------------------------------
# nb_nginx_start HOST DIR WORKERS CONNECTIONS BLOCKS: writes DIR/nginx.conf (pid, logs and temp files in DIR, no access
# log, long keep-alive) with BLOCKS (the server and upstream blocks) inside its http block, and starts nginx with it in
# the host's namespace.
nb_nginx_start() {
  local host="$1" dir="$2"
  mkdir -p "$dir"
  cat > "$dir/nginx.conf" <<EOF
worker_processes $3;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections $4; }
http {
  access_log off;
  client_body_temp_path $dir/tmp-body; proxy_temp_path $dir/tmp-proxy; fastcgi_temp_path $dir/tmp-fcgi;
  uwsgi_temp_path $dir/tmp-uwsgi; scgi_temp_path $dir/tmp-scgi;
  keepalive_requests 10000000;
$5
}
EOF
  nb_exec "$host" nginx -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf" < /dev/null > "$dir/stdout.log" 2>&1 & disown
}

# nb_nginx_backend DIR HOST NAME: nginx with one worker answering "ok\n" (3 bytes) on port 80 with header
# "X-Backend: NAME", no access log; started in the host's namespace.
nb_nginx_backend() {
  nb_nginx_start "$2" "$1/$3" 1 8192 "  server {
    listen 80 backlog=4096;
    location / { default_type text/plain; add_header X-Backend $3 always; return 200 \"ok\\n\"; }
  }"
}

# nb_all_answer HOST URL SECONDS NAME...: true once answers with "X-Backend: NAME" for every NAME came through URL
# (curl from the host's namespace, a new connection and source port each time).
nb_all_answer() {
  local host="$1" url="$2" end=$((SECONDS + $3)) seen="" n
  shift 3
  while ((SECONDS < end)); do
    seen+=" $(nb_exec "$host" curl -s -m 1 -D - -o /dev/null "$url" 2>/dev/null | tr -d '\r' | awk -F': ' 'tolower($1) == "x-backend" {print $2}') "
    for n in "$@"; do [[ "$seen" == *" $n "* ]] || continue 2; done
    return 0
  done
  return 1
}

# nb_thread_ticks PID...: "thread-name ticks" for every thread of the processes (one awk over /proc/PID/task/*/stat;
# blanks in names become _).
nb_thread_ticks() {
  local pid files=()
  for pid in "$@"; do files+=(/proc/"$pid"/task/*/stat); done
  ((${#files[@]})) || return 0
  awk '{
      a = index($0, "("); b = 0
      for (k = length($0); k > a; k--) if (substr($0, k, 1) == ")") { b = k; break }
      name = substr($0, a + 1, b - a - 1); gsub(/ /, "_", name)
      split(substr($0, b + 2), f, " "); print name, f[12] + f[13]
    }' "${files[@]}" 2>/dev/null || true
}

# nb_wait_http HOST URL SECONDS: true once curl from the host's namespace gets an answer.
nb_wait_http() {
  local end=$((SECONDS + $3))
  while ((SECONDS < end)); do
    nb_exec "$1" curl -s -o /dev/null -m 1 "$2" && return 0
    sleep 0.2
  done
  return 1
}
