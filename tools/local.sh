#!/usr/bin/env bash
# The whole pipeline on this machine, with moto standing in for AWS (the README's demo):
# start moto on a free loopback port, create the synthesized stack there with
# `aws cloudformation create-stack`, upload the processor's zip to moto's S3, put events on
# the stream with `producer`, play the event source mapping with `local-runner`, then report
# sent / stored / dead-lettered / filtered and stop moto (also on failure or Ctrl-C).
#
# Usage: tools/local.sh ZIP SYNTH_BIN PRODUCER_BIN RUNNER_BIN [synth args...]
# Environment: EVENTS (default 1000), INVALID_RATIO (0.1), SEED (42), STACK (retail-events-local)
set -euo pipefail
zip=$1 synth=$2 producer=$3 runner=$4
shift 4
events=${EVENTS:-1000}
invalid_ratio=${INVALID_RATIO:-0.1}
seed=${SEED:-42}
stack=${STACK:-retail-events-local}
root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.venv"
[ -f "$zip" ] || { echo "error: $zip not found; run make build" >&2; exit 1; }

work=$(mktemp -d)
port=$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
endpoint="http://127.0.0.1:$port"
"$venv/bin/python" "$root/tools/moto_server.py" -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
moto=$!
stop() { kill "$moto" 2>/dev/null || true; wait "$moto" 2>/dev/null || true; rm -rf "$work"; }
trap stop EXIT
trap 'exit 130' INT TERM

# moto accepts any credentials; these keep the CLI and SDKs from looking for real ones.
export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_SESSION_TOKEN=local
export AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
aws() { "$venv/bin/aws" --endpoint-url "$endpoint" "$@"; }
for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.1
done
echo "moto listening on $endpoint"

"$synth" "$@" >"$work/stack.yaml"
bucket=local-artifacts
key="processor/$(sha256sum "$zip" | cut -c1-64).zip"
aws s3 mb "s3://$bucket" >/dev/null
aws s3 cp --quiet "$zip" "s3://$bucket/$key"
aws cloudformation create-stack --stack-name "$stack" --template-body "file://$work/stack.yaml" \
  --capabilities CAPABILITY_NAMED_IAM \
  --parameters "ParameterKey=CodeS3Bucket,ParameterValue=$bucket" "ParameterKey=CodeS3Key,ParameterValue=$key" >/dev/null
aws cloudformation wait stack-create-complete --stack-name "$stack"
# Output values by the names the contract crate gives them (synth stack-facts output).
aws cloudformation describe-stacks --stack-name "$stack" --output json >"$work/stack.json"
output() { "$synth" stack-facts output "$1" "$work/stack.json"; }
stream=$(output stream) table=$(output table) queue_url=$(output dead-letter-queue)
echo "stack $stack created: stream $stream, table $table"

# With event filters configured, Lambda (and local-runner) filter whole Kinesis records, and a
# KPL aggregate's data is no JSON object: send one event per record so each is filtered alone.
one_each=()
if [ "$("$synth" "$@" --get lambda_filter_event_types)$("$synth" "$@" --get lambda_filter_patterns)" != "[][]" ]; then
  one_each=(--no-aggregate)
  echo "event filters configured: the producer sends one event per record (--no-aggregate)"
fi
"$producer" "$stream" "$events" 0 --invalid-ratio "$invalid_ratio" --seed "$seed" \
  --endpoint-url "$endpoint" "${one_each[@]}" | tee "$work/producer.txt"
"$runner" --endpoint-url "$endpoint" --stack-name "$stack" --idle-exit 5 | tee "$work/runner.txt"

# The summary is producer's last stdout line; `unsent=` follows `sent=` on it.
sent=$(sed -n 's/^summary: sent=\([0-9]*\) .*/\1/p' "$work/producer.txt")
stored=$(aws dynamodb scan --table-name "$table" --select COUNT --query Count --output text)
queue=$(aws sqs get-queue-url --queue-name "${queue_url##*/}" --query QueueUrl --output text)
dead=$(aws sqs get-queue-attributes --queue-url "$queue" --attribute-names ApproximateNumberOfMessages \
  --query Attributes.ApproximateNumberOfMessages --output text)
# Records no filter matched: dropped by the mapping without an invocation (runner's summary).
filtered=$(sed -n 's/^summary: .*filtered=\([0-9]*\) .*/\1/p' "$work/runner.txt")
echo
echo "sent:          $sent"
echo "stored:        $stored"
echo "dead-lettered: $dead"
echo "filtered:      $filtered"
if [ "$sent" -eq $((stored + dead + filtered)) ]; then
  echo "ok: sent = stored + dead-lettered + filtered"
else
  echo "error: sent != stored + dead-lettered + filtered; records were lost or duplicated" >&2
  exit 1
fi
