//! The handler with its buckets, over in-memory sinks: a dead letter too large for SQS is
//! stored whole in the failure bucket and the letter points at it (a claim check), durable
//! only when both are; every batch is archived, reads back with every record's identity,
//! and a batch that could not be archived is retried whole by Lambda.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use aws_edge::retry::{Backoff, Deadline};
use aws_lambda_events::event::kinesis::KinesisEvent;
use events::Generator;
use kinesis_codec::event::{fixture, kinesis_event};
use kinesis_codec::record::{from_record_json, StreamRecord};
use processor::handler::{Buckets, Handler, Invocation, Outcome};
use processor::sinks::memory::{MemoryBucket, MemoryQueue, MemoryTable};
use serde_json::Value;

/// Past SQS's 1 MiB once in base64 (1,066,668 bytes).
const TOO_LARGE: usize = 800_000;

fn valid(count: usize, seed: u64) -> Vec<Vec<u8>> {
    let mut generator = Generator::new(seed);
    (0..count)
        .map(|i| serde_json::to_vec(&generator.next_event(1_700_000_000_000 + i as i64)).unwrap())
        .collect()
}

/// Records as a shard holds them: record `first + i` of shard 0 for each payload.
fn records(first: usize, payloads: &[Vec<u8>]) -> Vec<StreamRecord> {
    payloads
        .iter()
        .enumerate()
        .map(|(i, data)| fixture::record(first + i, &format!("user-{}", i % 7), data))
        .collect()
}

fn event(records: &[StreamRecord]) -> KinesisEvent {
    kinesis_event(records, &fixture::source()).unwrap()
}

fn handler(
    queue: MemoryQueue,
    failures: Option<&Arc<MemoryBucket>>,
    archive: Option<&Arc<MemoryBucket>>,
) -> Handler<MemoryTable, MemoryQueue> {
    let share = |b: Option<&Arc<MemoryBucket>>| {
        b.map(|b| Arc::clone(b) as Arc<dyn processor::sinks::ObjectStore>)
    };
    Handler {
        table: MemoryTable::default(),
        queue,
        function_name: "processor".into(),
        concurrency: 4,
        backoff: Backoff {
            base: Duration::from_millis(1),
            max: Duration::from_millis(5),
        },
        item_ttl_days: 0,
        buckets: Buckets {
            failures: share(failures),
            archive: share(archive),
        },
        aggregates: None,
    }
}

fn invocation(millis: u64) -> Invocation<'static> {
    Invocation {
        request_id: "req-1",
        deadline: Deadline::after(Duration::from_millis(millis), Duration::ZERO),
        now_ms: 1_700_000_005_000,
        redrive_count: 0,
    }
}

async fn run(h: &Handler<MemoryTable, MemoryQueue>, event: &KinesisEvent) -> Outcome {
    h.handle(event, invocation(5_000)).await
}

/// The index of the record the response names, if any.
fn reported(outcome: &Outcome, event: &KinesisEvent) -> Option<usize> {
    let id = outcome.response.batch_item_failures.first()?;
    let id = id.item_identifier.as_deref()?;
    event
        .records
        .iter()
        .position(|r| r.kinesis.sequence_number == id)
}

fn bodies(queue: &MemoryQueue) -> Vec<Value> {
    queue
        .messages()
        .iter()
        .map(|m| serde_json::from_str(&m.body).unwrap())
        .collect()
}

/// Valid events around one record too large for SQS (not JSON: `InvalidJson`).
fn batch_with_an_oversize_record() -> (Vec<StreamRecord>, usize) {
    let mut payloads = valid(6, 1);
    let big: Vec<u8> = (0..TOO_LARGE).map(|i| b'a' + (i % 26) as u8).collect();
    payloads.insert(3, big);
    (records(0, &payloads), 3)
}

// --- claim checks -------------------------------------------------------------------------

#[tokio::test]
async fn an_oversize_dead_letter_is_stored_whole_and_its_letter_points_at_it() {
    let failures = Arc::new(MemoryBucket::new("retail-failures"));
    let h = handler(MemoryQueue::default(), Some(&failures), None);
    let (records, big) = batch_with_an_oversize_record();
    let event = event(&records);
    let outcome = run(&h, &event).await;
    assert!(outcome.response.batch_item_failures.is_empty());
    assert_eq!(h.table.snapshot().len(), 6);
    let letters = bodies(&h.queue);
    assert_eq!(letters.len(), 1);
    let letter = &letters[0];
    let key = kinesis_codec::archive::dead_letter_key(&records[big].event_id());
    assert_eq!(letter["errorType"], "InvalidJson");
    assert_eq!(letter["dataTruncated"], true);
    assert_eq!(letter["dataS3Bucket"], "retail-failures");
    assert_eq!(letter["dataS3Key"], key.as_str());
    assert!(letter.get("data").is_none());
    let objects = failures.objects();
    assert_eq!(objects.len(), 1);
    assert_eq!(
        objects[&key].body, records[big].data,
        "the record's bytes, whole"
    );
    assert_eq!(objects[&key].content_type, "application/octet-stream");
    assert!(
        h.queue.messages()[0].body.len() < 10_000,
        "the letter is small"
    );
}

#[tokio::test]
async fn a_claim_check_that_cannot_be_stored_sends_no_letter_and_lambda_retries_the_record() {
    for refuse in [false, true] {
        let failures = if refuse {
            Arc::new(MemoryBucket::new("f").refusing())
        } else {
            let down = MemoryBucket::new("f");
            down.set_down(true);
            Arc::new(down)
        };
        let h = handler(MemoryQueue::default(), Some(&failures), None);
        let (records, big) = batch_with_an_oversize_record();
        let event = event(&records);
        let outcome = h.handle(&event, invocation(50)).await;
        assert_eq!(reported(&outcome, &event), Some(big), "refuse={refuse}");
        assert!(
            h.queue.messages().is_empty(),
            "no letter pointing at nothing"
        );
        assert!(failures.objects().is_empty());
        // The records before it are stored; it and those after are Lambda's to retry.
        assert_eq!(outcome.stats.processed, big);
    }
}

/// The object is stored, the letter is not sent: the record is retried, and the retry puts
/// the same key again (one object) and sends one letter.
#[tokio::test]
async fn a_letter_that_cannot_be_sent_after_its_object_is_retried_onto_the_same_key() {
    let failures = Arc::new(MemoryBucket::new("f"));
    let (records, big) = batch_with_an_oversize_record();
    let event = event(&records);
    let broken = handler(MemoryQueue::failing_every(1), Some(&failures), None);
    let outcome = broken.handle(&event, invocation(50)).await;
    assert_eq!(reported(&outcome, &event), Some(big));
    assert!(broken.queue.messages().is_empty());
    assert_eq!(failures.objects().len(), 1, "the object was stored");
    let first = failures.objects();

    // Lambda's retry from the reported record, with SQS back.
    let retry = event_from(&event, big);
    let h = handler(MemoryQueue::default(), Some(&failures), None);
    let outcome = run(&h, &retry).await;
    assert!(outcome.response.batch_item_failures.is_empty());
    let letters = bodies(&h.queue);
    assert_eq!(letters.len(), 1, "one letter");
    assert_eq!(
        letters[0]["dataS3Key"],
        kinesis_codec::archive::dead_letter_key(&records[big].event_id()).as_str()
    );
    assert_eq!(failures.objects(), first, "the same key, the same bytes");
    assert_eq!(failures.puts(), 2, "written again, not twice over");
}

/// Lambda's retry of `event` from record `from` on (ReportBatchItemFailures).
fn event_from(event: &KinesisEvent, from: usize) -> KinesisEvent {
    let mut retry = event.clone();
    retry.records.drain(..from);
    retry
}

/// The n-th user record of a KPL aggregate gets its own object, keyed with its `:n`.
#[tokio::test]
async fn an_oversize_user_record_of_an_aggregate_is_keyed_by_its_own_event_id() {
    let failures = Arc::new(MemoryBucket::new("f"));
    let h = handler(MemoryQueue::default(), Some(&failures), None);
    let users = valid(3, 2);
    let big = vec![b'x'; TOO_LARGE];
    let parts: Vec<(&str, &[u8])> = vec![
        ("k", users[0].as_slice()),
        ("k", big.as_slice()),
        ("k", users[1].as_slice()),
    ];
    let aggregate = kinesis_codec::kpl::aggregate(&parts);
    let records = records(0, &[aggregate]);
    let outcome = run(&h, &event(&records)).await;
    assert!(outcome.response.batch_item_failures.is_empty());
    let key = kinesis_codec::archive::dead_letter_key(&format!("{}:1", records[0].event_id()));
    assert!(key.ends_with("/1"), "{key}");
    assert_eq!(failures.objects()[&key].body, big);
    assert_eq!(bodies(&h.queue)[0]["dataS3Key"], key.as_str());
    assert_eq!(h.table.snapshot().len(), 2);
}

/// Without FAILURE_BUCKET a letter too large for SQS is as it was: its place in the stream.
#[tokio::test]
async fn without_a_failure_bucket_an_oversize_letter_keeps_only_its_place() {
    let h = handler(MemoryQueue::default(), None, None);
    let (records, _) = batch_with_an_oversize_record();
    let outcome = run(&h, &event(&records)).await;
    assert!(outcome.response.batch_item_failures.is_empty());
    let letters = bodies(&h.queue);
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0]["dataTruncated"], true);
    assert_eq!(letters[0]["dataSize"], TOO_LARGE);
    assert!(letters[0].get("dataS3Key").is_none());
    assert!(letters[0].get("data").is_none());
}

// --- the event archive --------------------------------------------------------------------

/// What an archive object holds: each record as the stream held it, with its eventID.
fn archived(body: &[u8]) -> Vec<(StreamRecord, String)> {
    let event = kinesis_codec::archive::decode(body).expect("a gzip Kinesis event");
    event["Records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| from_record_json(r).expect("a record of Lambda's event"))
        .collect()
}

fn identities(records: &[StreamRecord]) -> Vec<(StreamRecord, String)> {
    records.iter().map(|r| (r.clone(), r.event_id())).collect()
}

#[tokio::test]
async fn a_batch_is_archived_and_reads_back_to_the_same_identities() {
    let archive = Arc::new(MemoryBucket::new("retail-archive"));
    let h = handler(MemoryQueue::default(), None, Some(&archive));
    let mut payloads = valid(40, 3);
    payloads[7] = b"not json".to_vec();
    payloads[8] = vec![0xff, 0x00];
    let mut records = records(1_000, &payloads);
    // Arrival times JSON writes short (.69, .5, .0) keep their milliseconds.
    records[1].arrival_ms = 1_700_000_000_690;
    records[2].arrival_ms = 1_700_000_000_500;
    records[3].arrival_ms = 1_700_000_001_000;
    let event = event(&records);
    let outcome = run(&h, &event).await;
    assert!(outcome.response.batch_item_failures.is_empty());
    let objects = archive.objects();
    assert_eq!(objects.len(), 1);
    let key = kinesis_codec::archive::object_key(&records[0], &records[39]);
    let object = &objects[&key];
    assert_eq!(object.content_type, "application/gzip");
    assert_eq!(archived(&object.body), identities(&records));
    // Invalid records are archived like the rest: the archive is what the stream took.
    assert_eq!(h.queue.messages().len(), 2);
}

#[tokio::test]
async fn a_batch_that_cannot_be_archived_is_retried_whole_and_then_stored() {
    let archive = Arc::new(MemoryBucket::new("a"));
    archive.set_down(true);
    let h = handler(MemoryQueue::default(), None, Some(&archive));
    let records = records(0, &valid(50, 4));
    let event = event(&records);
    let outcome = h.handle(&event, invocation(50)).await;
    assert_eq!(
        reported(&outcome, &event),
        Some(0),
        "the FIRST record: Lambda retries the whole batch"
    );
    assert_eq!(outcome.stats.processed, 0, "counted failed until retried");
    assert_eq!(outcome.stats.failed, 50);
    assert!(archive.objects().is_empty());
    assert!(archive.puts() > 1, "retried within the deadline");
    // The table was written meanwhile: the retry overwrites the same items.
    let table = h.table.snapshot();
    assert_eq!(table.len(), 50);

    archive.set_down(false);
    let outcome = run(&h, &event).await;
    assert!(outcome.response.batch_item_failures.is_empty());
    assert_eq!(h.table.snapshot().len(), 50);
    assert_eq!(
        archived(&archive.objects().values().next().unwrap().body),
        identities(&records)
    );
    // A fatal answer (the role may not write) is not retried, and fails the batch the same.
    let refused = Arc::new(MemoryBucket::new("a").refusing());
    let h = handler(MemoryQueue::default(), None, Some(&refused));
    let outcome = run(&h, &event).await;
    assert_eq!(reported(&outcome, &event), Some(0));
    assert_eq!(refused.puts(), 1);
}

/// The archive write is conditional: Lambda's retry of a stored batch, or a redrive of some
/// of its records under the same first and last sequence numbers, keeps the whole object.
#[tokio::test]
async fn an_archived_batch_is_never_replaced_by_a_later_batch_with_its_key() {
    let archive = Arc::new(MemoryBucket::new("a"));
    let h = handler(MemoryQueue::default(), None, Some(&archive));
    let records = records(0, &valid(10, 5));
    run(&h, &event(&records)).await;
    let whole = archive.objects();
    run(&h, &event(&records)).await;
    let subset = [records[0].clone(), records[9].clone()];
    let outcome = run(&h, &event(&subset)).await;
    assert!(outcome.response.batch_item_failures.is_empty());
    assert_eq!(archive.objects(), whole);
    assert_eq!(archive.puts(), 3);
}

#[tokio::test]
async fn with_the_archive_off_nothing_is_put_and_an_empty_batch_writes_nothing() {
    let failures = Arc::new(MemoryBucket::new("f"));
    let h = handler(MemoryQueue::default(), Some(&failures), None);
    let outcome = run(&h, &event(&records(0, &valid(30, 6)))).await;
    assert!(outcome.response.batch_item_failures.is_empty());
    assert_eq!(
        failures.puts(),
        0,
        "no archive, no claim check: no PutObject"
    );

    let archive = Arc::new(MemoryBucket::new("a"));
    let h = handler(MemoryQueue::default(), None, Some(&archive));
    let outcome = run(&h, &KinesisEvent::default()).await;
    assert!(outcome.response.batch_item_failures.is_empty());
    assert_eq!(archive.puts(), 0);
}

/// A handler that skipped the archive once in a while (every 100th batch, a batch of some
/// size, the last of a run) fails this: 300 batches of 1 to 40 records through one handler,
/// each must have its own object holding exactly its records.
#[tokio::test]
async fn every_batch_of_many_is_archived_with_exactly_its_records() {
    let archive = Arc::new(MemoryBucket::new("a"));
    let h = handler(MemoryQueue::default(), None, Some(&archive));
    let mut next = 0;
    let mut expected: BTreeMap<String, Vec<(StreamRecord, String)>> = BTreeMap::new();
    let mut generator = Generator::new(7);
    for batch in 0..300 {
        let size = 1 + (batch * 7) % 40;
        let payloads: Vec<Vec<u8>> = (0..size)
            .map(|i| {
                serde_json::to_vec(&generator.next_event(1_700_000_000_000 + i as i64)).unwrap()
            })
            .collect();
        let records = records(next, &payloads);
        next += size;
        let outcome = run(&h, &event(&records)).await;
        assert!(outcome.response.batch_item_failures.is_empty());
        let key = kinesis_codec::archive::object_key(&records[0], &records[size - 1]);
        expected.insert(key, identities(&records));
    }
    let objects = archive.objects();
    assert_eq!(objects.len(), 300, "one object per batch");
    for (key, records) in &expected {
        let object = objects
            .get(key)
            .unwrap_or_else(|| panic!("{key} not archived"));
        assert_eq!(&archived(&object.body), records, "{key}");
    }
    let all: HashSet<String> = objects
        .values()
        .flat_map(|o| archived(&o.body))
        .map(|(_, id)| id)
        .collect();
    assert_eq!(all.len(), next, "every record archived once");
}

/// The archive and the claim checks together, both failing now and then, under Lambda's
/// retries: in the end every record is stored or dead-lettered once (an oversize one with its
/// object), and every record is in the archive.
#[tokio::test]
async fn under_lambdas_retries_nothing_is_lost_and_nothing_written_twice() {
    let failures = Arc::new(MemoryBucket::new("f").failing_every(2));
    let archive = Arc::new(MemoryBucket::new("a").failing_every(3));
    let h = handler(
        MemoryQueue::failing_every(5),
        Some(&failures),
        Some(&archive),
    );
    let mut payloads = valid(60, 8);
    for i in [5, 33, 59] {
        payloads[i] = vec![b'z'; TOO_LARGE + i];
    }
    let records = records(0, &payloads);
    let event = event(&records);
    let mut batch = event.clone();
    let mut invocations = 0;
    loop {
        invocations += 1;
        assert!(invocations <= 50, "the batch did not get through");
        // A short deadline, so that failures do reach Lambda.
        let outcome = h.handle(&batch, invocation(3)).await;
        match reported(&outcome, &batch) {
            None => break,
            Some(from) => batch.records.drain(..from),
        };
    }
    assert!(invocations > 1, "nothing failed: the test tests nothing");
    assert_eq!(h.table.snapshot().len(), 57);
    let letters = bodies(&h.queue);
    let ids: HashSet<&str> = letters
        .iter()
        .map(|l| l["eventId"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 3, "three records dead-lettered");
    let objects = failures.objects();
    assert_eq!(objects.len(), 3);
    for i in [5, 33, 59] {
        let key = kinesis_codec::archive::dead_letter_key(&records[i].event_id());
        assert_eq!(objects[&key].body, records[i].data);
    }
    let archived_ids: HashSet<String> = archive
        .objects()
        .values()
        .flat_map(|o| archived(&o.body))
        .map(|(_, id)| id)
        .collect();
    assert_eq!(archived_ids.len(), 60, "every record is in the archive");
}

/// With buckets the invocation's future may still move between threads (a tool that spawns
/// it on a multi-threaded runtime).
#[test]
fn the_handlers_future_stays_send_with_buckets() {
    fn send<T: Send>(_: &T) {}
    let bucket = Arc::new(MemoryBucket::new("b"));
    let h = handler(MemoryQueue::default(), Some(&bucket), Some(&bucket));
    let event = KinesisEvent::default();
    let future = h.handle(&event, invocation(1));
    send(&future);
}
