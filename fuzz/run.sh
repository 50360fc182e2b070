#!/usr/bin/env bash
# Runs every fuzz target (or those named) until it has made RUNS executions or spent SECONDS, and
# prints one line per target: executions, seconds, crashes. Findings go to fuzz/artifacts/<target>/;
# each becomes a regression test. Needs nightly Rust and cargo-fuzz:
#   rustup toolchain install nightly --profile minimal && cargo install cargo-fuzz
#   usage: fuzz/run.sh [target...]     (RUNS=10000000 SECONDS_MAX=3600 JOBS=1 by default)
# The committed seed corpora (fuzz/corpus/<target>) stay small: new inputs go to
# target/fuzz-corpus/<target>. Built without a sanitizer (`-s none`): lookout has no unsafe code on
# these paths, and the build is several times faster (tract is large).
set -euo pipefail
cd "$(dirname "$0")"
RUNS="${RUNS:-10000000}"
SECONDS_MAX="${SECONDS_MAX:-3600}"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo +nightly fuzz list)
mkdir -p ../target/fuzz-logs
cargo +nightly fuzz build -s none -O -a
for t in "${targets[@]}"; do
  scratch="../target/fuzz-corpus/$t"
  mkdir -p "$scratch" "corpus/$t"
  log="../target/fuzz-logs/$t.log"
  start=$(date +%s)
  rc=0
  cargo +nightly fuzz run -s none -O -a "$t" "$scratch" "corpus/$t" -- \
    -runs="$RUNS" -max_total_time="$SECONDS_MAX" -rss_limit_mb=2048 -timeout=10 \
    -print_final_stats=1 >"$log" 2>&1 || rc=$?
  secs=$(( $(date +%s) - start ))
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  crashes=$(ls "artifacts/$t" 2>/dev/null | wc -l)
  printf '%-12s executions %-10s seconds %-5s exit %-3s artifacts %s\n' "$t" "${execs:-?}" "$secs" "$rc" "$crashes"
done
