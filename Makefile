# Thin wrapper over CMake (the build's truth). `make demo` sets up a fresh
# Debian 12 machine and runs the main job; `make test` runs every test.
BUILD      ?= build
BUILD_ASAN ?= build-asan
JOBS       ?= 2
PY         := /usr/bin/python3
ZOO        := $(BUILD)/zoo
CMAKE_ARGS ?=

.PHONY: all deps build demo models test test-asan fuzz fuzz-replay fuzz-ci bench format format-check clean

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
# ZOO_SET=ci (default): the named models at 224x224, one or two of every
# torchvision family and the YOLO-style detector, which keeps `make test`
# well inside CI's budget on 2 cores. ZOO_SET=full: every torchvision 0.14
# classification model that exports at opset 13 (~80 models, ~20 GB, about
# an hour to export): `make test ZOO_SET=full`.
ZOO_SET ?= ci
ZOO_CI  := mobilenet_v2,mobilenet_v3_small,mobilenet_v3_large,resnet18,resnet50,$\
	squeezenet1_1,shufflenet_v2_x1_0,mnasnet1_0,vgg11,alexnet,convnext_tiny,$\
	densenet121,efficientnet_b0,efficientnet_v2_s,googlenet,inception_v3,maxvit_t,$\
	mnasnet0_5,regnet_x_400mf,regnet_y_400mf,resnet34,resnext50_32x4d,$\
	shufflenet_v2_x0_5,squeezenet1_0,swin_t,swin_v2_t,vit_b_32,wide_resnet50_2,yolo_tiny
ifeq ($(ZOO_SET),full)
ZOO_ARGS := --max-weights-mb 1900
else
ZOO_ARGS := --only $(ZOO_CI)
endif
models:
	$(PY) scripts/make_test_models.py --out $(ZOO) $(ZOO_ARGS)

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

# CI: replay the corpora, then fuzz each parser for a bounded 20 s (9 parsers;
# 30 s each brought a whole CI run to 27.5 of its 30 minutes in session 12).
fuzz-ci:
	bash fuzz/run.sh 20

bench: build
	bash bench/compare_ort.sh

# The issue-3 table vs ONNX Runtime: latency (FP32/FP16/INT8, 1 and 2 threads),
# cold start, peak RSS, plan sizes (docs/bench.md). Exports missing zoo models.
# `make bench-issue3 BENCH_ARGS=--quick` checks the setup in about a minute.
.PHONY: bench-issue3
bench-issue3: build
	$(PY) bench/issue3.py --cli $(BUILD)/edgeai --zoo $(ZOO) $(BENCH_ARGS)

# Issue-4 benchmarks: training throughput vs PyTorch, NIID-Bench FL vs a
# PyTorch FedAvg on the same splits, the seed's 100-client experiment, RSS vs
# clients. The full NIID-Bench setting takes hours on 2 cores:
# `make bench-issue4 BENCH_ARGS="--rounds 10 --epochs 2"` scales it down.
.PHONY: bench-issue4
bench-issue4: build
	$(PY) bench/issue4.py --cli $(BUILD)/edgeai $(BENCH_ARGS)

# Issue-5 benchmark: hybrid accuracy vs offload, serve overhead, batching, fault test.
.PHONY: bench-issue5
bench-issue5: build
	$(PY) bench/issue5.py --cli $(BUILD)/edgeai $(BENCH_ARGS)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	clang-format --dry-run -Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) build-fuzz
