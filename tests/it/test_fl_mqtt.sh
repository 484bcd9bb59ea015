#!/usr/bin/env bash
# Networked federated learning: a real mosquitto on a loopback port, `edgeai fl
# server` and 3 `edgeai fl client` processes (fashion-mnist, cnn_fmnist).
#   A  clean run, 3 rounds                          -> final model a.onnx
#   B  same run, broker restarted mid-run (SIGTERM) -> must equal a.onnx byte for byte
#   C  client 2 SIGKILLed after round 1, quorum 2, round timeout: the run completes
#   D  `edgeai fl simulate` with the same seed and settings: its per-round test loss
#      and accuracy (JSON) equal the server's evaluation of run A's global models
#      (to 1e-12), and the final models both write (--out) are equal byte for byte
#      (so every float parameter is bit-identical: max abs diff 0)
# SCAFFOLD and DP over MQTT: test_fl_mqtt_scaffold_dp.sh.
# Skips (77) without mosquitto or the fashion-mnist data. Every wait is bounded.
set -euo pipefail
. "$(dirname "$0")/fl_mqtt_lib.sh" fl-mqtt

common=(--model models/train/cnn_fmnist.onnx --clients 3 --seed 7 --chunk 65536)
data=(--data fashion-mnist:train --max-samples 6000)
run_fl() { # NAME ROUNDS [server options]: server + 3 clients in the background
    local name=$1 rounds=$2
    shift 2
    "$cli" fl server --mqtt "127.0.0.1:$port" --run "$name" --rounds "$rounds" "${common[@]}" \
        --lr 0.05 --momentum 0.5 --out "$tmp/$name.onnx" "$@" >"$tmp/$name-server.log" 2>&1 &
    spid=$!
    cpids=()
    for k in 0 1 2; do
        "$cli" fl client --mqtt "127.0.0.1:$port" --run "$name" --id $k "${common[@]}" \
            "${data[@]}" --idle-timeout 60 >"$tmp/$name-client$k.log" 2>&1 &
        cpids+=($!)
    done
    pids+=("$spid" "${cpids[@]}")
}

start_broker
echo "broker on 127.0.0.1:$port"

run_fl a 3 --test fashion-mnist:test --max-samples 6000
wait_pids 120 "$spid" "${cpids[@]}"
[ -s "$tmp/a.onnx" ] || fail "no final model from run a"
grep -q "round   3/3  updates 3/3" "$tmp/a-server.log" || fail "run a: not 3 updates in round 3"
echo "A: clean run ok"

run_fl b 3
wait_for "$tmp/b-server.log" "round   1/3" 60
stop_broker
sleep 0.5
start_broker "$port"
wait_pids 120 "$spid" "${cpids[@]}"
cmp "$tmp/a.onnx" "$tmp/b.onnx" || fail "broker restart changed the final model"
echo "B: broker restart mid-run: same final model"

run_fl c 2 --quorum 2 --round-timeout 8
wait_for "$tmp/c-server.log" "round   1/2" 60
kill -9 "${cpids[2]}"
wait "${cpids[2]}" 2>/dev/null || true
wait_pids 120 "$spid" "${cpids[0]}" "${cpids[1]}"
grep -q "client 2 went offline" "$tmp/c-server.log" || fail "no last will for client 2"
grep -q "round   2/2  updates 2/3" "$tmp/c-server.log" || fail "round 2 did not close with 2 of 3"
[ -s "$tmp/c.onnx" ] || fail "no final model from run c"
echo "C: killed client: run completed with quorum"

sim=("$cli" fl simulate --model models/train/cnn_fmnist.onnx --clients 3 --seed 7 --rounds 3
    --lr 0.05 --momentum 0.5 --data fashion-mnist:train --test fashion-mnist:test
    --max-samples 6000 --json "$tmp/sim.json")
"${sim[@]}" >"$tmp/sim.log" 2>&1 || fail "simulate failed"
grep -o '"test_loss":[^,]*' "$tmp/sim.json" | cut -d: -f2 | tr -d ' \t' >"$tmp/sim_loss"
grep -o '"test_acc":[^,]*' "$tmp/sim.json" | cut -d: -f2 | tr -d ' \t' >"$tmp/sim_acc"
awk '/test loss/ {print $5}' "$tmp/a-server.log" >"$tmp/net_loss"
awk '/test loss/ {print $8}' "$tmp/a-server.log" >"$tmp/net_acc"
[ "$(wc -l <"$tmp/net_loss")" = 3 ] && [ "$(wc -l <"$tmp/sim_loss")" = 3 ] ||
    fail "expected 3 rounds of test results from both"
paste "$tmp/sim_loss" "$tmp/net_loss" "$tmp/sim_acc" "$tmp/net_acc" | awk '
    function d(a, b) { x = a - b; if (x < 0) x = -x; return x }
    { if (d($1, $2) > 1e-12 * ($1 < 0 ? -$1 : $1) || d($3, $4) > 1e-12) bad = 1;
      printf "   round %d: test loss %s vs %s, acc %s vs %s\n", NR, $1, $2, $3, $4 }
    END { exit bad }' || fail "MQTT run and simulate disagree"
[ -s "$tmp/a.onnx" ] || fail "no model from run a"
"${sim[@]}" --out "$tmp/sim.onnx" >"$tmp/sim.log" 2>&1 || fail "simulate --out failed"
cmp "$tmp/a.onnx" "$tmp/sim.onnx" || fail "MQTT run and simulate wrote different models"
echo "D: equals edgeai fl simulate (test loss per round, and the model files byte for byte)"
echo "PASS"
