# The two set-up commands of SURFACE.md. Both install missing Debian packages, configure and
# build (Release); `make test` then runs the whole suite through ctest.
BUILD_DIR ?= build
JOBS ?= 2
CMAKE_BUILD_TYPE ?= Release
# pipefail: `make test` filters ctest's output and must keep its exit status.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
# No "Entering directory" lines from this make or the one cmake runs.
MAKEFLAGS += --no-print-directory

.PHONY: all deps configure build test run soak fuzz clean

all: build

deps:
	@./.ci/install-deps

# Configures only when the build directory has no cache yet, or one from before
# CMAKE_TARGET_MESSAGES=OFF (later CMakeLists changes re-run cmake by
# themselves). Its output is kept in configure.log and shown only on failure.
configure: deps
	@if ! grep -qs '^CMAKE_TARGET_MESSAGES:BOOL=OFF' $(BUILD_DIR)/CMakeCache.txt; then \
	  mkdir -p $(BUILD_DIR); \
	  cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(CMAKE_BUILD_TYPE) \
	        -DCMAKE_TARGET_MESSAGES:BOOL=OFF >$(BUILD_DIR)/configure.log 2>&1 \
	    || { cat $(BUILD_DIR)/configure.log; exit 1; }; \
	fi

# Nothing is printed when everything is built: no "Built target" lines
# (CMAKE_TARGET_MESSAGES=OFF); files being compiled and every compiler
# message still show.
build: configure
	@cmake --build $(BUILD_DIR) -j$(JOBS) -- --no-print-directory

# Only what matters: failed, skipped or not-run tests with their output, and
# the summary; every line is in $(BUILD_DIR)/Testing/Temporary/LastTest.log.
test: build
	@cd $(BUILD_DIR) && ctest --output-on-failure -j$(JOBS) \
	  | grep --line-buffered -v -E '^ *Start +[0-9]+: |^ *[0-9]+/[0-9]+ Test +#[0-9]+: .* Passed +[0-9.]+ sec$$'

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
