#!/usr/bin/env bash
# Makes .build/smtp-venv (a Python venv with aiosmtpd from PyPI, for the test
# SMTP server tests/smtp/smtp_server.py) unless it is already there, then
# prints the venv's python path. Safe to run from several test processes at
# once: the first one builds the venv under a lock, the others wait for it.
# Usage: tests/smtp/venv.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=.build/smtp-venv
mkdir -p .build
exec 9>.build/smtp-venv.lock
flock 9
if [ ! -x "$venv/bin/python" ]; then
    /usr/bin/python3 -m venv "$venv" >&2
fi
"$venv/bin/python" -c 'import aiosmtpd' 2>/dev/null ||
    "$venv/bin/pip" install --quiet --disable-pip-version-check 'aiosmtpd>=1.4,<2' >&2
echo "$PWD/$venv/bin/python"
