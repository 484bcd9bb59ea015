#!/usr/bin/python3
"""Issue 7 benchmark: every controller on every scenario, mean of N seeds.

    /usr/bin/python3 bench/issue7.py [--seeds 5] [--seed-base 1] [--minutes 60] [--jobs 2]
        [--scenarios balanced,asymmetric,surge,grid] [--cli build/edgeai] [--json out.json]

Builds the scenarios (scripts/make_scenarios.sh), runs `edgeai traffic run`
for each (scenario, controller, seed), and prints the mean table and the
issue's ratios: edgeai adaptive (maxpressure) wait / SUMO actuated and
delay_based, Webster / actuated, throughput, worst movement, teleports,
emergency braking, the queue-model wait estimate's error per approach, and
the controller's decision cost next to SUMO's step.
"""
import argparse
import concurrent.futures as cf
import json
import os
import statistics
import subprocess
import sys
import tempfile

CTLS = ["maxpressure", "webster", "sumo-static", "sumo-actuated", "sumo-delay"]


def run_one(cli, cfg, ctl, seed, minutes, tmp):
    out = os.path.join(tmp, f"{os.path.basename(cfg)}.{ctl}.{seed}.json")
    p = subprocess.run([cli, "traffic", "run", "--scenario", cfg, "--controller", ctl, "--seed",
                        str(seed), "--minutes", str(minutes), "--json", out],
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"{cfg} {ctl} seed {seed}: {p.stderr.strip()}")
    with open(out) as f:
        return json.load(f)


def mean(xs):
    xs = [x for x in xs if x is not None]
    return statistics.fmean(xs) if xs else float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--seed-base", type=int, default=1,
                    help="first seed (seeds seed-base .. seed-base + seeds - 1)")
    ap.add_argument("--minutes", type=float, default=60)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--scenarios", default="balanced,asymmetric,surge,grid")
    ap.add_argument("--controllers", default=",".join(CTLS))
    ap.add_argument("--cli", default=os.environ.get("EAI_CLI", "build/edgeai"))
    ap.add_argument("--json")
    a = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    tmp = tempfile.mkdtemp(prefix="eai_issue7_")
    sc = os.path.join(tmp, "scenarios")
    subprocess.run([os.path.join(root, "scripts", "make_scenarios.sh"), sc, "42"], check=True,
                   capture_output=True)
    scen = a.scenarios.split(",")
    ctls = a.controllers.split(",")
    jobs = {}
    with cf.ThreadPoolExecutor(a.jobs) as ex:
        for s in scen:
            for c in ctls:
                for seed in range(a.seed_base, a.seed_base + a.seeds):
                    jobs[(s, c, seed)] = ex.submit(run_one, a.cli, os.path.join(sc, s + ".sumocfg"),
                                                   c, seed, a.minutes, tmp)
        res = {k: f.result() for k, f in jobs.items()}
    print(f"issue 7: {a.seeds} seeds ({a.seed_base}-{a.seed_base + a.seeds - 1}) x {a.minutes:g} "
          "simulated minutes per run; means over seeds")
    hdr = (f"{'scenario':<11} {'controller':<14} {'wait_s':>7} {'trip_s':>7} {'veh/h':>7} "
           f"{'maxQ':>5} {'worst_s':>8} {'telep':>5} {'ebrake':>6} {'dec_us':>7} {'step_us':>8}")
    print(hdr)
    agg = {}
    for s in scen:
        for c in ctls:
            rs = [res[(s, c, k)] for k in range(a.seed_base, a.seed_base + a.seeds)]
            m = {f: mean([r[f] for r in rs]) for f in (
                "mean_wait_s", "mean_trip_s", "throughput_vph", "max_queue",
                "worst_movement_wait_s", "teleports", "emergency_brakes", "decision_us_per_step",
                "sumo_step_us", "observe_us_per_step")}
            m["max_queue_max"] = max(r["max_queue"] for r in rs)
            m["teleports_sum"] = sum(r["teleports"] for r in rs)
            m["ebrake_sum"] = sum(r["emergency_brakes"] for r in rs)
            m["worst_max"] = max(r["worst_movement_wait_s"] for r in rs)
            # estimate error per approach: |mean est - mean measured| / measured
            errs = []
            if c in ("maxpressure", "webster"):
                n_ap = len(rs[0]["approaches"])
                for i in range(n_ap):
                    est = mean([r["approaches"][i]["est_queue_s"] for r in rs
                                if r["approaches"][i]["est_queue_s"] >= 0])
                    meas = mean([r["approaches"][i]["meas_wait_s"] for r in rs
                                 if r["approaches"][i]["meas_wait_s"] >= 0])
                    web = mean([r["approaches"][i]["est_webster_s"] for r in rs
                                if r["approaches"][i]["est_webster_s"] >= 0])
                    errs.append({"approach": rs[0]["approaches"][i]["tls"] + "/" +
                                 rs[0]["approaches"][i]["edge"], "est_queue_s": est,
                                 "est_webster_s": web, "meas_s": meas,
                                 "rel_err": abs(est - meas) / meas if meas > 0 else float("nan")})
            m["estimates"] = errs
            agg[(s, c)] = m
            print(f"{s:<11} {c:<14} {m['mean_wait_s']:7.1f} {m['mean_trip_s']:7.1f} "
                  f"{m['throughput_vph']:7.0f} {m['max_queue']:5.1f} {m['worst_movement_wait_s']:8.1f} "
                  f"{m['teleports_sum']:5d} {m['ebrake_sum']:6d} {m['decision_us_per_step']:7.1f} "
                  f"{m['sumo_step_us']:8.0f}")
    print("\nratios (targets from issue 7)")
    for s in scen:
        g = lambda c, f: agg[(s, c)][f] if (s, c) in agg else float("nan")
        mp, act, dl, wb = (g(c, "mean_wait_s") for c in
                           ("maxpressure", "sumo-actuated", "sumo-delay", "webster"))
        print(f"  {s:<11} maxpressure/actuated wait {mp / act:5.2f} (<= 0.5)   "
              f"maxpressure/delay_based {mp / dl:5.2f} (< 1)   webster/actuated {wb / act:5.2f} "
              f"(<= 1.10)   throughput maxpressure/actuated "
              f"{g('maxpressure', 'throughput_vph') / g('sumo-actuated', 'throughput_vph'):5.3f} "
              f"(>= 1)   worst movement maxpressure {g('maxpressure', 'worst_max'):5.1f} s "
              f"(actuated {g('sumo-actuated', 'worst_max'):5.1f} s)")
    print("\nwait estimate (queue model, detectors only) vs SUMO measured, per approach "
          "(target within 20%)")
    for (s, c), m in agg.items():
        if not m["estimates"]:
            continue
        within = sum(1 for e in m["estimates"] if e["rel_err"] <= 0.2)
        worst = max(m["estimates"], key=lambda e: e["rel_err"])
        print(f"  {s:<11} {c:<12} {within}/{len(m['estimates'])} approaches within 20%; "
              f"worst {worst['approach']} est {worst['est_queue_s']:.1f} s vs meas "
              f"{worst['meas_s']:.1f} s ({100 * worst['rel_err']:.0f}%); Webster-formula mean err "
              f"{100 * mean([abs(e['est_webster_s'] - e['meas_s']) / e['meas_s'] for e in m['estimates'] if e['meas_s'] > 0]):.0f}%")
    print("\ncost per simulation step")
    for s in scen:
        for c in ("maxpressure", "webster"):
            if (s, c) in agg:
                m = agg[(s, c)]
                print(f"  {s:<11} {c:<12} decision {m['decision_us_per_step']:.1f} us vs SUMO step "
                      f"{m['sumo_step_us']:.0f} us ({m['decision_us_per_step'] / m['sumo_step_us']:.4f}x); "
                      f"TraCI detector reads {m['observe_us_per_step']:.0f} us")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({f"{s}/{c}": m for (s, c), m in agg.items()}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
