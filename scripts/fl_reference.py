#!/usr/bin/python3
"""PyTorch reference for edgeai's federated benchmarks (bench/issue4.py).

Two jobs, both on the same ONNX model edgeai trains (its architecture is
rebuilt in PyTorch and its initial weights are read from the ONNX
initializers, so both sides start from the same point):

  fedavg      FedAvg (McMahan et al. 2017) over client index files that
              `edgeai data ... --write-partition DIR` wrote, so both sides see
              the same clients: local SGD (momentum), sample-weighted average,
              test accuracy after every round. JSON to --json.
  throughput  training samples/s (forward + backward + SGD step) of the same
              model at the same batch size and thread count.

Only the NIID-Bench "simple CNN" layout (Conv-ReLU-MaxPool x2, then three
Linear layers) and plain MLPs (Gemm/ReLU chains) are rebuilt; anything else is
an error that says so.

Run: /usr/bin/python3 scripts/fl_reference.py fedavg --model M.onnx --partition-dir D
         --rounds 50 --epochs 10 --batch 64 --lr 0.01 --momentum 0.9 --json out.json
     /usr/bin/python3 scripts/fl_reference.py throughput --model M.onnx --batch 64 --threads 1
"""
import argparse
import glob
import gzip
import json
import os
import struct
import sys
import time

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import numpy_helper

FMNIST_DIR = os.environ.get("EAI_FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist")


def read_idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype != 0x08:
        sys.exit(f"{path}: not an unsigned-byte IDX file")
    dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_fmnist(split):
    stem = "train" if split == "train" else "t10k"
    x = read_idx(os.path.join(FMNIST_DIR, f"{stem}-images-idx3-ubyte.gz"))
    y = read_idx(os.path.join(FMNIST_DIR, f"{stem}-labels-idx1-ubyte.gz"))
    # edgeai's default dataset scaling: pixel / 255, no mean/std.
    return (torch.from_numpy(x.astype(np.float32) / 255.0).unsqueeze(1),
            torch.from_numpy(y.astype(np.int64)))


class OnnxNet(nn.Module):
    """Rebuilds a Conv/Relu/MaxPool/Flatten/Gemm chain from the ONNX graph."""

    def __init__(self, path):
        super().__init__()
        m = onnx.load(path)
        init = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
        self.steps = []
        self.params = nn.ParameterList()
        for node in m.graph.node:
            attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
            if node.op_type == "Conv":
                w = self._param(init[node.input[1]])
                b = self._param(init[node.input[2]]) if len(node.input) > 2 else None
                pads = attrs.get("pads", [0, 0, 0, 0])
                if pads[0] != pads[2] or pads[1] != pads[3]:
                    sys.exit("fl_reference: asymmetric Conv pads are not rebuilt")
                st = tuple(attrs.get("strides", [1, 1]))
                self.steps.append(lambda x, w=w, b=b, p=tuple(pads[:2]), s=st, g=attrs.get(
                    "group", 1): F.conv2d(x, w, b, s, p, 1, g))
            elif node.op_type == "Relu":
                self.steps.append(F.relu)
            elif node.op_type == "MaxPool":
                k = tuple(attrs["kernel_shape"])
                s = tuple(attrs.get("strides", k))
                self.steps.append(lambda x, k=k, s=s: F.max_pool2d(x, k, s))
            elif node.op_type in ("Flatten", "Reshape"):
                self.steps.append(lambda x: x.reshape(x.shape[0], -1))
            elif node.op_type in ("Gemm", "MatMul"):
                w = init[node.input[1]]
                if node.op_type == "Gemm" and attrs.get("transB", 0) == 1:
                    wt = self._param(w)  # [out, in]
                else:
                    wt = self._param(w.T.copy())
                b = self._param(init[node.input[2]]) if len(node.input) > 2 else None
                self.steps.append(lambda x, w=wt, b=b: F.linear(x, w, b))
            elif node.op_type == "Add" and self.steps:
                b = self._param(init[node.input[1]])
                self.steps.append(lambda x, b=b: x + b)
            else:
                sys.exit(f"fl_reference: op {node.op_type} is not rebuilt")

    def _param(self, a):
        p = nn.Parameter(torch.from_numpy(np.array(a, dtype=np.float32)))
        self.params.append(p)
        return p

    def forward(self, x):
        for f in self.steps:
            x = f(x)
        return x


def evaluate(net, x, y):
    net.eval()
    correct, loss = 0, 0.0
    with torch.no_grad():
        for i in range(0, len(x), 1000):
            out = net(x[i:i + 1000])
            loss += F.cross_entropy(out, y[i:i + 1000], reduction="sum").item()
            correct += (out.argmax(1) == y[i:i + 1000]).sum().item()
    return correct / len(x), loss / len(x)


# ---- edgeai's batch order (--batch-order edgeai) ----
# The permutations edgeai's FL client draws, rebuilt here so both sides train
# on the very same batches: epoch e of client k in round r shuffles the
# client's index list (in partition-file order) with Fisher-Yates from the
# last element down, driven by xoshiro256** seeded with four splitmix64
# outputs of fl_seed(seed, r, k, e) (src/fl/fl_impl.h, src/data/data_impl.h).
M64 = (1 << 64) - 1


def splitmix64(state):
    state = (state + 0x9E3779B97F4A7C15) & M64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return state, z ^ (z >> 31)


def fl_seed(seed, a, b, c):
    s, h = splitmix64(seed)
    s, h = splitmix64(h ^ ((a * 0xD1B54A32D192ED03) & M64))
    s, h = splitmix64(h ^ ((b * 0xABC98388FB8FAC03) & M64))
    s, h = splitmix64(h ^ ((c * 0x8CB92BA72F3D8DD7) & M64))
    return h


def eai_shuffle(idx, seed):
    x, st = seed, []
    for _ in range(4):
        x, v = splitmix64(x)
        st.append(v)
    s0, s1, s2, s3 = st
    out = list(idx)
    for i in range(len(out) - 1, 0, -1):
        bound = i + 1
        threshold = ((1 << 64) - bound) % bound
        while True:
            r = (((s1 * 5) & M64) << 7 | ((s1 * 5) & M64) >> 57) & M64
            r = (r * 9) & M64
            t = (s1 << 17) & M64
            s2 ^= s0
            s3 ^= s1
            s1 ^= s2
            s0 ^= s3
            s2 ^= t
            s3 = ((s3 << 45) | (s3 >> 19)) & M64
            if r >= threshold:
                break
        j = r % bound
        out[i], out[j] = out[j], out[i]
    return out


def local_train(net, x, y, idx, epochs, batch, lr, momentum, gen, order=None):
    """order(e): edgeai's permutation of idx for epoch e; None: torch.randperm."""
    net.train()
    opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=momentum)
    for e in range(epochs):
        if order is None:
            perm = idx[torch.randperm(len(idx), generator=gen)]
        else:
            perm = torch.tensor(order(e), dtype=torch.int64)
        for i in range(0, len(perm), batch):
            b = perm[i:i + batch]
            opt.zero_grad()
            F.cross_entropy(net(x[b]), y[b]).backward()
            opt.step()


def cmd_fedavg(a):
    torch.set_num_threads(a.threads)
    xtr, ytr = load_fmnist("train")
    xte, yte = load_fmnist("test")
    files = sorted(glob.glob(os.path.join(a.partition_dir, "client_*.npy")))
    if not files:
        sys.exit(f"{a.partition_dir}: no client_*.npy (edgeai data --write-partition)")
    clients = [torch.from_numpy(np.load(f).astype(np.int64)) for f in files]
    glob_net = OnnxNet(a.model)
    work = OnnxNet(a.model)
    gen = torch.Generator().manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    n_pick = max(1, int(round(a.fraction * len(clients))))
    rounds = []
    t0 = time.time()
    for r in range(a.rounds):
        picked = sorted(rng.choice(len(clients), n_pick, replace=False)) if n_pick < len(
            clients) else range(len(clients))
        acc_state = None
        total = 0
        for k in picked:
            work.load_state_dict(glob_net.state_dict())
            order = None
            if a.batch_order == "edgeai":
                ids = clients[k].tolist()
                order = (lambda e, k=k, ids=ids, r=r:
                         eai_shuffle(ids, fl_seed(a.seed, r, k, e)))
            local_train(work, xtr, ytr, clients[k], a.epochs, a.batch, a.lr, a.momentum, gen,
                        order)
            n = len(clients[k])
            sd = {key: v.detach().clone() * n for key, v in work.state_dict().items()}
            if acc_state is None:
                acc_state = sd
            else:
                for key in acc_state:
                    acc_state[key] += sd[key]
            total += n
        glob_net.load_state_dict({key: v / total for key, v in acc_state.items()})
        acc, loss = evaluate(glob_net, xte, yte)
        rounds.append({"round": r, "test_acc": acc, "test_loss": loss,
                       "seconds": time.time() - t0})
        print(f"torch fedavg round {r + 1}/{a.rounds}: test acc {100 * acc:.2f}% "
              f"loss {loss:.4f} ({time.time() - t0:.1f} s)", flush=True)
    out = {"peer": f"PyTorch {torch.__version__}", "rounds": rounds,
           "seconds": time.time() - t0}
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1)


def cmd_throughput(a):
    torch.set_num_threads(a.threads)
    xtr, ytr = load_fmnist("train")
    net = OnnxNet(a.model)
    net.train()
    opt = torch.optim.SGD(net.parameters(), lr=a.lr, momentum=a.momentum)
    steps = a.steps
    n = steps * a.batch
    xs, ys = xtr[:n], ytr[:n]

    def run(k):
        for i in range(k):
            b = slice(i * a.batch, (i + 1) * a.batch)
            opt.zero_grad()
            F.cross_entropy(net(xs[b]), ys[b]).backward()
            opt.step()

    run(min(10, steps))  # warm-up
    best = 0.0
    for _ in range(a.repeats):
        t = time.perf_counter()
        run(steps)
        best = max(best, n / (time.perf_counter() - t))
    res = {"peer": f"PyTorch {torch.__version__}", "batch": a.batch, "threads": a.threads,
           "samples_per_s": best}
    print(json.dumps(res))


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("fedavg")
    f.add_argument("--model", required=True)
    f.add_argument("--partition-dir", required=True)
    f.add_argument("--rounds", type=int, default=50)
    f.add_argument("--epochs", type=int, default=10)
    f.add_argument("--batch", type=int, default=64)
    f.add_argument("--lr", type=float, default=0.01)
    f.add_argument("--momentum", type=float, default=0.9)
    f.add_argument("--fraction", type=float, default=1.0)
    f.add_argument("--threads", type=int, default=1)
    f.add_argument("--seed", type=int, default=1)
    f.add_argument("--batch-order", choices=["edgeai", "torch"], default="torch",
                   help="edgeai: the permutations edgeai's clients draw for the same seed "
                        "(same batches on both sides, so only arithmetic differs); "
                        "torch: torch.randperm")
    f.add_argument("--json")
    t = sub.add_parser("throughput")
    t.add_argument("--model", required=True)
    t.add_argument("--batch", type=int, default=64)
    t.add_argument("--threads", type=int, default=1)
    t.add_argument("--lr", type=float, default=0.01)
    t.add_argument("--momentum", type=float, default=0.9)
    t.add_argument("--steps", type=int, default=100)
    t.add_argument("--repeats", type=int, default=3)
    a = p.parse_args()
    cmd_fedavg(a) if a.cmd == "fedavg" else cmd_throughput(a)


if __name__ == "__main__":
    main()
