# Shared shell helpers of the benchmarks that run N real farmd on loopback (tests/bench/idle, tests/bench/scale). Source
# it; it defines functions and variables and runs nothing by itself.
#
# The farm: nodes n1..nN; the cluster file says 198.18.0.i and --address-map makes node i bind and dial 127.0.0.i
# instead; no heartbeat section (the shipped default timings), no modules, --data-plane off, each node with its own
# admin socket, state folder and log ($LF_WORK/nI.sock, state-nI, nI.log). With LF_NETNS set (lf_netns_up), every
# farmd runs in that network namespace, whose own lo then carries the farm's traffic and nothing else. The caller
# installs lf_cleanup in its EXIT trap: it kills every farmd started here (and whatever else runs in the namespace),
# deletes the namespace and the work folder.

LF_MAX_NODES=64     # 127.0.0.1..N and 198.18.0.1..N; more is possible, not tried
LF_WORK=""          # the run's temporary folder (lf_init)
LF_DIR=""           # the current farm's folder (lf_start_farm): cluster file, sockets, state, logs
LF_NETNS=""         # the network namespace the farmd run in; empty: the machine's own loopback
LF_PIDS=()          # farmd process ids; node i is LF_PIDS[i-1]
LF_NODES=0
LF_PORT=""
LF_FARMD=""         # farmd.dll, or a published farmd executable
LF_FARMCTL=""       # farmctl.dll
LF_ENV=()           # extra NAME=VALUE for every farmd
LF_HZ="$(getconf CLK_TCK)"
LF_ROWS=()          # per window and node: "window node cpu user sys rss hwm threads" (CPU in % of one core, RSS MiB)
LF_THREAD_ROWS=()   # per window, node and thread name: "window<TAB>node<TAB>name<TAB>count<TAB>cpu<TAB>wakes/s"
LF_MACHINE_ROWS=()  # per window: "window machine-busy-% all-farmd-% loadavg1/5/15"
LF_ELAPSED=""       # length of the last window in seconds

# lf_paths DEFAULT_OUT: the caller's results file ($out, else DEFAULT_OUT; relative to the repository root), farmd
# ($farmd, relative to where the script was started, else the Release build) and farmctl; custom_farmd says whether
# --farmd was given (then the caller does not build farmd).
lf_paths() {
  out="${out:-$1}"
  [[ "$out" = /* ]] || out="$root/$out"
  custom_farmd="$farmd"
  LF_FARMD="${farmd:-$root/src/Farm.Daemon/bin/Release/net10.0/farmd.dll}"
  [[ "$LF_FARMD" = /* ]] || LF_FARMD="$start_dir/$LF_FARMD"
  LF_FARMCTL="$root/src/Farm.Cli/bin/Release/net10.0/farmctl.dll"
  export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
}

# lf_build SCRIPT: unless the caller's --no-build (build=0), builds farmctl and, when no --farmd was given, farmd (Release);
# then checks that both exist. SCRIPT names the caller in the error message.
lf_build() {
  if ((build)); then
    echo "Building farmd and farmctl (Release)..."
    [[ -n "$custom_farmd" ]] || dotnet build -c Release -v quiet -nologo src/Farm.Daemon >/dev/null
    dotnet build -c Release -v quiet -nologo src/Farm.Cli >/dev/null
  fi
  [[ -f "$LF_FARMD" && -f "$LF_FARMCTL" ]] || { echo "$1: $LF_FARMD or $LF_FARMCTL is missing (drop --no-build)" >&2; exit 1; }
}

# lf_provenance: sets commit (the short hash, marked when src/ has uncommitted changes, or the --farmd that ran) and
# machine (CPU model, cores, kernel, .NET runtime) for a results file's header.
lf_provenance() {
  commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  [[ -z "$(git status --porcelain -- src 2>/dev/null)" ]] || commit="$commit+uncommitted changes in src/"
  [[ -n "$custom_farmd" ]] && commit="farmd from $LF_FARMD (script at $commit)"
  local cpu_model
  cpu_model="$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -n 1)"
  machine="${cpu_model:-unknown CPU}, $(nproc) cores, $(uname -sr), .NET $(dotnet --list-runtimes 2>/dev/null | awk '/NETCore.App/ {v = $2} END {print v}')"
}

# lf_init NAME: makes the work folder.
lf_init() {
  LF_WORK="$(mktemp -d "${TMPDIR:-/tmp}/farm-$1.XXXXXX")"
  chmod 700 "$LF_WORK"
}

# lf_netns_up NAME: a new network namespace with only lo, up (127.0.0.0/8 is local on it); the farmd started after it
# run there.
lf_netns_up() {
  LF_NETNS="$1"
  ip netns add "$LF_NETNS"
  ip -n "$LF_NETNS" link set lo up
}

# lf_in_ns CMD...: runs CMD in the farm's namespace (or here without one).
lf_in_ns() {
  if [[ -n "$LF_NETNS" ]]; then ip netns exec "$LF_NETNS" "$@"; else "$@"; fi
}

# lf_pick_port: LF_PORT = a gRPC port free on loopback, with the console port (next one) free too. In a namespace of
# its own every port is free.
lf_pick_port() {
  local p
  LF_PORT=""
  for _ in $(seq 1 50); do
    p=$((20000 + RANDOM % 30000))
    if ! lf_in_ns ss -Hltn "( sport = :$p or sport = :$((p + 1)) )" 2>/dev/null | grep -q .; then LF_PORT=$p; return 0; fi
  done
  return 1
}

# lf_start_farm NAME NODES: writes the cluster file into a new folder under LF_WORK and starts n1..nNODES.
lf_start_farm() {
  local name="$1" nodes="$2" i key map=() launcher=()
  # A plain command (no shell function) in the background, so that $! is farmd's own process id.
  [[ -n "$LF_NETNS" ]] && launcher=(ip netns exec "$LF_NETNS")
  LF_NODES="$nodes"
  LF_DIR="$LF_WORK/$name-$nodes"
  LF_PIDS=()
  mkdir -p "$LF_DIR"
  chmod 700 "$LF_DIR" # farmd refuses an admin socket in a folder open to others
  lf_pick_port || { echo "no free port found" >&2; return 1; }
  key="$name-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
  {
    echo "cluster:"
    echo "  name: $name"
    echo "  key: \"$key\""
    echo "  grpc_port: $LF_PORT"
    echo "  console_port: $((LF_PORT + 1))"
    echo "  nodes:"
    for i in $(seq 1 "$nodes"); do
      echo "    - name: n$i"
      echo "      addresses: [198.18.0.$i]"
    done
  } > "$LF_DIR/cluster.yaml"
  chmod 600 "$LF_DIR/cluster.yaml" # it holds the key: farmd refuses a key readable by others
  for i in $(seq 1 "$nodes"); do map+=(--address-map "198.18.0.$i=127.0.0.$i"); done
  # A farmd.dll runs with dotnet; anything else is a published farmd executable (the package's composite ReadyToRun build).
  local runner=()
  [[ "$LF_FARMD" == *.dll ]] && runner=(dotnet)
  for i in $(seq 1 "$nodes"); do
    "${launcher[@]}" env "${LF_ENV[@]}" "${runner[@]}" "$LF_FARMD" --cluster "$LF_DIR/cluster.yaml" --node "n$i" --admin-socket "$LF_DIR/n$i.sock" \
      --state-dir "$LF_DIR/state-n$i" --data-plane off "${map[@]}" > "$LF_DIR/n$i.log" 2>&1 < /dev/null &
    LF_PIDS+=("$!")
  done
}

# lf_status I: farmctl status --json of node I; empty on failure.
lf_status() { timeout 10 dotnet "$LF_FARMCTL" status --socket "$LF_DIR/n$1.sock" --json 2>/dev/null || true; }

# lf_view_of I: "epoch in_view_count" of node I, or "? ?" when it cannot be asked.
lf_view_of() {
  local s
  s="$(lf_status "$1")"
  if [[ -n "$s" ]] && jq -e . >/dev/null 2>&1 <<<"$s"; then
    jq -r '"\(.epoch) \([.nodes[] | select(.in_view)] | length)"' <<<"$s"
  else
    echo "? ?"
  fi
}

# lf_alive [I...]: true when the given nodes (default: all) still run.
lf_alive() {
  local i nodes=("$@")
  ((${#nodes[@]})) || mapfile -t nodes < <(seq 1 "$LF_NODES")
  for i in "${nodes[@]}"; do kill -0 "${LF_PIDS[$((i - 1))]}" 2>/dev/null || return 1; done
}

# lf_installs I [FROM_LINE]: node I's "Installed view" log lines from line FROM_LINE on (default 1), one per line as
# "unix-seconds view-id member,member,..." (the log's local timestamp to unix time, milliseconds).
lf_installs() {
  tail -n +"${2:-1}" "$LF_DIR/n$1.log" 2>/dev/null |
    sed -n 's/^\([0-9-]* [0-9:.]*\) \[INF\] .*Installed view \([^:]*\): \(.*\) (this node is a member.*$/\1|\2|\3/p' |
    while IFS='|' read -r ts id members; do
      printf '%s %s %s\n' "$(date -d "$ts" +%s.%3N)" "$id" "${members//, /,}"
    done
}

# lf_log_lines I: how many lines node I's log has now.
lf_log_lines() { wc -l < "$LF_DIR/n$1.log"; }

# lf_wait_one_view SECONDS: waits until the last view installed by every node (from the logs: no status calls, which
# cost a process start each) is one view listing all nodes, then asks each node's status once to confirm. Sets
# LF_VIEWS (one "epoch in_view_count" per node). False on a timeout or when a farmd exited.
lf_wait_one_view() {
  local end=$((SECONDS + $1)) i last ids
  while ((SECONDS < end)); do
    lf_alive || return 1
    ids=()
    for i in $(seq 1 "$LF_NODES"); do
      last="$(grep 'Installed view ' "$LF_DIR/n$i.log" 2>/dev/null | tail -n 1 | sed -n 's/.*Installed view \([^:]*\): \(.*\) (this node.*/\1|\2/p')"
      ids+=("${last:-none}")
    done
    if [[ "${ids[0]}" != none && "$(printf '%s\n' "${ids[@]}" | sort -u | wc -l)" == 1 &&
      "$(tr ',' '\n' <<<"${ids[0]#*|}" | grep -c .)" == "$LF_NODES" ]]; then
      LF_VIEWS=()
      for i in $(seq 1 "$LF_NODES"); do LF_VIEWS+=("$(lf_view_of "$i")"); done
      [[ "$(printf '%s\n' "${LF_VIEWS[@]}" | sort -u)" == "${LF_VIEWS[0]}" && "${LF_VIEWS[0]}" == *" $LF_NODES" ]] && return 0
    fi
    sleep 1
  done
  LF_VIEWS=()
  for i in $(seq 1 "$LF_NODES"); do LF_VIEWS+=("$(lf_view_of "$i")"); done
  return 1
}

# lf_stop_farm: kills every farmd of the current farm (SIGKILL) and waits for them.
lf_stop_farm() {
  local pid
  for pid in "${LF_PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  for pid in "${LF_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}

# lf_leftovers: prints what is left of the current farm after lf_stop_farm (live farmd of ours, processes in the
# namespace); empty when nothing is.
lf_leftovers() {
  local pid
  for pid in "${LF_PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && echo "farmd pid $pid still runs"; done
  if [[ -n "$LF_NETNS" ]]; then
    for pid in $(ip netns pids "$LF_NETNS" 2>/dev/null); do echo "pid $pid ($(cat "/proc/$pid/comm" 2>/dev/null)) still in namespace $LF_NETNS"; done
  fi
  return 0
}

# lf_cleanup: kills the farm and everything in the namespace, deletes the namespace and the work folder.
# lf_sleep SECONDS: sleeps in the background and waits for it, so that Ctrl-C or TERM runs the caller's trap (and
# lf_cleanup) at once: bash runs a trap only after the foreground command ends, and a warm-up sleeps for minutes.
lf_sleep() {
  sleep "$1" &
  wait $!
}

lf_cleanup() {
  local pid
  disown -a 2>/dev/null || true
  lf_stop_farm
  if [[ -n "$LF_NETNS" ]]; then
    for pid in $(ip netns pids "$LF_NETNS" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      [[ -z "$(ip netns pids "$LF_NETNS" 2>/dev/null)" ]] && break
      sleep 0.1
    done
    ip netns delete "$LF_NETNS" 2>/dev/null || true
  fi
  [[ -n "$LF_WORK" && -d "$LF_WORK" && -z "${LF_KEEP_WORK:-}" ]] && rm -rf "$LF_WORK"
  return 0
}

# CPU accounting ------------------------------------------------------------------------------------------------------
# lf_proc_ticks PID: "total user system" clock ticks of a process (includes its exited threads).
lf_proc_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13, $12, $13}'; }
# lf_thread_ticks PID: one line per live thread: tid<TAB>ticks<TAB>name<TAB>wake-ups (voluntary context switches: each
# time the thread slept and was woken; an idle farm's CPU follows them).
lf_thread_ticks() {
  local t
  for t in /proc/"$1"/task/*; do
    [[ -r "$t/stat" ]] || continue
    printf '%s\t%s\t%s\t%s\n' "${t##*/}" "$(sed 's/.*) //' "$t/stat" 2>/dev/null | awk '{print $12 + $13}')" "$(cat "$t/comm" 2>/dev/null)" \
      "$(awk '$1 == "voluntary_ctxt_switches:" {print $2}' "$t/status" 2>/dev/null)"
  done
}
# lf_machine_ticks: "busy total" jiffies of the whole machine (all cores).
lf_machine_ticks() { awk '/^cpu / {busy = $2 + $3 + $4 + $7 + $8 + $9; print busy, busy + $5 + $6}' /proc/stat; }
# lf_kib PID KEY: a value of /proc/PID/status in KiB (VmRSS, VmHWM) or a count (Threads).
lf_kib() { awk -v k="$2" '$1 == k":" {print $2}' "/proc/$1/status"; }
lf_now() { date +%s.%N; }

# lf_measure_window W SECONDS [BEFORE AFTER]: one measurement window over every node of the farm: CPU (user, system),
# RSS, peak RSS and threads per node, CPU per thread name, the machine's busy share and load. BEFORE and AFTER name
# functions run right before the window starts and right after it ends (e.g. to read traffic counters). Appends to
# LF_ROWS, LF_THREAD_ROWS and LF_MACHINE_ROWS; sets LF_ELAPSED. False when a farmd exited during the window.
lf_measure_window() {
  local w="$1" measure="$2" before="${3:-}" after="${4:-}" i pid start end mb0 mt0 mb1 mt1 t1 u1 s1 cpu user sys rss hwm threads farmd_total=0
  local -A t0=() u0=() s0=()
  for i in $(seq 1 "$LF_NODES"); do
    pid="${LF_PIDS[$((i - 1))]}"
    read -r "t0[$i]" "u0[$i]" "s0[$i]" < <(lf_proc_ticks "$pid")
    lf_thread_ticks "$pid" > "$LF_DIR/threads-$i-a"
  done
  [[ -n "$before" ]] && "$before"
  read -r mb0 mt0 < <(lf_machine_ticks)
  start="$(lf_now)"
  lf_sleep "$measure"
  read -r mb1 mt1 < <(lf_machine_ticks)
  end="$(lf_now)"
  [[ -n "$after" ]] && "$after"
  lf_alive || return 1
  LF_ELAPSED="$(awk -v a="$start" -v b="$end" 'BEGIN {print b - a}')"
  for i in $(seq 1 "$LF_NODES"); do
    pid="${LF_PIDS[$((i - 1))]}"
    read -r t1 u1 s1 < <(lf_proc_ticks "$pid")
    lf_thread_ticks "$pid" > "$LF_DIR/threads-$i-b"
    cpu="$(lf_percent $((t1 - t0[$i])))"
    user="$(lf_percent $((u1 - u0[$i])))"
    sys="$(lf_percent $((s1 - s0[$i])))"
    rss="$(awk -v k="$(lf_kib "$pid" VmRSS)" 'BEGIN {printf "%.1f", k / 1024}')"
    hwm="$(awk -v k="$(lf_kib "$pid" VmHWM)" 'BEGIN {printf "%.1f", k / 1024}')"
    threads="$(lf_kib "$pid" Threads)"
    LF_ROWS+=("$w n$i $cpu $user $sys $rss $hwm $threads")
    farmd_total=$((farmd_total + t1 - t0[$i]))
    # Per thread name: CPU of the threads alive at both ends (a thread born inside the window counts from 0).
    while IFS=$'\t' read -r name count ticks wakes; do
      LF_THREAD_ROWS+=("$w	n$i	$name	$count	$(lf_percent "$ticks")	$(awk -v x="$wakes" -v e="$LF_ELAPSED" 'BEGIN {printf "%.1f", x / e}')")
    done < <(awk -F'\t' 'NR == FNR {a[$1] = $2; v[$1] = $4; next}
                         {d = $2 - (($1 in a) ? a[$1] : 0); n[$3]++; s[$3] += d; ws[$3] += $4 - (($1 in v) ? v[$1] : 0)}
                         END {for (k in s) printf "%s\t%d\t%d\t%d\n", k, n[k], s[k], ws[k]}' "$LF_DIR/threads-$i-a" "$LF_DIR/threads-$i-b" |
             sort -t$'\t' -k3,3nr)
  done
  LF_MACHINE_ROWS+=("$w $(awk -v b=$((mb1 - mb0)) -v t=$((mt1 - mt0)) -v c="$(nproc)" 'BEGIN {printf "%.1f", (t > 0 ? 100 * c * b / t : 0)}') $(lf_percent "$farmd_total" 1) $(cut -d' ' -f1-3 /proc/loadavg | tr ' ' '/')")
}

# lf_percent TICKS [DECIMALS]: TICKS over the last window, in % of one core.
lf_percent() { awk -v d="$1" -v hz="$LF_HZ" -v e="$LF_ELAPSED" -v p="${2:-2}" 'BEGIN {printf "%.*f", p, 100 * d / hz / e}'; }

# lf_thread_table TOP: Markdown rows of the TOP busiest thread names over LF_THREAD_ROWS (mean and range over
# NODE_WINDOWS node-windows, given as $2; a name missing from a node-window counts as 0 there).
lf_thread_table() {
  printf '%s\n' "${LF_THREAD_ROWS[@]}" | awk -F'\t' -v n="$2" '
    {s[$3] += $5; c[$3] += $4; w[$3] += $6; k[$3]++; if (!($3 in mx) || $5 > mx[$3]) mx[$3] = $5; if (!($3 in mn) || $5 < mn[$3]) mn[$3] = $5}
    END {for (t in s) printf "%s\t%.1f\t%.2f\t%.2f\t%.2f\t%.1f\n", t, c[t] / k[t], s[t] / n, (k[t] < n ? 0 : mn[t]), mx[t], w[t] / n}' |
    sort -t$'\t' -k3,3nr | head -n "$1" | while IFS=$'\t' read -r a b c d e f; do echo "| \`$a\` | $b | $c | $d | $e | $f |"; done
}
