#!/usr/bin/env bash
# The same workload on PostgreSQL and on lts, each as a primary + synchronous
# standby on this machine: a transaction that takes one unit of an item's quota
# and logs the grant under the client's request ID, idempotently (a request ID
# seen before charges nothing), on one hot item and spread over 64 items, at 8,
# 32 and 64 clients. Prints one table (throughput, p99, ratio) and writes it as CSV under
# bench/results/.
#   PostgreSQL 15: a throwaway primary + standby (pg_basebackup -R,
#     synchronous_commit=on, synchronous_standby_names='*') under a temp
#     directory, pgbench -n -M prepared -j 2 over TCP on 127.0.0.1.
#     The grant log has a unique index on (client, request ID); a grant is
#     `INSERT … ON CONFLICT DO NOTHING RETURNING` and the item is charged only
#     for a new row, in one statement, as an application on PostgreSQL would
#     do it (a repeat would then read its earlier grant by that index).
#   lts: `lts pair` in sync mode, `lts bench authorize` (HTTPS keep-alive, a
#     new requestId per call, as LicenseClient sends).
# Usage: bench/compare.sh [seconds]   (LTS_BINARY=PATH skips the build)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
seconds=${1:-20}
clients_list="8 32 64"
pg_bin=/usr/lib/postgresql/15/bin
pg_port=48390          # the standby takes the next one
lts_port=48380         # idem
select_binary
[ -x "$pg_bin/pgbench" ] || APT_PACKAGES=postgresql-15 deploy/install-packages.sh >&2

# initdb refuses root: the PostgreSQL binaries run as postgres, in a directory it owns.
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

work=$(mktemp -d)
chmod 755 "$work"
mkdir -p "$work/pg" "$work/lts"
[ "$(id -u)" -ne 0 ] || chown postgres: "$work/pg"
pair=""
cleanup() {
    [ -z "$pair" ] || { kill $pair 2>/dev/null; wait $pair 2>/dev/null || true; }
    for node in standby primary; do
        [ ! -f "$work/pg/$node/postmaster.pid" ] || as_pg "$pg_bin/pg_ctl" -D "$work/pg/$node" -m immediate stop > /dev/null 2>&1 || true
    done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for port in $pg_port $((pg_port + 1)) $lts_port $((lts_port + 1)); do
    ! (exec 3<> "/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "port $port is in use" >&2; exit 1; }
done

# --- PostgreSQL primary + synchronous standby --------------------------------
echo "PostgreSQL: primary on $pg_port, synchronous standby on $((pg_port + 1))" >&2
pg="$work/pg"
as_pg "$pg_bin/initdb" -D "$pg/primary" -A trust -U postgres > "$pg/initdb.log"
cat >> "$pg/primary/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $pg_port
unix_socket_directories = '$pg'
max_connections = 100
synchronous_commit = on
synchronous_standby_names = '*'
CONF
as_pg "$pg_bin/pg_ctl" -D "$pg/primary" -l "$pg/primary.log" -w start > /dev/null
as_pg "$pg_bin/pg_basebackup" -h 127.0.0.1 -p $pg_port -U postgres -D "$pg/standby" -R -X stream
echo "port = $((pg_port + 1))" >> "$pg/standby/postgresql.conf"
as_pg "$pg_bin/pg_ctl" -D "$pg/standby" -l "$pg/standby.log" -w start > /dev/null
psql=(as_pg "$pg_bin/psql" -h 127.0.0.1 -p $pg_port -U postgres -d postgres -v ON_ERROR_STOP=1 -qAt)
for _ in $(seq 1 100); do
    [ "$("${psql[@]}" -c "select count(*) from pg_stat_replication where sync_state = 'sync'")" = 1 ] && break
    sleep 0.1
done
[ "$("${psql[@]}" -c "select count(*) from pg_stat_replication where sync_state = 'sync'")" = 1 ] \
    || { echo "the PostgreSQL standby did not become synchronous" >&2; exit 1; }
"${psql[@]}" <<'SQL'
CREATE TABLE item(id int PRIMARY KEY, used bigint, quota bigint);
CREATE TABLE grant_log(client int, request_id uuid, item int, UNIQUE (client, request_id));
INSERT INTO item SELECT i, 0, 1000000000000 FROM generate_series(1, 64) i;
SQL
cat > "$pg/hot.sql" <<'SQL'
\set id 1
WITH fresh AS (
    INSERT INTO grant_log(client, request_id, item) VALUES (:client_id, gen_random_uuid(), :id)
    ON CONFLICT (client, request_id) DO NOTHING RETURNING item)
UPDATE item SET used = used + 1 FROM fresh WHERE item.id = fresh.item AND used < quota;
SQL
sed 's/^\\set id 1$/\\set id random(1, 64)/' "$pg/hot.sql" > "$pg/items64.sql"
[ "$(id -u)" -ne 0 ] || chown postgres: "$pg"/*.sql

# p99 in ms of the per-transaction logs PREFIX.* (column 3: latency in µs).
p99_of_logs() {
    cat "$1".* | awk '{ print $3 }' | sort -n \
        | awk '{ v[NR] = $1 } END { i = int(NR * 0.99) + 1; if (i > NR) i = NR; printf "%.2f", NR ? v[i] / 1000 : 0 }'
}

declare -A pg_tps pg_p99 lts_rate lts_p99
for point in hot items64; do
    for clients in $clients_list; do
        "${psql[@]}" -c "TRUNCATE grant_log; CHECKPOINT"
        prefix="$pg/log-$point-$clients"
        out=$(cd "$pg" && as_pg "$pg_bin/pgbench" -h 127.0.0.1 -p $pg_port -U postgres -n -M prepared -j 2 -c "$clients" \
            -T "$seconds" -f "$pg/$point.sql" -l --log-prefix="$prefix" postgres 2>&1) || { echo "$out" >&2; exit 1; }
        pg_tps[$point,$clients]=$(echo "$out" | sed -n 's/^tps = \([0-9.]*\) .*/\1/p' | head -n 1 | awk '{ printf "%d", $1 }')
        pg_p99[$point,$clients]=$(p99_of_logs "$prefix")
        rm -f "$prefix".*
        echo "PostgreSQL $point, $clients clients: ${pg_tps[$point,$clients]} tps, p99 ${pg_p99[$point,$clients]} ms" >&2
    done
done
as_pg "$pg_bin/pg_ctl" -D "$pg/standby" -m fast stop > /dev/null
as_pg "$pg_bin/pg_ctl" -D "$pg/primary" -m fast stop > /dev/null

# --- lts pair, sync replication ----------------------------------------------
echo "lts: pair on $lts_port/$((lts_port + 1)), sync replication" >&2
dir="$work/lts/pair"
"$binary" pair --dir "$dir" --port $lts_port --replication sync > "$work/lts/pair.out" 2> "$work/lts/pair.log" &
pair=$!
# lts pair sets its admin password and imports the demo license (code demo-1, scan item dbr, 10⁹ scans).
wait_for_log "$work/lts/pair.out" "demo license imported" $pair
base="https://127.0.0.1:$lts_port/dls"
cacert="$dir/main/data/tls/node.crt"
call=(curl -sS --fail-with-body --cacert "$cacert")
token=$("${call[@]}" -H 'Content-Type: application/json' -d "{\"password\":\"$(cat "$dir/admin-password")\"}" \
    "$base/api/admin/login" | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
# 64 items: 64 licenses of one scan item each; each import makes a handshake code on its item.
codes=()
for i in $(seq 1 64); do
    "$binary" license issue --key "$dir/vendor/issuer.key" --org bench --bound-to '*' \
        --item "itemId=s$i,product=dbr,chargeWay=scan,quantity=1000000000,expires=2099-12-31" --out "$work/lts/l$i.json" > /dev/null
    codes+=("$("${call[@]}" -H "Authorization: Bearer $token" --data-binary @"$work/lts/l$i.json" "$base/api/admin/licenses" \
        | sed -n 's/.*"handshakeCode":"\([^"]*\)".*/\1/p')")
done
[ "${#codes[@]}" -eq 64 ] && [ -n "${codes[63]}" ] || { echo "could not import the 64 licenses" >&2; exit 1; }
codes64=$(IFS=,; echo "${codes[*]}")
for point in hot items64; do
    code=demo-1
    [ "$point" = hot ] || code=$codes64
    for clients in $clients_list; do
        result=$("$binary" bench authorize --server "$base/" --cacert "$cacert" --code "$code" \
            --clients "$clients" --seconds "$seconds" --json)
        lts_rate[$point,$clients]=$(echo "$result" | sed -n 's/.*"grantsPerSecond":\([0-9]*\).*/\1/p')
        lts_p99[$point,$clients]=$(echo "$result" | sed -n 's/.*"p99Ms":\([0-9.]*\).*/\1/p' | awk '{ printf "%.2f", $1 }')
        echo "lts $point, $clients clients: ${lts_rate[$point,$clients]} grants/s, p99 ${lts_p99[$point,$clients]} ms ($result)" >&2
    done
done
kill $pair; wait $pair 2>/dev/null || true; pair=""

# --- the table -----------------------------------------------------------------
mkdir -p bench/results
csv="bench/results/compare-$(date -u +%Y%m%d-%H%M%S).csv"
echo "point,clients,postgres_tps,postgres_p99_ms,lts_grants_per_s,lts_p99_ms,lts_over_postgres" > "$csv"
printf '\n%s, %s cores, %s s per point, primary + synchronous standby each, all on one machine and disk\n' \
    "$(date -u +%Y-%m-%d)" "$(nproc)" "$seconds"
printf '| point | clients | PostgreSQL tps | PostgreSQL p99 | lts grants/s | lts p99 | lts / PostgreSQL |\n'
printf '| --- | --- | --- | --- | --- | --- | --- |\n'
for point in hot items64; do
    name=$([ "$point" = hot ] && echo "1 hot item" || echo "64 items")
    for clients in $clients_list; do
        t=${pg_tps[$point,$clients]} p=${pg_p99[$point,$clients]} r=${lts_rate[$point,$clients]} l=${lts_p99[$point,$clients]}
        ratio=$(awk -v a="$r" -v b="$t" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
        printf '| %s | %s | %s | %s ms | %s | %s ms | %s |\n' "$name" "$clients" "$t" "$p" "$r" "$l" "$ratio"
        echo "$point,$clients,$t,$p,$r,$l,$ratio" >> "$csv"
    done
done
echo "written to $csv"
