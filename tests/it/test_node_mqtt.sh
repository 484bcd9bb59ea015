#!/usr/bin/env bash
# The node runtime over real brokers: tests/node/tiny.json (4 sensors, 2
# gateways, 1 regional, 1 cloud) run by `edgeai topo up`, which starts one
# mosquitto per tier on loopback, bridged upward, and one `edgeai topo node`
# process per node.
#   A  in-process run (--inproc) of the same topology and seconds
#   B  over MQTT; gw-0 and then its child cam-1 (holding unacknowledged
#      samples) are killed with SIGKILL mid-run and started again from their
#      saved state: cam-1 replays, gw-0 ignores the copies, and the cloud's
#      ledger equals A's and the hand-computed set (cam-0..3, seq 0..29), no
#      sample twice anywhere
#   C  over MQTT with emulated link delays: same ledger again
#   D  bad node name: clear error, no crash
# Skips (77) without mosquitto. Every wait is bounded (timeout); brokers and
# node processes are gone afterwards.
set -euo pipefail
cd "$(dirname "$0")/../.."
cli=${EAI_CLI:-build/edgeai}
mosq=${EAI_MOSQUITTO:-$(command -v mosquitto || true)}
[ -n "$mosq" ] || for p in /usr/sbin/mosquitto /usr/local/sbin/mosquitto; do
    [ -x "$p" ] && mosq=$p && break
done
[ -n "$mosq" ] && [ -x "$mosq" ] || { echo "SKIP: mosquitto not installed"; exit 77; }
[ -x "$cli" ] || { echo "FAIL: $cli not built"; exit 1; }
export EAI_MOSQUITTO=$mosq

topo=tests/node/tiny.json
secs=6
tmp=$(mktemp -d /tmp/eai-it-node.XXXXXX)
leftovers() { # pids of processes started under $tmp (brokers, nodes)
    local p
    for p in /proc/[0-9]*; do
        grep -qs -- "$tmp" "$p/cmdline" && echo "${p#/proc/}"
    done
    true
}
cleanup() {
    local p
    for p in $(leftovers); do kill -9 "$p" 2>/dev/null || true; done
    [ -n "${EAI_IT_KEEP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*"
    for f in "$tmp"/*.out "$tmp"/*/logs/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 20 "$f"; }; done
    exit 1
}
body() { grep -v '^#' "$1"; } # a ledger without its header lines

# hand-computed: 4 sensors x 5 Hz x 6 s = 30 samples each, seq 0..29
expected=$(printf 'cam-%d 0 29\n' 0 1 2 3)

timeout 30 "$cli" topo up --inproc --config $topo --seconds $secs --dir "$tmp/a" >"$tmp/a.out" 2>&1 ||
    fail "in-process run failed"
[ "$(body "$tmp/a/ledger/cloud-0.ledger")" = "$expected" ] || fail "A: cloud ledger is not the 120 samples"
echo "A: in-process: the cloud holds cam-0..3 seq 0..29"

# gw-0 is down from 2 s to 4 s; its child cam-1 keeps sampling into its outbox
# (no acks) and is itself killed at 3 s with those samples unacknowledged,
# restarted at 3.5 s: it must replay them, and gw-0 (restarted at 4 s) gets
# both the copies its broker session kept and the replays: it must ignore one.
timeout 60 "$cli" topo up --config $topo --seconds $secs --dir "$tmp/b" --timeout 40 \
    --kill gw-0@2:2 --kill cam-1@3:0.5 >"$tmp/b.out" 2>&1 || fail "MQTT run failed ($?)"
grep -q "killed cam-1 (SIGKILL)" "$tmp/b.out" || fail "B: cam-1 was not killed"
grep -q "killed gw-0 (SIGKILL)" "$tmp/b.out" || fail "B: gw-0 was not killed"
grep -q "restarts 1" "$tmp/b/ledger/cam-1.ledger" || fail "B: cam-1 did not resume from its state"
grep -q "restarts 1" "$tmp/b/ledger/gw-0.ledger" || fail "B: gw-0 did not resume from its state"
grep -q "resent [1-9]" "$tmp/b/ledger/cam-1.ledger" || fail "B: cam-1 replayed nothing"
grep -q "duplicates [1-9]" "$tmp/b/ledger/gw-0.ledger" || fail "B: gw-0 saw no duplicate"
[ "$(grep -c 'broker .* 127.0.0.1:' "$tmp/b.out")" = 4 ] || fail "B: not 4 brokers"
[ "$(grep -c '^topic .* out 1' "$tmp/b/broker-device.conf")" = 3 ] || fail "B: device bridge topics"
cmp <(body "$tmp/a/ledger/cloud-0.ledger") <(body "$tmp/b/ledger/cloud-0.ledger") ||
    fail "B: the cloud's ledger differs from the in-process run"
for f in "$tmp"/b/ledger/*.ledger; do
    grep -q "sample_dups 0 " "$f" || fail "B: a sample arrived twice at $(basename "$f")"
    grep -q "done 1" "$f" || fail "B: $(basename "$f") not done"
done
grep -q "samples 120 " "$tmp/b/ledger/cloud-0.ledger" || fail "B: cloud does not hold 120 samples"
resent=$(grep -ho 'resent [0-9]*' "$tmp"/b/ledger/*.ledger | awk '{s += $2} END {print s}')
dups=$(grep -ho 'duplicates [0-9]*' "$tmp"/b/ledger/*.ledger | awk '{s += $2} END {print s}')
echo "B: MQTT, cam-1 and gw-0 killed -9 and restarted: same 120 samples, none twice" \
    "($resent resends, $dups duplicate messages ignored)"

timeout 60 "$cli" topo up --config $topo --seconds 3 --dir "$tmp/c" --timeout 30 \
    --emulate-links >"$tmp/c.out" 2>&1 || fail "MQTT run with emulated links failed"
[ "$(body "$tmp/c/ledger/cloud-0.ledger")" = "$(printf 'cam-%d 0 14\n' 0 1 2 3)" ] ||
    fail "C: cloud ledger with emulated links"
echo "C: MQTT with emulated link delays: cam-0..3 seq 0..14 at the cloud"

rc=0
timeout 10 "$cli" topo node --config $topo --name nope-0 --mqtt 127.0.0.1:1 >"$tmp/d.out" 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -q "no node group 'nope'" "$tmp/d.out" || fail "D: bad name (rc $rc)"
rc=0
timeout 10 "$cli" topo node --config $topo --name cam-0 --mqtt nohost >"$tmp/d.out" 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "D: bad --mqtt (rc $rc)"
echo "D: bad name and address refused"

[ -z "$(leftovers)" ] || fail "processes left running: $(leftovers)"
echo "PASS"
