#!/usr/bin/env bash
# Checks that the Makefile stops on a bad configuration before it builds, uploads or deploys
# anything, with synth's exit status (2) and its message once; that the deploy targets
# refuse a zip built for another architecture, and say that a missing zip needs make build
# before they install the venv; and that make help says what make bench needs. No AWS is
# contacted: AWS_ENDPOINT_URL points at a closed loopback port, and every case must stop
# before the first AWS call.
#
# Usage: tools/check-make-config.sh   (needs cfn-out/processor.zip from make build, arm64)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
zip=cfn-out/processor.zip
[ -f "$zip" ] || { echo "error: $zip not found; run make build" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
unset STACK REGION PRESET CONFIG SET MAKEFLAGS MFLAGS
export AWS_ENDPOINT_URL=http://127.0.0.1:9 AWS_ACCESS_KEY_ID=none AWS_SECRET_ACCESS_KEY=none
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok      $1"; }
bad() { failed=$((failed + 1)); echo "FAILED  $1"; sed 's/^/        /' "$work/out"; }

# expect NAME STATUS PATTERN COUNT make-args...: make exits STATUS and prints PATTERN COUNT times.
expect() {
  local name=$1 status=$2 pattern=$3 count=$4; shift 4
  local before got
  before=$(sha256sum "$zip")
  set +e
  make --no-print-directory "$@" >"$work/out" 2>&1 </dev/null
  got=$?
  set -e
  local seen
  seen=$(grep -cE -- "$pattern" "$work/out" || true)
  if [ "$got" != "$status" ]; then bad "$name: exit $got, expected $status"; return; fi
  if [ "$seen" != "$count" ]; then bad "$name: '$pattern' printed $seen times, expected $count"; return; fi
  if grep -qE 'cargo lambda|rustup target|package: upload|Compiling processor' "$work/out"; then
    bad "$name: built or uploaded something"; return
  fi
  if grep -q "tools/venv.sh $work/fresh/venv" "$work/out"; then
    bad "$name: started installing the venv"; return
  fi
  [ "$(sha256sum "$zip")" = "$before" ] || { bad "$name: the zip changed"; return; }
  ok "$name"
}

expect "make build PRESET=nope" 2 'unknown preset "nope"' 1 build PRESET=nope
printf 'lambda_memory_size = 64\n' >"$work/broken.toml"
expect "make deploy CONFIG=broken.toml" 2 'lambda_memory_size must be between 128 and 10240, got 64' 1 \
  deploy CONFIG="$work/broken.toml"
printf 'lambda_memory_size = \n' >"$work/unparsable.toml"
expect "make changeset CONFIG=unparsable.toml" 2 'unparsable.toml' 1 changeset CONFIG="$work/unparsable.toml"
expect "make verify SET=kinesis_shard_count=0" 2 'kinesis_shard_count must be between 1 and 1000, got 0' 1 \
  verify SET=kinesis_shard_count=0
# The zip is arm64 (the default); an x86_64 configuration must not deploy it.
expect "make deploy SET=lambda_architecture=x86_64 with an arm64 zip" 2 \
  'holds an arm64 bootstrap but the configuration.s lambda_architecture is x86_64' 1 \
  deploy SET=lambda_architecture=x86_64

# A fresh clone has no zip (and no venv): the deploy targets say to run make build before
# they install the ~1 GB venv. ZIP and VENV point into the scratch directory, so the real
# ones are untouched; PYTHON=false makes tools/venv.sh fail at once if it is started at all
# (make echoes its command line, which expect looks for).
for target in deploy changeset package; do
  expect "make $target without the zip, before the venv" 2 \
    "$work/fresh/processor.zip not found; run make build" 1 \
    "$target" ZIP="$work/fresh/processor.zip" VENV="$work/fresh/venv" PYTHON=false
  if [ -e "$work/fresh/venv" ]; then
    bad "make $target without the zip: created $work/fresh/venv"
  fi
  # make -j starts the prerequisites at once: the venv still waits for the zip's check.
  expect "make -j4 $target without the zip, before the venv" 2 \
    "$work/fresh/processor.zip not found; run make build" 1 \
    -j4 "$target" ZIP="$work/fresh/processor.zip" VENV="$work/fresh/venv" PYTHON=false
  if [ -e "$work/fresh/venv" ]; then
    bad "make -j4 $target without the zip: created $work/fresh/venv"
  fi
done

# make help says what make bench needs: tools/bench-synth.sh times with hyperfine when it is
# installed and with a shell loop otherwise, so hyperfine is not a requirement.
make --no-print-directory help >"$work/out" 2>&1
if ! grep -qE '^  make bench ' "$work/out"; then
  bad "make help lists make bench"
elif grep -E '^  make bench ' "$work/out" | grep -qi 'needs hyperfine'; then
  bad "make help says make bench needs hyperfine, but tools/bench-synth.sh runs without it"
else
  ok "make help: make bench does not need hyperfine"
fi
if ! command -v hyperfine >/dev/null; then
  # Without hyperfine the bench still runs (a quick one, on the debug binary).
  if RUNS=2 tools/bench-synth.sh target/debug/synth >"$work/out" 2>&1 &&
    grep -q 'mean wall time over 2 runs' "$work/out"; then
    ok "tools/bench-synth.sh without hyperfine"
  else
    bad "tools/bench-synth.sh without hyperfine"
  fi
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
