#!/usr/bin/env bash
# `edgeai demo` end to end on a small budget (2 intersections, 2 rounds of 1
# simulated minute): real sumo, the rendered camera path, the cloud server
# over HTTP, federated rounds over the in-process bus, then the same over a
# real mosquitto broker (--mqtt). Checks the report's figures are there and
# plausible, and the dashboard is a PNG. Skips (77) without sumo.
set -uo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cli=${EAI_CLI:-}
if [ -z "$cli" ] || [ ! -x "$cli" ]; then
    echo "EAI_CLI must name the edgeai binary (got '${cli}')" >&2
    exit 1
fi
command -v sumo >/dev/null 2>&1 || {
    echo "sumo not installed: skipped"
    exit 77
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
checks=0
fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

bash "$root/scripts/make_scenarios.sh" "$tmp/sc" 42 >/dev/null 2>&1 || {
    echo "FAIL: make_scenarios.sh"
    exit 1
}

# check REPORT TRANSPORT: the report's structure and sanity bounds
check() {
    /usr/bin/python3 - "$1" "$2" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
bad = []
def need(cond, what):
    if not cond:
        bad.append(what)
need(r["transport"] == sys.argv[2], "transport %s" % r["transport"])
need(len(r["site"]) == 2 and len(r["federated"]) == 2, "2 sites x 2 rounds")
for s in r["site"]:
    for k in s["rounds"]:
        t, c, l = k["traffic"], k["classification"], k["latency_ms"]
        need(t["departed"] > 20, "%s: %d vehicles departed" % (s["name"], t["departed"]))
        need(t["teleports"] == 0, "%s: teleports" % s["name"])
        det, cam = t["detector_count"], t["camera_count"]
        # the camera sees the stop lines: its passages track SUMO's detectors
        need(det > 10 and abs(cam - det) <= 0.5 * det, "%s: camera %d vs detectors %d" % (s["name"], cam, det))
        need(c["crops"] > 20, "%s: %d crops classified" % (s["name"], c["crops"]))
        need(c["edge"] + c["cloud"] + c["edge_fallback"] == c["crops"], "tiers add up")
        need(c["cloud"] > 0, "%s: the cloud never answered" % s["name"])
        need(c["with_truth"] > 0 and 0.3 < c["answer_accuracy"] <= 1, "answer accuracy %s" % c["answer_accuracy"])
        need(l["device_p50"] > 0 and l["gateway_p50"] > 0 and l["cloud_p50"] > 0, "latencies")
for f in r["federated"]:
    need(f["clients"] >= 1 and f["samples"] > 0, "fl round %d trained nothing" % f["round"])
    need(0 < f["global_accuracy"] <= 1, "fl accuracy %s" % f["global_accuracy"])
    need(f["bytes_up"] > 0 and f["bytes_down"] > 0, "fl bytes")
print("\n".join("FAIL: " + b for b in bad) or "report ok")
sys.exit(1 if bad else 0)
EOF
}

run() { # NAME TRANSPORT [DEMO ARGS...]
    local name=$1 transport=$2
    shift 2
    checks=$((checks + 1))
    if ! timeout 600 "$cli" demo --sites 2 --rounds 2 --minutes 1 --scenarios "$tmp/sc" \
        --models "$root/models" --out "$tmp/$name" --quiet "$@" >"$tmp/$name.log" 2>&1; then
        fail "$name: edgeai demo failed"
        tail -20 "$tmp/$name.log"
        return
    fi
    grep -q "federated round 2" "$tmp/$name.log" || fail "$name: no federated round 2 line"
    check "$tmp/$name/report.json" "$transport" || fail "$name: report"
    head -c 8 "$tmp/$name/dashboard.png" | od -An -tx1 | grep -q "89 50 4e 47" ||
        fail "$name: dashboard.png is not a PNG"
}

run inproc inproc
if command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ]; then
    run mqtt mqtt --mqtt
else
    echo "mosquitto not installed: --mqtt part skipped"
fi

# bad input: one line on stderr, non-zero exit
checks=$((checks + 2))
if "$cli" demo --sites 0 2>"$tmp/err"; then fail "--sites 0 accepted"; fi
[ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "--sites 0: $(cat "$tmp/err")"
if "$cli" demo --scenarios "$tmp/none" --models "$root/models" 2>"$tmp/err"; then
    fail "missing scenarios accepted"
fi
grep -q "make_scenarios.sh" "$tmp/err" || fail "missing scenarios: $(cat "$tmp/err")"

echo "$((checks - failures)) passed, $failures failed"
[ "$failures" -eq 0 ]
