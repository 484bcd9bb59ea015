#!/usr/bin/env bash
# TFLite import, end to end, against TensorFlow Lite itself (tfjs-tflite's
# WebAssembly build, driven by tests/it/tflite/tflite_reference.js), both
# from third_party/npm-tflite (scripts/fetch-npm.sh):
#   1. every fixture in models/tflite (scripts/make_tflite_fixtures.py):
#      TFLite must reproduce the fixture's numpy reference (so the fixture
#      writer and the references are right), and edgeai must too. Float
#      models within 1e-5; quantized ones within 1 step of the output scale
#      for edgeai and 2 for TFLite (its integer kernels round differently
#      from float QDQ); those run in edgeai when the runtime has
#      QuantizeLinear/DequantizeLinear.
#   2. the SSD-MobileNetV2 detector packed in @mediapipe/objectron
#      0.4.1675468480 (fp16 weights, 300x300, 24 Open Images classes): the
#      .tflite is cut out of objectron_solution_packed_assets.data (label map
#      = bytes [0,184), model = the next 9,987,728), checked by size and
#      sha256 (the model's sha256 is the one MediaPipe's own build pins).
#      On darknet's dog.jpg, person.jpg and kite.jpg, resized to 300x300 and
#      scaled to [-1,1] (MediaPipe's TfLiteConverterCalculator default) by
#      `edgeai run --image` through the image_identity fixture, edgeai (each
#      backend) and TFLite run on the same .npy; both outputs must agree
#      within 1e-3 absolute (values reach 80); the decoded detections
#      (MediaPipe's SSD anchors and box coding, sigmoid scores) must name the
#      expected objects.
# Exit 77 (skip) only when the npm tree is not installed.
# EAI_CLI: the edgeai binary (set by ctest).
set -uo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cli=${EAI_CLI:-$root/build/edgeai}
npm=$root/third_party/npm-tflite/node_modules
ref=$root/tests/it/tflite/tflite_reference.js
fix=$root/models/tflite
data=$npm/@mediapipe/objectron/objectron_solution_packed_assets.data
wasm=$npm/@tensorflow/tfjs-tflite/wasm/tflite_web_api_cc_simd.wasm
images=/usr/share/darknet/data

die() {
    echo "test_tflite_objectron: $*" >&2
    exit 1
}

[ -x "$cli" ] || die "edgeai CLI not found at $cli (set EAI_CLI)"
command -v node >/dev/null || die "node is not installed (scripts/install-deps.sh)"
if [ ! -f "$data" ] || [ ! -f "$wasm" ]; then
    echo "test_tflite_objectron: SKIP: $root/third_party/npm-tflite is not installed" \
        "(run scripts/fetch-npm.sh)"
    exit 77
fi
for i in dog person kite; do
    [ -f "$images/$i.jpg" ] || die "missing $images/$i.jpg (Debian package darknet)"
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=()

check() { # what, then the command
    local what=$1
    shift
    if ! "$@"; then
        echo "FAILED: $what"
        failed+=("$what")
        return 1
    fi
}

# ---- 1. fixtures ----
quant_ops=1
"$cli" ops | grep -qw QuantizeLinear || quant_ops=0
for model in "$fix"/*.tflite; do
    name=$(basename "$model" .tflite)
    [ -f "$fix/$name.input.npy" ] || continue # image_identity, bad_*
    tol=1e-5 tol_tfl=1e-5
    # quantized fixtures: one step of the output scale (8/255) for edgeai,
    # which runs the same float QDQ arithmetic as the numpy reference; two
    # for TFLite's fixed-point kernels (measured: 1 int8, 2 uint8)
    case $name in *int8*) tol=0.0315 tol_tfl=0.063 ;; esac
    echo "--- fixture $name"
    if ! node "$ref" run "$model" "$tmp/$name.tfl" "$fix/$name.input.npy" >"$tmp/$name.log"; then
        echo "FAILED: $name: tflite runs"
        failed+=("$name: tflite runs")
        continue
    fi
    # outputs in graph order; the files are named after the tensors
    mapfile -t outs < <(sed -n 's/^tflite: \([^ ]*\) .*/\1/p' "$tmp/$name.log" | tr '/:' '__')
    if [[ $name == *int8* ]] && [ $quant_ops -eq 0 ]; then
        echo "(edgeai part not run: this build has no QuantizeLinear/DequantizeLinear yet)"
        run_eai=0
    else
        run_eai=1
        check "$name: edgeai runs" "$cli" run "$model" -i "$fix/$name.input.npy" \
            -o "$tmp/$name.eai" >/dev/null || run_eai=0
    fi
    for k in "${!outs[@]}"; do
        want=$fix/$name.output$k.npy
        check "$name: tflite output $k vs numpy" node "$ref" compare "$want" \
            "$tmp/$name.tfl/${outs[$k]}.npy" "$tol_tfl"
        [ $run_eai -eq 1 ] && check "$name: edgeai output $k vs numpy" node "$ref" compare \
            "$want" "$tmp/$name.eai/${outs[$k]}.npy" "$tol"
    done
done

# ---- 2. the objectron detector ----
echo "--- objectron SSD-MobileNetV2 (fp16)"
model=$tmp/ssd_mobilenetv2_oidv4_fp16.tflite
labels=$tmp/labels.txt
size=$(stat -c %s "$data")
[ "$size" -eq 9987912 ] || die "$data is $size bytes, expected 9987912"
echo "470986ca5df183f41698da6de74b027d838fe289d77b5ab094497d350bee664e  $data" | sha256sum -c --quiet ||
    die "$data: sha256 differs from @mediapipe/objectron 0.4.1675468480's"
head -c 184 "$data" >"$labels"
tail -c +185 "$data" >"$model"
echo "d0a5255bf8c4f5a0bc4240741a76c41d5e939f7655078f945f50ab53a9375da6  $model" | sha256sum -c --quiet ||
    die "the extracted model's sha256 differs"
[ "$(sed -n 2p "$labels")" = Bicycle ] || die "label map not where expected"
"$cli" info "$model" || die "edgeai cannot load the model"

backends=(default ref)
declare -A expect=([dog]="Dog Bicycle Car" [person]="Person Dog" [kite]="Person")
for img in dog person kite; do
    d=$tmp/$img
    mkdir -p "$d"
    echo "--- $img.jpg"
    check "$img: preprocess" "$cli" run "$fix/image_identity.tflite" --image "$images/$img.jpg" \
        --size 300x300 --mean 0.5,0.5,0.5 --std 0.5,0.5,0.5 --nhwc -o "$d/pre" >/dev/null || continue
    check "$img: tflite" node "$ref" run "$model" "$d/tfl" "$d/pre/pixels.npy" >/dev/null || continue
    for be in "${backends[@]}"; do
        opt=()
        [ "$be" = default ] || opt=(--backend "$be")
        check "$img: edgeai ($be)" "$cli" run "$model" -i "$d/pre/pixels.npy" -o "$d/$be" \
            "${opt[@]}" | tail -n 1 || continue
        for out in raw_outputs_box_encodings raw_outputs_class_predictions; do
            check "$img: $out ($be) vs tflite" node "$ref" compare "$d/tfl/$out.npy" \
                "$d/$be/$out.npy" 1e-3
        done
    done
    node "$ref" decode "$d/default/raw_outputs_box_encodings.npy" \
        "$d/default/raw_outputs_class_predictions.npy" "$labels" 6 | tee "$d/dets.txt"
    for want in ${expect[$img]}; do
        check "$img: $want detected" grep -q "^detection: $want " "$d/dets.txt"
    done
done

if [ ${#failed[@]} -gt 0 ]; then
    printf 'test_tflite_objectron: %d check(s) failed:\n' "${#failed[@]}"
    printf '  %s\n' "${failed[@]}"
    exit 1
fi
echo "test_tflite_objectron: all checks passed"
