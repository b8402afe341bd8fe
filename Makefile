# The two set-up commands of SURFACE.md. Both install missing Debian packages, configure and
# build (Release); `make test` then runs the whole suite through ctest.
BUILD_DIR ?= build
JOBS ?= 2
CMAKE_BUILD_TYPE ?= Release

.PHONY: all deps configure build test run soak fuzz clean

all: build

deps:
	@./.ci/install-deps

configure: deps
	@cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(CMAKE_BUILD_TYPE) >/dev/null

build: configure
	@cmake --build $(BUILD_DIR) -j$(JOBS)

test: build
	@cd $(BUILD_DIR) && ctest --output-on-failure -j$(JOBS)

# The embedded default: three replicas in one process, clients on 127.0.0.1:7400.
run: build
	@./$(BUILD_DIR)/bin/ballotd

# Long randomized simulation: `make soak SEEDS=100000`.
SEEDS ?= 20000
soak: build
	@./$(BUILD_DIR)/bin/ballot-sim --seeds $(SEEDS) --progress

# Mutated client-protocol messages against an in-process gateway:
# `make fuzz FUZZ_RUNS=100000 FUZZ_SEED=7` (make test runs 300 of them).
FUZZ_RUNS ?= 20000
FUZZ_SEED ?= 1
fuzz: build
	@BALLOT_FUZZ_RUNS=$(FUZZ_RUNS) BALLOT_FUZZ_SEED=$(FUZZ_SEED) ./$(BUILD_DIR)/bin/gateway_test \
		--gtest_filter='GatewayFuzzTest.*'

clean:
	@rm -rf $(BUILD_DIR)
