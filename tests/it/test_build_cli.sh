#!/usr/bin/env bash
# `edgeai build` through the real CLI on the Fashion-MNIST demo model: FP32
# and FP16 plans are written, `edgeai run` on them classifies every bundled
# sample PNG as its file name says, the FP32 plan's logits for the 256-image
# test batch are byte-identical to the ONNX model's, the FP16 plan is at most
# 0.55x the ONNX file, and `info`/`bench` read plans. Then the error paths:
# one line on stderr, a non-zero exit, never a crash, and a failed build
# leaves an existing plan untouched. Needs EAI_CLI = the edgeai binary.
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

# --- build ------------------------------------------------------------------
if ! "$cli" build "$model" -o "$tmp/f32.eai" >"$tmp/out" 2>"$tmp/err"; then
    fail "build (fp32) exited non-zero: $(cat "$tmp/err")"
fi
for key in model plan nodes passes accuracy; do
    grep -qE "^$key " "$tmp/out" || fail "build report has no '$key' line: $(cat "$tmp/out")"
done
if ! "$cli" build "$model" --fp16 --json -o "$tmp/f16.eai" >"$tmp/json" 2>"$tmp/err"; then
    fail "build --fp16 exited non-zero: $(cat "$tmp/err")"
fi
grep -q '"fp16": true' "$tmp/json" || fail "--json report lacks \"fp16\": true: $(cat "$tmp/json")"
onnx_bytes=$(stat -c %s "$model")
f16_bytes=$(stat -c %s "$tmp/f16.eai" 2>/dev/null || echo 0)
json_bytes=$(sed -nE 's/.*"plan_bytes": ([0-9]+).*/\1/p' "$tmp/json")
[ "$json_bytes" = "$f16_bytes" ] || fail "--json plan_bytes $json_bytes, file has $f16_bytes"
if [ "$f16_bytes" -le 0 ] || [ $((f16_bytes * 100)) -gt $((onnx_bytes * 55)) ]; then
    fail "fp16 plan is $f16_bytes bytes, more than 0.55 x the ONNX file ($onnx_bytes)"
else
    echo "ok: fp16 plan $f16_bytes bytes = $((f16_bytes * 1000 / onnx_bytes))/1000 of $onnx_bytes"
fi

# --- the plans classify the samples -----------------------------------------
mapfile -t names <"$labels"
for plan in f32 f16; do
    n=0
    for img in "$fashion"/samples/*.png; do
        [ -e "$img" ] || break
        n=$((n + 1))
        base=$(basename "$img" .png)
        want=-1
        for i in "${!names[@]}"; do
            [ "$(slug "${names[$i]}")" = "${base#*_}" ] && want=$i
        done
        "$cli" run "$tmp/$plan.eai" --image "$img" --size 28x28 --gray \
            --mean 0.2860,0.2860,0.2860 --std 0.3530,0.3530,0.3530 --top 1 >"$tmp/out" 2>"$tmp/err"
        rc=$?
        got=$(sed -nE 's/^[[:space:]]*#1[[:space:]]+class[[:space:]]+([0-9]+).*/\1/p' "$tmp/out")
        if [ $rc -ne 0 ] || [ "$got" != "$want" ]; then
            fail "$plan.eai $base: exit $rc, top-1 '$got', expected $want $(cat "$tmp/err")"
        fi
    done
    [ "$n" -eq 10 ] || fail "found $n sample PNGs, expected 10"
    echo "ok: $plan.eai classifies the $n samples"
done

# --- the FP32 plan computes exactly what the ONNX model computes ------------
mkdir -p "$tmp/o_onnx" "$tmp/o_plan"
"$cli" run "$model" -i "$fashion/test_batch.npy" --batch 256 -o "$tmp/o_onnx" >/dev/null 2>&1 ||
    fail "run onnx on the test batch"
"$cli" run "$tmp/f32.eai" -i "$fashion/test_batch.npy" --batch 256 -o "$tmp/o_plan" \
    >/dev/null 2>&1 || fail "run plan on the test batch"
if cmp -s "$tmp/o_onnx/logits.npy" "$tmp/o_plan/logits.npy"; then
    echo "ok: fp32 plan logits == onnx logits (256 images, byte for byte)"
else
    fail "fp32 plan logits differ from the ONNX model's"
fi

# --- info and bench read plans ----------------------------------------------
"$cli" info "$tmp/f16.eai" >"$tmp/out" 2>&1 || fail "info on the fp16 plan: $(cat "$tmp/out")"
grep -qE '^plan +format 1, fp16 weights' "$tmp/out" || fail "info shows no plan line: $(cat "$tmp/out")"
"$cli" bench "$tmp/f32.eai" --runs 3 >"$tmp/out" 2>&1 || fail "bench on the plan: $(cat "$tmp/out")"
echo "ok: info and bench read plans"

# --- error paths --------------------------------------------------------------
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

expect_error "no -o" "-o OUT\.eai" build "$model"
expect_error "no model" "usage" build -o "$tmp/x.eai"
expect_error "unknown option" "--no-such" build "$model" -o "$tmp/x.eai" --no-such
expect_error "--int8 without --calib" "--calib" build "$model" --int8 -o "$tmp/x.eai"
expect_error "--calib without --int8" "--int8" build "$model" --calib "$tmp" -o "$tmp/x.eai"
expect_error "bad --calib-method" "minmax" build "$model" --int8 --calib "$tmp" \
    --calib-method median -o "$tmp/x.eai"
expect_error "unknown backend" "unknown backend 'nope'" build "$model" --backend nope -o "$tmp/x.eai"
expect_error "missing model" "nonexistent\.onnx" build "$tmp/nonexistent.onnx" -o "$tmp/x.eai"
expect_error "output folder missing" "no-such-dir/x\.eai" build "$model" -o "$tmp/no-such-dir/x.eai"
[ -e "$tmp/no-such-dir" ] && fail "a failed build created $tmp/no-such-dir"

# a failed build leaves the plan already there as it was, and no temporary
cp "$tmp/f32.eai" "$tmp/keep.eai"
expect_error "calibration folder missing" "no-calib" build "$model" --int8 \
    --calib "$tmp/no-calib" -o "$tmp/f32.eai"
cmp -s "$tmp/f32.eai" "$tmp/keep.eai" || fail "a failed build changed the existing plan"
ls "$tmp" | grep -q '\.tmp\.' && fail "a temporary file was left: $(ls "$tmp")"

# damaged plans: each names what is wrong
size=$(stat -c %s "$tmp/f32.eai")
cp "$tmp/f32.eai" "$tmp/flipped.eai"
printf '\x5a' | dd of="$tmp/flipped.eai" bs=1 seek=$((size - 100)) conv=notrunc status=none
expect_error "flipped weight byte" "flipped\.eai: section 'weights' CRC mismatch" \
    run "$tmp/flipped.eai" --top 1
head -c $((size / 2)) "$tmp/f32.eai" >"$tmp/half.eai"
expect_error "truncated plan" "half\.eai: truncated" run "$tmp/half.eai" --top 1
head -c 10 "$tmp/f32.eai" >"$tmp/ten.eai"
expect_error "10-byte plan" "ten\.eai: truncated" info "$tmp/ten.eai"
cp "$tmp/f32.eai" "$tmp/v9.eai"
printf '\x09' | dd of="$tmp/v9.eai" bs=1 seek=8 conv=notrunc status=none
expect_error "newer format version" "v9\.eai: format version 9, this build reads 1" \
    bench "$tmp/v9.eai" --runs 1

if [ $failures -ne 0 ]; then
    echo "$failures check(s) failed"
    exit 1
fi
echo "all build CLI checks passed"
