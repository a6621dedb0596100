#!/usr/bin/env bash
# Makes the Debian package and the tarball of lts from a release binary built
# with the Swift runtime linked in (make package builds it first):
#   deploy/package/build.sh SCRATCH
# SCRATCH is the swift build scratch path (.build-package); the binary and its
# resource bundle come from SCRATCH/release, and the package, the tarball and
# the staged trees go to SCRATCH/dist. Depends is computed from the libraries
# the binary links (dpkg-shlibdeps), so it names exactly their packages.
set -euo pipefail

scratch="$(cd "${1:?usage: deploy/package/build.sh SCRATCH}" && pwd)"
here="$(cd "$(dirname "$0")" && pwd)"
top="$(cd "$here/../.." && pwd)"
release="$scratch/release"
dist="$scratch/dist"

# The version lives in one place, the one `lts --version` prints.
version="$(sed -n 's/.*static let current = "\(.*\)"/\1/p' "$top/Sources/ClusterNode/Node/Version.swift")"
[ -n "$version" ] || { echo "no version found in Sources/ClusterNode/Node/Version.swift" >&2; exit 1; }
arch="$(dpkg --print-architecture)"
maintainer="$(git -C "$top" log -1 --format='%an <%ae>')"

for file in "$release/lts" "$release/lts_ClusterNode.resources/Portal/index.html"; do
    [ -e "$file" ] || { echo "$file is missing: build it first (make package)" >&2; exit 1; }
done
if ldd "$release/lts" | grep -q libswift; then
    echo "$release/lts links the Swift runtime dynamically: build it with --static-swift-stdlib" >&2
    exit 1
fi

# Files the package installs are readable by all, whatever the caller's umask.
umask 022
rm -rf "$dist"
mkdir -p "$dist"

# The Debian package. The binary sits in /usr/lib/lts beside its resource bundle (the portal),
# which the Swift runtime looks for next to the executable's real path;
# /usr/bin/lts links to it.
root="$dist/deb"
install -d "$root/usr/bin" "$root/usr/lib/lts" "$root/lib/systemd/system" "$root/usr/lib/sysusers.d" \
    "$root/etc/lts" "$root/usr/share/doc/lts/examples"
install -m 0755 "$release/lts" "$root/usr/lib/lts/lts"
# Without its debugging information (a fifth of its size); the symbol table
# stays, so a crash's backtrace still names functions.
strip --strip-debug "$root/usr/lib/lts/lts"
cp -R "$release/lts_ClusterNode.resources" "$root/usr/lib/lts/"
ln -s ../lib/lts/lts "$root/usr/bin/lts"
install -m 0644 "$top/deploy/systemd/lts.service" "$top/deploy/systemd/lts-witness.service" "$root/lib/systemd/system/"
install -m 0644 "$here/sysusers.conf" "$root/usr/lib/sysusers.d/lts.conf"
install -m 0644 "$here/lts.json" "$root/etc/lts/lts.json"
install -d -m 0700 "$root/var/lib/lts"
install -m 0644 "$top/README.md" "$root/usr/share/doc/lts/README.md"
install -m 0644 "$top"/Config/*.sample "$root/usr/share/doc/lts/examples/"
install -d "$root/DEBIAN"
install -m 0755 "$here/postinst" "$here/prerm" "$here/postrm" "$root/DEBIAN/"
install -m 0644 "$here/conffiles" "$root/DEBIAN/"
# dpkg-shlibdeps reads debian/control; a minimal one in a directory of its own.
shlibs="$dist/shlibdeps"
mkdir -p "$shlibs/debian"
printf 'Source: lts\n\nPackage: lts\nArchitecture: any\n' >"$shlibs/debian/control"
depends="$(cd "$shlibs" && dpkg-shlibdeps -O "$root/usr/lib/lts/lts" | sed -n 's/^shlibs:Depends=//p')"
[ -n "$depends" ] || { echo "dpkg-shlibdeps found no libraries in the binary" >&2; exit 1; }
size="$(du -sk --exclude=DEBIAN "$root" | cut -f1)"
sed -e "s|@VERSION@|$version|" -e "s|@ARCH@|$arch|" -e "s|@MAINTAINER@|$maintainer|" -e "s|@DEPENDS@|$depends|" \
    -e "s|@SIZE@|$size|" "$here/control" >"$root/DEBIAN/control"
deb="$dist/lts_${version}_${arch}.deb"
dpkg-deb --root-owner-group --build "$root" "$deb"

# The tarball, for other Linux systems: the same files in one directory, and
# INSTALL saying where each goes.
name="lts-$version-linux-$(uname -m)"
tree="$dist/$name"
install -d "$tree"
install -m 0755 "$root/usr/lib/lts/lts" "$tree/lts"
cp -R "$release/lts_ClusterNode.resources" "$tree/"
install -m 0644 "$top/deploy/systemd/lts.service" "$top/deploy/systemd/lts-witness.service" "$tree/"
install -m 0644 "$here/sysusers.conf" "$tree/sysusers-lts.conf"
install -m 0644 "$here/lts.json" "$top/README.md" "$top"/Config/*.sample "$tree/"
sed -e "s|@VERSION@|$version|" -e "s|@ARCH@|$arch|" -e "s|@DEPENDS@|$depends|" "$here/INSTALL" >"$tree/INSTALL"
tar -C "$dist" --owner=0 --group=0 --numeric-owner -czf "$dist/$name.tar.gz" "$name"

echo "package: $deb"
echo "tarball: $dist/$name.tar.gz"
