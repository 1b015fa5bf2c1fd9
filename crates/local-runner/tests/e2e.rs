//! The whole pipeline on moto, as `make local` runs it: the synthesized stack created with
//! CloudFormation → the producer puts realistic events (10% invalid, fixed seed) on the
//! stream → local-runner plays the event source mapping and calls the processor → the
//! table holds every distinct valid event exactly once and the dead-letter queue every
//! invalid record with its original bytes. The same through the fault-injecting proxy,
//! then the same records again, which must leave the table unchanged. A last test breaks
//! the handler on purpose and checks that these checks notice.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_cloudformation::types::{Capability, Parameter, StackStatus};
use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use events::Item;
use local_runner::aws::QueueDestination;
use local_runner::discovery::{Overrides, Target};
use local_runner::function::{self, Processor};
use local_runner::lambda_event::EventSource;
use local_runner::mapping::Context;
use local_runner::runner::{self, Pacing, Wiring};
use local_runner::shards::StreamReader;
use processor::handler::Handler;
use processor::retry::Backoff;
use processor::sinks::dynamodb::DynamoTable;
use processor::sinks::sqs::SqsQueue;
use processor::sinks::{SinkError, TableWriter};
use producer::kinesis::Stream;
use producer::progress::Silent;
use producer::run::{Input, Options};
use producer::schedule::Schedule;
use producer::send::{Placement, RetryPolicy};
use producer::source::{Generated, Record};
use testkit::moto::{put_object, Moto};
use testkit::proxy::{Faults, Proxy};

const SEED: u64 = 20_261_125;
const START_MS: i64 = 1_764_000_000_000;

/// A stack created on moto from the synthesized template.
struct Deployed {
    config: SdkConfig,
    stack: String,
    target: Target,
}

async fn deploy(moto: &Moto, project: &str) -> Deployed {
    let settings = synth::config::Config::load(None, None, &[format!("project_name={project}")])
        .expect("a valid configuration");
    let body = synth::stack::build(&settings)
        .render(cfn::Format::Yaml)
        .expect("the template synthesizes")
        .body;
    // moto stores the function's code; the processor itself runs in-process here.
    put_object(
        moto.port,
        "code",
        "processor/e2e.zip",
        b"PK\x05\x06placeholder",
    )
    .expect("upload");
    let config = testkit::sdk_config(&moto.endpoint).await;
    let cfn = aws_sdk_cloudformation::Client::new(&config);
    let stack = format!("{project}-stack");
    let parameter = |k: &str, v: &str| {
        Parameter::builder()
            .parameter_key(k)
            .parameter_value(v)
            .build()
    };
    cfn.create_stack()
        .stack_name(&stack)
        .template_body(body)
        .parameters(parameter("CodeS3Bucket", "code"))
        .parameters(parameter("CodeS3Key", "processor/e2e.zip"))
        .capabilities(Capability::CapabilityNamedIam)
        .send()
        .await
        .expect("create-stack");
    for _ in 0..120 {
        let described = cfn
            .describe_stacks()
            .stack_name(&stack)
            .send()
            .await
            .expect("describe");
        let status = described.stacks()[0].stack_status().cloned();
        match status {
            Some(StackStatus::CreateComplete) => break,
            Some(StackStatus::CreateInProgress) => {
                tokio::time::sleep(Duration::from_millis(250)).await
            }
            other => panic!("stack {stack} ended {other:?}"),
        }
    }
    let target = local_runner::aws::discover(&config, &stack, &Overrides::default())
        .await
        .expect("the stack names the stream, table, queue and mapping");
    Deployed {
        config,
        stack,
        target,
    }
}

/// What the producer got into the stream.
struct Sent {
    records: Vec<(Record, Placement)>,
}

async fn produce(deployed: &Deployed, count: u64) -> Sent {
    let stream = Stream::with_config(
        &deployed.config,
        &deployed.target.stream_name,
        "moto".into(),
    );
    stream.check().await.expect("the stream is active");
    let mut input = Input::Generated {
        source: Generated::new(SEED, 0.1),
        clock_start_ms: START_MS,
    };
    let options = Options {
        schedule: Schedule::count(count, Duration::ZERO),
        batch: 500,
        retry: RetryPolicy::default(),
    };
    let mut records = Vec::new();
    let summary = producer::run::run(&stream, &mut input, options, &mut Silent, &mut |r, p| {
        records.push((r.clone(), p.clone()))
    })
    .await
    .expect("the producer runs");
    assert_eq!(summary.failed, 0, "{summary}");
    assert_eq!(summary.sent, count);
    Sent { records }
}

/// Runs the mapping over the whole stream with `table` as the processor's table sink.
async fn drain<W: TableWriter>(
    deployed: &Deployed,
    table: W,
    sinks: &SdkConfig,
) -> runner::Summary {
    let target = &deployed.target;
    let processor = Processor {
        handler: Handler {
            table,
            queue: SqsQueue::new(aws_sdk_sqs::Client::new(sinks), target.dlq_url.clone()),
            function_name: target.function_name.clone(),
            concurrency: 8,
            backoff: Backoff::default(),
        },
        source: EventSource {
            stream_arn: target.stream_arn.clone(),
            region: "us-east-1".into(),
            role_arn: target.role_arn.clone(),
        },
        timeout: target.timeout,
        totals: RefCell::default(),
    };
    let destination = QueueDestination::new(
        &deployed.config,
        target
            .on_failure_url
            .clone()
            .expect("the mapping's destination is the DLQ"),
    );
    let mut reader = StreamReader::new(
        aws_sdk_kinesis::Client::new(&deployed.config),
        target.stream_name.clone(),
    );
    let mut settings = target.settings.clone();
    // The stream is drained at once; waiting out dev's 5 s window per shard only slows CI.
    settings.batching_window = Duration::from_millis(200);
    let wiring = Wiring {
        reader: &mut reader,
        settings: &settings,
        function: &processor,
        destination: &destination,
        context: Context {
            function_arn: &target.function_arn,
            stream_arn: &target.stream_arn,
            now_ms: &function::now_ms,
            retry_pause: Duration::from_millis(50),
        },
    };
    let pacing = Pacing {
        idle_exit: Duration::from_secs(2),
        poll_interval: Duration::from_millis(100),
        retry_pause: Duration::from_millis(50),
    };
    runner::run(wiring, pacing, &mut |_| {})
        .await
        .expect("the runner drains the stream")
}

fn table_sink(deployed: &Deployed, sinks: &SdkConfig) -> DynamoTable {
    DynamoTable::new(
        aws_sdk_dynamodb::Client::new(sinks),
        deployed.target.table_name.clone(),
    )
}

type Key = (String, String);

/// Every item of the table by key, without the attributes that record when it was
/// processed (a replay rewrites those, and only those).
async fn table_items(deployed: &Deployed) -> BTreeMap<Key, HashMap<String, AttributeValue>> {
    let dynamodb = aws_sdk_dynamodb::Client::new(&deployed.config);
    let mut items = BTreeMap::new();
    let mut start = None;
    loop {
        let page = dynamodb
            .scan()
            .table_name(&deployed.target.table_name)
            .set_exclusive_start_key(start)
            .send()
            .await
            .expect("scan");
        for item in page.items() {
            let text = |name: &str| {
                item.get(name)
                    .and_then(|v| v.as_s().ok())
                    .cloned()
                    .unwrap_or_default()
            };
            let mut item = item.clone();
            item.remove("processedAt");
            item.remove("processingLatency");
            assert!(
                items
                    .insert((text("userId"), text("eventKey")), item)
                    .is_none(),
                "a key appears twice in the scan"
            );
        }
        start = page.last_evaluated_key().cloned();
        if start.is_none() {
            return items;
        }
    }
}

/// Every message in the dead-letter queue, as JSON.
async fn dead_letters(deployed: &Deployed) -> Vec<serde_json::Value> {
    let sqs = aws_sdk_sqs::Client::new(&deployed.config);
    let mut letters = Vec::new();
    loop {
        let received = sqs
            .receive_message()
            .queue_url(&deployed.target.dlq_url)
            .max_number_of_messages(10)
            .visibility_timeout(600)
            .send()
            .await
            .expect("receive");
        if received.messages().is_empty() {
            return letters;
        }
        for message in received.messages() {
            let body = message.body().unwrap_or_default();
            letters.push(serde_json::from_str(body).expect("dead letters are JSON"));
        }
    }
}

/// The key DESIGN.md gives the item of a valid event: userId, then timestamp#eventId.
fn expected_key(record: &Record) -> Key {
    let event: events::RetailEvent =
        serde_json::from_slice(&record.data).expect("valid events parse");
    let id = event.event_id.expect("generated events carry an eventId");
    (event.user_id, events::event_key(event.timestamp, &id))
}

/// Compares the table and the queue with what was sent; every discrepancy is listed.
fn check(
    sent: &Sent,
    table: &BTreeMap<Key, HashMap<String, AttributeValue>>,
    letters: &[serde_json::Value],
) -> Result<(), String> {
    let mut problems = Vec::new();
    let valid: BTreeMap<Key, &Record> = sent
        .records
        .iter()
        .filter(|(r, _)| r.invalid.is_none())
        .map(|(r, _)| (expected_key(r), r))
        .collect();
    let missing = valid.keys().filter(|k| !table.contains_key(*k)).count();
    let unexpected = table.keys().filter(|k| !valid.contains_key(*k)).count();
    if missing > 0 || unexpected > 0 || table.len() != valid.len() {
        problems.push(format!(
            "table holds {} items for {} distinct valid events: {missing} missing, {unexpected} unexpected",
            table.len(),
            valid.len()
        ));
    }
    let invalid: HashMap<&str, &Record> = sent
        .records
        .iter()
        .filter(|(r, _)| r.invalid.is_some())
        .map(|(r, p)| (p.sequence_number.as_str(), r))
        .collect();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for letter in letters {
        if letter.get("KinesisBatchInfo").is_some() {
            problems.push(format!("records were skipped by the mapping: {letter}"));
            continue;
        }
        let sequence = letter["sequenceNumber"].as_str().unwrap_or_default();
        let Some(record) = invalid.get(sequence) else {
            problems.push(format!(
                "dead letter for a record that is not invalid: {sequence}"
            ));
            continue;
        };
        *seen.entry(sequence).or_default() += 1;
        let truncated = letter["dataTruncated"].as_bool().unwrap_or(false);
        let data = base64::engine::general_purpose::STANDARD
            .decode(letter["data"].as_str().unwrap_or_default())
            .unwrap_or_default();
        if !(data == record.data
            || truncated && record.invalid == Some(producer::invalid::InvalidKind::Oversized))
        {
            problems.push(format!(
                "dead letter {sequence} does not carry the record's bytes"
            ));
        }
    }
    let undelivered = invalid.keys().filter(|s| !seen.contains_key(*s)).count();
    let repeated = seen.values().filter(|n| **n > 1).count();
    if undelivered > 0 || repeated > 0 {
        problems.push(format!(
            "{} invalid records: {undelivered} not in the dead-letter queue, {repeated} there more than once",
            invalid.len()
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

#[tokio::test]
async fn every_event_lands_once_and_a_replay_changes_nothing() {
    let moto = Moto::start();
    let deployed = deploy(&moto, "e2e-clean").await;
    let sent = produce(&deployed, 2_000).await;
    let invalid = sent
        .records
        .iter()
        .filter(|(r, _)| r.invalid.is_some())
        .count();
    assert!((150..=250).contains(&invalid), "{invalid} invalid of 2000");
    let summary = drain(
        &deployed,
        table_sink(&deployed, &deployed.config),
        &deployed.config,
    )
    .await;
    assert_eq!(summary.records, 2_000, "{summary}");
    let table = table_items(&deployed).await;
    check(&sent, &table, &dead_letters(&deployed).await).unwrap();

    // Lambda retries and a rewound mapping deliver the same records again.
    let replay = drain(
        &deployed,
        table_sink(&deployed, &deployed.config),
        &deployed.config,
    )
    .await;
    assert_eq!(replay.records, 2_000);
    assert_eq!(
        table_items(&deployed).await,
        table,
        "the replay changed the table"
    );
    assert_eq!(deployed.stack, "e2e-clean-stack");
}

#[tokio::test]
async fn faults_between_the_processor_and_aws_lose_and_duplicate_nothing() {
    let moto = Moto::start();
    let deployed = deploy(&moto, "e2e-faults").await;
    let faults = Faults {
        throttle: 0.2,
        partial: 0.1,
        failed_entry: 0.05,
        seed: SEED,
    };
    let proxy = Proxy::start(moto.port, faults).await;
    let through_proxy = testkit::sdk_config(&proxy.endpoint).await;
    let sent = produce(&deployed, 2_000).await;
    drain(
        &deployed,
        table_sink(&deployed, &through_proxy),
        &through_proxy,
    )
    .await;
    let counts = &proxy.counts;
    use std::sync::atomic::Ordering::Relaxed;
    assert!(counts.throttled.load(Relaxed) > 0 && counts.partial.load(Relaxed) > 0);
    assert!(counts.failed_entries.load(Relaxed) > 0);
    let table = table_items(&deployed).await;
    check(&sent, &table, &dead_letters(&deployed).await).unwrap();

    // The producer sends the same events again (a producer retry): same keys, same items.
    let again = produce(&deployed, 2_000).await;
    drain(
        &deployed,
        table_sink(&deployed, &through_proxy),
        &through_proxy,
    )
    .await;
    assert_eq!(again.records.len(), sent.records.len());
    assert_eq!(
        table_items(&deployed).await,
        table,
        "sending the events again changed the table"
    );
}

/// A table sink that silently drops every `n`-th item while reporting success: the bug the
/// checks above exist to catch.
struct Dropping {
    inner: DynamoTable,
    every: usize,
    seen: std::sync::atomic::AtomicUsize,
}

impl TableWriter for Dropping {
    async fn batch_write(&self, items: &[&Item]) -> Result<Vec<usize>, SinkError> {
        use std::sync::atomic::Ordering::Relaxed;
        let kept: Vec<&Item> = items
            .iter()
            .copied()
            .filter(|_| (self.seen.fetch_add(1, Relaxed) + 1) % self.every != 0)
            .collect();
        self.inner.batch_write(&kept).await.map(|_| Vec::new())
    }
}

#[tokio::test]
async fn a_handler_that_drops_every_hundredth_record_fails_the_checks() {
    let moto = Moto::start();
    let deployed = deploy(&moto, "e2e-broken").await;
    let sent = produce(&deployed, 1_000).await;
    let broken = Dropping {
        inner: table_sink(&deployed, &deployed.config),
        every: 100,
        seen: Default::default(),
    };
    drain(&deployed, broken, &deployed.config).await;
    let problems = check(
        &sent,
        &table_items(&deployed).await,
        &dead_letters(&deployed).await,
    )
    .expect_err("dropped records must fail the check");
    assert!(problems.contains("missing"), "{problems}");
}
