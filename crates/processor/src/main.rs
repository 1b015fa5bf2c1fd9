//! The Lambda's entry point: clients and configuration are built once at init, then every
//! invocation runs the handler. Init fails (and Lambda reports it) when a required
//! environment variable is missing, naming it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_edge::retry::Deadline;
use aws_lambda_events::event::kinesis::KinesisEvent;
use aws_lambda_events::event::streams::KinesisEventResponse;
use kinesis_codec::payload::Payload;
use kinesis_codec::window::{WindowEvent, WindowResponse};
use lambda_runtime::{service_fn, Error, LambdaEvent};
use processor::config::Config;
use processor::handler::{Handler, Invocation, SinkClients};
use processor::metrics::{self, InvocationStats};
use processor::sinks::dynamodb::DynamoTable;
use processor::sinks::sqs::SqsQueue;
use processor::window::WindowError;
use serde_json::Value;

/// mimalloc, not the system's allocator: an invocation allocates tens of thousands of small
/// blocks (the event's records, the items, the dead letters), and on glibc's malloc the
/// benchmarked 10,000-record invocation took 2.9 times as long (docs/performance.md, "The
/// processor"). The benchmarks use the same allocator, so they count what the function does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let config = Config::from_env()?;
    init_logging(&config.log_level);
    // Retries are ours (bounded by the invocation's deadline), so the SDK makes one attempt.
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(1))
        .load()
        .await;
    let handler = Handler::on_aws(&config, SinkClients::new(&sdk));
    let handler = &handler;
    let config = &config;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Payload>| async move {
        let (payload, context) = event.into_parts();
        match payload {
            Payload::Window(window) => {
                let response = invoke_window(handler, config, &window, &context).await?;
                Ok::<Value, Error>(serde_json::to_value(response)?)
            }
            Payload::Kinesis(payload) => {
                let event = LambdaEvent::new(payload, context);
                Ok(serde_json::to_value(invoke(handler, config, event).await)?)
            }
        }
    }))
    .await
}

/// The facts of an invocation that started now with Lambda's `context`.
fn invocation<'a>(
    config: &Config,
    context: &'a lambda_runtime::Context,
    now_ms: i64,
) -> Invocation<'a> {
    let deadline_ms = i64::try_from(context.deadline).unwrap_or(i64::MAX);
    let remaining = Duration::from_millis(u64::try_from(deadline_ms - now_ms).unwrap_or(0));
    Invocation {
        request_id: &context.request_id,
        deadline: Deadline::after(remaining, config.safety_margin),
        now_ms,
        redrive_count: redrive_count(context),
    }
}

async fn invoke(
    handler: &Handler<DynamoTable, SqsQueue>,
    config: &Config,
    event: LambdaEvent<KinesisEvent>,
) -> KinesisEventResponse {
    let now_ms = epoch_ms(SystemTime::now());
    let invocation = invocation(config, &event.context, now_ms);
    let outcome = handler.handle(&event.payload, invocation).await;
    print_metrics(config, &outcome.stats, now_ms);
    outcome.response
}

/// A tumbling window's invocation: its records stored and counted, and at its end the
/// figures written and the business metrics emitted; `Err` (a function error, which Lambda
/// retries) when the window's end could not be written.
async fn invoke_window(
    handler: &Handler<DynamoTable, SqsQueue>,
    config: &Config,
    window: &WindowEvent,
    context: &lambda_runtime::Context,
) -> Result<WindowResponse, WindowError> {
    let now_ms = epoch_ms(SystemTime::now());
    let outcome = handler
        .handle_window(window, invocation(config, context, now_ms))
        .await?;
    if !window.event.records.is_empty() {
        print_metrics(config, &outcome.stats, now_ms);
    }
    if let Some(figures) = &outcome.window.written {
        let lines = metrics::business_emf_lines(
            &config.metrics_namespace,
            &config.function_name,
            figures,
            now_ms,
        );
        for line in lines {
            println!("{line}");
        }
    }
    Ok(outcome.response)
}

/// The metrics line goes straight to stdout: CloudWatch parses EMF from raw log lines.
fn print_metrics(config: &Config, stats: &InvocationStats, now_ms: i64) {
    println!(
        "{}",
        metrics::emf_line(
            &config.metrics_namespace,
            &config.function_name,
            stats,
            now_ms,
            config.failed_events_resolution,
        )
    );
}

/// How often the invocation's records have been redriven: the redrive tool says so in the
/// client context of its synchronous Invoke (`custom.redriveCount`); the event source
/// mapping sends none, which is 0.
fn redrive_count(context: &lambda_runtime::Context) -> u32 {
    context
        .client_context
        .as_ref()
        .map_or(0, |c| processor::redrive_count(&c.custom))
}

fn epoch_ms(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn init_logging(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_target(false)
        .without_time()
        .init();
}
