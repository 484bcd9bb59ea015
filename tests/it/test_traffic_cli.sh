#!/bin/bash
# `edgeai traffic run` against the real sumo: builds the scenarios, runs 5
# simulated minutes of the asymmetric intersection under every controller and
# checks the JSON report (vehicles arrived, approaches with measured waits,
# no teleports and no emergency braking under maxpressure), plus bad options.
# About a minute; exit 77 when sumo/netconvert are missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
CLI=${EAI_CLI:-build/edgeai}
fail() { echo "FAIL: $*"; exit 1; }
if ! command -v sumo >/dev/null || ! command -v netconvert >/dev/null; then
    echo "skipped: sumo or netconvert not installed"
    exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for bad in "" "--controller bogus --scenario x.sumocfg" "--scenario $tmp/none.sumocfg --controller webster" \
           "--controller webster" "--scenario x --controller webster --minutes -1"; do
    set +e
    # shellcheck disable=SC2086
    "$CLI" traffic run $bad 2>"$tmp/err" >/dev/null
    rc=$?
    set -e
    [ "$rc" != 0 ] || fail "'$bad' succeeded"
    [ "$(wc -l <"$tmp/err")" -le 2 ] || fail "'$bad': long error: $(cat "$tmp/err")"
done
echo "ok: bad options"

scripts/make_scenarios.sh "$tmp/sc" 42 >/dev/null
cfg=$tmp/sc/asymmetric.sumocfg
set +e
"$CLI" traffic run --scenario "$cfg" --controller webster --tls nosuch --minutes 1 2>"$tmp/err" >/dev/null
rc=$?
set -e
[ "$rc" = 1 ] && grep -q "nosuch" "$tmp/err" || fail "unknown --tls: rc $rc $(cat "$tmp/err")"

for c in webster maxpressure sumo-static sumo-actuated sumo-delay; do
    timeout 120 "$CLI" traffic run --scenario "$cfg" --controller "$c" --minutes 5 --seed 3 \
        --json "$tmp/$c.json" >"$tmp/$c.txt" || fail "$c: $(tail -3 "$tmp/$c.txt")"
    /usr/bin/python3 - "$tmp/$c.json" "$c" <<'PY' || fail "$c: bad report"
import json, sys
r = json.load(open(sys.argv[1])); c = sys.argv[2]
for k in ("mean_wait_s", "mean_trip_s", "throughput_vph", "max_queue", "worst_movement_wait_s",
          "teleports", "emergency_brakes", "decision_us_per_step", "sumo_step_us", "approaches"):
    assert k in r, k
assert r["controller"] == c and r["n_tls"] == 1 and abs(r["sim_s"] - 300) < 1e-6
assert r["arrived"] > 100 and r["departed"] >= r["arrived"], (r["arrived"], r["departed"])
assert 0 <= r["mean_wait_s"] < 120 and r["mean_trip_s"] > 30
assert len(r["approaches"]) == 4
for a in r["approaches"]:
    assert a["count"] > 0 and a["meas_left"] > 0 and a["meas_wait_s"] >= 0, a
    if c in ("webster", "maxpressure"):
        assert a["est_queue_s"] >= 0, a
if c == "maxpressure":
    assert r["teleports"] == 0 and r["emergency_brakes"] == 0 and r["collisions"] == 0, r
# detector counts against SUMO's own: the approaches' passages are the
# vehicles that left them (edgeData 'left'), up to those in the junction
for a in r["approaches"]:
    assert abs(a["count"] - a["meas_left"]) <= 3, a
print("ok: %-13s wait %5.1f s, arrived %d" % (c, r["mean_wait_s"], r["arrived"]))
PY
done
