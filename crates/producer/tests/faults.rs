//! The producer binary through testkit's fault proxy in front of moto: entries rejected one
//! by one, whole calls throttled, connections dropped. Read back from the stream, every
//! event is there exactly once and each partition key's events are in the order produced,
//! and the summary line counts what is there.

mod common;

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use common::*;
use testkit::moto::Moto;
use testkit::proxy::{Counts, Faults, KinesisFaults, Proxy};

const EVENTS: usize = 5_000;
const RATE: f64 = 1_000.0;
const INVALID_RATIO: f64 = 0.01;

fn faults() -> KinesisFaults {
    KinesisFaults {
        rejected_entry: 0.2,
        throttle: 0.15,
        drop_before: 0.02,
        ..KinesisFaults::default()
    }
}

/// Runs the producer (with `extra` arguments) through a fresh fault proxy onto a fresh
/// two-shard stream and checks what arrived.
async fn through_the_proxy(moto: &Moto, stream: &str, seed: u64, extra: &[&str]) -> Arc<Counts> {
    let client = kinesis(&moto.endpoint).await;
    create_stream(&client, stream, 2).await;
    let faults = Faults {
        seed,
        ..Faults::none()
    };
    let proxy = Proxy::start_with(moto.port, faults, self::faults()).await;
    let (seed_arg, events_arg, rate_arg) = (seed.to_string(), EVENTS.to_string(), RATE.to_string());
    let start = START_MS.to_string();
    let mut args = vec![
        stream,
        &events_arg,
        "--rate",
        &rate_arg,
        "--seed",
        &seed_arg,
        "--start-time",
        &start,
        "--invalid-ratio",
        "0.01",
    ];
    args.extend_from_slice(extra);
    let out = output(producer(&proxy.endpoint, &args)).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{:?}\n{stderr}", out.status);
    let summary = summary(&out.stdout);

    let expected = expected_paced(seed, INVALID_RATIO, EVENTS, RATE);
    let (read, kinesis_records) = read_back(&client, stream).await;
    assert_eq!(total(&read), EVENTS, "every event exactly once");
    let produced = by_key(&expected);
    assert_eq!(read.len(), produced.len());
    for (key, events) in &produced {
        assert!(
            read[key] == *events,
            "{key}: the stream does not hold its events once each in the order produced"
        );
    }
    let invalid = expected.iter().filter(|r| r.invalid.is_some()).count() as u64;
    assert_eq!(count(&summary, "sent"), EVENTS as u64, "{summary:?}");
    assert_eq!(count(&summary, "invalid"), invalid, "{summary:?}");
    assert!(invalid > 0);
    assert_eq!(count(&summary, "failed"), 0);
    assert_eq!(count(&summary, "unsent"), 0);
    assert!(count(&summary, "retried") > 0);
    eprintln!("{stream}: {kinesis_records} Kinesis records, {summary:?}");

    proxy.counts.clone()
}

fn check_fault_rates(counts: &Counts) {
    let calls = counts.put_records.load(Relaxed) as f64;
    let entries = counts.entries.load(Relaxed) as f64;
    let rejected = counts.rejected_entries.load(Relaxed) as f64;
    let throttled = counts.throttled_calls.load(Relaxed) as f64;
    eprintln!(
        "{calls} calls ({throttled} throttled, {} dropped), {entries} entries ({rejected} rejected)",
        counts.dropped_before.load(Relaxed)
    );
    assert!(calls >= 30.0, "{calls} calls");
    assert!(
        rejected / entries >= 0.10,
        "{rejected} of {entries} entries rejected"
    );
    assert!(
        throttled / calls >= 0.03,
        "{throttled} of {calls} calls throttled"
    );
    assert_eq!(counts.unparsed.load(Relaxed), 0, "PutRecords is JSON");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto from .venv (make venv); make test runs it with --include-ignored"]
async fn every_event_arrives_once_and_in_order_through_rejections_throttling_and_drops() {
    let moto = Moto::start();
    // The default: a user's waiting events share a KPL aggregate.
    let counts = through_the_proxy(&moto, "faults-aggregated", 7, &[]).await;
    check_fault_rates(&counts);
    // One Kinesis record per event.
    let counts = through_the_proxy(&moto, "faults-single", 8, &["--no-aggregate"]).await;
    check_fault_rates(&counts);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto from .venv (make venv); make test runs it with --include-ignored"]
async fn a_lost_answer_can_repeat_events_but_never_reorders_them() {
    let moto = Moto::start();
    let client = kinesis(&moto.endpoint).await;
    create_stream(&client, "lost-answers", 2).await;
    let faults = KinesisFaults {
        drop_after: 0.15,
        ..KinesisFaults::default()
    };
    let proxy = Proxy::start_with(moto.port, Faults::none(), faults).await;
    let start = START_MS.to_string();
    let args = [
        "lost-answers",
        "1000",
        "--rate",
        "1000",
        "--seed",
        "5",
        "--start-time",
        &start,
    ];
    let out = output(producer(&proxy.endpoint, &args)).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(proxy.counts.dropped_after.load(Relaxed) > 0);
    let summary = summary(&out.stdout);
    assert_eq!(count(&summary, "sent"), 1_000);

    let (read, _) = read_back(&client, "lost-answers").await;
    let produced = by_key(&expected_paced(5, 0.0, 1_000, 1_000.0));
    assert!(
        total(&read) > 1_000,
        "a lost answer's records were sent again"
    );
    for (key, events) in &produced {
        // Keeping each event's first appearance gives back the order produced.
        let mut seen = std::collections::HashSet::new();
        let first: Vec<&Vec<u8>> = read[key].iter().filter(|e| seen.insert(*e)).collect();
        assert_eq!(first, events.iter().collect::<Vec<_>>(), "{key}");
    }
}
