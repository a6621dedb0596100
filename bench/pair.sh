#!/usr/bin/env bash
# One node against a sync pair, in one run: `lts bench authorize` (a new
# requestId per call, CLIENTS clients, SECONDS each, default 64 and 60) first
# against one standalone release-build node, then against the primary of
# `lts pair --replication sync` (both nodes on this machine and disk). Prints
# grants/s, p50, p99 and max of each and the ratio pair / node.
# Usage: bench/pair.sh [clients] [seconds]   (LTS_BINARY=PATH skips the build)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
clients=${1:-64}
seconds=${2:-60}
select_binary

work=$(mktemp -d)
node=""
pair=""
trap 'for pid in $node $pair; do kill $pid 2>/dev/null; wait $pid 2>/dev/null; done; rm -rf "$work"' EXIT INT TERM
show() {
    printf "  %-28s %s grants/s, p50 %.2f ms, p99 %.2f ms, max %.2f ms\n" "$1" "$(echo "$2" | field grantsPerSecond)" \
        "$(echo "$2" | field p50Ms)" "$(echo "$2" | field p99Ms)" "$(echo "$2" | field maxMs)"
}

echo "one node, then a sync pair; $(nproc) cores and one disk shared by everything, $clients clients, $seconds s each, a new requestId per call"
mkdir "$work/node"
start_scan_node "$work/node" 48195
single=$("$binary" bench authorize --server "$base/" --fingerprint "$fingerprint" --code "$code" --clients "$clients" \
    --seconds "$seconds" --json)
kill $node; wait $node 2>/dev/null || true; node=""
show "one node" "$single"

# lts pair sets its admin password and imports the demo license (code demo-1, scan item dbr, 10⁹ scans).
"$binary" pair --dir "$work/pair" --port 48196 --replication sync > "$work/pair.out" 2> "$work/pair.log" &
pair=$!
wait_for_log "$work/pair.out" "demo license imported" $pair
synced=$("$binary" bench authorize --server "https://127.0.0.1:48196/dls/" --cacert "$work/pair/main/data/tls/node.crt" \
    --code demo-1 --clients "$clients" --seconds "$seconds" --json)
show "sync pair" "$synced"
awk -v p="$(echo "$synced" | field grantsPerSecond)" -v n="$(echo "$single" | field grantsPerSecond)" \
    'BEGIN { printf "  sync pair / one node: %.2f (target >= 0.8)\n", p / n }'
