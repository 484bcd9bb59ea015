#!/usr/bin/env bash
# `edgeai serve` as a real process: --port 0 + --port-file start it without
# races; curl checks health, metadata, inference (same numbers as `edgeai
# run` on the same input), error codes and metrics; SIGTERM stops it cleanly.
# Every wait is bounded.
set -euo pipefail
cli=${EAI_CLI:?EAI_CLI must name the edgeai binary}
root=$(cd "$(dirname "$0")/../.." && pwd)
command -v curl >/dev/null 2>&1 || { echo "SKIP: curl not installed"; exit 77; }
tmp=$(mktemp -d)
pid=
cleanup() {
    [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*" >&2
    echo "--- server stderr:" >&2
    cat "$tmp/err" >&2 || true
    exit 1
}

"$cli" serve --help | grep -q -- '--port-file' || fail "--help lacks --port-file"
"$cli" serve >/dev/null 2>&1 && fail "serve without --model must fail"
"$cli" serve --model bad >/dev/null 2>&1 && fail "--model without = must fail"

"$cli" serve --model mlp="$root/models/train/mlp_tiny.onnx" \
    --model fashion="$root/models/fashion/fashion_cnn.onnx" \
    --port 0 --port-file "$tmp/port" --max-batch 4 --max-delay-us 500 --max-body 200000 \
    >"$tmp/out" 2>"$tmp/err" &
pid=$!
for _ in $(seq 100); do
    [ -s "$tmp/port" ] && break
    kill -0 "$pid" 2>/dev/null || fail "server exited early"
    sleep 0.1
done
[ -s "$tmp/port" ] || fail "no port file after 10 s"
port=$(cat "$tmp/port")
base="http://127.0.0.1:$port"
grep -q "serving 2 models on http://127.0.0.1:$port" "$tmp/out" || fail "no 'serving' line"

c() { curl -s -m 10 -o "$tmp/body" -w '%{http_code}' "$@"; }
[ "$(c "$base/v2/health/live")" = 200 ] || fail "live"
[ "$(c "$base/v2/health/ready")" = 200 ] || fail "ready"
[ "$(c "$base/v2")" = 200 ] && grep -q '"name":"edgeai"' "$tmp/body" || fail "server metadata"
[ "$(c "$base/v2/models/fashion")" = 200 ] || fail "model metadata"
grep -q '"shape":\[-1,1,28,28\]' "$tmp/body" || fail "fashion input shape: $(cat "$tmp/body")"
[ "$(c "$base/v2/models/mlp/ready")" = 200 ] || fail "model ready"

data=$(seq -s, 1 16 | sed 's/[0-9]\+/0.25/g')
req='{"id":"it-1","inputs":[{"name":"input","shape":[1,16],"datatype":"FP32","data":['$data']}]}'
[ "$(c -X POST -d "$req" "$base/v2/models/mlp/infer")" = 200 ] || fail "infer: $(cat "$tmp/body")"
grep -q '"id":"it-1"' "$tmp/body" || fail "id not echoed"
grep -q '"name":"output","datatype":"FP32","shape":\[1,4\],"data":\[' "$tmp/body" ||
    fail "output tensor: $(cat "$tmp/body")"

# the same input through `edgeai run` (npy in, npy out) must give the same numbers
/usr/bin/python3 - "$tmp" <<'PY' || fail "could not write the npy input"
import sys, numpy as np
np.save(sys.argv[1] + "/x.npy", np.full((1, 16), 0.25, np.float32))
PY
mkdir -p "$tmp/o"
"$cli" run "$root/models/train/mlp_tiny.onnx" -i "$tmp/x.npy" -o "$tmp/o" >/dev/null 2>&1 ||
    fail "edgeai run failed"
/usr/bin/python3 - "$tmp" <<'PY' || fail "served output differs from edgeai run"
import json, sys, numpy as np
d = sys.argv[1]
ref = np.load(d + "/o/output.npy").ravel()
got = np.array(json.load(open(d + "/body"))["outputs"][0]["data"], np.float32)
assert got.shape == ref.shape and np.allclose(got, ref, rtol=1e-5, atol=1e-6), (got, ref)
PY

[ "$(c -X POST -d '{oops' "$base/v2/models/mlp/infer")" = 400 ] || fail "malformed -> 400"
grep -q '"error":' "$tmp/body" || fail "400 body lacks error"
[ "$(c "$base/v2/models/nope")" = 404 ] || fail "unknown model -> 404"
[ "$(c "$base/nowhere")" = 404 ] || fail "unknown path -> 404"
[ "$(c "$base/v2/models/mlp/infer")" = 405 ] || fail "GET infer -> 405"
head -c 300000 /dev/zero | tr '\0' ' ' >"$tmp/big"
[ "$(c -X POST --data-binary @"$tmp/big" "$base/v2/models/mlp/infer")" = 413 ] || fail "oversize -> 413"
[ "$(c "$base/metrics")" = 200 ] || fail "metrics"
grep -q '^edgeai_model_requests_total{model="mlp",code="2xx"} 1$' "$tmp/body" || fail "metrics counter"
grep -q '^edgeai_inference_duration_seconds_count{model="mlp"} 1$' "$tmp/body" || fail "latency count"
grep -q 'edgeai serve: 400 POST /v2/models/mlp/infer: kserve: malformed JSON' "$tmp/err" ||
    fail "error not logged"

kill -TERM "$pid"
for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
done
kill -0 "$pid" 2>/dev/null && fail "still running 10 s after SIGTERM"
rc=0
wait "$pid" || rc=$?
pid=
[ "$rc" = 0 ] || fail "exit status $rc after SIGTERM"
grep -q "stopped" "$tmp/err" || fail "no stop line"
echo "serve cli: ok (port $port)"
