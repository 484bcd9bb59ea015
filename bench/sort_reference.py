#!/usr/bin/python3
"""SORT in numpy + scipy: the named peer of bench_track (issue 6).

The algorithm of abewley/sort (sort.py, with filterpy's KalmanFilter written
out in numpy: 7x7 state [cx, cy, area, aspect, vx, vy, v_area], the same
noise matrices, Joseph-form covariance update), and the same association as
edgeai's SORT: the gated assignment problem (pairs with IoU >= 0.3 only,
maximising the sum of IoU - 0.3) solved with scipy's linear_sum_assignment.
Reads a MOTChallenge det file, writes MOT results, and prints per-frame
update times.

  bench/sort_reference.py DET.txt -o RESULT.txt [--json]
"""
import argparse
import json
import sys
import time

import numpy as np
from scipy.optimize import linear_sum_assignment


def iou_batch(a, b):
    """a: (n,4), b: (m,4) x1,y1,x2,y2 -> (n,m) IoU."""
    xx1 = np.maximum(a[:, None, 0], b[None, :, 0])
    yy1 = np.maximum(a[:, None, 1], b[None, :, 1])
    xx2 = np.minimum(a[:, None, 2], b[None, :, 2])
    yy2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.maximum(0.0, xx2 - xx1) * np.maximum(0.0, yy2 - yy1)
    aa = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    ab = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return inter / (aa[:, None] + ab[None, :] - inter)


def to_z(b):
    w, h = b[2] - b[0], b[3] - b[1]
    return np.array([b[0] + w / 2.0, b[1] + h / 2.0, w * h, w / float(h)])


def to_box(x):
    w = np.sqrt(x[2] * x[3])
    h = x[2] / w
    return np.array([x[0] - w / 2.0, x[1] - h / 2.0, x[0] + w / 2.0, x[1] + h / 2.0])


F = np.eye(7)
F[0, 4] = F[1, 5] = F[2, 6] = 1
Hm = np.zeros((4, 7))
Hm[:4, :4] = np.eye(4)
R = np.diag([1.0, 1.0, 10.0, 10.0])
Q = np.diag([1.0, 1.0, 1.0, 1.0, 0.01, 0.01, 0.0001])
I7 = np.eye(7)


class Track:
    count = 0

    def __init__(self, box):
        self.x = np.zeros(7)
        self.x[:4] = to_z(box)
        self.P = np.diag([10.0, 10.0, 10.0, 10.0, 1e4, 1e4, 1e4])
        self.tsu = 0
        Track.count += 1
        self.id = Track.count
        self.hits = self.streak = self.age = 0

    def predict(self):
        if self.x[6] + self.x[2] <= 0:
            self.x[6] = 0.0
        self.x = F @ self.x
        self.P = F @ self.P @ F.T + Q
        self.age += 1
        if self.tsu > 0:
            self.streak = 0
        self.tsu += 1
        return to_box(self.x)

    def update(self, box):
        self.tsu = 0
        self.hits += 1
        self.streak += 1
        z = to_z(box)
        S = Hm @ self.P @ Hm.T + R
        K = self.P @ Hm.T @ np.linalg.inv(S)
        self.x = self.x + K @ (z - Hm @ self.x)
        A = I7 - K @ Hm
        self.P = A @ self.P @ A.T + K @ R @ K.T


class Sort:
    def __init__(self, max_age=1, min_hits=3, iou_threshold=0.3):
        self.max_age, self.min_hits, self.thr = max_age, min_hits, iou_threshold
        self.tracks = []
        self.frame_count = 0

    def update(self, dets):
        """dets: (n,4) boxes. Returns [(id, box)] reported this frame."""
        self.frame_count += 1
        boxes, keep = [], []
        for t in self.tracks:
            b = t.predict()
            if np.all(np.isfinite(b)):
                keep.append(t)
                boxes.append(b)
        self.tracks = keep
        matched_d = set()
        if len(self.tracks) and len(dets):
            iou = iou_batch(np.array(boxes), dets)
            # gated problem: profit iou - thr where iou >= thr, else 0 (= unmatched)
            cost = np.where(iou >= self.thr, (1.0 - iou) - (1.0 - self.thr + 1e-6), 0.0)
            rows, cols = linear_sum_assignment(cost)
            for r, c in zip(rows, cols):
                if iou[r, c] >= self.thr:
                    self.tracks[r].update(dets[c])
                    matched_d.add(c)
        for j in range(len(dets)):
            if j not in matched_d:
                self.tracks.append(Track(dets[j]))
        out = []
        for t in self.tracks:
            if t.tsu < 1 and (t.streak >= self.min_hits or self.frame_count <= self.min_hits):
                out.append((t.id, to_box(t.x)))
        self.tracks = [t for t in self.tracks if t.tsu <= self.max_age]
        return out


def load_dets(path):
    frames = {}
    with open(path) as f:
        for line in f:
            v = line.strip().split(",")
            if len(v) < 7:
                continue
            fr = int(float(v[0]))
            x, y, w, h = map(float, v[2:6])
            frames.setdefault(fr, []).append([x, y, x + w, y + h])
    return frames


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("det")
    ap.add_argument("-o", "--out")
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    frames = load_dets(a.det)
    last = max(frames) if frames else 0
    s = Sort()
    times, rows = [], []
    for f in range(1, last + 1):
        d = np.array(frames.get(f, []), dtype=np.float64).reshape(-1, 4)
        t0 = time.perf_counter()
        out = s.update(d)
        dt = time.perf_counter() - t0
        if f > a.warmup:
            times.append(1e3 * dt)
        for tid, b in out:
            rows.append("%d,%d,%.3f,%.3f,%.3f,%.3f,1,-1,-1,-1\n"
                        % (f, tid, b[0], b[1], b[2] - b[0], b[3] - b[1]))
    if a.out:
        with open(a.out, "w") as f:
            f.writelines(rows)
    t = np.array(times) if times else np.zeros(1)
    res = {"p50_ms": float(np.percentile(t, 50)), "p99_ms": float(np.percentile(t, 99)),
           "mean_ms": float(t.mean()), "frames": len(times)}
    if a.json:
        print(json.dumps(res))
    else:
        print("sort_reference (numpy+scipy): p50 %.4f ms  p99 %.4f ms  mean %.4f ms per frame"
              % (res["p50_ms"], res["p99_ms"], res["mean_ms"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
