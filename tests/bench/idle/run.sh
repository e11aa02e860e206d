#!/usr/bin/env bash
# Idle cost benchmark: what an idle farm costs per node. Starts N real farmd (default 3) on loopback (127.0.0.1..N,
# the cluster file says 198.18.0.1..N and --address-map redirects), with the shipped default heartbeat timings, no
# modules and --data-plane off, waits until they share one view, lets them idle (--warmup), then measures each farmd
# over --measure seconds from /proc: CPU (utime+stime of the process, in % of ONE core), RSS at the end of the window,
# peak RSS, thread count, and which threads burned the CPU and how often each was woken (/proc/PID/task/*/stat and status, grouped by thread name). After the
# last window it checks that no view change happened while idle (same epoch on every node, all N in view): an idle
# optimisation must not cost failure detection. Prints the tables and writes a Markdown results file.
#
# Nothing but loopback is used; every farmd started here is killed and the temporary directory deleted on exit
# (also on Ctrl-C). The script never queries farmd during a measurement window (status calls cost CPU).
#
# CPU figures are noisy when other work runs on the machine: the results record the whole machine's busy share during
# each window next to farmd's (from /proc/stat) and the load average; use --windows 3 or more and compare ranges.
#
# Usage: tests/bench/idle/run.sh [options]   (see --help)
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: tests/bench/idle/run.sh [options]

Measures the CPU and memory of idle farmd nodes on loopback (data plane off, default timings, no modules).

Options:
  --warmup SECONDS   idle time after the nodes share one view, before the first window (default 60)
  --measure SECONDS  length of one measurement window (default 30)
  --windows N        measurement windows, back to back; the summary gives min-max over them (default 1)
  --nodes N          number of farmd processes, 2..64 (default 3; tests/bench/scale/run.sh compares farm sizes)
  --threads N        list the N busiest thread names (default 8)
  --env NAME=VALUE   extra environment for every farmd (repeatable), e.g. --env DOTNET_GCgen0size=0x400000
                     to try a runtime setting without rebuilding
  --label TEXT       a short description of what is measured (goes into the results file)
  --farmd PATH       run this farmd.dll (or published farmd executable, e.g. artifacts/test-farmd/farmd: the
                     package's composite ReadyToRun build) instead of the repository's Release build, e.g. a build of another commit
                     (git archive COMMIT | tar -x -C DIR; dotnet build DIR/src/Farm.Daemon -c Release) to compare
                     two versions side by side under the same machine load
  --skip-view-check  do not ask farmd for its view (farmctl status --json): wait 20 s instead of waiting for one
                     view, and do not check for view changes at the end (for a farmctl that answers differently)
  --out FILE         results file (default tests/bench/results/idle.md; relative paths are from the repository root)
  --no-build         use the existing Release build of src/Farm.Daemon and src/Farm.Cli
  -h, --help         show this help

Output: one row per node and window: CPU % of one core (user/sys), RSS and peak RSS (MiB), threads; then the busiest
threads by name; then the summary (min-max over windows and nodes) and the idle check (epoch before warm-up vs after
the last window). Exit status 0 when every node ran through and no view change happened, 1 otherwise, 2 on usage errors.

Noise: CPU figures rise with the machine's load (other builds and tests): the results list the machine's busy share
and load average per window. To compare two versions or settings, run two instances at once (each picks its own
port), e.g. one with --farmd of the old build, so both see the same load.

Example: tests/bench/idle/run.sh --warmup 60 --measure 30 --windows 3 --label "after: event-driven heartbeat thread"
EOF
}

start_dir="$(pwd)"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
cd "$root"
# The option parser only: this benchmark runs on loopback, without the namespaces of netbench.sh.
# shellcheck source=../lib/netbench.sh
source "$root/tests/bench/lib/netbench.sh"
# shellcheck source=../lib/loopfarm.sh
source "$root/tests/bench/lib/loopfarm.sh"

warmup=60 measure=30 windows=1 nodes=3 top_threads=8 label="" out="" build=1 farmd="" view_check=1
nb_parse_options --warmup=warmup --measure=measure --windows=windows --nodes=nodes --threads=top_threads \
  --env='LF_ENV[]' --label=label --out=out --no-build=build:0 --farmd=farmd --skip-view-check=view_check:0 -- "$@"
nb_check_counts 0 "warmup:$warmup" "measure:$measure" "windows:$windows" "nodes:$nodes" "threads:$top_threads"
if (( nodes < 2 || nodes > LF_MAX_NODES )); then echo "run.sh: --nodes must be 2..$LF_MAX_NODES" >&2; exit 2; fi
if (( measure < 1 || windows < 1 )); then echo "run.sh: --measure and --windows must be at least 1" >&2; exit 2; fi
for e in "${LF_ENV[@]}"; do
  [[ "$e" == *=* ]] || { echo "run.sh: --env '$e' is not NAME=VALUE" >&2; exit 2; }
done

lf_paths tests/bench/results/idle.md

if (( build )) && [[ -z "$custom_farmd" ]]; then
  echo "Building farmd and farmctl (Release)..."
  dotnet build -c Release -v quiet -nologo src/Farm.Daemon >/dev/null
  dotnet build -c Release -v quiet -nologo src/Farm.Cli >/dev/null
elif (( build && view_check )); then
  dotnet build -c Release -v quiet -nologo src/Farm.Cli >/dev/null
fi
[[ -f "$LF_FARMD" ]] || { echo "run.sh: $LF_FARMD is missing (drop --no-build)" >&2; exit 1; }

lf_init idle
trap lf_cleanup EXIT
trap 'exit 130' INT TERM

# Default timings: the cluster file has no heartbeat section, so farmd uses the shipped defaults.
lf_start_farm idle-bench "$nodes" || exit 1
work="$LF_DIR"

converged=0
epoch_before="?"
views=("? ?")
if (( !view_check )); then
  echo "Not asking farmd for its view (--skip-view-check): waiting 20 s for the nodes to meet (port $LF_PORT, logs in $work)..."
  lf_sleep 20
  lf_alive || { echo "run.sh: a farmd exited during start:" >&2; tail -n 20 "$work"/n*.log >&2; exit 1; }
  converged=1
else
  echo "Waiting for $nodes farmd to share one view (port $LF_PORT, logs in $work)..."
  if lf_wait_one_view 120; then
    converged=1
    views=("${LF_VIEWS[@]}")
  elif ! lf_alive; then
    echo "run.sh: a farmd exited during start:" >&2; tail -n 20 "$work"/n*.log >&2; exit 1
  fi
fi
if (( !converged )); then
  echo "run.sh: the nodes did not share one view of $nodes members within 120 s (status: ${LF_VIEWS[*]})" >&2
  tail -n 20 "$work"/n*.log >&2
  exit 1
fi
if (( view_check )); then
  epoch_before="${views[0]%% *}"
  echo "View epoch $epoch_before with $nodes members on every node. Warming up for ${warmup}s..."
else
  echo "Warming up for ${warmup}s..."
fi
lf_sleep "$warmup"

for w in $(seq 1 "$windows"); do
  echo "Window $w/$windows: measuring ${measure}s..."
  lf_measure_window "$w" "$measure" || { echo "run.sh: a farmd exited during the measurement" >&2; tail -n 20 "$work"/n*.log >&2; exit 1; }
done

idle_ok=1
if (( view_check )); then
  views=()
  for i in $(seq 1 "$nodes"); do views+=("$(lf_view_of "$i")"); done
  for v in "${views[@]}"; do [[ "$v" == "$epoch_before $nodes" ]] || idle_ok=0; done
fi
restarts="$(cat "$work"/n*.log | grep -c -E 'Installed view' || true)"

lf_provenance
runtimeconfig="${LF_FARMD%.dll}.runtimeconfig.json"
gc_settings="$(jq -c '.runtimeOptions.configProperties // {} | with_entries(select(.key | test("GC|Threading|TieredPGO|TieredCompilation")))' "$runtimeconfig" 2>/dev/null || echo '?')"

report() {
  echo "# Idle farm cost: $nodes farmd on loopback, data plane off, default timings"
  echo
  [[ -n "$label" ]] && { echo "**$label**"; echo; }
  echo "- Date (UTC): $(date -u '+%Y-%m-%d %H:%M')"
  echo "- Commit: $commit"
  echo "- Machine: $machine"
  echo "- Command: \`tests/bench/idle/run.sh --warmup $warmup --measure $measure --windows $windows --nodes $nodes$(for e in "${LF_ENV[@]}"; do printf ' --env %s' "$e"; done)${custom_farmd:+ --farmd $custom_farmd}$( (( view_check )) || echo ' --skip-view-check')\`"
  echo "- farmd runtime settings (runtimeconfig.json, GC/threading): \`$gc_settings\`; extra environment: ${LF_ENV[*]:-none}"
  echo "- CPU = (utime+stime) delta of the farmd process over the window / window length, in % of ONE core; RSS = VmRSS at the window's end; peak = VmHWM since start"
  echo
  echo "## Per node and window"
  echo
  echo "| window | node | CPU % of a core | user % | sys % | RSS MiB | peak RSS MiB | threads |"
  echo "|---:|---|---:|---:|---:|---:|---:|---:|"
  for r in "${LF_ROWS[@]}"; do read -r a b c d e f g h <<<"$r"; echo "| $a | $b | $c | $d | $e | $f | $g | $h |"; done
  echo
  echo "## Busiest threads (by thread name; mean and range over $(( nodes * windows )) node-windows)"
  echo
  echo "| thread name | threads per node | CPU % of a core, mean | min | max | wake-ups/s per node, mean |"
  echo "|---|---:|---:|---:|---:|---:|"
  lf_thread_table "$top_threads" $(( nodes * windows ))
  echo
  echo "## Machine during each window (noise from other work)"
  echo
  echo "| window | whole machine busy, % of one core (all $(nproc) cores = $(( 100 * $(nproc) ))) | all farmd together, % of one core | load average 1/5/15 at the end |"
  echo "|---:|---:|---:|---|"
  for r in "${LF_MACHINE_ROWS[@]}"; do read -r a b c d <<<"$r"; echo "| $a | $b | $c | $d |"; done
  echo
  echo "## Summary"
  echo
  printf '%s\n' "${LF_ROWS[@]}" | awk '
    NR == 1 {cmin = cmax = $3; rmin = rmax = $6}
    {csum += $3; n++; if ($3 < cmin) cmin = $3; if ($3 > cmax) cmax = $3; if ($6 < rmin) rmin = $6; if ($6 > rmax) rmax = $6; if ($7 > hmax) hmax = $7}
    END {printf "- CPU per node: mean %.2f%%, range %.2f-%.2f%% of one core (%d node-windows)\n- RSS per node: %.1f-%.1f MiB (peak %.1f MiB)\n", csum / n, cmin, cmax, n, rmin, rmax, hmax}'
  if (( !view_check )); then
    echo "- Idle check: skipped (--skip-view-check)"
  elif (( idle_ok )); then
    echo "- Idle check: OK, every node still at view epoch $epoch_before with all $nodes members (no view change while idle; \"Installed view\" logged $restarts times over all nodes since the start)"
  else
    echo "- Idle check: FAILED, view epoch $epoch_before before warm-up, after the last window (epoch members per node): ${views[*]}"
  fi
}

mkdir -p "$(dirname "$out")"
report > "$out"
echo
cat "$out"
echo
echo "Written to ${out#"$root"/}"
(( idle_ok )) || exit 1
