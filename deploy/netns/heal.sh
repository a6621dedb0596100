#!/usr/bin/env bash
# Usage: heal.sh           restore every link cut.sh cut
#        heal.sh A B       restore the link between hosts A and B
#        heal.sh A all     restore every link of A
# Hosts: main, standby, client. Removes the DROP rules cut.sh put in the
# hosts' LTS-CUT chains (see cut.sh); healing what is whole changes nothing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=common.sh
source "$here/common.sh"
netns_require_root

case $# in
    0)
        for host in "${NETNS_HOSTS[@]}"; do
            ns=$(netns_name "$host")
            if netns_exists "$ns"; then ip netns exec "$ns" iptables -w -F "$NETNS_CUT_CHAIN"; fi
        done
        echo "healed: everything"
        ;;
    2)
        netns_require_up
        for peer in $(netns_peers "$1" "$2"); do
            # A rule added twice (by hand) is removed twice.
            while netns_cut_rule -C "$1" "$peer" 2>/dev/null; do netns_cut_rule -D "$1" "$peer"; done
            while netns_cut_rule -C "$peer" "$1" 2>/dev/null; do netns_cut_rule -D "$peer" "$1"; done
            echo "healed: $1 - $peer"
        done
        ;;
    *)
        sed -n '2,4p' "$0" >&2
        exit 2
        ;;
esac
