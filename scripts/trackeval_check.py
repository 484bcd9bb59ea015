#!/usr/bin/python3
"""Cross-checks `edgeai track eval` against TrackEval (the official
MOTChallenge evaluation kit) on the same gt / result files.

TrackEval is not vendored: fetch it yourself (github.com/JonathonLuiten/TrackEval)
and pass its folder. Its code uses numpy aliases removed in numpy 1.24
(np.float, np.int, np.bool); this wrapper restores them before importing it,
without touching its files.

  scripts/trackeval_check.py --trackeval /tmp/trackeval --edgeai build/edgeai \
      --gt seq/gt/gt.txt --res result.txt [--res result2.txt ...] [--mot17]

Each result file is evaluated as one sequence by both tools; percentages
must agree within --tol points (default 0.1) and counts exactly. Exit 1 on a
mismatch. --json FILE writes every number for docs/mot-eval.md.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

# numpy >= 1.24 removed these aliases; TrackEval still uses them.
for _name, _type in (("float", float), ("int", int), ("bool", bool)):
    if not hasattr(np, _name) or getattr(np, _name) is not _type:
        try:
            getattr(np, _name)
        except AttributeError:
            setattr(np, _name, _type)

PCT = ["HOTA", "DetA", "AssA", "DetRe", "DetPr", "AssRe", "AssPr", "LocA",
       "MOTA", "MOTP", "MODA", "IDF1", "IDR", "IDP"]
COUNTS = ["CLR_TP", "CLR_FN", "CLR_FP", "IDSW", "MT", "PT", "ML", "Frag",
          "IDTP", "IDFN", "IDFP"]


def max_frame(path):
    m = 0
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                m = max(m, int(float(line.replace(" ", ",").split(",")[0])))
    return m


def run_trackeval(te_path, gt, res, mot17):
    sys.path.insert(0, te_path)
    import trackeval  # noqa: E402 (after the numpy shim and the path)

    tmp = tempfile.mkdtemp(prefix="eai_te_")
    try:
        seq = "seq"
        length = max(max_frame(gt), max_frame(res), 1)
        os.makedirs(os.path.join(tmp, "gt", seq, "gt"))
        shutil.copy(gt, os.path.join(tmp, "gt", seq, "gt", "gt.txt"))
        with open(os.path.join(tmp, "gt", seq, "seqinfo.ini"), "w") as f:
            f.write("[Sequence]\nname=%s\nseqLength=%d\n" % (seq, length))
        os.makedirs(os.path.join(tmp, "trk", "edgeai", "data"))
        shutil.copy(res, os.path.join(tmp, "trk", "edgeai", "data", seq + ".txt"))
        ecfg = trackeval.Evaluator.get_default_eval_config()
        ecfg.update({"USE_PARALLEL": False, "PRINT_RESULTS": False, "PRINT_CONFIG": False,
                     "OUTPUT_SUMMARY": False, "OUTPUT_DETAILED": False, "PLOT_CURVES": False,
                     "TIME_PROGRESS": False, "DISPLAY_LESS_PROGRESS": True,
                     "OUTPUT_EMPTY_CLASSES": False})
        dcfg = trackeval.datasets.MotChallenge2DBox.get_default_dataset_config()
        dcfg.update({"GT_FOLDER": os.path.join(tmp, "gt"),
                     "TRACKERS_FOLDER": os.path.join(tmp, "trk"),
                     "OUTPUT_FOLDER": os.path.join(tmp, "out"),
                     "SKIP_SPLIT_FOL": True, "SEQ_INFO": {seq: length},
                     "DO_PREPROC": bool(mot17), "PRINT_CONFIG": False,
                     "TRACKERS_TO_EVAL": ["edgeai"]})
        ev = trackeval.Evaluator(ecfg)
        ds = [trackeval.datasets.MotChallenge2DBox(dcfg)]
        mc = {"PRINT_CONFIG": False, "THRESHOLD": 0.5}
        mets = [trackeval.metrics.HOTA(), trackeval.metrics.CLEAR(mc), trackeval.metrics.Identity(mc)]
        import contextlib
        import io
        with contextlib.redirect_stdout(io.StringIO()):
            out, _ = ev.evaluate(ds, mets)
        r = out["MotChallenge2DBox"]["edgeai"][seq]["pedestrian"]
        vals = {}
        for k in ["HOTA", "DetA", "AssA", "DetRe", "DetPr", "AssRe", "AssPr", "LocA"]:
            vals[k] = 100.0 * float(np.mean(r["HOTA"][k]))
        for k in ["MOTA", "MOTP", "MODA"]:
            vals[k] = 100.0 * float(r["CLEAR"][k])
        for k in ["IDF1", "IDR", "IDP"]:
            vals[k] = 100.0 * float(r["Identity"][k])
        for k in ["CLR_TP", "CLR_FN", "CLR_FP", "IDSW", "MT", "PT", "ML", "Frag"]:
            vals[k] = int(r["CLEAR"][k])
        for k in ["IDTP", "IDFN", "IDFP"]:
            vals[k] = int(r["Identity"][k])
        return vals
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run_edgeai(cli, gt, res, mot17):
    cmd = [cli, "track", "eval", gt, res, "--json"] + (["--mot17"] if mot17 else [])
    p = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(p.stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--trackeval", required=True, help="TrackEval checkout (folder with trackeval/)")
    ap.add_argument("--edgeai", default=os.environ.get("EAI_CLI", "build/edgeai"))
    ap.add_argument("--gt", required=True)
    ap.add_argument("--res", action="append", required=True)
    ap.add_argument("--mot17", action="store_true", help="TrackEval's MOT17 preprocessing")
    ap.add_argument("--tol", type=float, default=0.1)
    ap.add_argument("--json", help="write all numbers here")
    a = ap.parse_args()
    worst, ok, report = 0.0, True, []
    for res in a.res:
        te = run_trackeval(a.trackeval, a.gt, res, a.mot17)
        ea = run_edgeai(a.edgeai, a.gt, res, a.mot17)
        print("%s vs %s%s" % (res, a.gt, " (MOT17 preprocessing)" if a.mot17 else ""))
        print("  %-7s %10s %10s %9s" % ("metric", "TrackEval", "edgeai", "diff"))
        for k in PCT + COUNTS:
            d = abs(te[k] - ea[k])
            bad = d > a.tol if k in PCT else d != 0
            if k in PCT:
                worst = max(worst, d)
            ok = ok and not bad
            fmt = "  %-7s %10.3f %10.3f %9.2e%s" if k in PCT else "  %-7s %10d %10d %9d%s"
            print(fmt % (k, te[k], ea[k], d, "  <-- MISMATCH" if bad else ""))
        report.append({"gt": a.gt, "res": res, "mot17": a.mot17, "trackeval": te,
                       "edgeai": {k: ea[k] for k in PCT + COUNTS}})
    print("largest difference in a percentage: %.2e points (tolerance %.2f): %s"
          % (worst, a.tol, "OK" if ok else "MISMATCH"))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(report, f, indent=1)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
