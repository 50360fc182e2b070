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
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

listening() { (exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null; }
if ! listening; then
  echo "setup: starting mosquitto on 127.0.0.1:1883" >&2
  mosquitto -d -p 1883 2>/dev/null || as_root mosquitto -d -p 1883
  for _ in $(seq 1 100); do listening && break; sleep 0.1; done
  listening || { echo "setup: mosquitto did not start on 1883" >&2; exit 1; }
fi
