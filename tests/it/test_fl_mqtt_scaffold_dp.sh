#!/usr/bin/env bash
# SCAFFOLD and user-level DP across processes: a real mosquitto on a loopback
# port, `edgeai fl server` and 3 `edgeai fl client` processes (fashion-mnist,
# cnn_fmnist), each compared with `edgeai fl simulate` for the same seed:
#   S  SCAFFOLD, 2 of 3 clients sampled per round (so c_i must survive rounds
#      a client sits out), 3 rounds: the final models are equal byte for byte
#   P  DP-FedAvg (server-side clipping and noise), 3 rounds: the final models
#      are equal byte for byte and the epsilon printed per round matches
#      simulate's JSON (to 1e-9 relative)
#   X  DP with SCAFFOLD is refused with a clear message
# Skips (77) without mosquitto or the fashion-mnist data. Every wait is bounded.
set -euo pipefail
. "$(dirname "$0")/fl_mqtt_lib.sh" fl-sdp

common=(--model models/train/cnn_fmnist.onnx --clients 3 --seed 11 --chunk 65536)
data=(--data fashion-mnist:train --max-samples 3000)
run_fl() { # NAME ROUNDS [server options]: server + 3 clients, waits for all
    local name=$1 rounds=$2
    shift 2
    "$cli" fl server --mqtt "127.0.0.1:$port" --run "$name" --rounds "$rounds" "${common[@]}" \
        --lr 0.05 --momentum 0.5 --out "$tmp/$name.onnx" "$@" >"$tmp/$name-server.log" 2>&1 &
    local spid=$! cpids=()
    for k in 0 1 2; do
        "$cli" fl client --mqtt "127.0.0.1:$port" --run "$name" --id $k "${common[@]}" \
            "${data[@]}" --idle-timeout 60 >"$tmp/$name-client$k.log" 2>&1 &
        cpids+=($!)
    done
    pids+=("$spid" "${cpids[@]}")
    wait_pids 120 "$spid" "${cpids[@]}"
    [ -s "$tmp/$name.onnx" ] || fail "no final model from run $name"
}
simulate() { # NAME ROUNDS [options]
    local name=$1 rounds=$2
    shift 2
    "$cli" fl simulate --model models/train/cnn_fmnist.onnx --clients 3 --seed 11 \
        --rounds "$rounds" --lr 0.05 --momentum 0.5 --data fashion-mnist:train \
        --test fashion-mnist:test --max-samples 3000 --json "$tmp/$name.json" \
        --out "$tmp/$name.onnx" "$@" >"$tmp/$name.log" 2>&1 || fail "simulate $name failed"
}

start_broker
echo "broker on 127.0.0.1:$port"

run_fl s 3 --strategy scaffold --fraction 0.6
grep -q "round   3/3  updates 2/2" "$tmp/s-server.log" || fail "run s: not 2 updates in round 3"
simulate sim_s 3 --strategy scaffold --fraction 0.6
cmp "$tmp/s.onnx" "$tmp/sim_s.onnx" || fail "SCAFFOLD over MQTT differs from simulate"
# the control variates must matter: plain FedAvg gives another model
simulate sim_f 3 --fraction 0.6
cmp -s "$tmp/s.onnx" "$tmp/sim_f.onnx" && fail "SCAFFOLD's model equals FedAvg's (c had no effect)"
echo "S: SCAFFOLD over MQTT equals simulate byte for byte (and differs from FedAvg)"

run_fl p 3 --dp-epsilon 8 --dp-clip 0.5
simulate sim_p 3 --dp-epsilon 8 --dp-clip 0.5
cmp "$tmp/p.onnx" "$tmp/sim_p.onnx" || fail "DP over MQTT differs from simulate"
grep -o '"epsilon":[^,]*' "$tmp/sim_p.json" | head -n 3 | cut -d: -f2 | tr -d ' \t' >"$tmp/sim_eps"
sed -n 's/.* eps \([0-9.]*\) .*/\1/p' "$tmp/p-server.log" >"$tmp/net_eps"
[ "$(wc -l <"$tmp/net_eps")" = 3 ] && [ "$(wc -l <"$tmp/sim_eps")" = 3 ] ||
    fail "expected 3 epsilons from both"
paste "$tmp/sim_eps" "$tmp/net_eps" | awk '
    { d = $1 - $2; if (d < 0) d = -d; if (!($1 > 0) || d > 1e-6 * $1 + 1e-6) bad = 1;
      printf "   round %d: epsilon %s vs %s\n", NR, $1, $2; if (NR > 1 && !($1 > prev)) bad = 1; prev = $1 }
    END { exit bad }' || fail "epsilon per round disagrees (or does not grow)"
simulate sim_f3 3
cmp -s "$tmp/p.onnx" "$tmp/sim_f3.onnx" && fail "DP's model equals the noiseless one"
echo "P: DP over MQTT equals simulate byte for byte, epsilon per round too"

set +e
"$cli" fl server --mqtt "127.0.0.1:$port" --run x --rounds 1 "${common[@]}" --strategy scaffold \
    --dp-epsilon 1 >"$tmp/x-server.log" 2>&1
rc=$?
set -e
[ $rc -ne 0 ] && grep -q "scaffold needs each client's update" "$tmp/x-server.log" ||
    fail "DP with SCAFFOLD was not refused clearly (rc $rc)"
echo "X: DP with SCAFFOLD refused"
echo "PASS"
