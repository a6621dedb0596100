# lts: the two commands in the README (`make run`, `make test`) must work on a
# fresh Debian 12 machine with only Swift installed.

SWIFT ?= swift
# System packages lts builds and tests against (Debian 12 names).
APT_PACKAGES := pkg-config libuv1-dev libh2o-dev libssl-dev libsqlite3-dev libcurl4-openssl-dev curl
# What the tests use besides: iptables to cut a pair apart in network
# namespaces; Chromium, its WebDriver and Python (Selenium comes from PyPI into
# .build/portal-venv) for the portal in a real browser; etcd for the etcd
# witness (the tests start their own on free ports; on a machine with
# systemd, Debian's package also starts its own service on port 2379); nginx
# in front of a node, as deploy/nginx/lts.conf puts it (the tests run their
# own as the test's user on a free port; Debian's service takes port 80);
# prometheus for promtool, which checks the alert rules offline (Debian's
# service takes port 9090, which no test uses); nodejs and node-typescript
# for the JavaScript client's tests and type check.
TEST_PACKAGES := iptables chromium chromium-driver python3 python3-venv etcd-server nginx-light prometheus nodejs node-typescript
BENCH_PACKAGES := wrk
# What `make package` needs besides: dpkg-shlibdeps (dpkg-dev, which brings
# strip) computes the package's dependencies; its check installs the package
# with dpkg and needs systemd-sysusers and systemd-analyze (systemd).
PACKAGE_PACKAGES := dpkg-dev
PACKAGE_CHECK_PACKAGES := systemd

.PHONY: deps build run test upgrade-check package package-check nemesis simulation attack fuzz sanitize sanitize-thread sanitize-address bench bench-compare clean

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

## test: the whole test suite (unit, process and TLS tests), the check that
## the client library links no server library, a short fuzzing run of every
## reader of outside bytes (see fuzz), then the portal in headless Chromium
## (screenshots in .build/portal-screenshots/).
test: deps
	@APT_PACKAGES="$(TEST_PACKAGES)" deploy/install-packages.sh
	$(SWIFT) build --build-tests
	$(SWIFT) test --disable-swift-testing
	tests/client-link/check.sh
	tests/fuzz/run.sh $(FUZZ_SECONDS_SHORT)
	tests/portal/run.sh
	tests/prometheus/check.sh
	tests/openapi/run.sh
	clients/python/run-tests.sh
	clients/js/run-tests.sh

## upgrade-check: a rolling upgrade under load from the lts of UPGRADE_FROM
## (the last commit before nodes stated their replication protocol) to this
## one: the earlier version is built into .build-upgrade/ (see
## tests/upgrade/build-previous.sh), then RollingUpgradeTests upgrades the
## standby, switches over and upgrades the old main.
UPGRADE_FROM ?= 15ea43d

upgrade-check: deps
	tests/upgrade/build-previous.sh $(UPGRADE_FROM)
	$(SWIFT) build --build-tests
	LTS_PREVIOUS_BINARY=$(CURDIR)/.build-upgrade/lts $(SWIFT) test --disable-swift-testing --skip-build --filter 'ProcessTests.RollingUpgradeTests'

## package: the Debian 12 package and a tarball for other Linux systems, in
## .build-package/dist/: a release build (scratch path .build-package) with
## the Swift runtime linked in, so the binary needs only Debian's libuv,
## libh2o, OpenSSL, SQLite and libcurl. See deploy/package/build.sh.
PACKAGE_SCRATCH := .build-package

package: deps
	@APT_PACKAGES="$(PACKAGE_PACKAGES)" deploy/install-packages.sh
	$(SWIFT) build -c release --static-swift-stdlib --product lts --scratch-path $(PACKAGE_SCRATCH)
	deploy/package/build.sh $(PACKAGE_SCRATCH)

## package-check: make package, then install the .deb into a throwaway root
## (dpkg --root) and check it there: the user and modes its postinst sets, no
## Swift library linked and no library Depends leaves out, --help and
## --version, a node started as lts from the installed configuration
## answering health and serving the installed portal, systemd-analyze verify
## of the installed units, a reinstall keeping an edited configuration, a
## purge keeping the data; then the tarball. Needs root (through sudo when not
## root). Then two sites from the package: two network namespaces, the .deb
## installed for each, lts cluster init and join forming an attached pair, a
## license bound to the cluster UUID imported before and after a kill -9 of
## the main (tests/package/pair.sh). `make test` leaves it out: its release
## build takes about 2½ minutes from a clean .build-package on two cores.
## See tests/package/check.sh.
package-check: package
	@APT_PACKAGES="$(PACKAGE_CHECK_PACKAGES)" deploy/install-packages.sh
	tests/package/check.sh $(PACKAGE_SCRATCH)/dist
	tests/package/pair.sh $(PACKAGE_SCRATCH)/dist

## nemesis: the real-process fault suite (needs root: network
## namespaces and iptables) for MINUTES minutes of random fault runs on a
## debug build (`make test` runs each fault kind once). It prints its seed
## (LTS_NEMESIS_SEED=S replays the sequence; LTS_NEMESIS_KINDS=a,b keeps
## some kinds), a line per run and a table per fault kind; it fails on any
## violation and keeps the logs and data of each failing run (paths printed).
## WITNESS=1 gives the pair a witness: its own faults run too (cut from
## either node, either node isolated, the witness killed and restarted), and
## a grant acknowledged in an old term after a later one began is a violation.
MINUTES ?= 10
WITNESS ?= 0

nemesis: deps
	@APT_PACKAGES="iptables" deploy/install-packages.sh
	$(SWIFT) build --build-tests
	LTS_NEMESIS_MINUTES=$(MINUTES) LTS_NEMESIS_WITNESS=$(WITNESS) $(SWIFT) test --disable-swift-testing --skip-build --filter 'ProcessTests.NemesisTests'

## simulation: the deterministic simulation of the replication shell,
## SEEDS seeds of each mode (default 500,000: a million in all) from seed
## index FIRST, both modes side by side. Built for speed (release with
## -enable-testing, in .build-sim): the simulation's checks are
## preconditions, which a release build keeps, and a seed runs about five
## times faster than in the debug build `make test` runs (5,000 per mode).
SEEDS ?= 500000
FIRST ?= 0

simulation: deps
	$(SWIFT) build -c release --build-tests -Xswiftc -enable-testing --scratch-path .build-sim
	tests/simulation/run.sh .build-sim/release/ltsPackageTests.xctest $(SEEDS) $(FIRST)

## fuzz: coverage-guided fuzzing (libFuzzer with the address sanitizer, built
## in .build-fuzz) of every reader of outside bytes: license files, client
## call bodies, configuration files, the replication stream's frames and
## messages, snapshots, log records and HTTP/1 responses, FUZZ_SECONDS each
## (default 600), from the seeds kept in fuzz/corpus/. `make test` runs each
## for FUZZ_SECONDS_SHORT. See tests/fuzz/run.sh.
FUZZ_SECONDS ?= 600
FUZZ_SECONDS_SHORT ?= 10

fuzz: deps
	tests/fuzz/run.sh $(FUZZ_SECONDS)

## attack: the tests of what an outsider can try (issue 17's findings):
## the resource attacks (tests/attack/ against real nodes) at ten times their
## `make test` size: 10,000 aborted 1 MiB uploads, 4,000 idle connections,
## 200,000 reset HTTP/2 streams, and a 60 s login flood from 100 addresses
## during which authorize's p99 must stay within 50 ms; then, as in `make
## test`, replication slots, session-password guessing, first password and
## account rules, request framing and TLS, file modes and certificate renewal.
ATTACK_SCALE ?= 10

attack: deps
	@APT_PACKAGES="$(TEST_PACKAGES)" deploy/install-packages.sh
	$(SWIFT) build --build-tests
	LTS_ATTACK_SCALE=$(ATTACK_SCALE) $(SWIFT) test --disable-swift-testing --skip-build \
	  --filter 'ProcessTests.(AttackTests|LoginFloodTests|ReplicationSlotsTests|HandshakeAPITests|AdminAuthTests|NodeProcessTests|PairCommandTests|CertificateRenewalTests)'

## sanitize: the test suite under ThreadSanitizer, then AddressSanitizer.
## Each sanitizer builds in its own scratch path (.build-tsan, .build-asan),
## so .build stays as it was. The process tests start the `lts` built next to
## the test bundle, so the nodes, `lts pair` and `lts drill` they spawn run
## sanitized too. Every process writes its reports under the scratch path
## (log_path) and the run fails on any report: a race in a spawned node
## counts as much as one in the test process. Other runtime output there is
## printed but not counted (a sanitizer's own "CHECK failed" is about the
## runtime, not the code).
## Skipped: SimulationTests, the deterministic simulation of 10,000 seeds on
## one thread, where no thread shares anything; it alone takes over three
## minutes under ThreadSanitizer. The portal's browser tests (make test) check
## the pages, not the Swift code, and are not run.
## AddressSanitizer runs without leak detection: LeakSanitizer reports every
## Swift weak-reference side table (reachable only through tagged refcount
## bits it cannot follow) and all that hangs from one. What it checks is heap
## misuse: use after free, overflows, double frees.
SANITIZE_SKIP := SimulationTests

sanitize: deps
	@APT_PACKAGES="$(TEST_PACKAGES)" deploy/install-packages.sh
	$(MAKE) --no-print-directory sanitize-thread
	$(MAKE) --no-print-directory sanitize-address

# A Swift process that traps starts swift-backtrace with posix_spawn, which
# ThreadSanitizer's clone interceptor breaks ("CHECK failed" in the child):
# the backtracer hangs and so does the test waiting for the process. Without
# it a trap ends the process at once, with its "Fatal error" line.
NO_BACKTRACER := SWIFT_BACKTRACE=enable=no

sanitize-thread: SCRATCH := .build-tsan
sanitize-thread: SANITIZER_OPTIONS := TSAN_OPTIONS=log_path=$(CURDIR)/.build-tsan/sanitizer-reports/report $(NO_BACKTRACER)
sanitize-address: SCRATCH := .build-asan
sanitize-address: SANITIZER_OPTIONS := ASAN_OPTIONS=detect_leaks=0:log_path=$(CURDIR)/.build-asan/sanitizer-reports/report $(NO_BACKTRACER)

sanitize-thread sanitize-address: sanitize-%:
	$(SWIFT) build --build-tests --sanitize=$* --scratch-path $(SCRATCH)
	rm -rf $(SCRATCH)/sanitizer-reports && mkdir -p $(SCRATCH)/sanitizer-reports
	$(SANITIZER_OPTIONS) $(SWIFT) test --sanitize=$* --scratch-path $(SCRATCH) --disable-swift-testing --skip-build \
		--skip '$(SANITIZE_SKIP)'; status=$$?; \
	for report in $(SCRATCH)/sanitizer-reports/report.*; do \
		[ -e "$$report" ] || continue; cat "$$report"; \
		grep -Eq '^(WARNING: ThreadSanitizer|==[0-9]+==ERROR: [A-Za-z]+Sanitizer)' "$$report" && status=1; \
	done; \
	[ $$status -eq 0 ] && echo "sanitize-$*: no reports, all tests passed"; exit $$status

## bench: benchmarks on a release build; they print their numbers.
bench: build
	@APT_PACKAGES="$(BENCH_PACKAGES)" deploy/install-packages.sh
	bench/http.sh
	bench/authorize.sh
	bench/pair.sh
	bench/requests.sh 1
	bench/failover.sh
	bench/memory.sh
	bench/alerts.sh

## bench-compare: the same quota workload on a PostgreSQL 15 primary + sync standby and on an lts pair.
bench-compare: build
	bench/compare.sh

clean:
	rm -rf .build .build-tsan .build-asan .build-package .build-upgrade lts-data lts-pair
