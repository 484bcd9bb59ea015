#!/usr/bin/python3
"""Writes the UNTRAINED edge and cloud architectures for the edge-cloud hybrid
(Fashion-MNIST, 1x28x28 -> 10 classes) as ONNX; `edgeai train` trains them
(scripts/train_hybrid_models.sh).

  edge_init.onnx   tiny CNN for a microcontroller-class device (~20k params):
                   Conv 1->8 k3 p1, ReLU, MaxPool 2, Conv 8->16 k3 p1, ReLU,
                   MaxPool 2, Flatten, Gemm 784->24, ReLU, Gemm 24->10.
  cloud_init.onnx  wider CNN with BatchNormalization and Dropout (~0.42M params):
                   Conv 1->32 k3 p1, BN, ReLU, MaxPool 2, Conv 32->64 k3 p1, BN,
                   ReLU, MaxPool 2, Flatten, Dropout 0.2, Gemm 3136->128, ReLU,
                   Dropout 0.3, Gemm 128->10.

Both: opset 13, input "image" [N,1,28,28], output "logits" [N,10] with a
dynamic batch axis, weights as initializers, PyTorch's default init under a
fixed seed (edge: manual_seed(5), cloud: manual_seed(6)). The cloud model is
exported in eval mode without constant folding and with TrainingMode.PRESERVE
so BatchNormalization stays a node; the exporter's deduplication of equal
initial tensors (running_var = BN scale = ones, running_mean = BN bias = zeros,
tied through Identity nodes) is undone; eval-mode export drops Dropout, so the
Dropout nodes (ratio as a Constant) are inserted back before the Gemms. Only
ops the trainer differentiates are used (docs/train-ops.md).

Usage: /usr/bin/python3 scripts/make_hybrid_models.py [OUT_DIR]
       (default OUT_DIR: models/hybrid)
       /usr/bin/python3 scripts/make_hybrid_models.py --eval DIR
       (an independent check: loads DIR/{edge,cloud}.onnx's weights into the
       PyTorch modules above and prints their accuracy on the 10,000 test
       images, pixels / 255 as edgeai feeds them)
"""
import os
import sys
import warnings

import numpy as np
import onnx
import torch
import torch.nn as nn
from onnx import helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(os.path.dirname(HERE), "models", "hybrid")


class EdgeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.fc1 = nn.Linear(16 * 7 * 7, 24)
        self.fc2 = nn.Linear(24, 10)

    def forward(self, x):
        x = nn.functional.max_pool2d(torch.relu(self.conv1(x)), 2)
        x = nn.functional.max_pool2d(torch.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        return self.fc2(torch.relu(self.fc1(x)))


class CloudNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(32)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(64)
        self.fc1 = nn.Linear(64 * 7 * 7, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = nn.functional.max_pool2d(torch.relu(self.bn1(self.conv1(x))), 2)
        x = nn.functional.max_pool2d(torch.relu(self.bn2(self.conv2(x))), 2)
        x = torch.flatten(x, 1)
        return self.fc2(torch.relu(self.fc1(x)))


def export(model, path, constant_folding=True):
    model.eval()
    x = torch.zeros((1, 1, 28, 28))
    torch.onnx.export(model, x, path, opset_version=13, input_names=["image"],
                      output_names=["logits"], do_constant_folding=constant_folding,
                      training=torch.onnx.TrainingMode.PRESERVE,
                      dynamic_axes={"image": {0: "N"}, "logits": {0: "N"}})


def untie_identities(path):
    """Replaces Identity nodes that alias one initializer under another name by
    a separate initializer. At init torch's exporter deduplicates equal tensors:
    BN's running_var (ones) becomes Identity(bn.weight) and running_mean (zeros)
    Identity(bn.bias); a trainer would then update the statistics and the
    affine parameters as one tensor. Each alias gets its own copy."""
    m = onnx.load(path)
    g = m.graph
    inits = {i.name: i for i in g.initializer}
    for n in [n for n in g.node if n.op_type == "Identity" and n.input[0] in inits]:
        arr = numpy_helper.to_array(inits[n.input[0]]).copy()
        g.initializer.append(numpy_helper.from_array(arr, n.output[0]))
        g.node.remove(n)
    onnx.checker.check_model(m)
    onnx.save(m, path)


def insert_dropouts(path, ratios):
    """Puts Dropout (ratio from a Constant node) before the k-th Gemm, ratios[k]."""
    m = onnx.load(path)
    g = m.graph
    gemms = [n for n in g.node if n.op_type == "Gemm"]
    assert len(gemms) == len(ratios), "expected %d Gemm nodes" % len(ratios)
    for k, (gemm, ratio) in enumerate(zip(gemms, ratios)):
        pos = list(g.node).index(gemm)
        rname, dname = "dropout%d_ratio" % k, "dropout%d_out" % k
        ratio_node = helper.make_node("Constant", [], [rname], name=rname,
                                      value=numpy_helper.from_array(
                                          np.array(ratio, np.float32)))
        drop = helper.make_node("Dropout", [gemm.input[0], rname], [dname],
                                name="dropout%d" % k)
        gemm.input[0] = dname
        g.node.insert(pos, drop)
        g.node.insert(pos, ratio_node)
    onnx.checker.check_model(m)
    onnx.save(m, path)


def n_params(model):
    return sum(p.numel() for p in model.parameters())


def evaluate(d):
    import gzip
    root = os.environ.get("EAI_FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist")
    with gzip.open(os.path.join(root, "t10k-images-idx3-ubyte.gz")) as f:
        x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)
    with gzip.open(os.path.join(root, "t10k-labels-idx1-ubyte.gz")) as f:
        y = np.frombuffer(f.read(), np.uint8, offset=8)
    x = torch.from_numpy(x.astype(np.float32) / 255.0)
    probs = {}
    for name, model in (("edge", EdgeNet()), ("cloud", CloudNet())):
        m = onnx.load(os.path.join(d, name + ".onnx"))
        state = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy())
                 for i in m.graph.initializer}
        missing = model.load_state_dict(state, strict=False)
        assert not missing.missing_keys, missing.missing_keys
        model.eval()
        with torch.no_grad():
            p = torch.cat([torch.softmax(model(x[i:i + 1000]), 1)
                           for i in range(0, len(x), 1000)]).numpy()
        probs[name] = p
        acc = (p.argmax(1) == y).mean()
        print("%s.onnx: PyTorch accuracy on fashion-mnist:test %.4f (%d images)" % (
            name, acc, len(y)))
    # Cascade reference: offload the images whose edge max-softmax is lowest;
    # the smallest offload fraction within 0.5 points of cloud-only.
    conf = probs["edge"].max(1)
    ok_e = probs["edge"].argmax(1) == y
    ok_c = probs["cloud"].argmax(1) == y
    order = np.argsort(conf, kind="stable")  # least confident first
    gain = np.concatenate([[0], np.cumsum(ok_c[order].astype(int) - ok_e[order])])
    hyb = (ok_e.sum() + gain) / len(y)
    k = int(np.argmax(hyb >= ok_c.mean() - 0.005))
    print("cascade (edge max-softmax, no temperature): offload %.1f%% gives %.2f%% "
          "(cloud-only %.2f%%); at threshold 0.85: offload %.1f%%, %.2f%%" % (
              100 * k / len(y), 100 * hyb[k], 100 * ok_c.mean(),
              100 * (conf < 0.85).mean(),
              100 * np.where(conf < 0.85, ok_c, ok_e).mean()))


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--eval":
        evaluate(sys.argv[2])
        return
    # The edge export keeps torch's default constant folding (nothing to fold
    # away there but shape arithmetic); its PRESERVE-mode warning is noise.
    warnings.filterwarnings("ignore", message="It is recommended that constant folding")
    out = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_OUT
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(5)
    edge = EdgeNet()
    path = os.path.join(out, "edge_init.onnx")
    export(edge, path)
    untie_identities(path)
    torch.manual_seed(6)
    cloud = CloudNet()
    path = os.path.join(out, "cloud_init.onnx")
    export(cloud, path, constant_folding=False)
    untie_identities(path)
    insert_dropouts(path, [0.2, 0.3])
    for name, model in (("edge_init.onnx", edge), ("cloud_init.onnx", cloud)):
        p = os.path.join(out, name)
        m = onnx.load(p)
        ops = [n.op_type for n in m.graph.node]
        print("%-16s %7d params %8d bytes  %s" % (name, n_params(model), os.path.getsize(p),
                                                  " ".join(ops)))


if __name__ == "__main__":
    main()
