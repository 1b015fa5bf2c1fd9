//! `synth capacity`: the promises about high-throughput with and without index write
//! shards, a stage recomputed by hand, flag checking, the event mix against the generator's,
//! and docs/capacity.md's preset table that must match the code.

mod common;

use common::{json_of, synth};
use std::path::PathBuf;

use serde_json::Value;
use synth::capacity::{docs, mix::RECIPE_WEIGHTS};
use synth::generated::{check_or_update, Expected};

fn json_report(args: &[&str]) -> Value {
    json_of("capacity", args)
}

fn stage<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["stage"] == name)
        .unwrap_or_else(|| panic!("no stage {name} in {report}"))
}

fn ceiling(report: &Value) -> f64 {
    report["ceiling_events_per_second"].as_f64().unwrap()
}

/// The promise: high-throughput's index write shards let it use its five shards.
#[test]
fn high_throughput_reaches_its_streams_capacity() {
    let report = json_report(&["--preset", "high-throughput"]);
    assert!(ceiling(&report) >= 5000.0, "{report:#}");
    assert_eq!(report["bottleneck"], "KinesisWrites", "{report:#}");
}

/// ... and with the recipe's plain index keys it tops out near 1,000 / 0.6 whatever the
/// shard count, at EventTypeIndex.
#[test]
fn high_throughput_without_write_shards_is_held_by_event_type_index() {
    let report = json_report(&[
        "--preset",
        "high-throughput",
        "--set",
        "dynamodb_index_write_shards=1",
    ]);
    assert!(ceiling(&report) <= 1700.0, "{report:#}");
    assert_eq!(report["bottleneck"], "EventTypeIndex", "{report:#}");
}

/// The Lambda stage of high-throughput recomputed from its inputs.
#[test]
fn the_lambda_stage_matches_a_hand_calculation() {
    let report = json_report(&["--preset", "high-throughput"]);
    // 5 shards × parallelization factor 2, no reserved concurrency: 10 batches at once.
    let concurrency = 5.0 * 2.0;
    // Batch size 500 (500-byte events: far below the 6 MB payload).
    let records = 500.0;
    // 5 ms overhead; 3.9 µs of one vCPU a record (39 ms per 10,000 in the processor's
    // benchmark), 512 MB being 512/1769 of a vCPU; 20 BatchWriteItem calls, 8 at a time:
    // 3 waves of 15 ms.
    let ms = 5.0 + records * 0.0039 * (1769.0 / 512.0) + 3.0 * 15.0;
    // Its one-minute tumbling windows end with a 20 ms invocation a shard, time its batches
    // wait.
    let by_hand = concurrency * records / (ms / 1000.0) * (1.0 - 20.0 / 60_000.0);
    let lambda = stage(&report, "Lambda");
    let reported = lambda["events_per_second"].as_f64().unwrap();
    assert!(
        (reported - by_hand).abs() <= 0.05,
        "{reported} vs {by_hand}"
    );
    assert_eq!(lambda["inputs"]["concurrent_batches"], 10);
    assert_eq!(lambda["inputs"]["records_per_batch"], 500.0);
}

/// The staging EventTypeIndex recomputed from its inputs: on demand, plain keys.
#[test]
fn the_event_type_index_stage_matches_a_hand_calculation() {
    let report = json_report(&[
        "--preset",
        "staging",
        "--set",
        "dynamodb_index_write_shards=1",
    ]);
    // A 500-byte event makes an 847-byte item: 1 write unit, in the table and each index.
    // Views are 60 % of events and one key value takes 1,000 WCU/s: 1,000 / (0.6 × 1).
    let by_hand: f64 = 1000.0 / (0.6 * 1.0);
    let index = stage(&report, "EventTypeIndex");
    assert_eq!(
        index["events_per_second"].as_f64().unwrap(),
        (by_hand * 10.0).round() / 10.0
    );
    assert_eq!(index["inputs"]["item_bytes"], 847.0);
    assert_eq!(index["inputs"]["hottest_key_share"], 0.6);
}

#[test]
fn an_event_mix_moves_the_hot_key() {
    let report = json_report(&[
        "--preset",
        "staging",
        "--set",
        "dynamodb_index_write_shards=1",
        "--event-mix",
        "view=0.1,add_to_cart=0.1,purchase=0.8",
    ]);
    assert_eq!(report["bottleneck"], "EventTypeIndex");
    // 1,000 WCU/s for the "purchase" key value, 80 % of events of 1 WCU each.
    assert_eq!(ceiling(&report), 1250.0);
    assert_eq!(report["event_mix"]["purchase"], 0.8);
    let index = stage(&report, "EventTypeIndex");
    assert!(
        index["limited_by"]
            .as_str()
            .unwrap()
            .contains("eventType \"purchase\""),
        "{index}"
    );
    assert_eq!(report["event_mix"]["review"], 0.0);
}

#[test]
fn the_table_names_the_ceiling_and_the_bottleneck() {
    let output = synth(&["capacity"]);
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.starts_with("Sustained capacity of retail-events-dev"),
        "{text}"
    );
    assert!(
        text.contains("\nCeiling: 1,000 events/s, set by KinesisWrites.\n"),
        "{text}"
    );
    for name in [
        "KinesisWrites",
        "Lambda",
        "Table",
        "EventTypeIndex",
        "ProductIndex",
    ] {
        assert!(text.lines().any(|l| l.starts_with(name)), "{name}: {text}");
    }
}

#[test]
fn bad_flag_values_exit_2_naming_the_flag_and_the_part() {
    for (args, expected) in [
        (
            &["capacity", "--event-mix", "view=0.6,click=0.4"][..],
            "--event-mix: unknown event type \"click\"",
        ),
        (
            &["capacity", "--event-mix", "view=0.6,purchase=0.1"][..],
            "--event-mix: the shares must add up to 1",
        ),
        (
            &["capacity", "--event-mix", "view=-1,purchase=2"][..],
            "--event-mix: the share of view",
        ),
        (
            &["capacity", "--event-mix", "view"][..],
            "--event-mix takes TYPE=SHARE",
        ),
        (
            &["capacity", "--avg-event-bytes", "0"][..],
            "--avg-event-bytes",
        ),
        (
            &["capacity", "--set", "dynamodb_index_write_shards=0"][..],
            "dynamodb_index_write_shards",
        ),
    ] {
        let output = synth(args);
        let message = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {message}");
        assert!(message.contains(expected), "{args:?}: {message}");
        assert!(output.stdout.is_empty());
    }
}

/// The default mix and catalogue are the event generator's, which the producer sends.
#[test]
fn the_default_mix_is_the_event_generators() {
    assert_eq!(RECIPE_WEIGHTS, events::EVENT_WEIGHTS);
    assert_eq!(synth::capacity::traffic::RECIPE_USERS, 100);
    assert_eq!(synth::capacity::traffic::RECIPE_PRODUCTS, 500);
}

/// docs/capacity.md's preset table is generated; `UPDATE_DOCS=1` rewrites it.
#[test]
fn capacity_md_preset_table_is_current() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/capacity.md");
    let block = docs::block().expect("assesses every preset");
    if let Err(stale) = check_or_update(
        &path,
        Expected::Block(docs::MARKERS, &block),
        "UPDATE_DOCS=1 cargo test -p synth --test capacity",
    ) {
        panic!("{stale}");
    }
}
