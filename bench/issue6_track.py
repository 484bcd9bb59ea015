#!/usr/bin/python3
"""Issue 6 tracker cost: edgeai's trackers (bench_track) against the named
peer, a numpy + scipy SORT (bench/sort_reference.py), on the same synthetic
detections in the same run, one core each (taskset -c 0 when available).
Prints per-frame p50 / p99 and the peer / edgeai ratio; with --cli it also
checks that edgeai's SORT and the reference report the same tracks (ids and
boxes) on those detections.

  bench/issue6_track.py [--bench build/bench/bench_track] [--cli build/edgeai]
                        [--objects 50] [--frames 2000] [--json OUT.json]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def pin():
    return ["taskset", "-c", "0"] if shutil.which("taskset") else []


def load(path):
    d = {}
    with open(path) as f:
        for line in f:
            v = line.split(",")
            d[(int(v[0]), int(v[1]))] = [float(x) for x in v[2:6]]
    return d


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench", default="build/bench/bench_track")
    ap.add_argument("--cli", default=None, help="edgeai CLI: also compare SORT outputs")
    ap.add_argument("--objects", type=int, default=50)
    ap.add_argument("--frames", type=int, default=2000)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--json", help="write the numbers here")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="eai_i6_")
    try:
        det = os.path.join(tmp, "det.txt")
        c = subprocess.run(pin() + [a.bench, "--objects", str(a.objects), "--frames",
                                    str(a.frames), "--warmup", str(a.warmup), "--write-det", det,
                                    "--json"], capture_output=True, text=True, check=True)
        eai = json.loads(c.stdout)
        py_out = os.path.join(tmp, "py.txt")
        p = subprocess.run(pin() + [sys.executable, os.path.join(HERE, "sort_reference.py"), det,
                                    "-o", py_out, "--warmup", str(a.warmup), "--json"],
                           capture_output=True, text=True, check=True)
        ref = json.loads(p.stdout)
        print("%d objects, %d timed frames, one core" % (a.objects, a.frames))
        print("%-28s %10s %10s" % ("tracker", "p50 ms", "p99 ms"))
        for k, v in eai["trackers"].items():
            print("%-28s %10.4f %10.4f" % ("edgeai " + k, v["p50_ms"], v["p99_ms"]))
        print("%-28s %10.4f %10.4f" % ("sort_reference.py (peer)", ref["p50_ms"], ref["p99_ms"]))
        ratio = ref["p50_ms"] / max(1e-9, eai["trackers"]["sort"]["p50_ms"])
        print("peer / edgeai SORT (p50): %.1fx" % ratio)
        target = all(v["p50_ms"] <= 0.5 for v in eai["trackers"].values())
        print("target <= 0.5 ms/frame at p50: %s" % ("met" if target else "NOT met"))
        res = {"edgeai": eai, "sort_reference": ref, "ratio_p50": ratio}
        if a.cli:
            c_out = os.path.join(tmp, "c.txt")
            subprocess.run([a.cli, "track", "run", "--tracker", "sort", "--det", det, "-o", c_out],
                           check=True, capture_output=True)
            x, y = load(c_out), load(py_out)
            common = set(x) & set(y)
            diff = max((max(abs(u - v) for u, v in zip(x[k], y[k])) for k in common), default=0)
            same = len(common) == len(x) == len(y)
            print("SORT outputs: edgeai %d rows, reference %d, common (frame,id) %d, "
                  "largest box difference %.4f px: %s"
                  % (len(x), len(y), len(common), diff, "same" if same and diff < 0.01 else "DIFFER"))
            res["outputs_same"] = bool(same and diff < 0.01)
        if a.json:
            with open(a.json, "w") as f:
                json.dump(res, f, indent=1)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
