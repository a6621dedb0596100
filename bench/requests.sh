#!/usr/bin/env bash
# Remembered request IDs as history grows, on one release-build node:
# `lts bench authorize` (a new requestId per call, 64 clients) in slices of
# SLICE seconds until the node remembers MILLIONS million requests (default 10);
# after each slice prints the remembered requests, grants/s, p99 and max of the
# slice, the node's resident memory (VmRSS), the database size and that of its
# WAL file (SQLite's, which must start over rather than grow). The first
# slice is the fresh node; compare the last with it.
# Usage: bench/requests.sh [millions] [slice-seconds]   (LTS_BINARY=PATH skips the build)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
millions=${1:-10}
slice=${2:-60}
select_binary

work=$(mktemp -d)
port=48193
node=""
trap '[ -z "$node" ] || { kill $node 2>/dev/null; wait $node 2>/dev/null; }; rm -rf "$work"' EXIT INT TERM

start_scan_node "$work" $port

echo "remembered requests on one node, $(nproc) cores shared by node and load generator, 64 clients, $slice s slices"
printf "%12s %10s %9s %9s %8s %8s %8s\n" remembered grants/s p99-ms max-ms rss-MB db-MB wal-MB
remembered=0
while [ "$remembered" -lt $((millions * 1000000)) ]; do
    out=$("$binary" bench authorize --server "$base/" --fingerprint "$fingerprint" --code "$code" --clients 64 \
        --seconds "$slice" --json)
    remembered=$((remembered + $(echo "$out" | field grants)))
    rss=$(( $(awk '/VmRSS/ { print $2 }' /proc/$node/status) / 1024 ))
    db=$(( $(du -sk "$work/data" | cut -f1) / 1024 ))
    wal=$(( $(du -sk "$work/data/lts.sqlite-wal" | cut -f1) / 1024 ))
    printf "%12d %10s %9.2f %9.2f %8d %8d %8d\n" "$remembered" "$(echo "$out" | field grantsPerSecond)" \
        "$(echo "$out" | field p99Ms)" "$(echo "$out" | field maxMs)" "$rss" "$db" "$wal"
done
metric() { curl -s --cacert "$work/data/tls/node.crt" "https://127.0.0.1:$port/dls/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
echo "longest event-loop stall $(metric lts_event_loop_lag_max_ms) ms, longest loop turn $(metric lts_event_loop_busy_max_ms) ms CPU (since the node started)"
