#!/usr/bin/env bash
# Checks that the Makefile stops on a bad configuration before it builds, uploads or deploys
# anything, with synth's exit status (2) and its message once; and that the deploy targets
# refuse a zip built for another architecture. No AWS is contacted: AWS_ENDPOINT_URL points
# at a closed loopback port, and every case must stop before the first AWS call.
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

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
