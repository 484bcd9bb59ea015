#!/usr/bin/python3
"""Issue-5 benchmark: the edge-cloud hybrid on Fashion-MNIST.

  bench/issue5.py [--cli build/edgeai] [--models models/hybrid] [--quick]
                  [--sections accuracy,overhead,throughput,fault] [--out FILE]

accuracy    `edgeai calibrate` fits the edge model's temperature on the
            validation split (training images 55,000..59,999, never trained
            on; written to .npy here) into models/hybrid/edge.calib.json; then
            against a live `edgeai serve --model cloud=models/hybrid/cloud.onnx`,
            `edgeai route --sweep` over the 10,000 test images, calibrated and
            uncalibrated (temperature 1): edge-only accuracy (threshold 0),
            cloud-only (threshold 1), the whole offload/accuracy curve (CSV +
            PNG in bench/results/), the smallest offload whose hybrid accuracy
            is within 0.5 points of cloud-only (target: <= 30%), and the
            default threshold 0.85, both from the sweep and from a real routed
            run (`edgeai route --threshold 0.85 --json`), repeated with
            `--wire json` beside the default binary tensor data (bytes per
            cloud request and cloud latency, same run, same server).
overhead    p50/p99 of one KServe v2 HTTP+JSON infer on loopback, sequential
            (wrk, 1 connection, one request at a time) minus `edgeai bench`'s
            in-process eai_session_invoke p50 on the same model and image
            (target: <= 1.2 ms extra; the lower of two in-process runs, one
            before and one after the HTTP runs). A Python http.client
            keep-alive loop is reported beside it, with GET /v2/health/ready
            as the client+HTTP floor.
throughput  wrk, 2 threads, 8 connections, 10 s (3 s with --quick):
            requests/s and latency, without and with dynamic batching
            (--max-batch 8 --max-delay-us 2000), non-2xx responses counted.
fault       `edgeai route --threshold 1` (every sample wants the cloud) over
            the 10,000 test images paced like a camera (--interval-ms 1, so
            the run lasts over 10 s; unpaced, the edge alone would use up the
            set while the breaker is open, before the server is back); the
            server is SIGKILLed after 2 s and restarted on the same port 2 s
            later. Pass: zero failed answers seen by the caller (route's
            JSON `failed_answers`, and every sample answered by edge, cloud
            or edge_fallback), breaker transitions in route's --log, and the
            run spanning both the kill and the restart.

Everything is bounded (timeouts on every child, servers killed on exit).
Writes bench/results/issue5.json and prints a table. Timings are never
asserted; exit status 1 only when a step failed to run.
"""
import argparse
import csv
import gzip
import http.client
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FMNIST = os.environ.get("EAI_FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist")
VAL_FROM = 55000  # scripts/train_hybrid_models.sh trains on the first 55,000
TARGET_GAP = 0.5  # points
TARGET_OFFLOAD = 0.30
TARGET_OVERHEAD_MS = 1.2


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def run(cmd, timeout=600, check=True):
    log("  $", " ".join(cmd))
    p = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=timeout)
    if check and p.returncode != 0:
        raise RuntimeError("failed (%d): %s\n%s%s" % (p.returncode, " ".join(cmd),
                                                     p.stdout[-2000:], p.stderr[-2000:]))
    return p


def help_text(cli, sub):
    p = subprocess.run([cli, sub, "--help"], cwd=ROOT, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=30)
    return p.stdout if p.returncode == 0 else None


# ---------------------------------------------------------------- data


def read_idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    rank = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(rank)]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * rank).reshape(dims)


def write_data(tmp):
    """Validation split (train images 55,000..) as npy, and one test image."""
    xi = read_idx(os.path.join(FMNIST, "train-images-idx3-ubyte.gz"))
    yi = read_idx(os.path.join(FMNIST, "train-labels-idx1-ubyte.gz"))
    x = (xi[VAL_FROM:].astype(np.float32) / 255.0).reshape(-1, 1, 28, 28)
    vx, vy = os.path.join(tmp, "val_x.npy"), os.path.join(tmp, "val_y.npy")
    np.save(vx, x)
    np.save(vy, yi[VAL_FROM:].astype(np.int64))
    ti = read_idx(os.path.join(FMNIST, "t10k-images-idx3-ubyte.gz"))
    img = (ti[:1].astype(np.float32) / 255.0).reshape(1, 1, 28, 28)
    one = os.path.join(tmp, "image.npy")
    np.save(one, img)
    body = json.dumps({"inputs": [{"name": "image", "shape": [1, 1, 28, 28], "datatype": "FP32",
                                   "data": [float("%.6g" % v) for v in img.ravel()]}]})
    return "npy:%s,%s" % (vx, vy), one, body


# ---------------------------------------------------------------- server


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    def __init__(self, a, serve_help, tmp, extra=(), port=None):
        self.cmd = [a.cli, "serve", "--model", "cloud=" + a.cloud]
        self.port_file = None
        if port is None and "--port-file" in serve_help:
            self.port_file = os.path.join(tmp, "port")
            if os.path.exists(self.port_file):
                os.unlink(self.port_file)
            self.cmd += ["--port", "0", "--port-file", self.port_file]
        else:
            self.port = port or free_port()
            self.cmd += ["--port", str(self.port)]
        self.cmd += list(extra)
        self.log = open(os.path.join(tmp, "serve.log"), "ab")
        log("  $", " ".join(self.cmd))
        self.p = subprocess.Popen(self.cmd, cwd=ROOT, stdout=self.log, stderr=self.log)
        self.wait_ready()

    def wait_ready(self, timeout=30):
        t0 = time.time()
        while time.time() - t0 < timeout:
            if self.p.poll() is not None:
                raise RuntimeError("serve exited with %d (see serve.log)" % self.p.returncode)
            if self.port_file:
                try:
                    with open(self.port_file) as f:
                        self.port = int(f.read().strip())
                except (OSError, ValueError):
                    time.sleep(0.05)
                    continue
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                c.request("GET", "/v2/health/ready")
                r = c.getresponse()
                r.read()
                c.close()
                if r.status == 200:
                    return time.time() - t0
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("serve not ready after %d s" % timeout)

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def kill(self, sig=signal.SIGKILL):
        if self.p.poll() is None:
            self.p.send_signal(sig)
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()


# ---------------------------------------------------------------- sections


def parse_sweep_csv(path):
    with open(path) as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise RuntimeError("empty sweep CSV " + path)
    keys = rows[0].keys()

    def find(*subs):
        for s in subs:
            for k in keys:
                if s in k.lower():
                    return k
        return None

    kt = find("threshold")
    ko = find("offload", "cloud_frac", "to_cloud", "frac")
    ka = find("hybrid_acc", "accuracy", "acc")
    if not (kt and ko and ka):
        raise RuntimeError("sweep CSV columns not understood: %s" % list(keys))
    pts = []
    for r in rows:
        try:
            pts.append({"threshold": float(r[kt]), "offload": float(r[ko]),
                        "accuracy": float(r[ka]), "row": r})
        except ValueError:
            continue
    # Percent or fraction: normalise to fractions.
    if max(p["offload"] for p in pts) > 1.0:
        for p in pts:
            p["offload"] /= 100.0
    if max(p["accuracy"] for p in pts) > 1.0:
        for p in pts:
            p["accuracy"] /= 100.0
    return pts, {"threshold": kt, "offload": ko, "accuracy": ka}


def sweep_points(pts):
    """edge-only (threshold 0), cloud-only (threshold 1: every sample whose
    calibrated confidence is < 1 goes to the cloud), the smallest offload
    within 0.5 points of cloud-only, and the 0.85 point."""
    by_t = {round(p["threshold"], 4): p for p in pts}
    out = {}
    e, c = by_t.get(0.0), by_t.get(1.0)
    out["edge_only_accuracy"] = e["accuracy"] if e else None
    out["cloud_only_accuracy"] = c["accuracy"] if c else None
    out["cloud_only_offload"] = c["offload"] if c else None
    if c:
        ok = [q for q in pts if q["accuracy"] >= c["accuracy"] - TARGET_GAP / 100.0 - 1e-9]
        best = min(ok, key=lambda q: (q["offload"], -q["accuracy"]))
        out["within_0_5"] = {k: best[k] for k in ("threshold", "offload", "accuracy")}
        out["target_met"] = best["offload"] <= TARGET_OFFLOAD
    d = by_t.get(0.85)
    out["sweep_at_0_85"] = {k: d[k] for k in ("threshold", "offload", "accuracy")} if d else None
    out["curve"] = [{k: p[k] for k in ("threshold", "offload", "accuracy")} for p in pts]
    return out


def route_cmd(a, url, calib, extra):
    cmd = [a.cli, "route", "--edge", a.edge, "--cloud", url, "--cloud-model", "cloud"]
    cmd += ["--calib", calib] if calib else ["--temperature", "1"]
    return cmd + extra


def section_accuracy(a, res, serve_help, tmp, val_spec):
    print("== accuracy: calibrate + route --sweep on fashion-mnist:test ==", flush=True)
    out = {}
    rdir = os.path.dirname(a.out)
    calib = os.path.splitext(a.edge)[0] + ".calib.json"
    p = run([a.cli, "calibrate", a.edge, "--data", val_spec, "-o", calib], timeout=300)
    out["calibrate_stdout"] = p.stdout
    print(p.stdout.rstrip())
    srv = Server(a, serve_help, tmp)
    try:
        for name, cal in (("calibrated", calib), ("uncalibrated", None)):
            csv_path = os.path.join(rdir, "issue5_sweep_%s.csv" % name)
            png = os.path.join(rdir, "issue5_sweep_%s.png" % name)
            t0 = time.time()
            p = run(route_cmd(a, srv.url, cal, ["--data", "fashion-mnist:test", "--sweep",
                                                "--csv", csv_path, "--plot", png]), timeout=600)
            r = {"seconds": time.time() - t0, "stdout": p.stdout[-3000:], "csv": csv_path,
                 "plot": png if os.path.exists(png) else None}
            print(p.stdout.rstrip())
            pts, _ = parse_sweep_csv(csv_path)
            r.update(sweep_points(pts))
            out[name] = r
        # The real router at the default threshold (one request per offloaded sample).
        jf = os.path.join(tmp, "route_085.json")
        p = run(route_cmd(a, srv.url, calib, ["--data", "fashion-mnist:test", "--threshold",
                                              "0.85", "--json", jf]), timeout=600)
        print(p.stdout.rstrip())
        with open(jf) as f:
            out["routed_at_0_85"] = json.load(f)
        # The same routed run with plain JSON on the wire (the default is
        # binary tensor data): bytes and cloud latency side by side.
        jj = os.path.join(tmp, "route_085_json.json")
        run(route_cmd(a, srv.url, calib, ["--data", "fashion-mnist:test", "--threshold", "0.85",
                                          "--wire", "json", "--json", jj]), timeout=600)
        with open(jj) as f:
            out["routed_at_0_85_json_wire"] = json.load(f)
    finally:
        srv.kill(signal.SIGTERM)
    res["accuracy"] = out


def pct(v, q):
    v = sorted(v)
    return v[min(len(v) - 1, int(q * len(v)))]


def inprocess(a, one):
    p = run([a.cli, "bench", a.cloud, "--json", "--threads", "1", "--runs", str(a.runs),
             "--warmup", "200", "-i", "image=" + one], timeout=300)
    return json.loads(p.stdout.strip().splitlines()[-1])


def parse_wrk(txt):
    r = {}
    m = re.search(r"Requests/sec:\s*([\d.]+)", txt)
    r["rps"] = float(m.group(1)) if m else None
    m = re.search(r"(\d+) requests in ([\d.]+)(\w+)", txt)
    r["requests"] = int(m.group(1)) if m else None
    m = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", txt)
    r["non_2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", txt)
    r["socket_errors"] = sum(int(g) for g in m.groups()) if m else 0

    def ms(s):
        m = re.match(r"([\d.]+)(us|ms|s)", s)
        v = float(m.group(1))
        return v / 1000.0 if m.group(2) == "us" else v * 1000.0 if m.group(2) == "s" else v

    for q in ("50", "75", "90", "99"):
        m = re.search(r"^\s*%s%%\s+(\S+)" % q, txt, re.M)
        r["p%s_ms" % q] = ms(m.group(1)) if m else None
    return r


def wrk(url, lua, conns, threads, secs):
    p = run(["wrk", "-t%d" % threads, "-c%d" % conns, "-d%ds" % secs, "--latency", "-s", lua,
             url], timeout=secs + 60)
    r = parse_wrk(p.stdout)
    r.update({"connections": conns, "threads": threads, "seconds": secs})
    return r


def write_lua(tmp, body):
    path = os.path.join(tmp, "post.lua")
    with open(path, "w") as f:
        f.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                "wrk.body = %s\n" % json.dumps(body))
    return path


def py_client(srv, body, n):
    c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
    hdr = {"Content-Type": "application/json"}

    def loop(method, path, b):
        lat = []
        for i in range(n + 50):
            t = time.perf_counter()
            c.request(method, path, body=b, headers=hdr if b else {})
            r = c.getresponse()
            r.read()
            if r.status != 200:
                raise RuntimeError("HTTP %d from %s" % (r.status, path))
            if i >= 50:
                lat.append((time.perf_counter() - t) * 1e3)
        return lat

    inf = loop("POST", "/v2/models/cloud/infer", body.encode())
    health = loop("GET", "/v2/health/ready", None)
    c.close()
    return {"infer_p50_ms": statistics.median(inf), "infer_p99_ms": pct(inf, 0.99),
            "health_p50_ms": statistics.median(health), "health_p99_ms": pct(health, 0.99),
            "n": n}


def section_overhead(a, res, serve_help, tmp, one, lua, body):
    print("== overhead: HTTP+JSON infer vs in-process eai_session_invoke ==", flush=True)
    out = {"in_process": inprocess(a, one)}
    srv = Server(a, serve_help, tmp)
    try:
        url = srv.url + "/v2/models/cloud/infer"
        out["wrk_sequential"] = wrk(url, lua, 1, 1, a.seq_secs)
        out["python_http_client"] = py_client(srv, body, a.runs)
        # A second in-process run after the HTTP runs: the spread of the two is
        # the noise of this shared machine.
        out["in_process_after"] = inprocess(a, one)
    finally:
        srv.kill(signal.SIGTERM)
    ip = min(out["in_process"]["p50_ms"], out["in_process_after"]["p50_ms"])
    out["in_process_p50_ms"] = ip
    out["overhead_p50_ms_wrk"] = out["wrk_sequential"]["p50_ms"] - ip
    out["overhead_p50_ms_python"] = out["python_http_client"]["infer_p50_ms"] - ip
    out["target_met"] = out["overhead_p50_ms_wrk"] <= TARGET_OVERHEAD_MS
    res["overhead"] = out


def section_throughput(a, res, serve_help, tmp, lua):
    print("== throughput: wrk, %d connections, %d s ==" % (a.conns, a.tp_secs), flush=True)
    out = {}
    configs = [("no_batching", [])]
    if "--max-batch" in serve_help:
        configs.append(("batching_8_2000us", ["--max-batch", "8", "--max-delay-us", "2000"]))
    else:
        out["note"] = "serve has no --max-batch: dynamic batching not measured"
    for name, extra in configs:
        srv = Server(a, serve_help, tmp, extra)
        try:
            out[name] = wrk(srv.url + "/v2/models/cloud/infer", lua, a.conns, 2, a.tp_secs)
        finally:
            srv.kill(signal.SIGTERM)
    res["throughput"] = out


def section_fault(a, res, serve_help, tmp):
    print("== fault: cloud SIGKILLed mid-run and restarted ==", flush=True)
    out = {"threshold": a.fault_threshold, "kill_after_s": a.kill_after,
           "down_for_s": a.down_for}
    srv = Server(a, serve_help, tmp)
    port = srv.port
    calib = os.path.splitext(a.edge)[0] + ".calib.json"
    jf, lf_path = os.path.join(tmp, "route_fault.json"), os.path.join(tmp, "breaker.log")
    cmd = route_cmd(a, srv.url, calib if os.path.exists(calib) else None,
                    ["--data", a.fault_data, "--threshold", str(a.fault_threshold), "--json", jf,
                     "--log", lf_path, "--breaker-cooldown-ms", str(a.breaker_cooldown_ms),
                     # a camera's pace, so the run spans the outage and the restart
                     "--interval-ms", str(a.fault_interval_ms),
                     "--backend", a.fault_edge_backend] + a.fault_args)
    log("  $", " ".join(cmd))
    rlog = os.path.join(tmp, "route_fault.log")
    t0 = time.time()
    srv2 = None
    with open(rlog, "w") as lf:
        rp = subprocess.Popen(cmd, cwd=ROOT, stdout=lf, stderr=subprocess.STDOUT, text=True)
        try:
            time.sleep(a.kill_after)
            out["route_running_at_kill"] = rp.poll() is None
            srv.kill(signal.SIGKILL)
            out["killed_at_s"] = time.time() - t0
            time.sleep(a.down_for)
            srv2 = Server(a, serve_help, tmp, port=port)
            out["restarted_at_s"] = time.time() - t0
            out["route_running_at_restart"] = rp.poll() is None
            rc = rp.wait(timeout=600)
        finally:
            if rp.poll() is None:
                rp.kill()
                rp.wait()
            if srv2:
                srv2.kill(signal.SIGTERM)
            srv.kill()
    out["route_seconds"] = time.time() - t0
    out["route_rc"] = rc
    with open(rlog) as f:
        txt = f.read()
    out["route_output"] = txt[-4000:]
    print(txt[-2000:].rstrip())
    try:
        with open(jf) as f:
            out["summary"] = json.load(f)
    except (OSError, ValueError) as e:
        out["summary"] = None
        out["summary_error"] = str(e)
    try:
        with open(lf_path) as f:
            out["breaker_transitions"] = [ln.rstrip() for ln in f if "breaker" in ln][:50]
    except OSError:
        out["breaker_transitions"] = []
    print("\n".join(out["breaker_transitions"][:12]))
    sm = out["summary"] or {}
    out["failed_answers"] = sm.get("failed_answers")
    out["zero_failed"] = rc == 0 and sm.get("failed_answers") == 0 and \
        sm.get("samples") == sm.get("edge", 0) + sm.get("cloud", 0) + sm.get("edge_fallback", 0)
    out["breaker_seen"] = bool(out["breaker_transitions"])
    out["valid"] = bool(out.get("route_running_at_kill") and out.get("route_running_at_restart"))
    res["fault"] = out


# ---------------------------------------------------------------- main


def table(res):
    print()
    print("%-58s %s" % ("figure", "value"))
    print("-" * 80)

    def row(k, v):
        print("%-58s %s" % (k, v))

    acc = res.get("accuracy")
    if acc:
        f = lambda v: "n/a" if v is None else "%.2f%%" % (100 * v)
        for name in ("calibrated", "uncalibrated"):
            r = acc.get(name)
            if not r:
                continue
            row("[%s] edge-only accuracy (10,000 test images)" % name,
                f(r.get("edge_only_accuracy")))
            row("[%s] cloud-only accuracy (threshold 1)" % name, "%s (offload %s)" % (
                f(r.get("cloud_only_accuracy")), f(r.get("cloud_only_offload"))))
            w = r.get("within_0_5")
            if w:
                row("[%s] smallest offload within 0.5 pt (target <= 30%%)" % name,
                    "%.1f%% offload, acc %.2f%%, threshold %.2f -> %s" % (
                        100 * w["offload"], 100 * w["accuracy"], w["threshold"],
                        "MET" if r["target_met"] else "MISSED"))
            d = r.get("sweep_at_0_85")
            if d:
                row("[%s] sweep at threshold 0.85" % name, "%.1f%% offload, acc %.2f%%" % (
                    100 * d["offload"], 100 * d["accuracy"]))
        rt = acc.get("routed_at_0_85")
        if rt:
            row("routed at 0.85 (calibrated): acc / offload / failed", "%.2f%% / %.1f%% / %d" % (
                100 * rt["accuracy"], 100 * rt["offload"], rt["failed_answers"]))
            row("routed at 0.85: overall latency p50 / p99", "%.0f / %.0f us" % (
                rt["overall_us_p50"], rt["overall_us_p99"]))
            rj = acc.get("routed_at_0_85_json_wire")
            if rj:
                def per(r):
                    return r["bytes_sent"] / max(1, r["cloud_attempts"])
                row("wire binary vs json: bytes sent per cloud request",
                    "%.0f vs %.0f (ratio %.2f)" % (per(rt), per(rj), per(rt) / per(rj)))
                row("wire binary vs json: cloud p50 / p99",
                    "%.0f / %.0f vs %.0f / %.0f us (p50 ratio %.2f)" % (
                        rt["cloud_us_p50"], rt["cloud_us_p99"], rj["cloud_us_p50"],
                        rj["cloud_us_p99"], rt["cloud_us_p50"] / max(1, rj["cloud_us_p50"])))
    ov = res.get("overhead")
    if ov:
        row("in-process eai_session_invoke p50 (edgeai bench)", "%.3f ms" % ov["in_process_p50_ms"])
        w = ov["wrk_sequential"]
        row("HTTP+JSON infer, wrk 1 conn sequential p50 / p99",
            "%.3f / %.3f ms" % (w["p50_ms"], w["p99_ms"]))
        row("overhead p50 (wrk - in-process; target <= 1.2 ms)", "%.3f ms -> %s" % (
            ov["overhead_p50_ms_wrk"], "MET" if ov["target_met"] else "MISSED"))
        pc = ov["python_http_client"]
        row("python http.client infer p50 / p99", "%.3f / %.3f ms" % (pc["infer_p50_ms"],
                                                                      pc["infer_p99_ms"]))
        row("python http.client GET /v2/health/ready p50", "%.3f ms" % pc["health_p50_ms"])
    tp = res.get("throughput")
    if tp:
        for name in ("no_batching", "batching_8_2000us"):
            if name in tp:
                t = tp[name]
                row("throughput %s (%d conns)" % (name, t["connections"]),
                    "%.0f req/s, p50 %.2f ms, p99 %.2f ms, non-2xx %d, sock err %d" % (
                        t["rps"] or 0, t["p50_ms"] or 0, t["p99_ms"] or 0, t["non_2xx"],
                        t["socket_errors"]))
    fa = res.get("fault")
    if fa:
        sm = fa.get("summary") or {}
        row("fault: samples / edge / cloud / edge_fallback", "%s / %s / %s / %s" % (
            sm.get("samples"), sm.get("edge"), sm.get("cloud"), sm.get("edge_fallback")))
        row("fault: failed answers seen by the caller", str(fa.get("failed_answers")))
        row("fault: zero failed / breaker transitions / run spanned kill+restart",
            "%s / %d / %s" % (fa["zero_failed"], len(fa["breaker_transitions"]), fa["valid"]))
    for s, e in res.get("errors", {}).items():
        row("ERROR " + s, e.splitlines()[0][:200] if e else "")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cli", default=os.environ.get("EAI_CLI", "build/edgeai"))
    ap.add_argument("--models", default="models/hybrid")
    ap.add_argument("--sections", default="accuracy,overhead,throughput,fault")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "issue5.json"))
    ap.add_argument("--conns", type=int, default=8)
    ap.add_argument("--fault-threshold", type=float, default=1.0)
    # The 60,000 training images, not the 10,000 test images: while the
    # breaker is open the edge answers in ~20 us, so 10,000 samples would be
    # used up before the server is back and the run would not span the restart.
    ap.add_argument("--fault-data", default="fashion-mnist:test")
    ap.add_argument("--fault-interval-ms", type=int, default=1)
    ap.add_argument("--fault-arg", dest="fault_args", action="append", default=[],
                    help="extra option for the fault run's edgeai route (repeatable)")
    ap.add_argument("--kill-after", type=float, default=2.0)
    ap.add_argument("--down-for", type=float, default=2.0)
    ap.add_argument("--fault-edge-backend", default="xnnpack")
    ap.add_argument("--breaker-cooldown-ms", type=int, default=200)
    a = ap.parse_args()
    a.cli = os.path.abspath(os.path.join(ROOT, a.cli))
    a.edge = os.path.join(ROOT, a.models, "edge.onnx")
    a.cloud = os.path.join(ROOT, a.models, "cloud.onnx")
    a.out = os.path.abspath(a.out)
    a.runs = 300 if a.quick else 2000
    a.seq_secs = 3 if a.quick else 10
    a.tp_secs = 3 if a.quick else 10
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    serve_help = help_text(a.cli, "serve")
    if serve_help is None:
        raise SystemExit("issue5: `%s serve --help` fails: serve is not built" % a.cli)
    res = {"settings": {k: v for k, v in vars(a).items()}, "errors": {},
           "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
           "load_before": os.getloadavg(), "cpus": os.cpu_count()}
    try:
        res["git"] = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, text=True,
                                    stdout=subprocess.PIPE).stdout.strip()
    except OSError:
        pass
    sections = a.sections.split(",")
    with tempfile.TemporaryDirectory(prefix="issue5.") as tmp:
        val_spec, one, body = write_data(tmp)
        lua = write_lua(tmp, body)
        steps = {
            "accuracy": lambda: section_accuracy(a, res, serve_help, tmp, val_spec),
            "overhead": lambda: section_overhead(a, res, serve_help, tmp, one, lua, body),
            "throughput": lambda: section_throughput(a, res, serve_help, tmp, lua),
            "fault": lambda: section_fault(a, res, serve_help, tmp),
        }
        for s in sections:
            try:
                steps[s]()
            except Exception as e:  # a failed section is reported, the rest still run
                res["errors"][s] = "%s: %s" % (type(e).__name__, e)
                log("issue5: section %s failed: %s" % (s, e))
        try:
            with open(os.path.join(tmp, "serve.log"), errors="replace") as f:
                res["serve_log_tail"] = f.read()[-3000:]
        except OSError:
            pass
    res["load_after"] = os.getloadavg()
    with open(a.out, "w") as f:
        json.dump(res, f, indent=1, default=str)
    table(res)
    print("\nwrote", a.out)
    return 1 if res["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
