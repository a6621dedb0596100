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
