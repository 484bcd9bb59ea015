#!/usr/bin/env bash
# The issue-3 table (edgeai vs ONNX Runtime: latency, INT8, cold start, RSS,
# sizes) in one command; see docs/bench.md and `bench/issue3.sh --help`.
#   bench/issue3.sh            full table (5 models, 1 and 2 threads; < 20 min on 2 cores)
#   bench/issue3.sh --quick    mobilenet_v2, fewer runs (checks the setup in ~1 min)
# EAI_CLI (default build/edgeai) and EAI_ZOO_DIR (default build/zoo) as for the tests.
set -euo pipefail
exec /usr/bin/python3 "$(dirname "$0")/issue3.py" "$@"
