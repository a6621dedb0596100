#!/usr/bin/env bash
# Remembered request IDs as history grows, on one release-build node:
# `lts bench authorize` (a new requestId per call, 64 clients) in slices of
# SLICE seconds until the node remembers MILLIONS million requests (default 10);
# after each slice prints the remembered requests, grants/s, p99 and max of the
# slice, the node's resident memory (VmRSS) and the database size. The first
# slice is the fresh node; compare the last with it.
# Usage: bench/requests.sh [millions] [slice-seconds]   (LTS_BINARY=PATH skips the build)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
millions=${1:-10}
slice=${2:-60}
if [ -n "${LTS_BINARY:-}" ]; then
    binary=$LTS_BINARY
else
    binary=.build/release/lts
    swift build -c release --product lts >&2   # incremental: a stale binary would measure old code
fi

work=$(mktemp -d)
port=48193
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
field() { sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p"; }

echo "remembered requests on one node, $(nproc) cores shared by node and load generator, 64 clients, $slice s slices"
printf "%12s %10s %9s %9s %8s %8s\n" remembered grants/s p99-ms max-ms rss-MB db-MB
remembered=0
while [ "$remembered" -lt $((millions * 1000000)) ]; do
    out=$("$binary" bench authorize --server "$base/" --fingerprint "$fingerprint" --code "$code" --clients 64 \
        --seconds "$slice" --json)
    remembered=$((remembered + $(echo "$out" | field grants)))
    rss=$(( $(awk '/VmRSS/ { print $2 }' /proc/$node/status) / 1024 ))
    db=$(( $(du -sk "$work/data" | cut -f1) / 1024 ))
    printf "%12d %10s %9.2f %9.2f %8d %8d\n" "$remembered" "$(echo "$out" | field grantsPerSecond)" \
        "$(echo "$out" | field p99Ms)" "$(echo "$out" | field maxMs)" "$rss" "$db"
done
