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
# shellcheck source=../python-venv.sh
source tests/python-venv.sh
python=$(venv_python .build/openapi-venv "schemathesis, openapi_spec_validator" 'schemathesis>=4.32,<5' 'openapi-spec-validator>=0.7,<0.8')
"$python" tests/openapi/validate_spec.py docs/openapi.yaml Sources/ClusterNode
"$python" tests/openapi/live_test.py "$lts" docs/openapi.yaml
