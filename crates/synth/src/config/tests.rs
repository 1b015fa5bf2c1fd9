//! Tests of the configuration: the rules a user can trip over, the messages they then read,
//! how layers combine, the presets, and the generated reference.

use crate::generated::{check_or_update, Expected};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::Deserialize as _;
use toml::Value;

use super::keys::{self, Check, KEYS};
use super::layers::{parse_document, suggest};
use super::*;

/// Loads the dev preset with `--set` arguments.
fn with_sets(args: &[&str]) -> Result<Config, ConfigError> {
    let args: Vec<String> = args.iter().map(|arg| arg.to_string()).collect();
    Config::load(None, None, &args)
}

/// The error message of a load that must fail.
fn error_of(result: Result<Config, ConfigError>) -> String {
    match result {
        Ok(config) => panic!("expected an error, got {config:#?}"),
        Err(error) => error.to_string(),
    }
}

/// A TOML file in the temp directory, removed when dropped.
struct TempToml(PathBuf);

impl TempToml {
    fn new(text: &str) -> TempToml {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("synth-config-{}-{n}.toml", std::process::id()));
        std::fs::write(&path, text).expect("write temp config");
        TempToml(path)
    }
}

impl Drop for TempToml {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn load_file(text: &str, sets: &[&str]) -> (Result<Config, ConfigError>, TempToml) {
    let file = TempToml::new(text);
    let sets: Vec<String> = sets.iter().map(|arg| arg.to_string()).collect();
    (Config::load(None, Some(&file.0), &sets), file)
}

// ---------------------------------------------------------------- ranges

/// The ranges as the recipe (or, for new knobs, AWS) states them, written out independently of
/// the key table so a slip in the table shows up here.
const RANGES: &[(&str, i64, i64)] = &[
    ("kinesis_shard_count", 1, 1000),
    ("kinesis_retention_period", 24, 8760),
    ("lambda_memory_size", 128, 10240),
    ("lambda_timeout", 1, 900),
    ("lambda_batch_size", 1, 10000),
    ("lambda_maximum_batching_window_in_seconds", 0, 300),
    ("lambda_parallelization_factor", 1, 10),
    ("dynamodb_read_capacity", 1, 40000),
    ("dynamodb_write_capacity", 1, 40000),
    ("dynamodb_max_read_capacity", 1, 40000),
    ("dynamodb_max_write_capacity", 1, 40000),
    ("dynamodb_autoscaling_target_utilization", 20, 90),
    ("dynamodb_ttl_days", 0, 3650),
    ("dynamodb_pitr_recovery_days", 1, 35),
    ("dynamodb_index_write_shards", 1, 100),
    ("sqs_message_retention_seconds", 60, 1209600),
    ("sqs_visibility_timeout_seconds", 0, 43200),
    ("cloudwatch_alarm_evaluation_periods", 1, 8640),
    ("failure_archive_retention_days", 1, 3650),
    ("archive_retention_days", 1, 3650),
];

/// Keys with a "-1 means ..." value besides their range: (key, min, max).
const SENTINEL_RANGES: &[(&str, i64, i64)] = &[
    ("lambda_reserved_concurrency", 0, 1000),
    ("lambda_maximum_retry_attempts", 0, 10000),
    ("lambda_maximum_record_age_in_seconds", 60, 604800),
];

fn accepts(key: &str, value: Value) -> bool {
    let spec = keys::spec(key).unwrap_or_else(|| panic!("no key {key}"));
    spec.check.check(&value).is_ok()
}

#[test]
fn every_ranged_key_refuses_just_outside_its_range_naming_key_and_bounds() {
    for &(key, min, max) in RANGES {
        for bad in [min - 1, max + 1] {
            let message = error_of(with_sets(&[&format!("{key}={bad}")]));
            let expected = format!("{key} must be between {min} and {max}, got {bad}");
            assert!(message.starts_with(&expected), "{key}={bad}: {message}");
            assert!(message.contains(&format!("--set {key}={bad}")), "{message}");
        }
        assert!(accepts(key, Value::Integer(min)), "{key}={min}");
        assert!(accepts(key, Value::Integer(max)), "{key}={max}");
    }
}

#[test]
fn sentinel_keys_accept_minus_one_and_refuse_just_outside_their_range() {
    for &(key, min, max) in SENTINEL_RANGES {
        let below = if min - 1 == -1 { -2 } else { min - 1 };
        for bad in [below, max + 1] {
            let message = error_of(with_sets(&[&format!("{key}={bad}")]));
            let expected = format!("{key} must be -1 (");
            assert!(message.starts_with(&expected), "{key}={bad}: {message}");
            let bounds = format!("between {min} and {max}, got {bad}");
            assert!(message.contains(&bounds), "{key}={bad}: {message}");
        }
        for good in [-1, min, max] {
            assert!(
                with_sets(&[&format!("{key}={good}")]).is_ok(),
                "{key}={good}"
            );
        }
    }
}

#[test]
fn the_alarm_threshold_must_be_positive() {
    let message = error_of(with_sets(&["cloudwatch_alarm_threshold=0"]));
    assert!(message.starts_with("cloudwatch_alarm_threshold must be at least 1, got 0"));
    assert!(with_sets(&["cloudwatch_alarm_threshold=1"]).is_ok());
}

#[test]
fn every_integer_key_has_a_range_test() {
    let tested: BTreeSet<&str> = RANGES
        .iter()
        .chain(SENTINEL_RANGES)
        .map(|(key, _, _)| *key)
        .chain([
            "cloudwatch_alarm_threshold",
            "lambda_starting_position_timestamp",
            "aggregate_window_seconds",
            "dynamodb_max_on_demand_write_units",
            "dynamodb_max_on_demand_read_units",
        ])
        .collect();
    for spec in KEYS {
        if matches!(spec.check, Check::Int { .. } | Check::IntOr { .. }) {
            assert!(tested.contains(spec.key), "add {} to RANGES", spec.key);
        }
    }
}

/// Tumbling windows: 0 turns them off, Lambda takes 1 to 900 seconds; anything else is
/// refused naming the key, both and the value.
#[test]
fn the_aggregate_window_is_off_or_one_to_900_seconds() {
    for good in [0, 1, 60, 900] {
        let config = with_sets(&[&format!("aggregate_window_seconds={good}")])
            .unwrap_or_else(|e| panic!("{good}: {e}"));
        assert_eq!(config.aggregate_window_seconds, good);
        assert_eq!(config.aggregate_window(), (good > 0).then_some(good));
    }
    for bad in [901, -1, -60, 3600] {
        let message = error_of(with_sets(&[&format!("aggregate_window_seconds={bad}")]));
        assert_eq!(
            message,
            format!(
                "aggregate_window_seconds must be 0 (off) or between 1 and 900, got {bad} \
                 (from --set aggregate_window_seconds={bad})"
            )
        );
    }
    let message = error_of(with_sets(&["aggregate_window_seconds=1m"]));
    assert!(
        message.starts_with("aggregate_window_seconds must be an integer, got \"1m\""),
        "{message}"
    );
    let (result, file) = load_file("aggregate_window_seconds = 1000\n", &[]);
    assert_eq!(
        error_of(result),
        format!(
            "aggregate_window_seconds must be 0 (off) or between 1 and 900, got 1000 (from {}, \
             line 1)",
            file.0.display()
        )
    );
}

/// The on-demand caps: 0 is no cap, otherwise CloudFormation's minimum of 1 up to DynamoDB's
/// default per-table quota; anything else is refused naming the key, both and the value.
#[test]
fn on_demand_caps_are_off_or_one_to_the_table_quota() {
    for key in [
        "dynamodb_max_on_demand_write_units",
        "dynamodb_max_on_demand_read_units",
    ] {
        for good in [0, 1, 40_000] {
            assert!(
                with_sets(&[&format!("{key}={good}")]).is_ok(),
                "{key}={good}"
            );
        }
        for bad in [-1, 40_001] {
            let message = error_of(with_sets(&[&format!("{key}={bad}")]));
            assert_eq!(
                message,
                format!(
                    "{key} must be 0 (no cap) or between 1 and 40000, got {bad} (from --set \
                     {key}={bad})"
                )
            );
        }
    }
}

#[test]
fn values_too_large_for_the_field_get_the_range_message_not_a_type_error() {
    let message = error_of(with_sets(&["kinesis_shard_count=-5"]));
    assert!(message.starts_with("kinesis_shard_count must be between 1 and 1000, got -5"));
    let message = error_of(with_sets(&["lambda_timeout=5000000000"]));
    assert!(message.starts_with("lambda_timeout must be between 1 and 900, got 5000000000"));
}

#[test]
fn log_retention_must_be_a_value_cloudwatch_logs_accepts() {
    let message = error_of(with_sets(&["cloudwatch_log_retention_days=10"]));
    assert!(
        message.starts_with("cloudwatch_log_retention_days must be one of 1, 3, 5, 7, 14, 30,"),
        "{message}"
    );
    assert!(message.contains("3288, 3653, got 10"), "{message}");
    for days in keys::LOG_RETENTION_DAYS {
        assert!(with_sets(&[&format!("cloudwatch_log_retention_days={days}")]).is_ok());
    }
}

#[test]
fn alarm_period_is_10_30_or_a_multiple_of_60() {
    for good in [10, 30, 60, 120, 300, 3600, 86400] {
        let arg = format!("cloudwatch_alarm_period_seconds={good}");
        assert!(with_sets(&[&arg]).is_ok(), "{arg}");
    }
    // 20 is PutMetricAlarm's but not CloudFormation's (cfn-lint E3615): refused.
    for bad in [0, 5, 20, 45, 90, 86460, -60] {
        let message = error_of(with_sets(&[&format!(
            "cloudwatch_alarm_period_seconds={bad}"
        )]));
        let expected = format!(
            "cloudwatch_alarm_period_seconds must be 10, 30 or a multiple of 60 up to 86400, got {bad}"
        );
        assert!(message.starts_with(&expected), "{message}");
    }
}

#[test]
fn alarm_look_back_is_capped_at_a_day_under_hourly_periods_and_a_week_above() {
    assert!(with_sets(&["cloudwatch_alarm_evaluation_periods=1440"]).is_ok());
    let message = error_of(with_sets(&["cloudwatch_alarm_evaluation_periods=1441"]));
    assert!(
        message.starts_with(
            "cloudwatch_alarm_evaluation_periods must be at most 1440 when cloudwatch_alarm_period_seconds is 60"
        ),
        "{message}"
    );
    let hourly = "cloudwatch_alarm_period_seconds=3600";
    assert!(with_sets(&[hourly, "cloudwatch_alarm_evaluation_periods=168"]).is_ok());
    let message = error_of(with_sets(&[
        hourly,
        "cloudwatch_alarm_evaluation_periods=169",
    ]));
    assert!(message.contains("at most 168"), "{message}");
}

// ---------------------------------------------------------------- closed sets and types

#[test]
fn every_enum_key_refuses_other_values_naming_the_allowed_ones() {
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "lambda_starting_position",
            "latest",
            &["TRIM_HORIZON", "LATEST", "AT_TIMESTAMP"],
        ),
        ("kinesis_consumer", "efo", &["shared", "enhanced-fan-out"]),
        (
            "dynamodb_gsi_projection",
            "NONE",
            &["ALL", "KEYS_ONLY", "INCLUDE"],
        ),
        (
            "dynamodb_table_class",
            "STANDARD_IA",
            &["STANDARD", "STANDARD_INFREQUENT_ACCESS"],
        ),
        (
            "dynamodb_billing_mode",
            "ON_DEMAND",
            &["PAY_PER_REQUEST", "PROVISIONED"],
        ),
        (
            "kinesis_stream_mode",
            "SERVERLESS",
            &["PROVISIONED", "ON_DEMAND"],
        ),
        ("lambda_architecture", "amd64", &["arm64", "x86_64"]),
        ("on_failure_destination", "sns", &["s3", "sqs"]),
        (
            "dynamodb_contributor_insights",
            "THROTTLED_KEYS",
            &["off", "throttled-keys", "all"],
        ),
        (
            "deploy_strategy",
            "canary",
            &[
                "all-at-once",
                "canary-10-percent-5-minutes",
                "canary-10-percent-15-minutes",
                "linear-10-percent-every-minute",
            ],
        ),
    ];
    for (key, bad, allowed) in cases {
        let message = error_of(with_sets(&[&format!("{key}={bad}")]));
        let expected = format!("{key} must be one of {}, got \"{bad}\"", allowed.join(", "));
        assert!(message.starts_with(&expected), "{message}");
    }
}

#[test]
fn every_enum_key_has_a_refusal_test() {
    let tested = [
        "lambda_starting_position",
        "kinesis_consumer",
        "dynamodb_gsi_projection",
        "dynamodb_table_class",
        "dynamodb_gsi_include_attributes",
        "dynamodb_billing_mode",
        "kinesis_stream_mode",
        "lambda_architecture",
        "kinesis_shard_level_metrics",
        "on_failure_destination",
        "dynamodb_contributor_insights",
        "deploy_strategy",
    ];
    for spec in KEYS {
        if matches!(spec.check, Check::Choice(_) | Check::ChoiceList(_)) {
            assert!(
                tested.contains(&spec.key),
                "add a refusal test for {}",
                spec.key
            );
        }
    }
}

#[test]
fn shard_level_metrics_refuse_unknown_metrics_naming_the_allowed_ones() {
    let message = error_of(with_sets(&[
        r#"kinesis_shard_level_metrics=["IncomingRecords", "Bogus"]"#,
    ]));
    assert!(
        message.starts_with("kinesis_shard_level_metrics must contain only"),
        "{message}"
    );
    for name in ShardLevelMetric::NAMES {
        assert!(message.contains(name), "{name} missing from {message}");
    }
    assert!(message.contains("got \"Bogus\""), "{message}");
    let config = with_sets(&[r#"kinesis_shard_level_metrics=["ALL"]"#]).expect("ALL is allowed");
    assert_eq!(config.kinesis_shard_level_metrics, [ShardLevelMetric::All]);
}

#[test]
fn wrong_types_from_set_are_refused_naming_the_expected_type() {
    let cases = [
        (
            "kinesis_shard_count",
            "abc",
            "kinesis_shard_count must be an integer, got \"abc\"",
        ),
        (
            "lambda_memory_size",
            "1.5",
            "lambda_memory_size must be an integer, got 1.5",
        ),
        (
            "lambda_timeout",
            "true",
            "lambda_timeout must be an integer, got true",
        ),
        (
            "dynamodb_point_in_time_recovery_enabled",
            "yes",
            "dynamodb_point_in_time_recovery_enabled must be true or false, got \"yes\"",
        ),
        (
            "kinesis_shard_level_metrics",
            "ALL",
            "kinesis_shard_level_metrics must be a list of strings, got \"ALL\"",
        ),
        (
            "additional_tags",
            "5",
            "additional_tags must be a table of strings, got 5",
        ),
    ];
    for (key, value, expected) in cases {
        let message = error_of(with_sets(&[&format!("{key}={value}")]));
        assert!(message.starts_with(expected), "{message}");
    }
}

#[test]
fn wrong_types_in_a_file_are_refused_with_file_and_line() {
    let text = "lambda_starting_position = 5\nproject_name = true\nsns_email_endpoint = 1\n";
    let (result, file) = load_file(text, &[]);
    let error = result.expect_err("three wrong types");
    let found: Vec<String> = error.violations().iter().map(|v| v.to_string()).collect();
    let path = file.0.display();
    assert_eq!(
        found,
        [
            format!("project_name must be a string, got true (from {path}, line 2)"),
            format!("lambda_starting_position must be a string, got 5 (from {path}, line 1)"),
            format!("sns_email_endpoint must be a string, got 1 (from {path}, line 3)"),
        ]
    );
    assert!(error
        .to_string()
        .starts_with("3 problems in the configuration:\n  - "));
}

// ---------------------------------------------------------------- names, region, e-mail, tags

#[test]
fn names_must_fit_into_aws_resource_names() {
    let long_project = format!("project_name={}", "a".repeat(33));
    for arg in [
        "project_name=Retail",
        "project_name=1abc",
        "project_name=retail_events",
        "project_name=",
        &long_project,
    ] {
        let message = error_of(with_sets(&[arg]));
        assert!(
            message.starts_with("project_name must be 1 to 32 lowercase letters, digits or hyphens, starting with a letter"),
            "{arg}: {message}"
        );
    }
    let message = error_of(with_sets(&["environment=production-eu-west"]));
    assert!(
        message.starts_with("environment must be 1 to 16 lowercase"),
        "{message}"
    );
    let ok = with_sets(&[
        &format!("project_name={}", "a".repeat(32)),
        "environment=qa-2",
    ]);
    assert!(ok.is_ok());
}

#[test]
fn a_number_given_for_a_name_is_kept_as_the_text_typed() {
    let message = error_of(with_sets(&["project_name=2024"]));
    assert!(message.contains("got \"2024\""), "{message}");
}

#[test]
fn region_must_look_like_an_aws_region() {
    for good in [
        "us-east-1",
        "eu-central-2",
        "us-gov-west-1",
        "cn-north-1",
        "ap-southeast-3",
        "eusc-de-east-1",
    ] {
        assert!(with_sets(&[&format!("region={good}")]).is_ok(), "{good}");
    }
    for bad in [
        "us-east",
        "US-EAST-1",
        "useast1",
        "us-east-1a",
        "us-east-100",
        "-east-1",
        "us--1",
    ] {
        let message = error_of(with_sets(&[&format!("region={bad}")]));
        let expected = format!("region must be an AWS region name like us-east-1, got \"{bad}\"");
        assert!(message.starts_with(&expected), "{message}");
    }
}

/// `us-east-9` has the shape of a region but is none: refused naming the key, the value and
/// the partition's regions nearest to it, for every partition.
#[test]
fn region_must_be_a_region_aws_has_in_its_partition() {
    for good in [
        "us-west-2",
        "mx-central-1",
        "cn-northwest-1",
        "us-gov-east-1",
    ] {
        assert!(with_sets(&[&format!("region={good}")]).is_ok(), "{good}");
    }
    for (bad, rule) in [
        (
            "us-east-9",
            "be one of the aws partition's regions, such as us-east-1, us-east-2",
        ),
        (
            "cn-south-1",
            "be one of the aws-cn partition's regions, such as cn-north-1, cn-northwest-1",
        ),
        (
            "us-gov-north-1",
            "be one of the aws-us-gov partition's regions, such as us-gov-east-1, us-gov-west-1",
        ),
        (
            "xy-east-1",
            "be a region of one of AWS's partitions aws, aws-cn",
        ),
    ] {
        let message = error_of(with_sets(&[&format!("region={bad}")]));
        let expected = format!("region must {rule}");
        assert!(message.starts_with(&expected), "{message}");
        assert!(
            message.contains(&format!("got \"{bad}\" (from --set region={bad})")),
            "{message}"
        );
    }
}

#[test]
fn sns_email_endpoint_is_empty_or_an_address() {
    for good in ["ops@example.com", "a.b+c@sub.example.co", ""] {
        assert!(
            with_sets(&[&format!("sns_email_endpoint={good}")]).is_ok(),
            "{good}"
        );
    }
    for bad in [
        "ops",
        "ops@example",
        "@example.com",
        "ops@@example.com",
        "ops @example.com",
        "ops@example.c0m",
    ] {
        let message = error_of(with_sets(&[&format!("sns_email_endpoint={bad}")]));
        assert!(
            message
                .starts_with("sns_email_endpoint must be empty (no alerts) or an e-mail address"),
            "{bad}: {message}"
        );
    }
}

#[test]
fn producer_principals_accept_account_ids_and_role_or_user_arns() {
    let config = with_sets(&[
        r#"producer_principals=["123456789012", "arn:aws:iam::210987654321:role/ingest"]"#,
    ])
    .expect("an account and a role");
    assert_eq!(
        config.producer_principals,
        ["123456789012", "arn:aws:iam::210987654321:role/ingest"]
    );
    assert!(Config::default().producer_principals.is_empty());
    for good in [
        "000000000000",
        "arn:aws:iam::123456789012:user/alice",
        "arn:aws:iam::123456789012:user/team/data/alice",
        "arn:aws:iam::123456789012:role/service-role/ingest+v2=x,y.z@w_q-1",
        "arn:aws-cn:iam::123456789012:role/ingest",
        "arn:aws-us-gov:iam::123456789012:role/ingest",
    ] {
        assert!(keys::is_principal(good), "{good}");
        assert!(
            with_sets(&[&format!("producer_principals=[\"{good}\"]")]).is_ok(),
            "{good}"
        );
    }
}

#[test]
fn a_malformed_producer_principal_is_refused_naming_the_key_and_the_entry() {
    let long_name = format!("arn:aws:iam::123456789012:role/{}", "r".repeat(65));
    for bad in [
        "12345678901",
        "1234567890123",
        "12345678901a",
        "",
        "*",
        "arn:aws:iam::123456789012:root",
        "arn:aws:iam::123456789012:group/admins",
        "arn:aws:iam::12345678901:role/ingest",
        "arn:aws:iam:us-east-1:123456789012:role/ingest",
        "arn:aws:sts::123456789012:assumed-role/ingest/session",
        "arn:aws-iso:iam::123456789012:role/ingest",
        "arn:aws:iam::123456789012:role/",
        "arn:aws:iam::123456789012:role/a//b",
        "arn:aws:iam::123456789012:role/*",
        "arn:aws:iam::123456789012:role/in gest",
        "arn:aws:kinesis:us-east-1:123456789012:stream/events",
        long_name.as_str(),
    ] {
        let arg = format!(r#"producer_principals=["123456789012", "{bad}"]"#);
        let message = error_of(with_sets(&[&arg]));
        let expected = format!(
            "producer_principals must contain only 12-digit AWS account IDs and IAM role or \
             user ARNs (arn:aws:iam::123456789012:role/NAME, also aws-cn and aws-us-gov), \
             got \"{bad}\" (from --set {arg})"
        );
        assert_eq!(message, expected, "{bad}");
    }
    let message = error_of(with_sets(&["producer_principals=123456789012"]));
    assert!(
        message.starts_with("producer_principals must be a list of strings, got 123456789012"),
        "{message}"
    );
    let message = error_of(with_sets(&["producer_principals=[123456789012]"]));
    assert!(message.contains("got 123456789012"), "{message}");
}

#[test]
fn a_malformed_producer_principal_in_a_file_points_at_its_line() {
    let text = "project_name = \"shop\"\nproducer_principals = [\"123456789012\", \"acct-2\"]\n";
    let (result, file) = load_file(text, &[]);
    let message = error_of(result);
    assert!(
        message.starts_with("producer_principals must contain only"),
        "{message}"
    );
    let origin = format!("got \"acct-2\" (from {}, line 2)", file.0.display());
    assert!(message.ends_with(&origin), "{message}");
}

#[test]
fn additional_tags_respect_aws_tag_limits() {
    let long_key = format!("additional_tags.{}=x", "k".repeat(129));
    let long_value = format!("additional_tags.Team={}", "v".repeat(257));
    let cases = [
        (
            "additional_tags.aws:owner=me",
            "not have tag keys starting with \"aws:\"",
        ),
        (
            "additional_tags.AWS:owner=me",
            "not have tag keys starting with \"aws:\"",
        ),
        (
            "additional_tags.=me",
            "have tag keys of 1 to 128 characters",
        ),
        (long_key.as_str(), "have tag keys of 1 to 128 characters"),
        (
            long_value.as_str(),
            "have tag values of at most 256 characters",
        ),
        (
            "additional_tags.Team=R&D",
            "have tag values of letters, digits, spaces",
        ),
        (
            "additional_tags={ Team = 5 }",
            "map tag keys to string values, got \"Team\" = 5",
        ),
    ];
    for (arg, rule) in cases {
        let message = error_of(with_sets(&[arg]));
        assert!(
            message.starts_with(&format!("additional_tags must {rule}")),
            "{arg}: {message}"
        );
    }
    let many: Vec<String> = (0..=keys::MAX_ADDITIONAL_TAGS)
        .map(|i| format!("additional_tags.t{i}=x"))
        .collect();
    let message = error_of(Config::load(None, None, &many));
    assert!(
        message.starts_with("additional_tags must have at most 40 tags, got 41 tags"),
        "{message}"
    );

    let config = with_sets(&[
        "additional_tags.Cost Center=team/data:1",
        "additional_tags.Owner=\"ops@example.com\"",
    ])
    .expect("valid tags");
    assert_eq!(config.additional_tags["Cost Center"], "team/data:1");
    assert_eq!(config.additional_tags["Owner"], "ops@example.com");
}

// ---------------------------------------------------------------- cross-field rules

#[test]
fn max_capacity_must_not_be_below_the_base_when_provisioned() {
    let provisioned = "dynamodb_billing_mode=PROVISIONED";
    let message = error_of(with_sets(&[provisioned, "dynamodb_read_capacity=100"]));
    assert_eq!(
        message,
        "dynamodb_max_read_capacity must be at least dynamodb_read_capacity (100) when \
         dynamodb_billing_mode is PROVISIONED, got 50"
    );
    let message = error_of(with_sets(&[provisioned, "dynamodb_max_write_capacity=4"]));
    assert!(message
        .starts_with("dynamodb_max_write_capacity must be at least dynamodb_write_capacity (5)"));
    assert!(
        message.ends_with("(from --set dynamodb_max_write_capacity=4)"),
        "{message}"
    );
    // Capacities mean nothing on demand, so they are not held against each other there.
    assert!(with_sets(&["dynamodb_read_capacity=100"]).is_ok());
}

/// A recovery period other than the default needs point-in-time recovery: refused naming
/// both keys, from the layer that set the period; the default passes either way.
#[test]
fn a_recovery_period_needs_point_in_time_recovery() {
    let off = "dynamodb_point_in_time_recovery_enabled=false";
    let message = error_of(with_sets(&[off, "dynamodb_pitr_recovery_days=7"]));
    assert_eq!(
        message,
        "dynamodb_pitr_recovery_days must be 35 (the default) unless \
         dynamodb_point_in_time_recovery_enabled is true (it is false: there are no backups to \
         restore), got 7 (from --set dynamodb_pitr_recovery_days=7)"
    );
    assert!(with_sets(&[off]).is_ok());
    assert!(with_sets(&[off, "dynamodb_pitr_recovery_days=35"]).is_ok());
    let config = with_sets(&["dynamodb_pitr_recovery_days=1"]).expect("valid");
    assert_eq!(config.pitr_recovery_period(), Some(1));
    assert_eq!(Config::default().pitr_recovery_period(), None);
    let (result, file) = load_file("dynamodb_pitr_recovery_days = 14\n", &[off]);
    assert!(
        error_of(result).ends_with(&format!("got 14 (from {}, line 1)", file.0.display())),
        "the file set the period"
    );
}

/// The on-demand caps are refused on a provisioned table, each naming the billing mode.
#[test]
fn on_demand_caps_need_on_demand_billing() {
    let provisioned = "dynamodb_billing_mode=PROVISIONED";
    let message = error_of(with_sets(&[
        provisioned,
        "dynamodb_max_on_demand_write_units=100",
        "dynamodb_max_on_demand_read_units=200",
    ]));
    assert_eq!(
        message.lines().collect::<Vec<_>>(),
        [
            "2 problems in the configuration:",
            "  - dynamodb_max_on_demand_write_units must be 0 (no cap) when \
             dynamodb_billing_mode is PROVISIONED (caps are for PAY_PER_REQUEST; \
             dynamodb_max_write_capacity bounds a provisioned table), got 100 (from --set \
             dynamodb_max_on_demand_write_units=100)",
            "  - dynamodb_max_on_demand_read_units must be 0 (no cap) when \
             dynamodb_billing_mode is PROVISIONED (caps are for PAY_PER_REQUEST; \
             dynamodb_max_read_capacity bounds a provisioned table), got 200 (from --set \
             dynamodb_max_on_demand_read_units=200)",
        ]
    );
    assert!(with_sets(&[provisioned]).is_ok());
    let message = error_of(Config::load(
        Some("cost-optimized"),
        None,
        &["dynamodb_max_on_demand_write_units=10".to_string()],
    ));
    assert!(
        message.starts_with("dynamodb_max_on_demand_write_units must be 0 (no cap) when"),
        "{message}"
    );
    assert!(with_sets(&["dynamodb_max_on_demand_write_units=10"]).is_ok());
}

#[test]
fn a_cross_field_problem_points_at_the_layer_that_set_the_named_key() {
    let message = error_of(Config::load(
        Some("high-throughput"),
        None,
        &["dynamodb_read_capacity=2000".to_string()],
    ));
    assert!(message
        .contains("dynamodb_max_read_capacity must be at least dynamodb_read_capacity (2000)"));
    assert!(
        message.ends_with("got 1000 (from preset \"high-throughput\")"),
        "{message}"
    );
}

// ---------------------------------------------------------------- layering

#[test]
fn set_beats_file_beats_preset_key_by_key() {
    let text = "kinesis_shard_count = 7\nlambda_memory_size = 1024\nenvironment = \"qa\"\n";
    let file = TempToml::new(text);
    let sets = ["kinesis_shard_count=9".to_string()];
    let config = Config::load(Some("prod"), Some(&file.0), &sets).expect("valid layers");
    assert_eq!(config.kinesis_shard_count, 9, "--set beats the file");
    assert_eq!(
        config.lambda_memory_size, 1024,
        "the file beats the default"
    );
    assert_eq!(config.environment, "qa", "the file beats the preset");
    assert_eq!(
        config.lambda_reserved_concurrency, 100,
        "preset keys the file does not name stay"
    );
    assert!(
        config.dynamodb_deletion_protection,
        "preset keys the file does not name stay"
    );
    assert_eq!(
        config.lambda_timeout, 120,
        "keys nobody names keep the default"
    );
}

#[test]
fn a_later_set_beats_an_earlier_one_and_tags_merge_one_by_one() {
    let config = with_sets(&[
        "lambda_timeout=30",
        "lambda_timeout=60",
        "additional_tags={ Team = \"data\", Owner = \"a\" }",
        "additional_tags.Owner=b",
    ])
    .expect("valid");
    assert_eq!(config.lambda_timeout, 60);
    assert_eq!(config.additional_tags.len(), 2);
    assert_eq!(config.additional_tags["Owner"], "b");
}

#[test]
fn set_values_need_no_quotes_but_may_have_them() {
    let config = with_sets(&[
        "sns_email_endpoint=ops@example.com",
        "environment=prod",
        "region = eu-west-1",
        "project_name=\"orders\"",
        "lambda_memory_size= 1024 ",
        "dynamodb_deletion_protection=true",
        "lambda_starting_position=TRIM_HORIZON",
    ])
    .expect("valid");
    assert_eq!(config.sns_email_endpoint, "ops@example.com");
    assert!(config.alerts_enabled());
    assert_eq!(config.environment, "prod");
    assert_eq!(config.region, "eu-west-1");
    assert_eq!(config.name_prefix(), "orders-prod");
    assert_eq!(config.lambda_memory_size, 1024);
    assert!(config.dynamodb_deletion_protection);
    assert_eq!(
        config.lambda_starting_position,
        StartingPosition::TrimHorizon
    );
    let config = with_sets(&["sns_email_endpoint="]).expect("empty disables alerts");
    assert!(!config.alerts_enabled());
}

#[test]
fn a_set_without_equals_or_key_is_refused_naming_it() {
    let message = error_of(with_sets(&["lambda_memory_size"]));
    assert_eq!(message, "--set expects key=value, got `lambda_memory_size`");
    let message = error_of(with_sets(&["=5"]));
    assert_eq!(message, "--set expects key=value, got `=5`");
}

// ---------------------------------------------------------------- unknown keys and presets

#[test]
fn unknown_keys_are_refused_with_the_closest_known_key() {
    let message = error_of(with_sets(&["lambda_memory=512"]));
    assert_eq!(
        message,
        "unknown key `lambda_memory` (did you mean `lambda_memory_size`?) (from --set lambda_memory=512)"
    );
    let (result, file) = load_file("\n# shards\nkinesis_shard_cnt = 2\n", &[]);
    let expected = format!(
        "unknown key `kinesis_shard_cnt` (did you mean `kinesis_shard_count`?) (from {}, line 3)",
        file.0.display()
    );
    assert_eq!(error_of(result), expected);
    assert_eq!(suggest("lambda-timeout"), Some("lambda_timeout"));
    assert_eq!(suggest("Kinesis_Shard_Count"), Some("kinesis_shard_count"));
    assert_eq!(suggest("tags"), None);
    assert_eq!(suggest("frobnicate"), None);
    assert_eq!(
        error_of(with_sets(&["frobnicate=1"])),
        "unknown key `frobnicate` (from --set frobnicate=1)"
    );
}

#[test]
fn unknown_and_invalid_keys_are_reported_together() {
    let (result, _file) = load_file(
        "lambda_memory = 1\nlambda_timeout = 0\n",
        &["kinesis_shard_count=0"],
    );
    let error = result.expect_err("three problems");
    let keys: Vec<&str> = error.violations().iter().map(|v| v.key.as_str()).collect();
    assert_eq!(
        keys,
        ["lambda_memory", "kinesis_shard_count", "lambda_timeout"]
    );
}

#[test]
fn an_unknown_preset_lists_the_known_ones() {
    let message = error_of(Config::from_preset("qa"));
    assert_eq!(
        message,
        "unknown preset \"qa\"; choose one of dev, staging, prod, high-throughput, cost-optimized"
    );
}

#[test]
fn every_preset_loads_and_validates() {
    for name in PRESETS {
        let config = Config::from_preset(name).unwrap_or_else(|e| panic!("preset {name}: {e}"));
        config
            .validate()
            .unwrap_or_else(|e| panic!("preset {name}: {e}"));
    }
    assert_eq!(Config::from_preset("dev").expect("dev"), Config::default());
}

#[test]
fn presets_differ_from_dev_where_the_recipe_says_they_do() {
    let dev = Config::default();
    let prod = Config::from_preset("prod").expect("prod");
    assert_eq!(prod.environment, "prod");
    assert!(prod.kinesis_shard_count > dev.kinesis_shard_count);
    assert_eq!(prod.lambda_reserved_concurrency, 100);
    assert!(prod.dynamodb_point_in_time_recovery_enabled);
    assert!(prod.dynamodb_server_side_encryption_enabled);
    assert!(prod.dynamodb_deletion_protection && !dev.dynamodb_deletion_protection);
    assert!(prod.retain_data_on_delete && !dev.retain_data_on_delete);

    let fast = Config::from_preset("high-throughput").expect("high-throughput");
    assert_eq!(fast.kinesis_shard_count, 5);
    assert_eq!(fast.lambda_batch_size, 500);
    assert_eq!(fast.dynamodb_billing_mode, BillingMode::Provisioned);
    assert_eq!(
        (fast.dynamodb_read_capacity, fast.dynamodb_write_capacity),
        (100, 100)
    );

    let cheap = Config::from_preset("cost-optimized").expect("cost-optimized");
    assert_eq!(cheap.lambda_memory_size, 128);
    // Aggregates from one-minute windows everywhere but where cost comes first.
    for name in PRESETS {
        let config = Config::from_preset(name).expect("preset");
        let expected = if *name == "cost-optimized" { 0 } else { 60 };
        assert_eq!(config.aggregate_window_seconds, expected, "{name}");
    }
    assert_eq!(cheap.lambda_timeout, 60);
    assert_eq!(cheap.cloudwatch_log_retention_days, 7);

    let staging = Config::from_preset("staging").expect("staging");
    assert_eq!(staging.environment, "staging");

    // Every preset keeps failed batches' records; only prod keeps an event archive and
    // follows its throttled keys; none caps its on-demand table or shortens recovery.
    for name in PRESETS {
        let config = Config::from_preset(name).expect("preset");
        let insights = if *name == "prod" {
            ContributorInsights::ThrottledKeys
        } else {
            ContributorInsights::Off
        };
        assert_eq!(config.dynamodb_contributor_insights, insights, "{name}");
        // Only prod shifts new code gradually; the others keep the recipe's in-place update.
        let strategy = if *name == "prod" {
            DeployStrategy::Canary10Percent5Minutes
        } else {
            DeployStrategy::AllAtOnce
        };
        assert_eq!(config.deploy_strategy, strategy, "{name}");
        assert_eq!(config.dynamodb_pitr_recovery_days, 35, "{name}");
        assert_eq!(
            (
                config.dynamodb_max_on_demand_write_units,
                config.dynamodb_max_on_demand_read_units
            ),
            (0, 0),
            "{name}"
        );
        assert!(config.failure_bucket(), "{name}");
        assert_eq!(config.archive_events, *name == "prod", "{name}");
        assert_eq!(
            (
                config.failure_archive_retention_days,
                config.archive_retention_days
            ),
            (90, 365),
            "{name}"
        );
    }
}

#[test]
fn preset_files_list_only_keys_they_change() {
    let defaults = Config::default().to_table().expect("defaults");
    for name in PRESETS {
        let source = preset_source(name).expect("shipped preset");
        for (key, value, line) in parse_document(source, name).expect("valid TOML") {
            assert_ne!(
                defaults.get(&key),
                Some(&value),
                "presets/{name}.toml:{line}: {key} is the default"
            );
        }
    }
}

// ---------------------------------------------------------------- files

#[test]
fn a_missing_file_says_so_plainly() {
    let path = std::path::Path::new("/nonexistent/x.toml");
    let message = error_of(Config::load(None, Some(path), &[]));
    assert_eq!(
        message,
        "cannot read config file /nonexistent/x.toml: No such file or directory"
    );
}

#[test]
fn toml_syntax_errors_carry_the_file_and_line() {
    let (result, file) = load_file("lambda_timeout = 60\nkinesis_shard_count = \n", &[]);
    let message = error_of(result);
    let expected = format!(
        "invalid TOML in {}: TOML parse error at line 2",
        file.0.display()
    );
    assert!(message.starts_with(&expected), "{message}");
    let (result, _file) = load_file("lambda_timeout = 60\nlambda_timeout = 61\n", &[]);
    assert!(error_of(result).contains("duplicate key"));
}

#[test]
fn range_errors_in_a_file_point_at_the_line() {
    let (result, file) = load_file("\n\nlambda_timeout = 0\n", &[]);
    let expected = format!(
        "lambda_timeout must be between 1 and 900, got 0 (from {}, line 3)",
        file.0.display()
    );
    assert_eq!(error_of(result), expected);
}

// ---------------------------------------------------------------- robustness

#[test]
fn no_input_panics() {
    let odd = [
        "",
        "0",
        "-1",
        "99999999999999999999",
        "nan",
        "-inf",
        "1e400",
        "[1, 2]",
        "{a = 1}",
        "1979-05-27",
        "07:32:00",
        "\"",
        "'",
        "[",
        "true",
        "é",
        "a=b",
        "\u{0}",
        "[[]]",
        "{}",
    ];
    for spec in KEYS {
        for raw in odd {
            let _ = with_sets(&[&format!("{}={raw}", spec.key)]);
            let _ = with_sets(&[&format!("{}.x={raw}", spec.key)]);
        }
    }
    let documents = [
        "[[a]]\nx = 1",
        "a.b.c = 1",
        "additional_tags = [1]",
        "additional_tags.x.y = 1",
        "[additional_tags]\nx = { y = 1 }",
        "kinesis_shard_level_metrics = [[\"ALL\"]]",
        "\u{feff}lambda_timeout = 1",
        "lambda_timeout = 1979-05-27T07:32:00Z",
        "\0",
    ];
    for text in documents {
        let (_result, _file) = load_file(text, &[]);
    }
}

#[test]
fn validate_checks_hand_built_configs_without_origins() {
    let config = Config {
        kinesis_shard_count: 0,
        lambda_reserved_concurrency: -5,
        ..Config::default()
    };
    let error = config.validate().expect_err("two problems");
    let found: Vec<String> = error.violations().iter().map(|v| v.to_string()).collect();
    assert_eq!(
        found,
        [
            "kinesis_shard_count must be between 1 and 1000, got 0",
            "lambda_reserved_concurrency must be -1 (unreserved) or between 0 and 1000, got -5",
        ]
    );
}

#[test]
fn enums_use_the_exact_aws_strings() {
    assert_eq!(StartingPosition::TrimHorizon.as_str(), "TRIM_HORIZON");
    assert_eq!(BillingMode::PayPerRequest.as_str(), "PAY_PER_REQUEST");
    assert_eq!(StreamMode::OnDemand.as_str(), "ON_DEMAND");
    assert_eq!(Architecture::X86_64.as_str(), "x86_64");
    assert_eq!(ShardLevelMetric::All.as_str(), "ALL");
    let table = Config::default().to_table().expect("defaults");
    assert_eq!(table["lambda_architecture"].as_str(), Some("arm64"));
    assert_eq!(table["lambda_starting_position"].as_str(), Some("LATEST"));
}

#[test]
fn name_prefix_joins_project_and_environment() {
    assert_eq!(Config::default().name_prefix(), "retail-events-dev");
    assert!(!Config::default().alerts_enabled());
}

// ---------------------------------------------------------------- reference and docs

#[test]
fn reference_covers_exactly_the_fields_of_config() {
    // Every optional key given a value, so the table has every field.
    let every = Config {
        lambda_filter_encryption: Some(true),
        ..Config::default()
    };
    let table = every.to_table().expect("defaults");
    let fields: BTreeSet<&str> = table.keys().map(String::as_str).collect();
    let docs = reference();
    let documented: BTreeSet<&str> = docs.iter().map(|doc| doc.key).collect();
    assert_eq!(documented.len(), docs.len(), "a key is documented twice");
    assert_eq!(fields, documented);
}

#[test]
fn reference_defaults_match_config_default() {
    let table = Config::default().to_table().expect("defaults");
    for doc in reference() {
        if doc.default == super::docs::UNSET {
            assert_eq!(table.get(doc.key), None, "{}: left out by default", doc.key);
            continue;
        }
        let parsed = Value::deserialize(toml::de::ValueDeserializer::new(&doc.default))
            .unwrap_or_else(|e| panic!("{}: default {:?} is not TOML: {e}", doc.key, doc.default));
        assert_eq!(Some(&parsed), table.get(doc.key), "{}", doc.key);
        assert!(
            !doc.allowed.is_empty() && !doc.description.is_empty(),
            "{}",
            doc.key
        );
    }
}

/// docs/configuration.md is generated whole from the key table and the presets; it is the
/// one place the reference lives (the README links it).
#[test]
fn configuration_md_is_current() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/configuration.md");
    let expected = reference_markdown();
    if let Err(stale) = check_or_update(
        &path,
        Expected::Whole(&expected),
        "UPDATE_DOCS=1 cargo test -p synth config",
    ) {
        panic!("{stale}");
    }
}

/// `dynamodb_gsi_include_attributes` may name exactly the item's attributes that no key
/// uses: the events crate's item attributes less the table's and the indexes' keys.
#[test]
fn includable_attributes_are_the_items_non_key_attributes() {
    let keys = [
        "userId",
        "eventKey",
        "eventTimestamp",
        "eventType",
        "productId",
    ];
    let mut item: Vec<&str> = events::ITEM_ATTRIBUTES
        .into_iter()
        .filter(|name| !keys.contains(name))
        .collect();
    item.sort_unstable();
    let mut includable = super::GSI_INCLUDABLE_ATTRIBUTES.to_vec();
    includable.sort_unstable();
    assert_eq!(includable, item);
}
