#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan+UBSan) in build-fuzz and runs them.
#
#   fuzz/run.sh [SECONDS] [TARGET...]   replay each corpus, then fuzz each target for
#                                        SECONDS (default 60); new inputs go to
#                                        build-fuzz/corpus-<parser>, crashes to
#                                        build-fuzz/artifacts/
#   fuzz/run.sh --replay [TARGET...]    only run every committed corpus file once (CI)
#
# TARGET is a parser with a fuzz/fuzz_<TARGET>.c (default: all). Exits non-zero when any target crashes,
# leaks or trips a sanitizer. A crash fixed in the code lands with its input
# copied into fuzz/corpus/<parser>/, so every replay keeps checking it.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build-fuzz"
# Every fuzz/fuzz_<parser>.c is a target.
all_targets=()
for f in "$root"/fuzz/fuzz_*.c; do
    t=${f##*/fuzz_}
    all_targets+=("${t%.c}")
done
mode=fuzz
secs=60
if [ "${1:-}" = "--replay" ]; then
    mode=replay
    shift
elif [[ "${1:-}" =~ ^[0-9]+$ ]]; then
    secs=$1
    shift
fi
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")
for t in "${targets[@]}"; do
    if [ ! -f "$root/fuzz/fuzz_$t.c" ]; then
        echo "usage: $0 [SECONDS | --replay] [${all_targets[*]}]" >&2
        exit 2
    fi
done

command -v clang >/dev/null 2>&1 || { echo "fuzz: clang is required (libFuzzer)" >&2; exit 1; }
jobs=${JOBS:-2}

if [ ! -f "$build/CMakeCache.txt" ]; then
    CC=clang cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DEAI_FUZZ=ON -DEAI_TESTS=OFF >/dev/null
fi
cmake --build "$build" -j"$jobs" --target "${targets[@]/#/fuzz_}" >"$build/build.log" 2>&1 ||
    { tail -n 30 "$build/build.log" >&2; echo "fuzz: build failed (log: $build/build.log)" >&2; exit 1; }

export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
mkdir -p "$build/artifacts"
status=0
for t in "${targets[@]}"; do
    bin="$build/fuzz/fuzz_$t"
    corpus="$root/fuzz/corpus/$t"
    dict=()
    [ -f "$root/fuzz/$t.dict" ] && dict=(-dict="$root/fuzz/$t.dict")
    n=$(find "$corpus" -type f | wc -l)
    echo "== fuzz_$t: replaying $n corpus files"
    # -runs=0 executes every input of the corpus folder once, without mutating.
    if ! "$bin" -runs=0 "$corpus" >"$build/replay_$t.log" 2>&1; then
        tail -n 40 "$build/replay_$t.log" >&2
        echo "== fuzz_$t: FAILED on the committed corpus (log: $build/replay_$t.log)" >&2
        status=1
        continue
    fi
    [ "$mode" = replay ] && continue
    echo "== fuzz_$t: fuzzing for ${secs}s"
    work="$build/corpus-$t"
    mkdir -p "$work"
    # New inputs go to the first (scratch) folder; the committed corpus is only read.
    if ! "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -print_final_stats=1 -artifact_prefix="$build/artifacts/${t}-" "${dict[@]}" \
        "$work" "$corpus" >"$build/fuzz_$t.log" 2>&1; then
        tail -n 40 "$build/fuzz_$t.log" >&2
        echo "== fuzz_$t: CRASH (log: $build/fuzz_$t.log, input under $build/artifacts/)" >&2
        status=1
        continue
    fi
    grep -E "stat::number_of_executed_units|cov:" "$build/fuzz_$t.log" | tail -n 2
done
[ $status -eq 0 ] && echo "fuzz: all targets clean"
exit $status
