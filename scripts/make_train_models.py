#!/usr/bin/python3
"""Writes the training fixtures under models/train/ (run with /usr/bin/python3).

  cnn_fmnist.onnx  NIID-Bench's "simple CNN" for 1x28x28 inputs: Conv 1->6 k5,
                   ReLU, MaxPool 2, Conv 6->16 k5, ReLU, MaxPool 2, Flatten,
                   Linear 256->120, ReLU, Linear 120->84, ReLU, Linear 84->10.
                   PyTorch's default init under torch.manual_seed(0).
  mlp_tiny.onnx    Linear 16->32, ReLU, Linear 32->4 (manual_seed(1)): fast tests.
  cnn_bn.onnx      Conv 1->4 k3, BatchNormalization, ReLU, MaxPool 2, Conv 4->8 k3,
                   BatchNormalization, ReLU, GlobalAveragePool, Flatten, Dropout(0.25),
                   Linear 8->10 (manual_seed(2)), 1x12x12 inputs.

Every model: opset 13, input "input" and output "output" with a dynamic batch
axis, weights as initializers (not graph inputs). cnn_bn is exported in eval
mode with do_constant_folding=False and TrainingMode.PRESERVE so BatchNormalization
stays a node (an inference runtime rejects training_mode=1); eval-mode export
drops Dropout, so a Dropout node (ratio 0.25 as a Constant) is inserted back
before the last Gemm. The same seeds give the same files on the same torch build.
"""
import os

import numpy as np
import onnx
import torch
import torch.nn as nn
from onnx import helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(os.path.dirname(HERE), "models", "train")


class SimpleCNN(nn.Module):
    """NIID-Bench SimpleCNNMNIST (input 1x28x28, 10 classes)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 4 * 4, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(torch.relu(self.conv1(x)))
        x = self.pool(torch.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        x = torch.relu(self.fc1(x))
        x = torch.relu(self.fc2(x))
        return self.fc3(x)


class TinyMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(16, 32)
        self.fc2 = nn.Linear(32, 4)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


class BNNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3)
        self.bn1 = nn.BatchNorm2d(4)
        self.conv2 = nn.Conv2d(4, 8, 3)
        self.bn2 = nn.BatchNorm2d(8)
        self.fc = nn.Linear(8, 10)

    def forward(self, x):
        x = nn.functional.max_pool2d(torch.relu(self.bn1(self.conv1(x))), 2)
        x = torch.relu(self.bn2(self.conv2(x)))
        x = torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1)
        return self.fc(x)


def export(model, shape, path, constant_folding=True):
    model.eval()
    x = torch.zeros((1,) + shape)
    torch.onnx.export(model, x, path, opset_version=13, input_names=["input"],
                      output_names=["output"], do_constant_folding=constant_folding,
                      training=torch.onnx.TrainingMode.PRESERVE,
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})


def insert_dropout(path, ratio):
    """Puts Dropout (opset 13, ratio from a Constant node) before the last Gemm."""
    m = onnx.load(path)
    g = m.graph
    k = max(i for i, n in enumerate(g.node) if n.op_type == "Gemm")
    gemm = g.node[k]
    ratio_node = helper.make_node("Constant", [], ["dropout_ratio"], name="dropout_ratio",
                                  value=numpy_helper.from_array(np.array(ratio, np.float32)))
    drop = helper.make_node("Dropout", [gemm.input[0], "dropout_ratio"], ["dropped"],
                            name="dropout")
    gemm.input[0] = "dropped"
    g.node.insert(k, drop)
    g.node.insert(k, ratio_node)
    onnx.checker.check_model(m)
    onnx.save(m, path)


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    export(SimpleCNN(), (1, 28, 28), os.path.join(OUT, "cnn_fmnist.onnx"))
    torch.manual_seed(1)
    export(TinyMLP(), (16,), os.path.join(OUT, "mlp_tiny.onnx"))
    torch.manual_seed(2)
    bn = BNNet()
    # Non-trivial running statistics, so eval-mode BN is not the identity.
    with torch.no_grad():
        for b in (bn.bn1, bn.bn2):
            b.running_mean.uniform_(-0.2, 0.2)
            b.running_var.uniform_(0.5, 1.5)
    path = os.path.join(OUT, "cnn_bn.onnx")
    export(bn, (1, 12, 12), path, constant_folding=False)
    insert_dropout(path, 0.25)
    for name in sorted(os.listdir(OUT)):
        if name.endswith(".onnx"):
            m = onnx.load(os.path.join(OUT, name))
            ops = [n.op_type for n in m.graph.node]
            print("%-16s %7d bytes  %s" % (name, os.path.getsize(os.path.join(OUT, name)),
                                          " ".join(ops)))


if __name__ == "__main__":
    main()
