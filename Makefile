# lts: the two commands in the README (`make run`, `make test`) must work on a
# fresh Debian 12 machine with only Swift installed.

SWIFT ?= swift
# System packages lts builds and tests against (Debian 12 names).
APT_PACKAGES := pkg-config libuv1-dev libh2o-dev libssl-dev libsqlite3-dev libcurl4-openssl-dev curl
# What the tests use besides: iptables to cut a pair apart in network
# namespaces; Chromium, its WebDriver and Python (Selenium comes from PyPI into
# .build/portal-venv) for the portal in a real browser.
TEST_PACKAGES := iptables chromium chromium-driver python3 python3-venv
BENCH_PACKAGES := wrk

.PHONY: deps build run test bench bench-compare clean

## deps: install the missing Debian packages (with sudo when not root).
deps:
	@APT_PACKAGES="$(APT_PACKAGES)" deploy/install-packages.sh

## build: a release build of the lts binary.
build: deps
	$(SWIFT) build -c release --product lts

## run: build, then start the demo main + standby pair at https://127.0.0.1:48080/dls/
## and :48081 (data under lts-pair/; Ctrl-C stops both).
run: build
	.build/release/lts pair

## test: the whole test suite (unit, process and TLS tests), then the portal
## in headless Chromium (screenshots in .build/portal-screenshots/).
test: deps
	@APT_PACKAGES="$(TEST_PACKAGES)" deploy/install-packages.sh
	$(SWIFT) build --build-tests
	$(SWIFT) test --disable-swift-testing
	tests/portal/run.sh

## bench: benchmarks on a release build; they print their numbers.
bench: build
	@APT_PACKAGES="$(BENCH_PACKAGES)" deploy/install-packages.sh
	bench/http.sh
	bench/authorize.sh
	bench/failover.sh
	bench/memory.sh
	bench/alerts.sh

## bench-compare: the same quota workload on a PostgreSQL 15 primary + sync standby and on an lts pair.
bench-compare: build
	bench/compare.sh

clean:
	rm -rf .build lts-data lts-pair
