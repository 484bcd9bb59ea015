#!/usr/bin/env bash
# `edgeai bench` options the issue-3 harness relies on: -i FILE.npy, --cold,
# the CLOCK_MONOTONIC first-result stamp, --profile's per-kernel JSON, and
# the backend list in --help.
set -euo pipefail
cli=${EAI_CLI:?EAI_CLI must name the edgeai binary}
root=$(cd "$(dirname "$0")/../.." && pwd)
m=$root/models/cnn_small.onnx
in=$root/models/cnn_small.input.npy
now() { /usr/bin/python3 -c 'import time; print(time.monotonic_ns())'; }
fail() { echo "FAIL: $*" >&2; exit 1; }

"$cli" bench --help | grep -Eq '^backends:.* ref( |$)' || fail "--help does not list the ref backend"

t0=$(now)
out=$("$cli" bench "$m" -i "$in" --cold --json)
t1=$(now)
echo "$out"
/usr/bin/python3 - "$out" "$t0" "$t1" <<'PY' || fail "bad --cold JSON"
import json, sys
j, t0, t1 = json.loads(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
assert j["runs"] == 1 and j["warmup"] == 0, j
assert j["input"] == "npy", j
# The stamp is CLOCK_MONOTONIC, the clock of Python's monotonic_ns: it lies
# between our stamps taken before the spawn and after the exit.
assert t0 < j["first_result_monotonic_ns"] < t1, (t0, j["first_result_monotonic_ns"], t1)
for k in ("load_ms", "session_ms", "first_invoke_ms", "first_result_ms"):
    assert j[k] >= 0, k
assert j["first_result_ms"] >= j["first_invoke_ms"]
PY
"$cli" bench "$m" -i input="$in" --runs 2 --warmup 0 --json | grep -q '"input": "npy"' ||
    fail "-i NAME=FILE not taken"
"$cli" bench "$m" --runs 2 --warmup 0 --json | grep -q '"input": "random"' ||
    fail "no -i should mean random inputs"

# --profile --json: every kernel once, in execution order, adding up to the
# by-type table and including the 10 slowest.
out=$("$cli" bench "$m" --runs 3 --warmup 1 --profile --json)
/usr/bin/python3 - "$out" <<'PY' || fail "bad --profile JSON"
import json, sys
j = json.loads(sys.argv[1])
nodes, types, top = j["profile_nodes"], j["profile"], j["profile_top"]
assert len(nodes) >= 3 and all(n["ms"] >= 0 and n["name"] for n in nodes), nodes
assert sum(t["count"] for t in types) == len(nodes), (types, len(nodes))
assert abs(sum(n["ms"] for n in nodes) - j["profile_kernel_ms"]) < 1e-3 * len(nodes) + 1e-3
names = [n["name"] for n in nodes]
assert len(set(names)) == len(names), names
assert all(t["name"] in names for t in top)
PY

# Wrong inputs are errors with a message, not crashes.
set +e
msg=$("$cli" bench "$m" -i "$root/models/mlp.input.npy" --cold 2>&1); rc=$?
[ $rc -eq 1 ] && grep -q "takes float32 1x3x32x32" <<<"$msg" || fail "shape mismatch: rc $rc: $msg"
msg=$("$cli" bench "$m" -i nope="$in" --cold 2>&1); rc=$?
[ $rc -eq 1 ] && grep -q "no input named 'nope'" <<<"$msg" || fail "unknown name: rc $rc: $msg"
msg=$("$cli" bench "$m" -i "$in" -i "$in" --cold 2>&1); rc=$?
[ $rc -eq 1 ] && grep -q "only 1 input" <<<"$msg" || fail "too many -i: rc $rc: $msg"
msg=$("$cli" bench "$m" -i 2>&1); rc=$?
[ $rc -eq 2 ] || fail "-i without a value: rc $rc"
echo "ok"
