#!/usr/bin/env bash
# Authorization throughput and latency on one release-build node:
# `lts bench authorize` (keep-alive HTTPS clients on the same machine) against
# a scan item with a quantity that never runs out. Prints grants/s, p50, p99.
# Usage: bench/authorize.sh [clients] [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
clients=${1:-64}
seconds=${2:-20}
binary=.build/release/lts
swift build -c release --product lts >&2   # incremental: a stale binary would measure old code

work=$(mktemp -d)
port=48191
node=""
trap '[ -z "$node" ] || { kill $node 2>/dev/null; wait $node 2>/dev/null; }; rm -rf "$work"' EXIT INT TERM

"$binary" license keygen --out "$work/vendor" > /dev/null
"$binary" license issue --key "$work/vendor/issuer.key" --org bench --bound-to '*' \
    --item 'product=dbr,chargeWay=scan,quantity=1000000000,expires=2099-12-31' --out "$work/license.json" > /dev/null
cat > "$work/lts.json" <<JSON
{"serverMode": "standalone", "listen": "127.0.0.1:$port", "dataDir": "data", "trustedIssuers": ["vendor/issuer.pub"]}
JSON
"$binary" serve --config "$work/lts.json" 2> "$work/node.log" &
node=$!
wait_for_log "$work/node.log" "listening on" $node

base="https://127.0.0.1:$port/dls"
fingerprint=$(sed -n 's/.*SHA-256 fingerprint \([0-9A-F:]*\).*/\1/p' "$work/node.log" | head -n 1)
code=$(import_license "$base" "$work/data/tls/node.crt" "$work/license.json")

echo "authorize on one node, scan item, $(nproc) cores shared by node and load generator"
[ -z "${LTS_BENCH_PROFILE:-}" ] || { sleep 3; perf record -F 999 -g -p $node -o "$LTS_BENCH_PROFILE" -- sleep 5 > /dev/null 2>&1 & }
"$binary" bench authorize --server "$base/" --fingerprint "$fingerprint" --code "$code" --clients "$clients" --seconds "$seconds"
