# Shared by up.sh, cut.sh, heal.sh and down.sh (sourced, not run): the names
# and addresses of the test hosts, and small helpers.
#
# Each host is a network namespace with one interface, eth0, whose other end
# sits on the bridge br0 in a namespace of its own (NETNS_BRIDGE_NS), so
# nothing of this touches the machine's own interfaces or firewall.

NETNS_PREFIX=ltsnet
NETNS_HOSTS=(main standby client)
NETNS_BRIDGE_NS=${NETNS_PREFIX}-bridge
NETNS_SUBNET=10.232.0
# The port both nodes listen on (each on its own address).
NETNS_PORT=48080
# The iptables chain in each host's namespace that holds the cuts (see cut.sh).
NETNS_CUT_CHAIN=LTS-CUT

# The namespace of host $1.
netns_name() { echo "${NETNS_PREFIX}-$1"; }

# The address of host $1 (main .1, standby .2, client .3).
netns_address() {
    case $1 in
        main) echo "${NETNS_SUBNET}.1" ;;
        standby) echo "${NETNS_SUBNET}.2" ;;
        client) echo "${NETNS_SUBNET}.3" ;;
        *) echo "unknown host '$1' (main, standby or client)" >&2; return 1 ;;
    esac
}

# The base URL of node $1.
netns_url() { echo "https://$(netns_address "$1"):${NETNS_PORT}/dls/"; }

netns_exists() { ip netns list | awk '{print $1}' | grep -qx "$1"; }

netns_require_up() {
    local host
    for host in "${NETNS_HOSTS[@]}"; do
        if ! netns_exists "$(netns_name "$host")"; then
            echo "$(basename "$0"): host $host is not up (run up.sh first)" >&2
            exit 1
        fi
    done
}

netns_require_root() {
    if [[ $(id -u) -ne 0 ]]; then
        echo "$(basename "$0"): network namespaces need root" >&2
        exit 1
    fi
}

# The work directory: $1, or ./lts-netns, made absolute when it exists.
netns_work_dir() {
    local dir=${1:-./lts-netns}
    if [[ -d $dir ]]; then (cd "$dir" && pwd); else echo "$dir"; fi
}

# The lts binary: $LTS, else lts on the PATH, else a build in this repository.
netns_lts_binary() {
    local repo candidate
    if [[ -n ${LTS:-} ]]; then echo "$LTS"; return; fi
    if command -v lts >/dev/null; then command -v lts; return; fi
    repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
    for candidate in .build/release/lts .build/debug/lts .build-netns/debug/lts; do
        if [[ -x $repo/$candidate ]]; then echo "$repo/$candidate"; return; fi
    done
    echo "no lts binary: build it (swift build) or set LTS=/path/to/lts" >&2
    return 1
}

# netns_cut_rule ACTION HOST PEER: runs `iptables ACTION` on the rule in
# HOST's cut chain that drops what arrives from PEER (ACTION: -C, -A or -D).
netns_cut_rule() {
    ip netns exec "$(netns_name "$2")" iptables -w "$1" "$NETNS_CUT_CHAIN" -s "$(netns_address "$3")" -j DROP
}

# The hosts a cut or heal between $1 and $2 ("all": every other host) applies to.
netns_peers() {
    local host
    netns_address "$1" >/dev/null
    if [[ $2 == all ]]; then
        for host in "${NETNS_HOSTS[@]}"; do [[ $host == "$1" ]] || echo "$host"; done
    else
        netns_address "$2" >/dev/null
        if [[ $1 == "$2" ]]; then echo "a host cannot be cut from itself" >&2; return 1; fi
        echo "$2"
    fi
}
