#!/usr/bin/env bash
# The processor's performance numbers (docs/performance.md, "The processor"):
#   1. records/s of the pure path and of a 10,000-record invocation (criterion),
#   2. peak memory of that invocation (GNU time),
#   3. init time: process start to the first runtime API request (tools/measure-init.py),
#   4. the zip's size (after `make build`).
# Usage: tools/bench-processor.sh
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${JOBS:-2}
cargo bench -j"$jobs" -p processor --bench invocation -- --noplot 2>&1 | grep -E "^(pure|invocation)|thrpt|time:" || true
cargo build -q -j"$jobs" --release -p processor --example invoke_10k --bin bootstrap
# Heap in use, counted by the example's allocator; the process's resident size (GNU time)
# also holds what building the 10,000-record fixture left in the allocator.
/usr/bin/time -f "process peak resident size: %M KiB" target/release/examples/invoke_10k
python3 tools/measure-init.py target/release/bootstrap "${INIT_RUNS:-50}"
if [ -f cfn-out/processor.zip ]; then
  echo "zip: $(stat -c %s cfn-out/processor.zip) bytes (cfn-out/processor.zip)"
fi
