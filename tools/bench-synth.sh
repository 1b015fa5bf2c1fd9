#!/usr/bin/env bash
# Measures the synth binary as a user runs it: whole process, default stack, repeated runs.
# Prints the mean wall time (hyperfine) and the peak resident memory (GNU time).
# Usage: tools/bench-synth.sh [BINARY]   (default target/release/synth)
set -euo pipefail
bin=${1:-target/release/synth}
runs=${RUNS:-200}
[ -x "$bin" ] || { echo "error: $bin not found; build it with cargo build --release -p synth" >&2; exit 1; }
if command -v hyperfine >/dev/null; then
  hyperfine --warmup 20 --runs "$runs" --shell=none --output=null "$bin" "$bin --preset prod"
else
  echo "hyperfine not found (apt-get install hyperfine); timing with a shell loop instead" >&2
  start=$(date +%s%N)
  for _ in $(seq "$runs"); do "$bin" >/dev/null; done
  end=$(date +%s%N)
  echo "mean wall time over $runs runs: $(( (end - start) / runs / 1000 )) µs"
fi
peak=0
for _ in $(seq 20); do
  kb=$( { /usr/bin/time -f '%M' "$bin" >/dev/null; } 2>&1 | tail -1)
  [ "$kb" -gt "$peak" ] && peak=$kb
done
echo "peak resident memory over 20 runs: ${peak} KiB ($(( peak / 1024 )) MiB)"
