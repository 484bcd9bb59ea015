#!/usr/bin/python3
"""Issue 7, the camera path: per-approach counts from rendered camera frames
(detector + tracker, edgeai/trafcam.h) against SUMO's detectors.

    /usr/bin/python3 bench/issue7_camera.py [--seeds 5] [--minutes 5] [--jobs 2]
        [--scenarios asymmetric,balanced] [--control-seeds 1] [--fps 5]
        [--cli build/edgeai] [--json bench/results/issue7_camera.json]

For each scenario and seed: `edgeai traffic run --controller maxpressure
--camera --camera-measure-only` (SUMO detectors drive the controller; the
camera only counts), and the stop-line departures per approach are compared:
camera vs SUMO detector (relative error), and the same counting geometry on
the true positions of the rendered vehicles vs SUMO detector (what a perfect
detector and tracker would count from these poles). Then, for the first
--control-seeds seeds, the same run with camera counts in control
(`--camera`), compared on SUMO's measured mean waiting time and throughput
with the detector-controlled run of the same seed (the measure-only run: the
camera does not touch the simulation there).
"""
import argparse
import concurrent.futures as cf
import json
import os
import statistics
import subprocess
import tempfile
import time


def run_one(cli, cfg, seed, minutes, fps, control, tmp):
    tag = "ctl" if control else "meas"
    out = os.path.join(tmp, f"{os.path.basename(cfg)}.{tag}.{seed}.json")
    cmd = [cli, "traffic", "run", "--scenario", cfg, "--controller", "maxpressure", "--seed",
           str(seed), "--minutes", str(minutes), "--json", out, "--camera", "--camera-fps",
           str(fps)]
    if not control:
        cmd.append("--camera-measure-only")
    t0 = time.time()
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"{cfg} seed {seed} {tag}: {p.stderr.strip()}")
    with open(out) as f:
        r = json.load(f)
    r["wall_s"] = time.time() - t0
    return r


def mean(xs):
    return statistics.fmean(xs) if xs else float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--minutes", type=float, default=5)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--scenarios", default="asymmetric,balanced")
    ap.add_argument("--control-seeds", type=int, default=1)
    ap.add_argument("--fps", type=float, default=5)
    ap.add_argument("--cli", default=os.environ.get("EAI_CLI", "build/edgeai"))
    ap.add_argument("--json")
    a = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    os.chdir(root)  # the CLI's default detector path is relative to the repo root
    tmp = tempfile.mkdtemp(prefix="eai_issue7_cam_")
    sc = os.path.join(tmp, "scenarios")
    subprocess.run([os.path.join(root, "scripts", "make_scenarios.sh"), sc, "42"], check=True,
                   capture_output=True)
    scen = a.scenarios.split(",")
    seeds = list(range(1, a.seeds + 1))
    t0 = time.time()
    jobs = {}
    with cf.ThreadPoolExecutor(a.jobs) as ex:
        for s in scen:
            cfg = os.path.join(sc, f"{s}.sumocfg")
            for seed in seeds:
                jobs[(s, seed, False)] = ex.submit(run_one, a.cli, cfg, seed, a.minutes, a.fps,
                                                   False, tmp)
                if seed <= a.control_seeds:
                    jobs[(s, seed, True)] = ex.submit(run_one, a.cli, cfg, seed, a.minutes, a.fps,
                                                      True, tmp)
        res = {k: f.result() for k, f in jobs.items()}
    wall = time.time() - t0

    out = {"config": {"seeds": seeds, "minutes": a.minutes, "fps": a.fps, "views": 2,
                      "detector": "models/scene/scene_det.onnx", "tracker": "bytetrack",
                      "controller": "maxpressure", "scenario_seed": 42},
           "wall_s": wall, "scenarios": {}}
    print(f"camera counts vs SUMO detectors: {len(seeds)} seeds x {a.minutes:g} min, "
          f"{a.fps:g} fps, 2 poles per junction ({wall:.0f} s wall)")
    for s in scen:
        per = {}
        totals = []
        for seed in seeds:
            r = res[(s, seed, False)]
            c = r["camera"]
            det = sum(x["det_departures"] for x in c["approaches"])
            err = sum(abs(x["cam_departures"] - x["det_departures"]) for x in c["approaches"])
            totals.append({"seed": seed, "det": det, "abs_err": err,
                           "rel": err / det if det else 0.0,
                           "net_rel": (sum(x["cam_departures"] for x in c["approaches"]) - det)
                           / det if det else 0.0})
            for x in c["approaches"]:
                d = per.setdefault(x["edge"], {"rel": [], "truth_rel": [], "det": [], "cam": [],
                                               "cam_q": [], "det_q": []})
                dd = x["det_departures"]
                d["det"].append(dd)
                d["cam"].append(x["cam_departures"])
                d["rel"].append((x["cam_departures"] - dd) / dd if dd else 0.0)
                d["truth_rel"].append((x["truth_departures"] - dd) / dd if dd else 0.0)
                d["cam_q"].append(x["cam_queue_mean"])
                d["det_q"].append(x["det_queue_mean"])
        lat = {}
        for st in ("read", "render", "detect", "track", "count"):
            lat[st] = {k: mean([res[(s, seed, False)]["camera"]["latency"][st][k]
                                for seed in seeds]) for k in ("p50_ms", "p99_ms", "mean_ms")}
        table = {}
        print(f"\n{s}: departures per approach (camera - detector) / detector over seeds")
        print(f"  {'approach':9} {'det/run':>8} {'mean':>7} {'mean|.|':>8} {'max|.|':>7} "
              f"{'truth max|.|':>12} {'cam_q':>6} {'det_q':>6}")
        for e in sorted(per):
            d = per[e]
            ab = [abs(v) for v in d["rel"]]
            row = {"det_per_run": mean(d["det"]), "cam_per_run": mean(d["cam"]),
                   "rel_mean": mean(d["rel"]), "abs_rel_mean": mean(ab), "abs_rel_max": max(ab),
                   "truth_abs_rel_max": max(abs(v) for v in d["truth_rel"]),
                   "cam_queue_mean": mean(d["cam_q"]), "det_queue_mean": mean(d["det_q"])}
            table[e] = row
            print(f"  {e:9} {row['det_per_run']:8.1f} {row['rel_mean']:+7.3f} "
                  f"{row['abs_rel_mean']:8.3f} {row['abs_rel_max']:7.3f} "
                  f"{row['truth_abs_rel_max']:12.3f} {row['cam_queue_mean']:6.2f} "
                  f"{row['det_queue_mean']:6.2f}")
        tot_rel = [t["rel"] for t in totals]
        print(f"  all approaches: sum|cam-det|/sum det = {mean(tot_rel):.3f} mean, "
              f"{max(tot_rel):.3f} worst seed; net (sum cam - sum det)/sum det = "
              f"{mean([t['net_rel'] for t in totals]):+.3f}")
        print("  latency ms (mean over seeds of p50 / p99): " +
              ", ".join(f"{k} {v['p50_ms']:.2f}/{v['p99_ms']:.2f}" for k, v in lat.items()))
        ctl = []
        for seed in seeds[:a.control_seeds]:
            m, c = res[(s, seed, False)], res[(s, seed, True)]
            ctl.append({"seed": seed,
                        "detector_control": {"mean_wait_s": m["mean_wait_s"],
                                             "throughput_vph": m["throughput_vph"],
                                             "arrived": m["arrived"],
                                             "teleports": m["teleports"]},
                        "camera_control": {"mean_wait_s": c["mean_wait_s"],
                                           "throughput_vph": c["throughput_vph"],
                                           "arrived": c["arrived"],
                                           "teleports": c["teleports"],
                                           "rel_error": c["camera"]["total_rel_error"]}})
            print(f"  control, seed {seed}: mean wait {m['mean_wait_s']:.1f} s (detector counts) vs "
                  f"{c['mean_wait_s']:.1f} s (camera counts); throughput "
                  f"{m['throughput_vph']:.0f} vs {c['throughput_vph']:.0f} veh/h; teleports "
                  f"{m['teleports']} vs {c['teleports']}")
        out["scenarios"][s] = {"approaches": table, "totals": totals, "latency_ms": lat,
                               "control": ctl,
                               "run_wall_s": mean([res[(s, seed, False)]["wall_s"]
                                                   for seed in seeds])}
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1)
            f.write("\n")


if __name__ == "__main__":
    main()
