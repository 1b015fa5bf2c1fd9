//! The handler over in-memory sinks: every record ends stored, dead-lettered or reported,
//! the response names the first record not durably handled, and replays change nothing.

use std::collections::HashSet;
use std::time::Duration;

use aws_edge::retry::{Backoff, Deadline};
use base64::Engine;
use events::Generator;
use kinesis_codec::event::fixture::from_payloads;
use processor::handler::{Handler, Invocation, Outcome};
use processor::sinks::memory::{MemoryQueue, MemoryTable};

fn valid(count: usize, seed: u64) -> Vec<Vec<u8>> {
    let mut generator = Generator::new(seed);
    (0..count)
        .map(|i| serde_json::to_vec(&generator.next_event(1_700_000_000_000 + i as i64)).unwrap())
        .collect()
}

fn handler(table: MemoryTable, queue: MemoryQueue) -> Handler<MemoryTable, MemoryQueue> {
    Handler {
        table,
        queue,
        function_name: "processor".into(),
        concurrency: 4,
        backoff: Backoff {
            base: Duration::from_millis(1),
            max: Duration::from_millis(5),
        },
        item_ttl_days: 0,
        buckets: Default::default(),
        aggregates: None,
    }
}

fn invocation(seconds: u64) -> Invocation<'static> {
    Invocation {
        request_id: "req-1",
        deadline: Deadline::after(Duration::from_secs(seconds), Duration::ZERO),
        now_ms: 1_700_000_005_000,
        redrive_count: 0,
    }
}

async fn run(h: &Handler<MemoryTable, MemoryQueue>, payloads: &[Vec<u8>]) -> Outcome {
    h.handle(&from_payloads(payloads), invocation(30)).await
}

#[tokio::test]
async fn valid_records_are_stored_with_at_most_one_request_per_25() {
    let h = handler(MemoryTable::default(), MemoryQueue::default());
    let payloads = valid(1_000, 1);
    let outcome = run(&h, &payloads).await;
    assert!(outcome.response.batch_item_failures.is_empty());
    assert_eq!(h.table.snapshot().len(), 1_000);
    assert!(
        h.table.requests() <= 1_000usize.div_ceil(25),
        "{} requests",
        h.table.requests()
    );
    assert_eq!(h.queue.requests(), 0);
    assert_eq!(outcome.stats.processed, 1_000);
    assert_eq!(outcome.stats.failed, 0);
}

#[tokio::test]
async fn invalid_records_are_dead_lettered_with_their_original_bytes() {
    let h = handler(MemoryTable::default(), MemoryQueue::default());
    let mut payloads = valid(10, 2);
    let bad: Vec<Vec<u8>> = vec![
        b"not json".to_vec(),
        b"[1,2]".to_vec(),
        br#"{"eventType":"view"}"#.to_vec(),
        vec![0xff, 0xfe],
    ];
    payloads.extend(bad.clone());
    let outcome = run(&h, &payloads).await;
    assert!(outcome.response.batch_item_failures.is_empty());
    assert_eq!(h.table.snapshot().len(), 10);
    let messages = h.queue.messages();
    assert_eq!(messages.len(), bad.len());
    let decoded: HashSet<Vec<u8>> = messages
        .iter()
        .map(|m| {
            let body: serde_json::Value = serde_json::from_str(&m.body).unwrap();
            base64::engine::general_purpose::STANDARD
                .decode(body["data"].as_str().unwrap())
                .unwrap()
        })
        .collect();
    assert_eq!(decoded, bad.into_iter().collect());
    assert_eq!(outcome.stats.failed, 4);
}

/// An `eventType` of 2,047 bytes fits the plain index key but not `eventType#shard`: with a
/// sharded table it is dead-lettered (DynamoDB would refuse its whole request on every
/// retry), unsharded it is stored.
#[tokio::test]
async fn a_record_that_cannot_be_sharded_is_dead_lettered_and_the_rest_stored() {
    use processor::index_shards::IndexShards;
    let long = format!(r#"{{"userId":"u","eventType":"{}"}}"#, "t".repeat(2_047));
    let mut payloads = valid(10, 3);
    payloads.insert(4, long.clone().into_bytes());

    let sharded = MemoryTable::default().with_index_shards(IndexShards::new(8).unwrap());
    let h = handler(sharded, MemoryQueue::default());
    let outcome = run(&h, &payloads).await;
    assert!(outcome.response.batch_item_failures.is_empty());
    assert_eq!(h.table.snapshot().len(), 10);
    let messages = h.queue.messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].error_type, "InvalidField");
    let body: serde_json::Value = serde_json::from_str(&messages[0].body).unwrap();
    assert_eq!(
        body["error"],
        "eventTypeShard must be at most 2048 bytes (an index key; the value, '#' and the \
         shard of 8), got 2049 bytes"
    );
    assert_eq!(outcome.stats.failed, 1);

    let plain = handler(MemoryTable::default(), MemoryQueue::default());
    run(&plain, &payloads).await;
    assert_eq!(plain.table.snapshot().len(), 11);
    assert!(plain.queue.messages().is_empty());
}

#[tokio::test]
async fn a_table_that_never_accepts_makes_the_first_record_the_failure() {
    let table = MemoryTable::unprocessing_every(1);
    let h = handler(table, MemoryQueue::default());
    let payloads = valid(30, 3);
    let event = from_payloads(&payloads);
    let outcome = h.handle(&event, invocation(1)).await;
    let failures = &outcome.response.batch_item_failures;
    assert_eq!(failures.len(), 1);
    assert_eq!(
        failures[0].item_identifier.as_deref(),
        Some(event.records[0].kinesis.sequence_number.as_str())
    );
    assert_eq!(outcome.stats.processed, 0);
}

#[tokio::test]
async fn unprocessed_items_and_failed_entries_are_retried_until_delivered() {
    let table = MemoryTable::unprocessing_every(3);
    let queue = MemoryQueue::failing_every(4);
    let h = handler(table, queue);
    let mut payloads = valid(200, 4);
    payloads.extend((0..20).map(|i| format!("broken {i}").into_bytes()));
    let outcome = run(&h, &payloads).await;
    assert!(
        outcome.response.batch_item_failures.is_empty(),
        "{:?}",
        outcome.response
    );
    assert_eq!(h.table.snapshot().len(), 200);
    assert_eq!(h.queue.messages().len(), 20);
}

#[tokio::test]
async fn duplicate_keys_in_one_batch_become_one_write() {
    let h = handler(MemoryTable::default(), MemoryQueue::default());
    let one = valid(1, 5).remove(0);
    let mut event: serde_json::Value = serde_json::from_slice(&one).unwrap();
    event["eventId"] = serde_json::json!("producer-retry-1");
    let same = serde_json::to_vec(&event).unwrap();
    let outcome = run(&h, &[same.clone(), same]).await;
    assert!(outcome.response.batch_item_failures.is_empty());
    assert_eq!(h.table.snapshot().len(), 1);
    assert!(h.queue.messages().is_empty());
}

#[tokio::test]
async fn the_same_invocation_twice_leaves_the_table_unchanged() {
    let h = handler(MemoryTable::default(), MemoryQueue::default());
    let payloads = valid(300, 6);
    run(&h, &payloads).await;
    let first = h.table.snapshot();
    run(&h, &payloads).await;
    assert_eq!(h.table.snapshot(), first);
}

#[tokio::test]
async fn kpl_aggregates_are_split_into_their_user_records() {
    let h = handler(MemoryTable::default(), MemoryQueue::default());
    let users = valid(5, 7);
    let records: Vec<(&str, &[u8])> = users.iter().map(|u| ("pk", u.as_slice())).collect();
    let aggregate = kinesis_codec::kpl::aggregate(&records);
    let mut corrupt = aggregate.clone();
    let last = corrupt.len() - 1;
    corrupt[last] ^= 0xff;
    let outcome = run(&h, &[aggregate, corrupt]).await;
    assert!(outcome.response.batch_item_failures.is_empty());
    assert_eq!(h.table.snapshot().len(), 5);
    let messages = h.queue.messages();
    assert_eq!(messages.len(), 1, "a corrupt aggregate is one dead letter");
    assert_eq!(messages[0].error_type, "CorruptAggregate");
}

#[tokio::test]
async fn an_empty_event_is_a_success() {
    let h = handler(MemoryTable::default(), MemoryQueue::default());
    let outcome = run(&h, &[]).await;
    assert!(outcome.response.batch_item_failures.is_empty());
    assert_eq!(outcome.stats.batch_size, 0);
}
