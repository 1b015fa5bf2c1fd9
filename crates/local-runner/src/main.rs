//! `local-runner`: plays Lambda's Kinesis event source mapping against a local endpoint.
//!
//! Exit status: 0 the stream was drained and every batch handled or skipped as the mapping
//! says, 1 an AWS call failed or a service stopped answering (one `error:` line on stderr
//! says which and what to check; also when a tumbling window's final invocation failed 10
//! times), 2 bad arguments. `--fail-invocation N` and `--redeliver-invocation N` inject
//! faults for tests (see `--help`).

use std::cell::RefCell;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_edge::args;
use aws_edge::config::{bounded_config, RUNNER_BOUNDS};
use aws_edge::health::{Health, Service, Watch, SILENCE_LIMIT};
use clap::Parser;
use kinesis_codec::record::EventSource;
use kinesis_codec::time::now_ms;
use local_runner::clients;
use local_runner::destination::{self, OnFailureDestination};
use local_runner::discovery::{self, Overrides, Target};
use local_runner::function::Processor;
use local_runner::mapping::{Context, Faults, Function};
use local_runner::metrics::{Published, Publisher};
use local_runner::runner::{self, Activity, Pacing, Summary, Wiring};
use local_runner::shards::StreamReader;
use processor::handler::{Handler, SinkClients};

/// The crate's version and the git commit it was built from (build.rs).
const VERSION: &str = aws_edge::version!();

/// Play Lambda's Kinesis event source mapping locally, calling the processor in-process.
///
/// Finds the stream, table, queue, the function's environment and timeout and the
/// mapping's settings from the stack; reads every shard from TRIM_HORIZON, or from the
/// mapping's AT_TIMESTAMP (children after their parents; an enhanced fan-out mapping's
/// stream with GetRecords, as moto has no SubscribeToShard); drops the records none of the
/// mapping's FilterCriteria patterns matches, uninvoked, and counts them as filtered; builds
/// events in Lambda's Kinesis format and applies batch size, batching window,
/// ReportBatchItemFailures, BisectBatchOnFunctionError, MaximumRetryAttempts,
/// MaximumRecordAgeInSeconds, TumblingWindowInSeconds and the on-failure destination. Exits
/// after --idle-exit seconds without new records and prints a summary line on stdout;
/// says how it is going on stderr every 5 s. When the stream, the table or a queue stops
/// answering for 10 s it stops with one line naming it (exit 1), whatever the function's
/// timeout.
#[derive(Debug, Parser)]
#[command(name = "local-runner", version = VERSION, about, after_help = AFTER_HELP)]
struct Cli {
    /// Endpoint of the local AWS (moto), e.g. http://127.0.0.1:5000.
    #[arg(long, value_name = "URL", value_parser = args::endpoint_url)]
    endpoint_url: String,

    /// The CloudFormation stack created from the synthesized template.
    #[arg(long, value_name = "NAME", value_parser = args::stack_name)]
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
    #[arg(long, value_name = "URL", value_parser = args::endpoint_url)]
    sink_endpoint_url: Option<String>,

    /// AWS region (default: AWS_REGION or the profile's, else us-east-1).
    #[arg(long, value_parser = args::region)]
    region: Option<String>,

    /// For tests: the N-th invocation of the run (from 1, retries, redeliveries and window
    /// finals included) runs the function, whose writes happen, and is then taken as a
    /// function error: its batch is retried with the window's state from before.
    /// Repeatable.
    #[arg(long, value_name = "N", value_parser = invocation_number)]
    fail_invocation: Vec<usize>,

    /// For tests: after the N-th invocation succeeds, its records are delivered once more
    /// with the state it returned (Lambda's "in rare cases processed more than once").
    /// Repeatable.
    #[arg(long, value_name = "N", value_parser = invocation_number)]
    redeliver_invocation: Vec<usize>,
}

const AFTER_HELP: &str = "Example (after `make local` has created the stack on moto):
  local-runner --endpoint-url http://127.0.0.1:5000 --stack-name retail-events-local --idle-exit 5

Progress goes to stderr every 5 s; the summary line to stdout. When the stream, the table or
a queue stops answering (connections time out after 2 s, calls after 10 s), the runner stops
within 30 s with one line naming the service, the endpoint and what to check.

Tumbling windows: when the mapping has TumblingWindowInSeconds (1 to 900), records are
grouped per shard into epoch-aligned windows by their arrival time (a batch never mixes two),
each invocation carries the window and the state the shard's previous invocation in it
returned (a function error retries with the state from before), a state over 1 MB ends the
window early (a final invocation with isWindowTerminatedEarly, then a fresh state), and each
window ends with a final invocation without records (isFinalInvokeForWindow): when the
shard's next record is in a later window, when the shard ends, when the shard has been quiet
for 2 s past the window's end, and before exiting. A final invocation is retried until it
succeeds; after 10 failures the runner stops (exit 1) naming the shard and the window.

Fault injection, for tests: --fail-invocation N and --redeliver-invocation N (each
repeatable) number the run's invocations from 1, plain and window ones alike. The summary
line ends, after elapsed=, with forced_errors=, redeliveries=, window_finals= (windows closed
by their final invocation) and windows_terminated_early=.

Exit status: 0 the stream was drained, 1 an AWS call failed, a service stopped answering or a
window's final invocation kept failing, 2 bad arguments.";

fn invocation_number(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("must be an invocation number from 1, got {text:?}")),
    }
}

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
    aws_edge::run(async {
        match run(cli).await {
            Ok(summary) => {
                println!("{summary}");
                ExitCode::SUCCESS
            }
            Err(err) => {
                eprintln!("error: {err}");
                ExitCode::FAILURE
            }
        }
    })
}

async fn run(cli: Cli) -> anyhow::Result<Summary> {
    let region = cli.region.as_deref();
    let control = bounded_config(Some(&cli.endpoint_url), region, 3, RUNNER_BOUNDS).await;
    let overrides = Overrides {
        stream: cli.stream.clone(),
        table: cli.table.clone(),
        dlq_url: cli.dlq_url.clone(),
    };
    let mut target = discovery::discover(&control, &cli.stack_name, &overrides).await?;
    target.settings.faults = Faults {
        fail_invocations: cli.fail_invocation.iter().copied().collect(),
        redeliver_invocations: cli.redeliver_invocation.iter().copied().collect(),
    };
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
    for note in target.notes() {
        eprintln!("{note}");
    }
    if !cli.fail_invocation.is_empty() || !cli.redeliver_invocation.is_empty() {
        eprintln!(
            "injecting faults: invocations {:?} taken as function errors, invocations {:?} \
             delivered once more",
            target.settings.faults.fail_invocations, target.settings.faults.redeliver_invocations
        );
    }
    let sink_endpoint = cli
        .sink_endpoint_url
        .as_deref()
        .unwrap_or(&cli.endpoint_url);
    let health = Arc::new(
        Health::new(SILENCE_LIMIT)
            .name(
                Service::Stream,
                format!("Kinesis stream {}", target.stream_name),
                &cli.endpoint_url,
            )
            .name(
                Service::Table,
                format!("DynamoDB table {}", target.table_name),
                sink_endpoint,
            )
            .name(Service::Queue, "SQS dead-letter queue", sink_endpoint)
            .name(
                Service::Destination,
                destination::choose(&target).describe(),
                &cli.endpoint_url,
            ),
    );
    let watch = |service| Watch::new(health.clone(), service);
    // The processor retries within its deadline itself, so its SDK makes one attempt.
    let sinks = bounded_config(Some(sink_endpoint), region, 1, RUNNER_BOUNDS).await;
    let source = EventSource {
        stream_arn: target.stream_arn.clone(),
        region: control
            .region()
            .map_or("us-east-1".to_owned(), |r| r.to_string()),
        role_arn: target.role_arn.clone(),
    };
    let processor = Processor {
        handler: Handler::on_aws(
            &target.processor,
            SinkClients {
                dynamodb: clients::dynamodb(&sinks, watch(Service::Table)),
                sqs: clients::sqs(&sinks, watch(Service::Queue)),
                s3: reprocess::objects::s3_client(&sinks),
            },
        ),
        source: source.clone(),
        timeout: target.timeout,
        totals: RefCell::default(),
    };
    let mut reader = StreamReader::new(
        clients::kinesis(&control, watch(Service::Stream)),
        target.stream_name.clone(),
    );
    let pacing = Pacing {
        idle_exit: Duration::from_secs_f64(cli.idle_exit),
        poll_interval: Duration::from_millis(250),
        retry_pause: Duration::from_millis(200),
    };
    let destination = OnFailureDestination::with_clients(
        &target,
        clients::sqs(&control, watch(Service::Destination)),
        clients::s3(&control, watch(Service::Destination)),
        source,
    );
    let publisher = Publisher::new(&control, &cli.endpoint_url, &target.function_name);
    let function = Published {
        function: &processor,
        publisher: &publisher,
    };
    let deleted = Arc::new(AtomicBool::new(false));
    let watcher = tokio::spawn(watch_mapping(
        control.clone(),
        target.mapping_uuid.clone(),
        deleted.clone(),
    ));
    let stop = || deleted.load(Ordering::Relaxed);
    let summary = drive(
        &target,
        &mut reader,
        &function,
        &destination,
        &health,
        pacing,
        &stop,
    )
    .await;
    watcher.abort();
    let summary = summary?;
    if stop() {
        eprintln!(
            "event source mapping {} was deleted: stopped reading, as Lambda stops a deleted \
             mapping (records not yet delivered are left to the next reader)",
            target.mapping_uuid
        );
    }
    let totals = processor.totals.borrow();
    eprintln!(
        "processor reported: {} records in, {} stored, {} not stored (dead-lettered, or failed and retried)",
        totals.batch_size, totals.processed, totals.failed
    );
    Ok(summary)
}

/// How often a progress line is printed.
const PROGRESS_EVERY: Duration = Duration::from_secs(5);

/// How often the runner asks whether its mapping still exists.
const MAPPING_CHECK_EVERY: Duration = Duration::from_secs(2);

/// Sets `deleted` once mapping `uuid` no longer exists (GetEventSourceMapping: not found).
/// A check that fails otherwise is tried again: the health watch speaks for the services.
async fn watch_mapping(config: aws_config::SdkConfig, uuid: String, deleted: Arc<AtomicBool>) {
    loop {
        tokio::time::sleep(MAPPING_CHECK_EVERY).await;
        if let Ok(true) = deployed_stack::mapping::is_deleted(&config, &uuid).await {
            deleted.store(true, Ordering::Relaxed);
            return;
        }
    }
}

async fn drive<F: Function, D: local_runner::mapping::Destination>(
    target: &Target,
    reader: &mut StreamReader,
    function: &F,
    destination: &D,
    health: &Health,
    pacing: Pacing,
    stop: &dyn Fn() -> bool,
) -> anyhow::Result<Summary> {
    let mut last_report = Instant::now();
    let wiring = Wiring {
        reader,
        settings: &target.settings,
        function,
        destination,
        context: Context {
            function_arn: &target.function_arn,
            stream_arn: &target.stream_arn,
            now_ms: &now_ms,
            retry_pause: pacing.retry_pause,
        },
    };
    let summary = runner::run_until(wiring, pacing, health, stop, &mut |summary, activity| {
        if last_report.elapsed() < PROGRESS_EVERY {
            return;
        }
        last_report = Instant::now();
        eprintln!("{}", progress_line(summary, activity, pacing.idle_exit));
    })
    .await?;
    Ok(summary)
}

/// A progress line: what has been read and done, and what the runner is doing now.
fn progress_line(summary: &Summary, activity: Activity<'_>, idle_exit: Duration) -> String {
    let done = format!(
        "read {} records from {} shards, {} invocations ({} function errors) in {:.0} s",
        summary.records,
        summary.shards,
        summary.counts.invocations,
        summary.counts.function_errors,
        summary.elapsed.as_secs_f64()
    );
    match activity {
        Activity::Delivered => done,
        Activity::Waiting { quiet } => format!(
            "{done}; no new records for {:.0} s (stopping after {:.0} s)",
            quiet.as_secs_f64(),
            idle_exit.as_secs_f64()
        ),
        Activity::Invoking {
            shard,
            records,
            busy,
        } => format!(
            "{done}; delivering {records} records of {shard} for {:.0} s",
            busy.as_secs_f64()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_names_the_commit_it_was_built_from() {
        use clap::CommandFactory;
        let version = Cli::command().render_version();
        assert!(version.contains(" (commit "), "{version}");
    }

    /// Bad arguments are refused by clap, naming the flag, with exit status 2, before any
    /// AWS call.
    #[test]
    fn bad_arguments_are_exit_2_naming_the_flag() {
        let base = [
            "local-runner",
            "--stack-name",
            "s",
            "--endpoint-url",
            "http://127.0.0.1:5000",
        ];
        assert!(Cli::try_parse_from(base).is_ok());
        for (flag, value) in [
            ("--region", "not a region"),
            ("--endpoint-url", "127.0.0.1:5000"),
            ("--sink-endpoint-url", "localhost"),
            ("--stack-name", "not a stack"),
            ("--idle-exit", "0"),
            ("--fail-invocation", "0"),
            ("--redeliver-invocation", "x"),
        ] {
            let mut argv = base.to_vec();
            argv.extend([flag, value]);
            let err = Cli::try_parse_from(argv).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{flag}");
            assert!(err.to_string().contains(flag), "{err}");
        }
    }

    #[test]
    fn fault_flags_repeat() {
        let cli = Cli::try_parse_from([
            "local-runner",
            "--stack-name",
            "s",
            "--endpoint-url",
            "http://127.0.0.1:5000",
            "--fail-invocation",
            "3",
            "--fail-invocation",
            "7",
            "--redeliver-invocation",
            "2",
        ])
        .unwrap();
        assert_eq!(cli.fail_invocation, [3, 7]);
        assert_eq!(cli.redeliver_invocation, [2]);
    }
}
