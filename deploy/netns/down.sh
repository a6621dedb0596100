#!/usr/bin/env bash
# Usage: down.sh [--keep] [WORKDIR]     (WORKDIR defaults to ./lts-netns)
#
# Undoes up.sh: stops the two lts processes (by WORKDIR/NODE/lts.pid, SIGTERM,
# then SIGKILL after 10 s; then whatever else still runs in the namespaces),
# deletes the namespaces (and with them the bridge, the links and the cuts)
# and deletes WORKDIR, unless --keep, and only if up.sh made it (it holds
# .lts-netns). Idempotent: safe to run again, or after a failed up.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=common.sh
source "$here/common.sh"
netns_require_root

# How long a node may take to stop after SIGTERM.
stop_timeout_seconds=10

keep=false
if [[ ${1:-} == --keep ]]; then keep=true; shift; fi
work=$(netns_work_dir "${1:-}")

# stop PID...: SIGTERM, wait, then SIGKILL what is left.
stop() {
    local pid deadline=$((SECONDS + stop_timeout_seconds))
    kill -TERM "$@" 2>/dev/null || true
    for pid in "$@"; do
        while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
        if kill -0 "$pid" 2>/dev/null; then
            echo "down: $pid did not stop in ${stop_timeout_seconds} s; SIGKILL" >&2
            kill -KILL "$pid" 2>/dev/null || true
        fi
    done
}

for node in main standby; do
    file=$work/$node/lts.pid
    [[ -f $file ]] || continue
    pid=$(cat "$file")
    # A stale pid file may name someone else's process by now: only an lts serve is ours.
    if [[ $pid =~ ^[0-9]+$ ]] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "lts.* serve "; then
        stop "$pid"
        echo "down: stopped $node (pid $pid)"
    fi
    rm -f "$file"
done

for ns in "${NETNS_HOSTS[@]/#/${NETNS_PREFIX}-}" "$NETNS_BRIDGE_NS"; do
    netns_exists "$ns" || continue
    # These namespaces are ours alone: what runs in them was started by up.sh or in its hosts.
    mapfile -t pids < <(ip netns pids "$ns")
    if ((${#pids[@]} > 0)); then stop "${pids[@]}"; fi
    ip netns del "$ns"
    echo "down: deleted namespace $ns"
done

if ! $keep && [[ -f $work/.lts-netns ]]; then
    rm -rf "$work"
    echo "down: deleted $work"
fi
