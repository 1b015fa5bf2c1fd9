//! Replays against an in-memory archive and stream, with the real processor in-process
//! writing to a table and a queue in memory.

use std::collections::BTreeSet;
use std::sync::Mutex;

use kinesis_codec::archive::{encode, object_key};
use kinesis_codec::event::event_json;
use kinesis_codec::kpl;
use kinesis_codec::record::StreamRecord;
use processor::config::Config;
use processor::dead_letter::DeadLetter;
use processor::handler::Handler;
use processor::sinks::memory::{MemoryQueue, MemoryTable};
use processor::sinks::{QueueSender, SinkError};
use reprocess::objects::MemoryObjects;
use reprocess::{Attempt, InProcess};

use super::*;
use crate::stream::Page;

/// 2025-11-24T16:00:00Z, on the hour.
const HOUR: i64 = 1_764_000_000_000;
const MINUTE: i64 = 60_000;
const BUCKET: &str = "archive";

fn source() -> EventSource {
    EventSource {
        stream_arn: "arn:aws:kinesis:us-east-1:123456789012:stream/s".into(),
        region: "us-east-1".into(),
        role_arn: "arn:aws:iam::123456789012:role/r".into(),
    }
}

/// An event without its own eventId or timestamp: its key comes from the record's identity.
fn event(user: &str, event_type: &str) -> Vec<u8> {
    format!(r#"{{"userId":"{user}","eventType":"{event_type}","productId":"p-1"}}"#).into_bytes()
}

fn record(shard: u32, sequence: u64, arrival_ms: i64, data: Vec<u8>) -> StreamRecord {
    StreamRecord {
        shard_id: format!("shardId-{shard:012}"),
        sequence_number: sequence.to_string(),
        partition_key: "k".into(),
        data,
        arrival_ms,
    }
}

/// The item key a first delivery gives each user record of `record`.
fn keys_of(record: &StreamRecord) -> Vec<(String, String)> {
    Identified::whole(record.clone())
        .user_records()
        .into_iter()
        .map(|user| {
            let value: serde_json::Value = serde_json::from_slice(&user.record.data).unwrap();
            let user_id = value["userId"].as_str().unwrap().to_owned();
            (
                user_id,
                events::event_key(user.record.arrival_ms, &user.event_id),
            )
        })
        .collect()
}

fn config() -> Config {
    use contract::env;
    Config::from_lookup(|name| match name {
        env::TABLE_NAME => Some("t".into()),
        env::DLQ_URL => Some("https://sqs/q".into()),
        env::FUNCTION_NAME => Some("fn".into()),
        _ => None,
    })
    .unwrap()
}

/// Stores a batch as the processor archives it.
fn archive(objects: &MemoryObjects, records: &[StreamRecord]) {
    let key = object_key(&records[0], records.last().unwrap());
    objects.put(BUCKET, &key, encode(&event_json(records, &source())));
}

/// The bench's queue, lent to the handler.
struct Letters<'a>(&'a MemoryQueue);

impl QueueSender for Letters<'_> {
    async fn send_batch(&self, letters: &[&DeadLetter]) -> Result<Vec<usize>, SinkError> {
        self.0.send_batch(letters).await
    }
}

struct Bench {
    objects: MemoryObjects,
    table: MemoryTable,
    queue: MemoryQueue,
}

impl Bench {
    fn new() -> Bench {
        Bench {
            objects: MemoryObjects::default(),
            table: MemoryTable::default(),
            queue: MemoryQueue::default(),
        }
    }

    fn processor(&self) -> InProcess<&MemoryTable, Letters<'_>> {
        InProcess {
            handler: Handler::from_config(&config(), &self.table, Letters(&self.queue)),
            source: source(),
            timeout: Duration::from_secs(10),
            request_prefix: "replay",
        }
    }

    async fn archive(&self, options: &Options) -> Summary {
        run_archive(
            &self.objects,
            BUCKET,
            &self.processor(),
            &source(),
            options,
            &mut |_| {},
        )
        .await
        .unwrap()
    }

    fn keys(&self) -> BTreeSet<(String, String)> {
        self.table.snapshot().into_keys().collect()
    }
}

/// 16:30 to 17:30.
fn window() -> Window {
    Window::new(HOUR + 30 * MINUTE, HOUR + 90 * MINUTE).unwrap()
}

fn check_totals(s: &Summary) {
    assert_eq!(
        s.read,
        s.stored + s.dead_lettered + s.skipped + s.failed + s.planned,
        "{s}"
    );
}

#[tokio::test]
async fn the_archive_replays_the_windows_records_once_under_their_first_keys() {
    let aggregate = kpl::aggregate(&[
        ("a", &event("agg-0", "view")[..]),
        ("b", &event("agg-1", "purchase")[..]),
    ]);
    let early = record(0, 1, HOUR + 10 * MINUTE, event("early", "view"));
    let inside = record(0, 2, HOUR + 40 * MINUTE, event("u2", "view"));
    let packed = record(0, 3, HOUR + 50 * MINUTE, aggregate);
    let later = record(0, 4, HOUR + 70 * MINUTE, event("u4", "purchase"));
    let after = record(0, 5, HOUR + 100 * MINUTE, event("after", "view"));
    let bench = Bench::new();
    archive(
        &bench.objects,
        &[early.clone(), inside.clone(), packed.clone()],
    );
    // Lambda retried the batch from its second record: archived again, overlapping.
    archive(&bench.objects, &[inside.clone(), packed.clone()]);
    archive(&bench.objects, &[later.clone(), after]);
    // Another shard's batch, keyed by its first record in the hour before the window.
    let before = record(1, 1, HOUR - MINUTE, event("before", "view"));
    let other = record(1, 2, HOUR + 31 * MINUTE, event("u-other", "share"));
    archive(&bench.objects, &[before, other.clone()]);

    let summary = bench.archive(&Options::new(window())).await;
    check_totals(&summary);
    assert_eq!(
        (summary.read, summary.stored, summary.failed),
        (5, 5, 0),
        "{summary}"
    );
    assert_eq!(
        (summary.objects, summary.duplicates, summary.outside),
        (4, 2, 3)
    );
    let expected: BTreeSet<_> = [&inside, &packed, &later, &other]
        .into_iter()
        .flat_map(keys_of)
        .collect();
    assert_eq!(bench.keys(), expected);
    assert!(summary.all_handled());
    // The stored records' minutes (by arrival: they carry no timestamp), for the rebuild.
    let note = summary.touched.note("replayed", "s", true).unwrap();
    assert!(
        note.starts_with("aggregates: replayed events touch 4 minutes "),
        "{note}"
    );

    // Again: the same keys, nothing added.
    let again = bench.archive(&Options::new(window())).await;
    assert_eq!(again.stored, 5, "{again}");
    assert_eq!(bench.keys(), expected);
}

#[tokio::test]
async fn event_types_select_and_a_dry_run_changes_nothing() {
    let records = vec![
        record(0, 1, HOUR + 40 * MINUTE, event("a", "purchase")),
        record(0, 2, HOUR + 41 * MINUTE, event("b", "view")),
        record(0, 3, HOUR + 42 * MINUTE, b"{not json".to_vec()),
    ];
    let bench = Bench::new();
    archive(&bench.objects, &records);

    let dry = bench
        .archive(&Options {
            dry_run: true,
            ..Options::new(window())
        })
        .await;
    check_totals(&dry);
    assert_eq!((dry.read, dry.planned), (3, 3), "{dry}");
    assert!(bench.table.snapshot().is_empty());
    assert!(bench.queue.messages().is_empty());

    let purchases = bench
        .archive(&Options {
            event_types: vec!["purchase".into()],
            ..Options::new(window())
        })
        .await;
    check_totals(&purchases);
    assert_eq!((purchases.stored, purchases.skipped), (1, 2), "{purchases}");
    assert_eq!(bench.keys(), keys_of(&records[0]).into_iter().collect());

    // Everything: the invalid record is dead-lettered, as on its first delivery.
    let all = bench.archive(&Options::new(window())).await;
    assert_eq!((all.stored, all.dead_lettered), (2, 1), "{all}");
    let letters = bench.queue.messages();
    assert_eq!(letters.len(), 1);
    let letter: serde_json::Value = serde_json::from_str(&letters[0].body).unwrap();
    assert_eq!(letter["eventId"], records[2].event_id());
    assert!(letter["requestId"].as_str().unwrap().starts_with("replay-"));
}

/// A processor whose every invocation fails.
struct Broken;

impl Reprocessor for Broken {
    async fn process(&self, _: &[Identified], _: u32) -> Result<Attempt, String> {
        Ok(Attempt::failed(
            "req".into(),
            "the function failed (Unhandled)".into(),
        ))
    }
}

#[tokio::test]
async fn records_not_handled_and_unreadable_objects_fail_the_replay() {
    let objects = MemoryObjects::default();
    archive(
        &objects,
        &[record(0, 1, HOUR + 40 * MINUTE, event("a", "view"))],
    );
    objects.put(
        BUCKET,
        "events/2025/11/24/16/shardId-000000000000/7-8.json.gz",
        "not gzip",
    );
    let options = Options {
        retry: Retry {
            pause: Duration::ZERO,
            ..Retry::default()
        },
        ..Options::new(window())
    };
    let summary = run_archive(&objects, BUCKET, &Broken, &source(), &options, &mut |_| {})
        .await
        .unwrap();
    check_totals(&summary);
    assert_eq!((summary.read, summary.failed), (2, 2), "{summary}");
    assert!(!summary.all_handled());
    assert!(summary.problems.iter().any(|p| p.contains("gzip")));
    assert!(summary
        .problems
        .iter()
        .any(|p| p.contains("function failed")));
}

/// A stream in memory: each shard's records, two per page; MillisBehindLatest 0 on the
/// last page.
struct FakePages {
    shards: Vec<Vec<StreamRecord>>,
    pages_read: Mutex<usize>,
}

impl Pages for FakePages {
    async fn shards(&self) -> Result<Vec<String>, String> {
        Ok((0..self.shards.len())
            .map(|i| format!("shardId-{i:012}"))
            .collect())
    }

    async fn start(&self, shard: &str, from_ms: i64) -> Result<String, String> {
        let index = self.index(shard);
        let at = self.shards[index]
            .iter()
            .position(|r| r.arrival_ms >= from_ms)
            .unwrap_or(self.shards[index].len());
        Ok(at.to_string())
    }

    async fn page(&self, shard: &str, iterator: &str) -> Result<Page, String> {
        *self.pages_read.lock().unwrap() += 1;
        let records = &self.shards[self.index(shard)];
        let at: usize = iterator.parse().unwrap();
        let end = (at + 2).min(records.len());
        Ok(Page {
            records: records[at..end].to_vec(),
            next: Some(end.to_string()),
            caught_up: end == records.len(),
        })
    }
}

impl FakePages {
    fn index(&self, shard: &str) -> usize {
        shard.trim_start_matches("shardId-").parse().unwrap()
    }
}

#[tokio::test]
async fn the_stream_is_read_from_the_windows_start_until_past_its_end() {
    let shard0: Vec<StreamRecord> = (0..10)
        .map(|i| {
            record(
                0,
                i,
                HOUR + i as i64 * 10 * MINUTE,
                event(&format!("u{i}"), "view"),
            )
        })
        .collect();
    let shard1 = vec![record(1, 1, HOUR + 35 * MINUTE, event("w", "view"))];
    let pages = FakePages {
        shards: vec![shard0.clone(), shard1.clone()],
        pages_read: Mutex::default(),
    };
    let bench = Bench::new();
    let options = Options {
        page_pause: Duration::ZERO,
        ..Options::new(window())
    };
    let summary = run_stream(&pages, &bench.processor(), &source(), &options, &mut |_| {})
        .await
        .unwrap();
    check_totals(&summary);
    // Shard 0: 16:30 to 17:20 (records 3 to 8); record 9 (17:30) is past the end.
    assert_eq!((summary.read, summary.stored), (7, 7), "{summary}");
    let expected: BTreeSet<_> = shard0[3..9]
        .iter()
        .chain(&shard1)
        .flat_map(keys_of)
        .collect();
    assert_eq!(bench.keys(), expected);
    // Shard 0 from record 3: pages 3-4, 5-6, 7-8, 9 (past the end: stop); shard 1: one.
    assert_eq!(*pages.pages_read.lock().unwrap(), 5);
    assert_eq!(summary.pages, 5);
    assert_eq!(summary.outside, 1);
}
