#!/usr/bin/env bash
# Failover and replication of a local main + standby pair (release build):
# 1. `lts bench failover`: rounds of SIGKILL of the primary under load, with
#    detection, promotion and client-visible outage, and lost acknowledged
#    grants (must be 0 in sync mode), without and then with a witness;
# 2. authorization throughput on the pair in sync and in async mode (the
#    ratio), and the replication lag the primary measured under that load.
# Usage: bench/failover.sh [rounds] [clients] [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
rounds=${1:-20}
clients=${2:-64}
seconds=${3:-10}
select_binary

echo "== without a witness"
"$binary" bench failover --rounds "$rounds" --clients 16 --port 48180
echo "== with a witness (lts witness on port 48182)"
"$binary" bench failover --rounds "$rounds" --clients 16 --port 48180 --witness

work=$(mktemp -d)
pair=""
trap '[ -z "$pair" ] || { kill $pair 2>/dev/null; wait $pair 2>/dev/null; }; rm -rf "$work"' EXIT INT TERM

# Starts `lts pair` in MODE (the main leads) and leaves the primary's token in $token.
start_pair() {
    local mode=$1
    rm -rf "$work/pair"
    "$binary" pair --dir "$work/pair" --port 48280 --replication "$mode" > "$work/pair.out" 2> "$work/pair.log" &
    pair=$!
    # lts pair sets its admin password and imports the demo license (code demo-1) itself.
    wait_for_log "$work/pair.out" "demo license imported" $pair
    base="https://127.0.0.1:48280/dls"
    main=(--cacert "$work/pair/main/data/tls/node.crt")
    token=$(curl -sS --fail-with-body "${main[@]}" -H 'Content-Type: application/json' \
        -d "{\"password\":\"$(cat "$work/pair/admin-password")\"}" "$base/api/admin/login" | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
}

stop_pair() {
    kill $pair 2>/dev/null
    wait $pair 2>/dev/null || true
    pair=""
}

declare -A rate
for mode in sync async; do
    start_pair "$mode"
    result=$("$binary" bench authorize --server "$base/" --cacert "$work/pair/main/data/tls/node.crt" --code demo-1 \
        --clients "$clients" --seconds "$seconds" --json)
    rate[$mode]=$(echo "$result" | sed -n 's/.*"grantsPerSecond":\([0-9]*\).*/\1/p')
    p99=$(echo "$result" | sed -n 's/.*"p99Ms":\([0-9.]*\).*/\1/p')
    echo "pair, $mode replication, $clients clients, ${seconds}s: ${rate[$mode]} grants/s, p99 ${p99} ms"
    if [ "$mode" = sync ]; then
        lag=$(curl -s "${main[@]}" -H "Authorization: Bearer $token" "$base/api/admin/cluster" \
            | sed -n 's/.*"replicationLagMs":{\([^}]*\)}.*/\1/p')
        echo "  replication lag under that load (append on the primary to flush on the standby): $lag"
    fi
    stop_pair
done
awk -v s="${rate[sync]}" -v a="${rate[async]}" 'BEGIN { printf "sync / async throughput: %.2f\n", s / a }'
