//! `synth cost`: the dev stack's estimate against a calculation written out by hand, flag
//! checking, and docs/cost.md's preset table that must match the code.

mod common;

use common::{json_of, synth};
use std::path::PathBuf;

use serde_json::Value;
use synth::config::Config;
use synth::cost::{self, docs, US_EAST_1 as P};
use synth::generated::{check_or_update, Expected};

fn json_estimate(args: &[&str]) -> Value {
    json_of("cost", args)
}

fn service_usd(estimate: &Value, name: &str) -> f64 {
    estimate["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["service"] == name)
        .unwrap_or_else(|| panic!("no {name}"))["monthly_usd"]
        .as_f64()
        .unwrap()
}

#[test]
fn dev_cost_matches_a_hand_calculation() {
    let dev = Config::from_preset("dev").unwrap();
    // The load: 100 events/s of 500 bytes for 730 hours.
    let events = 100.0 * 730.0 * 3600.0; // 262,800,000
    let gib = 1024.0 * 1024.0 * 1024.0;

    // Kinesis, PROVISIONED: shard-hours, and one 25 KB PUT payload unit per 500-byte record.
    let shards = f64::from(dev.kinesis_shard_count); // 1
    let kinesis =
        shards * 730.0 * P.kinesis_shard_hour + events / 1e6 * P.kinesis_million_put_payload_units;

    // Lambda: 1 shard × parallelization 1 = one lane at 100 events/s. The 5 s window would
    // gather 500, so batches close at the batch size (100): one invocation a second.
    let batch = f64::from(dev.lambda_batch_size).min(100.0 * 5.0);
    let invocations = events / batch; // 2,628,000
                                      // 5 ms overhead + 100 records × 0.01 ms + one wave of 4 BatchWriteItem calls (15 ms).
    let ms = 5.0 + batch * 0.01 + 15.0;
    let gb_seconds = invocations * ms / 1000.0 * f64::from(dev.lambda_memory_size) / 1024.0;
    let lambda =
        invocations / 1e6 * P.lambda_million_requests + gb_seconds * P.lambda_gb_second_arm64; // dev is arm64
                                                                                               // dev's one-minute tumbling windows: one more invocation per shard a minute, without
                                                                                               // records, 20 ms (overhead and one BatchWriteItem round trip) at the function's memory.
    let window_ends = shards * 730.0 * 60.0; // 43,800
    let lambda = lambda
        + window_ends / 1e6 * P.lambda_million_requests
        + window_ends * 0.020 * f64::from(dev.lambda_memory_size) / 1024.0
            * P.lambda_gb_second_arm64;

    // DynamoDB on demand: a 500-byte event makes an 847-byte item (500 + 347 bytes of
    // keys, copied fields and enrichment): 1 WRU, written to the table and its 2 GSIs.
    let item = 500.0 + 347.0;
    let copies = 3.0;
    let table_gb = events * (item + 100.0) / gib; // 100 bytes of overhead per item
    let dynamodb = events * 1.0 * copies / 1e6 * P.dynamodb_million_write_request_units
        + table_gb * copies * P.dynamodb_storage_gb_month
        + table_gb * P.dynamodb_pitr_gb_month; // PITR is on in dev
                                               // The aggregate table: each window end writes 60 / 60 + 1 = 2 items of up to 6 KB, 6 WRU
                                               // each, kept (no TTL) with PITR.
    let aggregate_items = window_ends * 2.0;
    let aggregate_gb = aggregate_items * (6144.0 + 100.0) / gib;
    let dynamodb = dynamodb
        + aggregate_items * 6.0 / 1e6 * P.dynamodb_million_write_request_units
        + aggregate_gb * (P.dynamodb_storage_gb_month + P.dynamodb_pitr_gb_month);

    // CloudWatch: 1,450 log bytes per invocation (platform 700 + EMF 450 + summary 300),
    // 3,000 per window end (platform 700 + the business EMF lines 2,000 + summary 300) and
    // 250 bytes per hundredth stored record; 14 days of the month kept; 5 EMF metrics, the
    // business ones (Revenue, Purchases, WindowEvents of 6 event types) and 2 shard-level
    // metrics on 1 shard; the mapping's 6 EventCount metrics; 13 standard alarms; 1
    // dashboard.
    let log_gb = (invocations * 1450.0 + window_ends * 3000.0 + events / 100.0 * 250.0) / gib;
    let cloudwatch = log_gb * P.logs_ingest_gb
        + log_gb * f64::from(dev.cloudwatch_log_retention_days) / (730.0 / 24.0)
            * P.logs_storage_gb_month
        + (5.0 + 8.0 + 2.0 * shards + 6.0) * P.cloudwatch_metric_month
        + 13.0 * P.cloudwatch_alarm_standard_month
        + P.cloudwatch_dashboard_month;

    // SQS: no invalid events, no dead letters.
    let sqs = 0.0;

    // S3: the failure bucket gets nothing at a steady load (no failed batches, no dead
    // letter over SQS's 1 MiB); dev keeps no archive.
    let s3 = 0.0;

    // KMS: the data key (no alert address in dev, so no alerts key), and requests every 5
    // minutes (8,760 a month) for the stream's producer and consumer, DynamoDB's writes of
    // each table (events, aggregates) and the log group, plus 730 environment decryptions
    // for the one lane.
    let kms_requests = (2.0 * shards + 2.0 + 1.0) * 8760.0 + 730.0;
    let kms = P.kms_key_month + kms_requests / 10_000.0 * P.kms_10k_requests;

    let by_hand = kinesis + lambda + dynamodb + cloudwatch + sqs + s3 + kms;
    let estimate = json_estimate(&[
        "--preset",
        "dev",
        "--events-per-second",
        "100",
        "--avg-event-bytes",
        "500",
    ]);
    let total = estimate["total_usd"].as_f64().unwrap();
    assert!(
        (total - by_hand).abs() <= by_hand * 0.01,
        "synth cost says {total:.2}, by hand {by_hand:.2}"
    );
    for (name, expected) in [
        ("Kinesis", kinesis),
        ("Lambda", lambda),
        ("DynamoDB", dynamodb),
        ("CloudWatch", cloudwatch),
        ("SQS", sqs),
        ("S3", s3),
        ("KMS", kms),
    ] {
        let got = service_usd(&estimate, name);
        assert!(
            (got - expected).abs() <= expected * 0.01 + 0.01,
            "{name}: synth cost says {got:.2}, by hand {expected:.2}"
        );
    }
}

#[test]
fn the_default_load_is_100_events_of_500_bytes() {
    let default = json_estimate(&[]);
    assert_eq!(default["load"]["events_per_second"], 100.0);
    assert_eq!(default["load"]["avg_event_bytes"], 500.0);
    assert_eq!(default["load"]["invalid_ratio"], 0.0);
    assert_eq!(default["stack"], "retail-events-dev");
    for line in default["services"][0]["line_items"].as_array().unwrap() {
        for key in ["item", "quantity", "unit", "unit_price_usd", "monthly_usd"] {
            assert!(!line[key].is_null(), "{key} missing in {line}");
        }
    }
}

#[test]
fn counts_follow_the_template() {
    let with_alerts = json_estimate(&["--set", "sns_email_endpoint=ops@example.com"]);
    let kms = &with_alerts["services"][6];
    assert_eq!(kms["service"], "KMS");
    assert_eq!(
        kms["line_items"][0]["quantity"], 2.0,
        "the alerts key exists with alerts"
    );
    let high = json_estimate(&["--preset", "high-throughput"]);
    assert!(high["services"][2]["line_items"][0]["unit"] == "WCU-hour");
}

/// prod's archive, by hand: one PUT per invocation of 100 records, and 365 days of gzip
/// objects in S3 Standard (30 KB each: under 128 KB, so they never transition).
#[test]
fn the_archive_matches_a_hand_calculation() {
    let estimate = json_estimate(&["--preset", "prod"]);
    let invocations = 100.0 * 730.0 * 3600.0 / 100.0;
    let record = (500.0f64 * 4.0 / 3.0).ceil() + 600.0; // 1,267 bytes of event JSON
    let object = 100.0 * record / (4.2 * 100.0 / 102.0);
    let gb_month = invocations * object / 1_073_741_824.0 * 365.0 / (730.0 / 24.0);
    let by_hand =
        invocations / 1000.0 * P.s3_standard_1k_put_requests + gb_month * P.s3_standard_gb_month;
    let s3 = service_usd(&estimate, "S3");
    assert!(
        (s3 - by_hand).abs() < 0.01,
        "synth cost {s3}, by hand {by_hand}"
    );
    let dev = json_estimate(&[]);
    assert_eq!(service_usd(&dev, "S3"), 0.0);
    let sqs_only = json_estimate(&["--set", "on_failure_destination=sqs"]);
    assert!(sqs_only["services"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["service"] != "S3"));
}

#[test]
fn invalid_events_cost_sqs_requests() {
    let estimate = json_estimate(&["--invalid-ratio", "0.1"]);
    // 10 % of 262.8 M events, 10 per SendMessageBatch: 2.628 M requests.
    let sqs = service_usd(&estimate, "SQS");
    assert!((sqs - 2.628 * P.sqs_million_requests).abs() < 0.01, "{sqs}");
}

#[test]
fn bad_flag_values_exit_2_with_the_flag_named() {
    for (args, flag) in [
        (
            &["cost", "--events-per-second", "-5"][..],
            "--events-per-second",
        ),
        (&["cost", "--avg-event-bytes", "0"][..], "--avg-event-bytes"),
        (&["cost", "--avg-event-bytes=-10"][..], "--avg-event-bytes"),
        (&["cost", "--invalid-ratio", "2"][..], "--invalid-ratio"),
        (
            &["cost", "--set", "lambda_memory_size=1"][..],
            "lambda_memory_size",
        ),
    ] {
        let output = synth(args);
        let message = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {message}");
        assert!(message.contains(flag), "{args:?}: {message}");
        assert!(output.stdout.is_empty());
    }
}

#[test]
fn the_table_shows_line_items_and_assumptions() {
    let output = synth(&["cost", "--preset", "prod"]);
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.starts_with("Monthly cost estimate for retail-events-prod"),
        "{text}"
    );
    assert!(text.contains("Extended retention (168 h > 24 h)"), "{text}");
    assert!(
        text.contains("Assumptions:") && text.contains("free tier"),
        "{text}"
    );
    assert!(text.lines().any(|l| l.starts_with("Total")), "{text}");
}

/// docs/cost.md's preset table is generated; `UPDATE_DOCS=1` rewrites it.
#[test]
fn cost_md_preset_table_is_current() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/cost.md");
    let block = docs::block().expect("estimates every preset");
    if let Err(stale) = check_or_update(
        &path,
        Expected::Block(docs::MARKERS, &block),
        "UPDATE_DOCS=1 cargo test -p synth --test cost",
    ) {
        panic!("{stale}");
    }
}

#[test]
fn every_preset_has_an_estimate() {
    for preset in synth::config::PRESETS {
        let config = Config::from_preset(preset).unwrap();
        let estimate = cost::estimate(&config, cost::DEFAULT_LOAD).unwrap();
        assert!(estimate.total_usd() > 0.0, "{preset}");
        assert!(
            estimate.warnings.is_empty(),
            "{preset}: {:?}",
            estimate.warnings
        );
    }
}

/// `--events-per-second 1e308` used to exit 0 with a NaN total (`"total_usd": null`): a
/// rate past ten million a second is refused with exit 2, naming the flag and the limit.
#[test]
fn an_overflowing_rate_exits_2_and_prints_no_total() {
    for rate in ["1e308", "inf", "NaN", "10000001"] {
        for format in ["table", "json"] {
            let output = synth(&["cost", "--events-per-second", rate, "--format", format]);
            let message = String::from_utf8_lossy(&output.stderr);
            assert_eq!(output.status.code(), Some(2), "{rate}: {message}");
            assert!(output.stdout.is_empty(), "{rate} printed an estimate");
            assert!(
                message.starts_with(
                    "error: events per second (--events-per-second) must be a number between \
                     0 and 10000000"
                ),
                "{message}"
            );
        }
    }
    let most = json_estimate(&["--events-per-second", "10000000"]);
    assert!(
        most["total_usd"].as_f64().is_some_and(f64::is_finite),
        "{most}"
    );
}
