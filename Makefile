# lts: the two commands in the README (`make run`, `make test`) must work on a
# fresh Debian 12 machine with only Swift installed.

SWIFT ?= swift
# System packages lts builds and tests against (Debian 12 names).
APT_PACKAGES := pkg-config libuv1-dev libh2o-dev libssl-dev libsqlite3-dev libcurl4-openssl-dev curl
BENCH_PACKAGES := wrk

.PHONY: deps build run test bench clean

## deps: install the missing Debian packages (with sudo when not root).
deps:
	@APT_PACKAGES="$(APT_PACKAGES)" deploy/install-packages.sh

## build: a release build of the lts binary.
build: deps
	$(SWIFT) build -c release --product lts

## run: build, then start a node at https://127.0.0.1:48080/dls/ (Ctrl-C stops it).
run: build
	.build/release/lts serve --config Config/demo.json

## test: the whole test suite (unit, process and TLS tests).
test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --disable-swift-testing

## bench: benchmarks on a release build; they print their numbers.
bench: build
	@APT_PACKAGES="$(BENCH_PACKAGES)" deploy/install-packages.sh
	bench/http.sh
	bench/authorize.sh

clean:
	rm -rf .build lts-data
