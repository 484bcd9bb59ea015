#!/usr/bin/python3
"""A small MobileNet-style classifier with real trained weights, for the INT8
accuracy check (tests/quant/): trained on Debian's Fashion-MNIST training set
(/usr/share/datasets/fashion-mnist/), no download.

Architecture (MobileNetV2/V3 building blocks, so the INT8 path meets what the
zoo's mobilenet_v2 / mobilenet_v3_large contain): 3x3 stem (ReLU6), inverted
residual blocks (1x1 expand, 3x3 depthwise, 1x1 project, residual Add),
HardSwish, a squeeze-excite block (GlobalAveragePool, 1x1 convs, HardSigmoid,
Mul), GlobalAveragePool, Flatten, Linear -> 10 classes. BatchNorm everywhere
(edgeai folds it at load).

Writes (to --out, default tests/quant/fixtures/):
  fashion_mbnet.onnx       opset 13, input "image" [N,1,28,28] (normalised
                           like models/fashion: (v/255 - 0.2860) / 0.3530)
  fashion_mbnet.txt        test accuracy, training time, settings

Run: /usr/bin/python3 scripts/train_quant_mobilenet.py [--epochs 2]
"""
import argparse
import gzip
import os
import struct
import time

import numpy as np
import torch
import torch.nn as nn

MEAN, STD = 0.2860, 0.3530
DATA = "/usr/share/datasets/fashion-mnist"


def read_idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    _, _, ndim = struct.unpack(">HBB", raw[:4])
    dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def cbn(cin, cout, k, s, groups=1, act=None):
    layers = [nn.Conv2d(cin, cout, k, s, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout)]
    if act is not None:
        layers.append(act())
    return nn.Sequential(*layers)


class SE(nn.Module):
    def __init__(self, c, r=4):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(c, c // r, 1)
        self.fc2 = nn.Conv2d(c // r, c, 1)

    def forward(self, x):
        s = torch.relu(self.fc1(self.pool(x)))
        return x * nn.functional.hardsigmoid(self.fc2(s))


class IR(nn.Module):
    def __init__(self, cin, cout, s, e, act, se=False):
        super().__init__()
        mid = cin * e
        self.res = s == 1 and cin == cout
        self.body = nn.Sequential(
            cbn(cin, mid, 1, 1, act=act),
            cbn(mid, mid, 3, s, groups=mid, act=act),
            SE(mid) if se else nn.Identity(),
            cbn(mid, cout, 1, 1),
        )

    def forward(self, x):
        y = self.body(x)
        return x + y if self.res else y


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            cbn(1, 16, 3, 1, act=nn.ReLU6),
            IR(16, 24, 2, 4, nn.ReLU6),
            IR(24, 24, 1, 4, nn.ReLU6),
            IR(24, 40, 2, 4, nn.Hardswish, se=True),
            IR(40, 40, 1, 4, nn.Hardswish, se=True),
            cbn(40, 96, 1, 1, act=nn.Hardswish),
        )
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(96, 10)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(self.features(x)), 1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "tests", "quant", "fixtures"))
    a = ap.parse_args()
    torch.manual_seed(1234)
    np.random.seed(1234)
    torch.set_num_threads(2)
    norm = lambda u8: ((u8.astype(np.float32) / 255.0 - MEAN) / STD)[:, None]
    xtr = torch.from_numpy(norm(read_idx(f"{DATA}/train-images-idx3-ubyte.gz")))
    ytr = torch.from_numpy(read_idx(f"{DATA}/train-labels-idx1-ubyte.gz").astype(np.int64))
    xte = torch.from_numpy(norm(read_idx(f"{DATA}/t10k-images-idx3-ubyte.gz")))
    yte = torch.from_numpy(read_idx(f"{DATA}/t10k-labels-idx1-ubyte.gz").astype(np.int64))
    model = Net()
    opt = torch.optim.AdamW(model.parameters(), lr=4e-3, weight_decay=1e-4)
    steps = a.epochs * (len(xtr) // 128)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=4e-3, total_steps=steps)
    t0 = time.time()
    for ep in range(a.epochs):
        model.train()
        perm = torch.randperm(len(xtr))
        for i in range(len(xtr) // 128):
            idx = perm[i * 128:(i + 1) * 128]
            xb = xtr[idx]
            flip = torch.rand(len(xb)) < 0.5
            xb[flip] = xb[flip].flip(3)
            loss = nn.functional.cross_entropy(model(xb), ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        print(f"epoch {ep + 1}: loss {loss.item():.3f}, {time.time() - t0:.0f} s", flush=True)
    model.eval()
    with torch.no_grad():
        pred = torch.cat([model(xte[i:i + 1000]).argmax(1) for i in range(0, len(xte), 1000)])
    acc = (pred == yte).float().mean().item() * 100
    print(f"test accuracy {acc:.2f}%")
    os.makedirs(a.out, exist_ok=True)
    path = os.path.join(a.out, "fashion_mbnet.onnx")
    torch.onnx.export(model, xte[:1], path, opset_version=13, input_names=["image"],
                      output_names=["logits"], dynamic_axes={"image": {0: "N"}, "logits": {0: "N"}})
    with open(os.path.join(a.out, "fashion_mbnet.txt"), "w") as f:
        f.write(f"made by: /usr/bin/python3 scripts/train_quant_mobilenet.py --epochs {a.epochs}\n"
                f"data: Fashion-MNIST train (60000) / test (10000), Debian dataset-fashion-mnist\n"
                f"test accuracy (PyTorch, 10000 images): {acc:.2f}%\n"
                f"training: AdamW one-cycle 4e-3, batch 128, hflip, seed 1234, "
                f"{time.time() - t0:.0f} s on 2 shared CPU threads\n")


if __name__ == "__main__":
    main()
