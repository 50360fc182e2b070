#!/usr/bin/env bash
# Installs what lookout's main job and tests need on a fresh Debian/Ubuntu machine, and makes sure an
# MQTT broker listens on 127.0.0.1:1883. Idempotent: it installs only what is missing.
set -euo pipefail

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

need=()
command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)
command -v ffprobe >/dev/null 2>&1 || need+=(ffmpeg)
command -v mosquitto >/dev/null 2>&1 || need+=(mosquitto)
command -v mosquitto_sub >/dev/null 2>&1 || need+=(mosquitto-clients)
# nokhwa's V4L2 bindings (default feature `v4l2`) run bindgen, which needs libclang.
dpkg -s libclang-dev >/dev/null 2>&1 || need+=(libclang-dev)
# `systemd-analyze verify` checks the unit file in the tests.
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
# tests/golden.rs re-runs the INT8 golden cases as an AVX2-only CPU under `qemu-x86_64 -cpu Haswell`.
command -v qemu-x86_64 >/dev/null 2>&1 || need+=(qemu-user)
# systemd/build-deb.sh (tests/deb_package.rs) strips the binary and reads the glibc version it
# needs with binutils (there wherever Rust links); dpkg-deb is part of dpkg itself.
{ command -v strip && command -v readelf; } >/dev/null 2>&1 || need+=(binutils)
# tests/cli_docs.rs renders the generated manual pages with groff; tests/deb_package.rs loads the
# installed bash completion through bash-completion's loader, as an interactive shell would.
command -v groff >/dev/null 2>&1 || need+=(groff-base)
[ -f /usr/share/bash-completion/bash_completion ] || need+=(bash-completion)
# LOOKOUT_ARM64=1: also cross-compile for arm64 (systemd/cross-arm64.sh: linker, libc and kernel headers
# for bindgen); tests/golden.rs then runs that binary under qemu-aarch64 (qemu-user, above). Off by
# default: it is a second full build of tract (14 to 40 min on 2 cores), which CI's time cannot hold.
ARM64="${LOOKOUT_ARM64:-0}"
if [ "$ARM64" = 1 ]; then
  command -v aarch64-linux-gnu-gcc >/dev/null 2>&1 || need+=(gcc-aarch64-linux-gnu)
  dpkg -s libc6-dev-arm64-cross >/dev/null 2>&1 || need+=(libc6-dev-arm64-cross)
  dpkg -s linux-libc-dev-arm64-cross >/dev/null 2>&1 || need+=(linux-libc-dev-arm64-cross)
fi
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# Rust's standard library for the arm64 target (systemd/cross-arm64.sh).
if [ "$ARM64" = 1 ] && ! rustup target list --installed 2>/dev/null | grep -qx aarch64-unknown-linux-gnu; then
  echo "setup: rustup target add aarch64-unknown-linux-gnu" >&2
  rustup target add aarch64-unknown-linux-gnu
fi

listening() { (exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null; }
if ! listening; then
  echo "setup: starting mosquitto on 127.0.0.1:1883" >&2
  mosquitto -d -p 1883 2>/dev/null || as_root mosquitto -d -p 1883
  for _ in $(seq 1 100); do listening && break; sleep 0.1; done
  listening || { echo "setup: mosquitto did not start on 1883" >&2; exit 1; }
fi

# onnxruntime's shared library for the optional onnxruntime engine (cargo feature `onnxruntime`):
# taken from the PyPI wheel, unpacked into target/onnxruntime/, where lookout looks for it.
ORT_VERSION=1.32.0
ORT_DIR=target/onnxruntime
if ! ls "$ORT_DIR"/libonnxruntime.so* >/dev/null 2>&1; then
  echo "setup: fetching libonnxruntime.so from the onnxruntime $ORT_VERSION wheel" >&2
  mkdir -p "$ORT_DIR/wheel"
  python3 -m pip download -q --no-deps --only-binary=:all: -d "$ORT_DIR/wheel" "onnxruntime==$ORT_VERSION"
  python3 - "$ORT_DIR" <<'PY'
import glob, os, sys, zipfile
out = sys.argv[1]
wheel = sorted(glob.glob(os.path.join(out, "wheel", "onnxruntime-*.whl")))[-1]
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        base = os.path.basename(name)
        if name.startswith("onnxruntime/capi/") and base.startswith("libonnxruntime.so"):
            with open(os.path.join(out, base), "wb") as f:
                f.write(z.read(name))
PY
  rm -rf "$ORT_DIR/wheel"
fi

# py-motmetrics' TUD-Campus/TUD-Stadtmitte ground truth and tracker output, against whose published metrics
# tests/mot_metrics.rs checks lookout's: taken from the motmetrics 1.4.0 wheel into target/motmetrics/. The files
# are licensed for non-commercial use only, so they are fetched here and never committed.
MM_VERSION=1.4.0
MM_DIR=target/motmetrics
if ! ls "$MM_DIR"/TUD-Campus/gt.txt "$MM_DIR"/TUD-Campus/test.txt \
     "$MM_DIR"/TUD-Stadtmitte/gt.txt "$MM_DIR"/TUD-Stadtmitte/test.txt >/dev/null 2>&1; then
  echo "setup: fetching the TUD test sequences from the motmetrics $MM_VERSION wheel" >&2
  mm_wheel_dir=$(mktemp -d)
  python3 -m pip download -q --no-deps --only-binary=:all: -d "$mm_wheel_dir" "motmetrics==$MM_VERSION"
  python3 - "$MM_DIR" "$mm_wheel_dir" <<'PY'
import glob, os, re, sys, zipfile
out, wheel_dir = sys.argv[1], sys.argv[2]
wheel = sorted(glob.glob(os.path.join(wheel_dir, "motmetrics-*.whl")))[-1]
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        m = re.fullmatch(r"motmetrics/data/(TUD-[^/]+)/((gt|test)\.txt)", name)
        if m:
            os.makedirs(os.path.join(out, m.group(1)), exist_ok=True)
            with open(os.path.join(out, m.group(1), m.group(2)), "wb") as f:
                f.write(z.read(name))
PY
  rm -rf "$mm_wheel_dir"
fi

# promtool, which checks config/prometheus/lookout-alerts.yml in tests/dashboards.rs: unpacked from
# Debian's prometheus package into target/prometheus/ without installing it (no service starts).
if [ ! -x target/prometheus/usr/bin/promtool ]; then
  echo "setup: fetching promtool from Debian's prometheus package" >&2
  prom_dir=$(mktemp -d)
  if ! (cd "$prom_dir" && apt-get download -qq prometheus 2>/dev/null); then
    as_root apt-get update -qq
    (cd "$prom_dir" && apt-get download -qq prometheus)
  fi
  dpkg-deb -x "$prom_dir"/prometheus_*.deb target/prometheus
  rm -rf "$prom_dir"
fi

# cargo-deny, for tests/dependencies.rs (licences and banned crates, offline; .ci/deny.toml).
if ! cargo deny --version >/dev/null 2>&1; then
  echo "setup: cargo install --locked cargo-deny" >&2
  cargo install --locked --quiet cargo-deny
fi
# Every crate in Cargo.lock, the optional engines' included, so that the offline licence check reads
# the whole graph (a build fetches only what its features use).
cargo fetch --locked --quiet

# Random-weight YOLOv8n and YOLO11n architectures (no YOLO weights can be downloaded here) for
# tests/yolo_arch.rs and the YOLO rows of docs/performance.md: built from their definitions into
# target/models/ by a pinned Python venv (target/models-venv); skipped when they exist.
bash models/scripts/build_test_archs.sh >/dev/null

# The arm64 binary, with LOOKOUT_ARM64=1 (systemd/cross-arm64.sh: Debian's cross toolchain above, its
# own dependency tree under target/aarch64-unknown-linux-gnu; 14 to 40 min from scratch on 2 cores,
# seconds after): tests/golden.rs runs it under qemu-aarch64 as CPUs with and without the dot-product
# extension, and systemd/build-deb.sh --arch arm64 packages it. Without it that test says it skipped.
if [ "$ARM64" = 1 ]; then
  systemd/cross-arm64.sh >&2
fi
