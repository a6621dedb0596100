#!/usr/bin/env bash
# The JavaScript client's tests: tsc --noEmit on its declarations, the Node
# tests (unit tests, calls against fake servers, and against real `lts pair`s
# with a kill -9 of the primary under load), and the browser test (headless
# Chromium via Selenium from .build/portal-venv, a page of another origin
# authorizing through a pair across a kill -9 of the primary). No npm package.
# Called by `make test`. Usage: clients/js/run-tests.sh [lts binary]
# (default .build/debug/lts)
set -euo pipefail
cd "$(dirname "$0")/../.."
lts=$(realpath "${1:-.build/debug/lts}")
tsc --noEmit -p clients/js
LTS_BINARY="$lts" node --test clients/js/tests/unit.test.mjs clients/js/tests/calls.test.mjs clients/js/tests/pair.test.mjs \
    clients/js/tests/conformance.test.mjs
# shellcheck source=../../tests/python-venv.sh
source tests/python-venv.sh
python=$(venv_python .build/portal-venv selenium 'selenium>=4.20,<5')
LTS_BINARY="$lts" PYTHONDONTWRITEBYTECODE=1 "$python" clients/js/tests/browser/test_browser.py
