//! The redrive binary against the whole pipeline on moto.
//!
//! The pipeline runs with invalid events, so the queue holds the processor's dead letters.
//! Then the queue gets what an older, buggier processor and a failing mapping would have
//! left: a dead letter holding a *valid* event (with no eventId or timestamp of its own, so
//! its key comes from the record's identity), one that says `dataTruncated`, and an
//! on-failure record for a range of records that are in the stream but not in the table.
//! `redrive --dry-run` must change nothing; `redrive --local` must store the valid ones
//! under the keys a first successful attempt gives them and dead-letter each invalid one
//! again exactly once; a second run stores nothing and leaves one dead letter per invalid
//! record. Finally the mapping replays the whole stream: the table's keys must not change,
//! which proves the redriven items sit where a first delivery would have put them.
//!
//! A third test redrives the failure archive after the stream is gone: on-failure objects
//! written each way (payload as an object and as a string) and a claim-checked dead letter,
//! stored from the objects alone under the keys a first delivery gives, the objects tagged
//! handled, and a second run reads none of them again.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::process::Command;
use std::time::Duration;

use aws_lambda_events::event::kinesis::KinesisEvent;

use aws_edge::retry::Deadline;
use aws_sdk_kinesis::primitives::Blob;
use base64::Engine;
use kinesis_codec::on_failure::{BatchInfo, OnFailure, PayloadForm};
use kinesis_codec::record::StreamRecord;
use pipeline_tests::{deploy, drain, produce, table_items, table_sink, Deployed, Key};
use processor::handler::{Handler, Invocation};
use redrive::stream::{KinesisSource, RecordSource};
use serde_json::{json, Value};
use testkit::lambda::InvokeStandIn;
use testkit::moto::Moto;

/// Puts `data` on the stream and reads it back: its shard, sequence number and arrival.
async fn put(deployed: &Deployed, partition_key: &str, data: &[u8]) -> StreamRecord {
    let kinesis = aws_sdk_kinesis::Client::new(&deployed.config);
    let put = kinesis
        .put_record()
        .stream_name(&deployed.target.stream_name)
        .partition_key(partition_key)
        .data(Blob::new(data))
        .send()
        .await
        .expect("put-record");
    let source = KinesisSource::new(kinesis, deployed.target.stream_name.clone());
    let sequence = put.sequence_number();
    let found = source
        .range(put.shard_id(), sequence, sequence)
        .await
        .expect("read back");
    assert_eq!(found.len(), 1, "the record is in the stream");
    found.into_iter().next().unwrap()
}

/// The dead letter an older processor wrote for `record`, rejecting it by mistake.
fn buggy_dead_letter(record: &StreamRecord, truncated: bool) -> String {
    let mut body = json!({
        "error": "eventType is not one of the known types",
        "errorType": "InvalidField",
        "eventId": format!("{}:{}", record.shard_id, record.sequence_number),
        "shardId": record.shard_id,
        "partitionKey": record.partition_key,
        "sequenceNumber": record.sequence_number,
        "approximateArrivalTimestamp": record.arrival_ms as f64 / 1000.0,
        "functionName": "processor-v0",
        "requestId": "req-v0",
    });
    if truncated {
        body["dataTruncated"] = json!(true);
        body["dataSize"] = json!(record.data.len());
    } else {
        body["data"] = json!(base64::engine::general_purpose::STANDARD.encode(&record.data));
    }
    body.to_string()
}

fn on_failure(first: &StreamRecord, last: &StreamRecord, count: usize, stream_arn: &str) -> String {
    json!({
        "requestContext": {"requestId": "c9b8", "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:f",
                           "condition": "RetryAttemptsExhausted", "approximateInvokeCount": 4},
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "version": "1.0", "timestamp": "2026-11-25T00:38:06.021Z",
        "KinesisBatchInfo": {"shardId": first.shard_id, "startSequenceNumber": first.sequence_number,
            "endSequenceNumber": last.sequence_number, "approximateArrivalOfFirstRecord": "2026-11-25T00:37:00.000Z",
            "approximateArrivalOfLastRecord": "2026-11-25T00:37:01.000Z", "batchSize": count,
            "streamArn": stream_arn}
    })
    .to_string()
}

async fn send(deployed: &Deployed, body: String) {
    aws_sdk_sqs::Client::new(&deployed.config)
        .send_message()
        .queue_url(&deployed.target.dlq_url)
        .message_body(body)
        .send()
        .await
        .expect("send-message");
}

/// Every message of the queue (each once), left visible again afterwards.
async fn queue(deployed: &Deployed) -> Vec<Value> {
    let sqs = aws_sdk_sqs::Client::new(&deployed.config);
    let url = &deployed.target.dlq_url;
    let mut by_id = BTreeMap::new();
    let mut receipts = Vec::new();
    loop {
        let received = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .visibility_timeout(60)
            .send()
            .await
            .expect("receive");
        if received.messages().is_empty() {
            break;
        }
        for m in received.messages() {
            let body: Value = serde_json::from_str(m.body().unwrap()).expect("JSON");
            by_id.insert(m.message_id().unwrap().to_owned(), body);
            receipts.push(m.receipt_handle().unwrap().to_owned());
        }
    }
    for receipt in receipts {
        sqs.change_message_visibility()
            .queue_url(url)
            .receipt_handle(receipt)
            .visibility_timeout(0)
            .send()
            .await
            .expect("visible again");
    }
    by_id.into_values().collect()
}

struct Run {
    code: i32,
    summary: BTreeMap<String, u64>,
    stderr: String,
}

fn redrive(deployed: &Deployed, moto: &Moto, extra: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_redrive"))
        .args([
            "--stack-name",
            &deployed.stack,
            "--endpoint-url",
            &moto.endpoint,
        ])
        .args(["--region", "us-east-1"])
        .args(extra)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .output()
        .expect("redrive runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let last = stdout.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("redrive: "),
        "last line {last:?}; stderr: {stderr}"
    );
    let summary = last["redrive: ".len()..]
        .split(' ')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.parse().expect("a count")))
        .collect();
    Run {
        code: out.status.code().unwrap_or(-1),
        summary,
        stderr,
    }
}

fn counts(run: &Run) -> [u64; 6] {
    [
        "read",
        "stored",
        "dead_lettered_again",
        "expired",
        "skipped",
        "failed",
    ]
    .map(|k| run.summary[k])
}

fn event_ids(letters: &[Value]) -> BTreeSet<String> {
    letters
        .iter()
        .map(|l| l["eventId"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto from .venv (make venv); make test runs it with --include-ignored"]
async fn redrive_stores_what_was_wrongly_rejected_once_and_dead_letters_the_rest_once() {
    let moto = Moto::start();
    // The queue's story: the mapping's on-failure records go to the queue.
    let deployed = deploy(&moto, "redrive", &["on_failure_destination=sqs"]).await;
    let sent = produce(&deployed, 300).await;
    drain(
        &deployed,
        table_sink(&deployed, &deployed.config),
        &deployed.config,
    )
    .await;
    let invalid = sent
        .records
        .iter()
        .filter(|(r, _)| r.invalid.is_some())
        .count();
    let original = queue(&deployed).await;
    assert_eq!(
        original.len(),
        invalid,
        "the pipeline dead-lettered each invalid event"
    );
    let table_before = table_items(&deployed).await;

    // What an older processor and a failing mapping left behind, for records in the
    // stream but not in the table.
    let bare = |user: &str| {
        format!(
            r#"{{"userId":"{user}","eventType":"purchase","productId":"p-7","sessionId":"s-1"}}"#
        )
        .into_bytes()
    };
    let wrongly_rejected = put(&deployed, "late-1", &bare("late-1")).await;
    // The truncated letter's event names its own id and time: what this case proves is that
    // the bytes come back from the stream (the arrival-time identity is late-1's case).
    let own_identity =
        br#"{"userId":"late-2","eventType":"purchase","productId":"p-7","eventId":"late-2-evt","timestamp":1764100000000}"#;
    let truncated = put(&deployed, "late-2", own_identity).await;
    send(&deployed, buggy_dead_letter(&wrongly_rejected, false)).await;
    send(&deployed, buggy_dead_letter(&truncated, true)).await;
    let mut generated = producer::source::Generated::new(7, 0.0);
    let mut range = Vec::new();
    let mut range_keys = Vec::new();
    for n in 0..20 {
        let record = generated.next_record(1_764_100_000_000 + n);
        range_keys.push(pipeline_tests::expected_key(&record));
        range.push(put(&deployed, "one-shard", &record.data).await);
    }
    let (first, last) = (&range[0], &range[19]);
    assert!(range.iter().all(|r| r.shard_id == first.shard_id));
    send(
        &deployed,
        on_failure(first, last, 20, &deployed.target.stream_arn),
    )
    .await;
    let read = invalid as u64 + 2 + 20;

    // A dry run counts and changes nothing.
    let dry = redrive(&deployed, &moto, &["--local", "--dry-run"]);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert_eq!(counts(&dry), [read, 0, 0, 0, 0, 0]);
    assert!(
        dry.stderr.contains(&format!("dead-letter={}", invalid + 2)),
        "{}",
        dry.stderr
    );
    assert!(dry.stderr.contains("on-failure=1"), "{}", dry.stderr);
    assert!(dry.stderr.contains("InvalidField="), "{}", dry.stderr);
    assert_eq!(
        queue(&deployed).await.len(),
        invalid + 3,
        "every message is still there"
    );
    assert_eq!(table_items(&deployed).await, table_before);

    // The real run.
    let first_run = redrive(&deployed, &moto, &["--local"]);
    assert_eq!(first_run.code, 0, "{}", first_run.stderr);
    assert_eq!(counts(&first_run), [read, 22, invalid as u64, 0, 0, 0]);
    let table = table_items(&deployed).await;
    let key_of = |r: &StreamRecord, user: &str| -> Key {
        let id = format!("{}:{}", r.shard_id, r.sequence_number);
        (user.to_owned(), events::event_key(r.arrival_ms, &id))
    };
    let mut expected: BTreeSet<Key> = table_before.keys().cloned().collect();
    expected.insert(key_of(&wrongly_rejected, "late-1"));
    expected.insert((
        "late-2".to_owned(),
        events::event_key(1_764_100_000_000, "late-2-evt"),
    ));
    expected.extend(range_keys);
    assert_eq!(table.keys().cloned().collect::<BTreeSet<_>>(), expected);
    let again = queue(&deployed).await;
    assert_eq!(
        again.len(),
        invalid,
        "one new dead letter per invalid record"
    );
    assert_eq!(event_ids(&again), event_ids(&original));
    assert!(again.iter().all(|l| l["redriveCount"] == 1), "{again:?}");

    // A second run stores nothing and leaves the same dead letters.
    let second = redrive(&deployed, &moto, &["--local"]);
    assert_eq!(second.code, 0, "{}", second.stderr);
    assert_eq!(
        counts(&second),
        [invalid as u64, 0, 0, 0, invalid as u64, 0]
    );
    assert!(
        second.stderr.contains("raise --max-redrives"),
        "{}",
        second.stderr
    );
    assert_eq!(table_items(&deployed).await.len(), table.len());
    let still = queue(&deployed).await;
    assert_eq!(still.len(), invalid);
    assert_eq!(event_ids(&still), event_ids(&original));

    // The mapping delivers the whole stream again: no key changes, so every redriven item
    // is exactly where a first successful delivery puts it.
    drain(
        &deployed,
        table_sink(&deployed, &deployed.config),
        &deployed.config,
    )
    .await;
    let replayed = table_items(&deployed).await;
    assert_eq!(
        replayed.keys().collect::<Vec<_>>(),
        table.keys().collect::<Vec<_>>()
    );
}

/// The processor's handler behind the Invoke stand-in, as the Lambda runtime runs it: the
/// client context's `custom` map gives the redrive count.
fn deployed_function(deployed: &Deployed) -> testkit::lambda::Function {
    let target = &deployed.target;
    let handler = std::sync::Arc::new(Handler::on_aws(
        &target.processor,
        processor::handler::SinkClients::new(&deployed.config),
    ));
    std::sync::Arc::new(move |invoke: testkit::lambda::Invoke| {
        let handler = handler.clone();
        Box::pin(async move {
            #[derive(serde::Deserialize, Default)]
            struct ClientContext {
                #[serde(default)]
                custom: HashMap<String, String>,
            }
            let context: ClientContext = invoke
                .client_context
                .as_deref()
                .and_then(|c| serde_json::from_str(c).ok())
                .unwrap_or_default();
            // As the deployed function reads its event (processor's main).
            let event: KinesisEvent = match serde_json::from_slice(&invoke.payload)
                .and_then(kinesis_codec::event::from_json)
            {
                Ok(event) => event,
                Err(e) => {
                    return testkit::lambda::Answer {
                        payload: json!({"errorMessage": e.to_string()})
                            .to_string()
                            .into_bytes(),
                        function_error: Some("Unhandled".into()),
                    }
                }
            };
            let invocation = Invocation {
                request_id: &invoke.request_id,
                deadline: Deadline::after(Duration::from_secs(30), Duration::from_secs(1)),
                now_ms: kinesis_codec::time::now_ms(),
                redrive_count: processor::redrive_count(&context.custom),
            };
            let outcome = handler.handle(&event, invocation).await;
            testkit::lambda::Answer {
                payload: serde_json::to_vec(&outcome.response).unwrap(),
                function_error: None,
            }
        })
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto from .venv (make venv); make test runs it with --include-ignored"]
async fn by_default_redrive_invokes_the_deployed_function_with_the_redrive_count() {
    let moto = Moto::start();
    let deployed = deploy(&moto, "redrive-invoke", &["on_failure_destination=sqs"]).await;
    let sent = produce(&deployed, 100).await;
    drain(
        &deployed,
        table_sink(&deployed, &deployed.config),
        &deployed.config,
    )
    .await;
    let invalid = sent
        .records
        .iter()
        .filter(|(r, _)| r.invalid.is_some())
        .count();
    let bare = br#"{"userId":"late-9","eventType":"view","productId":"p-1","sessionId":"s"}"#;
    let wrongly_rejected = put(&deployed, "late-9", bare).await;
    send(&deployed, buggy_dead_letter(&wrongly_rejected, false)).await;
    let before = table_items(&deployed).await.len();

    let lambda = InvokeStandIn::start(moto.port, deployed_function(&deployed)).await;
    let out = Command::new(env!("CARGO_BIN_EXE_redrive"))
        .args(["--stack-name", &deployed.stack, "--region", "us-east-1"])
        .env("AWS_ENDPOINT_URL", &moto.endpoint)
        .env("AWS_ENDPOINT_URL_LAMBDA", &lambda.endpoint)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .output()
        .expect("redrive runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let read = invalid + 1;
    assert_eq!(
        stdout.lines().last().unwrap_or_default(),
        format!("redrive: read={read} stored=1 dead_lettered_again={invalid} expired=0 skipped=0 failed=0 archive_objects=0"),
        "{stderr}"
    );
    assert!(
        lambda
            .invocations
            .load(std::sync::atomic::Ordering::Relaxed)
            > 0
    );
    assert!(
        stderr.contains(&format!("function {}", deployed.target.function_name)),
        "{stderr}"
    );
    assert_eq!(table_items(&deployed).await.len(), before + 1);
    let letters = queue(&deployed).await;
    assert_eq!(letters.len(), invalid);
    for letter in &letters {
        assert_eq!(letter["redriveCount"], 1, "{letter}");
        assert!(
            letter["requestId"]
                .as_str()
                .unwrap()
                .starts_with("standin-"),
            "{letter}"
        );
    }
}

/// Lambda's on-failure object for `records` (one shard's), as the S3 destination writes it.
fn on_failure_object(records: &[StreamRecord], deployed: &Deployed, form: PayloadForm) -> Vec<u8> {
    let source = kinesis_codec::record::EventSource {
        stream_arn: deployed.target.stream_arn.clone(),
        region: "us-east-1".into(),
        role_arn: deployed.target.role_arn.clone(),
    };
    OnFailure {
        request_id: "c9b8".into(),
        function_arn: deployed.target.function_arn.clone(),
        condition: "RetryAttemptsExhausted".into(),
        invoke_count: 4,
        timestamp_ms: kinesis_codec::time::now_ms(),
        batch: BatchInfo::of(records, &deployed.target.stream_arn).unwrap(),
        payload: Some(kinesis_codec::event::event_json(records, &source)),
    }
    .to_json(form)
    .to_string()
    .into_bytes()
}

async fn tags(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Vec<(String, String)> {
    s3.get_object_tagging()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .expect("tags")
        .tag_set()
        .iter()
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto from .venv (make venv); make test runs it with --include-ignored"]
async fn the_failure_archive_is_redriven_from_its_objects_after_the_stream_is_gone() {
    let moto = Moto::start();
    let deployed = deploy(&moto, "redrive-archive", &["on_failure_destination=s3"]).await;
    let stack = deployed_stack::Stack::find(&deployed.config, &deployed.stack)
        .await
        .expect("the stack");
    let bucket = stack
        .failure_bucket_name()
        .expect("the stack has a failure archive")
        .to_owned();
    let s3 = reprocess::objects::s3_client(&deployed.config);

    // Two batches Lambda gave up on, and a record too large for SQS, all in the stream now.
    let bare = |user: String| {
        format!(r#"{{"userId":"{user}","eventType":"purchase","productId":"p-3"}}"#).into_bytes()
    };
    let mut records = Vec::new();
    for n in 0..6 {
        records.push(put(&deployed, "one-key", &bare(format!("archived-{n}"))).await);
    }
    assert!(records.iter().all(|r| r.shard_id == records[0].shard_id));
    let big = put(&deployed, "big", &bare("claimed".into())).await;
    let objects = [
        (records[..3].to_vec(), PayloadForm::Object),
        (records[3..].to_vec(), PayloadForm::String),
    ];
    let mut keys = Vec::new();
    for (n, (batch, form)) in objects.iter().enumerate() {
        let key = kinesis_codec::on_failure::object_key(
            &deployed.target.mapping_uuid,
            &batch[0].shard_id,
            kinesis_codec::time::now_ms(),
            &format!("00000000-0000-4000-8000-00000000000{n}"),
        );
        s3.put_object()
            .bucket(&bucket)
            .key(&key)
            .body(on_failure_object(batch, &deployed, *form).into())
            .send()
            .await
            .expect("put the on-failure object");
        keys.push(key);
    }
    let claim = kinesis_codec::archive::dead_letter_key(&big.event_id());
    s3.put_object()
        .bucket(&bucket)
        .key(&claim)
        .body(big.data.clone().into())
        .send()
        .await
        .expect("put the claim check");
    let mut letter: Value = serde_json::from_str(&buggy_dead_letter(&big, true)).unwrap();
    letter["dataS3Bucket"] = json!(bucket);
    letter["dataS3Key"] = json!(claim);
    send(&deployed, letter.to_string()).await;

    // The stream forgets them, as after its retention.
    aws_sdk_kinesis::Client::new(&deployed.config)
        .delete_stream()
        .stream_name(&deployed.target.stream_name)
        .send()
        .await
        .expect("delete the stream");

    let options = redrive::run::Options::default();
    let summary = redrive::redrive(
        &deployed.config,
        &deployed.stack,
        &options,
        redrive::Mode::Local,
        &mut |_| {},
    )
    .await
    .expect("redrive runs");
    assert_eq!(
        (
            summary.read,
            summary.stored,
            summary.expired,
            summary.failed
        ),
        (7, 7, 0, 0),
        "{summary} {:?}",
        summary.problems
    );
    assert_eq!(
        (summary.archive_objects, summary.tagged),
        (2, 2),
        "{summary}"
    );
    assert_eq!(summary.claim_checks_tagged, 1);
    let key_of = |r: &StreamRecord| -> Key {
        let user: Value = serde_json::from_slice(&r.data).unwrap();
        (
            user["userId"].as_str().unwrap().to_owned(),
            events::event_key(r.arrival_ms, &r.event_id()),
        )
    };
    let expected: BTreeSet<Key> = records.iter().chain([&big]).map(key_of).collect();
    let table: BTreeSet<Key> = table_items(&deployed).await.into_keys().collect();
    assert_eq!(table, expected, "the keys a first delivery writes");
    for key in keys.iter().chain([&claim]) {
        assert!(
            tags(&s3, &bucket, key)
                .await
                .contains(&("redrive".to_owned(), "handled".to_owned())),
            "{key} tagged handled"
        );
    }
    assert!(queue(&deployed).await.is_empty(), "the letter is deleted");

    // A second run reads no handled object again.
    let again = redrive::redrive(
        &deployed.config,
        &deployed.stack,
        &options,
        redrive::Mode::Local,
        &mut |_| {},
    )
    .await
    .expect("redrive runs");
    assert_eq!((again.read, again.archive_objects), (0, 0), "{again}");
    assert_eq!(again.already_handled, 2);
    assert_eq!(table_items(&deployed).await.len(), expected.len());
}

/// moto runs no Lambda code: it answers every Invoke with a function error. Without
/// `--local`, redrive stops after two messages failed alike, says the error once with its
/// count, and says that `--local` is the way on an endpoint that is not AWS.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto from .venv (make venv); make test runs it with --include-ignored"]
async fn without_local_on_moto_redrive_stops_early_and_says_to_use_local() {
    let moto = Moto::start();
    let deployed = deploy(&moto, "redrive-no-lambda", &["on_failure_destination=sqs"]).await;
    for n in 0..20 {
        let bytes = format!(r#"{{"userId":"u{n}","eventType":"view"}}"#);
        let record = put(&deployed, "k", bytes.as_bytes()).await;
        send(&deployed, buggy_dead_letter(&record, false)).await;
    }
    let started = std::time::Instant::now();
    let run = redrive(&deployed, &moto, &[]);
    let took = started.elapsed();
    assert_eq!(run.code, 1, "{}", run.stderr);
    // Each Invoke fails the same way; before, every attempt of every message said so.
    let said = |text: &str| run.stderr.lines().filter(|l| l.contains(text)).count();
    assert_eq!(said("the function failed"), 1, "{}", run.stderr);
    assert!(run.stderr.contains("(6 times)"), "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "redrive stopped after 2 messages in a row failed every invocation (6 in all) with \
             the same error (above); the messages not tried stay in the queue; {} is not AWS, \
             and an emulator such as moto runs no Lambda code: run redrive with --local",
            moto.endpoint
        )),
        "{}",
        run.stderr
    );
    assert!(
        took < Duration::from_secs(15),
        "took {took:?}: {}",
        run.stderr
    );
    assert_eq!(run.summary["stored"], 0);
    assert_eq!(queue(&deployed).await.len(), 20, "every message stays");
}
