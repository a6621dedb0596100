#!/usr/bin/env bash
# The deterministic simulation's two modes side by side, SEEDS seeds each
# from seed index FIRST, with the test binary XCTEST (a release build: the
# simulation's checks are preconditions, kept by -O). Prints each mode's
# result and time; exits non-zero when a seed fails or a process dies.
# Usage: tests/simulation/run.sh XCTEST SEEDS FIRST
set -euo pipefail
xctest=$1 seeds=$2 first=$3
logs=$(mktemp -d)
echo "simulation: $seeds seeds per mode from index $first ($(nproc) cores); logs in $logs"
pids=()
for mode in Sync Async; do
    ( start=$(date +%s)
      status=0
      LTS_SIM_SEEDS=$seeds LTS_SIM_FIRST=$first "$xctest" "ReplicationTests.SimulationTests/test${mode}ReplicationKeepsTheInvariants" \
          > "$logs/$mode.log" 2>&1 || status=$?
      echo "  $mode: $(grep -o 'Executed 1 test, with [0-9]* failure[s]*' "$logs/$mode.log" | head -n 1 || echo 'no result'), exit $status, $(( $(date +%s) - start )) s"
      grep -E "error:|simulation crashed" "$logs/$mode.log" | head -n 5 || true
      exit $status ) &
    pids+=($!)
done
failed=0
for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
exit $failed
