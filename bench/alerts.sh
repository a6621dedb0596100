#!/usr/bin/env bash
# Grants while an alert email hangs: one release-build node whose mail server
# (tests/smtp/smtp_server.py --hang) accepts connections and never answers.
# `lts bench authorize` runs twice, back to back: with the mail server idle,
# then while the alert email for a crossed threshold hangs on it. Sending runs
# on the thread pool, so the two figures should match.
# Usage: bench/alerts.sh [clients] [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
clients=${1:-64}
seconds=${2:-10}
select_binary
python=$(tests/smtp/venv.sh)

work=$(mktemp -d)
port=48193
node=""
smtp=""
trap '[ -z "$node" ] || { kill $node 2>/dev/null; wait $node 2>/dev/null; }; [ -z "$smtp" ] || kill $smtp 2>/dev/null; rm -rf "$work"' EXIT INT TERM

"$python" tests/smtp/smtp_server.py --port 0 --security none --hang > "$work/smtp.out" 2>&1 &
smtp=$!
wait_for_log "$work/smtp.out" "READY" $smtp
smtp_port=$(sed -n 's/^READY \([0-9]*\)$/\1/p' "$work/smtp.out")

"$binary" license keygen --out "$work/vendor" > /dev/null
"$binary" license issue --key "$work/vendor/issuer.key" --org bench --bound-to '*' \
    --item 'product=dbr,chargeWay=scan,quantity=1000000000,expires=2099-12-31' --out "$work/load.json" > /dev/null
"$binary" license issue --key "$work/vendor/issuer.key" --org bench --bound-to '*' \
    --item 'itemId=watched,product=dbr,chargeWay=scan,quantity=10,expires=2099-12-31' --out "$work/watched.json" > /dev/null
cat > "$work/lts.json" <<JSON
{"serverMode": "standalone", "listen": "127.0.0.1:$port", "dataDir": "data", "trustedIssuers": ["vendor/issuer.pub"],
 "alerts": {"recipients": ["ops@example.com"], "checkMinutes": 0.05},
 "smtp": {"host": "127.0.0.1", "port": $smtp_port, "security": "none", "from": "lts@example.com", "timeoutSeconds": 600}}
JSON
"$binary" serve --config "$work/lts.json" 2> "$work/node.log" &
node=$!
wait_for_log "$work/node.log" "listening on" $node

base="https://127.0.0.1:$port/dls"
cacert="$work/data/tls/node.crt"
fingerprint=$(sed -n 's/.*SHA-256 fingerprint \([0-9A-F:]*\).*/\1/p' "$work/node.log" | head -n 1)
code=$(import_license "$base" "$cacert" "$work/load.json")
# import_license ran in a subshell: log in again for this shell's token.
token=$(curl -sS --fail-with-body --cacert "$cacert" -H 'Content-Type: application/json' -d '{"password":"bench password 0123"}' \
    "$base/api/admin/login" | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
watched=$(curl -sS --fail-with-body --cacert "$cacert" -H "Authorization: Bearer $token" --data-binary @"$work/watched.json" \
    "$base/api/admin/licenses" | sed -n 's/.*"handshakeCode":"\([^"]*\)".*/\1/p')

echo "authorize on one node, $(nproc) cores shared by node and load generator; alerts checked every 3 s"
echo "== the mail server idle"
"$binary" bench authorize --server "$base/" --fingerprint "$fingerprint" --code "$code" --clients "$clients" --seconds "$seconds"
curl -sS --fail-with-body --cacert "$cacert" -H 'Content-Type: application/json' \
    -d "{\"handshakeCode\":\"$watched\",\"clientUUID\":\"bench\",\"scans\":6}" "$base/api/v1/report" > /dev/null
wait_for_log "$work/smtp.out" "CONNECTED" $smtp
echo "== an alert email hanging on the mail server"
"$binary" bench authorize --server "$base/" --fingerprint "$fingerprint" --code "$code" --clients "$clients" --seconds "$seconds"
curl -sS --fail-with-body --cacert "$cacert" -H "Authorization: Bearer $token" "$base/api/admin/alerts" \
    | grep -o '"attempts":[0-9]*[^}]*"status":"[a-z]*"' | head -n 1 | sed 's/^/the alert email after the second run: /'
