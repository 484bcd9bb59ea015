#!/usr/bin/env bash
# The `make demo` path through the real CLI: each bundled Fashion-MNIST sample
# PNG (models/fashion/samples/NNNN_<class>.png) must come out of `edgeai run
# --image ... --gray` with its class as the top-1 line, plus a latency line.
# Then the CLI's error paths: exactly one line on stderr, a non-zero exit, and
# never a crash (a signal). Needs EAI_CLI = the edgeai binary (set by ctest).
set -uo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cli=${EAI_CLI:-}
if [ -z "$cli" ] || [ ! -x "$cli" ]; then
    echo "EAI_CLI must name the edgeai binary (got '${cli}')" >&2
    exit 1
fi
fashion="$root/models/fashion"
model="$fashion/fashion_cnn.onnx"
labels="$fashion/labels.txt"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

slug() { # same rule as scripts/train_fashion.py: lower case, non-alnum runs -> '_'
    echo "$1" | tr '[:upper:]' '[:lower:]' | sed -E 's/[^a-z0-9]+/_/g; s/^_+//; s/_+$//'
}

mapfile -t names <"$labels"
[ "${#names[@]}" -eq 10 ] || fail "$labels has ${#names[@]} lines, expected 10"

# --- classification of the 10 samples -------------------------------------
seen=""
n=0
for img in "$fashion"/samples/*.png; do
    [ -e "$img" ] || break
    n=$((n + 1))
    base=$(basename "$img" .png)
    want_slug=${base#*_}
    want=-1
    for i in "${!names[@]}"; do
        [ "$(slug "${names[$i]}")" = "$want_slug" ] && want=$i
    done
    if [ "$want" -lt 0 ]; then
        fail "$base: no class in labels.txt matches '$want_slug'"
        continue
    fi
    seen="$seen $want"
    "$cli" run "$model" --image "$img" --size 28x28 --gray \
        --mean 0.2860,0.2860,0.2860 --std 0.3530,0.3530,0.3530 \
        --top 3 --labels "$labels" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if [ $rc -ne 0 ]; then
        fail "$base: edgeai run exited $rc: $(cat "$tmp/err")"
        continue
    fi
    # "  #1  class 9     score   12.3456  Ankle boot"
    top1=$(grep -E '^[[:space:]]*#1[[:space:]]' "$tmp/out")
    got=$(echo "$top1" | sed -nE 's/.*class[[:space:]]+([0-9]+)[[:space:]].*/\1/p')
    got_name=$(echo "$top1" | sed -E 's/.*score[[:space:]]+[-0-9.naif]+[[:space:]]+//')
    if [ "$got" != "$want" ] || [ "$got_name" != "${names[$want]}" ]; then
        fail "$base: top-1 is '$top1', expected class $want (${names[$want]})"
        cat "$tmp/out"
    else
        echo "ok: $base -> #1 class $got ($got_name)"
    fi
    [ "$(grep -cE '^[[:space:]]*#[0-9]+[[:space:]]' "$tmp/out")" -eq 3 ] ||
        fail "$base: --top 3 printed $(grep -cE '#[0-9]' "$tmp/out") ranked lines"
    grep -qE '^latency [0-9.]+ ms' "$tmp/out" || fail "$base: no 'latency N ms' line"
done
[ "$n" -eq 10 ] || fail "found $n sample PNGs in $fashion/samples, expected 10"
[ "$(echo "$seen" | tr ' ' '\n' | sort -u | grep -c .)" -eq 10 ] ||
    fail "the samples do not cover all 10 classes (classes:$seen)"

# --- error paths ------------------------------------------------------------
# expect_error NAME PATTERN ARGS...: non-zero exit that is not a signal, one
# line on stderr matching PATTERN (an extended regex, case-insensitive).
expect_error() {
    local name=$1 pattern=$2
    shift 2
    "$cli" "$@" >"$tmp/out" 2>"$tmp/err"
    local rc=$? lines
    lines=$(wc -l <"$tmp/err")
    if [ $rc -eq 0 ]; then
        fail "$name: exit 0, expected an error"
    elif [ $rc -ge 128 ]; then
        fail "$name: killed by signal $((rc - 128)) (crash)"
    elif [ "$lines" -ne 1 ]; then
        fail "$name: $lines lines on stderr, expected 1:"
        cat "$tmp/err"
    elif ! grep -qiE -e "$pattern" "$tmp/err"; then
        fail "$name: stderr '$(cat "$tmp/err")' does not match /$pattern/"
    else
        echo "ok: $name (exit $rc): $(cat "$tmp/err")"
    fi
}

expect_error "missing model" "nonexistent\.onnx" \
    run "$tmp/nonexistent.onnx" --top 1

# Random bytes as a model, three times; a failing file is kept for replay.
for k in 1 2 3; do
    head -c 4096 /dev/urandom >"$tmp/garbage.onnx"
    before=$failures
    expect_error "garbage model #$k" "garbage\.onnx" run "$tmp/garbage.onnx" --top 1
    if [ $failures -ne $before ] && [ -n "${EAI_BINARY_DIR:-}" ]; then
        cp "$tmp/garbage.onnx" "$EAI_BINARY_DIR/it_demo_cli_garbage_$k.onnx" &&
            echo "kept the file as $EAI_BINARY_DIR/it_demo_cli_garbage_$k.onnx"
    fi
done
# A truncated copy of the real model.
head -c 20000 "$model" >"$tmp/truncated.onnx"
expect_error "truncated model" "truncated\.onnx" run "$tmp/truncated.onnx" --top 1

expect_error "npy of the wrong shape" "test_labels\.npy" \
    run "$model" -i "$fashion/test_labels.npy" --top 1
expect_error "unknown option" "--no-such-option" \
    run "$model" --no-such-option --top 1
expect_error "image without --gray (3 channels into a 1-channel input)" "image" \
    run "$model" --image "$(find "$fashion/samples" -name "*.png" | sort | head -1)" --size 28x28 --top 1
expect_error "text file as --image" "labels\.txt" \
    run "$model" --image "$labels" --size 28x28 --gray --top 1

if [ $failures -ne 0 ]; then
    echo "$failures check(s) failed"
    exit 1
fi
echo "all demo CLI checks passed"
