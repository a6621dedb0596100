# shellcheck shell=bash
# Sourced by the test scripts that need PyPI packages (the portal, the
# OpenAPI checks, the JavaScript client's browser test).
#
# venv_python VENV IMPORTS PACKAGE...: makes the virtual environment VENV
# (under .build/) if it is missing, installs PACKAGEs there unless
# `import IMPORTS` already works in it, and prints its python.
venv_python() {
    local venv=$1 imports=$2
    shift 2
    if [ ! -x "$venv/bin/python" ]; then
        /usr/bin/python3 -m venv "$venv"
    fi
    "$venv/bin/python" -c "import $imports" 2>/dev/null ||
        "$venv/bin/pip" install --quiet --disable-pip-version-check "$@" >&2
    echo "$venv/bin/python"
}
