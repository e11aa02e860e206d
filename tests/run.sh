#!/usr/bin/env bash
# The README's test command: installs what is missing, builds everything, runs every test
# project and ends with one line "Tests: N passed, M failed, K skipped" summed over all of them.
# Exit status is non-zero if any test failed or a test project did not report.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
results="$root/artifacts/test-results"

# Deletes network namespaces left by test processes that are gone (names farmt-<pid>-...).
sweep_namespaces() {
  local ns pid
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep '^farmt-' || true); do
    pid="${ns#farmt-}"; pid="${pid%%-*}"
    if [[ "$pid" =~ ^[0-9]+$ ]] && ! kill -0 "$pid" 2>/dev/null; then
      ip netns delete "$ns" 2>/dev/null || true
    fi
  done
}
trap sweep_namespaces EXIT

"$root/installer/deps.sh"
sweep_namespaces

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
echo "== build (Release)"
dotnet build Farm.sln -c Release -v quiet -nologo -clp:NoSummary

rm -rf "$results"
mkdir -p "$results"
echo "== test"
set +e
dotnet test Farm.sln -c Release --no-build -nologo \
  --logger "trx" --logger "console;verbosity=normal" --results-directory "$results" \
  --blame-hang-timeout 10m "$@"
status=$?
set -e

# Sum the counters of every project's TRX file.
passed=0 failed=0 total=0 reports=0
for trx in "$results"/*.trx; do
  [[ -e "$trx" ]] || continue
  counters="$(grep -o '<Counters [^>]*>' "$trx" | head -n1)"
  get() { sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<<"$counters"; }
  total=$((total + $(get total)))
  passed=$((passed + $(get passed)))
  failed=$((failed + $(get failed) + $(get error) + $(get timeout) + $(get aborted)))
  reports=$((reports + 1))
done
skipped=$((total - passed - failed))

projects=$(grep -c '\.Tests\.csproj' Farm.sln || true)
if ((reports < projects)); then
  echo "error: only $reports of $projects test projects wrote a report (a test host crashed or was killed)" >&2
  failed=$((failed + projects - reports))
fi
if ((status != 0 && failed == 0)); then
  echo "error: dotnet test exited with $status" >&2
  failed=1
fi

echo "Tests: $passed passed, $failed failed, $skipped skipped"
((failed == 0))
