#!/usr/bin/env bash
# Builds the instruction-counting qemu plugin (insn_count.c) into target/qemu-insn/.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p target/qemu-insn
gcc -O2 -shared -fPIC -o target/qemu-insn/libinsn_count.so systemd/qemu-insn/insn_count.c
echo target/qemu-insn/libinsn_count.so
