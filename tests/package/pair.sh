#!/usr/bin/env bash
# Two sites from the package (make package-check runs it after check.sh):
#   tests/package/pair.sh DIST        (DIST: .build-package/dist)
#
# Two network namespaces stand for two hosts, on a bridge in a third. The
# .deb is installed into a throwaway root for each host (as check.sh does),
# each node runs its root's /usr/bin/lts on its installed lts.json (its
# address, data directory and the demo vendor key moved in: what an operator
# sets up before pairing), as the user lts the package made, as systemd
# would. Then, each on its own host: `lts cluster init` on the main (as
# root), `lts serve` there, `lts cluster join TOKEN` on the standby (as
# root), `lts serve` there; the main rewrites its lts.json as the user lts. The pair must attach with no configuration edited and
# no fingerprint copied, report one cluster UUID, import a license bound to
# it on the main, and after a kill -9 of the main import another on the
# standby, now primary. Every step stops the check with a message.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

dist="$(cd "${1:?usage: tests/package/pair.sh DIST}" && pwd)"
as_root "$0" "$dist"

fail() { echo "package pair check FAILED: $*" >&2; exit 1; }
step() { echo "== $*"; }

deb="$(package_deb "$dist")"

# Apart from the tests' (10.231.x) and deploy/netns's (10.232.0.x) networks.
subnet=10.233.0
port=48080
tag="ltspkg$$"
hosts=(main standby)
work="$(mktemp -d /tmp/lts-package-pair.XXXXXX)"
# The nodes run as the user lts, which must reach the roots inside.
chmod 0755 "$work"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
    for ns in "$tag-main" "$tag-standby" "$tag-br"; do ip netns del "$ns" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

address() { if [ "$1" = main ]; then echo "$subnet.1"; else echo "$subnet.2"; fi; }
url() { echo "https://$(address "$1"):$port/dls/"; }
on() { local host=$1; shift; ip netns exec "$tag-$host" "$@"; }
# field JSON KEY: a top-level field of a JSON object (empty when it is not one).
field() {
    python3 -c 'import json, sys
try: print(json.loads(sys.argv[1]).get(sys.argv[2], ""))
except ValueError: print("")' "$1" "$2"
}
# call HOST METHOD URL [BODY [TOKEN]]: an HTTPS call from HOST (certificates not
# checked here: the nodes pin each other, this is the operator's own probe).
call() {
    local host=$1 method=$2 target=$3 body=${4:-} token=${5:-}
    on "$host" curl -ks -X "$method" ${token:+-H "Authorization: Bearer $token"} ${body:+-H "content-type: application/json" --data-binary "$body"} "$target"
}
health() { call "$1" GET "$(url "$1")api/health" || true; }
wait_until() {
    local what=$1 deadline=$((SECONDS + 30))
    shift
    until "$@"; do
        ((SECONDS < deadline)) || { for host in "${hosts[@]}"; do echo "--- $host" >&2; tail -n 30 "$work/$host.log" >&2; done; fail "timed out waiting for $what"; }
        sleep 0.2
    done
}

step "two hosts: network namespaces on a bridge"
ip netns add "$tag-br"
ip -n "$tag-br" link add br0 type bridge
ip -n "$tag-br" link set br0 up
for host in "${hosts[@]}"; do
    ip netns add "$tag-$host"
    ip link add "v-$host" netns "$tag-br" type veth peer name eth0 netns "$tag-$host"
    ip -n "$tag-br" link set "v-$host" master br0 up
    ip -n "$tag-$host" link set lo up
    ip -n "$tag-$host" addr add "$(address "$host")/24" dev eth0
    ip -n "$tag-$host" link set eth0 up
done

step "the package installed on each host"
for host in "${hosts[@]}"; do
    install_into "$work/$host" "$deb" "$work/dpkg-$host.log"
done
lts="$work/main/usr/bin/lts"
"$lts" license keygen --out "$work/vendor" >/dev/null
# serve_as_lts HOST: starts HOST's node as its root's user lts, in the
# background. setpriv and ip netns exec exec: $! is the node's pid.
serve_as_lts() {
    local root="$work/$1" uid gid
    uid="$(awk -F: '$1 == "lts" { print $3 }' "$root/etc/passwd")"
    gid="$(awk -F: '$1 == "lts" { print $3 }' "$root/etc/group")"
    ip netns exec "$tag-$1" setpriv --reuid="$uid" --regid="$gid" --clear-groups \
        "$root/usr/bin/lts" serve --config "$root/etc/lts/lts.json" >"$work/$1.log" 2>&1 &
    pids+=($!)
    disown
}
for host in "${hosts[@]}"; do
    root="$work/$host"
    install -m 0640 -g "$(awk -F: '$1 == "lts" { print $3 }' "$root/etc/group")" "$work/vendor/issuer.pub" "$root/etc/lts/issuer.pub"
    python3 - "$root/etc/lts/lts.json" "$(address "$host"):$port" "$root/var/lib/lts" "$root/etc/lts/issuer.pub" <<'PY'
import json, sys
path, listen, data, issuer = sys.argv[1:]
config = json.load(open(path))
assert config["listen"] == "0.0.0.0:48080" and config["dataDir"] == "/var/lib/lts", config
config.update(listen=listen, dataDir=data, trustedIssuers=[issuer])
json.dump(config, open(path, "w"), indent=2)
PY
done
echo "main $(url main), standby $(url standby)"

step "lts cluster init on the main"
on main "$work/main/usr/bin/lts" cluster init --config "$work/main/etc/lts/lts.json" --public-url "$(url main)" >"$work/init.out" ||
    fail "lts cluster init failed"
cat "$work/init.out"
token="$(tail -n 1 "$work/init.out")"
case "$token" in lts-join-1.*) ;; *) fail "the last line of lts cluster init is not a join token: $token" ;; esac
serve_as_lts main
wait_until "the main to answer" grep -q "listening on" "$work/main.log"

step "lts cluster join on the standby"
on standby "$work/standby/usr/bin/lts" cluster join "$token" --config "$work/standby/etc/lts/lts.json" --public-url "$(url standby)" ||
    fail "lts cluster join failed"
serve_as_lts standby
attached() {
    [ "$(field "$(health main)" role)" = primary ] && [ "$(field "$(health standby)" role)" = standby ] &&
        health standby | grep -q '"state":"attached"'
}
wait_until "an attached pair" attached
same_cluster() { local uuid; uuid="$(field "$(health main)" clusterUuid)"; [ -n "$uuid" ] && [ "$(field "$(health standby)" clusterUuid)" = "$uuid" ]; }
wait_until "one cluster UUID on both" same_cluster
cluster="$(field "$(health main)" clusterUuid)"
echo "attached; cluster UUID $cluster"

step "a license bound to the cluster UUID, on the main then on the standby after kill -9 of the main"
setup="$(cat "$work/main/var/lib/lts/setup-token")"
password="package pair check password"
call main POST "$(url main)api/admin/password" "{\"password\":\"$password\",\"setupToken\":\"$setup\"}" | grep -q passwordSet ||
    fail "setting the admin password on the main failed"
# import_license HOST NAME: mints a license bound to the cluster UUID and imports it on HOST.
import_license() {
    local host=$1 name=$2 session answer
    "$lts" license issue --key "$work/vendor/issuer.key" --org acme --bound-to "$cluster" --out "$work/$name.json" \
        --item "itemId=$name,product=dbr,chargeWay=scan,quantity=10,expires=2099-12-31" >/dev/null
    session="$(field "$(call "$host" POST "$(url "$host")api/admin/login" "{\"password\":\"$password\"}")" token)"
    [ -n "$session" ] || fail "no admin login on the $host"
    answer="$(call "$host" POST "$(url "$host")api/admin/licenses" "$(cat "$work/$name.json")" "$session")"
    [ -n "$(field "$answer" handshakeCode)" ] || fail "the $host refused a license bound to the cluster UUID: $answer"
    echo "imported on the $host: $name"
}
import_license main first
kill -9 "${pids[0]}"
is_primary() { [ "$(field "$(health "$1")" role)" = primary ]; }
wait_until "the standby to take over" is_primary standby
import_license standby second

echo "package pair check passed: two hosts paired by lts cluster init and join from $(basename "$deb")"
