//! The harness of the end-to-end tests: the synthesized stack created on moto with
//! CloudFormation, the producer putting generated events on its stream, local-runner
//! draining the stream through the processor, and readers of what ended up in the table and
//! the dead-letter queue. The tests in `tests/` drive the pipeline with these pieces and
//! compare what they read with what was sent.
//!
//! Everything talks to a moto server on a loopback port ([`testkit::moto::Moto`]).

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_cloudformation::types::{Capability, Parameter, StackStatus};
use aws_sdk_dynamodb::types::AttributeValue;
use events::Item;
use kinesis_codec::record::EventSource;
use kinesis_codec::time::now_ms;
use local_runner::destination::OnFailureDestination;
use local_runner::discovery::{Overrides, Target};
use local_runner::function::Processor;
use local_runner::mapping::{Context, Settings};
use local_runner::runner::{self, Pacing, Wiring};
use local_runner::shards::StreamReader;
use processor::handler::{Buckets, Handler};
use processor::sinks::aggregates::DynamoAggregates;
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

/// The generator's seed in every test: the same events on every run.
pub const SEED: u64 = 20_261_125;
/// The generated events' first timestamp.
pub const START_MS: i64 = 1_764_000_000_000;

/// A stack created on moto from the synthesized template.
pub struct Deployed {
    /// An SDK configuration for moto.
    pub config: SdkConfig,
    /// The stack's name.
    pub stack: String,
    /// What local-runner found in it.
    pub target: Target,
}

/// Synthesizes the stack for `project_name=project` plus `sets` (`key=value`, as `--set`
/// takes them), creates it on moto as `<project>-stack` and waits until it is complete.
pub async fn deploy(moto: &Moto, project: &str, sets: &[&str]) -> Deployed {
    deploy_template(moto, project, &synthesize(project, sets)).await
}

/// The template (YAML) synthesized for `project_name=project` plus `sets`.
pub fn synthesize(project: &str, sets: &[&str]) -> String {
    let mut overrides = vec![format!("project_name={project}")];
    overrides.extend(sets.iter().map(|s| (*s).to_owned()));
    let settings =
        synth::config::Config::load(None, None, &overrides).expect("a valid configuration");
    synth::stack::build(&settings)
        .render(cfn::Format::Yaml)
        .expect("the template synthesizes")
        .body
}

/// Creates the stack `body` on moto as `<project>-stack` and waits until it is complete.
pub async fn deploy_template(moto: &Moto, project: &str, body: &str) -> Deployed {
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
    wait_for_create(&cfn, &stack).await;
    let target = local_runner::discovery::discover(&config, &stack, &Overrides::default())
        .await
        .expect("the stack names the stream, table, queue and mapping");
    Deployed {
        config,
        stack,
        target,
    }
}

async fn wait_for_create(cfn: &aws_sdk_cloudformation::Client, stack: &str) {
    for _ in 0..120 {
        let described = cfn
            .describe_stacks()
            .stack_name(stack)
            .send()
            .await
            .expect("describe");
        match described.stacks()[0].stack_status().cloned() {
            Some(StackStatus::CreateComplete) => return,
            Some(StackStatus::CreateInProgress) => {
                tokio::time::sleep(Duration::from_millis(250)).await
            }
            other => panic!("stack {stack} ended {other:?}"),
        }
    }
    panic!("stack {stack} was not created within 30 s");
}

/// What the producer got into the stream, in the order it was sent.
pub struct Sent {
    /// Each record and where it landed.
    pub records: Vec<(Record, Placement)>,
}

/// Puts `count` generated events (10 % invalid, [`SEED`]) on the stack's stream.
pub async fn produce(deployed: &Deployed, count: u64) -> Sent {
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

/// Runs the mapping over the whole stream with `table` as the processor's table sink and
/// `sinks` for its queue, until the stream has been idle for `idle_exit`.
pub async fn drain_until_idle<W: TableWriter>(
    deployed: &Deployed,
    table: W,
    sinks: &SdkConfig,
    idle_exit: Duration,
) -> runner::Summary {
    drain_with(deployed, table, sinks, idle_exit, |_| {}).await
}

/// [`drain_until_idle`] with the mapping's settings changed by `adjust` first (where to
/// start, fault injection).
pub async fn drain_with<W: TableWriter>(
    deployed: &Deployed,
    table: W,
    sinks: &SdkConfig,
    idle_exit: Duration,
    adjust: impl FnOnce(&mut Settings),
) -> runner::Summary {
    let target = &deployed.target;
    let handler = Handler::from_config(
        &target.processor,
        table,
        SqsQueue::new(aws_sdk_sqs::Client::new(sinks), target.dlq_url.clone()),
    )
    .with_buckets(Buckets::on_aws(
        &target.processor,
        &reprocess::objects::s3_client(sinks),
    ));
    // The aggregate table through the same endpoint as the other sinks.
    let handler = match &target.processor.aggregate_table {
        Some(name) => handler.with_aggregates(Arc::new(DynamoAggregates::new(
            aws_sdk_dynamodb::Client::new(sinks),
            name.clone(),
        ))),
        None => handler,
    };
    let processor = Processor {
        handler,
        source: EventSource {
            stream_arn: target.stream_arn.clone(),
            region: "us-east-1".into(),
            role_arn: target.role_arn.clone(),
        },
        timeout: target.timeout,
        totals: RefCell::default(),
    };
    let destination = OnFailureDestination::with_clients(
        target,
        aws_sdk_sqs::Client::new(&deployed.config),
        reprocess::objects::s3_client(&deployed.config),
        processor.source.clone(),
    );
    let mut reader = StreamReader::new(
        aws_sdk_kinesis::Client::new(&deployed.config),
        target.stream_name.clone(),
    );
    let mut settings = target.settings.clone();
    // The stream is drained at once; waiting out dev's 5 s window per shard only slows CI.
    settings.batching_window = Duration::from_millis(200);
    adjust(&mut settings);
    let wiring = Wiring {
        reader: &mut reader,
        settings: &settings,
        function: &processor,
        destination: &destination,
        context: Context {
            function_arn: &target.function_arn,
            stream_arn: &target.stream_arn,
            now_ms: &now_ms,
            retry_pause: Duration::from_millis(50),
        },
    };
    let pacing = Pacing {
        idle_exit,
        poll_interval: Duration::from_millis(100),
        retry_pause: Duration::from_millis(50),
    };
    runner::run(wiring, pacing, &mut |_| {})
        .await
        .expect("the runner drains the stream")
}

/// [`drain_until_idle`] for a stream that already holds everything: stops after 2 idle
/// seconds.
pub async fn drain<W: TableWriter>(
    deployed: &Deployed,
    table: W,
    sinks: &SdkConfig,
) -> runner::Summary {
    drain_until_idle(deployed, table, sinks, Duration::from_secs(2)).await
}

/// The processor's table sink on the stack's table through `sinks`.
pub fn table_sink(deployed: &Deployed, sinks: &SdkConfig) -> DynamoTable {
    DynamoTable::new(
        aws_sdk_dynamodb::Client::new(sinks),
        deployed.target.table_name.clone(),
    )
    .with_index_shards(deployed.target.processor.index_write_shards)
}

/// An item's key: (userId, eventKey).
pub type Key = (String, String);

/// Every item of the table by key, without the attributes that record when it was
/// processed (a replay rewrites those, and only those).
pub async fn table_items(deployed: &Deployed) -> BTreeMap<Key, HashMap<String, AttributeValue>> {
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

/// Every message in the dead-letter queue, as JSON, each once. They stay invisible for
/// `hidden` seconds, so a caller that wants to read the queue again soon passes a short time;
/// a message seen again (its visibility ran out while reading) is not counted twice, and a
/// receive that brings only messages already seen ends the reading.
pub async fn dead_letters_hidden_for(deployed: &Deployed, hidden: i32) -> Vec<serde_json::Value> {
    let sqs = aws_sdk_sqs::Client::new(&deployed.config);
    let mut seen = std::collections::HashSet::new();
    let mut letters = Vec::new();
    loop {
        let received = sqs
            .receive_message()
            .queue_url(&deployed.target.dlq_url)
            .max_number_of_messages(10)
            .visibility_timeout(hidden)
            .send()
            .await
            .expect("receive");
        let mut new = 0;
        for message in received.messages() {
            if !seen.insert(message.message_id().unwrap_or_default().to_owned()) {
                continue;
            }
            new += 1;
            let body = message.body().unwrap_or_default();
            letters.push(serde_json::from_str(body).expect("dead letters are JSON"));
        }
        if new == 0 {
            return letters;
        }
    }
}

/// Every message in the dead-letter queue, as JSON; they stay invisible for ten minutes.
pub async fn dead_letters(deployed: &Deployed) -> Vec<serde_json::Value> {
    dead_letters_hidden_for(deployed, 600).await
}

/// The key docs/design.md ("Table items") gives the item of a valid event: userId, then timestamp#eventId.
pub fn expected_key(record: &Record) -> Key {
    let event: events::RetailEvent =
        serde_json::from_slice(&record.data).expect("valid events parse");
    let id = event.event_id.expect("generated events carry an eventId");
    (event.user_id, events::event_key(event.timestamp, &id))
}

/// A table sink that silently drops every `n`-th item while reporting success: the bug the
/// end-to-end checks exist to catch.
pub struct Dropping {
    /// The real sink.
    pub inner: DynamoTable,
    /// Every this many items, one is dropped.
    pub every: usize,
    /// Items seen so far.
    pub seen: std::sync::atomic::AtomicUsize,
}

impl Dropping {
    /// Drops every `every`-th item written to `inner`.
    pub fn new(inner: DynamoTable, every: usize) -> Dropping {
        Dropping {
            inner,
            every,
            seen: Default::default(),
        }
    }
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

/// A table that is down: every write fails as DynamoDB's missing table does, so the mapping
/// retries each batch and then gives it up to its on-failure destination.
pub struct TableDown;

impl TableWriter for TableDown {
    async fn batch_write(&self, _: &[&Item]) -> Result<Vec<usize>, SinkError> {
        Err(SinkError::Fatal(
            "ResourceNotFoundException: the table is down for this test".into(),
        ))
    }
}
