#!/usr/bin/python3
"""Trains the two vehicle-type crop classifiers of the synthetic intersection
(docs/scene.md, models/scene/README.md) on CPU, exports them to ONNX, checks
them with edgeai itself and writes the "cls" entry of models/scene/metrics.json.

  scene_cls_edge.onnx   tiny CNN (Conv, Relu, MaxPool, Flatten, Gemm only, so
                        edgeai's trainer can fine-tune it), trained ON PURPOSE on
                        a small labelled set (300 crops of one seed, few epochs):
                        the unsure starting point that the demo's cloud offload
                        and federated rounds improve.
  scene_cls_cloud.onnx  larger CNN (batch norm folded into the convolutions),
                        trained on every training crop with box jitter and flips.

Both: input "images" [N,3,32,32] (the box stretched to 32x32 with half-pixel
bilinear sampling, exactly as eai_preprocess_crop does it; RGB, pixels / 255,
NCHW), output "logits" [N,4] (no softmax): 0 car, 1 bus/truck, 2 bike,
3 person. Crops: ground-truth boxes >= 12 px high and >= 50% visible.

Data (scripts/make_scene_data.sh): train seeds 101..105 (cloud training; the
edge model sees 300 crops of seed 101 only: 120 car, 60 of each other class), seed 106 = validation (edge
temperature calibration), held-out seeds 201..203 at every 5th frame = test.
Arrays for `edgeai train` / `edgeai calibrate` go to build-cls/scene_cls_data/
(npy:X.npy,Y.npy specs, never committed).

Then with edgeai (--edgeai, default build-cls/edgeai, build/edgeai):
  `edgeai run` vs PyTorch on test crops (max |diff|),
  `edgeai calibrate` on the validation split -> scene_cls_edge.calib.json,
  `edgeai train` 1 epoch of the edge model on crops of seeds 102..105 -> held-out
  accuracy before / after.

usage: /usr/bin/python3 scripts/train_scene_cls.py [--data DIR] [--out models/scene]
           [--work build-cls/scene_cls_data] [--edgeai PATH] [--threads N]
"""
import argparse
import glob
import json
import os
import re
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
S = 32  # crop side
NC = 4
CLASSES = ["car", "truck", "bike", "person"]
MIN_H, MIN_VIS = 12.0, 0.5
CONF_T = 0.85  # the router's default threshold (include/edgeai/router.h)
# The edge model's labelled set: 300 crops of one seed, car / truck / bike /
# person. A random draw would hold ~9 bikes and ~20 trucks (the net would
# never answer "bike"); a fully balanced one makes it doubt cars, which are
# most of the traffic. This keeps cars first and every class learnable.
EDGE_ALLOC = (120, 60, 60, 60)
EDGE_SEED_DIR = "scene-101"


# ----------------------------------------------------------------- crops

def crop_boxes(img, boxes):
    """img uint8 [H,W,3], boxes float [M,4] x1,y1,x2,y2 (source pixels) ->
    float32 [M,3,S,S]: eai_preprocess_crop with the default preproc (stretch,
    half-pixel bilinear, edge pixels repeated outside the image, pixels/255)."""
    H, W = img.shape[:2]
    b = np.asarray(boxes, np.float32).reshape(-1, 4)
    d = np.arange(S, dtype=np.float32) + np.float32(0.5)
    # float32 arithmetic as in the C sampler: s0 + (d + 0.5) * ratio - 0.5
    rx = ((b[:, 2] - b[:, 0]) / np.float32(S))[:, None]
    ry = ((b[:, 3] - b[:, 1]) / np.float32(S))[:, None]
    fx = b[:, 0:1] + d[None] * rx - np.float32(0.5)  # [M,S]
    fy = b[:, 1:2] + d[None] * ry - np.float32(0.5)
    flx, fly = np.floor(fx), np.floor(fy)
    wx = (fx - flx)[:, None, :, None]
    wy = (fy - fly)[:, :, None, None]
    x0 = np.clip(flx.astype(int), 0, W - 1)[:, None, :]
    x1 = np.clip(flx.astype(int) + 1, 0, W - 1)[:, None, :]
    y0 = np.clip(fly.astype(int), 0, H - 1)[:, :, None]
    y1 = np.clip(fly.astype(int) + 1, 0, H - 1)[:, :, None]
    f = lambda yy, xx: img[yy, xx].astype(np.float32)  # [M,S,S,3]
    p00, p01, p10, p11 = f(y0, x0), f(y0, x1), f(y1, x0), f(y1, x1)
    top = p00 + (p01 - p00) * wx
    bot = p10 + (p11 - p10) * wx
    v = (top + (bot - top) * wy) * np.float32(1.0 / 255.0)
    return np.ascontiguousarray(v.transpose(0, 3, 1, 2), np.float32)


def seq_dirs(data, split):
    ds = sorted(glob.glob(os.path.join(data, split, "scene-*")))
    if not ds:
        sys.exit("train_scene_cls: no %s sequences under %s (run scripts/make_scene_data.sh)"
                 % (split, data))
    return ds


def seq_crops(d, every=1, jitter=0, rng=None):
    """Crops of one MOT sequence's qualifying gt boxes: (x [M,3,S,S], y [M],
    clean [M] bool). jitter > 0 adds that many extra copies per box with the
    box's edges moved by up to 10% of its size (clean False), like a
    tracker's boxes."""
    ini = open(os.path.join(d, "seqinfo.ini")).read()
    n = int(re.search(r"seqLength=(\d+)", ini).group(1))
    gt = np.loadtxt(os.path.join(d, "gt", "gt.txt"), delimiter=",", ndmin=2)
    gt = gt[(gt[:, 5] >= MIN_H) & (gt[:, 8] >= MIN_VIS)]
    xs, ys, fs = [], [], []
    for f in range(1, n + 1, every):
        rows = gt[gt[:, 0] == f]
        if not len(rows):
            continue
        img = torchvision.io.read_image(os.path.join(d, "img1", "%06d.png" % f))[:3]
        img = img.permute(1, 2, 0).numpy()
        # MOT x, y are 1-based; the tight pixel box is [x-1, x-1+w) etc.
        b = np.stack([rows[:, 2] - 1, rows[:, 3] - 1, rows[:, 2] - 1 + rows[:, 4],
                      rows[:, 3] - 1 + rows[:, 5]], 1)
        cls = rows[:, 7].astype(np.int64) - 1
        boxes, labels, cl = [b], [cls], [np.ones(len(b), bool)]
        for _ in range(jitter):
            w, h = b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]
            u = rng.uniform(-0.1, 0.1, (len(b), 4))
            jb = b + u * np.stack([w, h, w, h], 1)
            ok = (jb[:, 2] - jb[:, 0] > 2) & (jb[:, 3] - jb[:, 1] > 2)
            boxes.append(jb[ok])
            labels.append(cls[ok])
            cl.append(np.zeros(int(ok.sum()), bool))
        b2, c2 = np.concatenate(boxes), np.concatenate(labels)
        xs.append(crop_boxes(img, b2))
        ys.append(c2)
        fs.append(np.concatenate(cl))
    return np.concatenate(xs), np.concatenate(ys), np.concatenate(fs)


# ----------------------------------------------------------------- models

class EdgeNet(nn.Module):
    """~5k parameters; only ops edgeai's trainer differentiates."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 8, 3, padding=1)
        self.c2 = nn.Conv2d(8, 16, 3, padding=1)
        self.c3 = nn.Conv2d(16, 16, 3, padding=1)
        self.fc = nn.Linear(16 * 4 * 4, NC)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.c1(x)), 2)
        x = F.max_pool2d(F.relu(self.c2(x)), 2)
        x = F.max_pool2d(F.relu(self.c3(x)), 2)
        return self.fc(torch.flatten(x, 1))


def cbr(ci, co):
    return [nn.Conv2d(ci, co, 3, padding=1, bias=False), nn.BatchNorm2d(co), nn.ReLU(inplace=True)]


class CloudNet(nn.Module):
    """~98k parameters; batch norm folds into the convolutions on export."""

    def __init__(self):
        super().__init__()
        self.f = nn.Sequential(*cbr(3, 16), nn.MaxPool2d(2), *cbr(16, 32), nn.MaxPool2d(2),
                               *cbr(32, 64), nn.MaxPool2d(2), *cbr(64, 128),
                               nn.AdaptiveAvgPool2d(1))
        self.fc = nn.Linear(128, NC)

    def forward(self, x):
        return self.fc(torch.flatten(self.f(x), 1))


def predict(model, x, bs=512):
    model.eval()
    with torch.no_grad():
        return torch.cat([model(torch.from_numpy(x[i:i + bs])) for i in range(0, len(x), bs)]).numpy()


def train(model, x, y, epochs, lr, bs, seed, flip, log, name, wd=0.0):
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=wd)
    steps = epochs * ((len(x) + bs - 1) // bs)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    for e in range(epochs):
        model.train()
        perm = torch.randperm(len(x), generator=g)
        tot, cor, seen = 0.0, 0, 0
        for i in range(0, len(x), bs):
            idx = perm[i:i + bs]
            xb, yb = xt[idx], yt[idx]
            if flip:
                m = torch.rand(len(idx), generator=g) < 0.5
                xb = torch.where(m[:, None, None, None], xb.flip(3), xb)
                # brightness jitter, and a random channel order for half the
                # crops: only a few trucks and bikes per training seed, so
                # without it the net learns their paint, not their shape
                xb = (xb * (0.8 + 0.4 * torch.rand(len(idx), 1, 1, 1, generator=g))).clamp(0, 1)
                perm3 = torch.stack([torch.randperm(3, generator=g) for _ in range(len(idx))])
                keep = torch.rand(len(idx), generator=g) < 0.5
                perm3[keep] = torch.arange(3)
                xb = torch.gather(xb, 1, perm3[:, :, None, None].expand(-1, -1, S, S))
            out = model(xb)
            loss = F.cross_entropy(out, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            tot += loss.item() * len(idx)
            cor += (out.argmax(1) == yb).sum().item()
            seen += len(idx)
        log("%s epoch %d/%d loss %.4f acc %.4f" % (name, e + 1, epochs, tot / seen, cor / seen))


# ----------------------------------------------------------------- metrics

def softmax(z, t=1.0):
    z = z / t
    z = z - z.max(1, keepdims=True)
    p = np.exp(z)
    return p / p.sum(1, keepdims=True)


def ece(logits, y, t=1.0, bins=15):
    """15 equal-width bins, (lo, hi], as eai_calib_ece."""
    p = softmax(logits, t)
    conf, pred = p.max(1), p.argmax(1)
    b = np.clip(np.ceil(conf * bins).astype(int) - 1, 0, bins - 1)
    e = 0.0
    for k in range(bins):
        m = b == k
        if m.any():
            e += abs((pred[m] == y[m]).sum() - conf[m].sum()) / len(y)
    return float(e)


def summary(logits, y, t=1.0):
    p = softmax(logits, t)
    conf, pred = p.max(1), p.argmax(1)
    edges = [0.0, 0.5, 0.7, 0.85, 0.95, 1.0001]
    hist = {"%.2f-%.2f" % (edges[i], min(edges[i + 1], 1.0)):
            round(float(((conf >= edges[i]) & (conf < edges[i + 1])).mean()), 4)
            for i in range(len(edges) - 1)}
    under = conf < CONF_T
    return {"accuracy": float((pred == y).mean()),
            "per_class_accuracy": {c: float((pred[y == k] == k).mean()) if (y == k).any() else None
                                   for k, c in enumerate(CLASSES)},
            "frac_conf_under_0.85": float(under.mean()),
            "accuracy_conf_ge_0.85": float((pred[~under] == y[~under]).mean()) if (~under).any() else None,
            "accuracy_conf_under_0.85": float((pred[under] == y[under]).mean()) if under.any() else None,
            "confidence_histogram": hist, "ece_15": ece(logits, y, t)}


# ----------------------------------------------------------------- export / edgeai

def export(model, path):
    model.eval()
    x = torch.zeros(1, 3, S, S)
    torch.onnx.export(model, x, path, input_names=["images"], output_names=["logits"],
                      opset_version=13, do_constant_folding=True,
                      dynamic_axes={"images": {0: "batch"}, "logits": {0: "batch"}})
    import onnx
    ops = sorted({n.op_type for n in onnx.load(path).graph.node})
    return ops


def sh(cmd, log):
    log("$ " + " ".join(cmd))
    t0 = time.time()
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        log("failed (%d): %s" % (r.returncode, (r.stderr or r.stdout).strip()))
        return None, time.time() - t0
    return r.stdout, time.time() - t0


def edgeai_run_diff(edgeai, path, x, ref, work, log):
    xp = os.path.join(work, "run_x.npy")
    np.save(xp, x)
    out, _ = sh([edgeai, "run", path, "-i", xp, "-o", work, "--batch", str(len(x))], log)
    if out is None:
        return None
    got = np.load(os.path.join(work, "logits.npy"))
    err = float(np.abs(got.reshape(ref.shape) - ref).max())
    log("%s: edgeai run vs PyTorch max |diff| %.2e on %d crops" % (os.path.basename(path), err,
                                                                   len(x)))
    return err


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.path.join(ROOT, "build-scene-data"))
    ap.add_argument("--out", default=os.path.join(ROOT, "models", "scene"))
    ap.add_argument("--work", default=os.path.join(ROOT, "build-cls", "scene_cls_data"))
    ap.add_argument("--edgeai", default=None)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--edge-epochs", type=int, default=20)
    ap.add_argument("--cloud-epochs", type=int, default=3)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    edgeai = a.edgeai
    if edgeai is None:
        for b in ("build-cls/edgeai", "build/edgeai"):
            if os.access(os.path.join(ROOT, b), os.X_OK):
                edgeai = os.path.join(ROOT, b)
                break
    os.makedirs(a.out, exist_ok=True)
    os.makedirs(a.work, exist_ok=True)
    t_start = time.time()

    def log(m):
        print("[%6.1fs] %s" % (time.time() - t_start, m), flush=True)

    # ---- data
    rng = np.random.default_rng(7)
    tr = [d for d in seq_dirs(a.data, "train")]
    val_dir = tr[-1]  # seed 106
    tr = tr[:-1]
    xs, ys, xj, yj = [], [], [], []
    edge_pool = None
    for d in tr:
        x2, y2, c2 = seq_crops(d, jitter=1, rng=rng)
        xj.append(x2), yj.append(y2)
        xs.append(x2[c2]), ys.append(y2[c2])
        if os.path.basename(d) == EDGE_SEED_DIR:
            edge_pool = (xs[-1], ys[-1])
    if edge_pool is None:
        sys.exit("train_scene_cls: %s missing under %s/train" % (EDGE_SEED_DIR, a.data))
    x_tr, y_tr = np.concatenate(xs), np.concatenate(ys)
    # cloud: every clean crop plus one jittered copy of each
    x_cl, y_cl = np.concatenate(xj), np.concatenate(yj)
    x_va, y_va, _ = seq_crops(val_dir)
    rng_j = np.random.default_rng(11)
    tej = [seq_crops(d, every=5, jitter=1, rng=rng_j) for d in seq_dirs(a.data, "test")]
    x_te = np.concatenate([t[0][t[2]] for t in tej])
    y_te = np.concatenate([t[1][t[2]] for t in tej])
    x_tj = np.concatenate([t[0][~t[2]] for t in tej])  # the jittered copies only
    y_tj = np.concatenate([t[1][~t[2]] for t in tej])
    ey = edge_pool[1]
    pick = np.concatenate([rng.choice(np.where(ey == k)[0], min(n, int((ey == k).sum())),
                                      replace=False) for k, n in enumerate(EDGE_ALLOC)])
    x_ed, y_ed = edge_pool[0][pick], edge_pool[1][pick]
    log("crops: cloud train %d (%d clean, seeds 101-105), edge train %d (seed 101), "
        "val %d (seed 106), test %d (seeds 201-203, every 5th frame)"
        % (len(y_cl), len(y_tr), len(y_ed), len(y_va), len(y_te)))
    counts = lambda y: [int((y == k).sum()) for k in range(NC)]
    log("class counts car/truck/bike/person: train %s edge %s val %s test %s"
        % (counts(y_tr), counts(y_ed), counts(y_va), counts(y_te)))
    for name, (x, y) in {"edge_train": (x_ed, y_ed), "train": (x_tr, y_tr), "val": (x_va, y_va),
                         "test": (x_te, y_te)}.items():
        np.save(os.path.join(a.work, name + "_x.npy"), np.ascontiguousarray(x, np.float32))
        np.save(os.path.join(a.work, name + "_y.npy"), y.astype(np.int64))
    t_data = time.time() - t_start

    # ---- edge
    t0 = time.time()
    torch.manual_seed(1)
    edge = EdgeNet()
    train(edge, x_ed, y_ed, a.edge_epochs, 3e-3, 32, 1, False, log, "edge")
    t_edge = time.time() - t0
    # ---- cloud
    t0 = time.time()
    torch.manual_seed(2)
    cloud = CloudNet()
    train(cloud, x_cl, y_cl, a.cloud_epochs, 3e-3, 128, 2, True, log, "cloud", wd=1e-4)
    t_cloud = time.time() - t0

    le, lc = predict(edge, x_te), predict(cloud, x_te)
    ev_e, ev_c = summary(le, y_te), summary(lc, y_te)
    ev_ej = summary(predict(edge, x_tj), y_tj)["accuracy"]
    ev_cj = summary(predict(cloud, x_tj), y_tj)["accuracy"]
    log("edge  held-out: %s" % json.dumps(ev_e))
    log("cloud held-out: %s" % json.dumps(ev_c))

    pe = os.path.join(a.out, "scene_cls_edge.onnx")
    pc = os.path.join(a.out, "scene_cls_cloud.onnx")
    ops_e, ops_c = export(edge, pe), export(cloud, pc)
    log("edge ops %s, cloud ops %s" % (ops_e, ops_c))
    m = {"classes": CLASSES, "input": "images [N,3,32,32] RGB pixels/255 NCHW (stretched box)",
         "output": "logits [N,4]", "crop_filter": {"min_h_px": MIN_H, "min_visibility": MIN_VIS},
         "data": {"cloud_train_crops": int(len(y_cl)), "train_clean_crops": int(len(y_tr)),
                  "edge_train_crops": int(len(y_ed)), "val_crops": int(len(y_va)),
                  "test_crops": int(len(y_te)), "test_class_counts": counts(y_te),
                  "train_class_counts": counts(y_tr), "edge_class_counts": counts(y_ed)},
         "data_seconds": round(t_data, 1)}
    m["edge"] = {"params": sum(q.numel() for q in edge.parameters()), "epochs": a.edge_epochs,
                 "train_seconds": round(t_edge, 1), "onnx_bytes": os.path.getsize(pe),
                 "ops": ops_e, "test": ev_e, "test_jittered_boxes_accuracy": ev_ej,
                 "val_accuracy": float((predict(edge, x_va).argmax(1) == y_va).mean())}
    m["cloud"] = {"params": sum(q.numel() for q in cloud.parameters()), "epochs": a.cloud_epochs,
                  "train_seconds": round(t_cloud, 1), "onnx_bytes": os.path.getsize(pc),
                  "ops": ops_c, "test": ev_c, "test_jittered_boxes_accuracy": ev_cj}

    # ---- edgeai checks
    if edgeai:
        w = a.work
        m["edge"]["edgeai_max_abs_diff"] = edgeai_run_diff(edgeai, pe, x_te[:8], le[:8], w, log)
        m["cloud"]["edgeai_max_abs_diff"] = edgeai_run_diff(edgeai, pc, x_te[:8], lc[:8], w, log)
        spec = lambda n: "npy:%s,%s" % (os.path.join(w, n + "_x.npy"), os.path.join(w, n + "_y.npy"))
        calib = os.path.join(a.out, "scene_cls_edge.calib.json")
        out, secs = sh([edgeai, "calibrate", pe, "--data", spec("val"), "-o", calib], log)
        if out is not None:
            print(out, end="")
            t = json.load(open(calib))
            T = t["temperature"]
            m["edge"]["calibration"] = {
                "file": os.path.relpath(calib, ROOT), "temperature": T,
                "val_ece_before": t["ece_before"], "val_ece_after": t["ece_after"],
                "val_samples": t["n"], "seconds": round(secs, 1),
                "test_ece_before": ev_e["ece_15"], "test_ece_after": ece(le, y_te, T),
                "test_calibrated": summary(le, y_te, T)}
            # the router's rule on the held-out crops: edge if calibrated conf >= 0.85
            conf = softmax(le, T).max(1)
            off = conf < CONF_T
            pred = np.where(off, lc.argmax(1), le.argmax(1))
            m["hybrid_test"] = {"threshold": CONF_T, "temperature": T,
                                "offload_fraction": float(off.mean()),
                                "accuracy": float((pred == y_te).mean()),
                                "edge_only_accuracy": ev_e["accuracy"],
                                "cloud_only_accuracy": ev_c["accuracy"]}
            log("hybrid (calibrated edge, threshold 0.85): %s" % json.dumps(m["hybrid_test"]))
        # the trainer supports the graph and improves it: 1 epoch on crops the
        # edge model never saw (seeds 102-105), held-out accuracy after
        ft = os.path.join(w, "edge_ft.onnx")
        fj = os.path.join(w, "edge_ft.json")
        more = np.where(np.concatenate([np.full(len(y), os.path.basename(d) != EDGE_SEED_DIR)
                                        for d, y in zip(tr, ys)]))[0]
        np.save(os.path.join(w, "more_x.npy"), np.ascontiguousarray(x_tr[more]))
        np.save(os.path.join(w, "more_y.npy"), y_tr[more].astype(np.int64))
        out, secs = sh([edgeai, "train", pe, "--data", spec("more"), "--test", spec("test"),
                        "--epochs", "1", "--batch", "32", "--optim", "adam", "--lr", "0.001",
                        "--seed", "1", "--threads", str(a.threads), "-o", ft, "--json", fj,
                        "--quiet"], log)
        if out is not None:
            j = json.load(open(fj))["epochs"][0]
            m["edge"]["edgeai_train_1_epoch"] = {
                "data": "%d crops of seeds 102-105" % len(more), "optim": "adam lr 0.001 batch 32",
                "test_acc_before": ev_e["accuracy"], "test_acc_after": j["test_acc"],
                "train_loss": j["train_loss"], "seconds": round(secs, 1)}
            log("edgeai train 1 epoch: held-out %.4f -> %.4f (%.1f s)"
                % (ev_e["accuracy"], j["test_acc"], secs))
    else:
        log("no edgeai binary: skipped run/calibrate/train checks (build build-cls/edgeai)")
    m["total_seconds"] = round(time.time() - t_start, 1)
    mpath = os.path.join(a.out, "metrics.json")
    metrics = json.load(open(mpath)) if os.path.exists(mpath) else {}
    metrics["cls"] = m
    json.dump(metrics, open(mpath, "w"), indent=1)
    log("wrote %s" % mpath)


if __name__ == "__main__":
    main()
