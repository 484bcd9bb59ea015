#!/usr/bin/env bash
# Secure aggregation across processes: a real mosquitto on a loopback port,
# `edgeai fl server --secure-agg` and 4 `edgeai fl client` processes
# (fashion-mnist, cnn_fmnist), each compared with `edgeai fl simulate
# --secure-agg`. Masks cancel exactly in Z / 2^32, so the sum is the
# fixed-point sum of the survivors' rows whatever the keys: the models must be
# equal byte for byte, not just within the quantisation bound.
#   A  all 4 clients survive, 2 rounds: equals simulate --secure-agg, and
#      differs from plain FedAvg (the fixed-point path really ran)
#   B  client 2 SIGKILLs itself after sending its masked input (before the
#      unmasking request): its input is still summed (its self mask comes from
#      the 3 others' shares): equals simulate with no dropout
#   C  client 2 SIGKILLs itself after sending its shares, before its masked
#      input: it is dropped and its pairwise masks are removed from the
#      others' shares of its key: equals simulate --dropout 0.3 --seed 1,
#      which drops exactly client 2 in round 1 (checked from its JSON)
#   D  the same with client 2 dying after advertising its keys (before
#      sharing): equals the same simulate run
#   E  SecAgg + DP (--dp-epsilon 8 --dp-clip 0.1: the clients clip their own
#      deltas before masking, the server noises the unmasked sum), all 4
#      survive, 2 rounds: equals simulate --secure-agg --dp-epsilon byte for
#      byte, the epsilon printed per round matches simulate's JSON, and the
#      model differs from run A's (the noise really ran)
#   F  SecAgg + DP with client 2 SIGKILLed after its masked input: still
#      counted; equals simulate --secure-agg --dp-epsilon with no dropout
#   G  SecAgg + DP with client 2 SIGKILLed after its shares: dropped (a zero
#      row under the fixed denominator); equals simulate --dropout 0.3 --seed 1
#   X  --secure-agg with SCAFFOLD is refused with a clear message
# Skips (77) without mosquitto or the fashion-mnist data. Every wait is bounded.
set -euo pipefail
. "$(dirname "$0")/fl_mqtt_lib.sh" fl-secagg

model=(--model models/train/cnn_fmnist.onnx --clients 4)
data=(--data fashion-mnist:train --max-samples 2000)
train=(--lr 0.05 --momentum 0.5)
run_sa() { # NAME SEED ROUNDS CRASH_PHASE|- [server options]: server + 4 clients,
    # client 2 may crash
    local name=$1 seed=$2 rounds=$3 crash=$4 k extra
    shift 4
    "$cli" fl server --mqtt "127.0.0.1:$port" --run "$name" --rounds "$rounds" "${model[@]}" \
        --seed "$seed" --chunk 65536 "${train[@]}" --secure-agg --round-timeout 60 \
        --out "$tmp/$name.onnx" "$@" >"$tmp/$name-server.log" 2>&1 &
    local spid=$! cpids=() crashed=
    pids+=("$spid")
    for k in 0 1 2 3; do
        extra=()
        [ "$k" = 2 ] && [ "$crash" != - ] && extra=(--crash-after "$crash")
        "$cli" fl client --mqtt "127.0.0.1:$port" --run "$name" --id $k "${model[@]}" \
            --seed "$seed" --chunk 65536 "${data[@]}" --idle-timeout 60 "${extra[@]}" \
            >"$tmp/$name-client$k.log" 2>&1 &
        pids+=($!)
        if [ ${#extra[@]} -gt 0 ]; then crashed=$!; else cpids+=($!); fi
    done
    if [ -n "$crashed" ]; then
        for _ in $(seq 1200); do kill -0 "$crashed" 2>/dev/null || break; sleep 0.1; done
        local rc=0
        wait "$crashed" || rc=$?
        [ "$rc" = 137 ] || fail "run $name: client 2 exited $rc, expected SIGKILL (137)"
    fi
    wait_pids 120 "$spid" "${cpids[@]}"
    [ -s "$tmp/$name.onnx" ] || fail "no final model from run $name"
    grep -q "plain update" "$tmp/$name-server.log" && fail "run $name: a plain update was sent"
    return 0
}
simulate() { # NAME SEED ROUNDS [options]
    local name=$1 seed=$2 rounds=$3
    shift 3
    "$cli" fl simulate "${model[@]}" --seed "$seed" --rounds "$rounds" "${train[@]}" "${data[@]}" \
        --json "$tmp/$name.json" --out "$tmp/$name.onnx" "$@" >"$tmp/$name.log" 2>&1 ||
        fail "simulate $name failed"
}

start_broker
echo "broker on 127.0.0.1:$port"

run_sa a 5 2 -
grep -q "round   2/2  secagg masked 4/4 (dropped 0, unmasked by 4)" "$tmp/a-server.log" ||
    fail "run a: round 2 did not sum 4 masked inputs"
simulate sim_a 5 2 --secure-agg
cmp "$tmp/a.onnx" "$tmp/sim_a.onnx" || fail "SecAgg over MQTT differs from simulate --secure-agg"
simulate sim_a_plain 5 2
cmp -s "$tmp/a.onnx" "$tmp/sim_a_plain.onnx" && fail "SecAgg's model equals plain FedAvg's"
echo "A: 4 survivors, 2 rounds: equals simulate --secure-agg byte for byte"

run_sa b 5 1 masked
grep -q "client 2 went offline" "$tmp/b-server.log" || fail "run b: no last will for client 2"
grep -q "round   1/1  secagg masked 4/4 (dropped 0, unmasked by 3)" "$tmp/b-server.log" ||
    fail "run b: expected 4 masked inputs unmasked by 3 survivors"
simulate sim_b 5 1 --secure-agg
cmp "$tmp/b.onnx" "$tmp/sim_b.onnx" || fail "run b differs from simulate (client 2 included)"
echo "B: client killed after its masked input: still summed, equals simulate byte for byte"

simulate sim_c 1 1 --secure-agg --dropout 0.3
grep -q '"dropped":[[:space:]]*1,' "$tmp/sim_c.json" ||
    fail "reference: simulate --seed 1 --dropout 0.3 no longer drops exactly one client"
run_sa c 1 1 shares
grep -q "round   1/1  secagg masked 3/4 (dropped 1, unmasked by 3)" "$tmp/c-server.log" ||
    fail "run c: expected client 2 dropped"
cmp "$tmp/c.onnx" "$tmp/sim_c.onnx" || fail "run c differs from simulate with client 2 dropped"
cmp -s "$tmp/c.onnx" "$tmp/b.onnx" && fail "dropping client 2 did not change the model"
echo "C: client killed after its shares: dropped, equals simulate (client 2 dropped) byte for byte"

run_sa d 1 1 advertise
grep -q "round   1/1  secagg masked 3/4 (dropped 1" "$tmp/d-server.log" ||
    fail "run d: expected client 2 dropped"
cmp "$tmp/d.onnx" "$tmp/sim_c.onnx" || fail "run d differs from simulate with client 2 dropped"
echo "D: client killed after advertising keys: dropped, equals the same simulate run"

dp=(--dp-epsilon 8 --dp-clip 0.1)
eps_match() { # SIMNAME NETNAME ROUNDS: epsilon per round, server log vs simulate's JSON
    grep -o '"epsilon":[^,]*' "$tmp/$1.json" | head -n "$3" | cut -d: -f2 | tr -d ' \t' \
        >"$tmp/$1.eps"
    sed -n 's/.* eps \([0-9.]*\) .*/\1/p' "$tmp/$2-server.log" >"$tmp/$2.eps"
    [ "$(wc -l <"$tmp/$2.eps")" = "$3" ] && [ "$(wc -l <"$tmp/$1.eps")" = "$3" ] ||
        fail "run $2: expected $3 epsilons from both"
    paste "$tmp/$1.eps" "$tmp/$2.eps" | awk '
        { d = $1 - $2; if (d < 0) d = -d; if (!($1 > 0) || d > 1e-6 * $1 + 1e-6) bad = 1;
          printf "   round %d: epsilon %s vs %s\n", NR, $1, $2 }
        END { exit bad }' || fail "run $2: epsilon per round disagrees with simulate"
}
run_sa e 5 2 - "${dp[@]}"
grep -q "clients clip their updates to 0.1" "$tmp/e-server.log" || fail "run e: DP not announced"
grep -q "round   2/2  secagg masked 4/4 (dropped 0, unmasked by 4)" "$tmp/e-server.log" ||
    fail "run e: round 2 did not sum 4 masked inputs"
simulate sim_e 5 2 --secure-agg "${dp[@]}"
cmp "$tmp/e.onnx" "$tmp/sim_e.onnx" || fail "SecAgg + DP over MQTT differs from simulate"
eps_match sim_e e 2
cmp -s "$tmp/e.onnx" "$tmp/a.onnx" && fail "SecAgg + DP's model equals SecAgg's without DP"
echo "E: SecAgg + DP, 4 survivors, 2 rounds: equals simulate byte for byte, epsilon too"

run_sa f 5 1 masked "${dp[@]}"
grep -q "client 2 went offline" "$tmp/f-server.log" || fail "run f: no last will for client 2"
grep -q "round   1/1  secagg masked 4/4 (dropped 0, unmasked by 3)" "$tmp/f-server.log" ||
    fail "run f: expected 4 masked inputs unmasked by 3 survivors"
simulate sim_f 5 1 --secure-agg "${dp[@]}"
cmp "$tmp/f.onnx" "$tmp/sim_f.onnx" || fail "run f differs from simulate (client 2 included)"
eps_match sim_f f 1
echo "F: SecAgg + DP, client killed after its masked input: still summed, equals simulate"

simulate sim_g 1 1 --secure-agg --dropout 0.3 "${dp[@]}"
grep -q '"dropped":[[:space:]]*1,' "$tmp/sim_g.json" ||
    fail "reference: simulate --seed 1 --dropout 0.3 with DP does not drop exactly one client"
run_sa g 1 1 shares "${dp[@]}"
grep -q "round   1/1  secagg masked 3/4 (dropped 1, unmasked by 3)" "$tmp/g-server.log" ||
    fail "run g: expected client 2 dropped"
cmp "$tmp/g.onnx" "$tmp/sim_g.onnx" || fail "run g differs from simulate with client 2 dropped"
simulate sim_g_all 1 1 --secure-agg "${dp[@]}"
cmp -s "$tmp/g.onnx" "$tmp/sim_g_all.onnx" && fail "run g: dropping client 2 did not change the model"
echo "G: SecAgg + DP, client killed after its shares: dropped, equals simulate byte for byte"

set +e
"$cli" fl server --mqtt "127.0.0.1:$port" --run x --rounds 1 "${model[@]}" --strategy scaffold \
    --secure-agg >"$tmp/x-server.log" 2>&1
rc=$?
set -e
[ $rc -ne 0 ] && grep -q "scaffold needs each client's update" "$tmp/x-server.log" ||
    fail "--secure-agg with SCAFFOLD was not refused clearly (rc $rc)"
echo "X: --secure-agg with SCAFFOLD refused"
echo "PASS"
