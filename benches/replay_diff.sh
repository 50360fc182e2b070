#!/usr/bin/env bash
# Compares what two lookout builds print for `replay tests/data/vtest.avi`, apart from the fields
# that legitimately differ between runs (timestamps and latencies). Used to show that a refactor
# changed no output: benches/replay_diff.sh OLD_BINARY NEW_BINARY [extra replay flags...]
# NEW_FLAGS adds flags for the new binary only: NEW_FLAGS=--no-track compares a build with tracking
# (on by default since #13) against one from before it.
set -euo pipefail
cd "$(dirname "$0")/.."
old=${1:?usage: replay_diff.sh OLD_BINARY NEW_BINARY [replay flags]}
new=${2:?usage: replay_diff.sh OLD_BINARY NEW_BINARY [replay flags]}
shift 2
strip() {
  python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    m.pop("captured_at", None)
    m.pop("latency_ms", None)
    print(json.dumps(m, sort_keys=True))
'
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$old" replay tests/data/vtest.avi --device diff --camera vtest "$@" | strip >"$tmp/old.jsonl"
# shellcheck disable=SC2086 # NEW_FLAGS is a list of flags
"$new" replay tests/data/vtest.avi --device diff --camera vtest "$@" ${NEW_FLAGS:-} | strip >"$tmp/new.jsonl"
lines=$(wc -l <"$tmp/old.jsonl")
if [ "$lines" -eq 0 ]; then
  echo "replay_diff: the old build printed nothing" >&2
  exit 1
fi
if cmp -s "$tmp/old.jsonl" "$tmp/new.jsonl"; then
  echo "replay_diff: $lines messages, identical apart from timestamps and latencies"
else
  diff "$tmp/old.jsonl" "$tmp/new.jsonl" | head -20 >&2
  echo "replay_diff: the outputs differ" >&2
  exit 1
fi
