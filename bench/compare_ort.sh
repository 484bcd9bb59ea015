#!/usr/bin/env bash
# edgeai vs ONNX Runtime (onnxruntime-node, CPU) on the same models, 1 and 2
# threads: p50 latency, their ratio, and peak RSS. Prints a table and writes
# bench/results/ort_compare.csv.
#
#   bench/compare_ort.sh [--runs N] [--warmup N] [--threads "1 2"] [MODEL.onnx ...]
#
# MODEL defaults to models/*.onnx. The edgeai side is `$EAI_CLI bench MODEL
# --threads N --runs N --warmup N --json` (EAI_CLI defaults to build/edgeai); the
# ORT side is bench/ort/ort_bench.js with the same options. Both print JSON with
# min_ms, p50_ms, p99_ms, ips, peak_rss_bytes. Where MODEL.onnx has a sibling
# MODEL.input.npy (the zoo and models/ fixtures do), both sides read it (-i);
# otherwise each fills its own seeded random input. Each side runs in its own process,
# one after the other, so RSS is per runtime. Exits 1 if any run failed (its row
# shows "fail" and the error goes to stderr).
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cli=${EAI_CLI:-$root/build/edgeai}
runs=50
warmup=5
threads="1 2"
models=()
while [ $# -gt 0 ]; do
    case "$1" in
    --runs) runs=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    -h | --help)
        sed -n '2,15p' "$0"
        exit 0
        ;;
    -*) echo "compare_ort: unknown option $1" >&2; exit 2 ;;
    *) models+=("$1"); shift ;;
    esac
done
if [ ${#models[@]} -eq 0 ]; then
    shopt -s nullglob
    models=("$root"/models/*.onnx)
    shopt -u nullglob
fi
[ ${#models[@]} -gt 0 ] || { echo "compare_ort: no models given and none in models/" >&2; exit 2; }
[ -x "$cli" ] || { echo "compare_ort: edgeai CLI not found at $cli (build it, or set EAI_CLI)" >&2; exit 1; }
command -v node >/dev/null 2>&1 || { echo "compare_ort: node is required" >&2; exit 1; }

results=$(mktemp)
errlog=$(mktemp)
trap 'rm -f "$results" "$errlog"' EXIT
failed=0

# Last line of stdout that is a JSON object (tools may print progress first).
last_json() {
    grep -E '^\{' | tail -n 1
}

for m in "${models[@]}"; do
    inp=()
    [ -f "${m%.onnx}.input.npy" ] && inp=(-i "${m%.onnx}.input.npy")
    for t in $threads; do
        echo "compare_ort: $(basename "$m") threads=$t" >&2
        e=$("$cli" bench "$m" "${inp[@]}" --threads "$t" --runs "$runs" --warmup "$warmup" \
            --json 2>"$errlog" | last_json)
        if [ -z "$e" ]; then
            echo "compare_ort: edgeai failed on $m (threads $t): $(tail -n 3 "$errlog")" >&2
            failed=1
            e=null
        fi
        o=$(node "$root/bench/ort/ort_bench.js" "$m" "${inp[@]}" --threads "$t" --runs "$runs" \
            --warmup "$warmup" --json 2>"$errlog" | last_json)
        if [ -z "$o" ]; then
            echo "compare_ort: onnxruntime failed on $m (threads $t): $(tail -n 3 "$errlog")" >&2
            failed=1
            o=null
        fi
        printf '{"model":"%s","threads":%s,"edgeai":%s,"ort":%s}\n' \
            "$(basename "$m")" "$t" "$e" "$o" >>"$results"
    done
done

mkdir -p "$root/bench/results"
node - "$results" "$root/bench/results/ort_compare.csv" <<'EOF'
const fs = require('fs');
const [resFile, csvFile] = process.argv.slice(2);
const rows = fs.readFileSync(resFile, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
const mib = (r) => (r ? r.peak_rss_bytes / 1048576 : null);
const bad = (x) => x === null || x === undefined || Number.isNaN(x);
const fix = (x, d) => (bad(x) ? 'fail' : x.toFixed(x < 1 && d >= 3 ? d + 2 : d));
const sig = (x) => (bad(x) ? 'fail' : x.toPrecision(3));
const head = ['model', 'threads', 'edgeai p50 ms', 'ORT p50 ms', 'edgeai/ORT', 'edgeai RSS MiB', 'ORT RSS MiB'];
const table = rows.map((r) => {
  const e = r.edgeai, o = r.ort;
  return [r.model, String(r.threads), fix(e && e.p50_ms, 3), fix(o && o.p50_ms, 3),
    sig(e && o ? e.p50_ms / o.p50_ms : null), fix(mib(e), 1), fix(mib(o), 1)];
});
const w = head.map((h, i) => Math.max(h.length, ...table.map((r) => r[i].length)));
const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ');
console.log(line(head));
console.log(w.map((n) => '-'.repeat(n)).join('  '));
for (const r of table) console.log(line(r));

const cols = ['model', 'threads', 'edgeai_p50_ms', 'ort_p50_ms', 'ratio_edgeai_over_ort',
  'edgeai_min_ms', 'ort_min_ms', 'edgeai_p99_ms', 'ort_p99_ms', 'edgeai_ips', 'ort_ips',
  'edgeai_rss_mib', 'ort_rss_mib', 'edgeai_arena_bytes'];
const v = (x, d) => (x === null || x === undefined ? '' : (d === undefined ? String(x) : x.toFixed(d)));
const csv = [cols.join(',')];
for (const r of rows) {
  const e = r.edgeai || {}, o = r.ort || {};
  csv.push([r.model, r.threads, v(e.p50_ms, 4), v(o.p50_ms, 4),
    v(r.edgeai && r.ort ? e.p50_ms / o.p50_ms : null, 4), v(e.min_ms, 4), v(o.min_ms, 4),
    v(e.p99_ms, 4), v(o.p99_ms, 4), v(e.ips, 2), v(o.ips, 2), v(mib(r.edgeai), 2),
    v(mib(r.ort), 2), v(e.arena_bytes)].join(','));
}
fs.writeFileSync(csvFile, csv.join('\n') + '\n');
console.log(`\nCSV: ${csvFile}`);
EOF
exit $failed
