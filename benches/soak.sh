#!/usr/bin/env bash
# Soak run (#17): `lookout run` with two looping cameras on the bundled street video for a long time
# while its MQTT broker is restarted every RESTART_S seconds. Samples the daemon's RSS, open fds and
# threads every SAMPLE_S seconds, subscribes to every event with a persistent QoS 1 session, and at the
# end checks that each camera's event `seq` is contiguous from 0 (nothing lost; repeats allowed) and
# that lookout counted no dropped event.
#
#   benches/soak.sh [--duration S] [--restart S] [--down S] [--sample S] [--fps N] [--out DIR] [--bin PATH]
#
# Pass: RSS growth < 2 MB after warm-up (median of the last 5 minutes vs the 5 minutes after
# warm-up), fds and threads flat (the largest value after warm-up is within the warm-up range),
# 0 events lost. Not run in CI (an hour); results go to docs/reliability.md.
set -euo pipefail
cd "$(dirname "$0")/.."

duration=3600 restart=60 down=3 sample=10 fps=5 warmup=300
out=target/soak/$(date -u +%Y%m%dT%H%M%SZ)
bin=target/release/lookout
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration=$2; shift 2 ;;
    --restart) restart=$2; shift 2 ;;
    --down) down=$2; shift 2 ;;
    --sample) sample=$2; shift 2 ;;
    --fps) fps=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --bin) bin=$2; shift 2 ;;
    *) echo "soak: unknown argument $1 (see the header of $0)" >&2; exit 2 ;;
  esac
done
[ -x "$bin" ] || { echo "soak: no binary at $bin: cargo build --release first, or --bin PATH" >&2; exit 2; }
command -v mosquitto >/dev/null && command -v mosquitto_sub >/dev/null ||
  { echo "soak: needs mosquitto and mosquitto_sub (.ci/setup.sh installs them)" >&2; exit 2; }
mkdir -p "$out/broker"
# Started as root, mosquitto drops to its own user: it must be able to write its persistence file,
# or a restart forgets the subscriber's session and what was queued for it.
chmod 777 "$out/broker"
out=$(cd "$out" && pwd)

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
admin=$(free_port)

cat > "$out/broker/mosquitto.conf" <<EOF
listener $port 127.0.0.1
allow_anonymous true
persistence true
persistence_location $out/broker/
autosave_interval 5
max_queued_messages 100000
EOF
broker_pid=
start_broker() {
  mosquitto -c "$out/broker/mosquitto.conf" >>"$out/broker.log" 2>&1 &
  broker_pid=$!
  for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0; sleep 0.1; done
  echo "soak: mosquitto did not start on $port (see $out/broker.log)" >&2; return 1
}
stop_broker() { kill -TERM "$broker_pid" 2>/dev/null || true; wait "$broker_pid" 2>/dev/null || true; }

cat > "$out/lookout.toml" <<EOF
[detector]
model = "$PWD/models/nanodet-m-fp32.toml"
threads = 1

[mqtt]
url = "mqtt://127.0.0.1:$port"
device = "soak"
topic_prefix = "soak"

[admin]
listen = "127.0.0.1:$admin"

[[cameras]]
name = "a"
source = "$PWD/tests/data/vtest.avi"
loop = true
fps = $fps

[[cameras]]
name = "b"
source = "$PWD/tests/data/vtest.avi"
loop = true
fps = $fps
EOF

start_broker
# Events, QoS 1 with a persistent session: queued by the broker while this subscriber is away.
mosquitto_sub -p "$port" -i soak-events -c -q 1 -t 'soak/soak/+/events' -F '%t %p' >"$out/events.txt" 2>"$out/sub.log" &
sub_pid=$!
"$bin" run --config "$out/lookout.toml" --log-level info >"$out/lookout.log" 2>&1 &
pid=$!
cleanup() { kill "$pid" "$sub_pid" 2>/dev/null || true; stop_broker; }
trap cleanup EXIT

echo "soak: pid $pid, broker 127.0.0.1:$port, admin 127.0.0.1:$admin, $duration s, broker restart every $restart s; out $out" >&2
echo "t_s,rss_kb,fds,threads,frames_a,frames_b,rss_anon_kb,rss_file_kb" >"$out/samples.csv"
start=$(date +%s)
next_restart=$((start + restart))
next_sample=$start
while :; do
  now=$(date +%s)
  [ $((now - start)) -ge "$duration" ] && break
  kill -0 "$pid" 2>/dev/null || { echo "soak: lookout exited early (see $out/lookout.log)" >&2; exit 1; }
  if [ "$now" -ge "$next_restart" ]; then
    stop_broker; sleep "$down"; start_broker
    next_restart=$((next_restart + restart))
  fi
  if [ "$now" -ge "$next_sample" ]; then
    rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")
    # which memory grows, if any: anonymous (heap, stacks) or file-backed (the binary, libraries)
    anon=$(awk '/^RssAnon:/ {print $2}' "/proc/$pid/status")
    file=$(awk '/^RssFile:/ {print $2}' "/proc/$pid/status")
    thr=$(awk '/^Threads:/ {print $2}' "/proc/$pid/status")
    fds=$(ls "/proc/$pid/fd" | wc -l)
    m=$(curl -s --max-time 2 "http://127.0.0.1:$admin/metrics" || true)
    fa=$(printf '%s\n' "$m" | awk '/^lookout_frames_processed_total\{.*camera="a"/ {print $2}')
    fb=$(printf '%s\n' "$m" | awk '/^lookout_frames_processed_total\{.*camera="b"/ {print $2}')
    echo "$((now - start)),$rss,$fds,$thr,${fa:-},${fb:-},${anon:-},${file:-}" >>"$out/samples.csv"
    next_sample=$((next_sample + sample))
  fi
  sleep 1
done

# Final counters while the broker is up, then a clean stop (SIGTERM: lookout sends what it holds).
curl -s --max-time 5 "http://127.0.0.1:$admin/metrics" >"$out/metrics.txt" || true
kill -TERM "$pid"; wait "$pid" || true
# Let the subscriber drain what the broker still queues for it, then stop it.
for _ in $(seq 1 50); do
  before=$(wc -l <"$out/events.txt"); sleep 0.2; [ "$(wc -l <"$out/events.txt")" -eq "$before" ] && break
done
kill "$sub_pid" 2>/dev/null || true
trap - EXIT
stop_broker

python3 - "$out" "$warmup" <<'PY'
import csv, json, os, statistics, sys
out, warmup = sys.argv[1], float(sys.argv[2])
rows = [r for r in csv.DictReader(open(os.path.join(out, "samples.csv")))]
t = [float(r["t_s"]) for r in rows]
rss = [int(r["rss_kb"]) for r in rows]
fds = [int(r["fds"]) for r in rows]
thr = [int(r["threads"]) for r in rows]
end = t[-1]
win = 300.0
after = [i for i, x in enumerate(t) if warmup <= x < warmup + win]
last = [i for i, x in enumerate(t) if x >= end - win]
warm = [i for i, x in enumerate(t) if x < warmup + win]
post = [i for i, x in enumerate(t) if x >= warmup]
rss_growth_kb = statistics.median(rss[i] for i in last) - statistics.median(rss[i] for i in after)
def growth(col):
    v = [int(r[col]) if r.get(col) else 0 for r in rows]
    return statistics.median(v[i] for i in last) - statistics.median(v[i] for i in after)
fd_range = (min(fds[i] for i in warm), max(fds[i] for i in warm))
thr_range = (min(thr[i] for i in warm), max(thr[i] for i in warm))
fd_post_max, thr_post_max = max(fds[i] for i in post), max(thr[i] for i in post)

seqs = {}
runs = {}
for line in open(os.path.join(out, "events.txt"), errors="replace"):
    topic, _, payload = line.partition(" ")
    try:
        e = json.loads(payload)
    except ValueError:
        continue
    key = (e["camera"], e["run"])
    seqs.setdefault(key, set()).add(e["seq"])
lost = {}
for key, s in seqs.items():
    top = max(s)
    missing = [i for i in range(top + 1) if i not in s]
    lost[f"{key[0]} ({key[1]})"] = {"received": len(s), "max_seq": top, "missing": len(missing),
                                     "first_missing": missing[:10]}
dropped = 0.0
for line in open(os.path.join(out, "metrics.txt"), errors="replace"):
    if line.startswith("lookout_mqtt_events_dropped_total"):
        dropped += float(line.split()[-1])
broker_log = open(os.path.join(out, "broker.log"), errors="replace").read()
restarts = broker_log.count(" starting")
if "Error saving in-memory database" in broker_log:
    print("soak: the broker could not save its persistence file; its restarts lost queued messages", file=sys.stderr)
total_lost = sum(v["missing"] for v in lost.values())
ok = (rss_growth_kb < 2048 and fd_post_max <= fd_range[1] and thr_post_max <= thr_range[1]
      and total_lost == 0 and dropped == 0 and len(seqs) >= 2)
summary = {
    "duration_s": end, "samples": len(rows), "broker_starts": restarts,
    "rss_kb": {"after_warmup_median": statistics.median(rss[i] for i in after),
               "last_5min_median": statistics.median(rss[i] for i in last), "growth_kb": rss_growth_kb,
               "anon_growth_kb": growth("rss_anon_kb"), "file_growth_kb": growth("rss_file_kb"),
               "max": max(rss)},
    "fds": {"warmup_range": fd_range, "max_after_warmup": fd_post_max, "final": fds[-1]},
    "threads": {"warmup_range": thr_range, "max_after_warmup": thr_post_max, "final": thr[-1]},
    "frames_processed": {"a": rows[-1]["frames_a"], "b": rows[-1]["frames_b"]},
    "events": lost, "events_dropped_by_lookout": dropped, "pass": ok,
}
json.dump(summary, open(os.path.join(out, "summary.json"), "w"), indent=1)
print(json.dumps(summary, indent=1))
# A table every 5 minutes for docs/reliability.md.
with open(os.path.join(out, "table.md"), "w") as f:
    f.write("| t (min) | RSS (MiB) | anon (MiB) | fds | threads | frames a | frames b |\n|---|---|---|---|---|---|---|\n")
    step = 300.0
    nxt = 0.0
    for r in rows:
        if float(r["t_s"]) >= nxt:
            anon = int(r['rss_anon_kb']) / 1024 if r.get('rss_anon_kb') else float('nan')
            f.write(f"| {float(r['t_s'])/60:.0f} | {int(r['rss_kb'])/1024:.1f} | {anon:.1f} | {r['fds']} | {r['threads']} | {r['frames_a']} | {r['frames_b']} |\n")
            nxt += step
sys.exit(0 if ok else 1)
PY
