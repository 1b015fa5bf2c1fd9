# shellcheck shell=bash
# The deploy verb and the event source mapping across deploys (docs/mapping-replacement.md),
# sourced by tools/stack.sh, never run by itself: plan_mapping (make deploy and make changeset
# keep the mapping's create-only start, or choose where its successor starts), deploy_template,
# wait_mapping_gone and deploy (a replaced mapping in the steps Lambda accepts). They run in
# stack.sh's shell, under its set -euo pipefail, with its variables and helpers (aws, cfn,
# facts, output, fail, die; work, out, stack, verb and the rest).
# shellcheck disable=SC2154 # assigned in tools/stack.sh

# The event source mapping across deploys (docs/mapping-replacement.md): its create-only
# starting position is kept, or, when it is replaced, chosen where the old mapping was reading.
# Sets deploy_file (the template to deploy: synth's, the mapping's start kept or chosen) and,
# for a replacement in two steps, removal_file (step 1: the deployed template without the
# mapping) and old_mapping; says what it decided. `changeset` reads nothing of the old mapping
# (MAPPING_START, else now, stands in): make deploy chooses when it deploys.
plan_mapping() {
  local plan why chosen start described reason now deployed=() observed=() chose=()
  deploy_file="$out/deploy.json" removal_file='' old_mapping=''
  if [ -n "$status" ]; then
    cfn get-template --template-stage Original --query TemplateBody --output json >"$work/deployed.json"
    deployed=(--deployed "$work/deployed.json")
  fi
  plan=$(facts mapping-plan "${deployed[@]}" "$out/stack.json")
  IFS=$'\t' read -r mapping_action logical why <<<"$plan"
  echo "mapping: $logical: $mapping_action: $why"
  now=$(date +%s)
  case $mapping_action in
    replace | replace-in-two-steps)
      old_mapping=$(output mapping)
      if [ "$verb" = changeset ]; then
        chose=(--start "${MAPPING_START:-$now}")
      elif [ -z "${MAPPING_START:-}" ]; then
        local processor
        processor=$(output function)
        aws lambda get-event-source-mapping --uuid "$old_mapping" --output json >"$work/mapping.json"
        aws lambda get-function-configuration --function-name "$processor" --output json >"$work/function.json"
        aws cloudwatch get-metric-statistics --namespace AWS/Lambda --metric-name IteratorAge \
          --dimensions "Name=FunctionName,Value=$processor" --statistics Maximum --period 60 \
          --start-time $((now - 3600)) --end-time $((now + 60)) --output json >"$work/iterator-age.json"
        observed=(--mapping "$work/mapping.json" --function "$work/function.json" --iterator-age "$work/iterator-age.json")
      else
        chose=(--start "$MAPPING_START")
      fi
      ;;
    resume) ;;
    *)
      facts mapping-template "${deployed[@]}" "$out/stack.json" >"$deploy_file"
      return
      ;;
  esac
  chosen=$(facts mapping-start "${deployed[@]}" "$out/stack.json" "${observed[@]}" "${chose[@]}" \
    --now "$now" --margin "${MAPPING_MARGIN:-300}") ||
    die "cannot choose where the new $logical starts (above); nothing was deployed"
  IFS=$'\t' read -r start described reason <<<"$chosen"
  if [ "$verb" = changeset ] && [ -z "${MAPPING_START:-}" ]; then
    echo "mapping: make deploy chooses where the new $logical starts when it deploys; this change set shows $described"
  else
    echo "mapping: the new $logical starts $described: $reason"
    echo "mapping: records from then on that the old mapping had read too are written again under the same item keys; per-minute aggregates count them twice until rebuilt (query aggregates --rebuild, docs/mapping-replacement.md)"
  fi
  facts mapping-template "${deployed[@]}" "$out/stack.json" --start "$start" --why "$reason" >"$deploy_file"
  if [ "$mapping_action" = replace-in-two-steps ]; then
    removal_file="$out/deploy-step1.json"
    facts mapping-template "${deployed[@]}" "$out/stack.json" --start "$start" --why "$reason" --removal >"$removal_file"
  fi
}

# Deploys template FILE; on failure stops with MESSAGE (and the stack's latest failures).
deploy_template() {
  local template=(--template-file "$1")
  if [ "$(wc -c <"$1")" -gt "$body_limit" ]; then
    template+=(--s3-bucket "$bucket" --s3-prefix templates)
    echo "deploy: the template is over $body_limit bytes; it goes through s3://$bucket/templates/"
  fi
  echo "deploy: stack $stack (${status:-new}), capabilities ${caps:-none}, AlertEmail '${email}'"
  # shellcheck disable=SC2086 # caps is a list of words
  if cfn deploy "${template[@]}" ${caps:+--capabilities $caps} \
    --parameter-overrides "CodeS3Bucket=$bucket" "CodeS3Key=$key" "AlertEmail=$email" \
    --tags "Project=$project" "Environment=$environment" ManagedBy=synth \
    --no-fail-on-empty-changeset 2>"$work/deploy.err"; then
    cat "$work/deploy.err" >&2
  elif facts no-changes "$(<"$work/deploy.err")"; then
    # moto refuses an empty change set outright instead of failing it as AWS does.
    echo "No changes to deploy. Stack $stack is up to date"
  else
    fail "$work/deploy.err" "$2"
  fi
}

# Waits until Lambda has deleted mapping UUID (CloudFormation's update removed it), so the
# new one of the same stream and function is not refused. Deleted: ListEventSourceMappings no
# longer lists it (a query, not the text of an error); a failing list stops with the CLI's message.
wait_mapping_gone() {
  local _ listed
  for _ in $(seq 60); do
    listed=$(aws lambda list-event-source-mappings --output json --query "length(EventSourceMappings[?UUID=='$1'])") ||
      die "cannot tell whether mapping $1 is deleted"
    if [ "$listed" = 0 ]; then
      echo "deploy: event source mapping $1 is deleted"
      return
    fi
    sleep 5
  done
  die "event source mapping $1 still exists 5 minutes after the update that removed it; run make deploy again once it is gone"
}

deploy() {
  # shellcheck disable=SC2034 # type: set by prepare (stack.sh), read only by changeset
  local status type caps email mapping_action logical deploy_file removal_file old_mapping
  prepare
  plan_mapping
  if [ -n "$removal_file" ]; then
    echo "deploy: step 1 of 2: stack $stack without $logical (mapping $old_mapping)"
    deploy_template "$removal_file" "step 1 of stack $stack failed; nothing changed: $logical (mapping $old_mapping) still reads the stream"
    wait_mapping_gone "$old_mapping"
    echo "deploy: step 2 of 2: stack $stack with the new $logical"
    deploy_template "$deploy_file" "step 2 of stack $stack failed: the stack has no $logical now, so nothing reads the stream; run make deploy again: it creates $logical where step 1 recorded (the records wait in the stream meanwhile)"
  else
    deploy_template "$deploy_file" "deploy of stack $stack failed"
  fi
  show_outputs
}
