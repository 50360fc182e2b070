#!/usr/bin/env bash
# Quantise your own FP32 ONNX detector to INT8 for lookout, calibrated on your own video: one command.
#   models/scripts/quantize_model.sh MODEL.onnx VIDEO --out MODEL-int8.onnx [--frames 64] [--holdout 32]
#       [--weights 7bit|8bit] [--lookout target/release/lookout] [--manifest MODEL.toml] [--report R.json]
# Sets up the pinned Python environment (models/scripts/python_env.sh: target/models-venv, PyPI only)
# and runs quantize_model.py with the same arguments; --help lists them all. Needs ffmpeg and ffprobe.
# Paths are taken relative to the current directory.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
PY="$(bash "$HERE/python_env.sh")"
exec "$PY" "$HERE/quantize_model.py" "$@"
