#!/usr/bin/env bash
# The LicenseClient library, which customers embed, links neither libh2o,
# libuv nor SQLite: builds a program that uses only it and checks ldd.
set -euo pipefail
cd "$(dirname "$0")"
swift build --scratch-path ../../.build-client-link
binary=../../.build-client-link/debug/client-link-probe
"$binary" >/dev/null
linked=$(ldd "$binary")
if grep -Ei 'libh2o|libuv|libsqlite' <<<"$linked"; then
    echo "client-link: FAILED: LicenseClient links a server library (above)"
    exit 1
fi
echo "client-link: LicenseClient links $(grep -Eo 'lib(ssl|crypto|curl)\.so[^ ]*' <<<"$linked" | sort -u | tr '\n' ' ')and no libh2o, libuv or SQLite"
