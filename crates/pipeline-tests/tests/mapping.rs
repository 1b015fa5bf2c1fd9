//! The whole pipeline on moto, as `make local` runs it: the synthesized stack created with
//! CloudFormation → the producer puts realistic events (10% invalid, fixed seed) on the
//! stream → local-runner plays the event source mapping and calls the processor → the
//! table holds every distinct valid event exactly once and the dead-letter queue every
//! invalid record with its original bytes. The same through the fault-injecting proxy,
//! then the same records again, which must leave the table unchanged. A last test breaks
//! the handler on purpose and checks that these checks notice.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use pipeline_tests::{
    dead_letters, deploy, drain, expected_key, produce, table_items, table_sink, Dropping, Key,
    Sent, SEED,
};
use producer::source::Record;
use testkit::moto::Moto;
use testkit::proxy::{Faults, Proxy};

/// Compares the table and the queue with what was sent; every discrepancy is listed.
fn check(
    sent: &Sent,
    table: &BTreeMap<Key, HashMap<String, AttributeValue>>,
    letters: &[serde_json::Value],
) -> Result<(), String> {
    let mut problems = Vec::new();
    let valid: BTreeMap<Key, &Record> = sent
        .records
        .iter()
        .filter(|(r, _)| r.invalid.is_none())
        .map(|(r, _)| (expected_key(r), r))
        .collect();
    let missing = valid.keys().filter(|k| !table.contains_key(*k)).count();
    let unexpected = table.keys().filter(|k| !valid.contains_key(*k)).count();
    if missing > 0 || unexpected > 0 || table.len() != valid.len() {
        problems.push(format!(
            "table holds {} items for {} distinct valid events: {missing} missing, {unexpected} unexpected",
            table.len(),
            valid.len()
        ));
    }
    let invalid: HashMap<&str, &Record> = sent
        .records
        .iter()
        .filter(|(r, _)| r.invalid.is_some())
        .map(|(r, p)| (p.sequence_number.as_str(), r))
        .collect();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for letter in letters {
        if letter.get("KinesisBatchInfo").is_some() {
            problems.push(format!("records were skipped by the mapping: {letter}"));
            continue;
        }
        let sequence = letter["sequenceNumber"].as_str().unwrap_or_default();
        let Some(record) = invalid.get(sequence) else {
            problems.push(format!(
                "dead letter for a record that is not invalid: {sequence}"
            ));
            continue;
        };
        *seen.entry(sequence).or_default() += 1;
        let truncated = letter["dataTruncated"].as_bool().unwrap_or(false);
        let data = base64::engine::general_purpose::STANDARD
            .decode(letter["data"].as_str().unwrap_or_default())
            .unwrap_or_default();
        if !(data == record.data
            || truncated && record.invalid == Some(producer::invalid::InvalidKind::Oversized))
        {
            problems.push(format!(
                "dead letter {sequence} does not carry the record's bytes"
            ));
        }
    }
    let undelivered = invalid.keys().filter(|s| !seen.contains_key(*s)).count();
    let repeated = seen.values().filter(|n| **n > 1).count();
    if undelivered > 0 || repeated > 0 {
        problems.push(format!(
            "{} invalid records: {undelivered} not in the dead-letter queue, {repeated} there more than once",
            invalid.len()
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

#[tokio::test]
#[ignore = "needs moto from .venv (make venv); make test runs it with --include-ignored"]
async fn every_event_lands_once_and_a_replay_changes_nothing() {
    let moto = Moto::start();
    let deployed = deploy(&moto, "e2e-clean", &[]).await;
    let sent = produce(&deployed, 2_000).await;
    let invalid = sent
        .records
        .iter()
        .filter(|(r, _)| r.invalid.is_some())
        .count();
    assert!((150..=250).contains(&invalid), "{invalid} invalid of 2000");
    let summary = drain(
        &deployed,
        table_sink(&deployed, &deployed.config),
        &deployed.config,
    )
    .await;
    assert_eq!(summary.records, 2_000, "{summary}");
    let table = table_items(&deployed).await;
    check(&sent, &table, &dead_letters(&deployed).await).unwrap();

    // Lambda retries and a rewound mapping deliver the same records again.
    let replay = drain(
        &deployed,
        table_sink(&deployed, &deployed.config),
        &deployed.config,
    )
    .await;
    assert_eq!(replay.records, 2_000);
    assert_eq!(
        table_items(&deployed).await,
        table,
        "the replay changed the table"
    );
    assert_eq!(deployed.stack, "e2e-clean-stack");
}

#[tokio::test]
#[ignore = "needs moto from .venv (make venv); make test runs it with --include-ignored"]
async fn faults_between_the_processor_and_aws_lose_and_duplicate_nothing() {
    let moto = Moto::start();
    let deployed = deploy(&moto, "e2e-faults", &[]).await;
    let faults = Faults {
        throttle: 0.2,
        partial: 0.1,
        failed_entry: 0.05,
        seed: SEED,
    };
    let proxy = Proxy::start(moto.port, faults).await;
    let through_proxy = testkit::sdk_config(&proxy.endpoint).await;
    let sent = produce(&deployed, 2_000).await;
    drain(
        &deployed,
        table_sink(&deployed, &through_proxy),
        &through_proxy,
    )
    .await;
    let counts = &proxy.counts;
    use std::sync::atomic::Ordering::Relaxed;
    assert!(counts.throttled.load(Relaxed) > 0 && counts.partial.load(Relaxed) > 0);
    assert!(counts.failed_entries.load(Relaxed) > 0);
    let table = table_items(&deployed).await;
    check(&sent, &table, &dead_letters(&deployed).await).unwrap();

    // The producer sends the same events again (a producer retry): same keys, same items.
    let again = produce(&deployed, 2_000).await;
    drain(
        &deployed,
        table_sink(&deployed, &through_proxy),
        &through_proxy,
    )
    .await;
    assert_eq!(again.records.len(), sent.records.len());
    assert_eq!(
        table_items(&deployed).await,
        table,
        "sending the events again changed the table"
    );
}

#[tokio::test]
#[ignore = "needs moto from .venv (make venv); make test runs it with --include-ignored"]
async fn a_handler_that_drops_every_hundredth_record_fails_the_checks() {
    let moto = Moto::start();
    let deployed = deploy(&moto, "e2e-broken", &[]).await;
    let sent = produce(&deployed, 1_000).await;
    let broken = Dropping::new(table_sink(&deployed, &deployed.config), 100);
    drain(&deployed, broken, &deployed.config).await;
    let problems = check(
        &sent,
        &table_items(&deployed).await,
        &dead_letters(&deployed).await,
    )
    .expect_err("dropped records must fail the check");
    assert!(problems.contains("missing"), "{problems}");
}
