# Quick start: `make run` (serve on the embedded default) and `make test` (everything CTest runs).
# Both install what they need with apt-get on a fresh Debian 12 machine (run as root).
SHELL := /bin/bash
PRESET ?= release
BUILD_DIR := build/$(PRESET)
JOBS ?= $(shell nproc)

RUN_PACKAGES := g++ cmake ninja-build pkg-config libsqlite3-dev libboost-dev nlohmann-json3-dev \
                libfmt-dev libspdlog-dev libcli11-dev
TEST_PACKAGES := $(RUN_PACKAGES) libgtest-dev libgmock-dev libbenchmark-dev sqlite3 curl

.PHONY: all deps deps-test build run test test-unit bench format format-check clean

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

deps-test:
	$(call apt_install,$(TEST_PACKAGES))

build: deps
	cmake --preset $(PRESET) >/dev/null
	cmake --build --preset $(PRESET) -j $(JOBS)

run: deps
	cmake --preset release -DORDINAL_BUILD_TESTS=OFF -DORDINAL_BUILD_BENCH=OFF >/dev/null
	cmake --build --preset release -j $(JOBS) --target ordinal
	./build/release/ordinal serve $(ARGS)

test: deps-test
	cmake --preset $(PRESET) -DORDINAL_BUILD_TESTS=ON >/dev/null
	cmake --build --preset $(PRESET) -j $(JOBS)
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j 2 --timeout 900

test-unit: deps-test
	cmake --preset $(PRESET) -DORDINAL_BUILD_TESTS=ON >/dev/null
	cmake --build --preset $(PRESET) -j $(JOBS)
	ctest --test-dir $(BUILD_DIR) --output-on-failure -L unit

bench: deps-test
	$(call apt_install,jq)
	cmake --preset release -DORDINAL_BUILD_TESTS=OFF -DORDINAL_BUILD_BENCH=ON >/dev/null
	cmake --build --preset release -j $(JOBS)
	bash bench/run_embedded.sh build/release

format:
	find src tests bench -name '*.cpp' -o -name '*.h' | xargs clang-format -i

format-check:
	find src tests bench -name '*.cpp' -o -name '*.h' | xargs clang-format --dry-run --Werror

clean:
	rm -rf build
