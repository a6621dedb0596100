#!/usr/bin/env bash
# The portal in a real browser: headless Chromium driven by Selenium (PyPI),
# against a real `lts pair` started by the test, with an SMTP server from
# aiosmtpd (PyPI) for the alert emails. Called by `make test` after
# the Swift tests; screenshots go to .build/portal-screenshots/.
# Usage: tests/portal/run.sh [lts binary]   (default .build/debug/lts)
set -euo pipefail
cd "$(dirname "$0")/../.."
lts=$(realpath "${1:-.build/debug/lts}")
venv=.build/portal-venv
if [ ! -x "$venv/bin/python" ]; then
    /usr/bin/python3 -m venv "$venv"
fi
"$venv/bin/python" -c 'import selenium, aiosmtpd' 2>/dev/null || "$venv/bin/pip" install --quiet --disable-pip-version-check 'selenium>=4.20,<5' 'aiosmtpd>=1.4,<2'
shots=.build/portal-screenshots
rm -rf "$shots"
LTS_BINARY="$lts" LTS_SCREENSHOTS="$PWD/$shots" "$venv/bin/python" tests/portal/test_portal.py
