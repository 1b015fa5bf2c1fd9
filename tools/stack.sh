#!/usr/bin/env bash
# Deploys and reviews the pipeline's stack with the aws CLI: the Makefile's package, deploy,
# changeset, destroy, outputs and logs targets.
#
# Usage: tools/stack.sh VERB SYNTH_BIN [synth args...]
#   package    upload cfn-out/processor.zip to S3 as processor/<sha256>.zip, unless it is there
#   deploy     synth into cfn-out, package, `aws cloudformation deploy`, print the outputs
#   changeset  synth, package, create a change set and render it (cfn-out/changeset.json and
#              .md) with `synth changeset-report`; it is left unexecuted
#   destroy    delete the stack, naming what its DeletionPolicy keeps
#   outputs    the stack's outputs as a table
#   logs       the processor's log (tools/logs-tail.py; SINCE=10m, FOLLOW=1)
#   verify     send a marked batch and check the table, the queue, the log and the latency
#              with target/debug/verify (docs/verify.md); its exit status is the verb's
#
# Environment, all optional:
#   STACK             stack name; default <project_name>-<environment> of the configuration
#   REGION            default the configuration's `region`
#   ALERT_EMAIL       AlertEmail parameter; default the configuration's sns_email_endpoint
#   ARTIFACT_BUCKET   bucket for the zip (and templates over 51,200 bytes); it must exist.
#                     Default <project_name>-artifacts-<account>-<region>, created on first use
#   AWS_ENDPOINT_URL  another endpoint (moto's); passed to every aws call as --endpoint-url
#   ZIP               the processor zip (default cfn-out/processor.zip)
#   CHANGESET_NAME    changeset: the change set's name (default synth-<UTC time>); an
#                     existing change set of that name is replaced
#   SINCE, FOLLOW     logs: how far back to start (10m, 2h, 1d or a timestamp); FOLLOW=0 prints
#                     what is there and exits
#   FORCE=1           destroy: do not ask for confirmation on a terminal, and delete the
#                     dead letters still waiting in the queue with the stack
#   VERIFY_ARGS       verify: more arguments, e.g. "--timeout 60 --count 50 --keep"
#   VERIFY_BIN        verify: the binary (default target/debug/verify)
set -euo pipefail
usage="usage: tools/stack.sh package|deploy|changeset|destroy|outputs|logs|verify SYNTH_BIN [synth args...]"
verb=${1:?$usage}
synth=${2:?$usage}
shift 2
synth_args=("$@")

root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.venv"
out="$root/cfn-out"
zip=${ZIP:-$out/processor.zip}
# CloudFormation takes a template body of at most this many bytes; larger ones go through S3.
body_limit=51200

die() { echo "error: $*" >&2; exit 1; }
# verify talks to AWS through the SDK alone; every other verb needs the aws CLI.
[ "$verb" = verify ] || [ -x "$venv/bin/aws" ] || die "$venv/bin/aws not found; run make venv"
[ -x "$synth" ] || die "$synth not found; build it with cargo build -p synth"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cfg() { "$synth" "${synth_args[@]}" --get "$1"; }
project=$(cfg project_name)
environment=$(cfg environment)
region=${REGION:-$(cfg region)}
stack=${STACK:-$project-$environment}

# The aws CLI v1 would read AWS_ENDPOINT_URL by itself (botocore 1.31 and later), but not
# every client it creates is given --endpoint-url (deploy's S3 upload is not), so the variable
# stays exported for those and is passed explicitly to the rest.
endpoint=${AWS_ENDPOINT_URL:-}
aws() { "$venv/bin/aws" ${endpoint:+--endpoint-url "$endpoint"} --region "$region" "$@"; }

# The stack's status, or nothing when there is no such stack.
stack_status() {
  if aws cloudformation describe-stacks --stack-name "$stack" \
    --query 'Stacks[0].StackStatus' --output text 2>"$work/status.err"; then
    return
  fi
  grep -q 'does not exist' "$work/status.err" || { cat "$work/status.err" >&2; exit 1; }
}

require_stack() {
  status=$(stack_status)
  [ -n "$status" ] || die "no stack named $stack in $region; run make deploy (or set STACK)"
}

# Stacks that cannot take an update now, with what to do about it.
require_updatable() {
  case $1 in
    ROLLBACK_COMPLETE) die "stack $stack is ROLLBACK_COMPLETE: its creation failed and it cannot be updated; run make destroy, then try again" ;;
    REVIEW_IN_PROGRESS) ;;
    *_IN_PROGRESS) die "stack $stack is $1; wait until that operation finishes" ;;
  esac
}

# The most recent failure events, which say why an operation failed.
show_failures() {
  echo "recent failures of stack $stack:" >&2
  aws cloudformation describe-stack-events --stack-name "$stack" --max-items 100 \
    --query "StackEvents[?ends_with(ResourceStatus, 'FAILED')] | [:10].[Timestamp,LogicalResourceId,ResourceStatus,ResourceStatusReason]" \
    --output table >&2 || true
}

show_outputs() {
  echo "outputs of stack $stack:"
  # shellcheck disable=SC2016 # backquotes are JMESPath literals
  aws cloudformation describe-stacks --stack-name "$stack" --output table \
    --query 'Stacks[0].Outputs || `[]` | sort_by(@, &OutputKey)[].{Output: OutputKey, Value: OutputValue}'
}

synth_templates() {
  "$synth" "${synth_args[@]}" --out-dir "$out"
  echo "synth: $out/stack.yaml ($(wc -c <"$out/stack.yaml") bytes) for stack $stack in $region"
}

# IAM resources need CAPABILITY_IAM; named ones (RoleName, ...) CAPABILITY_NAMED_IAM; a
# Transform CAPABILITY_AUTO_EXPAND. Acknowledge only what the template needs.
capabilities() {
  "$venv/bin/python" - "$out/stack.json" <<'PY'
import json, sys
template = json.load(open(sys.argv[1]))
names = {"RoleName", "UserName", "GroupName", "ManagedPolicyName", "InstanceProfileName"}
caps = []
iam = [r for r in template.get("Resources", {}).values() if r.get("Type", "").startswith("AWS::IAM::")]
if any(names & set(r.get("Properties", {})) for r in iam):
    caps.append("CAPABILITY_NAMED_IAM")
elif iam:
    caps.append("CAPABILITY_IAM")
if "Transform" in template:
    caps.append("CAPABILITY_AUTO_EXPAND")
print(" ".join(caps))
PY
}

# --- package ------------------------------------------------------------------------------

caller_identity() {
  aws sts get-caller-identity --query '[Account, Arn]' --output text >"$work/identity" \
    || die "cannot reach AWS with the current credentials (aws sts get-caller-identity failed)"
  read -r account caller_arn <"$work/identity"
  partition=$(cut -d: -f2 <<<"$caller_arn")
}

default_bucket_name() {
  local suffix="-artifacts-$account-$region"
  # S3 names are at most 63 characters; a long project name is cut, the suffix kept.
  echo "${project:0:$((63 - ${#suffix}))}$suffix"
}

bucket_state() { # prints ok, missing or forbidden
  if aws s3api head-bucket --bucket "$bucket" --expected-bucket-owner "$account" >/dev/null 2>"$work/head.err"; then
    echo ok
  elif grep -qE '404|Not Found' "$work/head.err"; then
    echo missing
  else
    echo forbidden
  fi
}

# Private, encrypted (SSE-S3), versioned, TLS only: the settings a reviewer asks for.
create_bucket() {
  local tls=", TLS only"
  [[ $endpoint != http://* ]] || tls=""
  echo "package: creating s3://$bucket (SSE-S3, versioning, public access blocked$tls)"
  local location=()
  [ "$region" = us-east-1 ] || location=(--create-bucket-configuration "LocationConstraint=$region")
  aws s3api create-bucket --bucket "$bucket" "${location[@]}" >/dev/null
  aws s3api wait bucket-exists --bucket "$bucket"
  aws s3api put-public-access-block --bucket "$bucket" --public-access-block-configuration \
    BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true
  aws s3api put-bucket-encryption --bucket "$bucket" --server-side-encryption-configuration \
    '{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"AES256"}}]}'
  aws s3api put-bucket-versioning --bucket "$bucket" --versioning-configuration Status=Enabled
  local arn="arn:$partition:s3:::$bucket"
  # A plain-HTTP endpoint (moto on loopback) could not reach a TLS-only bucket.
  [[ $endpoint == http://* ]] || aws s3api put-bucket-policy --bucket "$bucket" --policy "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"DenyInsecureTransport\",\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"s3:*\",\"Resource\":[\"$arn\",\"$arn/*\"],\"Condition\":{\"Bool\":{\"aws:SecureTransport\":\"false\"}}}]}"
  aws s3api put-bucket-tagging --bucket "$bucket" \
    --tagging "TagSet=[{Key=Project,Value=$project},{Key=ManagedBy,Value=synth}]"
}

# Sets bucket and key, uploading the zip when that key is not there yet.
# The zip exists and is built for the configuration's architecture (a zip built for another
# configuration would deploy the wrong one). Local only: checked before any AWS call.
require_zip() {
  [ -f "$zip" ] || die "$zip not found; run make build"
  ZIP_BUDGET_BYTES=0 "$root/tools/check-zip.sh" "$zip" "$(cfg lambda_architecture)" >/dev/null
}

package() {
  require_zip
  caller_identity
  if [ -n "${ARTIFACT_BUCKET:-}" ]; then
    bucket=$ARTIFACT_BUCKET
    case $(bucket_state) in
      ok) ;;
      missing) die "ARTIFACT_BUCKET $bucket does not exist; create it, or unset ARTIFACT_BUCKET to use $(default_bucket_name)" ;;
      *) cat "$work/head.err" >&2; die "cannot use ARTIFACT_BUCKET $bucket: it belongs to another account or access is denied" ;;
    esac
  else
    bucket=$(default_bucket_name)
    case $(bucket_state) in
      ok) ;;
      missing) create_bucket ;;
      *) cat "$work/head.err" >&2; die "bucket $bucket belongs to another account or access is denied; set ARTIFACT_BUCKET" ;;
    esac
  fi
  key="processor/$(sha256sum "$zip" | cut -c1-64).zip"
  if aws s3api head-object --bucket "$bucket" --key "$key" --expected-bucket-owner "$account" >/dev/null 2>&1; then
    echo "package: s3://$bucket/$key is already there; upload skipped"
  else
    aws s3api put-object --bucket "$bucket" --key "$key" --body "$zip" \
      --expected-bucket-owner "$account" >/dev/null
    echo "package: uploaded $zip ($(wc -c <"$zip") bytes) to s3://$bucket/$key"
  fi
  echo "bucket: $bucket"
  echo "key:    $key"
}

alert_email() { echo "${ALERT_EMAIL-$(cfg sns_email_endpoint)}"; }

# --- deploy -------------------------------------------------------------------------------

# Named resources the new stack would create that already exist, kept by a DeletionPolicy
# when an earlier stack of this name was deleted (retain_data_on_delete): one
# "logical<TAB>type<TAB>name" line each. CloudFormation cannot create a resource whose name
# is taken, so the creation would fail after the upload and leave a ROLLBACK_COMPLETE stack.
taken_names() {
  "$venv/bin/python" - "$out/stack.json" <<'PY' |
import json, sys
names = {"AWS::DynamoDB::Table": "TableName", "AWS::Kinesis::Stream": "Name",
         "AWS::SQS::Queue": "QueueName", "AWS::Logs::LogGroup": "LogGroupName"}
for logical, resource in json.load(open(sys.argv[1])).get("Resources", {}).items():
    kind = resource.get("Type")
    name = resource.get("Properties", {}).get(names.get(kind, ""), None)
    if resource.get("DeletionPolicy") == "Retain" and isinstance(name, str):
        print(f"{logical}\t{kind}\t{name}")
PY
  while IFS=$'\t' read -r logical kind name; do
    if exists "$kind" "$name"; then printf '%s\t%s\t%s\n' "$logical" "$kind" "$name"; fi
  done
}

# Whether a resource of CloudFormation type KIND named NAME exists.
exists() {
  local kind=$1 name=$2
  case $kind in
    AWS::DynamoDB::Table) aws dynamodb describe-table --table-name "$name" ;;
    AWS::Kinesis::Stream) aws kinesis describe-stream-summary --stream-name "$name" ;;
    AWS::SQS::Queue) aws sqs get-queue-url --queue-name "$name" ;;
    AWS::Logs::LogGroup) aws logs describe-log-groups --log-group-name-prefix "$name" \
      --query "logGroups[?logGroupName=='$name'] | [0].logGroupName" --output text | grep -qxF "$name" ;;
    *) false ;;
  esac >/dev/null 2>&1
}

# Stops a deploy that would create a new stack over resources kept from a deleted one,
# saying what they are and the ways forward.
refuse_taken_names() {
  taken_names >"$work/taken.tsv"
  [ -s "$work/taken.tsv" ] || return 0
  {
    echo "error: stack $stack does not exist, but resources it would create do: an earlier stack"
    echo "of this name kept them when it was deleted (retain_data_on_delete):"
    awk -F'\t' '{printf "  %-12s %-22s %s\n", $1, $2, $3}' "$work/taken.tsv"
    echo "CloudFormation cannot create a resource whose name is taken. Nothing was uploaded or"
    echo "deployed. Either:"
    echo "  - keep that data and deploy under another name: SET=environment=<new> (or project_name);"
    echo "  - put the kept table back under a stack with a resource import, then make deploy"
    echo "    (docs/deploy.md, \"Re-creating a stack whose data was kept\");"
    echo "  - or, when the data is no longer needed, delete it, e.g."
    awk -F'\t' '$2 == "AWS::DynamoDB::Table" {printf "      aws dynamodb delete-table --table-name %s\n", $3}' "$work/taken.tsv"
  } >&2
  exit 1
}

deploy() {
  synth_templates
  require_zip
  local status caps email
  status=$(stack_status)
  require_updatable "$status"
  [ -n "$status" ] || refuse_taken_names
  package
  caps=$(capabilities)
  email=$(alert_email)
  local template=(--template-file "$out/stack.yaml")
  if [ "$(wc -c <"$out/stack.yaml")" -gt "$body_limit" ]; then
    template+=(--s3-bucket "$bucket" --s3-prefix templates)
    echo "deploy: the template is over $body_limit bytes; it goes through s3://$bucket/templates/"
  fi
  echo "deploy: stack $stack (${status:-new}), capabilities ${caps:-none}, AlertEmail '${email}'"
  # shellcheck disable=SC2086 # caps is a list of words
  if aws cloudformation deploy --stack-name "$stack" "${template[@]}" \
    ${caps:+--capabilities $caps} \
    --parameter-overrides "CodeS3Bucket=$bucket" "CodeS3Key=$key" "AlertEmail=$email" \
    --tags "Project=$project" "Environment=$environment" ManagedBy=synth \
    --no-fail-on-empty-changeset 2>"$work/deploy.err"; then
    cat "$work/deploy.err" >&2
  elif grep -q 'No updates are to be performed' "$work/deploy.err"; then
    # moto refuses an empty change set outright instead of failing it as AWS does.
    echo "No changes to deploy. Stack $stack is up to date"
  else
    cat "$work/deploy.err" >&2
    show_failures
    die "deploy of stack $stack failed"
  fi
  show_outputs
}

# --- changeset ----------------------------------------------------------------------------

no_changes() { grep -qE "didn't contain changes|No updates are to be performed" <<<"$1"; }

changeset() {
  synth_templates
  package
  local status type name caps email
  status=$(stack_status)
  require_updatable "$status"
  case $status in
    "" | REVIEW_IN_PROGRESS) type=CREATE ;;
    *) type=UPDATE ;;
  esac
  name=${CHANGESET_NAME:-synth-$(date -u +%Y%m%d-%H%M%S)}
  if [ -n "${CHANGESET_NAME:-}" ] && [ -n "$status" ] &&
    aws cloudformation describe-change-set --stack-name "$stack" --change-set-name "$name" >/dev/null 2>&1; then
    echo "changeset: replacing the earlier change set $name"
    aws cloudformation delete-change-set --stack-name "$stack" --change-set-name "$name"
  fi
  caps=$(capabilities)
  email=$(alert_email)
  local template=(--template-body "file://$out/stack.yaml")
  if [ "$(wc -c <"$out/stack.yaml")" -gt "$body_limit" ]; then
    local template_key
    template_key="templates/$(sha256sum "$out/stack.yaml" | cut -c1-64).yaml"
    aws s3api put-object --bucket "$bucket" --key "$template_key" --body "$out/stack.yaml" \
      --expected-bucket-owner "$account" >/dev/null
    local domain=amazonaws.com
    [ "$partition" = aws-cn ] && domain=amazonaws.com.cn
    template=(--template-url "https://$bucket.s3.$region.$domain/$template_key")
  fi
  "$venv/bin/python" -c 'import json, sys
print(json.dumps([{"ParameterKey": k, "ParameterValue": v} for k, v in zip(sys.argv[1::2], sys.argv[2::2])]))' \
    CodeS3Bucket "$bucket" CodeS3Key "$key" AlertEmail "$email" >"$work/parameters.json"
  echo "changeset: creating $type change set $name on stack $stack"
  # shellcheck disable=SC2086 # caps is a list of words
  if ! aws cloudformation create-change-set --stack-name "$stack" --change-set-name "$name" \
    --change-set-type "$type" "${template[@]}" ${caps:+--capabilities $caps} \
    --parameters "file://$work/parameters.json" \
    --tags "Key=Project,Value=$project" "Key=Environment,Value=$environment" Key=ManagedBy,Value=synth \
    --description "make changeset: ${synth_args[*]}" >/dev/null 2>"$work/create.err"; then
    local reason
    reason=$(cat "$work/create.err")
    # moto refuses an empty change set outright; AWS creates it and fails it (below).
    no_changes "$reason" || die "cannot create the change set: $reason"
    "$venv/bin/python" -c 'import json, sys
print(json.dumps({"ChangeSetName": sys.argv[1], "StackName": sys.argv[2], "Status": "FAILED",
                  "StatusReason": sys.argv[3].split("operation: ")[-1].strip(), "Changes": []}, indent=2))' \
      "$name" "$stack" "$reason" >"$out/changeset.json"
    report
    return
  fi
  if ! aws cloudformation wait change-set-create-complete --stack-name "$stack" \
    --change-set-name "$name" 2>/dev/null; then
    local reason
    reason=$(aws cloudformation describe-change-set --stack-name "$stack" --change-set-name "$name" \
      --query StatusReason --output text)
    no_changes "$reason" || die "change set $name failed: $reason"
    aws cloudformation describe-change-set --stack-name "$stack" --change-set-name "$name" \
      --output json >"$out/changeset.json"
    aws cloudformation delete-change-set --stack-name "$stack" --change-set-name "$name"
    report
    echo "changeset: no changes; the empty change set $name was deleted"
    return
  fi
  aws cloudformation describe-change-set --stack-name "$stack" --change-set-name "$name" \
    --include-property-values --output json >"$out/changeset.json"
  report
  echo
  echo "changeset: $name is left unexecuted on stack $stack. To apply it:"
  echo "  aws ${endpoint:+--endpoint-url $endpoint }--region $region cloudformation execute-change-set --stack-name $stack --change-set-name $name"
  [ "$type" = UPDATE ] || echo "(a CREATE change set leaves the stack in REVIEW_IN_PROGRESS until it is executed or deleted)"
}

report() {
  "$synth" changeset-report "$out/changeset.json" >"$out/changeset.md"
  cat "$out/changeset.md"
  echo
  echo "changeset: wrote $out/changeset.json and $out/changeset.md"
}

# --- destroy ------------------------------------------------------------------------------

# The deployed template's resources whose DeletionPolicy keeps them, with their physical IDs.
kept_resources() {
  aws cloudformation get-template --stack-name "$stack" --template-stage Original \
    --query TemplateBody --output json >"$work/template.json"
  aws cloudformation list-stack-resources --stack-name "$stack" --output json >"$work/resources.json"
  "$venv/bin/python" - "$work/template.json" "$work/resources.json" <<'PY'
import json, sys
from cfnlint.decode.cfn_yaml import loads

body = json.load(open(sys.argv[1]))
template = loads(body) if isinstance(body, str) else body  # YAML arrives as a string
physical = {r.get("LogicalResourceId"): r.get("PhysicalResourceId")
            for r in json.load(open(sys.argv[2]))["StackResourceSummaries"]}
for logical, resource in template.get("Resources", {}).items():
    policy = resource.get("DeletionPolicy", "Delete")
    if policy in ("Retain", "RetainExceptOnCreate", "Snapshot") and logical in physical:
        print(f"{policy}\t{logical}\t{resource.get('Type')}\t{physical[logical] or '?'}")
PY
}

# Messages in the stack's dead-letter queue (visible and in flight): events that reached no
# table yet. Nothing when the stack has no such output.
dead_letter_count() {
  local url
  url=$(aws cloudformation describe-stacks --stack-name "$stack" --output text \
    --query "Stacks[0].Outputs[?OutputKey=='DeadLetterQueueUrl'].OutputValue | [0]") || return 0
  [ -n "$url" ] && [ "$url" != None ] || return 0
  aws sqs get-queue-attributes --queue-url "$url" --output text \
    --attribute-names ApproximateNumberOfMessages ApproximateNumberOfMessagesNotVisible \
    --query 'Attributes.[ApproximateNumberOfMessages, ApproximateNumberOfMessagesNotVisible]' |
    awk '{print $1 + $2}'
}

# Deleting the stack deletes its dead-letter queue (unless a DeletionPolicy keeps it), and
# with it every event waiting there: refused unless FORCE=1, with the way to save them.
refuse_losing_dead_letters() {
  grep -qP '^Retain\tDeadLetterQueue\t' "$work/kept.tsv" && return 0
  local waiting
  waiting=$(dead_letter_count)
  [ -n "$waiting" ] && [ "$waiting" -gt 0 ] || return 0
  if [ "${FORCE:-}" = 1 ]; then
    echo "destroy: FORCE=1: the $waiting dead letters in the queue are deleted with the stack" >&2
    return 0
  fi
  die "the dead-letter queue of stack $stack holds $waiting events that are in no table; deleting the stack deletes them. Run redrive --stack-name $stack first (docs/redrive.md), or make destroy FORCE=1 to delete them with the stack"
}

destroy() {
  local status
  status=$(stack_status)
  if [ -z "$status" ]; then
    echo "destroy: no stack named $stack in $region; nothing to delete"
    return
  fi
  kept_resources >"$work/kept.tsv"
  refuse_losing_dead_letters
  if [ -t 0 ] && [ "${FORCE:-}" != 1 ]; then
    local answer
    read -r -p "Delete stack $stack ($status) in $region? Type its name to confirm: " answer
    [ "$answer" = "$stack" ] || die "not confirmed; nothing deleted"
  fi
  echo "destroy: deleting stack $stack in $region"
  aws cloudformation delete-stack --stack-name "$stack"
  if ! aws cloudformation wait stack-delete-complete --stack-name "$stack" 2>"$work/wait.err"; then
    cat "$work/wait.err" >&2
    show_failures
    die "deleting stack $stack failed; the events above say which resource and why"
  fi
  echo "destroy: stack $stack deleted"
  if grep -q '^Retain' "$work/kept.tsv"; then
    echo "Kept by their DeletionPolicy (delete them by hand when no longer needed):"
    grep '^Retain' "$work/kept.tsv" | awk -F'\t' '{printf "  %-20s %-24s %s\n", $2, $3, $4}'
  else
    echo "No resource had DeletionPolicy Retain; nothing of the stack is left."
  fi
  if grep -q '^Snapshot' "$work/kept.tsv"; then
    echo "Deleted after a final snapshot (DeletionPolicy Snapshot):"
    grep '^Snapshot' "$work/kept.tsv" | awk -F'\t' '{printf "  %-20s %-24s %s\n", $2, $3, $4}'
  fi
  echo "The artifact bucket is not part of the stack and stays."
}

# --- outputs, logs ------------------------------------------------------------------------

outputs() {
  require_stack
  show_outputs
}

logs() {
  require_stack
  local group
  group=$(aws cloudformation describe-stacks --stack-name "$stack" --output text \
    --query "Stacks[0].Outputs[?OutputKey=='LogGroupName'].OutputValue")
  [ -n "$group" ] && [ "$group" != None ] || die "stack $stack has no LogGroupName output"
  local follow=(--follow)
  [ "${FOLLOW:-1}" != 0 ] || follow=()
  exec "$venv/bin/python" "$root/tools/logs-tail.py" "$group" --region "$region" \
    ${endpoint:+--endpoint-url "$endpoint"} --since "${SINCE:-10m}" "${follow[@]}"
}

# --- verify -------------------------------------------------------------------------------

verify() {
  local bin=${VERIFY_BIN:-$root/target/debug/verify}
  [ -x "$bin" ] || die "$bin not found; build it with cargo build -p verify"
  # Not exec'd, so the EXIT trap still cleans up; set -e passes verify's status on.
  # shellcheck disable=SC2086 # VERIFY_ARGS is a list of words
  "$bin" --stack-name "$stack" --region "$region" ${endpoint:+--endpoint-url "$endpoint"} ${VERIFY_ARGS:-}
}

case $verb in
  package | deploy | changeset | destroy | outputs | logs | verify) "$verb" ;;
  *) die "unknown verb $verb; $usage" ;;
esac
