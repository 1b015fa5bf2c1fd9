//! Tumbling windows over in-memory sinks: what the window counts equals a recount of what
//! the table holds, however Lambda batches, repeats or retries the records.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use aggregates::{EventFacts, Figures};
use aws_edge::retry::{Backoff, Deadline};
use events::Generator;
use kinesis_codec::event::fixture::{record, source};
use kinesis_codec::event::kinesis_event;
use kinesis_codec::record::StreamRecord;
use kinesis_codec::window::WindowEvent;
use processor::handler::{Handler, Invocation};
use processor::sinks::aggregates::MemoryAggregates;
use processor::sinks::memory::{MemoryQueue, MemoryTable};

const START_MS: i64 = 1_700_000_000_000 - 20_000;
const WINDOW_MS: i64 = 60_000;

fn handler<W>(table: W, aggregates: &Arc<MemoryAggregates>) -> Handler<W, MemoryQueue> {
    Handler {
        table,
        queue: MemoryQueue::default(),
        function_name: "processor".into(),
        concurrency: 4,
        backoff: Backoff {
            base: Duration::from_millis(1),
            max: Duration::from_millis(5),
        },
        item_ttl_days: 0,
        buckets: Default::default(),
        aggregates: Some(aggregates.clone()),
    }
}

fn invocation() -> Invocation<'static> {
    Invocation {
        request_id: "req-1",
        deadline: Deadline::after(Duration::from_secs(2), Duration::ZERO),
        now_ms: 1_700_000_100_000,
        redrive_count: 0,
    }
}

/// Records `from..to` of a generated stream; every 7th is not JSON, and events' times lie
/// up to 4 minutes before their arrival (late events).
fn records(from: usize, to: usize) -> Vec<StreamRecord> {
    let mut generator = Generator::new(7);
    (0..to)
        .map(|i| {
            let event = generator.next_event(1_700_000_000_000 - (i as i64 % 5) * 60_000);
            let data = if i % 7 == 3 {
                b"not json".to_vec()
            } else {
                serde_json::to_vec(&event).unwrap()
            };
            record(i, &event.user_id, &data)
        })
        .skip(from)
        .collect()
}

fn window(records: &[StreamRecord], state: HashMap<String, String>, is_final: bool) -> WindowEvent {
    WindowEvent {
        event: kinesis_event(records, &source()).unwrap(),
        start_ms: START_MS,
        end_ms: START_MS + WINDOW_MS,
        state,
        shard_id: "shardId-000000000000".into(),
        event_source_arn: source().stream_arn,
        is_final,
        terminated_early: false,
    }
}

/// The table's figures by minute, counted from its items as a rebuild would.
fn recount(table: &MemoryTable) -> BTreeMap<i64, Figures> {
    let items = table.snapshot();
    aggregates::figures_by_minute(items.values().filter_map(EventFacts::of_item))
}

/// The aggregate table's figures by minute, summed over parts.
fn stored(aggregates: &MemoryAggregates) -> BTreeMap<i64, Figures> {
    let items = aggregates.items();
    aggregates::sum_by(items.values(), 60_000)
}

/// A minute's events, revenue and distinct users: what the recount knows (no dead
/// letters; products may be bounded in another order).
#[derive(Debug, PartialEq)]
struct Essentials {
    minute: i64,
    events: u64,
    by_type: BTreeMap<String, u64>,
    revenue_cents: i64,
    users: u64,
}

fn essentials(minutes: &BTreeMap<i64, Figures>) -> Vec<Essentials> {
    minutes
        .iter()
        .filter(|(_, f)| f.events > 0)
        .map(|(m, f)| Essentials {
            minute: *m,
            events: f.events,
            by_type: f.by_type.clone(),
            revenue_cents: f.revenue_cents,
            users: f.users.estimate(),
        })
        .collect()
}

#[tokio::test]
async fn a_window_in_three_batches_counts_exactly_what_the_table_holds() {
    let aggregates = Arc::new(MemoryAggregates::default());
    let table = MemoryTable::default();
    let handler = handler(&table, &aggregates);
    let mut state = HashMap::new();
    for (from, to) in [(0, 40), (40, 90), (90, 120)] {
        let outcome = handler
            .handle_window(&window(&records(from, to), state, false), invocation())
            .await
            .unwrap();
        assert!(outcome.response.batch_item_failures.is_empty());
        assert_eq!(outcome.window.counted, to - from);
        state = outcome.response.state;
    }
    assert!(
        aggregates.items().is_empty(),
        "nothing written before the window's end"
    );
    let end = handler
        .handle_window(&window(&[], state, true), invocation())
        .await
        .unwrap();
    assert!(
        end.window.closing && end.window.items_written >= 5,
        "{:?}",
        end.window
    );
    let stored = stored(&aggregates);
    assert_eq!(essentials(&stored), essentials(&recount(&table)));
    let dead: u64 = stored.values().map(|f| f.dead_lettered).sum();
    assert_eq!(dead, (0..120).filter(|i| i % 7 == 3).count() as u64);
    let written = end.window.written.unwrap();
    assert_eq!(
        written.events,
        stored.values().map(|f| f.events).sum::<u64>()
    );
}

#[tokio::test]
async fn a_batch_delivered_again_with_the_new_state_counts_once() {
    let aggregates = Arc::new(MemoryAggregates::default());
    let table = MemoryTable::default();
    let handler = handler(&table, &aggregates);
    let first = handler
        .handle_window(
            &window(&records(0, 50), HashMap::new(), false),
            invocation(),
        )
        .await
        .unwrap();
    let again = handler
        .handle_window(
            &window(&records(20, 50), first.response.state.clone(), false),
            invocation(),
        )
        .await
        .unwrap();
    assert_eq!((again.window.counted, again.window.repeated), (0, 30));
    assert_eq!(again.response.state, first.response.state);
    handler
        .handle_window(&window(&[], again.response.state, true), invocation())
        .await
        .unwrap();
    assert_eq!(
        essentials(&stored(&aggregates)),
        essentials(&recount(&table))
    );
}

#[tokio::test]
async fn a_batch_retried_with_its_old_state_after_a_function_error_counts_once() {
    let aggregates = Arc::new(MemoryAggregates::default());
    let table = MemoryTable::default();
    let handler = handler(&table, &aggregates);
    let batch = window(&records(0, 60), HashMap::new(), false);
    // Lambda saw a function error: the state it returned is lost, the batch comes again.
    let lost = handler.handle_window(&batch, invocation()).await.unwrap();
    let retried = handler.handle_window(&batch, invocation()).await.unwrap();
    assert_eq!(lost.response.state, retried.response.state);
    handler
        .handle_window(&window(&[], retried.response.state, true), invocation())
        .await
        .unwrap();
    assert_eq!(
        essentials(&stored(&aggregates)),
        essentials(&recount(&table))
    );
}

#[tokio::test]
async fn a_record_not_stored_fails_the_whole_batch_with_the_state_unchanged() {
    let aggregates = Arc::new(MemoryAggregates::default());
    let handler = handler(MemoryTable::unprocessing_every(1), &aggregates);
    let state = HashMap::from([("v".to_owned(), "1".to_owned())]);
    let batch = window(&records(0, 30), state.clone(), false);
    let outcome = handler.handle_window(&batch, invocation()).await.unwrap();
    let first = &batch.event.records[0].kinesis.sequence_number;
    assert_eq!(outcome.response.batch_item_failures.len(), 1);
    assert_eq!(
        outcome.response.batch_item_failures[0]
            .item_identifier
            .as_ref(),
        Some(first)
    );
    assert_eq!(outcome.response.state, state);
}

#[tokio::test]
async fn a_windows_end_that_cannot_be_written_fails_until_the_table_is_back() {
    let aggregates = Arc::new(MemoryAggregates::default());
    let table = MemoryTable::default();
    let handler = handler(&table, &aggregates);
    let open = handler
        .handle_window(
            &window(&records(0, 20), HashMap::new(), false),
            invocation(),
        )
        .await
        .unwrap();
    aggregates.set_down(true);
    let end = window(&[], open.response.state, true);
    let error = handler.handle_window(&end, invocation()).await.unwrap_err();
    assert!(error.to_string().contains("memory-aggregates"), "{error}");
    assert!(aggregates.requests() > 1, "retried before failing");
    aggregates.set_down(false);
    handler.handle_window(&end, invocation()).await.unwrap();
    assert_eq!(
        essentials(&stored(&aggregates)),
        essentials(&recount(&table))
    );
}

#[tokio::test]
async fn an_unreadable_state_starts_the_window_afresh_and_stores_the_records() {
    let aggregates = Arc::new(MemoryAggregates::default());
    let table = MemoryTable::default();
    let handler = handler(&table, &aggregates);
    let state = HashMap::from([("v".to_owned(), "99".to_owned())]);
    let outcome = handler
        .handle_window(&window(&records(0, 10), state, false), invocation())
        .await
        .unwrap();
    assert!(outcome.response.batch_item_failures.is_empty());
    assert_eq!(outcome.window.counted, 10);
    assert_eq!(table.snapshot().len(), 10 - 1, "one of ten is not JSON");
}

#[tokio::test]
async fn without_an_aggregate_table_records_are_stored_and_nothing_is_counted() {
    let table = MemoryTable::default();
    let mut handler = handler(&table, &Arc::new(MemoryAggregates::default()));
    handler.aggregates = None;
    let outcome = handler
        .handle_window(&window(&records(0, 10), HashMap::new(), true), invocation())
        .await
        .unwrap();
    assert!(outcome.response.state.is_empty());
    assert_eq!(outcome.window.items_written, 0);
    assert_eq!(table.snapshot().len(), 9);
}
