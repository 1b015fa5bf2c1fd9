//! Properties over arbitrary input: no bytes make the processor panic, and every record of
//! an invocation ends in exactly one of {stored, dead-lettered, reported as failed}; a
//! dead letter too large for SQS has its record's bytes in the failure bucket, and an
//! invocation that answers anything but "retry from the first record" has archived its
//! whole batch.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use aws_edge::retry::{Backoff, Deadline};
use events::Generator;
use kinesis_codec::event::fixture::from_payloads;
use processor::handler::{Buckets, Handler, Invocation};
use processor::sinks::memory::{MemoryBucket, MemoryQueue, MemoryTable};
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

/// Mostly [`payload`]; now and then a record too large for an SQS message (a claim check).
fn payload_or_oversize() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        30 => payload(),
        1 => (800_000usize..900_000).prop_map(|n| vec![b'#'; n]),
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
        payloads in proptest::collection::vec(payload_or_oversize(), 1..60),
        unprocess_every in 0usize..4,
        fail_every in 0usize..4,
        claim_fail_every in 0usize..3,
        archive_fail_every in 0usize..3,
        seconds in 0u64..2,
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
        let failures = Arc::new(MemoryBucket::new("failures").failing_every(claim_fail_every));
        let archive = Arc::new(MemoryBucket::new("archive").failing_every(archive_fail_every));
        let handler = Handler {
            table: MemoryTable::unprocessing_every(unprocess_every),
            queue: MemoryQueue::failing_every(fail_every),
            function_name: "p".into(),
            concurrency: 2,
            backoff: Backoff { base: Duration::from_millis(1), max: Duration::from_millis(2) },
            item_ttl_days: 0,
            buckets: Buckets {
                failures: Some(failures.clone()),
                archive: Some(archive.clone()),
            },
            aggregates: None,
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
        let letters: Vec<serde_json::Value> = handler
            .queue
            .messages()
            .iter()
            .map(|m| serde_json::from_str(&m.body).unwrap())
            .collect();
        let dead: HashSet<String> = letters.iter().map(|body| body["eventId"].as_str().unwrap().to_owned()).collect();
        let claims = failures.objects();
        for letter in &letters {
            // A letter is sent only once the object it points at is stored.
            if let Some(key) = letter.get("dataS3Key").and_then(|k| k.as_str()) {
                let id = letter["eventId"].as_str().unwrap();
                let record = event.records.iter().find(|r| r.event_id.as_deref() == Some(id)).unwrap();
                prop_assert_eq!(letter["dataS3Bucket"].as_str(), Some("failures"));
                prop_assert_eq!(key, kinesis_codec::archive::dead_letter_key(id));
                prop_assert!(claims.get(key).is_some_and(|o| o.body == record.kinesis.data.0), "{} not stored whole", key);
            }
        }
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
        // Unless Lambda is to retry the whole batch, the batch is in the archive, whole.
        if first_reported != Some(0) {
            let objects = archive.objects();
            prop_assert_eq!(objects.len(), 1);
            let body = &objects.values().next().unwrap().body;
            let back = kinesis_codec::archive::decode(body).unwrap();
            let ids: Vec<String> = back["Records"].as_array().unwrap().iter().map(|r| {
                let (stream_record, id) = kinesis_codec::record::from_record_json(r).unwrap();
                let original = event.records.iter().find(|e| e.event_id.as_deref() == Some(id.as_str())).unwrap();
                assert_eq!(stream_record.data, original.kinesis.data.0);
                id
            }).collect();
            let expected: Vec<String> = event.records.iter().map(|r| r.event_id.clone().unwrap()).collect();
            prop_assert_eq!(ids, expected);
        }
    }
}
