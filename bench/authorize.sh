#!/usr/bin/env bash
# Authorization throughput and latency on one release-build node, beside the
# node's health throughput in the same run: each for SECONDS (default 60), with
# checkpoints on (every 100,000 records, the default):
#   1. wrk: GET /dls/api/health (keep-alive HTTPS);
#   2. wrk with bench/wrk/authorize.lua: a new requestId per call, the same
#      load generator as step 1;
#   3. `lts bench authorize`: a new requestId per call, as LicenseClient sends;
#   4. `lts bench authorize --without-request-ids`, the path of older figures.
# Prints requests/s or grants/s, p50, p99 and max of each, the ratios of 2 and
# 3 to 1, and the node's resident memory after each step.
# Usage: bench/authorize.sh [clients] [seconds]
#   LTS_BINARY=PATH skips the build; LTS_BENCH_PROFILE=FILE records 10 s of perf
#   samples of the node during step 3 into FILE.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
clients=${1:-64}
seconds=${2:-60}
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
select_binary

work=$(mktemp -d)
port=48191
node=""
trap '[ -z "$node" ] || { kill $node 2>/dev/null; wait $node 2>/dev/null; }; rm -rf "$work"' EXIT INT TERM

start_scan_node "$work" $port
rss() { echo "$(( $(awk '/VmRSS/ { print $2 }' /proc/$node/status) / 1024 )) MB"; }

echo "one node, $(nproc) cores shared by node and load generator, $clients connections, $seconds s each"
wrk -t2 -c"$clients" -d"${seconds}s" --latency "$base/api/health" > "$work/wrk.txt"
health=$(wrk_rate "$work/wrk.txt")
echo "  health (wrk)                $health requests/s, $(wrk_latencies "$work/wrk.txt"); VmRSS $(rss)"

wrk -t2 -c"$clients" -d"${seconds}s" --latency -s bench/wrk/authorize.lua "$base/api/v1/authorize" -- "$code" > "$work/wrk-authorize.txt"
wrk_grants=$(wrk_rate "$work/wrk-authorize.txt")
echo "  authorize, requestIds (wrk) $wrk_grants grants/s, $(wrk_latencies "$work/wrk-authorize.txt"), $(awk '/^not granted/ { print $3 }' "$work/wrk-authorize.txt") not granted; VmRSS $(rss)"

run_authorize() {
    "$binary" bench authorize --server "$base/" --fingerprint "$fingerprint" --code "$code" --clients "$clients" \
        --seconds "$seconds" --json "$@"
}
[ -z "${LTS_BENCH_PROFILE:-}" ] || { (sleep 20; perf record -F 999 -g -p $node -o "$LTS_BENCH_PROFILE" -- sleep 10 > /dev/null 2>&1) & }
with=$(run_authorize)
rate=$(echo "$with" | field grantsPerSecond)
printf "  authorize, requestIds (lts bench) %s grants/s, p50 %.2f ms, p99 %.2f ms, max %.2f ms; VmRSS %s\n" "$rate" \
    "$(echo "$with" | field p50Ms)" "$(echo "$with" | field p99Ms)" "$(echo "$with" | field maxMs)" "$(rss)"
without=$(run_authorize --without-request-ids)
printf "  authorize, no requestIds (lts bench) %s grants/s, p50 %.2f ms, p99 %.2f ms, max %.2f ms; VmRSS %s\n" \
    "$(echo "$without" | field grantsPerSecond)" "$(echo "$without" | field p50Ms)" "$(echo "$without" | field p99Ms)" \
    "$(echo "$without" | field maxMs)" "$(rss)"
awk -v w="$wrk_grants" -v a="$rate" -v h="$health" \
    'BEGIN { printf "  authorize with requestIds / health: %.2f with wrk, %.2f with lts bench (target >= 0.5)\n", w / h, a / h }'
metric() { curl -s --cacert "$work/data/tls/node.crt" "https://127.0.0.1:$port/dls/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
echo "  log at lsn $(metric lts_lsn) (a checkpoint every 100,000 records); longest event-loop stall $(metric lts_event_loop_lag_max_ms) ms"
