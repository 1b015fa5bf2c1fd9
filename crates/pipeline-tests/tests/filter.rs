//! The mapping's consumer options on moto, end to end: a stack synthesized with
//! `lambda_filter_event_types = ["purchase", "add_to_cart"]` gets FilterCriteria on its
//! mapping; the producer puts events of every type (one Kinesis record each, 10% invalid);
//! local-runner, playing the mapping, hands the processor only the purchase and add_to_cart
//! records. The table must then hold exactly the valid purchase and add_to_cart events (keys
//! compared one by one), the dead-letter queue exactly the invalid records the filter let
//! through, and the runner's summary must count every other record as filtered.
//!
//! Then AT_TIMESTAMP: a mapping starting after every record reads none of them (moto does
//! not report the timestamp, so the runner takes it from the stack's template), and a
//! reader started between two records begins at the second.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use local_runner::shards::{ShardStart, StreamReader};
use pipeline_tests::{
    dead_letters, deploy, drain, expected_key, produce, table_items, table_sink, Key,
};
use producer::source::Record;
use testkit::moto::Moto;

/// The event types the filter lets through.
const KEPT: [&str; 2] = ["purchase", "add_to_cart"];

/// The eventType of a record whose data is a JSON object with a string eventType.
fn event_type(record: &Record) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(&record.data).ok()?;
    value
        .as_object()?
        .get("eventType")?
        .as_str()
        .map(str::to_owned)
}

fn passes_filter(record: &Record) -> bool {
    event_type(record).is_some_and(|t| KEPT.contains(&t.as_str()))
}

#[tokio::test]
#[ignore = "needs moto from .venv (make venv); make test runs it with --include-ignored"]
async fn only_purchase_and_add_to_cart_events_reach_the_table() {
    let moto = Moto::start();
    let deployed = deploy(
        &moto,
        "e2e-filter",
        &[r#"lambda_filter_event_types=["purchase","add_to_cart"]"#],
    )
    .await;
    assert_eq!(
        deployed.target.settings.filter.len(),
        1,
        "the mapping carries the stack's FilterCriteria"
    );
    let sent = produce(&deployed, 1_000).await;
    let types: BTreeSet<String> = sent
        .records
        .iter()
        .filter_map(|(r, _)| event_type(r))
        .collect();
    assert!(
        types.len() > KEPT.len() && KEPT.iter().all(|t| types.contains(*t)),
        "the producer sends every event type: {types:?}"
    );

    let summary = drain(
        &deployed,
        table_sink(&deployed, &deployed.config),
        &deployed.config,
    )
    .await;

    let passing: Vec<&(Record, producer::send::Placement)> = sent
        .records
        .iter()
        .filter(|(r, _)| passes_filter(r))
        .collect();
    let expected_filtered = sent.records.len() - passing.len();
    assert_eq!(summary.records, 1_000, "{summary}");
    assert_eq!(summary.filtered, expected_filtered, "{summary}");
    assert!(summary
        .to_string()
        .contains(&format!(" filtered={expected_filtered} ")));
    println!(
        "sent={} passing={} filtered={} ({summary})",
        sent.records.len(),
        passing.len(),
        summary.filtered
    );

    let expected: BTreeSet<Key> = passing
        .iter()
        .filter(|(r, _)| r.invalid.is_none())
        .map(|(r, _)| expected_key(r))
        .collect();
    let table = table_items(&deployed).await;
    let stored: BTreeSet<Key> = table.keys().cloned().collect();
    let missing: Vec<&Key> = expected.difference(&stored).collect();
    let unexpected: Vec<&Key> = stored.difference(&expected).collect();
    assert!(
        missing.is_empty() && unexpected.is_empty(),
        "{} stored for {} expected: missing {missing:?}, unexpected {unexpected:?}",
        stored.len(),
        expected.len()
    );
    let stored_types: BTreeSet<&str> = table
        .values()
        .filter_map(|item| match item.get("eventType") {
            Some(AttributeValue::S(t)) => Some(t.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(stored_types, BTreeSet::from(KEPT));
    println!("stored={}", stored.len());

    // Invalid records the filter let through are dead-lettered; those it dropped are not.
    let expected_letters: BTreeSet<&str> = passing
        .iter()
        .filter(|(r, _)| r.invalid.is_some())
        .map(|(_, p)| p.sequence_number.as_str())
        .collect();
    let letters = dead_letters(&deployed).await;
    let mut lettered: HashMap<String, usize> = HashMap::new();
    for letter in &letters {
        assert!(
            letter.get("KinesisBatchInfo").is_none(),
            "records were skipped: {letter}"
        );
        let sequence = letter["sequenceNumber"].as_str().unwrap_or_default();
        *lettered.entry(sequence.to_owned()).or_default() += 1;
    }
    let lettered_set: BTreeSet<&str> = lettered.keys().map(String::as_str).collect();
    assert_eq!(lettered_set, expected_letters);
    assert!(lettered.values().all(|n| *n == 1), "{lettered:?}");
    println!("dead_lettered={}", letters.len());
}

/// A timestamp after every record of these tests, and the latest the configuration takes:
/// 2099-12-31T23:59:59Z.
const FAR_FUTURE_SECS: u64 = 4_102_444_799;

#[tokio::test]
#[ignore = "needs moto from .venv (make venv); make test runs it with --include-ignored"]
async fn a_mapping_starting_at_a_later_timestamp_reads_none_of_the_earlier_records() {
    let moto = Moto::start();
    let timestamp = format!("lambda_starting_position_timestamp={FAR_FUTURE_SECS}");
    let deployed = deploy(
        &moto,
        "e2e-at-ts",
        &["lambda_starting_position=AT_TIMESTAMP", &timestamp],
    )
    .await;
    assert_eq!(
        deployed.target.settings.start,
        ShardStart::AtTimestamp(FAR_FUTURE_SECS as f64),
        "the timestamp comes from the stack's template"
    );
    let sent = produce(&deployed, 50).await;
    assert_eq!(sent.records.len(), 50);
    let summary = drain(
        &deployed,
        table_sink(&deployed, &deployed.config),
        &deployed.config,
    )
    .await;
    assert_eq!(
        (summary.records, summary.counts.invocations),
        (0, 0),
        "{summary}"
    );
    assert!(table_items(&deployed).await.is_empty());
}

#[tokio::test]
#[ignore = "needs moto from .venv (make venv); make test runs it with --include-ignored"]
async fn a_reader_started_at_a_timestamp_begins_at_the_first_record_from_then() {
    let moto = Moto::start();
    let config = testkit::sdk_config(&moto.endpoint).await;
    let kinesis = aws_sdk_kinesis::Client::new(&config);
    kinesis
        .create_stream()
        .stream_name("at-ts")
        .shard_count(1)
        .send()
        .await
        .expect("create-stream");
    for data in ["first", "second", "third"] {
        kinesis
            .put_record()
            .stream_name("at-ts")
            .partition_key("k")
            .data(aws_sdk_kinesis::primitives::Blob::new(data))
            .send()
            .await
            .expect("put-record");
        // Apart enough that a time between two arrivals is unambiguous.
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mut all = StreamReader::new(kinesis.clone(), "at-ts".into());
    all.refresh().await.expect("list shards");
    let shard = all.shard_ids()[0].clone();
    let everything = all.next_records(&shard, 10).await.expect("read");
    assert_eq!(everything.len(), 3);
    let between = (everything[0].arrival_ms + everything[1].arrival_ms) as f64 / 2_000.0;

    let mut reader = StreamReader::new(kinesis, "at-ts".into());
    reader.start_at(ShardStart::AtTimestamp(between));
    reader.refresh().await.expect("list shards");
    let read = reader.next_records(&shard, 10).await.expect("read");
    let data: Vec<&[u8]> = read.iter().map(|r| r.data.as_slice()).collect();
    assert_eq!(data, [&b"second"[..], &b"third"[..]]);
}
