//! `local-runner`: plays Lambda's Kinesis event source mapping against a local endpoint.
//!
//! Exit status: 0 the stream was drained and every batch handled or skipped as the mapping
//! says, 1 an AWS call failed, 2 bad arguments.

use std::cell::RefCell;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;

use local_runner::aws::{self, NoDestination, QueueDestination};
use local_runner::discovery::{Overrides, Target};
use local_runner::function::{self, Processor};
use local_runner::lambda_event::EventSource;
use local_runner::mapping::Context;
use local_runner::runner::{self, Pacing, Summary, Wiring};
use local_runner::shards::StreamReader;
use processor::handler::Handler;
use processor::retry::Backoff;
use processor::sinks::dynamodb::DynamoTable;
use processor::sinks::sqs::SqsQueue;

/// Play Lambda's Kinesis event source mapping locally, calling the processor in-process.
///
/// Finds the stream, table, queue, the function's environment and timeout and the
/// mapping's settings from the stack; reads every shard from TRIM_HORIZON (children after
/// their parents); builds events in Lambda's Kinesis format and applies batch size,
/// batching window, ReportBatchItemFailures, BisectBatchOnFunctionError,
/// MaximumRetryAttempts, MaximumRecordAgeInSeconds and the on-failure destination. Exits
/// after --idle-exit seconds without new records and prints a summary line on stdout.
#[derive(Debug, Parser)]
#[command(name = "local-runner", version, about, after_help = AFTER_HELP)]
struct Cli {
    /// Endpoint of the local AWS (moto), e.g. http://127.0.0.1:5000.
    #[arg(long, value_name = "URL")]
    endpoint_url: String,

    /// The CloudFormation stack created from the synthesized template.
    #[arg(long, value_name = "NAME")]
    stack_name: String,

    /// Stop after this many seconds without new records.
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = idle_seconds)]
    idle_exit: f64,

    /// Read this stream instead of the stack's StreamName output.
    #[arg(long, value_name = "NAME")]
    stream: Option<String>,

    /// Write to this table instead of the function's TABLE_NAME.
    #[arg(long, value_name = "NAME")]
    table: Option<String>,

    /// Dead-letter to this queue instead of the function's DLQ_URL.
    #[arg(long, value_name = "URL")]
    dlq_url: Option<String>,

    /// Endpoint for the processor's DynamoDB and SQS calls (default: --endpoint-url), e.g. a
    /// fault-injecting proxy in front of moto.
    #[arg(long, value_name = "URL")]
    sink_endpoint_url: Option<String>,

    /// AWS region (default: AWS_REGION or the profile's, else us-east-1).
    #[arg(long)]
    region: Option<String>,
}

const AFTER_HELP: &str = "Example (after `make local` has created the stack on moto):
  local-runner --endpoint-url http://127.0.0.1:5000 --stack-name retail-events-local --idle-exit 5

Exit status: 0 the stream was drained, 1 an AWS call failed, 2 bad arguments.";

fn idle_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v <= 86_400.0 => Ok(v),
        _ => Err(format!(
            "must be seconds above 0 and up to 86400, got {text:?}"
        )),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(summary) => {
            println!("{summary}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<Summary> {
    let region = cli.region.as_deref();
    let control = aws::sdk_config(Some(&cli.endpoint_url), region, 3).await;
    let overrides = Overrides {
        stream: cli.stream.clone(),
        table: cli.table.clone(),
        dlq_url: cli.dlq_url.clone(),
    };
    let target = aws::discover(&control, &cli.stack_name, &overrides).await?;
    eprintln!(
        "reading {} into {} (batch size {}, window {} s, retries {}, bisect {})",
        target.stream_name,
        target.table_name,
        target.settings.batch_size,
        target.settings.batching_window.as_secs(),
        target
            .settings
            .max_retries
            .map_or("unlimited".to_owned(), |n| n.to_string()),
        target.settings.bisect_on_error
    );
    // The processor retries within its deadline itself, so its SDK makes one attempt.
    let sinks = aws::sdk_config(
        cli.sink_endpoint_url.as_deref().or(Some(&cli.endpoint_url)),
        region,
        1,
    )
    .await;
    let processor = Processor {
        handler: Handler {
            table: DynamoTable::new(
                aws_sdk_dynamodb::Client::new(&sinks),
                target.table_name.clone(),
            ),
            queue: SqsQueue::new(aws_sdk_sqs::Client::new(&sinks), target.dlq_url.clone()),
            function_name: target.function_name.clone(),
            concurrency: 8,
            backoff: Backoff::default(),
        },
        source: EventSource {
            stream_arn: target.stream_arn.clone(),
            region: control
                .region()
                .map_or("us-east-1".to_owned(), |r| r.to_string()),
            role_arn: target.role_arn.clone(),
        },
        timeout: target.timeout,
        totals: RefCell::default(),
    };
    let mut reader = StreamReader::new(
        aws_sdk_kinesis::Client::new(&control),
        target.stream_name.clone(),
    );
    let pacing = Pacing {
        idle_exit: Duration::from_secs_f64(cli.idle_exit),
        poll_interval: Duration::from_millis(250),
        retry_pause: Duration::from_millis(200),
    };
    let summary = match &target.on_failure_url {
        Some(url) => {
            drive(
                &target,
                &mut reader,
                &processor,
                &QueueDestination::new(&control, url.clone()),
                pacing,
            )
            .await?
        }
        None => drive(&target, &mut reader, &processor, &NoDestination, pacing).await?,
    };
    let totals = processor.totals.borrow();
    eprintln!(
        "processor reported: {} records in, {} stored, {} not stored (dead-lettered, or failed and retried)",
        totals.batch_size, totals.processed, totals.failed
    );
    Ok(summary)
}

async fn drive<D: local_runner::mapping::Destination>(
    target: &Target,
    reader: &mut StreamReader,
    processor: &Processor<DynamoTable, SqsQueue>,
    destination: &D,
    pacing: Pacing,
) -> anyhow::Result<Summary> {
    let mut last_report = Instant::now();
    let wiring = Wiring {
        reader,
        settings: &target.settings,
        function: processor,
        destination,
        context: Context {
            function_arn: &target.function_arn,
            stream_arn: &target.stream_arn,
            now_ms: &function::now_ms,
            retry_pause: pacing.retry_pause,
        },
    };
    let summary = runner::run(wiring, pacing, &mut |summary| {
        if last_report.elapsed() >= Duration::from_secs(5) {
            last_report = Instant::now();
            eprintln!(
                "read {} records, {} invocations so far",
                summary.records, summary.counts.invocations
            );
        }
    })
    .await?;
    Ok(summary)
}
