#!/usr/bin/env bash
# A deploy that replaces the event source mapping while events flow, on moto, through the
# Makefile as a user runs it (docs/mapping-replacement.md):
#   make deploy SET="lambda_starting_position=TRIM_HORIZON ..."   creates the stack and mapping A
#   local-runner                                    plays mapping A (no Lambda runs on moto) and
#                                                   publishes its IteratorAge, as Lambda does
#   producer --from-file --rate 20                  events with known eventIds flow meanwhile
#   make deploy SET="lambda_starting_position=LATEST ..."   replaces the mapping: step 1 removes
#                                                   A, step 2 creates B AT_TIMESTAMP where A
#                                                   was reading, less MAPPING_MARGIN (5 s here)
#                                                   and the batching window; it says which time
#   local-runner                                    A stops when its mapping is deleted; a new
#                                                   runner plays B from that time
# then every eventId sent is in the table exactly once (none missing, none twice), B started
# inside the flow (it did not read it all again), make deploy again keeps B, and
# local-runner refuses a second mapping of the same stream and function, as Lambda does.
# moto runs on a free loopback port with dummy credentials and is stopped on exit; nothing
# else is contacted. Prints ok/FAILED lines; exit status 0 only when every check passed.
#
# Usage: tools/mapping-replace-on-moto.sh   (needs cfn-out/processor.zip from make build;
#                                           never builds it. It builds local-runner and
#                                           producer with cargo, -j$JOBS, default 2.)
# EVENTS (4000) at RATE (20) per second; the replacing deploy starts after DEPLOY_AFTER (100) s.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
venv="$root/.venv"
[ -f cfn-out/processor.zip ] || { echo "error: cfn-out/processor.zip not found; run make build" >&2; exit 1; }
events=${EVENTS:-4000} rate=${RATE:-20} deploy_after=${DEPLOY_AFTER:-100}
stack=retail-events-dev
# A 10 s function timeout keeps the window of IteratorAge minutes make deploy reads short
# (timeout + margin), so the new mapping's start falls inside this run's flow of events.
first="lambda_starting_position=TRIM_HORIZON lambda_timeout=10"
second="lambda_starting_position=LATEST lambda_timeout=10"

# Built one by one, as make builds each tool: together, cargo would unify their features
# differently and a later build would recompile.
"${CARGO:-cargo}" build -q -j"${JOBS:-2}" -p local-runner
"${CARGO:-cargo}" build -q -j"${JOBS:-2}" -p producer

# shellcheck source=tools/moto-env.sh
. "$root/tools/moto-env.sh"
moto_start
runner_a='' runner_b='' producer=''
# shellcheck disable=SC2317 # called by the EXIT trap
stop() {
  local pid
  for pid in $runner_a $runner_b $producer; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  kill "$moto" 2>/dev/null || true; wait "$moto" 2>/dev/null || true; rm -rf "$work"
}
trap stop EXIT
trap 'exit 130' INT TERM

moto_only

finish() {
  echo "mapping replacement on moto: $passed passed, $failed failed"
  if [ "$failed" -eq 0 ]; then exit 0; fi
  exit 1
}

# Runs `make ARGS` into $work/NAME.out, shows it indented; stops everything when it fails.
step() {
  local name=$1; shift
  echo "--- make $*"
  local status=0
  make --no-print-directory -s "$@" >"$work/$name.out" 2>&1 </dev/null || status=$?
  sed 's/^/    /' "$work/$name.out"
  if [ "$status" -ne 0 ]; then
    fail "make $* exited with $status"
    finish
  fi
}

# check NAME PATTERN WHAT: NAME's output (or file) matches the extended regular expression.
check() {
  local file=$work/$1.out
  [ -f "$file" ] || file=$1
  if grep -qE -- "$2" "$file"; then ok "$3"; else fail "$3 (no match for /$2/ in $1)"; fi
}

# Waits up to SECS for process PID to end; its exit status, or 124 when it is still running.
wait_for() {
  local pid=$1 secs=$2
  for _ in $(seq "$((secs * 2))"); do
    kill -0 "$pid" 2>/dev/null || { local status=0; wait "$pid" || status=$?; return "$status"; }
    sleep 0.5
  done
  return 124
}

output() {
  aws cloudformation describe-stacks --stack-name "$stack" --output text \
    --query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue | [0]"
}

step create deploy SET="$first"
check create "^mapping: StreamMapping: create: a new stack: the mapping starts at TRIM_HORIZON" \
  "make deploy of a new stack creates the mapping where lambda_starting_position says"
stream=$(output StreamName) table=$(output TableName) function=$(output FunctionName)
mapping_a=$(output EventSourceMappingId)
echo "stream $stream, table $table, mapping A $mapping_a"

# The events, each with an eventId of its own, so the table can be compared id by id.
"$venv/bin/python" - "$work/events.jsonl" "$events" <<'EOF'
import json, sys
path, count = sys.argv[1], int(sys.argv[2])
types = ["view", "view", "view", "add_to_cart", "purchase", "review"]
with open(path, "w") as out:
    for n in range(count):
        event = {"eventId": f"replace-{n:05d}", "userId": f"user-{n % 50:02d}",
                 "eventType": types[n % len(types)], "productId": f"p-{n % 17}", "sessionId": f"s-{n % 50}"}
        out.write(json.dumps(event) + "\n")
EOF

target/debug/local-runner --endpoint-url "$endpoint" --stack-name "$stack" --idle-exit 600 \
  >"$work/runner-a.out" 2>"$work/runner-a.err" &
runner_a=$!
target/debug/producer "$stream" --from-file "$work/events.jsonl" --rate "$rate" --no-aggregate \
  --endpoint-url "$endpoint" >"$work/producer.out" 2>"$work/producer.err" &
producer=$!
echo "--- $events events at $rate/s; local-runner plays mapping A; the replacing deploy in $deploy_after s"
sleep "$deploy_after"
if kill -0 "$producer" 2>/dev/null; then
  ok "events are still flowing when the replacing deploy starts"
else
  fail "the producer ended before the replacing deploy started (raise EVENTS)"
fi

export MAPPING_MARGIN=5
step replace deploy SET="$second"
unset MAPPING_MARGIN
check replace "^mapping: StreamMapping: replace-in-two-steps: lambda_starting_position changed from TRIM_HORIZON to LATEST" \
  "make deploy says the mapping is replaced in two steps, and why"
check replace "^deploy: step 1 of 2: stack $stack without StreamMapping \(mapping $mapping_a\)" \
  "step 1 removes mapping A"
check replace "deploy: event source mapping $mapping_a is deleted" "make deploy waits until Lambda has deleted mapping A"
check replace "^deploy: step 2 of 2: stack $stack with the new StreamMapping" "step 2 creates the new mapping"
line=$(grep -E '^mapping: the new StreamMapping starts AT_TIMESTAMP ' "$work/replace.out" || true)
start=$(sed -E 's/.* \(([0-9]+)\): .*/\1/' <<<"$line")
if [[ $start =~ ^[0-9]+$ ]]; then
  ok "make deploy says which timestamp the new mapping starts at, and why: ${line#mapping: }"
else
  fail "make deploy did not say where the new mapping starts"
  finish
fi
check replace "mapping $mapping_a had read every record that arrived before .*: the lowest of its IteratorAge minutes" \
  "the timestamp comes from mapping A's IteratorAge (published by local-runner, as Lambda does)"
mapping_b=$(output EventSourceMappingId)
if [ -n "$mapping_b" ] && [ "$mapping_b" != "$mapping_a" ]; then
  ok "the stack names the new mapping B $mapping_b"
else
  fail "the stack's EventSourceMappingId is '$mapping_b' after the replacement"
fi
count=$(aws lambda list-event-source-mappings --function-name "$function" --query 'length(EventSourceMappings)')
if [ "$count" = 1 ]; then ok "one mapping of the stream and function remains"; else fail "$count mappings after the replacement"; fi

if wait_for "$runner_a" 30; then
  ok "local-runner stopped playing mapping A once it was deleted"
else
  fail "local-runner of mapping A did not stop after its mapping was deleted (status $?)"
fi
runner_a=''
echo "--- local-runner of mapping A printed (progress lines left out):"
grep -v '^read ' "$work/runner-a.err" | sed 's/^/    /' || true
check "$work/runner-a.err" "event source mapping $mapping_a was deleted: stopped reading" "local-runner says mapping A was deleted"

target/debug/local-runner --endpoint-url "$endpoint" --stack-name "$stack" --idle-exit 15 \
  >"$work/runner-b.out" 2>"$work/runner-b.err" &
runner_b=$!
wait_for "$producer" 600 || fail "the producer failed (status $?)"
producer=''
if wait_for "$runner_b" 600; then ok "local-runner played mapping B to the end of the stream"; else fail "local-runner of mapping B failed (status $?)"; fi
runner_b=''
echo "--- local-runner of mapping B printed (progress lines left out):"
grep -v '^read ' "$work/runner-b.err" | sed 's/^/    /' || true
check "$work/runner-b.err" "^starting each shard AT_TIMESTAMP [-0-9T:.]+Z \($start s\)" \
  "local-runner plays mapping B from the timestamp make deploy chose"

# The table, eventId by eventId (the eventKey's part after '#').
aws dynamodb scan --table-name "$table" --projection-expression eventKey --output json >"$work/items.json"
"$venv/bin/python" - "$work/events.jsonl" "$work/items.json" >"$work/count.out" <<'EOF'
import collections, json, sys
sent = [json.loads(line)["eventId"] for line in open(sys.argv[1])]
items = json.load(open(sys.argv[2]))["Items"]
stored = collections.Counter(item["eventKey"]["S"].split("#", 1)[1] for item in items)
missing = [e for e in sent if e not in stored]
extra = [e for e in stored if e not in set(sent)]
twice = [e for e, n in stored.items() if n > 1]
print(f"sent={len(sent)} items={len(items)} distinct={len(stored)} duplicates={len(twice)} missing={len(missing)} extra={len(extra)}")
if missing:
    print("missing: " + " ".join(missing[:20]))
EOF
cat "$work/count.out"
producer_sent=$(sed -n 's/^summary: sent=\([0-9]*\) .*/\1/p' "$work/producer.out")
if [ "$producer_sent" = "$events" ]; then ok "the producer sent all $events events"; else fail "the producer sent $producer_sent of $events"; fi
check "$work/count.out" "^sent=$events items=$events distinct=$events duplicates=0 missing=0 extra=0$" \
  "every event sent is in the table exactly once: none skipped, none twice"
read_a=$(sed -n 's/^summary: records=\([0-9]*\) .*/\1/p' "$work/runner-a.out")
read_b=$(sed -n 's/^summary: records=\([0-9]*\) .*/\1/p' "$work/runner-b.out")
echo "mapping A read $read_a records, mapping B $read_b (from $start), read by both: $((read_a + read_b - events))"
if [ "$read_b" -gt 0 ] && [ "$read_b" -lt "$events" ]; then
  ok "mapping B started inside the flow: it read $read_b of $events records, not all again"
else
  fail "mapping B read $read_b of $events records"
fi

step again deploy SET="$second"
check again "^mapping: StreamMapping: keep: StreamMapping keeps reading where it is: its starting position AT_TIMESTAMP .*\($start\) stays" \
  "make deploy again keeps mapping B's timestamp (lambda_starting_position LATEST applies when a mapping is created)"
# (Not "No changes": the template may differ in anything else; the mapping must not.)
if [ "$(output EventSourceMappingId)" = "$mapping_b" ]; then
  ok "make deploy again does not replace mapping B"
else
  fail "make deploy again replaced mapping B: the stack names $(output EventSourceMappingId)"
fi

# A second mapping of the same stream and function, made by hand (moto allows it; Lambda
# refuses it): local-runner refuses to play either, naming both.
stream_arn=$(output StreamArn)
extra=$(aws lambda create-event-source-mapping --event-source-arn "$stream_arn" --function-name "$function" \
  --starting-position LATEST --query UUID --output text)
echo "--- local-runner with a second mapping $extra of the stream and function (must fail)"
if target/debug/local-runner --endpoint-url "$endpoint" --stack-name "$stack" --idle-exit 1 >"$work/second.out" 2>&1; then
  sed 's/^/    /' "$work/second.out"
  fail "local-runner played a stack whose stream has two mappings into the function"
else
  sed 's/^/    /' "$work/second.out"
  check second "^error: event source mapping $mapping_b: mapping $extra also reads $stream_arn into function .*; Lambda refuses a second mapping of the same event source and function \(ResourceConflictException\)" \
    "local-runner refuses a second mapping of the same stream and function, as Lambda does"
fi
aws lambda delete-event-source-mapping --uuid "$extra" >/dev/null

finish
