#!/usr/bin/env bash
# The Prometheus alert rules of deploy/prometheus: promtool checks their
# syntax, then runs their unit tests (lts-rules.test.yml) on made-up scrapes.
# That every metric they name is in a node's /dls/metrics is checked against
# a real pair by MetricsTests (testAPairReportsRolesTermsAndReplication).
set -euo pipefail
cd "$(dirname "$0")"
promtool check rules ../../deploy/prometheus/lts-rules.yml
promtool test rules lts-rules.test.yml
