#!/usr/bin/python3
"""Writes the seed corpora for the fuzz targets: small valid .npy files (numpy,
several dtypes and versions) and tiny ONNX models (onnx.helper), plus broken
variants of each. Files found by fuzzing (crashes that were fixed) are added
by hand under the same folders and are not touched here.

    /usr/bin/python3 fuzz/gen_corpus.py
"""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

here = os.path.dirname(os.path.abspath(__file__))
npy_dir = os.path.join(here, "corpus", "npy")
onnx_dir = os.path.join(here, "corpus", "onnx")
os.makedirs(npy_dir, exist_ok=True)
os.makedirs(onnx_dir, exist_ok=True)


def npy(name, a, version=None):
    with open(os.path.join(npy_dir, name), "wb") as f:
        np.lib.format.write_array(f, a, version=version, allow_pickle=False)


def raw(folder, name, data):
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


npy("f32_2x3.npy", np.arange(6, dtype=np.float32).reshape(2, 3))
npy("f16.npy", np.array([1.0, -0.5], dtype=np.float16))
npy("f64_be.npy", np.array([1.5, 2.5], dtype=">f8"))
npy("i64_v2.npy", np.array([[1, 2, 3]], dtype=np.int64), version=(2, 0))
npy("i32_be_v3.npy", np.array([-7], dtype=">i4"), version=(3, 0))
npy("i16.npy", np.array([1, -1], dtype=np.int16))
npy("i8.npy", np.array([-1, 1], dtype=np.int8))
npy("u8_rank4.npy", np.zeros((1, 2, 1, 2), dtype=np.uint8))
npy("u16.npy", np.array([7], dtype=np.uint16))
npy("bool.npy", np.array([True, False]))
npy("scalar.npy", np.array(1.0, dtype=np.float32))
npy("empty.npy", np.zeros((0, 4), dtype=np.float32))
npy("fortran.npy", np.asfortranarray(np.zeros((2, 2), dtype=np.float32)))
npy("structured.npy", np.zeros(1, dtype=[("a", "<i4")]))
with open(os.path.join(npy_dir, "f32_2x3.npy"), "rb") as f:
    good = f.read()
raw(npy_dir, "truncated.npy", good[:-5])
raw(npy_dir, "bad_shape.npy", good.replace(b"(2, 3)", b"(2,-3)"))
raw(npy_dir, "huge_shape.npy", good.replace(b"(2, 3), }      ", b"(9999999999,)} "))


def model(name, nodes, inputs, outputs, inits=(), opset=13):
    g = helper.make_graph(nodes, name, inputs, outputs, initializer=list(inits))
    m = helper.make_model(g, producer_name="edgeai-fuzz",
                          opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 7
    data = m.SerializeToString()
    assert len(data) < 10 * 1024, (name, len(data))
    raw(onnx_dir, name, data)
    return data


def vi(name, dims, t=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, t, dims)


relu = model("relu.onnx", [helper.make_node("Relu", ["x"], ["y"])],
             [vi("x", ["N", 4])], [vi("y", ["N", 4])])
rng = np.random.default_rng(0)
w = numpy_helper.from_array(rng.standard_normal((4, 3, 3, 3)).astype(np.float32), "w")
b = numpy_helper.from_array(np.zeros(4, dtype=np.float32), "b")
conv = model("conv.onnx",
             [helper.make_node("Conv", ["x", "w", "b"], ["y"], kernel_shape=[3, 3],
                               pads=[1, 1, 1, 1], strides=[2, 2])],
             [vi("x", [1, 3, 8, 8])], [vi("y", [1, 4, 4, 4])], [w, b])
shape = numpy_helper.from_array(np.array([1, -1], dtype=np.int64), "shape")
model("reshape.onnx", [helper.make_node("Reshape", ["x", "shape"], ["y"])],
      [vi("x", [1, 2, 3])], [vi("y", [1, 6])], [shape])
model("chain.onnx",
      [helper.make_node("Conv", ["x", "w", "b"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
       helper.make_node("Relu", ["c"], ["r"]),
       helper.make_node("GlobalAveragePool", ["r"], ["p"]),
       helper.make_node("Flatten", ["p"], ["y"], axis=1)],
      [vi("x", [1, 3, 8, 8])], [vi("y", [1, 4])], [w, b])
# broken ones
raw(onnx_dir, "empty.onnx", b"")
raw(onnx_dir, "truncated_conv.onnx", conv[: len(conv) // 2])
raw(onnx_dir, "garbage.onnx", bytes(rng.integers(0, 256, 200, dtype=np.uint8)))
model("unknown_op.onnx", [helper.make_node("NoSuchOp", ["x"], ["y"])],
      [vi("x", [2])], [vi("y", [2])])
model("dangling.onnx", [helper.make_node("Add", ["x", "missing"], ["y"])],
      [vi("x", [2])], [vi("y", [2])])
model("cycle.onnx", [helper.make_node("Relu", ["b"], ["a"]), helper.make_node("Relu", ["a"], ["b"])],
      [vi("x", [2])], [vi("b", [2])])
model("bad_reshape.onnx", [helper.make_node("Reshape", ["x", "shape"], ["y"])],
      [vi("x", [1, 2, 3])], [vi("y", [1, 6])],
      [numpy_helper.from_array(np.array([4, -1, -1], dtype=np.int64), "shape")])
model("opset99.onnx", [helper.make_node("Relu", ["x"], ["y"])], [vi("x", [2])], [vi("y", [2])],
      opset=99)
