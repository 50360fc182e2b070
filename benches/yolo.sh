#!/usr/bin/env bash
# What a YOLO model costs on lookout before a user brings one: the real YOLOv8n and YOLO11n
# architectures (random weights: target/models, from models/scripts/build_test_archs.sh) at 320 and
# 640, FP32 and INT8 (quantised by models/scripts/quantize_model.sh, calibrated on the street
# video), on tract and on onnxruntime; every configuration once per round, ROUNDS alternating rounds
# in one session, medians printed as a Markdown table with ratios against tract FP32 at the same size.
#   usage: benches/yolo.sh [FRAMES] [ROUNDS]        (env: THREADS=1 VIDEO=tests/data/vtest.avi)
set -euo pipefail
cd "$(dirname "$0")/.."
FRAMES="${1:-40}"; ROUNDS="${2:-3}"; THREADS="${THREADS:-1}"; VIDEO="${VIDEO:-tests/data/vtest.avi}"
OUT=target/yolo-bench; mkdir -p "$OUT"
.ci/setup.sh
cargo build --release -q --features onnxruntime
for arch in yolov8n yolo11n; do
  for size in 320 640; do
    int8="target/models/$arch-$size-int8.onnx"
    [ -s "$int8" ] || models/scripts/quantize_model.sh "target/models/$arch-$size.onnx" "$VIDEO" \
      --out "$int8" --frames 32 --holdout 8 --lookout target/release/lookout >/dev/null
  done
done
for round in $(seq 1 "$ROUNDS"); do
  echo "round $round/$ROUNDS" >&2
  for size in 320 640; do
    for arch in yolov8n yolo11n; do
      for p in fp32 int8; do
        model="target/models/$arch-$size.onnx"; [ "$p" = int8 ] && model="target/models/$arch-$size-int8.onnx"
        for engine in tract onnxruntime; do
          target/release/lookout bench "$VIDEO" --json --frames "$FRAMES" --warmup 5 --threads "$THREADS" \
            --model "$model" --engine "$engine" --classes all > "$OUT/$arch-$size-$p-$engine-$round.json"
        done
      done
    done
  done
done
python3 - "$OUT" "$ROUNDS" <<'PY'
import json, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
def med(arch, size, p, engine, key):
    vals = []
    for r in range(1, rounds + 1):
        j = json.load(open(f"{out}/{arch}-{size}-{p}-{engine}-{r}.json"))
        vals.append(j["stages_ms"]["inference"]["p50"] if key == "inf" else j["throughput_fps"])
    return statistics.median(vals)
first = json.load(open(f"{out}/yolov8n-320-fp32-tract-1.json"))
print(f"machine: {first['machine']['cpu']}, {first['threads']} thread(s), medians of {rounds} alternating rounds")
print("| model | input | precision | engine | inference p50 ms | × tract FP32 | fps |")
print("|---|---|---|---|---|---|---|")
for arch in ["yolov8n", "yolo11n"]:
    for size in [320, 640]:
        base = med(arch, size, "fp32", "tract", "inf")
        for p in ["fp32", "int8"]:
            for engine in ["tract", "onnxruntime"]:
                inf = med(arch, size, p, engine, "inf")
                print(f"| {arch} | {size}×{size} | {p.upper()} | {engine} | {inf:.1f} | {inf / base:.2f} | {med(arch, size, p, engine, 'fps'):.1f} |")
PY
