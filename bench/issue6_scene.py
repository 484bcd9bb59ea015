#!/usr/bin/python3
"""Issue 6 tracking benchmark on the synthetic intersection (src/scene), whose
every identity is known.

For each held-out seed (models/scene/README.md lists training seeds 101-106
and validation seeds 201-203; the default here is 301-305):
  1. `edgeai scene render` writes the sequence (640x480, 10 fps, gt/gt.txt and
     a .y4m video; no PNGs, whose encode and decode would dominate the run);
  2. `edgeai pipeline --detector models/scene/scene_det.onnx --det-out` runs the
     trained detector over every frame once (score >= 0.1) -> det.txt;
  3. SORT, ByteTrack and DeepSORT (`edgeai track run`; DeepSORT embeds each
     box's crop of the same frames with models/scene/scene_reid.onnx) track
     the same fixed detections, and `edgeai track eval --json` scores them:
       detector  - the trained detector's det.txt,
       mild      - `edgeai track perturb` of gt: box noise 5%, 20% misses,
                   0.1 false positives per gt box,
       hard      - box noise 10%, 40% misses, 0.3 false positives per gt box.
Pooled numbers evaluate all sequences at once (frames and ids offset so the
sequences are disjoint): counts are sums over sequences and HOTA combines
as TrackEval combines sequences.

Tracker settings are fixed in advance, not tuned on these sequences: SORT and
DeepSORT keep detections scoring >= 0.3 (the detector's operating point in
models/scene/README.md, chosen on seeds 201-203); ByteTrack runs its
reference defaults (high 0.5, new tracks 0.6, low 0.1); everything else is
each tracker's reference default (docs/track.md).

Last, the pipeline's stage latencies on one sequence, paced at the camera's
10 frames/s (`edgeai pipeline --fps 10 --json`): detector + ByteTrack, and
detector + re-ID embedding + DeepSORT, against the seed's budget (detect 8,
classify 12, track 5, end to end 25 ms).

  bench/issue6_scene.py --cli build/edgeai [--seeds 301,302,303,304,305]
      [--frames 300] [--work DIR] [--keep] [--variants] [--no-pipeline]
      [--out bench/results/issue6_scene.json]
--variants adds diagnostic runs that each change one reference default
(SORT max_age 30; DeepSORT without gate, max cosine 0.5, no appearance).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DET_MODEL = os.path.join(ROOT, "models", "scene", "scene_det.onnx")
REID_MODEL = os.path.join(ROOT, "models", "scene", "scene_reid.onnx")

TRACKERS = {
    "sort": ["--min-score", "0.3"],
    "bytetrack": [],  # reference defaults: high 0.5, new 0.6, low 0.1
    "deepsort": ["--min-score", "0.3", "--reid", REID_MODEL],
}
# --variants: diagnostics, not the benchmark (each changes one reference
# default, to show which part of a tracker drives its numbers)
VARIANTS = {
    "sort_maxage30": ["--tracker", "sort", "--min-score", "0.3", "--max-age", "30"],
    "deepsort_nogate": ["--tracker", "deepsort", "--min-score", "0.3", "--reid", REID_MODEL,
                        "--gate", "1e6"],
    "deepsort_cos0.5": ["--tracker", "deepsort", "--min-score", "0.3", "--reid", REID_MODEL,
                        "--max-cosine", "0.5"],
    "deepsort_noapp": ["--tracker", "deepsort", "--min-score", "0.3", "--no-appearance"],
}
LEVELS = {  # perturbation of gt: jitter, miss, fp (None: the trained detector)
    "detector": None,
    "mild": (0.05, 0.2, 0.1),
    "hard": (0.10, 0.4, 0.3),
}
COUNTS = ["CLR_TP", "CLR_FN", "CLR_FP", "IDSW", "IDTP", "IDFN", "IDFP", "GT_Dets", "Dets",
          "GT_IDs", "IDs", "Frag", "MT", "PT", "ML"]
SHOW = ["HOTA", "DetA", "AssA", "MOTA", "IDF1", "IDSW", "CLR_FP", "CLR_FN", "IDs"]


def run(cmd, capture=True):
    r = subprocess.run(cmd, stdout=subprocess.PIPE if capture else None,
                       stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        sys.exit("failed (%d): %s\n%s" % (r.returncode, " ".join(cmd), r.stderr))
    return r.stdout, r.stderr


def load_mot(path):
    a = np.loadtxt(path, delimiter=",", ndmin=2) if os.path.getsize(path) else np.zeros((0, 10))
    return a


def save_mot(path, a):
    with open(path, "w") as f:
        for r in a:
            f.write("%d,%d,%.3f,%.3f,%.3f,%.3f,%.6g,%d,%.6g,-1\n" %
                    (r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8]))


def concat(paths, frames, out):
    """Writes the sequences one after another: frame += k * frames, ids made
    disjoint (id += k * 100000), so one evaluation pools them exactly."""
    parts = []
    for k, p in enumerate(paths):
        a = load_mot(p)
        if a.shape[1] < 9:
            a = np.hstack([a, -np.ones((a.shape[0], 9 - a.shape[1]))])
        a = a[:, :9].copy()
        a[:, 0] += k * frames
        a[:, 1] += k * 100000
        parts.append(a)
    save_mot(out, np.vstack(parts) if parts else np.zeros((0, 9)))


def evaluate(cli, gt, res):
    out, _ = run([cli, "track", "eval", gt, res, "--json"])
    return json.loads(out)


def stage_summary(j):
    st = {s["name"]: s for s in j["stages"]}
    row = {"fps": j["fps"], "frames": j["completed"], "dropped": j["dropped"],
           "detections": j["detections"], "e2e_p50": j["e2e_ms"]["p50"],
           "e2e_p99": j["e2e_ms"]["p99"], "overhead_share_pct": 100 * j["overhead_share"],
           "stages": {}}
    for name, s in st.items():
        row["stages"][name] = {"p50": s["compute_ms"]["p50"], "p99": s["compute_ms"]["p99"],
                               "wait_p99": s["wait_ms"]["p99"], "budget": s["budget_ms"]}
    if "detect_split_mean_ms" in j:
        row["detect_split_mean_ms"] = j["detect_split_mean_ms"]
    return row


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", default=os.path.join(ROOT, "build", "edgeai"))
    ap.add_argument("--seeds", default="301,302,303,304,305")
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--work", default=None, help="keep sequences here (default: a temp dir)")
    ap.add_argument("--keep", action="store_true", help="do not delete the work dir")
    ap.add_argument("--no-pipeline", action="store_true", help="skip the latency runs")
    ap.add_argument("--variants", action="store_true",
                    help="also run the diagnostic variants (one default changed each)")
    ap.add_argument("--out", default=os.path.join(HERE, "results", "issue6_scene.json"))
    a = ap.parse_args()
    cli = os.path.abspath(a.cli)
    seeds = [int(s) for s in a.seeds.split(",")]
    work = a.work or tempfile.mkdtemp(prefix="issue6_scene_")
    os.makedirs(work, exist_ok=True)
    t_start = time.time()
    res = {"command": " ".join([os.path.relpath(sys.argv[0], ROOT)] + sys.argv[1:]),
           "seeds": seeds, "frames": a.frames, "fps": 10, "width": 640, "height": 480,
           "detector": os.path.relpath(DET_MODEL, ROOT), "reid": os.path.relpath(REID_MODEL, ROOT),
           "trackers": {k: " ".join(os.path.relpath(x, ROOT) if x == REID_MODEL else x for x in v)
                        for k, v in TRACKERS.items()},
           "levels": {k: (None if v is None else {"jitter": v[0], "miss": v[1], "fp": v[2]})
                      for k, v in LEVELS.items()},
           "load_avg_start": os.getloadavg()[0], "sequences": {}, "pooled": {}}
    try:
        runs = [(k, ["--tracker", k] + v) for k, v in TRACKERS.items()]
        if a.variants:
            runs += list(VARIANTS.items())
            res["variants"] = {k: " ".join(os.path.relpath(x, ROOT) if x == REID_MODEL else x
                                           for x in v) for k, v in VARIANTS.items()}
        files = {}  # (level, tracker) -> [result paths]; level -> gt paths
        for s in seeds:
            d = os.path.join(work, "scene-%d" % s)
            shutil.rmtree(d, ignore_errors=True)
            t0 = time.time()
            out, err = run([cli, "scene", "render", "--seed", str(s), "--frames", str(a.frames),
                          "--fps", "10", "--width", "640", "--height", "480", "--y4m",
                          "--no-png", "--out", d])
            video = os.path.join(d, "scene-%d.y4m" % s)
            gt = os.path.join(d, "gt", "gt.txt")
            det = os.path.join(d, "det.txt")
            pout, _ = run([cli, "pipeline", "--detector", DET_MODEL, "--source", video,
                           "--tracker", "sort", "--conf", "0.1", "--det-out", det, "--json"])
            pj = json.loads(pout)
            seq = {"render": (out + err).strip().splitlines()[-1], "gt_rows": len(load_mot(gt)),
                   "gt_ids": int(len(np.unique(load_mot(gt)[:, 1]))),
                   "detections": pj["detections"], "detect_fps_unpaced": pj["fps"], "levels": {}}
            files.setdefault("gt", []).append(gt)
            for lv, p in LEVELS.items():
                dets = det
                if p is not None:
                    dets = os.path.join(d, "det_%s.txt" % lv)
                    _, err = run([cli, "track", "perturb", gt, "--jitter", str(p[0]), "--miss",
                                  str(p[1]), "--fp", str(p[2]), "--seed", str(s), "-o", dets])
                    seq.setdefault("perturb", {})[lv] = err.strip()
                seq["levels"][lv] = {}
                for tr, cmd in runs:
                    o = os.path.join(d, "res_%s_%s.txt" % (lv, tr))
                    cmd = [cli, "track", "run", "--det", dets, "-o", o] + cmd
                    if "--reid" in cmd:
                        cmd += ["--frames", video]
                    run(cmd)
                    m = evaluate(cli, gt, o)
                    seq["levels"][lv][tr] = m
                    files.setdefault((lv, tr), []).append(o)
            seq["seconds"] = round(time.time() - t0, 1)
            res["sequences"][str(s)] = seq
            print("seed %d: %d gt boxes, %d detections, %.1f s" %
                  (s, seq["gt_rows"], seq["detections"], seq["seconds"]), file=sys.stderr)
        pooled_gt = os.path.join(work, "pooled_gt.txt")
        concat(files["gt"], a.frames, pooled_gt)
        for lv in LEVELS:
            res["pooled"][lv] = {}
            for tr, _ in runs:
                pr = os.path.join(work, "pooled_%s_%s.txt" % (lv, tr))
                concat(files[(lv, tr)], a.frames, pr)
                m = evaluate(cli, pooled_gt, pr)
                # the pooled counts must be the per-sequence sums
                for c in COUNTS:
                    tot = sum(res["sequences"][str(s)]["levels"][lv][tr][c] for s in seeds)
                    if c not in ("GT_IDs", "IDs") and abs(tot - m[c]) > 0.5:
                        sys.exit("pooled %s %s %s = %g but the sequences sum to %g" %
                                 (lv, tr, c, m[c], tot))
                res["pooled"][lv][tr] = m

        if not a.no_pipeline:
            s = seeds[0]
            video = os.path.join(work, "scene-%d" % s, "scene-%d.y4m" % s)
            base = [cli, "pipeline", "--detector", DET_MODEL, "--source", video, "--json"]
            cfgs = {
                "bytetrack": ["--tracker", "bytetrack", "--conf", "0.1", "--track-thresh", "0.5"],
                "deepsort": ["--tracker", "deepsort", "--conf", "0.3", "--reid", REID_MODEL,
                             "--reid-mean", "0,0,0", "--reid-std", "1,1,1"],
            }
            res["pipeline"] = {"seed": s, "paced_fps": 10, "runs": {}}
            for name, c in cfgs.items():
                out, _ = run(base + c + ["--fps", "10"])
                res["pipeline"]["runs"][name] = stage_summary(json.loads(out))
    finally:
        if not a.keep and not a.work:
            shutil.rmtree(work, ignore_errors=True)
    res["seconds"] = round(time.time() - t_start, 1)
    res["load_avg_end"] = os.getloadavg()[0]
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    with open(a.out, "w") as f:
        json.dump(res, f, indent=1, sort_keys=True)
    report(res, seeds)


def fmt(m):
    return [("%.1f" % m[k]) if k in ("HOTA", "DetA", "AssA", "MOTA", "IDF1") else "%d" % m[k]
            for k in SHOW]


def report(res, seeds):
    main_trk = [t for t in TRACKERS]
    print("Pooled over seeds %s (%d frames each, 640x480, 10 fps):" %
          (",".join(map(str, seeds)), res["frames"]))
    print("| detections | tracker | " + " | ".join(SHOW) + " |")
    print("|---|---|" + "---|" * len(SHOW))
    for lv in res["pooled"]:
        for tr in main_trk:
            print("| %s | %s | %s |" % (lv, tr, " | ".join(fmt(res["pooled"][lv][tr]))))
    print("\nPer sequence, HOTA / IDF1 / IDsw:")
    print("| detections | tracker | " + " | ".join(str(s) for s in seeds) + " |")
    print("|---|---|" + "---|" * len(seeds))
    for lv in res["pooled"]:
        for tr in main_trk:
            cells = []
            for s in seeds:
                m = res["sequences"][str(s)]["levels"][lv][tr]
                cells.append("%.1f / %.1f / %d" % (m["HOTA"], m["IDF1"], m["IDSW"]))
            print("| %s | %s | %s |" % (lv, tr, " | ".join(cells)))
    if "variants" in res:
        print("\nDiagnostics, pooled (each changes one reference default):")
        print("| detections | variant | " + " | ".join(SHOW) + " |")
        print("|---|---|" + "---|" * len(SHOW))
        for lv in res["pooled"]:
            for tr in res["variants"]:
                print("| %s | %s | %s |" % (lv, tr, " | ".join(fmt(res["pooled"][lv][tr]))))
    if "pipeline" in res:
        p = res["pipeline"]
        print("\nPipeline on seed %d, paced at %d frames/s (compute ms, p50 / p99; budget):" %
              (p["seed"], p["paced_fps"]))
        for name, r in p["runs"].items():
            parts = []
            for st, v in r["stages"].items():
                b = " (budget %g)" % v["budget"] if v["budget"] else ""
                parts.append("%s %.2f / %.2f%s" % (st, v["p50"], v["p99"], b))
            print("  %s: %s" % (name, "; ".join(parts)))
            print("    end to end p50 %.2f p99 %.2f ms (budget 25), overhead %.2f%%, %.2f fps" %
                  (r["e2e_p50"], r["e2e_p99"], r["overhead_share_pct"], r["fps"]))
    print("\nruntime %.0f s, load average %.1f at start, %.1f at end" %
          (res["seconds"], res["load_avg_start"], res["load_avg_end"]))


if __name__ == "__main__":
    main()
