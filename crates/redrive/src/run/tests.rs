//! The run loop against an in-memory queue, stream and failure archive, with the real
//! processor in-process: the dead letters it writes go back into the same fake queue, as on
//! AWS.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use kinesis_codec::on_failure::{BatchInfo, OnFailure, PayloadForm};
use processor::config::Config;
use processor::dead_letter::{self, DeadLetter, Origin, Writer};
use processor::handler::Handler;
use processor::sinks::memory::MemoryTable;
use processor::sinks::{QueueSender, SinkError};
use reprocess::objects::MemoryObjects;
use reprocess::{Attempt, InProcess};

use super::*;

const SHARD: &str = "shardId-000000000000";
const ARRIVAL_MS: i64 = 1_764_000_000_123;

/// A queue in memory: received messages are hidden until deleted or released.
#[derive(Default)]
struct FakeQueue {
    visible: Mutex<VecDeque<Message>>,
    hidden: Mutex<HashMap<String, Message>>,
    next_id: Mutex<u64>,
}

impl FakeQueue {
    fn push(&self, body: String) {
        let mut id = self.next_id.lock().unwrap();
        *id += 1;
        self.visible.lock().unwrap().push_back(Message {
            id: format!("m{id}"),
            receipt: format!("r{id}"),
            body,
        });
    }

    /// Every message, visible or not.
    fn bodies(&self) -> Vec<serde_json::Value> {
        let visible = self.visible.lock().unwrap();
        let hidden = self.hidden.lock().unwrap();
        visible
            .iter()
            .chain(hidden.values())
            .map(|m| serde_json::from_str(&m.body).unwrap())
            .collect()
    }
}

impl Queue for FakeQueue {
    async fn receive(&self) -> Result<Vec<Message>, String> {
        let mut visible = self.visible.lock().unwrap();
        let n = visible.len().min(10);
        let batch: Vec<Message> = visible.drain(..n).collect();
        let mut hidden = self.hidden.lock().unwrap();
        for m in &batch {
            hidden.insert(m.id.clone(), m.clone());
        }
        Ok(batch)
    }

    async fn delete(&self, message: &Message) -> Result<(), String> {
        self.hidden.lock().unwrap().remove(&message.id);
        Ok(())
    }

    async fn release(&self, message: &Message) -> Result<(), String> {
        if let Some(m) = self.hidden.lock().unwrap().remove(&message.id) {
            self.visible.lock().unwrap().push_back(m);
        }
        Ok(())
    }
}

/// The processor's dead letters go into the same queue.
struct Sender<'a>(&'a FakeQueue);

impl QueueSender for Sender<'_> {
    async fn send_batch(&self, letters: &[&DeadLetter]) -> Result<Vec<usize>, SinkError> {
        for letter in letters {
            self.0.push(letter.body.clone());
        }
        Ok(Vec::new())
    }
}

/// A stream in memory: one shard's records.
#[derive(Default)]
struct FakeStream {
    records: Vec<StreamRecord>,
}

impl RecordSource for FakeStream {
    async fn range(
        &self,
        shard: &str,
        start: &str,
        end: &str,
    ) -> Result<Vec<StreamRecord>, String> {
        use deployed_stack::stream::compare_sequence;
        use std::cmp::Ordering::*;
        Ok(self
            .records
            .iter()
            .filter(|r| r.shard_id == shard)
            .filter(|r| compare_sequence(&r.sequence_number, start) != Less)
            .filter(|r| compare_sequence(&r.sequence_number, end) != Greater)
            .cloned()
            .collect())
    }
}

fn source() -> EventSource {
    EventSource {
        stream_arn: "arn:aws:kinesis:us-east-1:123456789012:stream/s".into(),
        region: "us-east-1".into(),
        role_arn: "arn:aws:iam::123456789012:role/r".into(),
    }
}

/// A valid event without its own eventId or timestamp: its key comes from the record's
/// eventID and arrival time, the identity redrive must keep.
fn valid(user: &str) -> Vec<u8> {
    format!(r#"{{"userId":"{user}","eventType":"purchase","productId":"p-1","sessionId":"s-1"}}"#)
        .into_bytes()
}

fn record(sequence: u64, data: Vec<u8>) -> StreamRecord {
    StreamRecord {
        shard_id: SHARD.into(),
        sequence_number: sequence.to_string(),
        partition_key: "user-1".into(),
        data,
        arrival_ms: ARRIVAL_MS,
    }
}

/// The dead letter the processor writes for `record`, as if it had rejected it.
fn dead_letter_of(record: &StreamRecord, error_type: &'static str) -> String {
    let event_id = format!("{}:{}", record.shard_id, record.sequence_number);
    let origin = Origin {
        event_id: &event_id,
        partition_key: &record.partition_key,
        sequence_number: &record.sequence_number,
        sub_sequence_number: None,
        approximate_arrival_timestamp: record.arrival_ms as f64 / 1000.0,
    };
    let writer = Writer {
        function_name: "old-buggy-processor",
        request_id: "req-old",
        redrive_count: 0,
    };
    dead_letter::build(&origin, writer, "rejected", error_type, &record.data).body
}

fn on_failure(start: u64, end: u64, batch_size: u64) -> String {
    serde_json::json!({
        "requestContext": {"requestId": "r", "condition": "RetryAttemptsExhausted", "approximateInvokeCount": 4},
        "version": "1.0",
        "KinesisBatchInfo": {"shardId": SHARD, "startSequenceNumber": start.to_string(),
            "endSequenceNumber": end.to_string(), "batchSize": batch_size}
    })
    .to_string()
}

/// The failure archive's bucket in these tests.
const BUCKET: &str = "failures";

/// An on-failure object as the mapping's S3 destination writes it for `records` (one
/// shard's), with the payload in `form`.
fn on_failure_object(records: &[StreamRecord], condition: &str, form: PayloadForm) -> Vec<u8> {
    OnFailure {
        request_id: "c9b8".into(),
        function_arn: "arn:aws:lambda:us-east-1:123456789012:function:f".into(),
        condition: condition.into(),
        invoke_count: 4,
        timestamp_ms: ARRIVAL_MS + 60_000,
        batch: BatchInfo::of(records, &source().stream_arn).unwrap(),
        payload: Some(kinesis_codec::event::event_json(records, &source())),
    }
    .to_json(form)
    .to_string()
    .into_bytes()
}

/// The key Lambda gives the n-th object.
fn object_key(n: u32) -> String {
    kinesis_codec::on_failure::object_key("e40edd69", SHARD, ARRIVAL_MS, &format!("uuid-{n}"))
}

/// The processor's configuration in these tests, by its own rules.
fn config() -> Config {
    use contract::env;
    Config::from_lookup(|name| match name {
        env::TABLE_NAME => Some("t".into()),
        env::DLQ_URL => Some("https://sqs/q".into()),
        env::FUNCTION_NAME => Some("fn".into()),
        env::WRITE_CONCURRENCY => Some("1".into()),
        _ => None,
    })
    .unwrap()
}

struct Bench {
    queue: FakeQueue,
    stream: FakeStream,
    objects: MemoryObjects,
    table: MemoryTable,
}

impl Bench {
    fn new(stream: Vec<StreamRecord>) -> Bench {
        Bench {
            queue: FakeQueue::default(),
            stream: FakeStream { records: stream },
            objects: MemoryObjects::default(),
            table: MemoryTable::default(),
        }
    }

    async fn run(&self, options: &Options) -> Summary {
        let processor = InProcess {
            handler: Handler::from_config(&config(), &self.table, Sender(&self.queue)),
            source: source(),
            timeout: Duration::from_secs(10),
            request_prefix: "redrive",
        };
        let parts = Parts {
            queue: &self.queue,
            stream: &self.stream,
            objects: &self.objects,
            failure_bucket: Some(BUCKET),
            processor: &processor,
            source: &source(),
        };
        run(parts, options, &mut |_| {}).await.unwrap()
    }

    fn keys(&self) -> Vec<(String, String)> {
        let mut keys: Vec<_> = self.table.snapshot().into_keys().collect();
        keys.sort();
        keys
    }
}

fn check_totals(s: &Summary) {
    assert_eq!(
        s.read,
        s.stored + s.dead_lettered_again + s.expired + s.skipped + s.failed + s.planned,
        "{s}"
    );
}

#[tokio::test]
async fn valid_letters_are_stored_under_their_first_key_and_invalid_ones_dead_lettered_once() {
    let good = record(7, valid("user-1"));
    let bad = record(8, b"{not json".to_vec());
    let bench = Bench::new(vec![]);
    bench.queue.push(dead_letter_of(&good, "InvalidField"));
    bench.queue.push(dead_letter_of(&bad, "InvalidJson"));

    let first = bench.run(&Options::default()).await;
    check_totals(&first);
    assert_eq!(
        (first.read, first.stored, first.dead_lettered_again),
        (2, 1, 1),
        "{first}"
    );
    assert!(first.all_handled());
    assert_eq!(first.deleted, 2);
    // Stored outside a tumbling window: its minute (by arrival, it has no timestamp) is named.
    let note = first.touched.note("redriven", "s", true).unwrap();
    assert!(
        note.starts_with("aggregates: redriven events touch 1 minute "),
        "{note}"
    );
    // The key a first successful delivery gives: arrival time and the Kinesis eventID.
    let expected = events::event_key(ARRIVAL_MS, &format!("{SHARD}:7"));
    assert_eq!(bench.keys(), [("user-1".to_owned(), expected)]);
    let left = bench.queue.bodies();
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0]["redriveCount"], 1);
    assert_eq!(left[0]["eventId"], format!("{SHARD}:8"));
    assert_eq!(left[0]["approximateArrivalTimestamp"], 1_764_000_000.123);

    // A second run skips what already failed again, says so, and changes nothing.
    let second = bench.run(&Options::default()).await;
    check_totals(&second);
    assert_eq!(
        (second.read, second.skipped, second.stored),
        (1, 1, 0),
        "{second}"
    );
    assert!(second.all_handled());
    assert!(
        second.problems[0].text.contains("raise --max-redrives"),
        "{:?}",
        second.problems
    );
    assert_eq!(bench.queue.bodies().len(), 1);
    assert_eq!(bench.table.snapshot().len(), 1);
    assert!(
        second.touched.is_empty(),
        "nothing stored, nothing to rebuild"
    );
}

#[tokio::test]
async fn an_on_failure_range_is_read_back_from_the_stream() {
    let stream: Vec<StreamRecord> = (10..15)
        .map(|n| record(n, valid(&format!("u{n}"))))
        .collect();
    let bench = Bench::new(stream);
    bench.queue.push(on_failure(11, 13, 3));
    let summary = bench.run(&Options::default()).await;
    check_totals(&summary);
    assert_eq!((summary.read, summary.stored), (3, 3), "{summary}");
    assert_eq!(summary.by_kind.get("on-failure"), Some(&1));
    assert_eq!(bench.table.snapshot().len(), 3);
    assert!(bench.queue.bodies().is_empty());
}

#[tokio::test]
async fn records_past_retention_are_reported_expired_and_the_message_kept() {
    // The range held 5 records; the stream has only the last 2 left.
    let stream = vec![record(14, valid("a")), record(15, valid("b"))];
    let bench = Bench::new(stream);
    bench.queue.push(on_failure(11, 15, 5));
    let summary = bench.run(&Options::default()).await;
    check_totals(&summary);
    assert_eq!((summary.expired, summary.stored), (3, 2), "{summary}");
    assert!(!summary.all_handled());
    assert_eq!(bench.queue.bodies().len(), 1, "the message stays");
    assert!(summary.problems[0].text.contains("no longer in the stream"));
}

#[tokio::test]
async fn a_truncated_letter_is_fetched_by_its_sequence_number() {
    let good = record(21, valid("user-9"));
    let mut body: serde_json::Value =
        serde_json::from_str(&dead_letter_of(&good, "ItemTooLarge")).unwrap();
    let fields = body.as_object_mut().unwrap();
    fields.remove("data");
    fields.insert("dataTruncated".into(), true.into());
    let bench = Bench::new(vec![good.clone()]);
    bench.queue.push(body.to_string());
    let summary = bench.run(&Options::default()).await;
    assert_eq!(summary.stored, 1, "{summary}");
    assert_eq!(bench.table.snapshot().len(), 1);

    // Gone from the stream too: expired, not silently dropped.
    let gone = Bench::new(vec![]);
    gone.queue.push(body.to_string());
    let summary = gone.run(&Options::default()).await;
    assert_eq!(summary.expired, 1, "{summary}");
    assert_eq!(gone.queue.bodies().len(), 1);
}

#[tokio::test]
async fn a_dry_run_counts_and_changes_nothing() {
    let stream: Vec<StreamRecord> = (1..=4).map(|n| record(n, valid("u"))).collect();
    let bench = Bench::new(stream.clone());
    bench
        .queue
        .push(dead_letter_of(&record(9, b"[]".to_vec()), "NotAnObject"));
    bench
        .queue
        .push(dead_letter_of(&record(10, b"x".to_vec()), "InvalidJson"));
    bench.queue.push(on_failure(1, 4, 4));
    bench.queue.push("garbage".into());
    let options = Options {
        dry_run: true,
        ..Options::default()
    };
    let summary = bench.run(&options).await;
    check_totals(&summary);
    assert_eq!(
        (summary.read, summary.stored, summary.failed),
        (7, 0, 1),
        "{summary}"
    );
    assert_eq!(summary.planned, 6);
    assert_eq!(summary.by_kind.get("dead-letter"), Some(&2));
    assert_eq!(summary.by_kind.get("on-failure"), Some(&1));
    assert_eq!(summary.by_kind.get("unreadable"), Some(&1));
    assert_eq!(summary.by_error_type.get("InvalidJson"), Some(&1));
    assert_eq!(
        summary.by_error_type.get("RetryAttemptsExhausted"),
        Some(&1)
    );
    assert_eq!((summary.deleted, summary.left), (0, 4));
    assert_eq!(
        bench.queue.visible.lock().unwrap().len(),
        4,
        "every message visible again"
    );
    assert!(bench.table.snapshot().is_empty());
}

#[tokio::test]
async fn filters_and_limits_leave_the_rest_alone() {
    let bench = Bench::new(vec![]);
    for n in 0..5 {
        bench
            .queue
            .push(dead_letter_of(&record(n, valid("u")), "InvalidField"));
    }
    bench
        .queue
        .push(dead_letter_of(&record(50, valid("v")), "MissingField"));
    let only_missing = Options {
        error_types: vec!["MissingField".into()],
        ..Options::default()
    };
    let summary = bench.run(&only_missing).await;
    assert_eq!((summary.stored, summary.skipped), (1, 5), "{summary}");
    let two = Options {
        limit: Some(2),
        ..Options::default()
    };
    let summary = bench.run(&two).await;
    assert_eq!((summary.read, summary.stored), (2, 2), "{summary}");
    assert_eq!(bench.queue.bodies().len(), 3);
}

/// A processor whose every invocation fails.
struct Broken;

impl Reprocessor for Broken {
    async fn process(&self, _: &[Identified], _: u32) -> Result<Attempt, String> {
        Ok(Attempt {
            first_unhandled: Some(0),
            request_id: "req-broken".into(),
            error: Some("the function failed (Unhandled)".into()),
        })
    }
}

#[tokio::test]
async fn records_the_function_cannot_handle_fail_and_their_message_stays() {
    let queue = FakeQueue::default();
    queue.push(dead_letter_of(&record(3, valid("u")), "InvalidField"));
    let options = Options {
        retry_pause: Duration::ZERO,
        ..Options::default()
    };
    let objects = MemoryObjects::default();
    let parts = Parts {
        queue: &queue,
        stream: &FakeStream::default(),
        objects: &objects,
        failure_bucket: None,
        processor: &Broken,
        source: &source(),
    };
    let summary = run(parts, &options, &mut |_| {}).await.unwrap();
    check_totals(&summary);
    assert_eq!(summary.failed, 1, "{summary}");
    assert!(!summary.all_handled());
    assert_eq!(queue.bodies().len(), 1);
    assert!(summary
        .problems
        .iter()
        .any(|p| p.text.contains("function failed")));
}

/// A processor whose every invocation fails, with `error(n)` for the n-th; it counts them.
struct Failing {
    calls: std::cell::Cell<u32>,
    error: fn(u32) -> String,
}

impl Failing {
    fn alike() -> Failing {
        Failing {
            calls: Default::default(),
            error: |_| "the function failed (Handled): error running docker".into(),
        }
    }
}

impl Reprocessor for Failing {
    async fn process(&self, _: &[Identified], _: u32) -> Result<Attempt, String> {
        self.calls.set(self.calls.get() + 1);
        Ok(Attempt::failed(
            format!("req-{}", self.calls.get()),
            (self.error)(self.calls.get()),
        ))
    }
}

#[tokio::test]
async fn a_processor_failing_every_invocation_alike_stops_the_run_and_says_so_once() {
    let queue = FakeQueue::default();
    for n in 0..5 {
        queue.push(dead_letter_of(&record(n, valid("u")), "InvalidField"));
    }
    let objects = MemoryObjects::default();
    let archived = vec![record(90, valid("a"))];
    objects.put(
        BUCKET,
        &object_key(1),
        on_failure_object(&archived, "RetryAttemptsExhausted", PayloadForm::Object),
    );
    let options = Options {
        retry_pause: Duration::ZERO,
        processor_hint: Some("run redrive with --local".into()),
        ..Options::default()
    };
    let processor = Failing::alike();
    let parts = Parts {
        queue: &queue,
        stream: &FakeStream::default(),
        objects: &objects,
        failure_bucket: Some(BUCKET),
        processor: &processor,
        source: &source(),
    };
    let summary = run(parts, &options, &mut |_| {}).await.unwrap();
    check_totals(&summary);
    // Two messages of three attempts each, not fifteen invocations and the archive.
    assert_eq!(processor.calls.get(), 2 * options.attempts);
    assert_eq!((summary.read, summary.failed), (5, 5), "{summary}");
    assert!(!summary.all_handled());
    assert_eq!(queue.bodies().len(), 5, "every message stays");
    assert_eq!(summary.archive_objects, 0, "the archive is not read");
    assert_eq!(objects.unhandled(BUCKET).len(), 1);
    let same: Vec<&Problem> = summary
        .problems
        .iter()
        .filter(|p| p.text.contains("error running docker"))
        .collect();
    assert_eq!(same.len(), 1, "said once: {:?}", summary.problems);
    assert_eq!(
        same[0].to_string(),
        "the function failed (Handled): error running docker (6 times)"
    );
    assert_eq!(
        summary.stopped.as_deref(),
        Some(
            "stopped after 2 messages in a row failed every invocation (6 in all) with the \
             same error (above); the messages not tried stay in the queue and the failure \
             archive was not read; run redrive with --local"
        )
    );
}

#[tokio::test]
async fn archive_objects_failing_alike_stop_the_walk_too() {
    let objects = MemoryObjects::default();
    for n in 0..3 {
        let records = vec![record(100 + u64::from(n), valid("a"))];
        objects.put(
            BUCKET,
            &object_key(n),
            on_failure_object(&records, "RetryAttemptsExhausted", PayloadForm::Object),
        );
    }
    let options = Options {
        retry_pause: Duration::ZERO,
        ..Options::default()
    };
    let processor = Failing::alike();
    let parts = Parts {
        queue: &FakeQueue::default(),
        stream: &FakeStream::default(),
        objects: &objects,
        failure_bucket: Some(BUCKET),
        processor: &processor,
        source: &source(),
    };
    let summary = run(parts, &options, &mut |_| {}).await.unwrap();
    check_totals(&summary);
    assert_eq!(processor.calls.get(), 2 * options.attempts);
    assert_eq!(summary.archive_objects, 2, "{summary}");
    assert_eq!(objects.unhandled(BUCKET).len(), 3);
    let stopped = summary.stopped.expect("stopped");
    assert!(
        stopped.starts_with("stopped after 2 archive objects in a row"),
        "{stopped}"
    );
    assert!(
        stopped.ends_with("the objects not tried stay untagged"),
        "{stopped}"
    );
}

#[tokio::test]
async fn failures_that_differ_do_not_stop_the_run() {
    let queue = FakeQueue::default();
    for n in 0..4 {
        queue.push(dead_letter_of(&record(n, valid("u")), "InvalidField"));
    }
    let options = Options {
        retry_pause: Duration::ZERO,
        ..Options::default()
    };
    let processor = Failing {
        calls: Default::default(),
        error: |n| format!("the function timed out after {n} s"),
    };
    let objects = MemoryObjects::default();
    let parts = Parts {
        queue: &queue,
        stream: &FakeStream::default(),
        objects: &objects,
        failure_bucket: None,
        processor: &processor,
        source: &source(),
    };
    let summary = run(parts, &options, &mut |_| {}).await.unwrap();
    assert_eq!(
        processor.calls.get(),
        4 * options.attempts,
        "every message is tried"
    );
    assert_eq!(summary.stopped, None);
    assert_eq!(summary.failed, 4);
}

#[tokio::test]
async fn an_archived_batch_is_stored_from_its_payload_with_its_first_keys_and_tagged() {
    // Two objects, one written each way; the stream holds none of their records any more.
    let first: Vec<StreamRecord> = (30..33)
        .map(|n| record(n, valid(&format!("a{n}"))))
        .collect();
    let second = vec![record(40, valid("b40")), record(41, b"{not json".to_vec())];
    let bench = Bench::new(vec![]);
    bench.objects.put(
        BUCKET,
        &object_key(1),
        on_failure_object(&first, "RetryAttemptsExhausted", PayloadForm::Object),
    );
    bench.objects.put(
        BUCKET,
        &object_key(2),
        on_failure_object(&second, "RecordAgeExceeded", PayloadForm::String),
    );
    // Not an on-failure object: the claim checks live in the same bucket.
    bench.objects.put(BUCKET, "dead-letters/x/1", "bytes");

    let summary = bench.run(&Options::default()).await;
    check_totals(&summary);
    assert_eq!(
        (
            summary.read,
            summary.stored,
            summary.dead_lettered_again,
            summary.expired
        ),
        (5, 4, 1, 0),
        "{summary}"
    );
    assert!(summary.all_handled());
    assert_eq!((summary.archive_objects, summary.tagged), (2, 2));
    assert_eq!(summary.by_error_type.get("RecordAgeExceeded"), Some(&1));
    assert!(summary.to_string().ends_with(" failed=0 archive_objects=2"));
    let mut expected: Vec<(String, String)> = first
        .iter()
        .chain(&second[..1])
        .map(|r| {
            let user = serde_json::from_slice::<serde_json::Value>(&r.data).unwrap()["userId"]
                .as_str()
                .unwrap()
                .to_owned();
            (user, events::event_key(ARRIVAL_MS, &r.event_id()))
        })
        .collect();
    expected.sort();
    assert_eq!(bench.keys(), expected, "the keys a first delivery writes");
    assert_eq!(bench.objects.unhandled(BUCKET), ["dead-letters/x/1"]);
    let letters = bench.queue.bodies();
    assert_eq!(letters.len(), 1, "{letters:?}");
    assert_eq!(letters[0]["eventId"], second[1].event_id());
    assert_eq!(letters[0]["redriveCount"], 1);

    // A second run reads no tagged object again.
    let again = bench.run(&Options::default()).await;
    assert_eq!(
        (again.archive_objects, again.already_handled),
        (0, 2),
        "{again}"
    );
    assert_eq!(bench.table.snapshot().len(), 4);
}

#[tokio::test]
async fn archive_objects_follow_the_dry_run_filter_and_limit() {
    let records: Vec<StreamRecord> = (50..54).map(|n| record(n, valid("u"))).collect();
    let bench = Bench::new(vec![]);
    bench.objects.put(
        BUCKET,
        &object_key(1),
        on_failure_object(&records[..2], "RetryAttemptsExhausted", PayloadForm::Object),
    );
    bench.objects.put(
        BUCKET,
        &object_key(2),
        on_failure_object(&records[2..], "RecordAgeExceeded", PayloadForm::Object),
    );
    bench
        .queue
        .push(dead_letter_of(&record(9, valid("q")), "InvalidField"));

    let dry = bench
        .run(&Options {
            dry_run: true,
            ..Options::default()
        })
        .await;
    check_totals(&dry);
    assert_eq!(
        (dry.read, dry.planned, dry.archive_objects),
        (5, 5, 2),
        "{dry}"
    );
    assert_eq!(bench.objects.unhandled(BUCKET).len(), 2, "nothing tagged");
    assert!(bench.table.snapshot().is_empty());

    let only_age = bench
        .run(&Options {
            error_types: vec!["RecordAgeExceeded".into()],
            ..Options::default()
        })
        .await;
    check_totals(&only_age);
    assert_eq!((only_age.stored, only_age.skipped), (2, 3), "{only_age}");
    assert_eq!(bench.objects.unhandled(BUCKET), [object_key(1)]);

    // The limit counts the queue's message first, then objects.
    let two = bench
        .run(&Options {
            limit: Some(2),
            ..Options::default()
        })
        .await;
    assert_eq!(
        (two.deleted, two.archive_objects, two.stored),
        (1, 1, 3),
        "{two}"
    );
    assert!(bench.objects.unhandled(BUCKET).is_empty());
}

#[tokio::test]
async fn an_object_whose_records_are_not_handled_stays_untagged() {
    let objects = MemoryObjects::default();
    let records = vec![record(60, valid("u"))];
    objects.put(
        BUCKET,
        &object_key(1),
        on_failure_object(&records, "RetryAttemptsExhausted", PayloadForm::Object),
    );
    objects.put(BUCKET, &object_key(2), "not an on-failure object");
    let options = Options {
        retry_pause: Duration::ZERO,
        ..Options::default()
    };
    let parts = Parts {
        queue: &FakeQueue::default(),
        stream: &FakeStream::default(),
        objects: &objects,
        failure_bucket: Some(BUCKET),
        processor: &Broken,
        source: &source(),
    };
    let summary = run(parts, &options, &mut |_| {}).await.unwrap();
    check_totals(&summary);
    assert_eq!((summary.read, summary.failed), (2, 2), "{summary}");
    assert_eq!(summary.tagged, 0);
    assert_eq!(objects.unhandled(BUCKET).len(), 2);
    assert!(summary
        .problems
        .iter()
        .any(|p| p.text.contains("the object stays untagged")));
    assert!(summary.problems.iter().any(|p| p.text.contains("not JSON")));
}

#[tokio::test]
async fn an_object_without_payload_is_read_back_from_the_stream() {
    let stream: Vec<StreamRecord> = (70..73).map(|n| record(n, valid("s"))).collect();
    let bench = Bench::new(stream[1..].to_vec());
    let mut bare: serde_json::Value = serde_json::from_slice(&on_failure_object(
        &stream,
        "RetryAttemptsExhausted",
        PayloadForm::Object,
    ))
    .unwrap();
    bare.as_object_mut().unwrap().remove("payload");
    bench.objects.put(BUCKET, &object_key(1), bare.to_string());
    let summary = bench.run(&Options::default()).await;
    check_totals(&summary);
    assert_eq!((summary.stored, summary.expired), (2, 1), "{summary}");
    assert_eq!(bench.objects.unhandled(BUCKET).len(), 1, "kept untagged");
}

/// A dead letter whose record's bytes are in the failure archive, as the processor writes
/// it for a record too large for SQS.
fn claim_checked(record: &StreamRecord) -> String {
    let mut body: serde_json::Value =
        serde_json::from_str(&dead_letter_of(record, "ItemTooLarge")).unwrap();
    let fields = body.as_object_mut().unwrap();
    fields.remove("data");
    fields.insert("dataTruncated".into(), true.into());
    fields.insert("dataS3Bucket".into(), BUCKET.into());
    let key = kinesis_codec::archive::dead_letter_key(&record.event_id());
    fields.insert("dataS3Key".into(), key.into());
    body.to_string()
}

#[tokio::test]
async fn a_claim_checked_letter_is_stored_from_its_object_which_is_then_tagged() {
    let big = record(80, valid("big"));
    let key = kinesis_codec::archive::dead_letter_key(&big.event_id());
    // The stream no longer has it: the bytes come from the archive.
    let bench = Bench::new(vec![]);
    bench.objects.put(BUCKET, &key, big.data.clone());
    bench.queue.push(claim_checked(&big));
    let summary = bench.run(&Options::default()).await;
    check_totals(&summary);
    assert_eq!((summary.stored, summary.deleted), (1, 1), "{summary}");
    assert_eq!(summary.claim_checks_tagged, 1);
    assert_eq!(
        summary.archive_objects, 0,
        "a claim check is not an on-failure object"
    );
    assert!(bench.objects.unhandled(BUCKET).is_empty());
    assert_eq!(
        bench.keys(),
        [(
            "big".to_owned(),
            events::event_key(ARRIVAL_MS, &big.event_id())
        )]
    );

    // Its object gone: expired, and the letter stays.
    let gone = Bench::new(vec![big.clone()]);
    gone.queue.push(claim_checked(&big));
    let summary = gone.run(&Options::default()).await;
    assert_eq!(summary.expired, 1, "{summary}");
    assert!(summary.problems[0]
        .text
        .contains("no longer holds s3://failures/"));
    assert_eq!(gone.queue.bodies().len(), 1);
}

#[tokio::test]
async fn a_claim_checked_letter_rejected_again_keeps_its_object_untagged() {
    // Still invalid: the new dead letter keeps the record's identity and so points at the
    // same claim check, which must not be marked for the lifecycle rule to expire.
    let bad = record(81, b"{not json".to_vec());
    let key = kinesis_codec::archive::dead_letter_key(&bad.event_id());
    let bench = Bench::new(vec![]);
    bench.objects.put(BUCKET, &key, bad.data.clone());
    bench.queue.push(claimed_as_invalid(&bad));
    let summary = bench.run(&Options::default()).await;
    check_totals(&summary);
    assert_eq!(
        (summary.dead_lettered_again, summary.deleted),
        (1, 1),
        "{summary}"
    );
    assert_eq!(summary.claim_checks_tagged, 0);
    assert_eq!(bench.objects.unhandled(BUCKET), [key]);
}

/// [`claim_checked`] for a record the processor rejected as not JSON.
fn claimed_as_invalid(record: &StreamRecord) -> String {
    let mut body: serde_json::Value = serde_json::from_str(&claim_checked(record)).unwrap();
    body["errorType"] = "InvalidJson".into();
    body.to_string()
}
