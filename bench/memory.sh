#!/usr/bin/env bash
# Memory and catch-up of a release-build pair (run by `make bench`):
# 1. the main alone (its standby stopped) takes GRANTS grants (default
#    1,000,000) from `lts bench authorize`; prints its resident memory (VmRSS);
# 2. the standby, now GRANTS records behind, starts again; prints how fast it
#    catches up (records per second until its log position equals the main's).
# Usage: bench/memory.sh [grants]   (LTS_BINARY=PATH skips the build;
#   LTS_BENCH_PROFILE=PREFIX records 5 s of perf samples of both nodes during
#   the catch-up into PREFIX-main.data and PREFIX-standby.data)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
grants=${1:-1000000}
select_binary

work=$(mktemp -d)
port=48480
pids=()
trap 'for pid in "${pids[@]}"; do kill $pid 2>/dev/null; wait $pid 2>/dev/null; done; rm -rf "$work"' EXIT INT TERM

# lts pair writes both configs, sets the admin password and imports the demo license; then it stops.
"$binary" pair --dir "$work/pair" --port $port > "$work/pair.out" 2> "$work/pair.log" &
pair=$!
wait_for_log "$work/pair.out" "demo license imported" $pair
kill -INT $pair
wait $pair || true

health() { curl -s --cacert "$work/pair/$1/data/tls/node.crt" "https://127.0.0.1:$2/dls/api/health"; }
lsn() { health "$1" "$2" | sed -n 's/.*"lsn":\([0-9]*\).*/\1/p'; }

# The main alone: it answers by itself once degraded (degradeAfterMs).
"$binary" serve --config "$work/pair/main/lts.json" 2> "$work/main.log" &
main=$!
pids+=($main)
wait_for_log "$work/main.log" "listening on" $main
for _ in $(seq 1 300); do health main $port | grep -q '"degraded":true' && break; sleep 0.1; done
start_lsn=$(lsn main $port)
echo "memory: $grants grants on the main alone (standby stopped), then the standby catches up"
while [ "$(( $(lsn main $port) - start_lsn ))" -lt "$grants" ]; do
    "$binary" bench authorize --server "https://127.0.0.1:$port/dls/" --cacert "$work/pair/main/data/tls/node.crt" \
        --code demo-1 --clients 64 --seconds 20 --json > /dev/null
done
end_lsn=$(lsn main $port)
rss=$(awk '/VmRSS/ { print $2 }' /proc/$main/status)
echo "  main after $((end_lsn - start_lsn)) grants (log at lsn $end_lsn): VmRSS $((rss / 1024)) MB (target <= 150 MB)"

# The standby, that far behind, starts again: time until it holds the whole log.
began=$(date +%s.%N)
"$binary" serve --config "$work/pair/standby/lts.json" 2> "$work/standby.log" &
standby=$!
pids+=($standby)
wait_for_log "$work/standby.log" "listening on" $standby
behind=$((end_lsn - $(lsn standby $((port + 1)))))
if [ -n "${LTS_BENCH_PROFILE:-}" ]; then
    for node in main standby; do
        pid=$main; [ $node = main ] || pid=$standby
        perf record -F 999 -g -p $pid -o "$LTS_BENCH_PROFILE-$node.data" -- sleep 5 > /dev/null 2>&1 &
    done
fi
until [ "$(lsn standby $((port + 1)))" = "$end_lsn" ]; do sleep 0.05; done
ended=$(date +%s.%N)
awk -v n="$behind" -v a="$began" -v b="$ended" \
    'BEGIN { printf "  standby caught up %d records in %.1f s: %.0f records/s (target >= 100,000), start-up included\n", n, b - a, n / (b - a) }'
