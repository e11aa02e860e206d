# Sourced by run.sh and compare.sh (from the repository root): the commit a run measures, and the end of a run
# (its process stopped, the namespaces it created, farmt-PID-N, deleted), also on Ctrl-C or failure.

# The commit the measured code comes from; "+dirty" when source files differ from it (results and docs do not count).
bench_commit() {
  local commit
  commit="$(git rev-parse --short HEAD)"
  if [[ -n "$(git status --porcelain -- . ':!tests/bench/results' ':!docs')" ]]; then
    commit="$commit+dirty"
  fi
  echo "$commit"
}

# bench_sweep PID [WHO]: kills what still runs in each namespace of run PID and deletes it; WHO names the script in a
# line per namespace (for the sweep after a normal exit, where a leftover is worth saying).
bench_sweep() {
  local ns
  for ns in $(ip netns list | awk '{print $1}' | grep "^farmt-$1-" || true); do
    [[ -z "${2:-}" ]] || echo "$2: deleting leftover namespace $ns" >&2
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
    ip netns delete "$ns" 2>/dev/null || true
  done
}

# The EXIT trap's part: stops the run in $pid, if one runs, and deletes its namespaces (the benchmark deletes them
# itself; this catches a run that died before it could).
bench_stop() {
  if [[ -n "$pid" ]]; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    bench_sweep "$pid"
  fi
}
