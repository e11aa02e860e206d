#!/usr/bin/env bash
# One node's readers starved: three real farmd on loopback (tests/bench/lib/loopfarm.sh: data plane off, shipped
# default timings, policy none) with n1 and n2 pinned to CPU 0 and n3 to CPU 1; then a real-time busy loop (SCHED_RR
# priority 5, below farmd's heartbeat thread at 10, above every ordinary thread) pinned to CPU 1 for --seconds. n3's
# heartbeat thread keeps running; the threads that read and write its sockets (the .NET thread pool) get only what
# the kernel's real-time throttling leaves. That is what a node sees when its process is starved but not stopped (a
# joining farmd competing with a busy application on a loaded machine, CI 2026-12-05: the joiner formed a view alone
# and reset 297 of 600 sessions). Counts, per repetition, the views n3 installed without n1 and n2 while or after it
# was starved (must be 0: a node that did not read its peers' messages must not count them silent), whether n1 and n2
# removed n3 (expected: its heartbeats did not leave either), and how long the farm took to be one view again after the
# busy loop ended, and whether n3's lease lapsed (expected: it must end before the peers may give its buckets away).
# Writes tests/bench/results/membership-starve.md.
#
# Usage: tests/bench/membership/starve.sh [options]   (see --help)
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: tests/bench/membership/starve.sh [options]

Starves one farmd's thread pool (not its heartbeat thread) of three on loopback and counts the views it formed alone.

Options:
  --seconds S        how long the busy loop runs (default 2)
  --repetitions N    farms started one after the other (default 3)
  --farmd PATH       run this farmd (a farmd.dll, or the published executable of installer/package.sh farmd)
  --out FILE         results file (default tests/bench/results/membership-starve.md)
  --no-build         use the existing Release builds of src/Farm.Daemon and src/Farm.Cli
  -h, --help         show this help

Needs root (a network namespace of its own, real-time priority) and at least 2 cores. Exit status: 0 when n3 never
installed a view without its peers, 1 otherwise or when a farm did not form, 2 on usage errors.
EOF
}

start_dir="$(pwd)"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
cd "$root"
# shellcheck source=../lib/netbench.sh
source "$root/tests/bench/lib/netbench.sh" # the option parser
# shellcheck source=../lib/loopfarm.sh
source "$root/tests/bench/lib/loopfarm.sh"

seconds=2 repetitions=3 out="" build=1 farmd=""
nb_parse_options --seconds=seconds --repetitions=repetitions --out=out --farmd=farmd --no-build=build:0 -- "$@"
nb_check_counts 1 "seconds:$seconds" "repetitions:$repetitions"
[[ $(id -u) -eq 0 ]] || { echo "starve.sh: run as root (network namespace, real-time priority)" >&2; exit 2; }
(($(nproc) >= 2)) || { echo "starve.sh: needs at least 2 cores (one for n1 and n2, one for n3 and the busy loop)" >&2; exit 2; }

lf_paths tests/bench/results/membership-starve.md
lf_build starve.sh

lf_init starve
netns="farm-starve-$$"
hog=""
finish() {
  local rc=$?
  trap - EXIT INT TERM
  [[ -n "$hog" ]] && kill -KILL "$hog" 2>/dev/null
  lf_cleanup
  ip netns list 2>/dev/null | grep -qw "$netns" && echo "starve.sh: could not delete namespace $netns" >&2
  exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
lf_netns_up "$netns"
log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*"; }

rows=() alone_total=0 failed=0
for rep in $(seq 1 "$repetitions"); do
  lf_start_farm starve 3
  if ! lf_wait_one_view 60; then
    log "repetition $rep: the farm did not form one view (${LF_VIEWS[*]})"
    rows+=("| $rep | farm did not form | | | |")
    failed=1
    lf_stop_farm
    continue
  fi

  lf_sleep 3 # a few seconds in the view, as a farm that runs
  taskset -a -p -c 0 "${LF_PIDS[0]}" >/dev/null
  taskset -a -p -c 0 "${LF_PIDS[1]}" >/dev/null
  taskset -a -p -c 1 "${LF_PIDS[2]}" >/dev/null
  lf_sleep 1
  from=(); for i in 1 2 3; do from+=("$(($(lf_log_lines "$i") + 1))"); done
  log "repetition $rep: starving n3's thread pool for ${seconds} s"
  began="$(lf_now)"
  chrt -r 5 taskset -c 1 timeout "$seconds" sh -c 'while :; do :; done' &
  hog=$!
  wait "$hog" 2>/dev/null || true
  hog=""
  ended="$(lf_now)"
  log "repetition $rep: busy loop ended"

  rejoined="no"
  if lf_wait_one_view 30; then
    rejoined="$(awk -v a="$ended" -v b="$(lf_now)" 'BEGIN {printf "%.1f s", b - a}')"
  else
    failed=1
  fi

  # n3's views without n1 and n2 (policy none: a view of its own), and whether n1 and n2 installed one without n3.
  alone="$(lf_installs 3 "${from[2]}" | awk '$3 !~ /n1/ && $3 !~ /n2/' | wc -l)"
  removed=""
  for i in 1 2; do
    if lf_installs "$i" "${from[$((i - 1))]}" | awk '$3 !~ /n3/' | grep -q .; then removed+="n$i "; fi
  done
  alone_total=$((alone_total + alone))
  # n3's lease must lapse (its heartbeats do not leave either: its peers may take its buckets a detection timeout after
  # the last one), and its log says why (events 208/209: its readers did not run).
  lapsed="$(tail -n +"${from[2]}" "$LF_DIR/n3.log" | grep -c 'Lease of n3 lapsed' || true)"
  stalled="$(tail -n +"${from[2]}" "$LF_DIR/n3.log" | sed -n "s/.*sockets have not run for \([0-9]*\) ms.*/\1/p" | paste -sd ',' | sed 's/,/, /g')"
  rows+=("| $rep | $alone | ${removed:-none} | $lapsed | ${stalled:-none} | $rejoined | $(lf_installs 3 "${from[2]}" | awk '{print $2 " (" $3 ")"}' | paste -sd ';' | sed 's/;/; /g') |")
  log "repetition $rep: n3 formed $alone view(s) alone; removed n3: ${removed:-none}; n3's lease lapsed $lapsed time(s); one view again after $rejoined"
  lf_stop_farm
done

lf_provenance
{
  echo "# One node's thread pool starved (tests/bench/membership/starve.sh)"
  echo
  echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC'), commit: $commit"
  echo "- Machine: $machine"
  echo "- Command: \`tests/bench/membership/starve.sh --seconds $seconds --repetitions $repetitions${custom_farmd:+ --farmd $custom_farmd}\`"
  echo "- Three farmd on loopback (policy none, default timings); n3 alone on CPU 1 with a SCHED_RR priority 5 busy loop for $seconds s."
  echo
  echo "| repetition | views n3 formed without n1 and n2 (must be 0) | nodes that removed n3 | n3's lease lapses | n3's readers-stalled warnings (ms) | one view again after the loop | n3's views since the loop began |"
  echo "|---:|---:|---|---:|---|---:|---|"
  printf '%s\n' "${rows[@]}"
} > "$out"
echo "Views formed alone: $alone_total in $repetitions repetitions. Results: $out"
((alone_total == 0 && failed == 0))
