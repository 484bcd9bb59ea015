#!/usr/bin/python3
"""Issue-8 benchmark: the architecture comparison and the simulator's scaling.

  bench/issue8.py [--cli build/edgeai] [--bench build/bench/bench_topo]
                  [--config examples/topo/smart_city.json] [--quick]

service   the host's per-core throughput (numpy float32 matmul, one OpenBLAS
          thread, best of 5: attained GFLOPS, the same one-core view that
          `edgeai bench --threads 1` has) and `edgeai bench --threads 1` p50
          of every model in the topology (the lower of two runs), written to
          bench/results/issue8_service.json; the simulator scales those
          milliseconds to each hardware profile (docs/topo.md).
compare   `edgeai topo compare --config C --service S` as a table, --json,
          --csv and --plot (bench/results/issue8_compare.{json,csv,png}).
scaling   bench_topo --json at 100, 1,000 and 10,000 devices (hybrid,
          20 s simulated, median of 3): wall time, events/s and the
          per-device cost against the 100-device run.

Everything is bounded by timeouts; timings are never asserted. Writes
bench/results/issue8.json (all of it) and prints the table.
"""
import argparse
import json
import os
import subprocess
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy loads OpenBLAS
import numpy as np  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "bench", "results")


def run(cmd, timeout=300):
    print("+ " + " ".join(cmd), flush=True)
    p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        sys.stderr.write(p.stdout + p.stderr)
        raise SystemExit("issue8: command failed (exit %d): %s" % (p.returncode, " ".join(cmd)))
    return p.stdout


def host_gops(n=1024, reps=5):
    a = np.random.default_rng(1).standard_normal((n, n)).astype(np.float32)
    b = np.random.default_rng(2).standard_normal((n, n)).astype(np.float32)
    best = float("inf")
    a @ b  # warm-up
    for _ in range(reps):
        t = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t)
    return 2.0 * n ** 3 / best / 1e9


def cpu_name():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cli", default="build/edgeai")
    ap.add_argument("--bench", default="build/bench/bench_topo")
    ap.add_argument("--config", default="examples/topo/smart_city.json")
    ap.add_argument("--quick", action="store_true", help="fewer bench runs, shorter scaling runs")
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    cfg = json.load(open(os.path.join(ROOT, args.config)))
    runs = "500" if args.quick else "2000"

    service = {"host": {"gops": round(host_gops(), 2), "cpu": cpu_name(),
                        "method": "numpy float32 1024x1024 matmul, OPENBLAS_NUM_THREADS=1, best of 5"},
               "models": {}}
    for name, m in cfg.get("models", {}).items():
        if not m.get("path"):
            continue
        p50 = []
        for _ in range(2):
            out = run([args.cli, "bench", m["path"], "--threads", "1", "--runs", runs, "--json"])
            p50.append(json.loads(out)["p50_ms"])
        service["models"][name] = {"host_ms": min(p50), "bytes": os.path.getsize(os.path.join(ROOT, m["path"])),
                                   "bench_p50_ms_runs": p50}
    svc_path = os.path.join(OUT, "issue8_service.json")
    json.dump(service, open(svc_path, "w"), indent=2)

    base = [args.cli, "topo", "compare", "--config", args.config, "--service", svc_path]
    table = run(base)
    print(table)
    run(base + ["--json", "-o", os.path.join(OUT, "issue8_compare.json")])
    run(base + ["--csv", "-o", os.path.join(OUT, "issue8_compare.csv"),
                "--plot", os.path.join(OUT, "issue8_compare.png")])
    compare = json.load(open(os.path.join(OUT, "issue8_compare.json")))

    scaling = json.loads(run([args.bench, "--config", args.config, "--arch", "hybrid",
                              "--duration", "10" if args.quick else "20",
                              "--runs", "1" if args.quick else "3", "--json"], timeout=600))
    print("%-8s %10s %12s %12s %12s %8s" % ("devices", "wall_s", "events", "events/s", "us/device", "ratio"))
    for s in scaling["sizes"]:
        print("%-8d %10.4f %12d %12.0f %12.3f %8.3f" % (s["devices"], s["wall_s"], s["events"],
                                                       s["events_per_s"], s["us_per_device"],
                                                       s["per_device_ratio"]))
    with open("/proc/loadavg") as f:
        load = f.read().split()[:3]
    summary = {"service": service, "compare": compare, "scaling": scaling, "loadavg": load,
               "table": table}
    json.dump(summary, open(os.path.join(OUT, "issue8.json"), "w"), indent=2)
    print("wrote bench/results/issue8*.{json,csv,png}; load average %s" % " ".join(load))


if __name__ == "__main__":
    main()
