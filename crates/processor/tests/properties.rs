//! Properties over arbitrary input: no bytes make the processor panic, and every record of
//! an invocation ends in exactly one of {stored, dead-lettered, reported as failed}.

use std::collections::HashSet;
use std::time::Duration;

use aws_edge::retry::{Backoff, Deadline};
use events::Generator;
use kinesis_codec::event::fixture::from_payloads;
use processor::handler::{Handler, Invocation};
use processor::sinks::memory::{MemoryQueue, MemoryTable};
use proptest::prelude::*;

/// A record: valid, slightly broken JSON, or arbitrary bytes.
fn payload() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        any::<u64>().prop_map(|seed| serde_json::to_vec(
            &Generator::new(seed).next_event(1_700_000_000_000)
        )
        .unwrap()),
        any::<u64>().prop_map(|seed| {
            let mut event =
                serde_json::to_value(Generator::new(seed).next_event(1_700_000_000_000)).unwrap();
            event["timestamp"] = serde_json::json!(seed.to_string());
            serde_json::to_vec(&event).unwrap()
        }),
        proptest::collection::vec(any::<u8>(), 0..64),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = kinesis_codec::kpl::deaggregate(&data);
        let ctx = events::RecordContext { event_id: "shardId-0:1", arrival_ms: 0, processed_at_ms: 0 };
        let _ = events::process_record(&data, &ctx);
    }

    #[test]
    fn every_record_is_stored_dead_lettered_or_reported(
        payloads in proptest::collection::vec(payload(), 1..60),
        unprocess_every in 0usize..4,
        fail_every in 0usize..4,
        seconds in 0u64..2,
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
        let handler = Handler {
            table: MemoryTable::unprocessing_every(unprocess_every),
            queue: MemoryQueue::failing_every(fail_every),
            function_name: "p".into(),
            concurrency: 2,
            backoff: Backoff { base: Duration::from_millis(1), max: Duration::from_millis(2) },
            item_ttl_days: 0,
        };
        let event = from_payloads(&payloads);
        let invocation = Invocation {
            request_id: "r",
            deadline: Deadline::after(Duration::from_millis(seconds * 200), Duration::ZERO),
            now_ms: 1_700_000_001_000,
            redrive_count: 0,
        };
        let outcome = runtime.block_on(handler.handle(&event, invocation));
        let first_reported = outcome.response.batch_item_failures.first().map(|f| {
            let id = f.item_identifier.clone().unwrap();
            event.records.iter().position(|r| r.kinesis.sequence_number == id).unwrap()
        });
        let stored: HashSet<String> = handler.table.snapshot().keys().map(|(_, sk)| sk.clone()).collect();
        let dead: HashSet<String> = handler.queue.messages().iter().map(|m| {
            let body: serde_json::Value = serde_json::from_str(&m.body).unwrap();
            body["eventId"].as_str().unwrap().to_owned()
        }).collect();
        for (i, record) in event.records.iter().enumerate() {
            let id = record.event_id.clone().unwrap();
            let ctx = events::RecordContext { event_id: &id, arrival_ms: 0, processed_at_ms: 0 };
            let is_stored = match events::process_record(&record.kinesis.data.0, &ctx) {
                Ok(item) => stored.contains(item.sort_key()),
                Err(_) => false,
            };
            let is_dead = dead.contains(&id);
            let is_reported = first_reported.is_some_and(|first| i >= first);
            if is_reported {
                continue; // Lambda retries it: whatever happened, it will happen again
            }
            prop_assert!(is_stored ^ is_dead, "record {i} stored={is_stored} dead-lettered={is_dead}");
        }
    }
}
