#!/usr/bin/env bash
# The Python client's tests: unit tests, calls against local fake TLS
# servers, and against real `lts pair`s (the four calls, a standby's
# redirect, a kill -9 of the primary under load). Standard library only.
# Called by `make test`. Usage: clients/python/run-tests.sh [lts binary]
# (default .build/debug/lts)
set -euo pipefail
cd "$(dirname "$0")/../.."
lts=$(realpath "${1:-.build/debug/lts}")
PYTHONDONTWRITEBYTECODE=1 LTS_BINARY="$lts" /usr/bin/python3 -m unittest discover \
    --start-directory clients/python/tests --top-level-directory clients/python --verbose
