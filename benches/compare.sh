#!/usr/bin/env bash
# Side-by-side: lookout (tract engine, and onnxruntime engine) vs the Python peer (OpenCV +
# onnxruntime + paho-mqtt) on the same video, model, input size and thread count, run alternately
# ROUNDS times in one session, and printed as ratios (lookout / peer). Installs the peer's pinned
# packages in a venv under target/.
#   usage: benches/compare.sh [VIDEO] [FRAMES] [ROUNDS]      (env: THREADS=1 MQTT=mqtt://127.0.0.1:1883)
set -euo pipefail
cd "$(dirname "$0")/.."
VIDEO="${1:-tests/data/vtest.avi}"; FRAMES="${2:-200}"; ROUNDS="${3:-3}"
THREADS="${THREADS:-1}"; MQTT="${MQTT:-mqtt://127.0.0.1:1883}"
VENV=target/peer-venv; OUT=target/compare; mkdir -p "$OUT"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q -r benches/peer/requirements.txt
fi
.ci/setup.sh
cargo build --release -q --features onnxruntime
for round in $(seq 1 "$ROUNDS"); do
  for p in fp32 int8; do
    onnx=models/nanodet_m_416_coco_fp32.onnx; [ "$p" = int8 ] && onnx=models/nanodet_m_416_coco_int8_qdq_u8s8.onnx
    echo "round $round/$ROUNDS: $p" >&2
    for engine in tract onnxruntime; do
      target/release/lookout bench "$VIDEO" --json --frames "$FRAMES" --precision "$p" --threads "$THREADS" --mqtt "$MQTT" \
        --engine "$engine" > "$OUT/lookout-$engine-$p-$round.json"
    done
    "$VENV/bin/python" benches/peer/peer.py "$VIDEO" "$onnx" --frames "$FRAMES" --precision "$p" --threads "$THREADS" --mqtt "$MQTT" \
      > "$OUT/peer-$p-$round.json"
  done
done
"$VENV/bin/python" - "$OUT" "$ROUNDS" "$THREADS" <<'PY'
import json, statistics, sys
out, rounds, threads = sys.argv[1], int(sys.argv[2]), sys.argv[3]
load = lambda name: [json.load(open(f'{out}/{name}-{r}.json')) for r in range(1, rounds + 1)]
def med(reports, f): return statistics.median(f(r) for r in reports)
rows = [
    ('throughput (fps)', lambda r: r['throughput_fps']),
    ('end-to-end p50 (ms)', lambda r: r['stages_ms']['total']['p50']),
    ('end-to-end p99 (ms)', lambda r: r['stages_ms']['total']['p99']),
    ('inference mean (ms)', lambda r: r['stages_ms']['inference']['mean']),
    ('non-inference mean (ms)', lambda r: r['non_inference_ms']),
    ('CPU per frame (ms)', lambda r: r['cpu_ms_per_frame']),
    ('peak RSS (MB)', lambda r: r['peak_rss_mb']),
]
m = json.load(open(f'{out}/lookout-tract-fp32-1.json'))['machine']
print(f"machine: {m['cpu']}, {m['logical_cpus']} logical CPUs; {threads} inference thread(s); medians of {rounds} alternating rounds")
for p in ('fp32', 'int8'):
    tr, ox, pe = load(f'lookout-tract-{p}'), load(f'lookout-onnxruntime-{p}'), load(f'peer-{p}')
    print(f"\n{p} (peer: onnxruntime {pe[0]['onnxruntime']}, opencv {pe[0]['opencv']})")
    print("| metric | lookout tract | lookout onnxruntime | peer | tract/peer | onnxruntime/peer |")
    print("|---|---|---|---|---|---|")
    for name, f in rows:
        a, b, c = med(tr, f), med(ox, f), med(pe, f)
        print(f"| {name} | {a:.2f} | {b:.2f} | {c:.2f} | {a / c:.2f} | {b / c:.2f} |")
PY
