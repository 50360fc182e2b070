#!/usr/bin/env bash
# Create or update the pinned Python environment used by the model scripts, then print its python path.
#   usage: bash models/scripts/python_env.sh            (from anywhere; VENV=... overrides the location)
#   PY="$(bash models/scripts/python_env.sh)"
# Idempotent: when VENV already holds exactly these pins, nothing is installed (no network access).
# PyPI only; all chatter goes to stderr so that stdout is just the python path.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
VENV="${VENV:-$ROOT/target/models-venv}"
PINS=(onnx==1.23.2 onnxruntime==1.32.0 numpy==2.4.6 opencv-python-headless==5.0.0.93)
PY="$VENV/bin/python"
have_pins() {
  [ -x "$PY" ] || return 1
  local frozen; frozen="$("$PY" -m pip freeze --disable-pip-version-check 2>/dev/null)" || return 1
  local p; for p in "${PINS[@]}"; do grep -qix "$p" <<<"$frozen" || return 1; done
}
if ! have_pins; then
  [ -x "$PY" ] || python3 -m venv "$VENV" >&2
  echo "python_env.sh: installing ${PINS[*]} into $VENV" >&2
  "$PY" -m pip install -q --disable-pip-version-check "${PINS[@]}" >&2
  have_pins || { echo "python_env.sh: pins still missing in $VENV" >&2; exit 1; }
fi
echo "$PY"
