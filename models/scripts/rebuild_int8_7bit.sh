#!/usr/bin/env bash
# The shipped INT8 model with 7-bit weights, its golden detections, and the proof that every x86-64 kernel
# family gives the same onnxruntime outputs. One command from the repository root, PyPI only:
#   bash models/scripts/rebuild_int8_7bit.sh
# 1. requantises the weights of models/nanodet_m_416_coco_int8_qdq_u8s8.onnx to [-63, 63] from the FP32
#    model's float weights (reduce_range_weights.py; activations untouched). Run on its own output it gives
#    the same bytes, so the shipped file can be its own input; INT8_IN=<file> takes build_models.sh's
#    full-range one instead.
# 2. rebuilds tests/data/reference_detections.json (make_reference.py: onnxruntime CPU, 1 thread, media
#    from tests/data; the FP32 entries come out unchanged).
# 3. if qemu-x86_64 is installed, compares the raw outputs natively and as an AVX2-only CPU
#    (`-cpu Haswell`); they must be identical.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"; cd "$ROOT"
WORK="$(mktemp -d)"; trap 'rm -rf "$WORK"' EXIT
PY="$(VENV="${VENV:-target/models-venv}" bash models/scripts/python_env.sh)"; S=models/scripts
FP32=models/nanodet_m_416_coco_fp32.onnx; INT8=models/nanodet_m_416_coco_int8_qdq_u8s8.onnx
"$PY" $S/reduce_range_weights.py "${INT8_IN:-$INT8}" $FP32 "$WORK/int8.onnx" | tail -1
cp "$WORK/int8.onnx" $INT8
export MEDIA_DIR="${MEDIA_DIR:-$ROOT/tests/data}"
"$PY" $S/make_reference.py $FP32 $INT8 "$WORK/ref" >/dev/null
cp "$WORK/ref/reference_detections.json" tests/data/reference_detections.json
if command -v qemu-x86_64 >/dev/null; then
  "$PY" $S/ort_outputs.py dump $INT8 "$WORK/native.npz" >/dev/null
  qemu-x86_64 -cpu Haswell "$PY" $S/ort_outputs.py dump $INT8 "$WORK/avx2.npz" 2>/dev/null >/dev/null
  "$PY" $S/ort_outputs.py compare "$WORK/native.npz" "$WORK/avx2.npz" | tail -1
else
  echo "qemu-x86_64 not installed (apt-get install qemu-user): AVX2-only comparison skipped" >&2
fi
sha256sum $INT8
