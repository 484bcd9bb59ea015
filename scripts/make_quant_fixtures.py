#!/usr/bin/python3
"""Fixtures for the INT8 tests (tests/quant/), made with /usr/bin/python3.

fashion_calib.npy: 200 Fashion-MNIST *training* images (Debian's
dataset-fashion-mnist, /usr/share/datasets/fashion-mnist/), raw uint8 pixels
[200, 1, 28, 28], picked with a fixed seed. Calibration uses them.
fashion_eval.npy: 1000 *test* images (test indices 256..1255, after the 256
of models/fashion/test_batch.npy), raw uint8 [1000, 1, 28, 28]: the held-out
set of the accuracy check. Train vs test split: disjoint by construction.

Usage: /usr/bin/python3 scripts/make_quant_fixtures.py [--out tests/quant/fixtures]
"""
import argparse
import gzip
import os

import numpy as np

SRC = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"
TEST = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"


def read_idx_images(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, n, rows, cols = np.frombuffer(data[:16], dtype=">u4")
    assert magic == 2051, "not an IDX image file"
    return np.frombuffer(data[16:], dtype=np.uint8).reshape(n, 1, rows, cols)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "tests", "quant", "fixtures"))
    ap.add_argument("--n", type=int, default=200)
    a = ap.parse_args()
    imgs = read_idx_images(SRC)
    idx = np.sort(np.random.default_rng(2024).choice(len(imgs), a.n, replace=False))
    os.makedirs(a.out, exist_ok=True)
    np.save(os.path.join(a.out, "fashion_calib.npy"), np.ascontiguousarray(imgs[idx]))
    test = read_idx_images(TEST)
    np.save(os.path.join(a.out, "fashion_eval.npy"), np.ascontiguousarray(test[256:1256]))
    print("wrote", a.n, "training images, first indices", idx[:5])


if __name__ == "__main__":
    main()
