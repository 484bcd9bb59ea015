#!/usr/bin/python3
"""A/B of the XNNPACK backend's run-time thread choice (docs/xnnpack.md).

    /usr/bin/python3 bench/xnn_threads_ab.py [--cli build/edgeai]
        [--plans build/bench-issue3/plans] [--models a,b] [--reps 3] [--runs 200]

For each model and precision, interleaved, `--reps` rounds: 1 thread,
2 threads with every pool node on the pool (EAI_XNN_FIXED_THREADS=1) and
2 threads choosing per node at run time; prints the median p50 and each
round's p50, plus how busy the machine was in the half second before each
run (1.0 = both cores busy), so a loaded run shows as such. The plans are
`edgeai build` outputs named MODEL.{fp32,int8}.eai (bench/issue3.sh
writes them under build/bench-issue3/plans).
"""
import argparse
import json
import os
import statistics
import subprocess
import time


def stat():
    with open("/proc/stat") as f:
        v = list(map(int, f.readline().split()[1:]))
    return sum(v), v[3] + v[4]


def busy_before(secs=0.5):
    t0, i0 = stat()
    time.sleep(secs)
    t1, i1 = stat()
    return 1 - (i1 - i0) / max(1, t1 - t0)


def bench(a, plan, threads, fixed):
    env = dict(os.environ)
    env.pop("EAI_XNN_FIXED_THREADS", None)
    if fixed:
        env["EAI_XNN_FIXED_THREADS"] = "1"
    busy = busy_before()
    r = subprocess.run([a.cli, "bench", plan, "--threads", str(threads), "--runs", str(a.runs),
                        "--warmup", "20", "--json"], capture_output=True, text=True, env=env,
                       check=True)
    return json.loads(r.stdout)["p50_ms"], busy


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cli", default="build/edgeai")
    ap.add_argument("--plans", default="build/bench-issue3/plans")
    ap.add_argument("--models", default="mobilenet_v2,yolo_tiny,mobilenet_v3_large,resnet18")
    ap.add_argument("--precisions", default="fp32,int8")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--runs", type=int, default=200)
    a = ap.parse_args()
    ways = [("1 thread", 1, False), ("2 fixed", 2, True), ("2 adaptive", 2, False)]
    rows = {}
    for _ in range(a.reps):
        for m in a.models.split(","):
            for p in a.precisions.split(","):
                plan = os.path.join(a.plans, f"{m}.{p}.eai")
                for name, th, fixed in ways:
                    rows.setdefault((m, p, name), []).append(bench(a, plan, th, fixed))
    print(f"{'model':<20} {'prec':<5} {'way':<11} {'p50 ms':>8}  rounds (p50 ms, busy before)")
    for (m, p, name), v in rows.items():
        med = statistics.median(x[0] for x in v)
        runs = ", ".join(f"{x[0]:.2f}/{x[1]:.2f}" for x in v)
        print(f"{m:<20} {p:<5} {name:<11} {med:8.2f}  {runs}")


if __name__ == "__main__":
    main()
