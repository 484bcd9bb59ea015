#!/usr/bin/env bash
# A/B of edgeai's own AVX-512 float GEMM (pointwise convs, Winograd's
# products; docs/xnnpack.md) against XNNPACK's, same binary: the plans of
# bench/issue3.sh, alternating EAI_XNN_NO_SGEMM=1 (XNNPACK's) and the
# default (edgeai's), ROUNDS rounds, p50 of RUNS invokes each, the ratio
# printed per model and round. Run bench/issue3.sh first (it builds the plans).
#   bench/sgemm_ab.sh [THREADS]      (env: ROUNDS=2 RUNS=60 EAI_CLI=build/edgeai)
set -euo pipefail
cd "$(dirname "$0")/.."
CLI=${EAI_CLI:-build/edgeai}
PLANS=build/bench-issue3/plans
TH=${1:-1}
p50() { "$CLI" bench "$1" --threads "$TH" --runs "${RUNS:-60}" --json |
    /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["p50_ms"])'; }
for m in mobilenet_v2 mobilenet_v3_large resnet18 yolo_tiny yolo_tiny_640; do
    [ -f "$PLANS/$m.fp32.eai" ] || { echo "$PLANS/$m.fp32.eai missing: run bench/issue3.sh" >&2; exit 1; }
    for r in $(seq "${ROUNDS:-2}"); do
        x=$(EAI_XNN_NO_SGEMM=1 p50 "$PLANS/$m.fp32.eai")
        o=$(p50 "$PLANS/$m.fp32.eai")
        echo "$m threads $TH round $r: XNNPACK GEMM $x ms, edgeai GEMM $o ms, ratio $(
            /usr/bin/python3 -c "print(f'{$o / $x:.3f}')")"
    done
done
