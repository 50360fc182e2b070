#!/usr/bin/env bash
# Random-weight YOLOv8n and YOLO11n (real architectures, Ultralytics-export-shaped ONNX) for speed and shape
# tests, at 640 and 320: target/models/{yolov8n,yolo11n}-{640,320}.onnx (about 12.6 and 10.5 MB each).
#   usage: bash models/scripts/build_test_archs.sh        (from anywhere; PyPI only, for the venv)
# Idempotent: a model that already exists is kept. About 5 s for all four (2 busy cores) once the venv exists
# (creating the venv: ~30 s more). FORCE=1 rebuilds them. The bytes are the same on every run.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"; cd "$ROOT"
OUT="${OUT:-target/models}"; mkdir -p "$OUT"
PY=""
for arch in yolov8n yolo11n; do
  for size in 640 320; do
    f="$OUT/$arch-$size.onnx"
    if [ -s "$f" ] && [ -z "${FORCE:-}" ]; then continue; fi
    [ -n "$PY" ] || PY="$(bash models/scripts/python_env.sh)"
    "$PY" models/scripts/build_yolo_arch.py --arch "$arch" --imgsz "$size" --out "$f"
  done
done
ls -l "$OUT"/{yolov8n,yolo11n}-{640,320}.onnx | awk '{print $5, $9}'
