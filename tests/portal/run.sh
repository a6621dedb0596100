#!/usr/bin/env bash
# The portal in a real browser: headless Chromium driven by Selenium (PyPI),
# against a real `lts pair` started by the test, with an SMTP server from
# aiosmtpd (PyPI) for the alert emails. Called by `make test` after
# the Swift tests; screenshots go to .build/portal-screenshots/.
# Usage: tests/portal/run.sh [lts binary]   (default .build/debug/lts)
set -euo pipefail
cd "$(dirname "$0")/../.."
lts=$(realpath "${1:-.build/debug/lts}")
# shellcheck source=../python-venv.sh
source tests/python-venv.sh
python=$(venv_python .build/portal-venv "selenium, aiosmtpd" 'selenium>=4.20,<5' 'aiosmtpd>=1.4,<2')
shots=.build/portal-screenshots
rm -rf "$shots"
LTS_BINARY="$lts" LTS_SCREENSHOTS="$PWD/$shots" "$python" tests/portal/test_portal.py
