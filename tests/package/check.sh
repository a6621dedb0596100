#!/usr/bin/env bash
# Checks what `make package` made (make package-check runs it):
#   tests/package/check.sh DIST        (DIST: .build-package/dist)
#
# The .deb is installed with dpkg into a throwaway root (dpkg --root), its
# maintainer scripts run without chroot (--force-script-chrootless, which sets
# DPKG_ROOT for them): the root gets the user lts from the packaged
# sysusers.d entry, the data directory and the configuration their owner and
# modes. The root holds no libraries (--force-depends): the installed binary
# runs on this machine's, and the check compares each library it links with
# the package's Depends. Then, from the root: no Swift library linked, --help
# and --version answer, a node started as the user lts from the installed
# configuration (its port and data directory moved into the root) answers
# health over HTTPS and serves the installed portal, and systemd-analyze
# verifies the installed units against the root (--root). A reinstall keeps
# an edited configuration; a purge removes the binary and keeps the data and
# the user. Last, the tarball holds what INSTALL names and its binary runs.
# Every step stops the check with a message naming what failed.
#
# A root of its own keeps this machine's users, systemd and dpkg database as
# they were, and works where lts is installed or running. What it leaves
# unrun are the maintainer scripts' branches for the machine's own root:
# the owner given by name, adduser where systemd-sysusers is missing, and
# the systemctl calls.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

dist="$(cd "${1:?usage: tests/package/check.sh DIST}" && pwd)"
as_root "$0" "$dist"

fail() { echo "package check FAILED: $*" >&2; exit 1; }
step() { echo "== $*"; }

deb="$(package_deb "$dist")"
version="$(dpkg-deb -f "$deb" Version)"

work="$(mktemp -d /tmp/lts-package-check.XXXXXX)"
# The node runs as the user lts, which must reach the root inside.
chmod 0755 "$work"
root="$work/root"
node_pid=""
cleanup() {
    if [ -n "$node_pid" ]; then kill "$node_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

step "install $(basename "$deb") into a throwaway root"
install_into "$root" "$deb" "$work/dpkg.log"
dpkg-query --root="$root" -W -f='${Status}' lts | grep -qx "install ok installed" || fail "dpkg does not list lts as installed"
dpkg-query --root="$root" -W -f='${Conffiles}' lts | grep -q "^ /etc/lts/lts.json " || fail "/etc/lts/lts.json is not a conffile"
for file in usr/bin/lts usr/lib/lts/lts_ClusterNode.resources/Portal/index.html lib/systemd/system/lts.service \
    lib/systemd/system/lts-witness.service usr/lib/sysusers.d/lts.conf etc/lts/lts.json; do
    [ -e "$root/$file" ] || fail "/$file is not installed"
done
[ -x "$root/usr/bin/lts" ] || fail "/usr/bin/lts is not executable"
echo "installed: $(dpkg-query --root="$root" -W -f='${Package} ${Version}' lts)"

step "the user lts and the modes the maintainer script set"
uid="$(awk -F: '$1 == "lts" { print $3 }' "$root/etc/passwd")"
gid="$(awk -F: '$1 == "lts" { print $3 }' "$root/etc/group")"
[ -n "$uid" ] && [ -n "$gid" ] || fail "the postinst made no user or group lts in the root's /etc/passwd and /etc/group"
[ "$uid" -lt 1000 ] || fail "lts has uid $uid, not a system user's"
[ "$(stat -c '%a %u:%g' "$root/var/lib/lts")" = "700 $uid:$gid" ] ||
    fail "/var/lib/lts is $(stat -c '%a %u:%g' "$root/var/lib/lts"), not 700 lts:lts ($uid:$gid)"
[ "$(stat -c '%a %u:%g' "$root/etc/lts/lts.json")" = "640 0:$gid" ] ||
    fail "/etc/lts/lts.json is $(stat -c '%a %u:%g' "$root/etc/lts/lts.json"), not 640 root:lts"
[ "$(stat -c '%a %u:%g' "$root/etc/lts")" = "2770 0:$gid" ] ||
    fail "/etc/lts is $(stat -c '%a %u:%g' "$root/etc/lts"), not 2770 root:lts (a main rewrites its lts.json when a standby joins)"
echo "lts: uid $uid, gid $gid; /var/lib/lts 700 lts:lts; /etc/lts 2770 root:lts; /etc/lts/lts.json 640 root:lts"

step "the libraries the binary links"
binary="$root/usr/bin/lts"
ldd "$binary" >"$work/ldd" 2>&1 || { cat "$work/ldd" >&2; fail "ldd cannot read $binary"; }
if grep -i swift "$work/ldd"; then fail "$binary links a Swift library"; fi
if grep "not found" "$work/ldd"; then fail "$binary links a library this machine lacks"; fi
depends="$(dpkg-deb -f "$deb" Depends)"
# The package holding a library as ldd shows it: Debian 12 registers some
# under /lib, some under /usr/lib (its /lib links there), some by their
# versioned file name.
owner() {
    local dir candidate
    dir="$(realpath "$(dirname "$1")")"
    for candidate in "$1" "$dir/$(basename "$1")" "$(realpath "$1")"; do
        dpkg -S "$candidate" 2>/dev/null | head -n 1 | cut -d: -f1 | grep . && return 0
    done
    return 1
}
for soname in $(readelf -d "$binary" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
    path="$(awk -v name="$soname" '$1 == name && $2 == "=>" { print $3 }
        substr($1, length($1) - length(name)) == "/" name { print $1 }' "$work/ldd" | head -n 1)"
    [ -n "$path" ] || fail "ldd does not show where $soname comes from"
    package="$(owner "$path")" || fail "no package holds $path ($soname)"
    case ", $depends," in
    *", $package "* | *", $package,"*) echo "$soname: $package" ;;
    *) fail "$soname comes from $package, which Depends does not name: $depends" ;;
    esac
done

step "lts --help and --version"
"$binary" --help >"$work/help" 2>&1 || { cat "$work/help" >&2; fail "lts --help exited non-zero"; }
grep -q "serve" "$work/help" || fail "lts --help does not mention serve"
[ "$("$binary" --version)" = "$version" ] || fail "lts --version prints $("$binary" --version), the package is $version"
echo "lts --version: $version"

step "a node from the installed configuration, as the user lts"
port=""
for candidate in $(shuf -i 20000-60000 -n 20); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then port="$candidate"; break; fi
done
[ -n "$port" ] || fail "found no free port"
config="$root/etc/lts/check.json"
sed -e "s|\"listen\": \"0.0.0.0:48080\"|\"listen\": \"127.0.0.1:$port\"|" \
    -e "s|\"dataDir\": \"/var/lib/lts\"|\"dataDir\": \"$root/var/lib/lts\"|" "$root/etc/lts/lts.json" >"$config"
grep -q "127.0.0.1:$port" "$config" && grep -q "\"$root/var/lib/lts\"" "$config" ||
    fail "the installed lts.json has no \"listen\": \"0.0.0.0:48080\" or \"dataDir\": \"/var/lib/lts\" to move into the root"
chgrp "$gid" "$config"
chmod 0640 "$config"
# A line only the installed copy of the portal has: the node must serve it,
# not the copy the Swift runtime would fall back to in the build directory.
marker="/* installed by the package check */"
echo "$marker" >>"$root/usr/lib/lts/lts_ClusterNode.resources/Portal/app.js"
setpriv --reuid="$uid" --regid="$gid" --clear-groups "$binary" serve --config "$config" >"$work/node.log" 2>&1 &
node_pid=$!
health=""
for _ in $(seq 1 60); do
    kill -0 "$node_pid" 2>/dev/null || { cat "$work/node.log" >&2; node_pid=""; fail "lts serve exited before answering"; }
    health="$(curl -ksf "https://127.0.0.1:$port/dls/api/health")" && break
    sleep 0.5
done
[ -n "$health" ] || { cat "$work/node.log" >&2; fail "no answer from https://127.0.0.1:$port/dls/api/health within 30 s"; }
echo "health: $health"
grep -q '"role":"standalone"' <<<"$health" || fail "health does not say role standalone"
grep -qF "\"version\":\"$version\"" <<<"$health" || fail "health does not say version $version"
curl -ksf "https://127.0.0.1:$port/dls/page/app.js" | grep -qF "$marker" ||
    fail "the portal served is not the installed one (/usr/lib/lts/lts_ClusterNode.resources)"
echo "portal: served from the installed bundle"
if find "$root/var/lib/lts" ! -user "$uid" | grep .; then fail "files in the data directory not owned by lts (above)"; fi
[ -n "$(ls -A "$root/var/lib/lts")" ] || fail "the node wrote nothing to its data directory"
kill -TERM "$node_pid"
status=0
wait "$node_pid" || status=$?
node_pid=""
[ "$status" -eq 0 ] || { cat "$work/node.log" >&2; fail "lts serve exited with $status on SIGTERM"; }
echo "stopped on SIGTERM, exit 0"

step "systemd-analyze verify the installed units"
# verify loads what a unit refers to (sysinit.target, network-online.target,
# ...) from the root, which has none: it gets this machine's targets, as a
# machine with systemd (the package depends on it) has them. The command a
# unit runs is looked up in the root too. verify warns on stderr and still
# exits 0 on a bad setting: any output fails the check.
cp -a /lib/systemd/system/*.target "$root/lib/systemd/system/"
for unit in lts.service lts-witness.service; do
    if ! systemd-analyze verify --man=no --root="$root" "$root/lib/systemd/system/$unit" >"$work/verify" 2>&1 ||
        [ -s "$work/verify" ]; then
        cat "$work/verify" >&2
        fail "systemd-analyze verify finds fault with the installed $unit"
    fi
    echo "$unit: verified"
done

step "reinstall, remove and purge"
sed -i "s|\"listen\": \"0.0.0.0:48080\"|\"listen\": \"0.0.0.0:48081\"|" "$root/etc/lts/lts.json"
dpkg --root="$root" --force-depends --force-script-chrootless -i "$deb" >"$work/dpkg.log" 2>&1 ||
    { cat "$work/dpkg.log" >&2; fail "dpkg could not install the package again"; }
grep -q '"0.0.0.0:48081"' "$root/etc/lts/lts.json" || fail "reinstalling replaced the edited /etc/lts/lts.json"
[ "$(stat -c '%a %u:%g' "$root/etc/lts/lts.json")" = "640 0:$gid" ] || fail "reinstalling changed the mode of /etc/lts/lts.json"
dpkg --root="$root" --force-depends --force-script-chrootless --purge lts >"$work/dpkg.log" 2>&1 ||
    { cat "$work/dpkg.log" >&2; fail "dpkg could not purge the package"; }
[ ! -e "$root/usr/lib/lts/lts" ] && [ ! -L "$root/usr/bin/lts" ] || fail "purging left the binary"
[ ! -e "$root/etc/lts/lts.json" ] || fail "purging left /etc/lts/lts.json"
[ -n "$(ls -A "$root/var/lib/lts")" ] || fail "purging removed the node's data"
grep -q "^lts:" "$root/etc/passwd" || fail "purging removed the user lts"
echo "reinstall kept the edited configuration; purge removed the binary and kept /var/lib/lts and the user"

step "the tarball"
tarballs=("$dist"/lts-"$version"-linux-*.tar.gz)
[ ${#tarballs[@]} -eq 1 ] && [ -f "${tarballs[0]}" ] || fail "expected one lts-$version-linux-*.tar.gz in $dist"
mkdir "$work/tar"
tar -C "$work/tar" -xzf "${tarballs[0]}"
tree="$(basename "${tarballs[0]}" .tar.gz)"
for file in INSTALL lts lts_ClusterNode.resources/Portal/index.html lts.service lts-witness.service sysusers-lts.conf \
    lts.json README.md; do
    [ -e "$work/tar/$tree/$file" ] || fail "the tarball has no $tree/$file"
done
[ "$("$work/tar/$tree/lts" --version)" = "$version" ] || fail "the tarball's lts --version is not $version"
echo "$(basename "${tarballs[0]}"): complete, lts --version $version"

echo "package check passed: $(basename "$deb")"
