# The two set-up commands of SURFACE.md. Both install missing Debian packages, configure and
# build (Release); `make test` then runs the whole suite through ctest.
BUILD_DIR ?= build
JOBS ?= 2
CMAKE_BUILD_TYPE ?= Release

.PHONY: all deps configure build test run soak clean

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

clean:
	@rm -rf $(BUILD_DIR)
