#!/usr/bin/env bash
# Deploys and reviews the pipeline's stack with the aws CLI (the Makefile's deploy targets).
# It sequences the aws calls, asks and prints; `synth stack-facts` decides what their output
# means (crates/synth/src/commands/stack_facts/).
#
# Usage: tools/stack.sh VERB SYNTH_BIN [synth args...]: package (upload the zip as
# processor/<sha256>.zip), deploy, changeset (created and rendered, left unexecuted), destroy
# (naming what DeletionPolicy keeps), outputs, logs (tools/logs-tail.py) or verify.
# Environment, all optional, as docs/deploy.md lists it: STACK, REGION, ALERT_EMAIL,
# ARTIFACT_BUCKET, AWS_ENDPOINT_URL (moto's; every aws call gets it), ZIP, CHANGESET_NAME,
# SINCE and FOLLOW (logs), FORCE=1 (destroy: no prompt; waiting dead letters and failed
# batches not yet redriven go with the stack), VERIFY_ARGS and VERIFY_BIN (verify),
# MAPPING_START and MAPPING_MARGIN (deploy: where a replaced event source mapping's successor
# starts, docs/mapping-replacement.md).
set -euo pipefail
usage="usage: tools/stack.sh package|deploy|changeset|destroy|outputs|logs|verify SYNTH_BIN [synth args...]"
verb=${1:?$usage}
synth=${2:?$usage}
synth_args=("${@:3}")

root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.venv" out="$root/cfn-out"
zip=${ZIP:-$out/processor.zip}
body_limit=51200 # bytes of template body CloudFormation takes; larger ones go through S3

die() { echo "error: $*" >&2; exit 1; }
# verify talks to AWS through the SDK alone; every other verb needs the aws CLI.
[ "$verb" = verify ] || [ -x "$venv/bin/aws" ] || die "$venv/bin/aws not found; run make venv"
[ -x "$synth" ] || die "$synth not found; build it with cargo build -p synth"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cfg() { "$synth" "${synth_args[@]}" --get "$1"; }
facts() { "$synth" stack-facts "$@"; }
project=$(cfg project_name)
environment=$(cfg environment)
region=${REGION:-$(cfg region)}
stack=${STACK:-$project-$environment}

# The aws CLI v1 reads AWS_ENDPOINT_URL (botocore 1.31+) but does not give it to every client
# (deploy's S3 upload): the variable stays exported for those, and the rest get the flag.
endpoint=${AWS_ENDPOINT_URL:-}
aws() { "$venv/bin/aws" ${endpoint:+--endpoint-url "$endpoint"} --region "$region" "$@"; }
cfn() { aws cloudformation "$1" --stack-name "$stack" "${@:2}"; } # not for wait (waiter first)

# The stack's status, or nothing when there is no such stack (with `required`: stops, saying so).
# No such stack: describe-stacks fails and list-stacks (not the error's text) lists no live one.
stack_status() {
  cfn describe-stacks --query 'Stacks[0].StackStatus' --output text 2>"$work/status.err" && return
  if ! aws cloudformation list-stacks --output text >"$work/live" --query \
    "StackSummaries[?StackName=='$stack' && StackStatus!='DELETE_COMPLETE'].StackName" || [ "$(<"$work/live")" = "$stack" ]; then
    cat "$work/status.err" >&2; exit 1
  fi
  [ -z "${1:-}" ] || die "no stack named $stack in $region; run make deploy (or set STACK)"
}
# An output's value, named as in `synth stack-facts output --help` (--optional first: or nothing).
output() { cfn describe-stacks --output json >"$work/stack.json" && facts output "$@" "$work/stack.json"; }
# Stops with the aws error in FILE, the stack's latest failure events (which say why) and MESSAGE.
fail() {
  { cat "$1"; echo "recent failures of stack $stack:"; } >&2
  cfn describe-stack-events --max-items 100 --output table >&2 --query \
    "StackEvents[?ends_with(ResourceStatus, 'FAILED')] | [:10].[Timestamp,LogicalResourceId,ResourceStatus,ResourceStatusReason]" || true
  die "$2"
}

show_outputs() {
  echo "outputs of stack $stack:"
  # shellcheck disable=SC2016 # backquotes are JMESPath literals
  cfn describe-stacks --output table --query 'Stacks[0].Outputs || `[]` | sort_by(@, &OutputKey)[].{Output: OutputKey, Value: OutputValue}'
}

# The zip is there, built for the configuration's architecture. Local: before any AWS call.
require_zip() {
  [ -f "$zip" ] || die "$zip not found; run make build"
  ZIP_BUDGET_BYTES=0 "$root/tools/check-zip.sh" "$zip" "$(cfg lambda_architecture)" >/dev/null
}

# Private, encrypted (SSE-S3), versioned, TLS only: the settings a reviewer asks for.
create_bucket() {
  local tls=", TLS only" arn="arn:$partition:s3:::$bucket" location=()
  [[ $endpoint != http://* ]] || tls=""
  echo "package: creating s3://$bucket (SSE-S3, versioning, public access blocked$tls)"
  [ "$region" = us-east-1 ] || location=(--create-bucket-configuration "LocationConstraint=$region")
  aws s3api create-bucket --bucket "$bucket" "${location[@]}" >/dev/null ||
    die "bucket $bucket belongs to another account or access is denied; set ARTIFACT_BUCKET"
  aws s3api wait bucket-exists --bucket "$bucket"
  aws s3api put-public-access-block --bucket "$bucket" --public-access-block-configuration \
    BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true
  aws s3api put-bucket-encryption --bucket "$bucket" --server-side-encryption-configuration \
    '{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"AES256"}}]}'
  aws s3api put-bucket-versioning --bucket "$bucket" --versioning-configuration Status=Enabled
  # A plain-HTTP endpoint (moto on loopback) could not reach a TLS-only bucket.
  [[ $endpoint == http://* ]] || aws s3api put-bucket-policy --bucket "$bucket" --policy "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"DenyInsecureTransport\",\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"s3:*\",\"Resource\":[\"$arn\",\"$arn/*\"],\"Condition\":{\"Bool\":{\"aws:SecureTransport\":\"false\"}}}]}"
  aws s3api put-bucket-tagging --bucket "$bucket" \
    --tagging "TagSet=[{Key=Project,Value=$project},{Key=ManagedBy,Value=synth}]"
}

# Sets account, partition, bucket and key, uploading the zip when that key is not there yet.
package() {
  require_zip
  aws sts get-caller-identity --query '[Account, Arn]' --output text >"$work/identity" ||
    die "cannot reach AWS with the current credentials (aws sts get-caller-identity failed)"
  IFS=$'\t:' read -r account _ partition _ <"$work/identity" # ACCOUNT<TAB>arn:PARTITION:...
  local suffix="-artifacts-$account-$region" default
  default="${project:0:$((63 - ${#suffix}))}$suffix" # at most 63 characters; the suffix kept
  bucket=${ARTIFACT_BUCKET:-$default}
  # head-bucket fails alike for no such bucket, another account's and access denied: the account's
  # own buckets (list-buckets), not the error's text, say whether it is the account's.
  if ! aws s3api head-bucket --bucket "$bucket" --expected-bucket-owner "$account" >/dev/null 2>"$work/head.err"; then
    aws s3api list-buckets --query "Buckets[?Name=='$bucket'].Name" --output text >"$work/owned" ||
      die "cannot tell whether bucket $bucket exists (aws s3api list-buckets failed)"
    if [ "$(<"$work/owned")" = "$bucket" ]; then
      cat "$work/head.err" >&2
      [ -z "${ARTIFACT_BUCKET:-}" ] || die "cannot use ARTIFACT_BUCKET $bucket: it belongs to another account or access is denied"
      die "bucket $bucket belongs to another account or access is denied; set ARTIFACT_BUCKET"
    fi
    [ -z "${ARTIFACT_BUCKET:-}" ] || die "ARTIFACT_BUCKET $bucket does not exist or belongs to another account; create it, or unset ARTIFACT_BUCKET to use $default"
    create_bucket # another account's name: create-bucket fails, and create_bucket stops, saying so
  fi
  key="processor/$(sha256sum "$zip" | cut -c1-64).zip"
  if aws s3api head-object --bucket "$bucket" --key "$key" --expected-bucket-owner "$account" >/dev/null 2>&1; then
    echo "package: s3://$bucket/$key is already there; upload skipped"
  else
    aws s3api put-object --bucket "$bucket" --key "$key" --body "$zip" --expected-bucket-owner "$account" >/dev/null
    echo "package: uploaded $zip ($(wc -c <"$zip") bytes) to s3://$bucket/$key"
  fi
  printf 'bucket: %s\nkey:    %s\n' "$bucket" "$key"
}

# Whether a resource of CloudFormation type KIND named NAME exists.
exists() {
  case $1 in
    AWS::DynamoDB::Table) aws dynamodb describe-table --table-name "$2" ;;
    AWS::Kinesis::Stream) aws kinesis describe-stream-summary --stream-name "$2" ;;
    AWS::SQS::Queue) aws sqs get-queue-url --queue-name "$2" ;;
    AWS::Logs::LogGroup) aws logs describe-log-groups --log-group-name-prefix "$2" \
      --query "logGroups[?logGroupName=='$2'] | [0].logGroupName" --output text | grep -qxF "$2" ;;
    *) false ;;
  esac >/dev/null 2>&1
}

# A new stack cannot be created over named resources an earlier stack of this name kept when it
# was deleted (it would fail after the upload, ROLLBACK_COMPLETE): stops, saying what to do.
refuse_taken_names() {
  local taken=() logical kind name
  while IFS=$'\t' read -r logical kind name; do
    ! exists "$kind" "$name" || taken+=("$logical")
  done < <(facts retained-names "$out/stack.json") # taken-names reports a bad template
  facts taken-names --stack-name "$stack" "$out/stack.json" "${taken[@]}"
}

# Synthesizes, checks the stack can change now (deploy: a new one's names are free), packages.
prepare() {
  "$synth" "${synth_args[@]}" --out-dir "$out"
  echo "synth: $out/stack.yaml ($(wc -c <"$out/stack.yaml") bytes) for stack $stack in $region"
  require_zip
  status=$(stack_status)
  type=$(facts updatable --stack-name "$stack" "$status")
  if [ "$verb" = deploy ] && [ -z "$status" ]; then refuse_taken_names; fi
  package
  caps=$(facts capabilities "$out/stack.json")
  email=${ALERT_EMAIL-$(cfg sns_email_endpoint)}
}

# deploy, plan_mapping (changeset's too) and a replaced mapping's steps: tools/stack-mapping.sh.
# shellcheck source=tools/stack-mapping.sh
. "$root/tools/stack-mapping.sh"

changeset() {
  local status type caps email reason mapping_action logical deploy_file removal_file old_mapping
  prepare
  plan_mapping
  local template=(--template-body "file://$deploy_file")
  local name=${CHANGESET_NAME:-synth-$(date -u +%Y%m%d-%H%M%S)} cs
  cs=(--change-set-name "$name")
  if [ -n "${CHANGESET_NAME:-}" ] && [ -n "$status" ] && cfn describe-change-set "${cs[@]}" >/dev/null 2>&1; then
    echo "changeset: replacing the earlier change set $name"
    cfn delete-change-set "${cs[@]}"
  fi
  if [ "$(wc -c <"$deploy_file")" -gt "$body_limit" ]; then
    local template_key domain=amazonaws.com
    template_key="templates/$(sha256sum "$deploy_file" | cut -c1-64).json"
    aws s3api put-object --bucket "$bucket" --key "$template_key" --body "$deploy_file" \
      --expected-bucket-owner "$account" >/dev/null
    [ "$partition" != aws-cn ] || domain=amazonaws.com.cn
    template=(--template-url "https://$bucket.s3.$region.$domain/$template_key")
  fi
  facts change-set-parameters "CodeS3Bucket=$bucket" "CodeS3Key=$key" "AlertEmail=$email" >"$work/parameters.json"
  echo "changeset: creating $type change set $name on stack $stack"
  # shellcheck disable=SC2086 # caps is a list of words
  if ! cfn create-change-set "${cs[@]}" --change-set-type "$type" "${template[@]}" \
    ${caps:+--capabilities $caps} --parameters "file://$work/parameters.json" \
    --tags "Key=Project,Value=$project" "Key=Environment,Value=$environment" Key=ManagedBy,Value=synth \
    --description "make changeset: ${synth_args[*]}" >/dev/null 2>"$work/create.err"; then
    reason=$(<"$work/create.err")
    # moto refuses an empty change set outright; AWS creates it and fails it (below).
    facts no-changes "$reason" || die "cannot create the change set: $reason"
    facts failed-change-set --change-set-name "$name" --stack-name "$stack" "$reason" >"$out/changeset.json"
    report
  elif ! aws cloudformation wait change-set-create-complete --stack-name "$stack" "${cs[@]}" 2>/dev/null; then
    reason=$(cfn describe-change-set "${cs[@]}" --query StatusReason --output text)
    facts no-changes "$reason" || die "change set $name failed: $reason"
    cfn describe-change-set "${cs[@]}" --output json >"$out/changeset.json"
    cfn delete-change-set "${cs[@]}"
    report
    echo "changeset: no changes; the empty change set $name was deleted"
  else
    cfn describe-change-set "${cs[@]}" --include-property-values --output json >"$out/changeset.json"
    report
    if [ -n "$removal_file" ]; then
      printf '\nchangeset: %s is left unexecuted on stack %s. Do not execute it: it replaces %s in one update, which Lambda refuses for the same stream and function (ResourceConflictException); make deploy removes it, then creates it, in two updates (docs/mapping-replacement.md)\n' "$name" "$stack" "$logical"
      return
    fi
    printf '\nchangeset: %s is left unexecuted on stack %s. To apply it:\n' "$name" "$stack"
    echo "  aws ${endpoint:+--endpoint-url $endpoint }--region $region cloudformation execute-change-set --stack-name $stack --change-set-name $name"
    [ "$type" = UPDATE ] || echo "(a CREATE change set leaves the stack in REVIEW_IN_PROGRESS until it is executed or deleted)"
  fi
}

report() {
  "$synth" changeset-report --template "$out/stack.json" "$out/changeset.json" | tee "$out/changeset.md"
  printf '\nchangeset: wrote %s and %s\n' "$out/changeset.json" "$out/changeset.md"
}
# Deleting the stack deletes its dead-letter queue and failure bucket (unless a DeletionPolicy
# keeps them: is_kept PHYSICAL_ID, a queue's URL or a bucket's name), and with them events in
# no table yet: refused unless FORCE=1, saying how to save them.
is_kept() { awk -F'\t' -v id="$1" '$1 ~ /^Retain/ && $4 == id {k = 1} END {exit !k}' "$work/kept.tsv"; }
refuse_losing_dead_letters() {
  local url waiting bucket key
  url=$(output --optional dead-letter-queue)
  if [ -n "$url" ] && ! is_kept "$url"; then
    waiting=$(aws sqs get-queue-attributes --queue-url "$url" --attribute-names All --output text --query \
      'sum([Attributes.ApproximateNumberOfMessages, Attributes.ApproximateNumberOfMessagesNotVisible][].to_number(@))')
    refuse "$waiting" "dead-letter queue of stack $stack holds $waiting events that are in no table" "$waiting dead letters in the queue"
  fi
  bucket=$(output --optional failure-bucket)
  if [ -n "$bucket" ] && ! is_kept "$bucket"; then
    aws s3api list-objects-v2 --bucket "$bucket" --output json >"$work/objects.json"
    while read -r key; do # one GetObjectTagging per failed batch or claim check
      printf '%s\t%s\n' "$key" "$(aws s3api get-object-tagging --bucket "$bucket" --key "$key" --query TagSet --output json | tr -d '\n')"
    done < <(facts failure-objects "$work/objects.json") >"$work/tags.tsv"
    waiting=$(facts unhandled-failures "$work/tags.tsv")
    refuse "$waiting" "failure bucket of stack $stack holds $waiting failed batches or dead letters not yet redriven" "$waiting objects not yet redriven in the failure bucket"
  fi
}
refuse() { # count, what the refusal says, what FORCE=1 deletes
  [ "$1" -eq 0 ] || [ "${FORCE:-}" = 1 ] || die "the $2; deleting the stack deletes them. Run redrive --stack-name $stack first (docs/redrive.md), or make destroy FORCE=1 to delete them with the stack"
  [ "$1" -eq 0 ] || echo "destroy: FORCE=1: the $3 are deleted with the stack" >&2
}

destroy() {
  local status answer bucket
  status=$(stack_status)
  [ -n "$status" ] || { echo "destroy: no stack named $stack in $region; nothing to delete"; return; }
  # What the deployed template's DeletionPolicy keeps, with physical IDs, read before deleting.
  cfn get-template --template-stage Original --query TemplateBody --output json >"$work/template.json"
  cfn list-stack-resources --output json >"$work/resources.json"
  facts kept "$work/template.json" "$work/resources.json" >"$work/kept.tsv"
  facts kept --summary "$work/template.json" "$work/resources.json" >"$work/kept.txt"
  refuse_losing_dead_letters
  if [ -t 0 ] && [ "${FORCE:-}" != 1 ]; then
    read -r -p "Delete stack $stack ($status) in $region? Type its name to confirm: " answer
    [ "$answer" = "$stack" ] || die "not confirmed; nothing deleted"
  fi
  # CloudFormation deletes only empty buckets: those not kept are emptied first.
  for bucket in $(facts deleted-buckets "$work/template.json" "$work/resources.json"); do
    echo "destroy: emptying s3://$bucket, deleted with the stack"; aws s3 rm "s3://$bucket" --recursive --quiet
  done
  echo "destroy: deleting stack $stack in $region"
  cfn delete-stack
  aws cloudformation wait stack-delete-complete --stack-name "$stack" 2>"$work/wait.err" ||
    fail "$work/wait.err" "deleting stack $stack failed; the events above say which resource and why"
  echo "destroy: stack $stack deleted"
  cat "$work/kept.txt"
  echo "The artifact bucket is not part of the stack and stays."
}
outputs() { stack_status required >/dev/null; show_outputs; }
logs() {
  stack_status required >/dev/null
  local group follow=(--follow)
  group=$(output log-group)
  [ "${FOLLOW:-1}" != 0 ] || follow=()
  # Its shebang finds the venv's interpreter on PATH. Not exec'd: the EXIT trap cleans up.
  PATH="$venv/bin:$PATH" "$root/tools/logs-tail.py" "$group" --region "$region" \
    ${endpoint:+--endpoint-url "$endpoint"} --since "${SINCE:-10m}" "${follow[@]}"
}

verify() {
  local bin=${VERIFY_BIN:-$root/target/debug/verify}
  [ -x "$bin" ] || die "$bin not found; build it with cargo build -p verify"
  # shellcheck disable=SC2086 # VERIFY_ARGS is a list of words
  "$bin" --stack-name "$stack" --region "$region" ${endpoint:+--endpoint-url "$endpoint"} ${VERIFY_ARGS:-}
}

case $verb in
  package | deploy | changeset | destroy | outputs | logs | verify) "$verb" ;;
  *) die "unknown verb $verb; $usage" ;;
esac
