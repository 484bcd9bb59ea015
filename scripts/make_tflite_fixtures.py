#!/usr/bin/python3
"""Writes the small .tflite test fixtures in models/tflite/ with numpy
reference outputs (there is no TensorFlow in Debian).

A minimal flatbuffers *writer* for the TFLite schema
(tensorflow/lite/schema/schema.fbs, version 3) builds each model, and a
plain numpy implementation of each op (NHWC, TF's SAME padding rule written
out) computes the expected outputs. tests/it/test_tflite_objectron.sh also
runs every fixture through the real TFLite interpreter (tfjs-tflite's
WebAssembly build) and checks it agrees with these references.

    /usr/bin/python3 scripts/make_tflite_fixtures.py [OUTDIR]

Files, per fixture NAME: NAME.tflite, NAME.input.npy (the first input),
NAME.output<k>.npy (k-th graph output). Malformed models are bad_*.tflite;
the expected error is listed in bad_models.txt (file, status, substring).
"""
import os
import struct
import sys

import numpy as np

# ---------------------------------------------------------------- flatbuffers


class Scalar:
    def __init__(self, fmt, v):
        self.fmt, self.v = fmt, v
        self.size = struct.calcsize("<" + fmt)


def u8(v): return Scalar("B", v)
def i8(v): return Scalar("b", v)
def i32(v): return Scalar("i", v)
def u32(v): return Scalar("I", v)
def i64(v): return Scalar("q", v)
def u64(v): return Scalar("Q", v)
def f32(v): return Scalar("f", v)


class Vec:
    """A vector of scalars (numpy dtype), or raw bytes with an alignment."""

    def __init__(self, data, dtype=None, align=4):
        if isinstance(data, (bytes, bytearray)):
            self.raw, self.esize = bytes(data), 1
        else:
            a = np.asarray(data, dtype=dtype)
            self.raw, self.esize = a.astype(a.dtype.newbyteorder("<")).tobytes(), a.dtype.itemsize
        self.align = max(align, self.esize, 4)


class Str:
    def __init__(self, s):
        self.raw = s.encode() if isinstance(s, str) else s


class Table:
    """fields: {field index: Scalar | Vec | Str | Table | list of Table}."""

    def __init__(self, fields):
        self.fields = {k: v for k, v in fields.items() if v is not None}


class Writer:
    """Front to back: a table's vtable, then the table, then its children,
    so every uoffset points forward as the format requires."""

    def __init__(self):
        self.buf = bytearray()

    def pad_to(self, align, extra=0):
        while (len(self.buf) + extra) % align:
            self.buf.append(0)

    def put(self, fmt, *v):
        self.buf += struct.pack("<" + fmt, *v)

    def patch_offset(self, slot, target):
        struct.pack_into("<I", self.buf, slot, target - slot)

    def table(self, t):
        items = sorted(t.fields.items(), key=lambda kv: -(kv[1].size if isinstance(kv[1], Scalar) else 4))
        n_slots = (max(t.fields) + 1) if t.fields else 0
        layout, off, big = {}, 4, 4
        for idx, v in items:
            size = v.size if isinstance(v, Scalar) else 4
            big = max(big, size)
            off = (off + size - 1) // size * size
            layout[idx] = off
            off += size
        obj = (off + big - 1) // big * big
        self.pad_to(2)
        vt = len(self.buf)
        self.put("HH", 4 + 2 * n_slots, obj)
        for i in range(n_slots):
            self.put("H", layout.get(i, 0))
        self.pad_to(big)
        pos = len(self.buf)
        self.buf += bytes(obj)
        struct.pack_into("<i", self.buf, pos, pos - vt)
        children = []
        for idx, v in items:
            if isinstance(v, Scalar):
                struct.pack_into("<" + v.fmt, self.buf, pos + layout[idx], v.v)
            else:
                children.append((pos + layout[idx], v))
        for slot, v in children:
            self.patch_offset(slot, self.child(v))
        return pos

    def child(self, v):
        if isinstance(v, Table):
            return self.table(v)
        if isinstance(v, Str):
            self.pad_to(4)
            pos = len(self.buf)
            self.put("I", len(v.raw))
            self.buf += v.raw + b"\0"
            return pos
        if isinstance(v, Vec):
            self.pad_to(v.align, 4)  # the elements, after the count, are aligned
            pos = len(self.buf)
            self.put("I", len(v.raw) // v.esize)
            self.buf += v.raw
            return pos
        if isinstance(v, list):  # vector of tables
            self.pad_to(4)
            pos = len(self.buf)
            self.put("I", len(v))
            slots = []
            for _ in v:
                slots.append(len(self.buf))
                self.put("I", 0)
            for slot, t in zip(slots, v):
                self.patch_offset(slot, self.table(t))
            return pos
        raise TypeError(v)

    def finish(self, root, ident=b"TFL3"):
        self.buf += bytes(4) + ident
        self.patch_offset(0, self.table(root))
        return bytes(self.buf)


# ---------------------------------------------------------------- TFLite model

FLOAT32, FLOAT16, INT32, UINT8, INT64, INT8 = 0, 1, 2, 3, 4, 9
TYPES = {np.float32: FLOAT32, np.float16: FLOAT16, np.int32: INT32, np.uint8: UINT8,
         np.int64: INT64, np.int8: INT8}

# BuiltinOperator codes and BuiltinOptions union ids from schema.fbs
ADD, AVERAGE_POOL_2D, CONCATENATION, CONV_2D, DEPTHWISE_CONV_2D = 0, 1, 2, 3, 4
DEQUANTIZE, FULLY_CONNECTED, LOGISTIC, MAX_POOL_2D, MUL = 6, 9, 14, 17, 18
RELU6, RESHAPE, SOFTMAX, PAD, TRANSPOSE, MEAN, SUB, DIV = 21, 22, 25, 34, 39, 40, 41, 42
MAXIMUM, LEAKY_RELU, QUANTIZE, HARD_SWISH, LSTM, TANH = 55, 98, 114, 117, 16, 28
OPT = {"conv": 1, "dw": 2, "pool": 5, "fc": 8, "softmax": 9, "concat": 10, "add": 11,
       "reshape": 17, "mul": 21, "pad": 22, "transpose": 26, "reducer": 27, "sub": 28,
       "div": 29, "dequantize": 38, "maxmin": 39, "leaky_relu": 75, "quantize": 89,
       "hard_swish": 91}
NONE_ACT, RELU_ACT, RELU_N1_ACT, RELU6_ACT, TANH_ACT = 0, 1, 2, 3, 4
SAME, VALID = 0, 1


class Model:
    def __init__(self):
        self.tensors, self.buffers, self.ops, self.codes = [], [b""], [], []
        self.inputs, self.outputs = [], []

    def tensor(self, name, shape, ttype=FLOAT32, data=None, quant=None):
        buf = 0
        if data is not None:
            self.buffers.append(data)
            buf = len(self.buffers) - 1
        q = None
        if quant is not None:  # (scales, zero points, axis)
            scale, zp, axis = quant
            q = Table({2: Vec(np.atleast_1d(scale), np.float32),
                       3: Vec(np.atleast_1d(zp), np.int64), 6: i32(axis)})
        self.tensors.append(Table({0: Vec(list(shape), np.int32), 1: i8(ttype), 2: u32(buf),
                                   3: Str(name), 4: q}))
        return len(self.tensors) - 1

    def const(self, name, a, quant=None):
        a = np.ascontiguousarray(a)
        return self.tensor(name, a.shape, TYPES[a.dtype.type], a.tobytes(), quant)

    def op(self, code, ins, outs, opt_name=None, opt=None):
        if code not in self.codes:
            self.codes.append(code)
        fields = {0: u32(self.codes.index(code)), 1: Vec(ins, np.int32), 2: Vec(outs, np.int32)}
        if opt_name:
            fields[3] = u8(OPT[opt_name])
            fields[4] = Table(opt or {})
        self.ops.append(Table(fields))

    def build(self, version=3):
        codes = [Table({0: i8(min(c, 127)), 2: i32(1), 3: i32(c)}) for c in self.codes]
        sg = Table({0: self.tensors, 1: Vec(self.inputs, np.int32),
                    2: Vec(self.outputs, np.int32), 3: self.ops, 4: Str("main")})
        bufs = [Table({0: Vec(b, align=16)} if b else {}) for b in self.buffers]
        root = Table({0: u32(version), 1: codes, 2: [sg], 3: Str("make_tflite_fixtures.py"),
                      4: bufs})
        return Writer().finish(root)


# ---------------------------------------------------------------- numpy reference (NHWC)


def same_pads(n, k, s, d):
    """TF SAME: out = ceil(n / s); total = max((out-1)*s + (k-1)*d + 1 - n, 0),
    the smaller half before, the odd pixel after."""
    out = -(-n // s)
    total = max((out - 1) * s + (k - 1) * d + 1 - n, 0)
    return total // 2, total - total // 2


def pad_nhwc(x, kh, kw, s, d, padding, value=0.0):
    if padding == VALID:
        return x
    t, b = same_pads(x.shape[1], kh, s[0], d[0])
    l, r = same_pads(x.shape[2], kw, s[1], d[1])
    return np.pad(x, ((0, 0), (t, b), (l, r), (0, 0)), constant_values=value)


def out_size(n, k, s, d, padding):
    return -(-n // s) if padding == SAME else (n - (k - 1) * d - 1) // s + 1


def conv_ref(x, w, b, s, d, padding, groups=1):
    """x NHWC, w OHWI (I = C/groups)."""
    o, kh, kw, ci = w.shape
    n, h, wd, c = x.shape
    oh, ow = out_size(h, kh, s[0], d[0], padding), out_size(wd, kw, s[1], d[1], padding)
    xp = pad_nhwc(x, kh, kw, s, d, padding).astype(np.float64)
    y = np.zeros((n, oh, ow, o))
    og = o // groups
    for i in range(kh):
        for j in range(kw):
            patch = xp[:, i * d[0]:i * d[0] + (oh - 1) * s[0] + 1:s[0],
                       j * d[1]:j * d[1] + (ow - 1) * s[1] + 1:s[1], :]
            for g in range(groups):
                y[..., g * og:(g + 1) * og] += patch[..., g * ci:(g + 1) * ci] @ \
                    w[g * og:(g + 1) * og, i, j, :].astype(np.float64).T
    if b is not None:
        y += b
    return y


def dw_ref(x, w, b, s, d, padding):
    """w [1, kh, kw, C*M]: output channel c*M + m reads input channel c."""
    c = x.shape[3]
    m = w.shape[3] // c
    wo = np.zeros((c * m, w.shape[1], w.shape[2], 1), w.dtype)
    wo[:, :, :, 0] = np.transpose(w[0], (2, 0, 1))
    return conv_ref(x, wo, b, s, d, padding, groups=c)


def pool_ref(x, k, s, padding, kind):
    n, h, wd, c = x.shape
    oh, ow = out_size(h, k[0], s[0], 1, padding), out_size(wd, k[1], s[1], 1, padding)
    fill = -np.inf if kind == "max" else 0.0
    xp = pad_nhwc(x.astype(np.float64), k[0], k[1], s, (1, 1), padding, fill)
    ones = pad_nhwc(np.ones_like(x, np.float64), k[0], k[1], s, (1, 1), padding, 0.0)
    y = np.zeros((n, oh, ow, c))
    for a in range(oh):
        for bb in range(ow):
            win = xp[:, a * s[0]:a * s[0] + k[0], bb * s[1]:bb * s[1] + k[1], :]
            if kind == "max":
                y[:, a, bb] = win.max(axis=(1, 2))
            else:  # TFLite divides by the pixels inside the image
                cnt = ones[:, a * s[0]:a * s[0] + k[0], bb * s[1]:bb * s[1] + k[1], :].sum(axis=(1, 2))
                y[:, a, bb] = win.sum(axis=(1, 2)) / cnt
    return y


def act_ref(y, act):
    if act == RELU_ACT:
        return np.maximum(y, 0)
    if act == RELU6_ACT:
        return np.clip(y, 0, 6)
    return y


def sigmoid(x): return 1 / (1 + np.exp(-x))
def hard_swish(x): return x * np.clip(x + 3, 0, 6) / 6


def softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def conv_opt(padding, s, act, d=(1, 1)):
    return {0: u8(padding), 1: i32(s[1]), 2: i32(s[0]), 3: u8(act), 4: i32(d[1]), 5: i32(d[0])}


def dw_opt(padding, s, mult, act, d=(1, 1)):
    return {0: u8(padding), 1: i32(s[1]), 2: i32(s[0]), 3: i32(mult), 4: u8(act),
            5: i32(d[1]), 6: i32(d[0])}


def pool_opt(padding, s, k, act=0):
    return {0: u8(padding), 1: i32(s[1]), 2: i32(s[0]), 3: i32(k[1]), 4: i32(k[0]), 5: u8(act)}


# ---------------------------------------------------------------- fixtures

rng = np.random.default_rng(20240501)


def rnd(*shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def mobile_fp32():
    """conv s2 SAME (asymmetric pads) RELU6 -> depthwise x2 RELU -> 1x1 conv ->
    residual ADD -> HARD_SWISH -> MUL by a [C] constant -> max/avg pool ->
    CONCATENATION -> RESHAPE -> FULLY_CONNECTED -> SOFTMAX; LOGISTIC of the
    average pool is a second (NHWC) output."""
    m = Model()
    x = rnd(1, 10, 10, 3)
    w1, b1 = rnd(8, 3, 3, 3, scale=0.4), rnd(8, scale=0.1)
    wd, bd = rnd(1, 3, 3, 16, scale=0.4), rnd(16, scale=0.1)
    w2, b2 = rnd(8, 1, 1, 16, scale=0.3), rnd(8, scale=0.1)
    sc = rnd(8, scale=0.5)
    wf, bf = rnd(10, 144, scale=0.1), rnd(10, scale=0.1)
    tx = m.tensor("input", x.shape)
    t = {k: m.const(k, v) for k, v in dict(w1=w1, b1=b1, wd=wd, bd=bd, w2=w2, b2=b2, sc=sc,
                                            wf=wf, bf=bf).items()}
    shape = m.const("shape", np.array([1, 144], np.int32))
    c1, d1, c2 = m.tensor("c1", (1, 5, 5, 8)), m.tensor("d1", (1, 5, 5, 16)), m.tensor("c2", (1, 5, 5, 8))
    a1, hs, m1 = m.tensor("a1", (1, 5, 5, 8)), m.tensor("hs", (1, 5, 5, 8)), m.tensor("m1", (1, 5, 5, 8))
    mp, ap = m.tensor("mp", (1, 3, 3, 8)), m.tensor("ap", (1, 3, 3, 8))
    cat, r = m.tensor("cat", (1, 3, 3, 16)), m.tensor("r", (1, 144))
    fc, sm, lg = m.tensor("fc", (1, 10)), m.tensor("probs", (1, 10)), m.tensor("gate", (1, 3, 3, 8))
    m.op(CONV_2D, [tx, t["w1"], t["b1"]], [c1], "conv", conv_opt(SAME, (2, 2), RELU6_ACT))
    m.op(DEPTHWISE_CONV_2D, [c1, t["wd"], t["bd"]], [d1], "dw", dw_opt(SAME, (1, 1), 2, RELU_ACT))
    m.op(CONV_2D, [d1, t["w2"], t["b2"]], [c2], "conv", conv_opt(VALID, (1, 1), NONE_ACT))
    m.op(ADD, [c1, c2], [a1], "add", {0: u8(0)})
    m.op(HARD_SWISH, [a1], [hs])
    m.op(MUL, [hs, t["sc"]], [m1], "mul", {0: u8(0)})
    m.op(MAX_POOL_2D, [m1], [mp], "pool", pool_opt(SAME, (2, 2), (2, 2)))
    m.op(AVERAGE_POOL_2D, [m1], [ap], "pool", pool_opt(SAME, (2, 2), (3, 3)))
    m.op(CONCATENATION, [mp, ap], [cat], "concat", {0: i32(-1), 1: u8(0)})
    m.op(RESHAPE, [cat, shape], [r], "reshape", {})
    m.op(FULLY_CONNECTED, [r, t["wf"], t["bf"]], [fc], "fc", {0: u8(0)})
    m.op(SOFTMAX, [fc], [sm], "softmax", {0: f32(1.0)})
    m.op(LOGISTIC, [ap], [lg])
    m.inputs, m.outputs = [tx], [sm, lg]

    y1 = act_ref(conv_ref(x, w1, b1, (2, 2), (1, 1), SAME), RELU6_ACT)
    y2 = act_ref(dw_ref(y1, wd, bd, (1, 1), (1, 1), SAME), RELU_ACT)
    y3 = conv_ref(y2, w2, b2, (1, 1), (1, 1), VALID)
    y4 = hard_swish(y1 + y3) * sc
    ymp = pool_ref(y4, (2, 2), (2, 2), SAME, "max")
    yap = pool_ref(y4, (3, 3), (2, 2), SAME, "avg")
    yfc = np.concatenate([ymp, yap], axis=3).reshape(1, 144) @ wf.T.astype(np.float64) + bf
    return m, [x], [softmax(yfc), sigmoid(yap)]


def ops_fp32():
    """Layout tags through PAD, MEAN, TRANSPOSE, SUB/DIV/MAXIMUM broadcasts,
    LEAKY_RELU; a dilated conv with RELU_N1_TO_1; FULLY_CONNECTED without bias (the
    optional input given as -1)."""
    m = Model()
    x = rnd(1, 6, 7, 4)
    w, b = rnd(5, 3, 3, 4, scale=0.3), rnd(5, scale=0.1)
    wf = rnd(3, 5)
    sub = rnd(1, 1, 1, 5, scale=0.2)
    div = (np.abs(rnd(5)) + 0.5).astype(np.float32)
    pads = np.array([[0, 0], [1, 0], [0, 2], [0, 0]], np.int32)
    tx = m.tensor("x", x.shape)
    tw, tb, tsub, tdiv = m.const("w", w), m.const("b", b), m.const("sub", sub), m.const("div", div)
    twf = m.const("wf", wf)
    tfc = m.tensor("fc", (1, 3))
    tpads = m.const("pads", pads)
    taxes = m.const("axes", np.array([1, -2], np.int32))
    tperm = m.const("perm", np.array([0, 3, 1, 2], np.int32))
    tmax = m.const("floor", np.array(-0.05, np.float32))
    c, p = m.tensor("c", (1, 6, 7, 5)), m.tensor("p", (1, 7, 9, 5))
    mean, tr = m.tensor("mean", (1, 5)), m.tensor("nchw", (1, 5, 7, 9))
    s1, s2, s3, s4 = (m.tensor(n, (1, 6, 7, 5)) for n in ("s1", "s2", "s3", "leaky"))
    m.op(CONV_2D, [tx, tw, tb], [c], "conv", conv_opt(SAME, (1, 1), RELU_N1_ACT, d=(2, 2)))
    m.op(PAD, [c, tpads], [p], "pad", {})
    m.op(MEAN, [p, taxes], [mean], "reducer", {0: u8(0)})
    m.op(TRANSPOSE, [p, tperm], [tr], "transpose", {})
    m.op(SUB, [c, tsub], [s1], "sub", {0: u8(RELU_ACT)})
    m.op(DIV, [s1, tdiv], [s2], "div", {0: u8(0)})
    m.op(MAXIMUM, [s2, tmax], [s3], "maxmin", {})
    m.op(LEAKY_RELU, [s3], [s4], "leaky_relu", {0: f32(0.2)})
    m.op(FULLY_CONNECTED, [mean, twf, -1], [tfc], "fc", {0: u8(RELU_ACT)})
    m.inputs, m.outputs = [tx], [mean, tr, s4, tfc]

    yc = np.clip(conv_ref(x, w, b, (1, 1), (2, 2), SAME), -1, 1)
    yp = np.pad(yc, pads)
    ys = np.maximum(np.maximum(yc - sub, 0) / div, -0.05)
    ym = yp.mean(axis=(1, 2))
    return m, [x], [ym, yp.transpose(0, 3, 1, 2), np.where(ys > 0, ys, 0.2 * ys),
                    np.maximum(ym @ wf.T.astype(np.float64), 0)]


def mobile_fp16():
    """Objectron's pattern: float16 weights, each through DEQUANTIZE, then
    conv / depthwise / add / reshape / concatenation (fp32 activations)."""
    m = Model()
    x = rnd(1, 8, 8, 3)
    w1, b1 = rnd(6, 3, 3, 3, scale=0.4).astype(np.float16), rnd(6, scale=0.1).astype(np.float16)
    wd, bd = rnd(1, 3, 3, 6, scale=0.4).astype(np.float16), rnd(6, scale=0.1).astype(np.float16)
    wh, bh = rnd(4, 1, 1, 6, scale=0.4).astype(np.float16), rnd(4, scale=0.1).astype(np.float16)
    tx = m.tensor("image", x.shape)
    deq = {}
    for name, a in dict(w1=w1, b1=b1, wd=wd, bd=bd, wh=wh, bh=bh).items():
        h = m.const(name + "_fp16", a)
        deq[name] = m.tensor(name, a.shape)
        m.op(DEQUANTIZE, [h], [deq[name]])
    c1, d1 = m.tensor("c1", (1, 4, 4, 6)), m.tensor("d1", (1, 4, 4, 6))
    a1, h1 = m.tensor("a1", (1, 4, 4, 6)), m.tensor("h1", (1, 4, 4, 4))
    r1, r2 = m.tensor("r1", (1, 32, 1, 2)), m.tensor("r2", (1, 48, 1, 2))
    out = m.tensor("boxes", (1, 80, 1, 2))
    s1 = m.const("s1", np.array([1, 32, 1, 2], np.int32))
    s2 = m.const("s2", np.array([1, 48, 1, 2], np.int32))
    m.op(CONV_2D, [tx, deq["w1"], deq["b1"]], [c1], "conv", conv_opt(SAME, (2, 2), RELU6_ACT))
    m.op(DEPTHWISE_CONV_2D, [c1, deq["wd"], deq["bd"]], [d1], "dw", dw_opt(SAME, (1, 1), 1, RELU6_ACT))
    m.op(ADD, [c1, d1], [a1], "add", {0: u8(0)})
    m.op(CONV_2D, [a1, deq["wh"], deq["bh"]], [h1], "conv", conv_opt(SAME, (1, 1), NONE_ACT))
    m.op(RESHAPE, [h1, s1], [r1], "reshape", {})
    m.op(RESHAPE, [a1, s2], [r2], "reshape", {})
    m.op(CONCATENATION, [r1, r2], [out], "concat", {0: i32(1), 1: u8(0)})
    m.inputs, m.outputs = [tx], [out]

    f = {k: v.astype(np.float32) for k, v in dict(w1=w1, b1=b1, wd=wd, bd=bd, wh=wh, bh=bh).items()}
    y1 = np.clip(conv_ref(x, f["w1"], f["b1"], (2, 2), (1, 1), SAME), 0, 6)
    y2 = np.clip(dw_ref(y1, f["wd"], f["bd"], (1, 1), (1, 1), SAME), 0, 6)
    ya = y1 + y2
    yh = conv_ref(ya, f["wh"], f["bh"], (1, 1), (1, 1), SAME)
    return m, [x], [np.concatenate([yh.reshape(1, 32, 1, 2), ya.reshape(1, 48, 1, 2)], axis=1)]


def quantize(x, scale, zp, dtype):
    info = np.iinfo(dtype)
    return np.clip(np.round(x / scale) + zp, info.min, info.max).astype(dtype)


def quant_per_channel(w, axis, bits_dtype=np.int8):
    """Symmetric per-channel weights (TFLite's int8 scheme: zero point 0)."""
    red = tuple(i for i in range(w.ndim) if i != axis)
    scale = np.maximum(np.abs(w).max(axis=red), 1e-6) / 127.0
    shape = [1] * w.ndim
    shape[axis] = -1
    return quantize(w, scale.reshape(shape), 0, bits_dtype), scale.astype(np.float32)


def int8_model(dtype):
    """Fully quantized (int8, or uint8 per tensor): QUANTIZE -> conv (RELU6)
    -> depthwise -> ADD -> AVERAGE_POOL -> RESHAPE -> FULLY_CONNECTED ->
    DEQUANTIZE. The reference simulates QDQ: each op in float on dequantized
    inputs, the result rounded to the output's scale and zero point."""
    m = Model()
    is_u8 = dtype == np.uint8
    x = rnd(1, 8, 8, 3)

    def qp(lo, hi):  # per-tensor asymmetric parameters covering [lo, hi]
        info = np.iinfo(dtype)
        scale = (hi - lo) / (info.max - info.min)
        zp = int(np.clip(round(info.min - lo / scale), info.min, info.max))
        return np.float32(scale), zp

    def deq(q, scale, zp):
        return (q.astype(np.float64) - zp) * scale

    w1 = rnd(8, 3, 3, 3, scale=0.4)
    wd = rnd(1, 3, 3, 8, scale=0.4)
    wf = rnd(5, 32, scale=0.2)
    b1, bd, bf = rnd(8, scale=0.1), rnd(8, scale=0.1), rnd(5, scale=0.1)
    if is_u8:  # per-tensor weights, asymmetric
        s_w1, z_w1 = qp(w1.min(), w1.max())
        s_wd, z_wd = qp(wd.min(), wd.max())
        s_wf, z_wf = qp(wf.min(), wf.max())
        q_w1, q_wd, q_wf = quantize(w1, s_w1, z_w1, dtype), quantize(wd, s_wd, z_wd, dtype), quantize(wf, s_wf, z_wf, dtype)
        qa_w1, qa_wd, qa_wf = (s_w1, z_w1, 0), (s_wd, z_wd, 0), (s_wf, z_wf, 0)
    else:
        q_w1, s_w1 = quant_per_channel(w1, 0)
        q_wd, s_wd = quant_per_channel(wd, 3)
        q_wf, s_wf = quant_per_channel(wf, 0)
        qa_w1, qa_wd, qa_wf = (s_w1, np.zeros(8), 0), (s_wd, np.zeros(8), 3), (s_wf, np.zeros(5), 0)
    s_x, z_x = qp(-3.0, 3.0)
    s_c1, z_c1 = qp(0.0, 6.0)
    s_d1, z_d1 = qp(-2.0, 3.0)
    s_a1, z_a1 = qp(-2.0, 8.0)
    s_p, z_p = s_a1, z_a1  # TFLite keeps pooling's quantization
    s_fc, z_fc = qp(-4.0, 4.0)

    tx = m.tensor("x", x.shape)
    txq = m.tensor("xq", x.shape, TYPES[dtype], quant=(s_x, z_x, 0))
    tw1 = m.const("w1", q_w1, quant=qa_w1)
    twd = m.const("wd", q_wd, quant=qa_wd)
    twf = m.const("wf", q_wf, quant=qa_wf)

    def bias(name, b, s_in, s_w):
        scale = (np.float64(s_in) * np.asarray(s_w, np.float64)).astype(np.float32)
        scale = np.broadcast_to(scale, b.shape).copy() if not is_u8 else np.float32(scale)
        q = np.round(b / scale).astype(np.int32)
        zero = np.zeros(np.size(scale), np.int64)
        return m.const(name, q, quant=(scale, zero, 0)), q, scale

    tb1, qb1, sb1 = bias("b1", b1, s_x, s_w1)
    tc1 = m.tensor("c1", (1, 4, 4, 8), TYPES[dtype], quant=(s_c1, z_c1, 0))
    tbd, qbd, sbd = bias("bd", bd, s_c1, s_wd)
    td1 = m.tensor("d1", (1, 4, 4, 8), TYPES[dtype], quant=(s_d1, z_d1, 0))
    ta1 = m.tensor("a1", (1, 4, 4, 8), TYPES[dtype], quant=(s_a1, z_a1, 0))
    tp = m.tensor("p", (1, 2, 2, 8), TYPES[dtype], quant=(s_p, z_p, 0))
    tr = m.tensor("r", (1, 32), TYPES[dtype], quant=(s_p, z_p, 0))
    tbf, qbf, sbf = bias("bf", bf, s_p, s_wf)
    tfc = m.tensor("fc", (1, 5), TYPES[dtype], quant=(s_fc, z_fc, 0))
    tout = m.tensor("logits", (1, 5))
    shape = m.const("shape", np.array([1, 32], np.int32))
    m.op(QUANTIZE, [tx], [txq])
    m.op(CONV_2D, [txq, tw1, tb1], [tc1], "conv", conv_opt(SAME, (2, 2), RELU6_ACT))
    m.op(DEPTHWISE_CONV_2D, [tc1, twd, tbd], [td1], "dw", dw_opt(SAME, (1, 1), 1, NONE_ACT))
    m.op(ADD, [tc1, td1], [ta1], "add", {0: u8(0)})
    m.op(AVERAGE_POOL_2D, [ta1], [tp], "pool", pool_opt(VALID, (2, 2), (2, 2)))
    m.op(RESHAPE, [tp, shape], [tr], "reshape", {})
    m.op(FULLY_CONNECTED, [tr, twf, tbf], [tfc], "fc", {0: u8(0)})
    m.op(DEQUANTIZE, [tfc], [tout])
    m.inputs, m.outputs = [tx], [tout]

    def wdeq(q, s, z, axis):
        shape = [1] * q.ndim
        shape[axis] = -1
        return deq(q, np.reshape(s, shape) if np.ndim(s) else s, np.reshape(z, shape) if np.ndim(z) else z)

    xq = quantize(x, s_x, z_x, dtype)
    y = conv_ref(deq(xq, s_x, z_x), wdeq(q_w1, qa_w1[0], qa_w1[1], 0), qb1 * sb1.astype(np.float64), (2, 2), (1, 1), SAME)
    c1 = quantize(np.clip(y, 0, 6), s_c1, z_c1, dtype)
    y = dw_ref(deq(c1, s_c1, z_c1), wdeq(q_wd, qa_wd[0], qa_wd[1], 3), qbd * sbd.astype(np.float64), (1, 1), (1, 1), SAME)
    d1 = quantize(y, s_d1, z_d1, dtype)
    a1 = quantize(deq(c1, s_c1, z_c1) + deq(d1, s_d1, z_d1), s_a1, z_a1, dtype)
    p = quantize(pool_ref(deq(a1, s_a1, z_a1), (2, 2), (2, 2), VALID, "avg"), s_p, z_p, dtype)
    y = deq(p.reshape(1, 32), s_p, z_p) @ wdeq(q_wf, qa_wf[0], qa_wf[1], 0).T + qbf * sbf.astype(np.float64)
    fc = quantize(y, s_fc, z_fc, dtype)
    return m, [x], [deq(fc, s_fc, z_fc)]


def image_identity():
    """[1,300,300,3] -> RESHAPE -> same: `edgeai run --image` through it
    writes the preprocessed pixels (tests/it/test_tflite_objectron.sh)."""
    m = Model()
    tx = m.tensor("pixels_in", (1, 300, 300, 3))
    ty = m.tensor("pixels", (1, 300, 300, 3))
    m.op(RESHAPE, [tx, m.const("shape", np.array([1, 300, 300, 3], np.int32))], [ty], "reshape", {})
    m.inputs, m.outputs = [tx], [ty]
    return m, None, None


# ---------------------------------------------------------------- malformed models


def small():
    """x [1,4,4,2] -> CONV_2D 1x1 -> y: the base of the malformed files."""
    m = Model()
    tx = m.tensor("x", (1, 4, 4, 2))
    tw = m.const("w", rnd(3, 1, 1, 2))
    tb = m.const("b", rnd(3))
    ty = m.tensor("y", (1, 4, 4, 3))
    m.op(CONV_2D, [tx, tw, tb], [ty], "conv", conv_opt(SAME, (1, 1), NONE_ACT))
    m.inputs, m.outputs = [tx], [ty]
    return m


def bad_models():
    """(file, bytes, expected status, message substring)."""
    out = []

    def add(name, data, status, needle):
        out.append((name, data, status, needle))

    m = small()
    m.ops[0].fields[1] = Vec([0, 900, 2], np.int32)
    add("bad_tensor_index.tflite", m.build(), "EAI_E_FORMAT",
        "operator 0 (CONV_2D): input 1 refers to tensor 900 of 4")
    m = small()
    m.ops[0].fields[0] = u32(7)
    add("bad_opcode_index.tflite", m.build(), "EAI_E_FORMAT", "refers to operator code 7 of 1")
    m = small()
    m.buffers[1] = m.buffers[1][:-4]
    add("bad_buffer_size.tflite", m.build(), "EAI_E_FORMAT",
        "tensor 1 'w': buffer 1 holds 20 bytes, but 6 elements of FLOAT32 need 24")
    m = small()
    m.tensors[0].fields[2] = u32(99)
    add("bad_buffer_index.tflite", m.build(), "EAI_E_FORMAT", "tensor 0 'x' refers to buffer 99")
    m = small()
    m.tensors[3].fields[0] = Vec([1, 4, -4, 3], np.int32)
    add("bad_negative_dim.tflite", m.build(), "EAI_E_FORMAT", "tensor 3 'y': dimension 2 is -4")
    m = small()
    m.outputs = [5]
    add("bad_output_index.tflite", m.build(), "EAI_E_FORMAT", "output 0 refers to tensor 5 of 4")
    m = small()
    m.tensors[3].fields[0] = Vec([1, 3, 4, 3], np.int32)
    add("bad_conv_shape.tflite", m.build(), "EAI_E_FORMAT", "the window gives 4x4")
    m = small()
    m.codes = [LSTM]
    add("unsupported_op.tflite", m.build(), "EAI_E_UNSUPPORTED", "operator 0 (LSTM)")
    m = small()
    m.ops[0].fields[1] = Vec([3, 1, 2], np.int32)
    add("bad_use_before_def.tflite", m.build(), "EAI_E_FORMAT",
        "input 0 (tensor 3 'y') has no data and is not computed")
    add("bad_version.tflite", small().build(version=2), "EAI_E_UNSUPPORTED", "schema version 2")
    m = small()
    m.ops[0].fields[4] = Table(conv_opt(SAME, (1, 1), TANH_ACT))
    add("unsupported_fused_tanh.tflite", m.build(), "EAI_E_UNSUPPORTED",
        "operator 0 (CONV_2D): fused activation TANH is not supported")
    m = small()
    m.codes = [32]  # CUSTOM
    add("unsupported_custom.tflite", m.build(), "EAI_E_UNSUPPORTED",
        "operator 0 (CUSTOM): custom operators are not supported")
    m = small()
    m.ops[0].fields[3] = u8(OPT["pool"])
    add("bad_options_type.tflite", m.build(), "EAI_E_FORMAT", "options of union type 5, expected 1")
    good = bytearray(small().build())
    bad = bytearray(good)
    struct.pack_into("<I", bad, 0, len(bad) + 100)
    add("bad_root_offset.tflite", bytes(bad), "EAI_E_FORMAT", "outside the file")
    add("bad_truncated.tflite", bytes(good[:len(good) // 2]), "EAI_E_FORMAT", "outside the file")
    bad = bytearray(good)  # the root table's soffset points its vtable far outside
    root = struct.unpack_from("<I", bad, 0)[0]
    struct.pack_into("<i", bad, root, -0x100000)
    add("bad_vtable.tflite", bytes(bad), "EAI_E_FORMAT", "vtable at byte")
    return out


# ---------------------------------------------------------------- main


def save(outdir, name, model, inputs, outputs):
    with open(os.path.join(outdir, name + ".tflite"), "wb") as f:
        f.write(model.build())
    if inputs is None:
        return
    np.save(os.path.join(outdir, name + ".input.npy"), inputs[0].astype(np.float32))
    for k, y in enumerate(outputs):
        np.save(os.path.join(outdir, "%s.output%d.npy" % (name, k)), np.asarray(y, np.float32))


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "models", "tflite")
    os.makedirs(outdir, exist_ok=True)
    save(outdir, "mobile_fp32", *mobile_fp32())
    save(outdir, "ops_fp32", *ops_fp32())
    save(outdir, "mobile_fp16", *mobile_fp16())
    save(outdir, "mobile_int8", *int8_model(np.int8))
    save(outdir, "mobile_uint8", *int8_model(np.uint8))
    save(outdir, "image_identity", *image_identity())
    with open(os.path.join(outdir, "bad_models.txt"), "w") as lst:
        lst.write("# file status substring-of-the-message (scripts/make_tflite_fixtures.py)\n")
        for name, data, status, needle in bad_models():
            with open(os.path.join(outdir, name), "wb") as f:
                f.write(data)
            lst.write("%s %s %s\n" % (name, status, needle))
    print("wrote fixtures to", os.path.normpath(outdir))


if __name__ == "__main__":
    main()
