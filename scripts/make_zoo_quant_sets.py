#!/usr/bin/python3
"""Calibration and evaluation sets of real photos for the INT8 report on the
zoo models (secondary figures: the zoo has random weights). The photos are
the seven JPEGs Debian's darknet package ships (/usr/share/darknet/data);
calibration crops come from four of them, evaluation crops from the other
three, so the sets are disjoint. Each crop is a random square (40-100% of the
short side), resized to SIZE x SIZE, stored as raw uint8 pixels
[N, 3, SIZE, SIZE] (edgeai normalises them with --mean/--std).

Usage: /usr/bin/python3 scripts/make_zoo_quant_sets.py --size 224 --out DIR
writes DIR/calib_SIZE.npy (32 crops) and DIR/eval_SIZE.npy (24 crops).
"""
import argparse
import os

import numpy as np
import torch
import torchvision.io as io
import torch.nn.functional as F

D = "/usr/share/darknet/data/"
CALIB = ["dog.jpg", "eagle.jpg", "giraffe.jpg", "horses.jpg"]
EVAL = ["kite.jpg", "person.jpg", "scream.jpg"]


def crops(files, n, size, rng):
    imgs = [io.read_image(D + f, io.ImageReadMode.RGB) for f in files]
    out = []
    for k in range(n):
        im = imgs[k % len(imgs)]
        h, w = im.shape[1:]
        s = int(min(h, w) * rng.uniform(0.4, 1.0))
        y, x = rng.integers(0, h - s + 1), rng.integers(0, w - s + 1)
        c = im[:, y:y + s, x:x + s].float()[None]
        c = F.interpolate(c, size=(size, size), mode="bilinear", align_corners=False)
        out.append(c[0].round().clamp(0, 255).to(torch.uint8).numpy())
    return np.stack(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    rng = np.random.default_rng(7)
    os.makedirs(a.out, exist_ok=True)
    np.save(os.path.join(a.out, f"calib_{a.size}.npy"), crops(CALIB, 32, a.size, rng))
    np.save(os.path.join(a.out, f"eval_{a.size}.npy"), crops(EVAL, 24, a.size, rng))


if __name__ == "__main__":
    main()
