#!/usr/bin/env bash
# Usage: up.sh [WORKDIR]            (as root; WORKDIR defaults to ./lts-netns)
#
# Makes three test hosts on this machine, each a network namespace with one
# interface on a shared Linux bridge (which lives in a namespace of its own):
#   main     10.232.0.1   ltsnet-main       runs `lts serve`, servers[0]
#   standby  10.232.0.2   ltsnet-standby    runs `lts serve`, servers[1]
#   client   10.232.0.3   ltsnet-client     for client commands
# Then writes under WORKDIR a vendor key and a demo license (vendor/,
# demo-license.json), a cluster secret, each node's certificate (made by
# running `lts serve` once) and its lts.json (main_standby, each trusting the
# other's certificate by peerCaFile), and starts both nodes in the
# background (WORKDIR/NODE/lts.pid, WORKDIR/NODE/lts.log) and waits until
# the main is primary with the standby attached.
# The lts binary is $LTS, else lts on the PATH, else this repository's build.
# Then: cut.sh, heal.sh; down.sh [WORKDIR] undoes all of it. See README.md.
set -Eeuo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=common.sh
source "$here/common.sh"
netns_require_root

# How long a node may take to start listening.
start_timeout_seconds=30

work=${1:-./lts-netns}
mkdir -p "$work"
work=$(cd "$work" && pwd)
lts=$(netns_lts_binary)

for ns in "$NETNS_BRIDGE_NS" "${NETNS_HOSTS[@]/#/${NETNS_PREFIX}-}"; do
    if netns_exists "$ns"; then
        echo "up.sh: namespace $ns exists already; run down.sh first" >&2
        exit 1
    fi
done
# down.sh deletes WORKDIR only when it holds this mark.
touch "$work/.lts-netns"
# Half made is worse than nothing: undo the namespaces, keep the logs.
trap 'echo "up.sh: failed; undoing (logs kept in $work)" >&2; "$here/down.sh" --keep "$work" >&2' ERR

# MARK: the network

ip netns add "$NETNS_BRIDGE_NS"
ip -n "$NETNS_BRIDGE_NS" link add br0 type bridge
ip -n "$NETNS_BRIDGE_NS" link set br0 up
for host in "${NETNS_HOSTS[@]}"; do
    ns=$(netns_name "$host")
    ip netns add "$ns"
    ip link add "v-$host" netns "$NETNS_BRIDGE_NS" type veth peer name eth0 netns "$ns"
    ip -n "$NETNS_BRIDGE_NS" link set "v-$host" master br0 up
    ip -n "$ns" link set lo up
    ip -n "$ns" addr add "$(netns_address "$host")/24" dev eth0
    ip -n "$ns" link set eth0 up
    # The chain cut.sh fills; INPUT jumps to it first.
    ip netns exec "$ns" iptables -w -N "$NETNS_CUT_CHAIN"
    ip netns exec "$ns" iptables -w -I INPUT 1 -j "$NETNS_CUT_CHAIN"
done

# MARK: the files

if [[ ! -f $work/vendor/issuer.key ]]; then
    "$lts" license keygen --out "$work/vendor" >/dev/null
fi
if [[ ! -f $work/demo-license.json ]]; then
    "$lts" license issue --key "$work/vendor/issuer.key" --org demo --bound-to '*' --out "$work/demo-license.json" \
        --item 'itemId=scan,product=dbr,chargeWay=scan,quantity=1000000000,expires=2099-12-31' >/dev/null
fi
if [[ ! -f $work/cluster.secret ]]; then
    (umask 077 && od -An -N24 -tx1 /dev/urandom | tr -d ' \n' >"$work/cluster.secret")
fi

# wait_listening NODE PID: waits until the node logged that it listens.
wait_listening() {
    local log=$work/$1/lts.log deadline=$((SECONDS + start_timeout_seconds))
    until grep -q "listening on" "$log" 2>/dev/null; do
        if ! kill -0 "$2" 2>/dev/null; then
            echo "up.sh: $1 exited; its log:" >&2
            cat "$log" >&2
            return 1
        fi
        if ((SECONDS >= deadline)); then
            echo "up.sh: $1 did not start listening within ${start_timeout_seconds} s; its log:" >&2
            cat "$log" >&2
            return 1
        fi
        sleep 0.1
    done
}

# start_node NODE CONFIG: starts `lts serve --config CONFIG` in NODE's
# namespace, in its own session (so the operator's Ctrl-C does not reach it),
# and writes its pid. `setsid` (not a group leader here) and `ip netns exec`
# both exec, so $! is the pid of lts itself.
start_node() {
    local dir=$work/$1 pid
    (cd "$dir" && exec setsid ip netns exec "$(netns_name "$1")" "$lts" serve --config "$2" >"$dir/lts.log" 2>&1 </dev/null) &
    pid=$!
    echo "$pid" >"$dir/lts.pid"
    wait_listening "$1" "$pid"
}

# Each node's certificate must exist before either starts, as each trusts the
# other's file: run the node once alone (standalone, a throwaway data
# directory) so that lts makes it for the node's address, then keep it.
for node in main standby; do
    dir=$work/$node
    mkdir -p "$dir/data/tls"
    [[ -f $dir/data/tls/node.crt ]] && continue
    mkdir -p "$dir/certificate"
    cat >"$dir/certificate/lts.json" <<JSON
{
  "serverMode": "standalone",
  "listen": "$(netns_address "$node"):$NETNS_PORT",
  "publicUrl": "$(netns_url "$node")",
  "dataDir": "data"
}
JSON
    start_node "$node" "$dir/certificate/lts.json"
    pid=$(cat "$dir/lts.pid")
    kill "$pid"
    wait "$pid" || true
    rm -f "$dir/lts.pid"
    cp "$dir/certificate/data/tls/node.crt" "$dir/certificate/data/tls/node.key" "$dir/data/tls/"
    chmod 600 "$dir/data/tls/node.key"
    rm -rf "$dir/certificate"
done

secret=$(cat "$work/cluster.secret")
for node in main standby; do
    if [[ $node == main ]]; then peer=standby servers="\"self\", \"$(netns_url standby)\""
    else peer=main servers="\"$(netns_url main)\", \"self\""; fi
    cat >"$work/$node/lts.json" <<JSON
{
  "serverMode": "main_standby",
  "servers": [$servers],
  "listen": "$(netns_address "$node"):$NETNS_PORT",
  "publicUrl": "$(netns_url "$node")",
  "dataDir": "data",
  "clusterSecret": "$secret",
  "trustedIssuers": ["../vendor/issuer.pub"],
  "peerCaFile": "../$peer/data/tls/node.crt"
}
JSON
done

# MARK: the nodes

for node in main standby; do
    start_node "$node" "$work/$node/lts.json"
done

# health NODE: the node's health answer (JSON), asked from the client host.
health() {
    ip netns exec "$(netns_name client)" "$lts" health --json --server "$(netns_url "$1")" \
        --cacert "$work/$1/data/tls/node.crt" 2>/dev/null || true
}

# Writes are refused until the pair has formed: wait for it.
deadline=$((SECONDS + start_timeout_seconds))
until health main | grep -q '"role":"primary"' && health standby | grep -q '"state":"attached"'; do
    if ((SECONDS >= deadline)); then
        echo "up.sh: the pair did not form within ${start_timeout_seconds} s; see $work/{main,standby}/lts.log" >&2
        false
    fi
    sleep 0.1
done
trap - ERR

echo "up: main $(netns_url main) (pid $(cat "$work/main/lts.pid")), standby $(netns_url standby) (pid $(cat "$work/standby/lts.pid"))"
echo "    logs $work/{main,standby}/lts.log; demo license $work/demo-license.json"
echo "try: ip netns exec $(netns_name client) $lts health --server $(netns_url main) --cacert $work/main/data/tls/node.crt"
