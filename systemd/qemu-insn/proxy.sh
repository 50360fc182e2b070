#!/usr/bin/env bash
# An instruction-count proxy for FP32 vs INT8 inference on arm64, under qemu-aarch64: counts the
# guest instructions of `lookout detect` on 1 and on 3 copies of an image, and reports the
# difference / 2, i.e. one frame (decode, preprocess, inference, postprocess: inference is nearly
# all of it). A PROXY, not a time: it ignores cycles per instruction, memory, and SIMD widths (one
# SDOT does 16 multiply-adds, one FMLA 4). Needs the arm64 binary (systemd/cross-arm64.sh).
#
#   systemd/qemu-insn/proxy.sh [IMAGE] [CPU...]    (default tests/data/bus.jpg; cortex-a76 cortex-a72)
set -euo pipefail
cd "$(dirname "$0")/../.."
plugin=$(systemd/qemu-insn/build.sh)
exe=target/aarch64-unknown-linux-gnu/release/lookout
[ -x "$exe" ] || { echo "proxy: no $exe: run systemd/cross-arm64.sh" >&2; exit 1; }
image=${1:-tests/data/bus.jpg}
shift || true
cpus=("$@")
[ ${#cpus[@]} -gt 0 ] || cpus=(cortex-a76 cortex-a72)

count() { # cpu, rewrite (1/0), precision, images...
  local cpu=$1 rewrite=$2 precision=$3
  shift 3
  LOOKOUT_TRACT_REWRITE=$rewrite qemu-aarch64 -plugin "$plugin" -L /usr/aarch64-linux-gnu -cpu "$cpu" \
    "$exe" detect --threads 1 --model "models/nanodet-m-$precision.toml" "$@" 2>&1 >/dev/null |
    sed -n 's/^insn_count: //p'
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '%-11s %-22s %16s\n' cpu configuration "insns per frame"
for cpu in "${cpus[@]}"; do
  for cfg in fp32:1 int8:1 int8:0; do
    precision=${cfg%:*} rewrite=${cfg#*:}
    # both runs at once (one thread each)
    count "$cpu" "$rewrite" "$precision" "$image" >"$tmp/one" &
    count "$cpu" "$rewrite" "$precision" "$image" "$image" "$image" >"$tmp/three"
    wait
    one=$(cat "$tmp/one") three=$(cat "$tmp/three")
    label=$precision
    [ "$precision" = int8 ] && { [ "$rewrite" = 1 ] && label="int8 (rewrite if SDOT)" || label="int8, rewrite off"; }
    printf '%-11s %-22s %16d\n' "$cpu" "$label" $(( (three - one) / 2 ))
  done
done
