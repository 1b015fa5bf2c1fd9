#!/usr/bin/env bash
# The deploy targets against moto, through the Makefile as a user runs them:
#   make deploy                                   creates the dev stack, prints its outputs
#   make deploy                                   again: no changes, the upload skipped
#   make changeset SET=lambda_memory_size=512     lists the function as Modify, left unexecuted
#   make changeset                                no changes
#   make outputs, make logs FOLLOW=0              the outputs table, the log group's events
#   make verify                                   passes with local-runner as the consumer
#                                                 (no Lambda runs on moto); without a consumer
#                                                 verify exits 1 naming the missing events
#   make destroy                                  refused while the failure bucket holds a batch
#                                                 not yet redriven (a handled one does not count),
#                                                 and while a dead letter waits in the queue;
#   make destroy FORCE=1                          then the buckets are emptied and the stack is
#                                                 gone, nothing was retained
#   make deploy/destroy PRESET=prod               over 51,200 bytes, the template goes through S3;
#                                                 destroy names what DeletionPolicy Retain keeps
#                                                 (the table, both buckets, the key)
#   make deploy PRESET=prod                       again: refused, naming the kept table
# and that a missing zip stops make deploy with "run make build". moto runs on a free loopback
# port with dummy credentials and is stopped on exit; nothing else is contacted.
#
# Usage: tools/deploy-on-moto.sh   (needs cfn-out/processor.zip from make build; never builds it.
#                                   It builds local-runner and verify with cargo.)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
venv="$root/.venv"
[ -f cfn-out/processor.zip ] || { echo "error: cfn-out/processor.zip not found; run make build" >&2; exit 1; }

# shellcheck source=tools/moto-env.sh
. "$root/tools/moto-env.sh"
moto_start
runner=
stop() {
  [ -z "$runner" ] || { kill "$runner" 2>/dev/null || true; wait "$runner" 2>/dev/null || true; }
  kill "$moto" 2>/dev/null || true; wait "$moto" 2>/dev/null || true; rm -rf "$work"
}
trap stop EXIT
trap 'exit 130' INT TERM

moto_only

# Runs `make ARGS` into $work/NAME.out, shows it indented; stops everything when it fails.
step() {
  local name=$1; shift
  echo "--- make $*"
  local status=0
  make --no-print-directory -s "$@" >"$work/$name.out" 2>&1 </dev/null || status=$?
  sed 's/^/    /' "$work/$name.out"
  if [ "$status" -ne 0 ]; then
    fail "make $* exited with $status"
    echo "deploy on moto: $passed passed, $failed failed"
    exit 1
  fi
}

# check NAME PATTERN WHAT: NAME's output (or file) matches the extended regular expression.
check() {
  local file=$work/$1.out
  [ -f "$file" ] || file=$1
  if grep -qE -- "$2" "$file"; then ok "$3"; else fail "$3 (no match for /$2/ in $1)"; fi
}

step deploy deploy
check deploy 'Successfully created/updated stack - retail-events-dev' "make deploy creates stack retail-events-dev"
check deploy '^package: uploaded .*processor/[0-9a-f]{64}\.zip' "make deploy uploads the zip under its SHA-256"
check deploy 'LogGroupName +\| +/aws/lambda/retail-events-dev-processor' "make deploy prints the outputs table"

step redeploy deploy
check redeploy 'No changes to deploy' "a second make deploy has no changes"
check redeploy 'already there; upload skipped' "a second make deploy skips the upload"

step changeset changeset SET=lambda_memory_size=512
# shellcheck disable=SC2016 # backquotes are markdown
check cfn-out/changeset.md '^\| Modify \| `ProcessorFunction` \| AWS::Lambda::Function' \
  "make changeset SET=lambda_memory_size=512 lists ProcessorFunction as Modify"
check cfn-out/changeset.json '"ExecutionStatus": "AVAILABLE"' "the change set is left unexecuted (AVAILABLE)"
memory=$(aws lambda get-function-configuration --function-name retail-events-dev-processor --query MemorySize)
if [ "$memory" = 256 ]; then ok "the function keeps 256 MB until the change set is executed"; else fail "memory is $memory after make changeset"; fi

step nochange changeset
check nochange 'No changes\.' "make changeset without a change reports no changes"

step outputs outputs
check outputs 'FunctionName +\| +retail-events-dev-processor' "make outputs prints the outputs table"

group=/aws/lambda/retail-events-dev-processor
aws logs create-log-stream --log-group-name "$group" --log-stream-name deploy-on-moto
aws logs put-log-events --log-group-name "$group" --log-stream-name deploy-on-moto >/dev/null \
  --log-events "[{\"timestamp\": $(date +%s000), \"message\": \"hello from deploy-on-moto\"}]"
step logs logs FOLLOW=0 SINCE=1h
check logs 'deploy-on-moto hello from deploy-on-moto' "make logs prints the log group's events"

# make verify. No Lambda runs on moto: local-runner, started first, is the consumer. It reads
# the stream from TRIM_HORIZON until the kill below (its idle exit is only a backstop).
# Each binary is built by itself, as make builds verify: built together, cargo unifies their
# dependencies' features differently, and make verify's own build would recompile while the
# runner waits (CI once spent its whole idle time there).
"${CARGO:-cargo}" build -q -j2 -p local-runner
"${CARGO:-cargo}" build -q -j2 -p verify
target/debug/local-runner --endpoint-url "$endpoint" --stack-name retail-events-dev --idle-exit 300 \
  >"$work/runner.out" 2>&1 &
runner=$!
# The runner's own output goes with a failing verify: it says whether the consumer ran at all.
trap 'echo "--- local-runner (the consumer) printed:"; sed "s/^/    /" "$work/runner.out"; stop' EXIT
step verify verify VERIFY_ARGS="--timeout 60"
trap stop EXIT
kill "$runner" 2>/dev/null || true
wait "$runner" 2>/dev/null || true
runner=
check verify '^verify: sent=20 stored=16/16 dead_lettered=4/4 .*result=PASS$' \
  "make verify passes with local-runner as the consumer"
check verify "latency_p50_ms=[0-9]+ latency_p99_ms=[0-9]+" "make verify prints the latency percentiles"
check verify "the mapping's books not checked: the endpoint did not answer GetMetricData in AWS's protocol" \
  "make verify says why the mapping's books are not checked on moto"
check verify "deleted 4 of verify's dead letters" "make verify deletes its own dead letters"

# Without a consumer nothing arrives: verify exits 1 (make says Error 1) naming the events.
echo "--- make verify VERIFY_ARGS='--timeout 5' without a consumer (must fail)"
if make --no-print-directory -s verify VERIFY_ARGS="--timeout 5" >"$work/unconsumed.out" 2>&1 </dev/null; then
  sed 's/^/    /' "$work/unconsumed.out"
  fail "make verify without a consumer succeeded"
else
  sed 's/^/    /' "$work/unconsumed.out"
  check unconsumed 'FAIL: 16 of 16 valid events are not in table retail-events-dev-events after [0-9]+ s: eventKey [0-9]{13}#verify-' \
    "make verify without a consumer names the events missing from the table"
  check unconsumed 'FAIL: 4 of 4 invalid events are not in dead-letter queue .* eventId verify-' \
    "make verify without a consumer names the events missing from the queue"
  check unconsumed 'result=FAIL$' "make verify without a consumer ends with result=FAIL"
  check unconsumed 'verify\] Error 1' "verify exits with status 1"
fi

# must_fail NAME ARGS: `make ARGS` into $work/NAME.out, shown indented; it must exit non-zero.
must_fail() {
  local name=$1; shift
  echo "--- make $* (must fail)"
  if make --no-print-directory -s "$@" >"$work/$name.out" 2>&1 </dev/null; then
    sed 's/^/    /' "$work/$name.out"
    fail "make $* succeeded"
    return
  fi
  sed 's/^/    /' "$work/$name.out"
}

# A failed batch not yet redriven in the failure bucket: destroy refuses to delete it with the
# stack. A claim check redrive tagged handled does not count.
bucket=$(aws cloudformation describe-stacks --stack-name retail-events-dev --output text \
  --query "Stacks[0].Outputs[?OutputKey=='FailureBucketName'].OutputValue | [0]")
failed_batch=aws/lambda/8c1d1a4e-0000-4000-8000-000000000000/shardId-000000000000/2026/11/25/2026-11-25T00.38.06-deploy-on-moto
echo '{"payload": {"Records": []}}' | aws s3 cp - "s3://$bucket/$failed_batch" >/dev/null
echo 'bytes' | aws s3 cp - "s3://$bucket/dead-letters/shardId-000000000000/4960" >/dev/null
aws s3api put-object-tagging --bucket "$bucket" --key dead-letters/shardId-000000000000/4960 \
  --tagging 'TagSet=[{Key=redrive,Value=handled}]'
must_fail destroy-failures destroy
check destroy-failures 'failure bucket of stack retail-events-dev holds 1 failed batches or dead letters not yet redriven.*redrive' \
  "make destroy refuses to delete a failed batch not yet redriven (a handled one does not count)"

# A dead letter waiting in the queue: destroy refuses to delete it with the stack.
queue=$(aws cloudformation describe-stacks --stack-name retail-events-dev --output text \
  --query "Stacks[0].Outputs[?OutputKey=='DeadLetterQueueUrl'].OutputValue | [0]")
aws sqs send-message --queue-url "$queue" --message-body '{"error":"deploy-on-moto"}' >/dev/null
must_fail destroy-letters destroy
check destroy-letters 'dead-letter queue of stack retail-events-dev holds 1 events that are in no table.*redrive' \
  "make destroy refuses to delete a waiting dead letter and names redrive"
if aws cloudformation describe-stacks --stack-name retail-events-dev >/dev/null 2>&1; then
  ok "the stack is still there after the refused destroy"
else
  fail "the refused destroy deleted the stack"
fi

step destroy destroy FORCE=1
check destroy 'FORCE=1: the 1 dead letters in the queue are deleted with the stack' \
  "make destroy FORCE=1 says the waiting dead letter goes with the stack"
check destroy 'FORCE=1: the 1 objects not yet redriven in the failure bucket are deleted with the stack' \
  "make destroy FORCE=1 says the failed batch goes with the stack"
check destroy "emptying s3://$bucket" "make destroy empties the failure bucket before deleting the stack"
check destroy 'stack retail-events-dev deleted' "make destroy deletes the stack"
check destroy 'No resource had DeletionPolicy Retain' "make destroy says nothing of dev is kept"
if aws cloudformation describe-stacks --stack-name retail-events-dev >/dev/null 2>&1; then
  fail "retail-events-dev still exists after make destroy"
else
  ok "retail-events-dev no longer exists"
fi

step prod deploy PRESET=prod
check prod 'the template is over 51200 bytes; it goes through s3://' "make deploy PRESET=prod sends its template through S3"
check prod 'ArchiveBucketName +\| +retail-events-prod-archivebucket-' "make deploy PRESET=prod creates the event archive"
step prod-destroy destroy PRESET=prod
check prod-destroy 'EventTable +AWS::DynamoDB::Table +retail-events-prod-events' \
  "make destroy PRESET=prod names the retained table"
check prod-destroy 'FailureBucket +AWS::S3::Bucket +retail-events-prod-failurebucket-' \
  "make destroy PRESET=prod names the retained failure bucket"
check prod-destroy 'ArchiveBucket +AWS::S3::Bucket +retail-events-prod-archivebucket-' \
  "make destroy PRESET=prod names the retained archive"
if aws dynamodb describe-table --table-name retail-events-prod-events >/dev/null 2>&1; then
  ok "the retained table outlives the prod stack"
else
  fail "the prod table was deleted despite DeletionPolicy Retain"
fi

must_fail prod-again deploy PRESET=prod
check prod-again 'stack retail-events-prod does not exist, but resources it would create do' \
  "make deploy PRESET=prod over the kept table refuses, saying why"
check prod-again 'EventTable +AWS::DynamoDB::Table +retail-events-prod-events' \
  "the refusal names the kept table"
check prod-again 'delete-table --table-name retail-events-prod-events' "the refusal says how to delete it"
if grep -q '^package:' "$work/prod-again.out"; then
  fail "the refused deploy uploaded the zip"
else
  ok "the refused deploy uploaded nothing"
fi

echo "--- make deploy ZIP=cfn-out/missing.zip (must fail)"
if make --no-print-directory -s deploy ZIP=cfn-out/missing.zip >"$work/nozip.out" 2>&1 </dev/null; then
  fail "make deploy without the zip succeeded"
else
  check nozip 'cfn-out/missing.zip not found; run make build' "make deploy without the zip says to run make build"
fi

echo "deploy on moto: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
