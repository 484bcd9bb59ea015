#!/bin/bash
# `edgeai train` against PyTorch (scripts/train_reference.py): the same ONNX
# model (models/train/cnn_fmnist.onnx), the same initial weights, the first
# 2,048 Fashion-MNIST training images in file order (--no-shuffle), batch 64:
# 32 steps, each step's loss within 1e-3 relative, for SGD with momentum and
# weight decay and for Adam. Skips (77) when /usr/bin/python3 lacks torch;
# without Debian's fashion-mnist files a seeded synthetic .npy set is used.
set -euo pipefail
cd "$(dirname "$0")/../.."
CLI=${EAI_CLI:-build/edgeai}
PY=/usr/bin/python3
if ! "$PY" -c 'import torch, onnx' 2>/dev/null; then
    echo "skip: $PY lacks torch or onnx"
    exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
FM=${EAI_FASHION_MNIST_DIR:-/usr/share/datasets/fashion-mnist}
if [ -f "$FM/train-images-idx3-ubyte.gz" ]; then
    spec=fashion-mnist:train
else
    spec="npy:$tmp/x.npy,$tmp/y.npy"
    "$PY" scripts/train_reference.py --make-npy "$tmp/x.npy,$tmp/y.npy"
fi
model=models/train/cnn_fmnist.onnx
common=(--data "$spec" --max-samples 2048 --batch 64 --epochs 1)
run() { # name, then optimizer options for both sides
    local name=$1
    shift
    "$CLI" train "$model" "${common[@]}" "$@" --no-shuffle --threads 1 --quiet \
        --step-log "$tmp/$name.csv" -o "$tmp/$name.onnx"
    echo "== $name: $*"
    "$PY" scripts/train_reference.py --model "$model" "${common[@]}" "$@" \
        --out "$tmp/$name.torch.csv" --compare "$tmp/$name.csv" --tol 1e-3 \
        --compare-onnx "$tmp/$name.onnx"
}
run sgd --lr 0.05 --momentum 0.9 --wd 0.0005
run adam --optim adam --lr 0.001
echo "ok"
