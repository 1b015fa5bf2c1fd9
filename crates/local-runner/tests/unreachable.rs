//! moto killed under local-runner: whatever the runner was doing (reading the stream,
//! invoking the processor, whose retries would otherwise last the function's 120 s
//! timeout), it stops within 30 s with exit 1 and one plain `error:` line naming the
//! service that stopped answering and what to check. Progress lines come while it works.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::PutRecordsRequestEntry;
use common::{moto, sdk_config};

const STACK: &str = "runner-unreachable";
const FIXTURE: &str = include_str!("fixtures/stack.json");
const EVENTS: usize = 2_000;

/// Creates tests/fixtures/stack.json on moto and returns its stream's name.
async fn stream_of(moto: &moto::Moto, config: &aws_config::SdkConfig) -> String {
    common::create_stack(moto, config, STACK, FIXTURE)
        .await
        .remove("StreamName")
        .expect("the StreamName output")
}

/// Puts `count` small valid events on `stream`.
async fn put_events(config: &aws_config::SdkConfig, stream: &str, count: usize) {
    let kinesis = aws_sdk_kinesis::Client::new(config);
    for start in (0..count).step_by(500) {
        let entries = (start..count.min(start + 500))
            .map(|i| {
                let event = serde_json::json!({
                    "eventId": format!("event-{i}"),
                    "userId": format!("user-{}", i % 50),
                    "eventType": "view",
                    "productId": "electronics-laptop-001",
                    "timestamp": 1_700_000_000_000_i64 + i as i64,
                });
                PutRecordsRequestEntry::builder()
                    .partition_key(format!("user-{}", i % 50))
                    .data(Blob::new(event.to_string()))
                    .build()
                    .expect("an entry")
            })
            .collect();
        kinesis
            .put_records()
            .stream_name(stream)
            .set_records(Some(entries))
            .send()
            .await
            .expect("put the events");
    }
}

/// local-runner on `endpoint`'s stack (with `extra` arguments), idling up to 120 s, with
/// its stderr lines.
fn start_runner(endpoint: &str, extra: &[&str]) -> (Child, mpsc::Receiver<String>) {
    let mut runner = Command::new(env!("CARGO_BIN_EXE_local-runner"))
        .args(["--endpoint-url", endpoint, "--stack-name", STACK])
        .args(["--idle-exit", "120"])
        .args(extra)
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start local-runner");
    let (lines, stderr) = mpsc::channel();
    let pipe = runner.stderr.take().expect("stderr");
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    (runner, stderr)
}

/// Kills moto, waits for the runner to end, and checks it ended as promised: exit 1
/// within 30 s, its last stderr line the only `error:` line, naming `service` and what to
/// check. `said` is what it printed so far.
async fn kill_and_check(
    moto: moto::Moto,
    mut runner: Child,
    stderr: mpsc::Receiver<String>,
    mut said: Vec<String>,
    service: &str,
) {
    drop(moto);
    let killed = Instant::now();
    let status = loop {
        if let Some(status) = runner.try_wait().expect("wait") {
            break status;
        }
        if killed.elapsed() > Duration::from_secs(45) {
            let _ = runner.kill();
            panic!("local-runner still running 45 s after moto was killed");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let took = killed.elapsed();
    while let Ok(line) = stderr.recv_timeout(Duration::from_secs(1)) {
        said.push(line);
    }
    let text = said.join("\n");
    assert_eq!(status.code(), Some(1), "{text}");
    assert!(took <= Duration::from_secs(30), "took {took:?}:\n{text}");
    let errors: Vec<&String> = said.iter().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "one error line:\n{text}");
    let error = errors[0];
    assert_eq!(
        said.last(),
        Some(error),
        "the error is the last word:\n{text}"
    );
    assert!(error.contains(service), "names {service}: {error}");
    assert!(error.contains("is not answering"), "{error}");
    assert!(error.contains("check that http://127.0.0.1:"), "{error}");
    assert!(
        !error.contains("DispatchFailure("),
        "no SDK debug dump: {error}"
    );
    eprintln!("after {took:?}: {error}");
}

/// Creates, on a second moto, a table and a queue of the same names as the stack's, so the
/// processor's writes can go there (`--sink-endpoint-url`).
async fn create_sinks(config: &aws_config::SdkConfig, stack_config: &aws_config::SdkConfig) {
    let cfn = aws_sdk_cloudformation::Client::new(stack_config);
    let described = cfn
        .describe_stacks()
        .stack_name(STACK)
        .send()
        .await
        .expect("describe-stacks");
    let output = |key: &str| {
        described.stacks()[0]
            .outputs()
            .iter()
            .find(|o| o.output_key() == Some(key))
            .and_then(|o| o.output_value())
            .expect("the output")
            .to_owned()
    };
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    };
    let key = |name: &str, kind| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
            .expect("a key")
    };
    let attribute = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .expect("an attribute")
    };
    aws_sdk_dynamodb::Client::new(config)
        .create_table()
        .table_name(output("TableName"))
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key("userId", KeyType::Hash))
        .key_schema(key("eventKey", KeyType::Range))
        .attribute_definitions(attribute("userId"))
        .attribute_definitions(attribute("eventKey"))
        .send()
        .await
        .expect("create the table");
    let queue_url = output("DeadLetterQueueUrl");
    let queue = queue_url.rsplit('/').next().expect("a queue name");
    aws_sdk_sqs::Client::new(config)
        .create_queue()
        .queue_name(queue)
        .send()
        .await
        .expect("create the queue");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto from .venv (make venv); make test runs it with --include-ignored"]
async fn moto_killed_under_the_processors_writes_ends_the_run_naming_the_table() {
    // The stack and its stream on one moto, the table and queue the processor writes on a
    // second one, which dies before the first batch is written: the processor's retries
    // would last the function's 120 s timeout, and the mapping would retry the batch.
    let moto = moto::Moto::start();
    let sinks = moto::Moto::start();
    let config = sdk_config(&moto.endpoint).await;
    let stream = stream_of(&moto, &config).await;
    create_sinks(&sdk_config(&sinks.endpoint).await, &config).await;
    put_events(&config, &stream, EVENTS).await;
    let sink_endpoint = sinks.endpoint.clone();
    let (runner, stderr) = start_runner(&moto.endpoint, &["--sink-endpoint-url", &sink_endpoint]);
    let first = stderr
        .recv_timeout(Duration::from_secs(30))
        .expect("local-runner says what it reads");
    assert!(first.starts_with("reading "), "{first}");
    kill_and_check(sinks, runner, stderr, vec![first], "DynamoDB table").await;
    drop(moto);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto from .venv (make venv); make test runs it with --include-ignored"]
async fn moto_killed_while_the_runner_waits_for_records_ends_the_run_naming_the_stream() {
    let moto = moto::Moto::start();
    let config = sdk_config(&moto.endpoint).await;
    let stream = stream_of(&moto, &config).await;
    put_events(&config, &stream, 10).await;
    let (runner, stderr) = start_runner(&moto.endpoint, &[]);
    // A progress line says it is waiting: the stream is drained and quiet.
    let mut said = Vec::new();
    while !said
        .last()
        .is_some_and(|l: &String| l.contains("no new records for"))
    {
        let line = stderr
            .recv_timeout(Duration::from_secs(30))
            .expect("local-runner reports progress while it waits");
        said.push(line);
    }
    kill_and_check(moto, runner, stderr, said, "Kinesis stream").await;
}
