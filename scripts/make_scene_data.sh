#!/bin/sh
# Builds the synthetic intersection benchmark (src/scene, docs/scene.md) with
# one command, reproducibly: the same seeds give the same pixels and ground
# truth on every machine.
#   train: seeds 101..106, 150 frames at 2 fps each (75 s of traffic, frames
#          far enough apart to differ) -> detector and re-ID training
#   test:  seeds 201..203, 300 frames at 10 fps each (30 s) with a .y4m copy
#          -> held-out evaluation and the tracking benchmark (issue 6)
# usage: scripts/make_scene_data.sh [OUT_DIR]   (default build-scene-data/)
#        EDGEAI=path/to/edgeai to pick the binary
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-$ROOT/build-scene-data}
if [ -z "${EDGEAI:-}" ]; then
    for b in "$ROOT/build/edgeai" "$ROOT/build-scene/edgeai"; do
        if [ -x "$b" ]; then EDGEAI=$b; break; fi
    done
fi
if [ -z "${EDGEAI:-}" ] || [ ! -x "$EDGEAI" ]; then
    echo "make_scene_data: no edgeai binary (build it, or set EDGEAI=...)" >&2
    exit 1
fi
mkdir -p "$OUT/train" "$OUT/test"
for s in 101 102 103 104 105 106; do
    rm -rf "$OUT/train/scene-$s"
    "$EDGEAI" scene render --seed "$s" --frames 150 --fps 2 --out "$OUT/train/scene-$s"
done
for s in 201 202 203; do
    rm -rf "$OUT/test/scene-$s"
    "$EDGEAI" scene render --seed "$s" --frames 300 --fps 10 --y4m --out "$OUT/test/scene-$s"
done
echo "make_scene_data: sequences in $OUT/train and $OUT/test"
