#!/usr/bin/python3
"""Issue-4 benchmarks: on-device training and federated learning, each next
to PyTorch (CPU) in the same run.

  bench/issue4.py [--sections throughput,niid,seed,scale] [--quick]
                  [--rounds R] [--epochs E] [--strategies a,b] [--partitions a,b]
                  [--threads 1,2] [--cli PATH] [--out DIR]

throughput  samples/s of forward + backward + SGD step on the NIID-Bench simple
            CNN (models/train/cnn_fmnist.onnx) at batch 64: `edgeai train` vs
            PyTorch (scripts/fl_reference.py throughput), 1 and 2 threads,
            3 interleaved rounds (1 with --quick), medians reported.
niid        NIID-Bench's setting (Li et al. 2021): 10 clients, all taking part,
            E=10, B=64, SGD lr 0.01 momentum 0.9, 50 rounds, IID and
            Dirichlet(0.5), FedAvg / FedProx / SCAFFOLD / FedNova; PyTorch's
            FedAvg on the very same client splits (`edgeai data
            --write-partition`), initial weights and, by default, batches
            (--peer-order edgeai: the reference draws edgeai's permutations)
            beside edgeai's FedAvg:
            per-round accuracy gap and rounds to 88%, per seed of --niid-seeds
            (1,2,3; on the skewed partitions FedAvg and PyTorch run on each,
            everything else on the first) and as the median over them.
seed        The seed's experiment: 100 clients, 10% per round, label shards
            (2 x 300 per client), 50 rounds: global test accuracy vs the mean
            of purely local models; wall time and peak RSS.
scale       Peak RSS of a 2-round simulation at 100 and 1,000 clients (same data):
            it must not grow with the number of clients beyond their indices.

The full niid section is ~30M training samples per configuration (~45 min a
run on one core); every run's JSON is kept under --niid-cache
(bench/results/niid) and reused, so the section resumes where it stopped.
--rounds/--epochs scale it down and the table says what ran. Writes
bench/results/issue4.json. Timings are never asserted.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REF = os.path.join(ROOT, "scripts", "fl_reference.py")
MODEL = os.path.join(ROOT, "models", "train", "cnn_fmnist.onnx")
PY = "/usr/bin/python3"


def run(cmd, quiet=False):
    t = time.time()
    p = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if p.returncode != 0:
        sys.stderr.write(p.stdout[-4000:])
        raise SystemExit(f"issue4: failed ({p.returncode}): {' '.join(cmd)}")
    if not quiet:
        for line in p.stdout.splitlines()[-3:]:
            print("   ", line, flush=True)
    return p.stdout, time.time() - t


def section_throughput(a, res):
    print("== training throughput, cnn_fmnist, batch 64 ==", flush=True)
    samples = 6400 if a.quick else 19200
    # Interleaved rounds (edgeai then PyTorch, every thread count, each
    # round): a busy machine then slows every configuration alike, and the
    # median of the rounds is what the table reports.
    reps = 1 if a.quick else 3
    got = {th: {"eai": [], "torch": []} for th in a.threads}
    peer = None
    for r in range(reps):
        for th in a.threads:
            with tempfile.TemporaryDirectory() as d:
                j = os.path.join(d, "t.json")
                run([a.cli, "train", MODEL, "--data", "fashion-mnist:train", "--max-samples",
                     str(samples), "--epochs", "3", "--batch", "64", "--lr", "0.01",
                     "--momentum", "0.9", "--threads", str(th), "--no-shuffle", "--quiet",
                     "--json", j, "-o", os.path.join(d, "out.onnx")], quiet=True)
                ep = json.load(open(j))["epochs"]
            # best epoch: the first one also pays page faults of fresh buffers
            eai = max(e["samples_per_s"] for e in ep)
            out, _ = run([PY, REF, "throughput", "--model", MODEL, "--batch", "64", "--threads",
                          str(th), "--steps", str(samples // 64 // 2), "--repeats", "3"],
                         quiet=True)
            torch = json.loads(out.strip().splitlines()[-1])
            peer = torch["peer"]
            got[th]["eai"].append(eai)
            got[th]["torch"].append(torch["samples_per_s"])
            print(f"  round {r + 1} threads {th}: edgeai {eai:8.0f}/s  {peer} "
                  f"{torch['samples_per_s']:8.0f}/s", flush=True)

    def median(v):
        v = sorted(v)
        return v[len(v) // 2] if len(v) % 2 else (v[len(v) // 2 - 1] + v[len(v) // 2]) / 2

    rows = []
    base = a.threads[0]
    for th in a.threads:
        eai, torch = median(got[th]["eai"]), median(got[th]["torch"])
        row = {"threads": th, "edgeai_samples_per_s": eai, "torch_samples_per_s": torch,
               "peer": peer, "ratio": eai / torch, "rounds": reps,
               "edgeai_runs": got[th]["eai"], "torch_runs": got[th]["torch"],
               f"edgeai_speedup_vs_{base}_thread": eai / median(got[base]["eai"]),
               f"torch_speedup_vs_{base}_thread": torch / median(got[base]["torch"])}
        rows.append(row)
        print(f"  threads {th} (median of {reps}): edgeai {eai:8.0f}/s  {peer} {torch:8.0f}/s  "
              f"edgeai/torch {eai / torch:.2f}  edgeai x{row[f'edgeai_speedup_vs_{base}_thread']:.2f}"
              f" vs {base} thread", flush=True)
    res["throughput"] = rows


def rounds_to(curve, target):
    for r in curve:
        if r["test_acc"] >= target:
            return r["round"]
    return None


def niid_run(a, part, name, rounds, epochs, seed, make):
    """One NIID-Bench run's JSON, from the cache folder when it is there (the
    full setting is ~45 min a run on one core, so the section resumes across
    sittings); `make(path)` produces it otherwise."""
    tag = part.split(":")[0]
    path = os.path.join(a.niid_cache, f"{name}_{tag}_{rounds}x{epochs}_seed{seed}.json")
    if os.path.exists(path):
        print(f"  {part} seed {seed}: {name} (kept from {os.path.relpath(path, ROOT)})",
              flush=True)
    elif a.cached_only:
        print(f"  {part} seed {seed}: {name}: not run yet (--cached-only)", flush=True)
        return None
    else:
        print(f"  {part} seed {seed}: {name}", flush=True)
        os.makedirs(a.niid_cache, exist_ok=True)
        make(path + ".tmp")
        os.replace(path + ".tmp", path)
    return json.load(open(path))


def niid_row(a, part, seed, strategies, rounds, epochs):
    """Runs (or reads back) PyTorch's FedAvg and edgeai's `strategies` on one
    partition and seed: the same client splits and initial weights."""
    row = {"partition": part, "seed": seed, "rounds": rounds, "epochs": epochs}
    with tempfile.TemporaryDirectory() as d:
        pdir = os.path.join(d, "part")
        run([a.cli, "data", "fashion-mnist:train", "--partition", part, "--clients", "10",
             "--seed", str(seed), "--write-partition", pdir], quiet=True)
        peer = "torch_fedavg_sameorder" if a.peer_order == "edgeai" else "torch_fedavg"
        torch = None if a.no_peer else niid_run(a, part, peer, rounds, epochs, seed,
                                                lambda tj: run(
            [PY, REF, "fedavg", "--model", MODEL, "--partition-dir", pdir, "--rounds",
             str(rounds), "--epochs", str(epochs), "--batch", "64", "--lr", "0.01",
             "--momentum", "0.9", "--threads", str(a.threads[0]), "--seed", str(seed),
             "--batch-order", a.peer_order, "--json", tj]))
        if torch:
            row["torch_fedavg"] = {
                "final_acc": torch["rounds"][-1]["test_acc"],
                "rounds_to_88": rounds_to(
                    [dict(r, round=r["round"] + 1) for r in torch["rounds"]], 0.88),
                "seconds": torch["seconds"], "curve": [r["test_acc"] for r in torch["rounds"]]}
        for strat in strategies:
            e = niid_run(a, part, strat, rounds, epochs, seed, lambda ej, strat=strat: run(
                [a.cli, "fl", "simulate", "--model", MODEL, "--clients", "10", "--fraction",
                 "1", "--rounds", str(rounds), "--epochs", str(epochs), "--batch", "64",
                 "--lr", "0.01", "--momentum", "0.9", "--partition", part, "--strategy",
                 strat, "--threads", str(a.threads[0]), "--seed", str(seed), "--json", ej]))
            if e is None:
                continue
            row[strat] = {"final_acc": e["final_acc"], "best_acc": e["best_acc"],
                          "rounds_to_88": rounds_to(e["rounds"], 0.88),
                          "seconds": e["seconds"],
                          "curve": [r["test_acc"] for r in e["rounds"]]}
    if "fedavg" in row and "torch_fedavg" in row:
        eai, ref = row["fedavg"]["curve"], row["torch_fedavg"]["curve"]
        gaps = [100 * (x - y) for x, y in zip(eai, ref)]
        row["fedavg_vs_torch"] = {
            "max_gap_points": max(abs(g) for g in gaps),
            "mean_gap_points": sum(gaps) / len(gaps),
            "rounds_within_1_point": sum(abs(g) <= 1.0 for g in gaps),
            "last10_mean_edgeai": sum(eai[-10:]) / len(eai[-10:]),
            "last10_mean_torch": sum(ref[-10:]) / len(ref[-10:])}
    return row


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def section_niid(a, res):
    rounds = a.rounds or (5 if a.quick else 50)
    epochs = a.epochs or (1 if a.quick else 10)
    print(f"== NIID-Bench: 10 clients, all taking part, E={epochs}, B=64, {rounds} rounds ==",
          flush=True)
    # Every strategy on the first seed; on skewed splits, FedAvg beside
    # PyTorch's on every seed of --niid-seeds: there, which of two equal runs
    # first crosses a plateau-level accuracy is decided by batch-order noise,
    # so one seed cannot tell (IID curves agree on every round).
    out = []
    for part in a.partitions:
        seeds = a.niid_seeds[:1] if part == "iid" else a.niid_seeds
        for i, seed in enumerate(seeds):
            strategies = a.strategies if i == 0 else [s for s in a.strategies if s == "fedavg"]
            row = niid_row(a, part, seed, strategies, rounds, epochs)
            row["strategies"] = strategies
            out.append(row)
    res["niid"] = out
    print("\n| partition | seed | rounds x E | strategy | final acc | best | rounds to 88% | s |")
    print("|---|---|---|---|---|---|---|---|")
    for row in out:
        for k in ["torch_fedavg"] + row["strategies"]:
            name = ("PyTorch fedavg" + (" (same batches)" if a.peer_order == "edgeai" else "")
                    if k == "torch_fedavg" else "edgeai " + k)
            r = row.get(k)
            head = f"| {row['partition']} | {row['seed']} | {row['rounds']} x {row['epochs']} | {name}"
            if r is None:
                print(head + " | not run yet | | | |")
                continue
            print(head + f" | {100 * r['final_acc']:.2f} | "
                  f"{100 * r.get('best_acc', max(r['curve'])):.2f} | "
                  f"{r['rounds_to_88'] or '-'} | {r['seconds']:.0f} |")
    print("\nedgeai FedAvg beside PyTorch FedAvg (same splits, same initial weights" +
          (", same batches):" if a.peer_order == "edgeai" else "):"))
    print("| partition | seed | rounds within 1 point | mean gap (points) | "
          "last-10 mean edgeai / PyTorch | rounds to 88% edgeai / PyTorch |")
    print("|---|---|---|---|---|---|")
    summary = []
    for part in a.partitions:
        rows = [r for r in out if r["partition"] == part and "fedavg_vs_torch" in r]
        for r in rows:
            v = r["fedavg_vs_torch"]
            print(f"| {part} | {r['seed']} | {v['rounds_within_1_point']}/{r['rounds']} | "
                  f"{v['mean_gap_points']:+.2f} | {100 * v['last10_mean_edgeai']:.2f} / "
                  f"{100 * v['last10_mean_torch']:.2f} | {r['fedavg']['rounds_to_88'] or '-'} / "
                  f"{r['torch_fedavg']['rounds_to_88'] or '-'} |")
        if len(rows) < 2:
            continue
        big = rounds + 1  # never reached counts as later than the last round
        m = {"partition": part, "seeds": [r["seed"] for r in rows],
             "rounds_within_1_point": median(
                 [r["fedavg_vs_torch"]["rounds_within_1_point"] for r in rows]),
             "mean_gap_points": median([r["fedavg_vs_torch"]["mean_gap_points"] for r in rows]),
             "last10_mean_edgeai": median([r["fedavg_vs_torch"]["last10_mean_edgeai"]
                                           for r in rows]),
             "last10_mean_torch": median([r["fedavg_vs_torch"]["last10_mean_torch"]
                                          for r in rows]),
             "rounds_to_88_edgeai": median([r["fedavg"]["rounds_to_88"] or big for r in rows]),
             "rounds_to_88_torch": median([r["torch_fedavg"]["rounds_to_88"] or big
                                           for r in rows])}
        summary.append(m)
        print(f"| {part} | median of {len(rows)} | {m['rounds_within_1_point']:g}/{rounds} | "
              f"{m['mean_gap_points']:+.2f} | {100 * m['last10_mean_edgeai']:.2f} / "
              f"{100 * m['last10_mean_torch']:.2f} | {m['rounds_to_88_edgeai']:g} / "
              f"{m['rounds_to_88_torch']:g} |")
    res["niid_fedavg_vs_torch"] = summary


def section_seed(a, res):
    rounds = a.rounds or (5 if a.quick else 50)
    print(f"== the seed's experiment: 100 clients, 10%/round, shards, {rounds} rounds ==",
          flush=True)
    with tempfile.TemporaryDirectory() as d:
        j = os.path.join(d, "seed.json")
        _, wall = run([a.cli, "fl", "simulate", "--model", MODEL, "--clients", "100",
                       "--fraction", "0.1", "--rounds", str(rounds), "--epochs", "1",
                       "--batch", "10", "--lr", "0.01", "--momentum", "0.9", "--partition",
                       "shards", "--strategy", "fedavg", "--local-baseline", "--threads",
                       str(a.threads[-1]), "--seed", str(a.seed), "--json", j])
        e = json.load(open(j))
    res["seed"] = {"rounds": rounds, "global_acc": e["final_acc"], "best_acc": e["best_acc"],
                   "local_mean_acc": e.get("local_mean_acc"), "wall_s": wall,
                   "peak_rss_mib": e["peak_rss_kb"] / 1024}
    print(f"  global {100 * e['final_acc']:.2f}% vs local-only mean "
          f"{100 * e.get('local_mean_acc', float('nan')):.2f}%  wall {wall:.0f} s  "
          f"peak RSS {e['peak_rss_kb'] / 1024:.0f} MiB", flush=True)


def section_scale(a, res):
    print("== peak RSS vs clients (2 rounds, 10 sampled clients each) ==", flush=True)
    rows = []
    for n in (100, 1000):
        with tempfile.TemporaryDirectory() as d:
            j = os.path.join(d, "s.json")
            run([a.cli, "fl", "simulate", "--model", MODEL, "--clients", str(n), "--fraction",
                 str(10 / n), "--rounds", "2", "--epochs", "1", "--batch", "32", "--partition",
                 "iid", "--strategy", "scaffold", "--seed", str(a.seed), "--json", j], quiet=True)
            e = json.load(open(j))
        rows.append({"clients": n, "peak_rss_mib": e["peak_rss_kb"] / 1024})
        print(f"  {n:5d} clients: peak RSS {e['peak_rss_kb'] / 1024:.1f} MiB", flush=True)
    res["scale"] = rows


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sections", default="throughput,niid,seed,scale")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--rounds", type=int, default=0)
    p.add_argument("--epochs", type=int, default=0)
    p.add_argument("--strategies", default="fedavg,fedprox,scaffold,fednova")
    p.add_argument("--partitions", default="iid,dirichlet:0.5")
    p.add_argument("--threads", default="1,2")
    p.add_argument("--seed", type=int, default=1,
                   help="seed of the throughput, seed and scale sections")
    p.add_argument("--niid-seeds", default="1,2,3",
                   help="niid: seeds (client splits, initial weights, batch orders); every "
                        "strategy runs on the first, FedAvg and PyTorch's on all of them on "
                        "skewed partitions, reported per seed and as the median")
    p.add_argument("--cli", default=os.path.join(ROOT, "build", "edgeai"))
    p.add_argument("--out", default=os.path.join(ROOT, "bench", "results"))
    p.add_argument("--no-peer", action="store_true",
                   help="niid: skip PyTorch's FedAvg (lets a second sitting run edgeai's "
                        "strategies beside one that runs the peer)")
    p.add_argument("--peer-order", choices=["edgeai", "torch"], default="edgeai",
                   help="niid: PyTorch's batches: edgeai's permutations for the same seed "
                        "(default: both sides train on the same batches, so the curves "
                        "differ by arithmetic alone) or torch.randperm's")
    p.add_argument("--cached-only", action="store_true",
                   help="niid: report only the runs already in --niid-cache, run nothing")
    p.add_argument("--niid-cache", default=os.path.join(ROOT, "bench", "results", "niid"),
                   help="each NIID run's JSON; runs already there are not repeated "
                        "(delete a file to rerun it)")
    a = p.parse_args()
    a.threads = [int(t) for t in a.threads.split(",")]
    a.strategies = a.strategies.split(",")
    a.partitions = a.partitions.split(",")
    a.niid_seeds = [int(x) for x in a.niid_seeds.split(",")]
    res = {"args": vars(a).copy(), "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    for s in a.sections.split(","):
        {"throughput": section_throughput, "niid": section_niid, "seed": section_seed,
         "scale": section_scale}[s](a, res)
    os.makedirs(a.out, exist_ok=True)
    path = os.path.join(a.out, "issue4.json")
    with open(path, "w") as f:
        json.dump(res, f, indent=1, default=str)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
