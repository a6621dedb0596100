#!/usr/bin/env bash
# Installs the Debian packages named in $APT_PACKAGES that are missing, with
# sudo when not root. Prints nothing when all are present.
set -euo pipefail
missing=()
for package in ${APT_PACKAGES:?set APT_PACKAGES}; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing missing packages: ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
