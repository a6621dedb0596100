"""Schemathesis hooks for tests/openapi/live_test.py (loaded through SCHEMATHESIS_HOOKS).

Alert settings the fuzzer saves may name any mail server, and the node then
mails alerts (and test emails) there. Every generated server is pointed at
a local port where nothing listens (LTS_DEAD_SMTP_PORT), so no fuzzed host
name is looked up or connected to and a delivery fails at once.
"""

import os

import schemathesis

DEAD_PORT = int(os.environ["LTS_DEAD_SMTP_PORT"])


@schemathesis.hook
def map_case(context, case):
    if case.operation.path == "/api/admin/alerts/settings" and isinstance(case.body, dict) and isinstance(case.body.get("smtp"), dict):
        case.body["smtp"]["host"] = "127.0.0.1"
        case.body["smtp"]["port"] = DEAD_PORT
    return case
