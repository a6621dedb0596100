#!/usr/bin/env bash
# Load on GET /dls/api/health over TLS with keep-alive: one release-build
# node, wrk on the same machine. Prints requests/s and p99 latency.
# Usage: bench/http.sh [connections] [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
connections=${1:-32}
seconds=${2:-10}
select_binary
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }

work=$(mktemp -d)
port=48190
cat > "$work/lts.json" <<JSON
{"serverMode": "standalone", "listen": "127.0.0.1:$port", "dataDir": "data"}
JSON
"$binary" serve --config "$work/lts.json" 2> "$work/node.log" &
node=$!
trap 'kill $node 2>/dev/null; wait $node 2>/dev/null; rm -rf "$work"' EXIT INT TERM
wait_for_log "$work/node.log" "listening on" $node

wrk -t2 -c"$connections" -d"${seconds}s" --latency "https://127.0.0.1:$port/dls/api/health" > "$work/wrk.txt"
rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.txt")
p50=$(awk '$1 == "50%" {print $2}' "$work/wrk.txt")
p99=$(awk '$1 == "99%" {print $2}' "$work/wrk.txt")
errors=$(awk '/Non-2xx|Socket errors/ {print}' "$work/wrk.txt")
echo "http health over TLS, keep-alive, $connections connections, ${seconds}s, $(nproc) cores"
echo "  requests/s  $rps"
echo "  p50         $p50"
echo "  p99         $p99"
[ -z "$errors" ] || echo "  errors      $errors"
