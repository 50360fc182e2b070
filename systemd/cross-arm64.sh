#!/usr/bin/env bash
# Cross-compiles lookout for 64-bit ARM Linux (aarch64-unknown-linux-gnu: Raspberry Pi 4/5, Jetson
# Orin, Rockchip boards) on an x86-64 Debian/Ubuntu machine, and runs its golden tests under
# qemu-aarch64. Installs nothing: .ci/setup.sh installs what it needs (gcc-aarch64-linux-gnu,
# libc6-dev-arm64-cross, linux-libc-dev-arm64-cross, libclang-dev, qemu-user and
# `rustup target add aarch64-unknown-linux-gnu`).
#
#   systemd/cross-arm64.sh                build target/aarch64-unknown-linux-gnu/release/lookout
#   systemd/cross-arm64.sh test [CPU...]  also cross-compile the golden and rewrite tests and run
#                                           them under `qemu-aarch64 -cpu CPU` for each CPU
#                                           (default: cortex-a76, with the dot-product extension,
#                                           as in a Raspberry Pi 5; cortex-a72, without, as in a
#                                           Raspberry Pi 4)
#
# Default features (V4L2 cameras on); not the onnxruntime engine, whose library is x86-64 here.
# The target's own directory (target/aarch64-unknown-linux-gnu/) keeps the host build untouched.
# How: the linker and the C compiler (tract's assembly kernels, ring, mozjpeg) are Debian's
# aarch64-linux-gnu-gcc; bindgen (nokhwa's V4L2 bindings) runs the host's libclang for the
# target, and finds the arm64 kernel and libc headers through the cross sysroot.
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET=aarch64-unknown-linux-gnu
SYSROOT=/usr/aarch64-linux-gnu

missing=()
command -v aarch64-linux-gnu-gcc >/dev/null 2>&1 || missing+=("gcc-aarch64-linux-gnu")
[ -f "$SYSROOT/include/linux/videodev2.h" ] || missing+=("linux-libc-dev-arm64-cross")
[ -f "$SYSROOT/include/stdio.h" ] || missing+=("libc6-dev-arm64-cross")
rustup target list --installed 2>/dev/null | grep -qx "$TARGET" || missing+=("rustup target $TARGET")
if [ ${#missing[@]} -gt 0 ]; then
  echo "cross-arm64: missing ${missing[*]}: run .ci/setup.sh" >&2
  exit 1
fi

export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc
export AR_aarch64_unknown_linux_gnu=aarch64-linux-gnu-ar
export BINDGEN_EXTRA_CLANG_ARGS_aarch64_unknown_linux_gnu="--sysroot=$SYSROOT -I$SYSROOT/include"

started=$(date +%s)
cargo build --release --target "$TARGET"
echo "cross-arm64: built target/$TARGET/release/lookout in $(( $(date +%s) - started )) s" >&2

[ "${1:-}" = test ] || exit 0
shift
command -v qemu-aarch64 >/dev/null 2>&1 || { echo "cross-arm64: no qemu-aarch64: install qemu-user" >&2; exit 1; }
cpus=("$@")
[ ${#cpus[@]} -gt 0 ] || cpus=(cortex-a76 cortex-a72)

# The golden cases (tract; onnxruntime is not built) and the rewrite's comparisons with tract's
# own graph, FP32 and INT8; the library's rewrite unit tests (which int8 kernel tract picks).
GOLDEN=(fp32_matches_reference_on_images int8_matches_reference_on_images video_frame_100_matches_reference)
REWRITE=(fp32_rewritten_graph_gives_bitwise_the_same_outputs int8_rewritten_graph_stays_within_the_stated_tolerance)
started=$(date +%s)
cargo test --release --target "$TARGET" --lib --test golden --test rewrite --no-run
echo "cross-arm64: built the test executables in $(( $(date +%s) - started )) s" >&2
for cpu in "${cpus[@]}"; do
  export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64 -L $SYSROOT -cpu $cpu"
  started=$(date +%s)
  cargo test --release --target "$TARGET" --lib detect::rewrite -- --nocapture 2>&1 | grep -E "int8 kernel here|test result|FAILED|panicked"
  cargo test --release --target "$TARGET" --test golden -- --exact "${GOLDEN[@]}"
  cargo test --release --target "$TARGET" --test rewrite -- --exact "${REWRITE[@]}" --nocapture
  echo "cross-arm64: tests under qemu-aarch64 -cpu $cpu passed in $(( $(date +%s) - started )) s" >&2
done
