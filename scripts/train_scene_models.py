#!/usr/bin/python3
"""Trains the two small models of the synthetic intersection (docs/scene.md)
on CPU and exports them to ONNX:

  detector  320x240 RGB (pixels/255, NCHW) -> [1, 1500, 9], the YOLOv5 layout
            of include/edgeai/vision.h (EAI_DET_YOLOV5): per anchor cx, cy, w,
            h in input pixels, objectness, 4 class scores (car, truck, bike,
            person; sigmoids applied, score = obj * cls). Anchors: a 30x40
            grid of stride 8 then a 15x20 grid of stride 16.
  reid      64x64 RGB crop (pixels/255, NCHW, stretched) -> 64-d embedding,
            L2-normalised; trained on the generator's true identities with a
            cosine-softmax loss. It knows only these synthetic identities.

Data: the sequences of scripts/make_scene_data.sh (train seeds 101..106,
held-out test seeds 201..203). Evaluates on the test seeds (detector
precision/recall at IoU 0.5; re-ID rank-1 and pair verification, beside a
colour-histogram baseline), checks the exported ONNX files against PyTorch
with `edgeai run`, and writes models/scene/metrics.json.

usage: /usr/bin/python3 scripts/train_scene_models.py [--data DIR] [--out models/scene]
           [--edgeai build/edgeai] [--det-epochs N] [--reid-epochs N] [--threads N]
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IN_W, IN_H = 320, 240
STRIDES = (8, 16)
ANCHOR = {8: 24.0, 16: 56.0}  # w = (2 sigmoid(t))^2 * anchor: up to 4x anchor
NC = 4
REID = 64


# ----------------------------------------------------------------- data

def load_seq(d):
    ini = open(os.path.join(d, "seqinfo.ini")).read()
    n = int([l for l in ini.splitlines() if l.startswith("seqLength=")][0].split("=")[1])
    gt = np.loadtxt(os.path.join(d, "gt", "gt.txt"), delimiter=",", ndmin=2)
    frames = []
    for f in range(1, n + 1):
        img = torchvision.io.read_image(os.path.join(d, "img1", "%06d.png" % f))[:3]
        rows = gt[gt[:, 0] == f]
        frames.append((img, rows))
    return frames


def seqs(data, split):
    ds = sorted(glob.glob(os.path.join(data, split, "scene-*")))
    if not ds:
        sys.exit("train_scene_models: no %s sequences under %s (run scripts/make_scene_data.sh)"
                 % (split, data))
    return ds


def to_input(img):
    """uint8 [3,480,640] -> float [3,240,320], bilinear half-pixel as
    eai_preprocess (YOLO letterbox at exactly 0.5 scale adds no border)."""
    x = img.float().unsqueeze(0) / 255.0
    return F.interpolate(x, size=(IN_H, IN_W), mode="bilinear", align_corners=False)[0]


# ----------------------------------------------------------------- detector

def cbr(ci, co, s=1, k=3):
    return nn.Sequential(nn.Conv2d(ci, co, k, s, k // 2, bias=False), nn.BatchNorm2d(co),
                         nn.ReLU(inplace=True))


class Detector(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = cbr(3, 8, 2)
        self.c2 = nn.Sequential(cbr(8, 16, 2), cbr(16, 16))
        self.c3 = nn.Sequential(cbr(16, 32, 2), cbr(32, 32))
        self.c4 = nn.Sequential(cbr(32, 48, 2), cbr(48, 48), cbr(48, 48))
        self.lat = cbr(48, 32, 1, 1)
        self.p3 = nn.Sequential(cbr(64, 32), cbr(32, 32))
        self.p4 = cbr(48, 48)
        self.h3 = nn.Conv2d(32, 5 + NC, 1)
        self.h4 = nn.Conv2d(48, 5 + NC, 1)
        for h in (self.h3, self.h4):
            nn.init.constant_(h.bias, 0.0)
            h.bias.data[4] = -4.0  # objectness starts rare

    def raw(self, x):
        c3 = self.c3(self.c2(self.c1(x)))
        c4 = self.c4(c3)
        up = F.interpolate(self.lat(c4), scale_factor=2.0, mode="nearest")
        p3 = self.p3(torch.cat([c3, up], 1))
        return [self.h3(p3), self.h4(self.p4(c4))]

    def forward(self, x):
        """Export path: decoded [B, N, 5+C] in input pixels."""
        outs = []
        for r, s in zip(self.raw(x), STRIDES):
            b, c, h, w = r.shape
            r = r.permute(0, 2, 3, 1).reshape(b, h * w, c)
            gy, gx = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
            g = torch.stack([gx, gy], -1).reshape(1, h * w, 2).float()
            sig = torch.sigmoid(r)
            xy = (sig[..., 0:2] * 2.0 - 0.5 + g) * s
            wh = (sig[..., 2:4] * 2.0) ** 2 * ANCHOR[s]
            outs.append(torch.cat([xy, wh, sig[..., 4:]], -1))
        return torch.cat(outs, 1)


def build_targets(rows, scale, ox=0, oy=0, cw=IN_W, ch=IN_H):
    """GT rows (640-pixel MOT boxes) -> per-stride lists of (gy, gx, box, cls)
    plus ignore cells, for the input window at (ox, oy) of size cw x ch.
    Boxes below 3 px or under 25% visible are ignored."""
    pos = {s: [] for s in STRIDES}
    ign = {s: [] for s in STRIDES}
    for r in rows:
        x, y, w, h = (r[2] - 1) * scale - ox, (r[3] - 1) * scale - oy, r[4] * scale, r[5] * scale
        cls, vis = int(r[7]) - 1, r[8]
        cx, cy = x + w / 2, y + h / 2
        if not (0 <= cx < cw and 0 <= cy < ch):
            continue
        s = 8 if max(w, h) <= 56 else 16
        gw, gh = cw // s, ch // s
        gx, gy = int(min(gw - 1, cx / s)), int(min(gh - 1, cy / s))
        if max(w, h) < 3 or vis < 0.25:
            ign[s].append((gy, gx))
            continue
        cells = [(gy, gx)]
        fx, fy = cx / s - gx, cy / s - gy  # YOLOv5: also the two nearest neighbours
        cells.append((gy, gx - 1 if fx < 0.5 else gx + 1))
        cells.append((gy - 1 if fy < 0.5 else gy + 1, gx))
        for (yy, xx) in cells:
            if 0 <= yy < gh and 0 <= xx < gw:
                pos[s].append((yy, xx, (x, y, x + w, y + h), cls))
    return pos, ign


def giou(a, b):
    ix1, iy1 = torch.max(a[:, 0], b[:, 0]), torch.max(a[:, 1], b[:, 1])
    ix2, iy2 = torch.min(a[:, 2], b[:, 2]), torch.min(a[:, 3], b[:, 3])
    inter = (ix2 - ix1).clamp(min=0) * (iy2 - iy1).clamp(min=0)
    ua = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1]) + (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]) - inter
    iou = inter / ua.clamp(min=1e-6)
    cx1, cy1 = torch.min(a[:, 0], b[:, 0]), torch.min(a[:, 1], b[:, 1])
    cx2, cy2 = torch.max(a[:, 2], b[:, 2]), torch.max(a[:, 3], b[:, 3])
    carea = ((cx2 - cx1) * (cy2 - cy1)).clamp(min=1e-6)
    return iou - (carea - ua) / carea


def det_loss(model, x, targets):
    raws = model.raw(x)
    lobj = lbox = lcls = torch.zeros(())
    npos = 0
    for r, s in zip(raws, STRIDES):
        b, c, h, w = r.shape
        r = r.permute(0, 2, 3, 1)  # b,h,w,c
        tobj = torch.zeros(b, h, w)
        wobj = torch.ones(b, h, w)
        bi, yi, xi, boxes, cls = [], [], [], [], []
        for k, (pos, ign) in enumerate(targets):
            for (yy, xx) in ign[s]:
                wobj[k, yy, xx] = 0
            for (yy, xx, bx, cl) in pos[s]:
                bi.append(k), yi.append(yy), xi.append(xx), boxes.append(bx), cls.append(cl)
        if bi:
            bi, yi, xi = torch.tensor(bi), torch.tensor(yi), torch.tensor(xi)
            p = r[bi, yi, xi]
            sig = torch.sigmoid(p)
            cx = (sig[:, 0] * 2 - 0.5 + xi.float()) * s
            cy = (sig[:, 1] * 2 - 0.5 + yi.float()) * s
            pw = (sig[:, 2] * 2) ** 2 * ANCHOR[s]
            ph = (sig[:, 3] * 2) ** 2 * ANCHOR[s]
            pb = torch.stack([cx - pw / 2, cy - ph / 2, cx + pw / 2, cy + ph / 2], 1)
            tb = torch.tensor(boxes, dtype=torch.float32)
            lbox = lbox + (1 - giou(pb, tb)).sum()
            tc = F.one_hot(torch.tensor(cls), NC).float()
            lcls = lcls + F.binary_cross_entropy_with_logits(p[:, 5:], tc, reduction="sum")
            tobj[bi, yi, xi] = 1.0
            wobj[bi, yi, xi] = 1.0
            npos += len(bi)
        lobj = lobj + (F.binary_cross_entropy_with_logits(r[..., 4], tobj, reduction="none")
                       * wobj).sum() / b
    npos = max(npos, 1)
    return lbox / npos * 5.0 + lcls / npos + lobj * 0.05


def nms_decode(out, conf=0.3, iou=0.45):
    """out [N, 9] decoded -> boxes x1y1x2y2, scores, classes (class-aware NMS)."""
    cls_s, cls_i = out[:, 5:].max(1)
    score = out[:, 4] * cls_s
    keep = score >= conf
    b = out[keep, :4]
    boxes = torch.stack([b[:, 0] - b[:, 2] / 2, b[:, 1] - b[:, 3] / 2,
                         b[:, 0] + b[:, 2] / 2, b[:, 1] + b[:, 3] / 2], 1)
    k = torchvision.ops.batched_nms(boxes, score[keep], cls_i[keep], iou)
    return boxes[k], score[keep][k], cls_i[keep][k]


def box_iou(a, b):
    return torchvision.ops.box_iou(torch.as_tensor(a, dtype=torch.float32),
                                   torch.as_tensor(b, dtype=torch.float32))


def eval_detector(model, frames, conf=0.3, min_h=16.0, min_vis=0.5):
    """Greedy matching at IoU 0.5 (class-agnostic and class-aware). GT boxes
    smaller than min_h px (640x480 frame) or less visible than min_vis are
    'ignore': detections matching them count neither way. Also recall on all
    GT."""
    model.eval()
    tp = fp = fn = tp_cls = 0
    all_gt = all_hit = 0
    with torch.no_grad():
        for img, rows in frames:
            out = model(to_input(img).unsqueeze(0))[0]
            boxes, scores, cls = nms_decode(out, conf)
            boxes = boxes * 2.0  # 320x240 -> 640x480
            gt = np.stack([(rows[:, 2] - 1), (rows[:, 3] - 1), rows[:, 2] - 1 + rows[:, 4],
                           rows[:, 3] - 1 + rows[:, 5]], 1) if len(rows) else np.zeros((0, 4))
            gcls = rows[:, 7].astype(int) - 1 if len(rows) else np.zeros(0, int)
            care = (rows[:, 5] >= min_h) & (rows[:, 8] >= min_vis) if len(rows) else np.zeros(0, bool)
            ious = box_iou(boxes, gt).numpy() if len(boxes) and len(gt) else np.zeros((len(boxes), len(gt)))
            used = np.zeros(len(gt), bool)
            for d in np.argsort(-scores.numpy()):
                j = -1
                if len(gt):
                    cand = np.where(~used & (ious[d] >= 0.5))[0]
                    if len(cand):
                        j = cand[np.argmax(ious[d][cand])]
                if j < 0:
                    fp += 1
                    continue
                used[j] = True
                if care[j]:
                    tp += 1
                    tp_cls += int(cls[d]) == gcls[j]
            fn += int((care & ~used).sum())
            all_gt += len(gt)
            all_hit += int(used.sum())
    p = tp / max(tp + fp, 1)
    r = tp / max(tp + fn, 1)
    return {"precision": p, "recall": r, "class_accuracy_of_tp": tp_cls / max(tp, 1),
            "tp": tp, "fp": fp, "fn": fn, "recall_all_gt": all_hit / max(all_gt, 1),
            "n_gt_all": all_gt, "conf": conf, "min_h_px": min_h, "min_visibility": min_vis}


def train_detector(frames, epochs, log):
    torch.manual_seed(0)
    model = Detector()
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
    n = len(frames)
    bs = 16
    steps = epochs * ((n + bs - 1) // bs)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 3e-3, total_steps=steps, pct_start=0.15)
    xs = torch.stack([to_input(img) for img, _ in frames])
    g = torch.Generator().manual_seed(0)
    CW, CH = 192, 144  # random windows (multiples of 16) keep CPU training affordable
    for ep in range(epochs):
        model.train()
        perm = torch.randperm(n, generator=g)
        tot = 0.0
        for i in range(0, n, bs):
            idx = perm[i:i + bs]
            ox = 16 * int(torch.randint(0, (IN_W - CW) // 16 + 1, (1,), generator=g))
            oy = 16 * int(torch.randint(0, (IN_H - CH) // 16 + 1, (1,), generator=g))
            x = xs[idx][:, :, oy:oy + CH, ox:ox + CW]
            tgt = [build_targets(frames[int(k)][1], 0.5, ox, oy, CW, CH) for k in idx]
            # photometric jitter: brightness/contrast per image
            a = 1 + 0.3 * (torch.rand(len(idx), 1, 1, 1, generator=g) - 0.5)
            bsh = 0.1 * (torch.rand(len(idx), 1, 1, 1, generator=g) - 0.5)
            x = (x * a + bsh).clamp(0, 1)
            loss = det_loss(model, x, tgt)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            tot += float(loss) * len(idx)
        log("detector epoch %d/%d loss %.4f" % (ep + 1, epochs, tot / n))
    return model


# ----------------------------------------------------------------- re-ID

class ReID(nn.Module):
    def __init__(self, dim=64):
        super().__init__()
        self.f = nn.Sequential(cbr(3, 24, 2), cbr(24, 24), cbr(24, 48, 2), cbr(48, 48),
                               cbr(48, 96, 2), cbr(96, 96), cbr(96, 128, 2))
        self.fc = nn.Linear(128, dim)

    def forward(self, x):
        h = self.f(x - 0.5)
        h = h.mean((2, 3))
        return F.normalize(self.fc(h), dim=1)


def crops_of(frames, seq_id, min_h=20, min_w=10, min_vis=0.6, jitter=None):
    """Crops (uint8 [3,64,64]) of well-visible GT boxes, their identity keys
    (seq_id, id) and frame numbers."""
    out, keys, fr = [], [], []
    for f, (img, rows) in enumerate(frames):
        for r in rows:
            if r[5] < min_h or r[4] < min_w or r[8] < min_vis:
                continue
            x, y, w, h = r[2] - 1, r[3] - 1, r[4], r[5]
            x0, y0 = max(0, int(x)), max(0, int(y))
            x1, y1 = min(img.shape[2], int(x + w)), min(img.shape[1], int(y + h))
            c = img[:, y0:y1, x0:x1].float().unsqueeze(0)
            c = F.interpolate(c, size=(REID, REID), mode="bilinear", align_corners=False)
            out.append(c[0].round().clamp(0, 255).to(torch.uint8))
            keys.append((seq_id, int(r[1])))
            fr.append(f)
    return out, keys, fr


def train_reid(crops, labels, n_id, epochs, log):
    torch.manual_seed(1)
    model = ReID()
    W = nn.Parameter(torch.randn(n_id, 64) * 0.01)
    opt = torch.optim.AdamW(list(model.parameters()) + [W], lr=3e-3, weight_decay=1e-4)
    n, bs = len(crops), 128
    steps = epochs * ((n + bs - 1) // bs)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 3e-3, total_steps=steps, pct_start=0.15)
    x_all = crops.float() / 255.0
    y_all = torch.tensor(labels)
    g = torch.Generator().manual_seed(1)
    for ep in range(epochs):
        model.train()
        perm = torch.randperm(n, generator=g)
        tot = 0.0
        for i in range(0, n, bs):
            idx = perm[i:i + bs]
            x = x_all[idx]
            # augment: flips, brightness, small shifts (crop jitter)
            flip = torch.rand(len(idx), generator=g) < 0.5
            x = torch.where(flip[:, None, None, None], x.flip(3), x)
            x = (x * (1 + 0.4 * (torch.rand(len(idx), 1, 1, 1, generator=g) - 0.5))).clamp(0, 1)
            dx, dy = [int(v) for v in torch.randint(-4, 5, (2,), generator=g)]
            x = torch.roll(x, (dy, dx), (2, 3))
            emb = model(x)
            logits = 16.0 * emb @ F.normalize(W, dim=1).t()
            # additive margin on the true class (CosFace)
            logits = logits - 16.0 * 0.2 * F.one_hot(y_all[idx], n_id)
            loss = F.cross_entropy(logits, y_all[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            tot += float(loss) * len(idx)
        log("reid epoch %d/%d loss %.4f" % (ep + 1, epochs, tot / n))
    return model


def hist_feat(x):
    """Colour-histogram baseline: 4x4x4 RGB histogram of the crop, L2-normalised."""
    q = (x.long() // 64)
    idx = q[:, 0] * 16 + q[:, 1] * 4 + q[:, 2]
    h = torch.stack([torch.bincount(i.flatten(), minlength=64).float() for i in idx])
    return F.normalize(h.sqrt(), dim=1)


def eval_reid(feats, keys, frames_of, min_gap=20, trials=5):
    """Per test sequence: for each identity seen at least min_gap frames apart,
    a query crop and a gallery crop of every identity, gallery from a
    different time than the query; rank-1 = the nearest gallery crop is the
    same identity. Verification: same/different pairs (one positive and one
    negative per query) classified at the best threshold on half the pairs,
    accuracy on the other half."""
    rng = np.random.default_rng(0)
    keys = np.array([k[0] * 1000000 + k[1] for k in keys])
    frames_of = np.array(frames_of)
    hits = total = 0
    pos_s, neg_s = [], []
    for _ in range(trials):
        q_idx, g_idx = [], []
        for k in np.unique(keys):
            ii = np.where(keys == k)[0]
            # anchors that have a crop of the same identity min_gap frames away
            ok = [i for i in ii if (np.abs(frames_of[ii] - frames_of[i]) >= min_gap).any()]
            if not ok:
                continue
            a = rng.choice(ok)
            far = ii[np.abs(frames_of[ii] - frames_of[a]) >= min_gap]
            q_idx.append(a)
            g_idx.append(rng.choice(far))
        q_idx, g_idx = np.array(q_idx), np.array(g_idx)
        if len(q_idx) < 2:
            continue
        sim = feats[q_idx] @ feats[g_idx].T
        hits += int((sim.argmax(1) == np.arange(len(q_idx))).sum())
        total += len(q_idx)
        for i in range(len(q_idx)):
            pos_s.append(float(sim[i, i]))
            j = rng.choice([j for j in range(len(q_idx)) if j != i])
            neg_s.append(float(sim[i, j]))
    pos_s, neg_s = np.array(pos_s), np.array(neg_s)
    half = len(pos_s) // 2
    ths = np.unique(np.concatenate([pos_s[:half], neg_s[:half]]))
    best = max(ths, key=lambda t: (pos_s[:half] >= t).mean() + (neg_s[:half] < t).mean())
    acc = 0.5 * ((pos_s[half:] >= best).mean() + (neg_s[half:] < best).mean())
    return {"rank1": hits / max(total, 1), "n_queries": total,
            "verification_accuracy": float(acc), "threshold": float(best)}


# ----------------------------------------------------------------- export / check

def export(model, x, path, dynamic_batch):
    model.eval()
    kw = {}
    if dynamic_batch:
        kw["dynamic_axes"] = {"images": {0: "batch"}, "output": {0: "batch"}}
    torch.onnx.export(model, x, path, input_names=["images"], output_names=["output"],
                      opset_version=13, do_constant_folding=True, **kw)


def check_edgeai(edgeai, model, x, path, log):
    """Runs the ONNX file with `edgeai run` on x and compares with PyTorch."""
    with torch.no_grad():
        ref = model(x).numpy()
    with tempfile.TemporaryDirectory() as td:
        np.save(os.path.join(td, "x.npy"), x.numpy().astype(np.float32))
        r = subprocess.run([edgeai, "run", path, "-i", os.path.join(td, "x.npy"), "-o", td],
                           capture_output=True, text=True)
        if r.returncode != 0:
            log("edgeai run failed: " + r.stderr.strip())
            return None
        got = np.load(os.path.join(td, "output.npy"))
    err = float(np.abs(got - ref).max())
    log("%s: edgeai vs PyTorch max |diff| = %.2e (shape %s)" % (os.path.basename(path), err,
                                                                 list(got.shape)))
    return err


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.path.join(ROOT, "build-scene-data"))
    ap.add_argument("--out", default=os.path.join(ROOT, "models", "scene"))
    ap.add_argument("--edgeai", default=None)
    ap.add_argument("--det-epochs", type=int, default=60)
    ap.add_argument("--reid-epochs", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--skip-det", action="store_true")
    ap.add_argument("--skip-reid", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    edgeai = a.edgeai
    if edgeai is None:
        for b in ("build/edgeai", "build-scene/edgeai"):
            if os.access(os.path.join(ROOT, b), os.X_OK):
                edgeai = os.path.join(ROOT, b)
                break
    os.makedirs(a.out, exist_ok=True)
    t_start = time.time()

    def log(m):
        print("[%6.1fs] %s" % (time.time() - t_start, m), flush=True)

    mpath = os.path.join(a.out, "metrics.json")
    metrics = json.load(open(mpath)) if os.path.exists(mpath) else {}
    train = [load_seq(d) for d in seqs(a.data, "train")]
    log("loaded %d train frames" % sum(map(len, train)))
    test = None

    def load_test():
        # loaded after training, so the held-out seeds cannot leak into it
        t = [load_seq(d) for d in seqs(a.data, "test")]
        log("loaded %d test frames" % sum(map(len, t)))
        return t

    if not a.skip_det:
        frames = [f for s in train for f in s]
        t0 = time.time()
        det = train_detector(frames, a.det_epochs, log)
        t_det = time.time() - t0
        test = test or load_test()
        test_frames = [f for s in test for f in s[::5]]  # every 5th frame: 0.5 s apart
        ev = eval_detector(det, test_frames)
        ev_all = eval_detector(det, test_frames, min_h=0.0, min_vis=0.0)
        log("detector held-out: %s" % json.dumps(ev))
        p = os.path.join(a.out, "scene_det.onnx")
        x = to_input(test[0][0][0]).unsqueeze(0)
        export(det, x, p, False)
        metrics["detector"] = {"eval_h16_vis50": ev, "eval_all_gt": ev_all,
                               "train_seconds": round(t_det, 1), "epochs": a.det_epochs,
                               "train_frames": len(frames), "test_frames": len(test_frames),
                               "params": sum(q.numel() for q in det.parameters()),
                               "onnx_bytes": os.path.getsize(p)}
        if edgeai:
            metrics["detector"]["edgeai_max_abs_diff"] = check_edgeai(edgeai, det, x, p, log)
        json.dump(metrics, open(mpath, "w"), indent=1)

    if not a.skip_reid:
        tr_c, tr_k = [], []
        for si, s in enumerate(train):
            c, k, _ = crops_of(s, si)
            tr_c += c
            tr_k += k
        ids = {k: i for i, k in enumerate(sorted(set(tr_k)))}
        labels = [ids[k] for k in tr_k]
        log("reid: %d train crops of %d identities" % (len(tr_c), len(ids)))
        t0 = time.time()
        reid = train_reid(torch.stack(tr_c), labels, len(ids), a.reid_epochs, log)
        t_reid = time.time() - t0
        test = test or load_test()
        res, base = [], []
        for si, s in enumerate(test):
            c, k, fr = crops_of(s, si)
            xc = torch.stack(c)
            reid.eval()
            with torch.no_grad():
                emb = torch.cat([reid(xc[i:i + 256].float() / 255.0)
                                 for i in range(0, len(xc), 256)]).numpy()
            res.append(eval_reid(emb, k, fr))
            base.append(eval_reid(hist_feat(xc).numpy(), k, fr))
            log("reid seq %d: net %s | colour histogram %s" % (si, json.dumps(res[-1]),
                                                               json.dumps(base[-1])))

        def mean(rs, key):
            w = sum(r["n_queries"] for r in rs)
            return sum(r[key] * r["n_queries"] for r in rs) / max(w, 1)

        p = os.path.join(a.out, "scene_reid.onnx")
        x = torch.stack(tr_c[:4]).float() / 255.0
        export(reid, x[:1], p, True)
        metrics["reid"] = {"rank1": mean(res, "rank1"),
                           "verification_accuracy": mean(res, "verification_accuracy"),
                           "hist_rank1": mean(base, "rank1"),
                           "hist_verification_accuracy": mean(base, "verification_accuracy"),
                           "per_sequence": res, "hist_per_sequence": base,
                           "train_crops": len(tr_c), "train_identities": len(ids),
                           "train_seconds": round(t_reid, 1), "epochs": a.reid_epochs,
                           "params": sum(q.numel() for q in reid.parameters()),
                           "onnx_bytes": os.path.getsize(p)}
        if edgeai:
            metrics["reid"]["edgeai_max_abs_diff"] = check_edgeai(edgeai, reid, x[:1], p, log)

    json.dump(metrics, open(mpath, "w"), indent=1)
    log("wrote %s" % mpath)


if __name__ == "__main__":
    main()
