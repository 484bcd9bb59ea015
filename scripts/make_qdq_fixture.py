#!/usr/bin/python3
"""A small QDQ-quantized ONNX model (the form ONNX Runtime's and PyTorch's
quantizers export: QuantizeLinear/DequantizeLinear pairs around float ops,
int8 per-channel weights) and its expected output computed with numpy, for
tests/quant/test_qdq.c. Also a QOperator twin (QLinearConv, com.microsoft
QLinearAdd / QLinearGlobalAveragePool, DequantizeLinear) of the same math.

  x [1,3,9,9] -> Q -> DQ -> Conv(DQ(w int8 per-channel), b) -> Relu -> Q -> DQ
    -> MaxPool 2x2 -> (+ itself via Q/DQ Add) -> GlobalAveragePool -> Flatten
    -> Gemm(DQ(B int8)) -> logits [1,5]

Usage: /usr/bin/python3 scripts/make_qdq_fixture.py [--out tests/quant/fixtures]
"""
import argparse
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def q(x, s, z):
    return np.clip(np.rint(x / s) + z, -128, 127).astype(np.int8)


def dq(x, s, z):
    return (x.astype(np.float32) - np.float32(z)) * np.float32(s)


def conv2d(x, w, b, pad):
    n, c, h, wd = x.shape
    m, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    oh, ow = h + 2 * pad - kh + 1, wd + 2 * pad - kw + 1
    y = np.zeros((n, m, oh, ow), np.float64)
    for i in range(oh):
        for j in range(ow):
            patch = xp[:, :, i:i + kh, j:j + kw].astype(np.float64)
            y[:, :, i, j] = np.tensordot(patch, w.astype(np.float64), axes=([1, 2, 3], [1, 2, 3]))
    return (y + b[None, :, None, None]).astype(np.float32)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "tests", "quant", "fixtures"))
    a = ap.parse_args()
    rng = np.random.default_rng(3)
    x = rng.standard_normal((1, 3, 9, 9)).astype(np.float32)
    w = (rng.standard_normal((4, 3, 3, 3)) * 0.3).astype(np.float32)
    b = (rng.standard_normal(4) * 0.1).astype(np.float32)
    B = (rng.standard_normal((4, 5)) * 0.5).astype(np.float32)
    C = (rng.standard_normal(5) * 0.1).astype(np.float32)
    sx, zx = np.float32(0.025), 3
    sw = (np.abs(w).reshape(4, -1).max(1) / 127).astype(np.float32)
    wq = np.clip(np.rint(w / sw[:, None, None, None]), -127, 127).astype(np.int8)
    sy, zy = np.float32(0.02), -128
    sa, za = np.float32(0.04), -128
    sB = np.float32(np.abs(B).max() / 127)
    Bq = np.clip(np.rint(B / sB), -127, 127).astype(np.int8)

    # numpy reference, step by step as the graph says
    t = dq(q(x, sx, zx), sx, zx)
    t = conv2d(t, dq(wq, sw[:, None, None, None], 0), b, 1)
    t = np.maximum(t, 0)
    t = dq(q(t, sy, zy), sy, zy)
    t = t[:, :, :8, :8].reshape(1, 4, 4, 2, 4, 2).max(axis=(3, 5))  # MaxPool 2x2 s2: 9x9 -> 4x4
    t2 = dq(q(t, sy, zy), sy, zy)
    t = dq(q(t2 + t2, sa, za), sa, za)
    t = t.mean(axis=(2, 3))
    logits = (t @ dq(Bq, sB, 0) + C).astype(np.float32)

    def c(name, arr):
        return numpy_helper.from_array(np.asarray(arr), name)

    inits = [c("sx", sx), c("zx", np.int8(zx)), c("wq", wq), c("sw", sw), c("zw", np.zeros(4, np.int8)),
             c("b", b), c("sy", sy), c("zy", np.int8(zy)), c("sa", sa), c("za", np.int8(za)),
             c("Bq", Bq), c("sB", sB), c("zB", np.int8(0)), c("C", C)]
    N = helper.make_node
    nodes = [
        N("QuantizeLinear", ["x", "sx", "zx"], ["xq"]),
        N("DequantizeLinear", ["xq", "sx", "zx"], ["xd"]),
        N("DequantizeLinear", ["wq", "sw", "zw"], ["wd"], axis=0),
        N("Conv", ["xd", "wd", "b"], ["c"], pads=[1, 1, 1, 1]),
        N("Relu", ["c"], ["r"]),
        N("QuantizeLinear", ["r", "sy", "zy"], ["rq"]),
        N("DequantizeLinear", ["rq", "sy", "zy"], ["rd"]),
        N("MaxPool", ["rd"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
        N("QuantizeLinear", ["p", "sy", "zy"], ["pq"]),
        N("DequantizeLinear", ["pq", "sy", "zy"], ["pd"]),
        N("Add", ["pd", "pd"], ["s"]),
        N("QuantizeLinear", ["s", "sa", "za"], ["sq"]),
        N("DequantizeLinear", ["sq", "sa", "za"], ["sd"]),
        N("GlobalAveragePool", ["sd"], ["g"]),
        N("Flatten", ["g"], ["f"]),
        N("DequantizeLinear", ["Bq", "sB", "zB"], ["Bd"]),
        N("Gemm", ["f", "Bd", "C"], ["logits"]),
    ]
    g = helper.make_graph(nodes, "qdq_small",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 9, 9])],
                          [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 5])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], producer_name="make_qdq_fixture")
    onnx.checker.check_model(m)
    os.makedirs(a.out, exist_ok=True)
    onnx.save(m, os.path.join(a.out, "qdq_small.onnx"))
    np.save(os.path.join(a.out, "qdq_small.input.npy"), x)
    np.save(os.path.join(a.out, "qdq_small.output.npy"), logits)
    print("logits", logits)


if __name__ == "__main__":
    main()
