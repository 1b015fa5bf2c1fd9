//! The processor against moto's server (DynamoDB and SQS on loopback), directly and through
//! the fault-injecting proxy: every valid event ends in the table exactly once, every invalid
//! one in the dead-letter queue with its original bytes, none lost; the same invocation fed
//! twice changes nothing, and a later replay only the processing time.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use aws_edge::retry::{Backoff, Deadline};
use aws_lambda_events::event::kinesis::KinesisEvent;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType,
};
use base64::Engine;
use events::Generator;
use kinesis_codec::event::fixture::from_payloads;
use processor::handler::{Handler, Invocation};
use processor::sinks::dynamodb::DynamoTable;
use processor::sinks::sqs::SqsQueue;
use testkit::moto::Moto;
use testkit::proxy::{Faults, Proxy};

const TABLE: &str = "events";

/// Valid events, and every tenth replaced by an invalid record of one of several kinds.
fn workload(count: usize, seed: u64) -> (Vec<Vec<u8>>, HashSet<usize>) {
    let mut generator = Generator::new(seed);
    let mut invalid = HashSet::new();
    let payloads = (0..count)
        .map(|i| {
            if i % 10 == 9 {
                invalid.insert(i);
                match i % 4 {
                    0 => format!("not json {i}").into_bytes(),
                    1 => format!(r#"{{"eventType":"view","n":{i}}}"#).into_bytes(),
                    2 => {
                        format!(r#"{{"userId":"u{i}","eventType":"view","timestamp":"yesterday"}}"#)
                            .into_bytes()
                    }
                    _ => vec![0xff, 0xfe, (i % 251) as u8],
                }
            } else {
                serde_json::to_vec(&generator.next_event(1_700_000_000_000 + i as i64)).unwrap()
            }
        })
        .collect();
    (payloads, invalid)
}

struct Aws {
    dynamodb: aws_sdk_dynamodb::Client,
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
}

async fn create_resources(endpoint: &str) -> Aws {
    let config = testkit::sdk_config(endpoint).await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    let key = |name: &str, kind| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
            .unwrap()
    };
    let attr = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .unwrap()
    };
    dynamodb
        .create_table()
        .table_name(TABLE)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key("userId", KeyType::Hash))
        .key_schema(key("eventKey", KeyType::Range))
        .attribute_definitions(attr("userId"))
        .attribute_definitions(attr("eventKey"))
        .send()
        .await
        .expect("create table");
    let sqs = aws_sdk_sqs::Client::new(&config);
    let queue_url = sqs
        .create_queue()
        .queue_name("dlq")
        .send()
        .await
        .expect("create queue")
        .queue_url
        .unwrap();
    Aws {
        dynamodb,
        sqs,
        queue_url,
    }
}

async fn handler_for(endpoint: &str, aws: &Aws) -> Handler<DynamoTable, SqsQueue> {
    handler_with_ttl(endpoint, aws, 0).await
}

async fn handler_with_ttl(
    endpoint: &str,
    aws: &Aws,
    item_ttl_days: u32,
) -> Handler<DynamoTable, SqsQueue> {
    let config = testkit::sdk_config(endpoint).await;
    Handler {
        table: DynamoTable::new(aws_sdk_dynamodb::Client::new(&config), TABLE.into()),
        queue: SqsQueue::new(aws_sdk_sqs::Client::new(&config), aws.queue_url.clone()),
        function_name: "processor".into(),
        concurrency: 4,
        backoff: Backoff {
            base: Duration::from_millis(2),
            max: Duration::from_millis(50),
        },
        item_ttl_days,
        buckets: Default::default(),
        aggregates: None,
    }
}

/// Plays Lambda's side for one batch: invoke, and on a reported failure invoke again from
/// that record on (ReportBatchItemFailures checkpointing), until the batch is through.
async fn deliver(
    handler: &Handler<DynamoTable, SqsQueue>,
    event: &KinesisEvent,
    now_ms: i64,
) -> usize {
    let mut records = event.records.clone();
    let mut invocations = 0;
    loop {
        invocations += 1;
        assert!(
            invocations <= 50,
            "a batch did not get through in 50 invocations"
        );
        let mut batch = KinesisEvent::default();
        batch.records = records.clone();
        let invocation = Invocation {
            request_id: "req",
            deadline: Deadline::after(Duration::from_secs(20), Duration::from_secs(1)),
            now_ms,
            redrive_count: 0,
        };
        let outcome = handler.handle(&batch, invocation).await;
        let Some(failure) = outcome.response.batch_item_failures.first() else {
            return invocations;
        };
        let sequence = failure.item_identifier.clone().unwrap();
        let from = records
            .iter()
            .position(|r| r.kinesis.sequence_number == sequence)
            .expect("reported record is in the batch");
        records.drain(..from);
    }
}

async fn run_all(handler: &Handler<DynamoTable, SqsQueue>, payloads: &[Vec<u8>], now_ms: i64) {
    let event = from_payloads(payloads);
    for chunk in event.records.chunks(250) {
        let mut batch = KinesisEvent::default();
        batch.records = chunk.to_vec();
        deliver(handler, &batch, now_ms).await;
    }
}

async fn scan(aws: &Aws) -> HashMap<(String, String), HashMap<String, AttributeValue>> {
    let pages = aws
        .dynamodb
        .scan()
        .table_name(TABLE)
        .into_paginator()
        .items()
        .send();
    let items: Vec<HashMap<String, AttributeValue>> =
        pages.collect::<Result<Vec<_>, _>>().await.expect("scan");
    let key =
        |item: &HashMap<String, AttributeValue>, name: &str| item[name].as_s().unwrap().clone();
    let mut by_key = HashMap::new();
    for item in items {
        let previous = by_key.insert((key(&item, "userId"), key(&item, "eventKey")), item);
        assert!(previous.is_none(), "a key appears twice in the scan");
    }
    by_key
}

/// Every dead letter: (eventId, original bytes).
async fn drain_queue(aws: &Aws) -> Vec<(String, Vec<u8>)> {
    let mut letters = Vec::new();
    loop {
        let out = aws
            .sqs
            .receive_message()
            .queue_url(&aws.queue_url)
            .max_number_of_messages(10)
            .visibility_timeout(600)
            .send()
            .await
            .expect("receive");
        let messages = out.messages.unwrap_or_default();
        if messages.is_empty() {
            return letters;
        }
        for message in messages {
            let body: serde_json::Value = serde_json::from_str(message.body().unwrap()).unwrap();
            let data = base64::engine::general_purpose::STANDARD
                .decode(body["data"].as_str().unwrap())
                .unwrap();
            letters.push((body["eventId"].as_str().unwrap().to_owned(), data));
        }
    }
}

fn without_processing_time(
    items: &HashMap<(String, String), HashMap<String, AttributeValue>>,
) -> HashMap<(String, String), Vec<(String, String)>> {
    items
        .iter()
        .map(|(k, item)| {
            let mut attrs: Vec<(String, String)> = item
                .iter()
                .filter(|(name, _)| *name != "processedAt" && *name != "processingLatency")
                .map(|(name, value)| (name.clone(), canonical(value)))
                .collect();
            attrs.sort();
            (k.clone(), attrs)
        })
        .collect()
}

/// A value as text with map keys sorted, so two equal items compare equal.
fn canonical(value: &AttributeValue) -> String {
    match value {
        AttributeValue::M(map) => {
            let mut entries: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{k:?}:{}", canonical(v)))
                .collect();
            entries.sort();
            format!("{{{}}}", entries.join(","))
        }
        AttributeValue::L(values) => format!(
            "[{}]",
            values.iter().map(canonical).collect::<Vec<_>>().join(",")
        ),
        other => format!("{other:?}"),
    }
}

async fn check_everything_landed(aws: &Aws, payloads: &[Vec<u8>], invalid: &HashSet<usize>) {
    let items = scan(aws).await;
    assert_eq!(
        items.len(),
        payloads.len() - invalid.len(),
        "table holds every valid event exactly once"
    );
    let letters = drain_queue(aws).await;
    let event = from_payloads(payloads);
    let expected: HashMap<String, Vec<u8>> = invalid
        .iter()
        .map(|&i| {
            (
                event.records[i].event_id.clone().unwrap(),
                payloads[i].clone(),
            )
        })
        .collect();
    let received: HashMap<String, Vec<u8>> = letters.into_iter().collect();
    assert_eq!(
        received.len(),
        expected.len(),
        "every invalid record is dead-lettered"
    );
    assert_eq!(received, expected, "dead letters carry the original bytes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto from .venv (make venv); make test runs it with --include-ignored"]
async fn against_moto_every_record_lands_once_and_a_replay_changes_nothing() {
    let moto = Moto::start();
    let aws = create_resources(&moto.endpoint).await;
    let handler = handler_for(&moto.endpoint, &aws).await;
    let (payloads, invalid) = workload(2_000, 11);
    run_all(&handler, &payloads, 1_700_000_100_000).await;
    let before = scan(&aws).await;
    assert!(
        before.values().all(|item| !item.contains_key("expiresAt")),
        "without ITEM_TTL_DAYS no item expires"
    );
    check_everything_landed(&aws, &payloads, &invalid).await;
    // The identical invocations again (same records, same clock): not one attribute moves.
    run_all(&handler, &payloads, 1_700_000_100_000).await;
    assert!(
        scan(&aws).await == before,
        "the same invocations fed twice changed the table"
    );
    // A later replay rewrites only when it was processed.
    run_all(&handler, &payloads, 1_700_000_200_000).await;
    let after = scan(&aws).await;
    assert_eq!(
        without_processing_time(&after),
        without_processing_time(&before),
        "a replay leaves the table unchanged"
    );
    assert!(
        after != before,
        "a later replay records its processing time"
    );
}

/// With `ITEM_TTL_DAYS=30` in the function's environment, every item carries the table's
/// TTL attribute: `expiresAt` (N) = floor(eventTimestamp ms / 1000) + 30 × 86400.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto from .venv (make venv); make test runs it with --include-ignored"]
async fn against_moto_items_expire_item_ttl_days_after_their_event() {
    let moto = Moto::start();
    let aws = create_resources(&moto.endpoint).await;
    let environment = |name: &str| match name {
        "TABLE_NAME" => Some(TABLE.to_owned()),
        "DLQ_URL" => Some(aws.queue_url.clone()),
        "ITEM_TTL_DAYS" => Some("30".to_owned()),
        _ => None,
    };
    let config = processor::config::Config::from_lookup(environment).expect("config");
    assert_eq!(config.item_ttl_days, 30);
    let handler = handler_with_ttl(&moto.endpoint, &aws, config.item_ttl_days).await;
    let (payloads, invalid) = workload(300, 5);
    run_all(&handler, &payloads, 1_700_000_100_000).await;
    let items = scan(&aws).await;
    assert_eq!(items.len(), payloads.len() - invalid.len());
    for item in items.values() {
        let number = |name: &str| -> i64 {
            let value = item
                .get(name)
                .unwrap_or_else(|| panic!("{name} missing: {item:?}"));
            value.as_n().expect("a number").parse().expect("an integer")
        };
        let timestamp_ms = number("eventTimestamp");
        assert_eq!(
            number("expiresAt"),
            timestamp_ms.div_euclid(1000) + 30 * 86_400,
            "{item:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto from .venv (make venv); make test runs it with --include-ignored"]
async fn through_the_fault_proxy_nothing_is_lost_or_duplicated() {
    let moto = Moto::start();
    let proxy = Proxy::start(
        moto.port,
        Faults {
            throttle: 0.2,
            partial: 0.1,
            failed_entry: 0.05,
            seed: 7,
        },
    )
    .await;
    let aws = create_resources(&moto.endpoint).await;
    let handler = handler_for(&proxy.endpoint, &aws).await;
    let (payloads, invalid) = workload(5_000, 12);
    run_all(&handler, &payloads, 1_700_000_100_000).await;
    check_everything_landed(&aws, &payloads, &invalid).await;
    let counts = &proxy.counts;
    use std::sync::atomic::Ordering::Relaxed;
    assert!(
        counts.throttled.load(Relaxed) > 0,
        "the proxy throttled nothing"
    );
    assert!(
        counts.partial.load(Relaxed) > 0,
        "the proxy returned no UnprocessedItems"
    );
    assert!(
        counts.failed_entries.load(Relaxed) > 0,
        "the proxy failed no SQS entry"
    );
    assert_eq!(
        counts.put_metric_data.load(Relaxed),
        0,
        "metrics go through EMF, never PutMetricData"
    );
}

/// The function as Lambda assembles it (`Handler::on_aws` from its environment) with
/// `FAILURE_BUCKET` and `ARCHIVE_BUCKET` set, against moto's S3: a record too large for SQS
/// is stored whole at its claim-check key and its letter points there; the batch is one
/// gzip object that reads back to every record's identity; a retry of the batch keeps it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto from .venv (make venv); make test runs it with --include-ignored"]
async fn against_moto_claim_checks_and_the_archive_land_in_their_buckets() {
    use aws_sdk_s3::primitives::ByteStream;
    use processor::handler::SinkClients;

    let moto = Moto::start();
    let aws = create_resources(&moto.endpoint).await;
    let config = testkit::sdk_config(&moto.endpoint).await;
    // moto on a loopback address: path-style requests, as local-runner's client makes them.
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(true)
            .build(),
    );
    for bucket in ["retail-failures", "retail-archive"] {
        s3.create_bucket()
            .bucket(bucket)
            .send()
            .await
            .expect("bucket");
    }
    let environment = |name: &str| match name {
        "TABLE_NAME" => Some(TABLE.to_owned()),
        "DLQ_URL" => Some(aws.queue_url.clone()),
        "FAILURE_BUCKET" => Some("retail-failures".to_owned()),
        "ARCHIVE_BUCKET" => Some("retail-archive".to_owned()),
        _ => None,
    };
    let function = processor::config::Config::from_lookup(environment).expect("config");
    let clients = SinkClients {
        dynamodb: aws_sdk_dynamodb::Client::new(&config),
        sqs: aws_sdk_sqs::Client::new(&config),
        s3: s3.clone(),
    };
    let handler = Handler::on_aws(&function, clients);

    let (mut payloads, _) = workload(50, 21);
    let big: Vec<u8> = (0..800_000).map(|i| (i % 253) as u8).collect();
    payloads[10] = big.clone();
    let event = from_payloads(&payloads);
    assert_eq!(deliver(&handler, &event, 1_700_000_100_000).await, 1);
    // Lambda's retry of the same batch: the conditional write finds the object and keeps it.
    assert_eq!(deliver(&handler, &event, 1_700_000_100_000).await, 1);

    let get = |bucket: &'static str, key: String| {
        let s3 = s3.clone();
        async move {
            let object = s3.get_object().bucket(bucket).key(&key).send().await;
            let object = object.unwrap_or_else(|e| panic!("{bucket}/{key}: {e:?}"));
            let content_type = object.content_type.clone().unwrap_or_default();
            let body: ByteStream = object.body;
            (
                body.collect().await.unwrap().into_bytes().to_vec(),
                content_type,
            )
        }
    };
    let id = event.records[10].event_id.clone().unwrap();
    let key = kinesis_codec::archive::dead_letter_key(&id);
    let (stored, content_type) = get("retail-failures", key.clone()).await;
    assert_eq!(stored, big, "the record's bytes, whole");
    assert_eq!(content_type, "application/octet-stream");
    let out = aws
        .sqs
        .receive_message()
        .queue_url(&aws.queue_url)
        .max_number_of_messages(10)
        .send()
        .await
        .expect("receive");
    let letters: Vec<serde_json::Value> = out
        .messages
        .unwrap_or_default()
        .iter()
        .map(|m| serde_json::from_str(m.body().unwrap()).unwrap())
        .filter(|l: &serde_json::Value| l["eventId"] == id.as_str())
        .collect();
    assert!(!letters.is_empty(), "the oversize record's letter");
    assert_eq!(letters[0]["dataS3Bucket"], "retail-failures");
    assert_eq!(letters[0]["dataS3Key"], key.as_str());
    assert!(letters[0].get("data").is_none());

    let listed = s3
        .list_objects_v2()
        .bucket("retail-archive")
        .send()
        .await
        .expect("list");
    let keys: Vec<String> = listed
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_owned))
        .collect();
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert!(keys[0].starts_with("events/2023/11/14/22/shardId-000000000000/"));
    let (body, content_type) = get("retail-archive", keys[0].clone()).await;
    assert_eq!(content_type, "application/gzip");
    // S3's conditional write as moto answers it: 412 for a key that exists, kept.
    use processor::sinks::ObjectStore;
    let bucket = processor::sinks::s3::S3Bucket::new(s3.clone(), "retail-archive".into());
    let again = bucket
        .put_new(&keys[0], b"a subset", "application/gzip")
        .await;
    assert_eq!(again, Ok(false));
    assert_eq!(get("retail-archive", keys[0].clone()).await.0, body);
    assert_eq!(
        bucket.put_new("events/new", b"x", "application/gzip").await,
        Ok(true)
    );
    let back = kinesis_codec::archive::decode(&body).expect("gzip event JSON");
    let records = back["Records"].as_array().unwrap();
    assert_eq!(records.len(), 50);
    for (record, original) in records.iter().zip(&event.records) {
        let (stream_record, event_id) = kinesis_codec::record::from_record_json(record).unwrap();
        assert_eq!(Some(event_id), original.event_id.clone());
        assert_eq!(
            stream_record.sequence_number,
            original.kinesis.sequence_number
        );
        assert_eq!(stream_record.partition_key, original.kinesis.partition_key);
        assert_eq!(stream_record.data, original.kinesis.data.0);
        assert_eq!(
            stream_record.arrival_ms,
            original
                .kinesis
                .approximate_arrival_timestamp
                .timestamp_millis()
        );
    }
}
