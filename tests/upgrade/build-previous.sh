#!/bin/sh
# Builds the lts of an earlier commit (default: UPGRADE_FROM in the Makefile)
# into .build-upgrade/lts, from a `git archive` of that commit in
# .build-upgrade/src, with its own scratch path (.build-upgrade/build, kept:
# a second run rebuilds only what changed). Prints the time it took.
set -eu
from=${1:?usage: build-previous.sh COMMIT}
root=$(cd "$(dirname "$0")/../.." && pwd)
out="$root/.build-upgrade"
start=$(date +%s)
rm -rf "$out/src"
mkdir -p "$out/src"
git -C "$root" archive "$from" | tar -x -C "$out/src"
(cd "$out/src" && ${SWIFT:-swift} build --product lts --scratch-path "$out/build")
cp "$out/build/debug/lts" "$out/lts"
echo "built lts of $(git -C "$root" rev-parse --short "$from") into $out/lts in $(( $(date +%s) - start )) s"
