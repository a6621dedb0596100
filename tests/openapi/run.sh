#!/usr/bin/env bash
# docs/openapi.yaml against the node: the spec validates (openapi-spec-validator)
# and lists exactly the node's routes, then Schemathesis checks every answer of
# a real standalone node against it (see live_test.py: what runs, what is
# excluded and why). Both from PyPI, in .build/openapi-venv. Called by
# `make test` after the portal test; about a minute.
# Usage: tests/openapi/run.sh [lts binary]   (default .build/debug/lts)
set -euo pipefail
cd "$(dirname "$0")/../.."
lts=$(realpath "${1:-.build/debug/lts}")
venv=.build/openapi-venv
if [ ! -x "$venv/bin/python" ]; then
    /usr/bin/python3 -m venv "$venv"
fi
"$venv/bin/python" -c 'import schemathesis, openapi_spec_validator' 2>/dev/null \
    || "$venv/bin/pip" install --quiet --disable-pip-version-check 'schemathesis>=4.32,<5' 'openapi-spec-validator>=0.7,<0.8'
"$venv/bin/python" tests/openapi/validate_spec.py docs/openapi.yaml Sources/ClusterNode
"$venv/bin/python" tests/openapi/live_test.py "$lts" docs/openapi.yaml
