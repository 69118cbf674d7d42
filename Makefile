# Quick start: `make run` (serve on the embedded default) and `make test` (everything CTest runs).
# Both install what they need with apt-get on a fresh Debian 12 machine (run as root).
SHELL := /bin/bash
PRESET ?= release
BUILD_DIR := build/$(PRESET)
JOBS ?= $(shell nproc)

RUN_PACKAGES := g++ cmake ninja-build pkg-config libsqlite3-dev libboost-dev nlohmann-json3-dev \
                libfmt-dev libspdlog-dev libcli11-dev libpq-dev libssl-dev libhiredis-dev librdkafka-dev \
                libjemalloc-dev
# chromium: the console's browser test (console/e2e), driven by playwright-core from npm.
# python3-venv: the OpenAPI tests' packages from PyPI (tests/openapi, OPENAPI_VENV below).
TEST_BUILD_PACKAGES := libgtest-dev libgmock-dev libbenchmark-dev clang-format
TEST_PACKAGES := $(RUN_PACKAGES) $(TEST_BUILD_PACKAGES) sqlite3 curl \
                postgresql redis-server prometheus chromium iproute2 python3-venv

.PHONY: all deps deps-test build run test test-unit test-sanitize bench bench-postgres bench-kafka bench-relay format format-check clean

all: build

# Installs only what is missing, so a machine that has everything never touches the network.
define apt_install
	@missing=$$(for p in $(1); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi
endef

deps:
	$(call apt_install,$(RUN_PACKAGES))
	$(MAKE) --no-print-directory console-deps

# The operations console (console/, docs/console.md) is TypeScript built with npm packages pinned
# by console/package-lock.json: Node.js and npm from Debian when there are none yet, then `npm ci`
# whenever the lock file changed. The build (console/CMakeLists.txt) only type-checks and bundles.
CONSOLE_STAMP := console/node_modules/.package-lock.json
.PHONY: console-deps console-screenshots
console-deps: $(CONSOLE_STAMP)
$(CONSOLE_STAMP): console/package.json console/package-lock.json
	$(call npm_ci,console)
# `npm ci` in a folder, with Node.js and npm from Debian first when the machine has none.
define npm_ci
	@if ! command -v npm >/dev/null; then $(MAKE) --no-print-directory deps-node; fi
	cd $(1) && npm ci --no-audit --no-fund --loglevel=error
endef
.PHONY: deps-node
deps-node:
	$(call apt_install,nodejs npm)

# Runs the console's browser test with its screenshots written into docs/console/.
console-screenshots: deps-test
	cmake --preset $(PRESET) -DORDINAL_BUILD_TESTS=ON >/dev/null
	cmake --build --preset $(PRESET) -j $(JOBS) --target ordinal console
	node console/e2e/console_e2e.mjs $(BUILD_DIR)/ordinal docs/console

deps-test:
	$(call apt_install,$(TEST_PACKAGES) $(FUZZ_PACKAGES))
	$(MAKE) --no-print-directory console-deps
	@if ! command -v java >/dev/null || ! command -v mvn >/dev/null; then \
	  $(MAKE) --no-print-directory deps-java; fi
	$(MAKE) --no-print-directory $(KAFKA_CLASS_ARCHIVE)
	$(MAKE) --no-print-directory $(OPENAPI_VENV_STAMP)

# The OpenAPI tests (tests/openapi, CTest label openapi): schemathesis and openapi-core from PyPI,
# pinned by tests/openapi/requirements.txt, in a venv of their own; reinstalled whenever the
# requirements change. The CTest tests run build/openapi-venv/bin/python.
OPENAPI_VENV := build/openapi-venv
OPENAPI_VENV_STAMP := $(OPENAPI_VENV)/.requirements
$(OPENAPI_VENV_STAMP): tests/openapi/requirements.txt
	rm -rf $(OPENAPI_VENV)
	python3 -m venv $(OPENAPI_VENV)
	$(OPENAPI_VENV)/bin/pip install -q --disable-pip-version-check -r tests/openapi/requirements.txt
	cp tests/openapi/requirements.txt $@

# The Kafka tier runs Apache Kafka itself (tests/scripts/kafka_test_server.sh): a JRE and Maven
# from Debian when there is no java or mvn yet, then the jars tools/kafka-broker/pom.xml pins,
# fetched from Maven Central once into ~/.m2. The classpath file is what the script runs.
KAFKA_CLASSPATH := build/kafka-broker/classpath
.PHONY: deps-java
deps-java:
	$(call apt_install,default-jre-headless maven)

$(KAFKA_CLASSPATH): tools/kafka-broker/pom.xml
	mkdir -p $(dir $@)
	mvn -q -B -Dstyle.color=never -f tools/kafka-broker/pom.xml dependency:build-classpath -Dmdep.outputFile=$(CURDIR)/$@
	@touch $@  # Maven leaves an unchanged file as it was: without this, every run would resolve again

# The broker's classes parsed and verified once (AppCDS): every test broker maps them and starts in
# half the time and CPU (tests/scripts/kafka_test_server.sh, docs/profiles.md).
KAFKA_CLASS_ARCHIVE := build/kafka-broker/classes.jsa
$(KAFKA_CLASS_ARCHIVE): $(KAFKA_CLASSPATH)
	bash tests/scripts/kafka_test_server.sh archive $@

build: deps
	cmake --preset $(PRESET) >/dev/null
	cmake --build --preset $(PRESET) -j $(JOBS)

run: deps
	cmake --preset release -DORDINAL_BUILD_TESTS=OFF -DORDINAL_BUILD_BENCH=OFF >/dev/null
	cmake --build --preset release -j $(JOBS) --target ordinal console
	./build/release/ordinal serve $(ARGS)

test: deps-build-test format-check
	@# On a fresh machine what only the tests run (PostgreSQL, Redis, Chromium, clang, the Kafka
	@# jars, schemathesis) downloads and installs while the build compiles: the one waits on the
	@# network, the other uses the cores.
	$(MAKE) --no-print-directory -j 2 test-build deps-test
	@# CTest starts the longest tests first once it knows their times, which a fresh clone does not:
	@# without them the minute-long tests (numbered last) started last and ran alone at each tier's
	@# end. tests/ctest_costs.txt seeds CTest's own record (name, runs, seconds) with measured times.
	@mkdir -p $(BUILD_DIR)/Testing/Temporary
	@[ -s $(BUILD_DIR)/Testing/Temporary/CTestCostData.txt ] || \
	  cp tests/ctest_costs.txt $(BUILD_DIR)/Testing/Temporary/CTestCostData.txt
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j 3 --timeout 900 -LE 'kafka|faults|partition'
	# The Kafka tier mostly waits (process starts, consumer-group joins), so it runs wider; one
	# Apache Kafka broker (the CTest fixture `kafka`) serves all of it, a topic per test.
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j 6 --timeout 900 -L kafka
	# The fault campaign loads the machine itself: on its own, two scenarios at a time.
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j 2 --timeout 900 -L faults
	# Partitions (tests/partition): test hosts in network namespaces, links cut under load; as
	# root (CI is). Two scenarios at a time: they mostly wait out timeouts and leases, and each
	# has namespaces and a /24 of its own.
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j 2 --timeout 900 -L partition
	# Last, on cores nothing else uses any more: two fuzz targets at a time, each for 15 s.
	$(MAKE) --no-print-directory fuzz-smoke FUZZ_SMOKE_SECONDS=15 FUZZ_JOBS=2

.PHONY: deps-build-test test-build
# What compiling the tests needs; deps-test adds what running them needs.
deps-build-test:
	$(call apt_install,$(RUN_PACKAGES) $(TEST_BUILD_PACKAGES))
	$(MAKE) --no-print-directory console-deps

test-build:
	cmake --preset $(PRESET) -DORDINAL_BUILD_TESTS=ON >/dev/null
	cmake --build --preset $(PRESET) -j $(JOBS)

test-unit: deps-test
	$(MAKE) --no-print-directory test-build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -L unit

# Every tier but the load-heavy fault and partition campaigns under ASan+UBSan, then under TSan;
# the pg, redis and kafka tiers start their servers through their CTest fixtures, as in make test.
# ASan's and TSan's reports go to files, so that one from a process a test started (the ordinal
# binary under test, whose stderr goes to a log in a temp dir) fails the target even where the
# test did not notice that child die; UBSan aborts the process it finds UB in.
SANITIZE_TIERS := unit|contract|http|crash|pg|redis
SANITIZER_REPORTS := $(CURDIR)/build/sanitizer-reports
SHOW_SANITIZER_REPORTS := if ls $(SANITIZER_REPORTS)/* >/dev/null 2>&1; then \
  cat $(SANITIZER_REPORTS)/*; echo "sanitizer reports above: $(SANITIZER_REPORTS)"; exit 1; fi
# $(call sanitized_ctest,OPTIONS,BUILD_DIR,CTEST_ARGS): fails on a failed test or a report file.
sanitized_ctest = $(1) ctest --test-dir $(2) --output-on-failure --timeout 900 $(3) || \
  { $(SHOW_SANITIZER_REPORTS); exit 1; }; $(SHOW_SANITIZER_REPORTS)
ASAN_OPTS := ASAN_OPTIONS=log_path=$(SANITIZER_REPORTS)/asan
TSAN_OPTS := TSAN_OPTIONS="halt_on_error=1 log_path=$(SANITIZER_REPORTS)/tsan"
test-sanitize: deps-test
	rm -rf $(SANITIZER_REPORTS) && mkdir -p $(SANITIZER_REPORTS)
	cmake --preset debug >/dev/null
	cmake --build --preset debug -j $(JOBS)
	$(call sanitized_ctest,$(ASAN_OPTS),build/debug,-j 3 -L '$(SANITIZE_TIERS)')
	$(call sanitized_ctest,$(ASAN_OPTS),build/debug,-j 6 -L kafka)
	cmake --preset tsan >/dev/null
	cmake --build --preset tsan -j $(JOBS)
	$(call sanitized_ctest,$(TSAN_OPTS),build/tsan,-j 3 -L '$(SANITIZE_TIERS)')
	$(call sanitized_ctest,$(TSAN_OPTS),build/tsan,-j 6 -L kafka)

bench: deps-test
	$(call apt_install,jq)
	cmake --preset release -DORDINAL_BUILD_TESTS=OFF -DORDINAL_BUILD_BENCH=ON >/dev/null
	cmake --build --preset release -j $(JOBS)
	bash bench/run_embedded.sh build/release

# The PostgreSQL profile against pgbench running the same transaction (bench/run_postgres.sh):
# a throwaway durable cluster, the server and the load on this machine.
bench-postgres: deps-test
	$(call apt_install,jq)
	cmake --preset release -DORDINAL_BUILD_TESTS=OFF -DORDINAL_BUILD_BENCH=ON >/dev/null
	cmake --build --preset release -j $(JOBS) --target ordinal loadgen
	bash bench/run_postgres.sh build/release

# Ordinal next to a plain Node.js implementation of the same pipeline (bench/node-reference, its
# node-postgres pinned by package-lock.json) on one throwaway durable PostgreSQL, same run, same
# workload (bench/run_node_reference.sh).
NODE_REF_STAMP := bench/node-reference/node_modules/.package-lock.json
$(NODE_REF_STAMP): bench/node-reference/package.json bench/node-reference/package-lock.json
	$(call npm_ci,bench/node-reference)

.PHONY: bench-node
bench-node: deps-test $(NODE_REF_STAMP)
	$(call apt_install,jq)
	cmake --preset release -DORDINAL_BUILD_TESTS=OFF -DORDINAL_BUILD_BENCH=ON >/dev/null
	cmake --build --preset release -j $(JOBS) --target ordinal loadgen
	bash bench/run_node_reference.sh build/release

# `ordinal verify` on 20k- and 100k-event stores, SQLite and PostgreSQL (bench/run_verify.sh).
.PHONY: bench-verify
bench-verify: deps-test
	$(call apt_install,jq)
	cmake --preset release -DORDINAL_BUILD_BENCH=ON >/dev/null
	cmake --build --preset release -j $(JOBS) --target ordinal loadgen
	PG=1 bash bench/run_verify.sh build/release

# The Kafka bus (a throwaway Apache Kafka 3.7.2 cluster, tests/scripts/kafka_test_server.sh) next
# to the in-process bus on a throwaway durable PostgreSQL (bench/run_kafka.sh): max rate,
# projection lag at 100/s, 1000/s and half the max rate, relay events/s next to Kafka's
# kafka-producer-perf-test on the same cluster.
.PHONY: bench-kafka
bench-kafka: deps-test
	$(call apt_install,jq)
	cmake --preset release -DORDINAL_BUILD_TESTS=OFF -DORDINAL_BUILD_BENCH=ON >/dev/null
	cmake --build --preset release -j $(JOBS) --target ordinal loadgen
	bash bench/run_kafka.sh build/release

# The relay draining one outbox backlog into a throwaway Kafka broker, next to its limits in the
# same run: kafka-producer-perf-test, a bare librdkafka producer (bench/kafka_raw) and the relay's
# own fetch and mark statements straight against PostgreSQL (bench/run_relay.sh).
.PHONY: bench-relay
bench-relay: deps-test
	$(call apt_install,jq)
	cmake --preset release -DORDINAL_BUILD_TESTS=OFF -DORDINAL_BUILD_BENCH=ON >/dev/null
	cmake --build --preset release -j $(JOBS) --target ordinal loadgen kafka_raw
	bash bench/run_relay.sh "release|build/release"

.PHONY: bench-retry
bench-retry: deps-test
	$(call apt_install,jq)
	cmake --preset release -DORDINAL_BUILD_BENCH=ON >/dev/null
	cmake --build --preset release -j $(JOBS)
	bash bench/run_retry_heavy.sh build/release

# The fault campaign (tests/faults, label faults) in soak mode: every scenario repeats rounds of
# load, faults, settling, the clients' check and ordinal verify for SOAK_SECONDS; SOAK_FILTER (a
# gtest filter) picks scenarios. The test binary runs directly, so CTest's timeout does not cut a
# long soak short; each scenario starts the servers it needs itself.
SOAK_SECONDS ?= 600
SOAK_FILTER ?= *
.PHONY: soak
soak: deps-test
	cmake --preset $(PRESET) -DORDINAL_BUILD_TESTS=ON >/dev/null
	cmake --build --preset $(PRESET) -j $(JOBS) --target ordinal faults_tests
	ORDINAL_SOAK_SECONDS=$(SOAK_SECONDS) $(BUILD_DIR)/tests/faults_tests --gtest_filter='$(SOAK_FILTER)'

format:
	find src tests bench -name '*.cpp' -o -name '*.h' | xargs clang-format -i

# Every C++ file as .clang-format has it (clang-format from Debian, in TEST_PACKAGES); `make test`
# runs it first.
format-check:
	find src tests bench -name '*.cpp' -o -name '*.h' | xargs clang-format --dry-run --Werror

clean:
	rm -rf build

# ---- Fuzzing (fuzz/README.md) ------------------------------------------------------------------
# libFuzzer targets built with clang (ASan + UBSan) into build/fuzz, each run for a bounded time,
# one after the other. `make fuzz` runs each for FUZZ_SECONDS; `make fuzz-smoke` for
# FUZZ_SMOKE_SECONDS (5 targets x 20 s, about 2 minutes; meant to join `make test`). New corpus entries stay in
# build/fuzz/corpus, findings in build/fuzz/artifacts; the checked-in seeds are never written.
FUZZ_PACKAGES := clang-14 libclang-rt-14-dev g++ cmake ninja-build nlohmann-json3-dev libboost-dev \
                 libssl-dev
FUZZ_BUILD_DIR := build/fuzz
FUZZ_CXX ?= clang++-14
FUZZ_SECONDS ?= 600
FUZZ_SMOKE_SECONDS ?= 20
FUZZ_JOBS ?= 1

.PHONY: fuzz fuzz-build fuzz-smoke

fuzz-build:
	$(call apt_install,$(FUZZ_PACKAGES))
	cmake -S fuzz -B $(FUZZ_BUILD_DIR) -G Ninja -DCMAKE_CXX_COMPILER=$(FUZZ_CXX) >/dev/null
	cmake --build $(FUZZ_BUILD_DIR) -j $(JOBS)

fuzz: fuzz-build
	bash fuzz/run_fuzzers.sh $(FUZZ_BUILD_DIR) $(FUZZ_SECONDS)

fuzz-smoke: fuzz-build
	FUZZ_JOBS=$(FUZZ_JOBS) bash fuzz/run_fuzzers.sh $(FUZZ_BUILD_DIR) $(FUZZ_SMOKE_SECONDS)
