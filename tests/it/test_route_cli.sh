#!/bin/bash
# `edgeai route` against a real `edgeai serve` process: the cloud is killed
# (SIGKILL) in the middle of a run over a few hundred Fashion-MNIST test
# images and restarted on the same port. Every sample must still get an
# answer (edge_fallback while the cloud is gone), and the breaker log must
# show closed -> open -> half_open -> closed. Also: calibrate, the sweep
# (CSV + PNG) and bad options. Seconds; skipped without Debian's data set.
set -euo pipefail
cd "$(dirname "$0")/../.."
CLI=${EAI_CLI:-build/edgeai}
tmp=$(mktemp -d)
srv=
cleanup() {
    [ -n "$srv" ] && kill "$srv" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

for bad in "--threshold 2" "--timeout-ms 0" "--bogus x" "--plot a.png"; do
    set +e
    # shellcheck disable=SC2086
    "$CLI" route --edge a.onnx --cloud http://127.0.0.1:1 --data x $bad 2>"$tmp/err"
    rc=$?
    set -e
    [ "$rc" = 2 ] || fail "'$bad' exited $rc, expected 2"
    [ "$(wc -l <"$tmp/err")" = 1 ] || fail "'$bad': expected one line: $(cat "$tmp/err")"
done
set +e
"$CLI" calibrate models/fashion/fashion_cnn.onnx 2>"$tmp/err"
rc=$?
set -e
[ "$rc" = 2 ] && grep -q -- "--data" "$tmp/err" || fail "calibrate without --data: $rc"
echo "ok: bad options"

FM=${EAI_FASHION_MNIST_DIR:-/usr/share/datasets/fashion-mnist}
if [ ! -f "$FM/t10k-images-idx3-ubyte.gz" ]; then
    echo "skipped: no $FM"
    exit 77
fi
NORM="--mean 0.2860 --std 0.3530"
CLOUD=models/fashion/fashion_cnn.onnx
# The edge: the untrained cnn_fmnist (small, never confident), so every
# sample wants the cloud and the outage hits as many requests as possible.
EDGE=models/train/cnn_fmnist.onnx

# shellcheck disable=SC2086
"$CLI" calibrate "$CLOUD" --data fashion-mnist:test --max 500 $NORM -o "$tmp/c.calib.json" \
    >"$tmp/cal.txt"
grep -q '"temperature": ' "$tmp/c.calib.json" || fail "no calibration file"
grep -q '^ece (15 bins)' "$tmp/cal.txt" || fail "calibrate printed no ECE"
echo "ok: calibrate ($(grep temperature "$tmp/cal.txt"))"

# Samples arrive every 5 ms (--interval-ms), so 400 take over 2 s and the
# kill and the restart land mid-run.
serve() {
    "$CLI" serve --model "cloud=$CLOUD" --port "$1" --port-file "$tmp/port" \
        --quiet 2>>"$tmp/serve.err" &
    srv=$!
    for _ in $(seq 100); do
        [ -s "$tmp/port" ] && curl -sf "http://127.0.0.1:$(cat "$tmp/port")/v2/health/ready" \
            >/dev/null && return 0
        sleep 0.05
    done
    fail "serve did not come up: $(cat "$tmp/serve.err")"
}
serve 0
port=$(cat "$tmp/port")
url=http://127.0.0.1:$port

# shellcheck disable=SC2086
"$CLI" route --edge "$EDGE" --cloud "$url" --cloud-model cloud --cloud-input image \
    --cloud-output logits --data fashion-mnist:test --max 400 $NORM --threshold 0.85 \
    --timeout-ms 200 --breaker-failures 3 --breaker-cooldown-ms 100 --interval-ms 5 \
    --csv "$tmp/run.csv" --json "$tmp/run.json" --log "$tmp/breaker.log" >"$tmp/route.txt" &
route=$!
# Kill once the cloud has answered 30 requests (its /metrics counter), restart
# once the router has seen the breaker open: no guessing at machine speed.
for _ in $(seq 500); do
    n=$(curl -sf "$url/metrics" | grep -o 'http_requests_total{code="2xx"} [0-9]*' |
        grep -o '[0-9]*$' || echo 0)
    [ "${n:-0}" -ge 30 ] && break
    sleep 0.02
done
kill -9 "$srv"
wait "$srv" 2>/dev/null || true
srv=
for _ in $(seq 500); do
    grep -q 'closed -> open' "$tmp/breaker.log" 2>/dev/null && break
    sleep 0.02
done
sleep 0.3
rm -f "$tmp/port"
serve "$port"
wait "$route" || fail "route exited non-zero: $(cat "$tmp/route.txt")"
cat "$tmp/route.txt"
cat "$tmp/breaker.log"

[ "$(wc -l <"$tmp/run.csv")" = 401 ] || fail "expected 400 answers"
grep -q '"failed_answers": 0,' "$tmp/run.json" || fail "some samples got no answer"
n_fb=$(grep -c ',edge_fallback,' "$tmp/run.csv" || true)
[ "$n_fb" -gt 0 ] || fail "no edge_fallback answers: the kill did not land mid-run"
# Cloud answers both before the outage and after the restart.
# (awk, not head | grep -q: under pipefail an early grep exit is a SIGPIPE.)
awk '/,edge_fallback,/ && !fb {fb = 1} /,cloud,/ && !fb {ok = 1} END {exit !ok}' "$tmp/run.csv" ||
    fail "no cloud answer before the kill"
awk '/,edge_fallback,/ {ok = 0} /,cloud,/ {ok = 1} END {exit !ok}' "$tmp/run.csv" ||
    fail "no cloud answer after the restart"
grep -q 'closed -> open' "$tmp/breaker.log" || fail "breaker never opened"
grep -q 'open -> half_open' "$tmp/breaker.log" || fail "breaker never probed"
tail -1 "$tmp/breaker.log" | grep -q 'half_open -> closed' || fail "breaker did not close last"
echo "ok: cloud killed and restarted mid-run: $n_fb fallbacks, 0 failed answers"

# shellcheck disable=SC2086
"$CLI" route --edge "$CLOUD" --cloud "$url" --cloud-model cloud --data fashion-mnist:test \
    --max 200 $NORM --sweep --csv "$tmp/sweep.csv" --plot "$tmp/sweep.png" >"$tmp/sweep.txt"
cat "$tmp/sweep.txt"
[ "$(wc -l <"$tmp/sweep.csv")" = 102 ] || fail "sweep: expected header + 101 thresholds"
sed -n 2p "$tmp/sweep.csv" | grep -q '^0.00,0.000000,' || fail "threshold 0 must offload 0"
tail -1 "$tmp/sweep.csv" | grep -q '^1.00,1.000000,' || fail "threshold 1 must offload all"
[ "$(head -c 8 "$tmp/sweep.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
    fail "not a PNG"
echo "ok"
