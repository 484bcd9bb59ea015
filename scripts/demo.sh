#!/usr/bin/env bash
# The main job for now: real Fashion-MNIST test images through the bundled
# classifier (trained by scripts/train_fashion.py), top result and latency
# for each, then a short benchmark of the same model.
set -euo pipefail
cli=${1:-build/edgeai}
here=$(cd "$(dirname "$0")/.." && pwd)
model="$here/models/fashion/fashion_cnn.onnx"
labels="$here/models/fashion/labels.txt"

echo "== edgeai demo: Fashion-MNIST classifier on the edge =="
"$cli" info "$model"
echo
for img in "$here"/models/fashion/samples/*.png; do
    echo "-- $(basename "$img")"
    "$cli" run "$model" --image "$img" --size 28x28 --gray \
        --mean 0.2860,0.2860,0.2860 --std 0.3530,0.3530,0.3530 \
        --top 1 --labels "$labels"
done
echo
"$cli" bench "$model" --runs 200 --warmup 20
