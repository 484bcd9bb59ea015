#!/usr/bin/python3
"""PyTorch reference for `edgeai train`: trains the architecture of an ONNX
model from the same initial weights (its initializers, read with
onnx.numpy_helper) on the same samples in the same batch order (edgeai's
--no-shuffle: the first --max-samples samples in file order), printing every
step's loss in the CSV form of `edgeai train --step-log`.

The ONNX graph is run node by node with torch.nn.functional (Conv, Gemm,
MatMul, Relu, LeakyRelu, Sigmoid, Tanh, MaxPool, AveragePool,
GlobalAveragePool, Flatten, Reshape, Add, Sub, Mul, Concat, Softmax folded into
the loss like edgeai does), so no hand-written twin of the model can drift.

  /usr/bin/python3 scripts/train_reference.py --model models/train/cnn_fmnist.onnx \\
      --data fashion-mnist:train --max-samples 2048 --batch 64 --lr 0.05 --momentum 0.9 \\
      --out torch.csv [--compare edgeai.csv --tol 1e-3] [--compare-onnx trained.onnx]

--data takes fashion-mnist:train|test (Debian's IDX files, pixels / 255, as
edgeai's default) or npy:X.npy,Y.npy. --make-npy X.npy,Y.npy writes a seeded
synthetic Fashion-MNIST-shaped set instead (for machines without the data).
Exit status 1 when a compared step's loss differs by more than --tol relative.
"""
import argparse
import gzip
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper

FMNIST_DIR = os.environ.get("EAI_FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist")


def load_idx(path):
    with gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_data(spec, max_samples):
    kind, _, rest = spec.partition(":")
    if kind == "fashion-mnist":
        pre = {"train": "train", "test": "t10k"}[rest]
        x = load_idx(os.path.join(FMNIST_DIR, pre + "-images-idx3-ubyte.gz"))
        y = load_idx(os.path.join(FMNIST_DIR, pre + "-labels-idx1-ubyte.gz"))
        x = (x.astype(np.float32) / np.float32(255))[:, None, :, :]
    elif kind == "npy":
        xp, yp = rest.split(",")
        x, y = np.load(xp).astype(np.float32), np.load(yp)
    else:
        sys.exit("unknown data spec " + spec)
    n = min(max_samples or len(x), len(x))
    return torch.from_numpy(np.ascontiguousarray(x[:n])), torch.from_numpy(y[:n].astype(np.int64))


def make_npy(paths, n=2048, seed=0):
    """Seeded stand-in for Fashion-MNIST: 28x28 images whose class decides a blob."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, n).astype(np.int32)
    x = rng.random((n, 1, 28, 28), dtype=np.float32) * 0.3
    for i in range(n):
        r, c = divmod(int(y[i]), 4)
        x[i, 0, 4 + 7 * r:10 + 7 * r, 2 + 6 * c:8 + 6 * c] += 0.7
    xp, yp = paths.split(",")
    np.save(xp, x)
    np.save(yp, y)


class OnnxNet(torch.nn.Module):
    def __init__(self, path):
        super().__init__()
        m = onnx.load(path)
        self.g = m.graph
        self.params = torch.nn.ParameterDict()
        self.consts = {}
        self.names = {}
        for t in self.g.initializer:
            a = numpy_helper.to_array(t).copy()
            if a.dtype == np.float32 and a.ndim > 0:
                key = "p%d" % len(self.names)
                self.names[t.name] = key
                self.params[key] = torch.nn.Parameter(torch.from_numpy(a))
            else:
                self.consts[t.name] = torch.from_numpy(a)
        for n in self.g.node:
            if n.op_type == "Constant":
                self.consts[n.output[0]] = torch.from_numpy(
                    numpy_helper.to_array(n.attribute[0].t).copy())
        out = self.g.output[0].name
        last = [n for n in self.g.node if out in n.output][0]
        self.fold = last.op_type == "Softmax"
        self.logits = last.input[0] if self.fold else out

    def value(self, env, name):
        if name in env:
            return env[name]
        if name in self.names:
            return self.params[self.names[name]]
        return self.consts[name]

    def forward(self, x):
        env = {self.g.input[0].name: x}
        for n in self.g.node:
            if n.op_type == "Constant":
                continue
            if self.fold and n.output[0] == self.g.output[0].name:
                break
            at = {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}
            i = [self.value(env, s) if s else None for s in n.input]
            op = n.op_type
            if op == "Conv":
                p = at.get("pads", [0, 0, 0, 0])
                assert p[0] == p[2] and p[1] == p[3], "asymmetric pads"
                y = F.conv2d(i[0], i[1], i[2] if len(i) > 2 else None, at.get("strides", 1),
                             (p[0], p[1]), at.get("dilations", 1), at.get("group", 1))
            elif op == "Gemm":
                a = i[0].t() if at.get("transA", 0) else i[0]
                b = i[1].t() if at.get("transB", 0) else i[1]
                y = at.get("alpha", 1.0) * (a @ b)
                if len(i) > 2:
                    y = y + at.get("beta", 1.0) * i[2]
            elif op == "MatMul":
                y = i[0] @ i[1]
            elif op == "Relu":
                y = F.relu(i[0])
            elif op == "LeakyRelu":
                y = F.leaky_relu(i[0], at.get("alpha", 0.01))
            elif op == "Sigmoid":
                y = torch.sigmoid(i[0])
            elif op == "Tanh":
                y = torch.tanh(i[0])
            elif op in ("MaxPool", "AveragePool"):
                p = at.get("pads", [0, 0, 0, 0])
                f = F.max_pool2d if op == "MaxPool" else F.avg_pool2d
                y = f(i[0], at["kernel_shape"], at.get("strides", at["kernel_shape"]),
                      (p[0], p[1]), ceil_mode=bool(at.get("ceil_mode", 0)))
            elif op == "GlobalAveragePool":
                y = i[0].mean(dim=(2, 3), keepdim=True)
            elif op == "Flatten":
                y = torch.flatten(i[0], at.get("axis", 1))
            elif op == "Reshape":
                shape = [int(s) for s in i[1]]
                shape = [i[0].shape[k] if s == 0 else s for k, s in enumerate(shape)]
                y = i[0].reshape(shape)
            elif op == "Add":
                y = i[0] + i[1]
            elif op == "Sub":
                y = i[0] - i[1]
            elif op == "Mul":
                y = i[0] * i[1]
            elif op == "Concat":
                y = torch.cat(i, at["axis"])
            else:
                sys.exit("train_reference.py: op %s not supported here" % op)
            env[n.output[0]] = y
        return env[self.logits]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model")
    ap.add_argument("--data")
    ap.add_argument("--max-samples", type=int, default=0)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--momentum", type=float, default=0.0)
    ap.add_argument("--nesterov", action="store_true")
    ap.add_argument("--wd", type=float, default=0.0)
    ap.add_argument("--optim", default="sgd", choices=["sgd", "adam", "adamw"])
    ap.add_argument("--out")
    ap.add_argument("--compare")
    ap.add_argument("--tol", type=float, default=1e-3)
    ap.add_argument("--compare-onnx")
    ap.add_argument("--make-npy")
    a = ap.parse_args()
    if a.make_npy:
        make_npy(a.make_npy)
        return 0
    torch.set_num_threads(1)
    net = OnnxNet(a.model)
    x, y = load_data(a.data, a.max_samples)
    if a.optim == "sgd":
        opt = torch.optim.SGD(net.parameters(), lr=a.lr, momentum=a.momentum,
                              nesterov=a.nesterov, weight_decay=a.wd)
    elif a.optim == "adam":
        opt = torch.optim.Adam(net.parameters(), lr=a.lr, weight_decay=a.wd)
    else:
        opt = torch.optim.AdamW(net.parameters(), lr=a.lr, weight_decay=a.wd)
    rows = []
    for e in range(a.epochs):
        for k, s in enumerate(range(0, len(x), a.batch)):
            xb, yb = x[s:s + a.batch], y[s:s + a.batch]
            opt.zero_grad()
            loss = F.cross_entropy(net(xb), yb)
            loss.backward()
            opt.step()
            rows.append((e + 1, k + 1, len(xb), loss.item()))
    text = "epoch,step,n,loss\n" + "".join("%d,%d,%d,%.9g\n" % r for r in rows)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    bad = 0
    if a.compare:
        with open(a.compare) as f:
            theirs = [line.strip().split(",") for line in f.readlines()[1:] if line.strip()]
        if len(theirs) != len(rows):
            print("step count differs: torch %d, edgeai %d" % (len(rows), len(theirs)))
            return 1
        worst = 0.0
        for r, t in zip(rows, theirs):
            rel = abs(float(t[3]) - r[3]) / max(abs(r[3]), 1e-12)
            worst = max(worst, rel)
            if rel > a.tol:
                bad += 1
                print("epoch %d step %d: torch %.7f edgeai %.7f (rel %.2e > %.0e)"
                      % (r[0], r[1], r[3], float(t[3]), rel, a.tol))
        print("%d steps: first loss %.6f, last %.6f; max relative loss difference %.3e (tol %.0e)"
              % (len(rows), rows[0][3], rows[-1][3], worst, a.tol))
    if a.compare_onnx:
        trained = {t.name: numpy_helper.to_array(t) for t in onnx.load(a.compare_onnx).graph.initializer}
        worst = 0.0
        for name, key in net.names.items():
            w = net.params[key].detach().numpy()
            d = np.abs(trained[name] - w).max() / max(np.abs(w).max(), 1e-12)
            worst = max(worst, d)
        print("final weights: max |edgeai - torch| / max |w| per tensor: %.3e" % worst)
        if worst > 10 * a.tol:
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
