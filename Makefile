# Thin wrapper over CMake (the build's truth). `make demo` sets up a fresh
# Debian 12 machine and runs the main job; `make test` runs every test.
BUILD      ?= build
BUILD_ASAN ?= build-asan
JOBS       ?= 2
PY         := /usr/bin/python3
ZOO        := $(BUILD)/zoo
CMAKE_ARGS ?=

.PHONY: all deps build demo models test test-asan fuzz fuzz-replay bench format clean

all: build

deps:
	bash scripts/install-deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_ARGS)

build: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j$(JOBS)

# The main job (grows with the project): classify real Fashion-MNIST images
# with the bundled classifier, then time it.
demo: deps build
	bash scripts/demo.sh $(BUILD)/edgeai

# Test fixtures exported from PyTorch (generated once, cached in $(ZOO)).
models:
	$(PY) scripts/make_test_models.py --out $(ZOO)

test: deps build models
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

# The same tests under AddressSanitizer + UBSan.
test-asan: deps models
	cmake -S . -B $(BUILD_ASAN) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEAI_SANITIZE=ON
	cmake --build $(BUILD_ASAN) -j$(JOBS)
	cd $(BUILD_ASAN) && EAI_ZOO_DIR=$(CURDIR)/$(ZOO) ASAN_OPTIONS=detect_leaks=1 \
		UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j$(JOBS)

fuzz:
	bash fuzz/run.sh 60

fuzz-replay:
	bash fuzz/run.sh --replay

bench: build
	bash bench/compare_ort.sh

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) build-fuzz
