#!/usr/bin/env bash
# Lints the template of every preset, YAML and JSON, with the pinned cfn-lint and checkov,
# and checks that the YAML and the JSON are the same document. Any finding fails: cfn-lint
# must report nothing at all (errors, warnings and informational findings alike), and
# checkov must report no failed check (skips carry their reason in the resource's Metadata).
#
# Usage: tools/lint-templates.sh SYNTH_BINARY
set -euo pipefail
synth=${1:?usage: tools/lint-templates.sh SYNTH_BINARY}
venv=${VENV:-.venv}
presets=(dev staging prod high-throughput cost-optimized)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for preset in "${presets[@]}"; do
  "$synth" --preset "$preset" --format yaml >"$work/$preset.yaml"
  "$synth" --preset "$preset" --format json >"$work/$preset.json"
done
# The alert topic and its key exist only with an address: lint that variant too.
"$synth" --set sns_email_endpoint=ops@example.com >"$work/dev-alerts.yaml"
"$synth" --set dynamodb_billing_mode=PROVISIONED >"$work/dev-provisioned.yaml"
# Protections turned off on purpose must still lint clean (checkov skips carry the reason).
"$synth" --set dynamodb_point_in_time_recovery_enabled=false \
  --set dynamodb_server_side_encryption_enabled=false >"$work/dev-unprotected.yaml"
"$synth" --set kinesis_stream_mode=ON_DEMAND --set lambda_architecture=x86_64 \
  --set lambda_reserved_concurrency=10 >"$work/dev-on-demand-x86.yaml"
# Producers in other accounts add the stream's resource policy and a key policy statement.
"$synth" --set 'producer_principals=["123456789012","arn:aws:iam::210987654321:role/ingest"]' \
  >"$work/dev-producers.yaml"
# Items that expire: the table's TTL specification and the function's ITEM_TTL_DAYS.
"$synth" --set dynamodb_ttl_days=30 >"$work/dev-ttl.yaml"
# Sub-minute failed-events alarms (high resolution), both accepted values.
"$synth" --set cloudwatch_alarm_period_seconds=10 >"$work/dev-alarm-10s.yaml"
"$synth" --set cloudwatch_alarm_period_seconds=30 >"$work/dev-alarm-30s.yaml"
# Write-sharded index keys (issue 14): dev sharded, and high-throughput with the plain keys.
"$synth" --set dynamodb_index_write_shards=8 >"$work/dev-index-shards.yaml"
"$synth" --preset high-throughput --set dynamodb_index_write_shards=1 \
  >"$work/high-throughput-plain-index.yaml"
# Index projections and the Standard-IA table class (issue 10).
"$synth" --set dynamodb_gsi_projection=KEYS_ONLY --set dynamodb_table_class=STANDARD_INFREQUENT_ACCESS \
  >"$work/dev-keys-only-ia.yaml"
"$synth" --preset high-throughput --set dynamodb_gsi_projection=INCLUDE \
  --set 'dynamodb_gsi_include_attributes=["eventScore","insight"]' >"$work/high-throughput-include.yaml"
# The consumer options, one by one: filters, enhanced fan-out, AT_TIMESTAMP, VPC placement
# (the stack's security group, given groups, and the endpoints).
filters=(--set 'lambda_filter_event_types=["purchase","add_to_cart"]'
  --set 'lambda_filter_patterns=["{\"data\": {\"eventScore\": [{\"numeric\": [\">=\", 50]}]}}"]')
efo=(--set kinesis_consumer=enhanced-fan-out)
at_timestamp=(--set lambda_starting_position=AT_TIMESTAMP
  --set lambda_starting_position_timestamp=1764633600)
subnets=(--set 'vpc_subnet_ids=["subnet-0123456789abcdef0","subnet-0a1b2c3d"]')
vpc_own_group=("${subnets[@]}" --set vpc_id=vpc-0123456789abcdef0)
vpc_given_groups=("${subnets[@]}" --set 'vpc_security_group_ids=["sg-0123456789abcdef0"]')
vpc_endpoints=("${vpc_own_group[@]}" --set 'vpc_route_table_ids=["rtb-0123456789abcdef0"]'
  --set vpc_create_endpoints=true)
"$synth" "${filters[@]}" >"$work/dev-filters.yaml"
# Filters encrypted with the data key (issue 22), which dev-filters has by default: said
# explicitly with enhanced fan-out (the key policy names the consumer), and turned off.
"$synth" "${filters[@]}" "${efo[@]}" --set lambda_filter_encryption=true --format json \
  >"$work/dev-filters-encrypted-efo.json"
"$synth" "${filters[@]}" --set lambda_filter_encryption=false >"$work/dev-filters-plain.yaml"
"$synth" "${efo[@]}" >"$work/dev-efo.yaml"
"$synth" "${at_timestamp[@]}" >"$work/dev-at-timestamp.yaml"
"$synth" "${vpc_own_group[@]}" >"$work/dev-vpc.yaml"
"$synth" "${vpc_given_groups[@]}" >"$work/dev-vpc-given-groups.yaml"
"$synth" "${vpc_endpoints[@]}" >"$work/dev-vpc-endpoints.yaml"
# The failure and event archives (issue 19): the queue as the on-failure destination (no
# failure bucket), dev with the event archive, prod without it, and a short archive retention
# (no Glacier Instant Retrieval transition).
"$synth" --set on_failure_destination=sqs >"$work/dev-sqs-destination.yaml"
"$synth" --set archive_events=true --set retain_data_on_delete=true >"$work/dev-archive-retained.yaml"
"$synth" --preset prod --set archive_events=false >"$work/prod-no-archive.yaml"
"$synth" --preset prod --set on_failure_destination=sqs --set archive_retention_days=30 \
  >"$work/prod-sqs-short-archive.yaml"
# Tumbling windows and the aggregate table (issue 20): every preset but cost-optimized has
# them, so lint each of those without them and cost-optimized with five-minute windows
# (provisioned events table, on-demand aggregate table, TTL on both), and the longest window
# with the settings synth warns about.
for preset in dev staging prod high-throughput; do
  "$synth" --preset "$preset" --set aggregate_window_seconds=0 >"$work/$preset-no-windows.yaml"
done
"$synth" --preset cost-optimized --set aggregate_window_seconds=300 --format json \
  >"$work/cost-optimized-windows.json"
"$synth" --preset high-throughput --set aggregate_window_seconds=900 "${efo[@]}" \
  --set lambda_parallelization_factor=10 >"$work/high-throughput-windows-efo.yaml"
# DynamoDB's recovery period, on-demand caps and Contributor Insights (issue 22): a week of
# recovery, both caps and every key followed on dev (caps and insights on the table and each
# index); throttled keys with a write cap alone; prod's throttled keys on a provisioned table.
"$synth" --set dynamodb_pitr_recovery_days=7 --set dynamodb_max_on_demand_write_units=1000 \
  --set dynamodb_max_on_demand_read_units=2000 --set dynamodb_contributor_insights=all \
  >"$work/dev-recovery-caps-insights.yaml"
"$synth" --set dynamodb_contributor_insights=throttled-keys \
  --set dynamodb_max_on_demand_write_units=1 --format json >"$work/dev-throttled-keys.json"
"$synth" --preset prod --set dynamodb_billing_mode=PROVISIONED --set dynamodb_pitr_recovery_days=1 \
  >"$work/prod-provisioned-insights.yaml"
# Gradual deploys (issue 21): prod is canary-10-percent-5-minutes by default (a version, the
# live alias, CodeDeploy's application, group and role); each other deploy_strategy once, the
# queue as on-failure destination and a preset without windows among them, and prod at once.
"$synth" --set deploy_strategy=canary-10-percent-15-minutes --set on_failure_destination=sqs \
  >"$work/dev-canary-15-sqs.yaml"
"$synth" --preset cost-optimized --set deploy_strategy=linear-10-percent-every-minute --format json \
  >"$work/cost-optimized-linear.json"
"$synth" --preset prod --set deploy_strategy=all-at-once >"$work/prod-all-at-once.yaml"
# ... and all together, on the preset with the most resources.
"$synth" --preset prod "${filters[@]}" "${efo[@]}" "${at_timestamp[@]}" "${vpc_endpoints[@]}" \
  --format json >"$work/prod-consumer-options.json"
files=("$work"/*.yaml "$work"/*.json)
passed=0 failed=0

check() { # name, command...
  local name=$1; shift
  if "$@" >"$work/out.txt" 2>&1; then
    passed=$((passed + 1)); echo "ok      $name"
  else
    failed=$((failed + 1)); echo "FAILED  $name"; sed 's/^/        /' "$work/out.txt" | head -60
  fi
}

lint_clean() { # cfn-lint exits non-zero on any finding; say nothing is also required
  local out
  out=$("$venv/bin/cfn-lint" --include-checks I --format parseable -- "$@") || { echo "$out"; return 1; }
  [ -z "$out" ] || { echo "$out"; return 1; }
}

checkov_clean() {
  "$venv/bin/checkov" --quiet --compact --skip-download --framework cloudformation \
    --output cli $(printf -- '-f %s ' "$@")
}

same_document() {
  "$venv/bin/python" - "$@" <<'PY'
import json, sys
from cfnlint.decode import decode
bad = 0
for yaml_path in sys.argv[1:]:
    json_path = yaml_path[:-5] + ".json"
    try:
        open(json_path).close()
    except FileNotFoundError:
        continue
    y, ye = decode(yaml_path)
    j, je = decode(json_path)
    if ye or je:
        print(yaml_path, ye, je); bad += 1; continue
    if json.loads(json.dumps(y, default=str)) != json.loads(json.dumps(j, default=str)):
        print(f"{yaml_path} and {json_path} differ"); bad += 1
sys.exit(1 if bad else 0)
PY
}

check "cfn-lint: ${#files[@]} templates, nothing reported" lint_clean "${files[@]}"
check "checkov: ${#files[@]} templates, no failed check" checkov_clean "${files[@]}"
check "YAML and JSON are the same document for every preset" same_document "$work"/*.yaml

echo "template lint: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
