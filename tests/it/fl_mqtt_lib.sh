# Sourced by the FL-over-MQTT integration tests (tests/it/test_fl_mqtt*.sh):
# the skip checks (mosquitto, Fashion-MNIST, the CLI), a temp folder removed
# on exit with every child killed, fail(), and a private mosquitto on a free
# loopback port (start_broker [PORT] / stop_broker), wait_for, wait_pids.
# Usage: . tests/it/fl_mqtt_lib.sh TAG   (TAG names the temp folder)
set -euo pipefail
cd "$(dirname "$0")/../.."
cli=${EAI_CLI:-build/edgeai}
mosq=${EAI_MOSQUITTO:-$(command -v mosquitto || true)}
[ -n "$mosq" ] || for p in /usr/sbin/mosquitto /usr/local/sbin/mosquitto; do
    [ -x "$p" ] && mosq=$p && break
done
[ -n "$mosq" ] && [ -x "$mosq" ] || { echo "SKIP: mosquitto not installed"; exit 77; }
fm=${EAI_FASHION_MNIST_DIR:-/usr/share/datasets/fashion-mnist}
[ -f "$fm/train-images-idx3-ubyte.gz" ] || { echo "SKIP: no fashion-mnist in $fm"; exit 77; }
[ -x "$cli" ] || { echo "FAIL: $cli not built"; exit 1; }

tmp=$(mktemp -d "/tmp/eai-it-${1:-fl}.XXXXXX")
pids=()
bpid=
cleanup() {
    for p in "${pids[@]}" $bpid; do kill -9 "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    [ -n "${EAI_IT_KEEP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$tmp"/*.log; do echo "--- $f"; tail -n 15 "$f"; done; exit 1; }

port=
start_broker() { # [port]: start mosquitto, wait until it accepts
    local p=${1:-}
    for attempt in 1 2 3 4 5; do
        [ -n "$p" ] || p=$((20000 + RANDOM % 40000))
        cat >"$tmp/mosquitto.conf" <<CONF
listener $p 127.0.0.1
allow_anonymous true
persistence true
persistence_location $tmp/
max_queued_messages 100000
CONF
        [ "$(id -u)" = 0 ] && echo "user root" >>"$tmp/mosquitto.conf"
        "$mosq" -c "$tmp/mosquitto.conf" >>"$tmp/broker.log" 2>&1 &
        bpid=$!
        for _ in $(seq 100); do
            if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then port=$p; return 0; fi
            kill -0 "$bpid" 2>/dev/null || break
            sleep 0.05
        done
        kill -9 "$bpid" 2>/dev/null || true
        [ -n "${1:-}" ] && sleep 0.3 || p=
    done
    fail "mosquitto did not start"
}
stop_broker() {
    kill -TERM "$bpid"
    for _ in $(seq 100); do kill -0 "$bpid" 2>/dev/null || break; sleep 0.05; done
    kill -9 "$bpid" 2>/dev/null || true
    wait "$bpid" 2>/dev/null || true
    bpid=
}
wait_for() { # FILE PATTERN SECONDS
    for _ in $(seq $(($3 * 10))); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
    fail "no '$2' in $1 after $3 s"
}
wait_pids() { # SECONDS PID...: every process exits 0 in time
    local secs=$1 p
    shift
    for p in "$@"; do
        for _ in $(seq $((secs * 10))); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$p" 2>/dev/null && fail "process $p still running after $secs s"
        wait "$p" || fail "process $p exited with $?"
    done
}
