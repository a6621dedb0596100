#!/usr/bin/env bash
# Usage: cut.sh A B        drop all traffic between hosts A and B, both ways
#        cut.sh A all      drop all traffic between A and every other host
# Hosts: main, standby, client (made by up.sh). heal.sh undoes it.
#
# How: each host's namespace has an iptables chain LTS-CUT that INPUT jumps
# to first. A cut adds "-s B -j DROP" to A's chain and "-s A -j DROP" to B's,
# so packets still leave and are lost on arrival, like on a broken network:
# no reset, no error for the sender, TCP connections hang until their own
# timeouts. ARP is not filtered. Cutting what is cut already changes nothing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=common.sh
source "$here/common.sh"
netns_require_root

if [[ $# -ne 2 ]]; then
    sed -n '2,3p' "$0" >&2
    exit 2
fi
peers=$(netns_peers "$1" "$2")
netns_require_up
for peer in $peers; do
    netns_cut_rule -C "$1" "$peer" 2>/dev/null || netns_cut_rule -A "$1" "$peer"
    netns_cut_rule -C "$peer" "$1" 2>/dev/null || netns_cut_rule -A "$peer" "$1"
    echo "cut: $1 x $peer"
done
