#!/bin/bash
# `edgeai topo`: compare on the shipped example (table, CSV, JSON, PNG),
# profiles, and clear failures on a bad config and bad options.
set -u
CLI=${EAI_CLI:-build/edgeai}
[ -x "$CLI" ] || { echo "skip: $CLI not built"; exit 77; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

timeout 60 "$CLI" topo compare --config examples/topo/smart_city.json --duration 5 >"$TMP/table.txt" \
    || fail "compare exited $?"
for a in cloud-only edge-only hybrid federated; do grep -q "^$a " "$TMP/table.txt" || fail "no row $a"; done

timeout 60 "$CLI" topo compare --config examples/topo/smart_city.json --duration 5 --csv \
    -o "$TMP/c.csv" --plot "$TMP/c.png" || fail "csv/plot exited $?"
[ "$(wc -l <"$TMP/c.csv")" -eq 5 ] || fail "csv rows"
head -c 4 "$TMP/c.png" | od -An -c | grep -q "P   N   G" || fail "not a PNG"

timeout 60 "$CLI" topo compare --config examples/topo/smart_city.json --duration 5 --json \
    --arch edge-only,hybrid --offload 0.5 -o "$TMP/c.json" || fail "json exited $?"
/usr/bin/python3 - "$TMP/c.json" <<'PY' || fail "json content"
import json, sys
d = json.load(open(sys.argv[1]))
a = {x["arch"]: x for x in d["architectures"]}
assert set(a) == {"edge-only", "hybrid"}, a.keys()
assert abs(a["hybrid"]["offload_frac"] - 0.5) < 0.03, a["hybrid"]["offload_frac"]
assert a["edge-only"]["links"][0]["bytes_up"] == 0
assert a["hybrid"]["p99_ms"] > a["edge-only"]["p99_ms"]
PY

"$CLI" topo profiles | grep -q "jetson-orin-nano" || fail "profiles"

echo '{"nodes": [{"name": "a", "tier": "device", "hardware": "jetsn"}]}' >"$TMP/bad.json"
out=$("$CLI" topo compare --config "$TMP/bad.json" 2>&1) && fail "bad config accepted"
echo "$out" | grep -q "nodes\[0\].hardware: unknown profile 'jetsn'" || fail "message: $out"
"$CLI" topo compare --config examples/topo/smart_city.json --offload 2 >/dev/null 2>&1 && fail "--offload 2"
"$CLI" topo compare --config examples/topo/smart_city.json --arch fog >/dev/null 2>&1 && fail "--arch fog"
"$CLI" topo frobnicate >/dev/null 2>&1 && fail "unknown subcommand"
echo "ok"
