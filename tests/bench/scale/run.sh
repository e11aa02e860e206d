#!/usr/bin/env bash
# Scale benchmark (issue 17, item 4): what a farm costs per node as it grows, and how fast it drops a failed node. For
# each farm size in --nodes (default 3,8,16) it starts that many real farmd (tests/bench/lib/loopfarm.sh: loopback
# addresses 127.0.0.1..N via --address-map, default heartbeat timings, no modules, data plane off) inside a network
# namespace of its own, whose lo carries the farm's traffic and nothing else; waits for one view; lets it idle
# (--warmup); then over each --measure window reads from /proc each farmd's CPU (utime+stime, % of ONE core) and RSS,
# the namespace's lo counters (bytes and packets on the wire, whole farm) and each node's TCP sockets (ss: payload
# bytes sent and received per node). Then the failures, in turn, each once the survivors agree again:
#   kill  kill -9 of the highest-numbered live node (farmd gone, host up: the survivors' connections break and its
#         port refuses, the crash fast path);
#   stop  SIGSTOP of the next one (a hung process: its port still accepts, only the detection timeout tells), killed
#         after the measurement.
# Each failure is timed from the signal to the moment every survivor has installed a view without the node, from the
# "Installed view" lines of the survivors' logs (farmd's own millisecond timestamps; nothing is asked during the wait),
# and confirmed afterwards by each survivor's status. Last, the farm is killed and the script checks that no farmd of
# it and no process in its namespace is left. Prints a table and writes a Markdown results file.
#
# Needs root (the network namespace). Touches nothing outside its namespace: no address, route or firewall rule of the
# machine. Every farmd and the namespace and temporary folder are removed on exit, also on Ctrl-C.
#
# Usage: tests/bench/scale/run.sh [options]   (see --help)
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: tests/bench/scale/run.sh [options]

Per farm size: farmd CPU and RSS per node, bytes on the wire, and the time until every survivor drops a failed node.

Options:
  --nodes LIST       farm sizes, comma-separated, each 1..64 (default 3,8,16; 1 = a farmd without peers: its cost
                     without heartbeats, to subtract)
  --warmup SECONDS   idle time after the nodes share one view, before the first window (default 30)
  --measure SECONDS  length of one measurement window (default 30)
  --windows N        measurement windows per size, back to back (default 1)
  --faults LIST      failures to time after the windows, in order: kill, stop, or none (default kill,stop)
  --threads N        list the N busiest thread names per size (default 5)
  --label TEXT       a short description of what is measured (goes into the results file)
  --out FILE         results file (default tests/bench/results/scale.md; relative paths are from the repository root)
  --farmd DLL        run this farmd.dll instead of the repository's Release build
  --no-build         use the existing Release builds of src/Farm.Daemon and src/Farm.Cli
  -h, --help         show this help

Goals (issue 17): heartbeat CPU per node <= 2% of one core at 16 nodes; the results say whether it was met. The
machine's busy share and load average are recorded per window: with 2 cores, 16 farmd load it.

Exit status 0 when every size ran through (whatever the figures), 1 when a farm did not form, a farmd exited, a
failure was not followed by a view without the node within 15 s, or something was left behind; 2 on usage errors.

Example: tests/bench/scale/run.sh --nodes 3,8,16 --warmup 30 --measure 30 --windows 2
EOF
}

start_dir="$(pwd)"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
cd "$root"
# shellcheck source=../lib/netbench.sh
source "$root/tests/bench/lib/netbench.sh" # the option parser
# shellcheck source=../lib/loopfarm.sh
source "$root/tests/bench/lib/loopfarm.sh"

sizes="3,8,16" warmup=30 measure=30 windows=1 faults="kill,stop" top_threads=5 label="" out="" build=1 farmd=""
nb_parse_options --nodes=sizes --warmup=warmup --measure=measure --windows=windows --faults=faults --threads=top_threads \
  --label=label --out=out --farmd=farmd --no-build=build:0 -- "$@"
nb_check_counts 1 "measure:$measure" "windows:$windows"
nb_check_counts 0 "warmup:$warmup" "threads:$top_threads"
IFS=, read -r -a size_list <<<"$sizes"
for n in "${size_list[@]}"; do
  [[ "$n" =~ ^[0-9]+$ ]] && ((n >= 1 && n <= LF_MAX_NODES)) || { echo "run.sh: --nodes: '$n' is not 1..$LF_MAX_NODES" >&2; exit 2; }
done
IFS=, read -r -a fault_list <<<"$faults"
[[ "${fault_list[*]}" == none ]] && fault_list=()
for f in "${fault_list[@]}"; do [[ "$f" == kill || "$f" == stop ]] || { echo "run.sh: --faults: '$f' is not kill or stop" >&2; exit 2; }; done
[[ $(id -u) -eq 0 ]] || { echo "run.sh: run as root (the farm runs in a network namespace of its own)" >&2; exit 2; }

lf_paths tests/bench/results/scale.md
lf_build run.sh

lf_init scale
netns="farm-scale-$$"
finish() {
  local rc=$?
  trap - EXIT INT TERM
  lf_cleanup
  ip netns list 2>/dev/null | grep -qw "$netns" && echo "run.sh: could not delete namespace $netns" >&2
  exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
lf_netns_up "$netns"
log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*"; }

# Traffic counters, read right before and after each window: lo of the namespace ("bytes packets" sent; on lo every
# packet is sent once and received once) and, per TCP socket, "local peer pid bytes_sent bytes_received".
lo_counters() { lf_in_ns cat /proc/net/dev | awk '$1 == "lo:" {print $10, $11}'; }
socket_counters() {
  lf_in_ns ss -tinpHO | awk '{
      pid = ""; s = 0; r = 0
      if (match($0, /pid=[0-9]+/)) pid = substr($0, RSTART + 4, RLENGTH - 4)
      if (match($0, /bytes_sent:[0-9]+/)) s = substr($0, RSTART + 11, RLENGTH - 11)
      if (match($0, /bytes_received:[0-9]+/)) r = substr($0, RSTART + 15, RLENGTH - 15)
      if (pid != "") print $4 "-" $5, pid, s, r
    }'
}
wire_before() { lo_counters > "$LF_DIR/lo-a"; socket_counters > "$LF_DIR/sockets-a"; }
wire_after() { lo_counters > "$LF_DIR/lo-b"; socket_counters > "$LF_DIR/sockets-b"; }
# Per pid: "pid sent received" bytes over the window; a socket opened during the window counts from 0, one closed
# during it is lost (counted in the last line as "closed N").
socket_deltas() {
  awk 'FILENAME == ARGV[1] {s[$1] = $3; r[$1] = $4; next}
       {ds[$2] += $3 - (($1 in s) ? s[$1] : 0); dr[$2] += $4 - (($1 in r) ? r[$1] : 0); seen[$1] = 1}
       END {for (p in ds) print p, ds[p], dr[p]; c = 0; for (k in s) if (!(k in seen)) c++; print "closed", c, 0}' "$LF_DIR/sockets-a" "$LF_DIR/sockets-b"
}

# The view most recently installed by node I, from its log: "id|member, member, ...".
last_view() { grep 'Installed view ' "$LF_DIR/n$1.log" 2>/dev/null | tail -n 1 | sed -n 's/.*Installed view \([^:]*\): \(.*\) (this node.*/\1|\2/p'; }
# settled SECONDS NODE...: waits until the given nodes' last installed views are one view listing exactly them.
settled() {
  local end=$((SECONDS + $1)) i want views
  shift
  want="$(printf 'n%s\n' "$@" | sort | paste -sd, -)"
  while ((SECONDS < end)); do
    views="$(for i in "$@"; do last_view "$i"; done | sort -u)"
    [[ "$(wc -l <<<"$views")" == 1 && "$(cut -d'|' -f2 <<<"$views" | tr -d ' ' | tr ',' '\n' | sort | paste -sd, -)" == "$want" ]] && return 0
    sleep 0.5
  done
  return 1
}

# time_failure KIND VICTIM SURVIVOR...: signals the victim (kill: SIGKILL, stop: SIGSTOP), then reads the survivors'
# logs until each has installed a view without it. Prints "all_ms first_ms installs" or "timeout".
time_failure() {
  local kind="$1" victim="$2" i at line ts id members first="" last="" installs=0 end
  shift 2
  local -A from=() seen=()
  for i in "$@"; do from[$i]=$(($(lf_log_lines "$i") + 1)); done
  at="$(lf_now)"
  if [[ "$kind" == kill ]]; then kill -KILL "${LF_PIDS[$((victim - 1))]}"; else kill -STOP "${LF_PIDS[$((victim - 1))]}"; fi
  end=$((SECONDS + 15))
  while ((SECONDS < end)) && ((${#seen[@]} < $#)); do
    sleep 0.1
    for i in "$@"; do
      [[ -n "${seen[$i]:-}" ]] && continue
      while read -r ts id members; do
        if [[ -n "$ts" && ",$members," != *",n$victim,"* ]]; then seen[$i]="$ts"; break; fi
      done < <(lf_installs "$i" "${from[$i]}")
    done
  done
  ((${#seen[@]} == $#)) || { echo timeout; return; }
  for i in "$@"; do
    installs=$((installs + $(lf_installs "$i" "${from[$i]}" | awk -v t="${seen[$i]}" '$1 <= t' | wc -l)))
  done
  first="$(printf '%s\n' "${seen[@]}" | sort -n | head -n 1)"
  last="$(printf '%s\n' "${seen[@]}" | sort -n | tail -n 1)"
  awk -v a="$at" -v f="$first" -v l="$last" -v n="$installs" 'BEGIN {printf "%.0f %.0f %d\n", 1000 * (l - a), 1000 * (f - a), n}'
}

summary_rows=()   # per size: the summary table's row
detail=""         # per size: per node rows, threads, failures (Markdown)
failed=0
for n in "${size_list[@]}"; do
  LF_ROWS=() LF_THREAD_ROWS=() LF_MACHINE_ROWS=()
  log "$n farmd: starting (namespace $netns, logs in $LF_WORK/scale-$n)"
  t0="$(lf_now)"
  lf_start_farm scale "$n"
  if ! lf_wait_one_view 240; then
    lf_alive || echo "run.sh: a farmd exited during start" >&2
    echo "run.sh: $n farmd did not share one view within 240 s (status: ${LF_VIEWS[*]:-})" >&2
    tail -n 5 "$LF_DIR"/n*.log >&2
    failed=1
    lf_stop_farm
    summary_rows+=("| $n | no single view within 240 s | | | | | | | | | | |")
    continue
  fi
  start_s="$(awk -v a="$t0" -v b="$(lf_now)" 'BEGIN {printf "%.0f", b - a}')"
  epoch_before="${LF_VIEWS[0]%% *}"
  installs_before="$(cat "$LF_DIR"/n*.log | grep -c 'Installed view ' || true)"
  log "$n farmd: one view (epoch $epoch_before) after ${start_s} s; warming up ${warmup} s"
  lf_sleep "$warmup"

  wire_rows=()
  ok=1
  for w in $(seq 1 "$windows"); do
    log "$n farmd: window $w/$windows, ${measure} s"
    if ! lf_measure_window "$w" "$measure" wire_before wire_after; then
      echo "run.sh: a farmd exited during the measurement" >&2
      tail -n 5 "$LF_DIR"/n*.log >&2
      ok=0
      break
    fi
    read -r lb0 lp0 < "$LF_DIR/lo-a"
    read -r lb1 lp1 < "$LF_DIR/lo-b"
    socket_deltas > "$LF_DIR/deltas"
    # per node: "node sent_Bps received_Bps"
    for i in $(seq 1 "$n"); do
      awk -v p="${LF_PIDS[$((i - 1))]}" -v e="$LF_ELAPSED" -v w="$w" -v i="$i" '$1 == p {s = $2; r = $3} END {printf "%s n%s %.0f %.0f\n", w, i, s / e, r / e}' "$LF_DIR/deltas"
    done > "$LF_DIR/per-node-$w"
    closed="$(awk '$1 == "closed" {print $2}' "$LF_DIR/deltas")"
    wire_rows+=("$w $(awk -v b=$((lb1 - lb0)) -v p=$((lp1 - lp0)) -v e="$LF_ELAPSED" 'BEGIN {printf "%.0f %.0f", b / e, p / e}') $closed")
  done
  if ((!ok)); then failed=1; lf_stop_farm; summary_rows+=("| $n | a farmd exited during the measurement | | | | | | | | | | |"); continue; fi
  installs_after="$(cat "$LF_DIR"/n*.log | grep -c 'Installed view ' || true)"
  changes=$((installs_after - installs_before))

  # Failures, in turn: the highest-numbered live node each time (never n1, the lowest name).
  alive_nodes=($(seq 1 "$n"))
  fault_rows=()
  fault_cells=()
  for f in "${fault_list[@]}"; do
    ((${#alive_nodes[@]} >= 2)) || break
    victim="${alive_nodes[-1]}"
    survivors=("${alive_nodes[@]:0:${#alive_nodes[@]}-1}")
    if ! settled 30 "${alive_nodes[@]}"; then
      echo "run.sh: $n farmd: the live nodes did not agree on one view before the $f failure" >&2
      failed=1
      fault_cells+=("not settled")
      break
    fi
    sleep 2
    log "$n farmd: $f n$victim"
    result="$(time_failure "$f" "$victim" "${survivors[@]}")"
    if [[ "$f" == stop ]]; then kill -KILL "${LF_PIDS[$((victim - 1))]}" 2>/dev/null || true; fi
    wait "${LF_PIDS[$((victim - 1))]}" 2>/dev/null || true
    alive_nodes=("${survivors[@]}")
    if [[ "$result" == timeout ]]; then
      failed=1
      fault_rows+=("| $f n$victim | ${#survivors[@]} | no view without n$victim on every survivor within 15 s | | | |")
      fault_cells+=("timeout")
      continue
    fi
    read -r all_ms first_ms installs <<<"$result"
    # Confirmed by each survivor's status (after the timing: status calls cost CPU).
    confirm="$(for i in "${survivors[@]}"; do lf_view_of "$i"; done | sort | uniq -c | awk '{printf "%s%d× epoch %s with %s in view", (NR > 1 ? "; " : ""), $1, $2, $3}')"
    fault_rows+=("| $f n$victim | ${#survivors[@]} | $all_ms ms | $first_ms ms | $installs | $confirm |")
    fault_cells+=("$all_ms ms")
    log "$n farmd: $f n$victim: every survivor without it after $all_ms ms (first $first_ms ms)"
  done

  lf_stop_farm
  leftovers="$(lf_leftovers)"
  [[ -z "$leftovers" ]] || failed=1

  # Summary of this size.
  cpu="$(printf '%s\n' "${LF_ROWS[@]}" | awk 'NR == 1 {mn = mx = $3} {s += $3; k++; if ($3 < mn) mn = $3; if ($3 > mx) mx = $3} END {printf "%.2f (%.2f-%.2f)", s / k, mn, mx}')"
  usersys="$(printf '%s\n' "${LF_ROWS[@]}" | awk '{u += $4; y += $5; k++} END {printf "%.2f / %.2f", u / k, y / k}')"
  rss="$(printf '%s\n' "${LF_ROWS[@]}" | awk 'NR == 1 {mn = mx = $6} {if ($6 < mn) mn = $6; if ($6 > mx) mx = $6} END {printf "%.0f-%.0f", mn, mx}')"
  machine="$(printf '%s\n' "${LF_MACHINE_ROWS[@]}" | awk '{b += $2; f += $3; k++; l = $4} END {printf "%.0f|%.0f|%s", f / k, b / k, l}')"
  wire="$(printf '%s\n' "${wire_rows[@]}" | awk -v n="$n" '{b += $2; p += $3; k++} END {x = n * (n - 1) * 20; printf "%.1f KiB/s, %.0f packets/s|", b / k / 1024, p / k; if (x > 0) printf "%.0f B", b / k / x; else printf "-"}')"
  per_node="$(cat "$LF_DIR"/per-node-* | awk 'NR == 1 {mn = mx = $3} {s += $3; k++; if ($3 < mn) mn = $3; if ($3 > mx) mx = $3} END {printf "%.1f (%.1f-%.1f) KiB/s", s / k / 1024, mn / 1024, mx / 1024}')"
  kill_cell="-" stop_cell="-"
  for k in "${!fault_cells[@]}"; do
    [[ "${fault_list[$k]}" == kill ]] && kill_cell="${fault_cells[$k]}"
    [[ "${fault_list[$k]}" == stop ]] && stop_cell="${fault_cells[$k]}"
  done
  summary_rows+=("| $n | ${start_s} s | $cpu | $usersys | $rss | ${machine%%|*} | $(cut -d'|' -f2 <<<"$machine") / $(cut -d'|' -f3 <<<"$machine") | ${wire%%|*} | ${wire##*|} | $per_node | $kill_cell | $stop_cell | $changes |")

  detail+="### $n nodes"$'\n\n'
  detail+="Per node and window (CPU in % of one core; TCP payload bytes per second from the node's sockets):"$'\n\n'
  detail+="| window | node | CPU % | user % | sys % | RSS MiB | threads | sent B/s | received B/s |"$'\n'
  detail+="|---:|---|---:|---:|---:|---:|---:|---:|---:|"$'\n'
  for r in "${LF_ROWS[@]}"; do
    read -r a b c d e f g h <<<"$r"
    read -r _ _ snt rcv < <(awk -v w="$a" -v nd="$b" '$1 == w && $2 == nd' "$LF_DIR"/per-node-*)
    detail+="| $a | $b | $c | $d | $e | $f | $h | $snt | $rcv |"$'\n'
  done
  detail+=$'\n'"Busiest threads (by name; mean and range over $((n * windows)) node-windows, % of one core):"$'\n\n'
  detail+="| thread name | threads per node | mean | min | max | wake-ups/s |"$'\n'"|---|---:|---:|---:|---:|---:|"$'\n'
  detail+="$(lf_thread_table "$top_threads" $((n * windows)))"$'\n\n'
  detail+="Machine per window: $(printf '%s\n' "${LF_MACHINE_ROWS[@]}" | awk '{printf "%swindow %s: machine busy %s%% of one core (all cores %d%%), all farmd %s%%, load %s", (NR > 1 ? "; " : ""), $1, $2, 100 * '"$(nproc)"', $3, $4}'). "
  detail+="Wire per window (lo of the namespace): $(printf '%s\n' "${wire_rows[@]}" | awk '{printf "%swindow %s: %.1f KiB/s, %s packets/s, %s socket(s) closed during it", (NR > 1 ? "; " : ""), $1, $2 / 1024, $3, $4}')."$'\n\n'
  if ((${#fault_rows[@]})); then
    detail+="Failures (time from the signal until every survivor had installed a view without the node, from the survivors' logs):"$'\n\n'
    detail+="| failure | survivors | every survivor without it | first survivor | views installed meanwhile (all survivors) | survivors' status afterwards |"$'\n'
    detail+="|---|---:|---:|---:|---:|---|"$'\n'
    for r in "${fault_rows[@]}"; do detail+="$r"$'\n'; done
    detail+=$'\n'
  fi
  detail+="Left behind after the farm was killed: ${leftovers:-nothing}."$'\n\n'
  rm -rf "$LF_DIR"
done

lf_provenance
report() {
  echo "# Scale: farmd per node at ${sizes//,/, } nodes on loopback, data plane off, default timings"
  echo
  [[ -n "$label" ]] && { echo "**$label**"; echo; }
  echo "- Date (UTC): $(date -u '+%Y-%m-%d %H:%M')"
  echo "- Commit: $commit"
  echo "- Machine: $machine"
  echo "- Command: \`tests/bench/scale/run.sh --nodes $sizes --warmup $warmup --measure $measure --windows $windows --faults ${faults}${custom_farmd:+ --farmd $custom_farmd}\`"
  echo "- Each size: its own farm in network namespace $netns (lo only); heartbeat 50 ms / detection 300 ms / lease 150 ms (defaults), one LAN, no modules; every node heartbeats every other: N × (N-1) × 20 exchanges/s."
  echo "- CPU = (utime+stime) delta of the farmd process over the window / its length, in % of ONE core (mean over nodes and windows, range); wire = the namespace's lo (IP packets with headers, ACKs included; each counted once); per node = TCP payload its sockets sent (ss bytes_sent)."
  echo
  echo "| nodes | start to one view | CPU per node % (range) | user / sys % | RSS MiB | all farmd % | machine busy % (of $((100 * $(nproc)))) / load 1/5/15 | wire, whole farm | wire bytes per heartbeat exchange | sent per node (range) | kill -9 → every survivor without it | SIGSTOP → every survivor without it | view changes while measuring |"
  echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  printf '%s\n' "${summary_rows[@]}"
  echo
  echo "Goal (issue 17): heartbeat CPU per node ≤ 2% of one core at 16 nodes."
  echo
  echo "$detail"
}
mkdir -p "$(dirname "$out")"
report > "$out"
echo
cat "$out"
echo "Written to ${out#"$root"/}"
exit "$failed"
