# Shell helpers of the benchmark scripts (sourced, not run).

# Waits until FILE has a line matching PATTERN, while process PID runs
# (30 s at most); prints FILE and exits when the process ends first.
wait_for_log() {
    local file=$1 pattern=$2 pid=$3
    for _ in $(seq 1 300); do
        grep -q "$pattern" "$file" 2>/dev/null && return 0
        kill -0 "$pid" 2>/dev/null || { cat "$file" >&2; exit 1; }
        sleep 0.1
    done
    echo "timed out waiting for '$pattern' in $file" >&2
    exit 1
}

# Sets the admin password of the node at BASE (its certificate: CACERT),
# logs in and imports LICENSE. Sets $token and prints the handshake code.
import_license() {
    local base=$1 cacert=$2 license=$3
    local call=(curl -sS --fail-with-body --cacert "$cacert")
    "${call[@]}" -H 'Content-Type: application/json' -d '{"password":"bench password 0123"}' "$base/api/admin/password" > /dev/null
    token=$("${call[@]}" -H 'Content-Type: application/json' -d '{"password":"bench password 0123"}' "$base/api/admin/login" \
        | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
    "${call[@]}" -H "Authorization: Bearer $token" --data-binary @"$license" "$base/api/admin/licenses" \
        | sed -n 's/.*"handshakeCode":"\([^"]*\)".*/\1/p'
}

# Sets $binary: $LTS_BINARY when set, else the release build of lts, built
# now (incremental: a stale binary would measure old code).
select_binary() {
    if [ -n "${LTS_BINARY:-}" ]; then
        binary=$LTS_BINARY
    else
        binary=.build/release/lts
        swift build -c release --product lts >&2
    fi
}

# Starts $binary as one standalone node on 127.0.0.1:PORT in WORK (a fresh
# vendor key, a license of one scan item of 10^9 scans imported). Sets $node
# (its PID; the caller stops it), $base, $fingerprint and $code.
start_scan_node() {
    local work=$1 port=$2
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
}

# The number under KEY in the one-line JSON object on standard input
# (`lts bench authorize --json`).
field() { sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p"; }

# Requests/s of a wrk report FILE (wrk --latency), as a whole number.
wrk_rate() { awk '/Requests\/sec/ { printf "%d", $2 }' "$1"; }

# "p50 …, p99 …, max …" of a wrk report FILE (wrk --latency).
wrk_latencies() {
    echo "p50 $(awk '$1 == "50%" { print $2 }' "$1"), p99 $(awk '$1 == "99%" { print $2 }' "$1"), max $(awk '/Latency/ { print $4; exit }' "$1")"
}
