#!/usr/bin/env bash
# Trains the edge-cloud hybrid's two Fashion-MNIST classifiers with edgeai's own
# trainer and writes models/hybrid/{edge,cloud}.onnx (+ per-epoch JSON logs).
#
# Validation split: `--max-samples 55000` keeps the FIRST 55,000 training
# images for training; images 55,000..59,999 of fashion-mnist:train are never
# trained on and serve as the calibration/validation split (bench/issue5.py
# writes them to .npy for `edgeai calibrate`). --max-samples applies to --test
# too, which has 10,000 images, so the test figures cover the full test set.
# Inputs are raw pixels / 255 (no --mean/--std), as every other tool feeds them.
#
# Usage: scripts/train_hybrid_models.sh [EDGEAI_CLI]   (default build/edgeai)
#   EPOCHS_EDGE / EPOCHS_CLOUD override the epochs; PARALLEL=1 trains both at
#   once; ONLY=edge or ONLY=cloud retrains one (the other's files must exist).
#   HYBRID_OUT=DIR writes elsewhere (default models/hybrid).
set -euo pipefail
cd "$(dirname "$0")/.."
CLI=${1:-${EAI_CLI:-build/edgeai}}
OUT=${HYBRID_OUT:-models/hybrid}
EPOCHS_EDGE=${EPOCHS_EDGE:-30}
EPOCHS_CLOUD=${EPOCHS_CLOUD:-15}
mkdir -p "$OUT"

/usr/bin/python3 scripts/make_hybrid_models.py "$OUT"

# Wall seconds of each run go to $OUT/<name>_seconds.txt for the README.
timed() {
    local name=$1
    shift
    local t0
    t0=$(date +%s.%N)
    echo "$*" > "$OUT/${name}_command.txt"
    "$@"
    echo "$(date +%s.%N) - $t0" | bc > "$OUT/${name}_seconds.txt"
}

train_edge() {
    timed edge "$CLI" train "$OUT/edge_init.onnx" --data fashion-mnist:train --test fashion-mnist:test \
        --max-samples 55000 --epochs "$EPOCHS_EDGE" --batch 64 --optim adam --lr 0.003 \
        --sched cosine --seed 1 --threads 1 --json "$OUT/edge_train.json" \
        -o "$OUT/edge.onnx"
}
train_cloud() {
    timed cloud "$CLI" train "$OUT/cloud_init.onnx" --data fashion-mnist:train --test fashion-mnist:test \
        --max-samples 55000 --epochs "$EPOCHS_CLOUD" --batch 64 --optim adam --lr 0.001 \
        --sched cosine --seed 1 --threads 1 --json "$OUT/cloud_train.json" \
        -o "$OUT/cloud.onnx"
}

if [ -n "${ONLY:-}" ]; then
    "train_$ONLY"
elif [ "${PARALLEL:-0}" = 1 ]; then
    train_edge &
    e=$!
    train_cloud &
    c=$!
    wait $e
    wait $c
else
    train_edge
    train_cloud
fi
rm -f "$OUT/edge_init.onnx" "$OUT/cloud_init.onnx"
# Independent check: the same weights in PyTorch on the 10,000 test images.
/usr/bin/python3 scripts/make_hybrid_models.py --eval "$OUT" | tee "$OUT/torch_check.txt"
/usr/bin/python3 scripts/hybrid_models_readme.py "$OUT" "$EPOCHS_EDGE" "$EPOCHS_CLOUD" \
    "${PARALLEL:-0}"
ls -l "$OUT"/*.onnx
