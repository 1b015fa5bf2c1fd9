//! `producer`: puts realistic retail events on the pipeline's Kinesis stream.
//!
//! Exit status: 0 every record is in the stream, 1 some were not (or the stream could not be
//! reached), 2 bad arguments, 130 / 143 stopped by SIGINT / SIGTERM. Whatever the ending, the
//! last line on stdout is the summary.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_edge::args;
use clap::Parser;

use producer::kinesis::{Endpoint, Stream};
use producer::progress;
use producer::run::{self, Input, Options, Packing, StopHandle, Summary};
use producer::schedule::Schedule;
use producer::send::{RetryPolicy, MAX_BATCH_RECORDS};
use producer::source::{Generated, Lines};

/// The crate's version and the git commit it was built from (build.rs).
const VERSION: &str = aws_edge::version!();

/// Put realistic retail events on a Kinesis stream (the recipe's test_data_producer).
///
/// Sends COUNT events DELAY seconds apart, or a burst for --duration seconds, or the lines
/// of a JSON-lines file. Events come from 100 users with profiles, event types weighted
/// view 60 / add_to_cart 20 / purchase 10 / wishlist 5 / share 3 / review 2, the product
/// catalogue and 30-minute sessions; the partition key is the userId. Progress goes to
/// stderr, the final summary line to stdout.
#[derive(Debug, Parser)]
#[command(name = "producer", version = VERSION, about, after_help = AFTER_HELP)]
struct Cli {
    /// Name of the Kinesis stream (the stack's StreamName output).
    stream: String,

    /// Number of events to send.
    #[arg(default_value_t = 100, value_parser = clap::value_parser!(u64))]
    count: u64,

    /// Seconds between events (fractions allowed; 0 sends as fast as possible).
    #[arg(value_parser = seconds, conflicts_with = "rate")]
    delay: Option<f64>,

    /// Send events back to back for --duration seconds instead of COUNT events.
    #[arg(long, conflicts_with_all = ["rate", "from_file"])]
    burst: bool,

    /// How long a --burst lasts, in seconds.
    #[arg(long, value_name = "SECS", default_value = "30", value_parser = positive_seconds, requires = "burst")]
    duration: f64,

    /// Events per second (instead of DELAY).
    #[arg(long, value_name = "N", value_parser = positive_rate)]
    rate: Option<f64>,

    /// Kinesis records per PutRecords call at most; events due at the same time share a
    /// call (Kinesis allows 500 records and 5 MiB per call).
    #[arg(long, value_name = "N", default_value_t = MAX_BATCH_RECORDS, value_parser = batch_size)]
    batch: usize,

    /// Share of deliberately invalid records, 0 to 1: not JSON, a missing userId, a
    /// timestamp of the wrong type, an event over DynamoDB's 400 KB item limit.
    #[arg(long, value_name = "RATIO", default_value = "0", value_parser = ratio)]
    invalid_ratio: f64,

    /// Seed of the generator: the same seed and --start-time give the same events.
    #[arg(long, value_name = "N")]
    seed: Option<u64>,

    /// Epoch milliseconds of the first event's clock (default: now). With --seed, makes a
    /// run's records reproducible byte for byte.
    #[arg(long, value_name = "EPOCH_MS")]
    start_time: Option<i64>,

    /// Send each non-empty line of FILE (JSON lines) as one record instead of generated
    /// events; the partition key is the line's userId. Paced by DELAY or --rate when given,
    /// else as fast as possible.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["seed", "invalid_ratio", "start_time"])]
    from_file: Option<PathBuf>,

    /// Send each event as its own Kinesis record. By default the events of one user that
    /// are waiting together (a burst, a backlog) travel as one KPL aggregate of up to 50 KiB,
    /// which the processor unpacks; a user's lone event is sent as it is.
    #[arg(long)]
    no_aggregate: bool,

    /// Retries of a record Kinesis did not accept before it counts as failed.
    #[arg(long, value_name = "N", default_value_t = 10)]
    max_retries: u32,

    /// Endpoint URL instead of AWS's, e.g. a local moto server (also AWS_ENDPOINT_URL).
    #[arg(long, value_name = "URL", value_parser = args::endpoint_url)]
    endpoint_url: Option<String>,

    /// AWS region (default: AWS_REGION or the profile's, else us-east-1).
    #[arg(long, value_parser = args::region)]
    region: Option<String>,
}

const AFTER_HELP: &str = "Examples:
  producer retail-events-dev-events                      100 events, 0.1 s apart
  producer retail-events-dev-events 1000 0               1000 events as fast as possible
  producer retail-events-dev-events --burst --duration 10
  producer retail-events-dev-events 5000 --rate 500 --invalid-ratio 0.1 --seed 42
  producer retail-events-dev-events --from-file events.jsonl --endpoint-url http://127.0.0.1:5000

Each partition key's records reach the stream in the order produced: a record is sent only
after every earlier record of its key is acknowledged.

The last line on stdout is always the summary, also after an error, SIGINT or SIGTERM:
  summary: sent=N invalid=N retried=N failed=N unsent=N in_doubt=N elapsed=Ss events_per_second=N
sent counts the records Kinesis acknowledged; failed and unsent, records certainly not in the
stream (given up on, or left); in_doubt, records never acknowledged that a call without an
answer carried: the stream holds at least sent and at most sent + in_doubt distinct records.

Exit status: 0 every record sent, 1 some not sent or the stream unreachable, 2 bad arguments,
130 / 143 stopped by SIGINT / SIGTERM.";

fn seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() && (0.0..=3600.0).contains(&v) => Ok(v),
        _ => Err(format!(
            "must be a number of seconds from 0 to 3600, got {text:?}"
        )),
    }
}

fn positive_seconds(text: &str) -> Result<f64, String> {
    match seconds(text) {
        Ok(v) if v > 0.0 => Ok(v),
        _ => Err(format!(
            "must be a number of seconds above 0 and up to 3600, got {text:?}"
        )),
    }
}

fn positive_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v <= 1_000_000.0 => Ok(v),
        _ => Err(format!(
            "must be events per second above 0 and up to 1000000, got {text:?}"
        )),
    }
}

fn batch_size(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(v) if (1..=MAX_BATCH_RECORDS).contains(&v) => Ok(v),
        _ => Err(format!(
            "must be a whole number from 1 to {MAX_BATCH_RECORDS}, got {text:?}"
        )),
    }
}

fn ratio(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if (0.0..=1.0).contains(&v) => Ok(v),
        _ => Err(format!("must be a share from 0 to 1, got {text:?}")),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let input = match input(&cli) {
        Ok(input) => input,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    aws_edge::run(send_all(cli, input))
}

fn input(cli: &Cli) -> Result<Input, String> {
    if let Some(path) = &cli.from_file {
        let file = File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        let reader: Box<dyn BufRead + Send> = Box::new(BufReader::new(file));
        return Ok(Input::File(Lines::new(reader, path.display().to_string())));
    }
    let seed = cli.seed.unwrap_or_else(|| fastrand::u64(..));
    Ok(Input::Generated {
        source: Generated::new(seed, cli.invalid_ratio),
        clock_start_ms: cli.start_time.unwrap_or_else(now_ms),
    })
}

fn schedule(cli: &Cli) -> Schedule {
    if cli.burst {
        return Schedule::burst(Duration::from_secs_f64(cli.duration));
    }
    let interval = match (cli.rate, cli.delay) {
        (Some(rate), _) => Duration::from_secs_f64(1.0 / rate),
        (None, Some(delay)) => Duration::from_secs_f64(delay),
        // A file goes as fast as it can unless paced; generated events keep the recipe's 0.1 s.
        (None, None) if cli.from_file.is_some() => Duration::ZERO,
        (None, None) => Duration::from_millis(100),
    };
    match cli.from_file {
        Some(_) => Schedule {
            interval,
            limit: None,
            until: None,
        },
        None => Schedule::count(cli.count, interval),
    }
}

async fn send_all(cli: Cli, mut input: Input) -> ExitCode {
    let (stops, stop) = run::stop_channel();
    let signal = Arc::new(AtomicI32::new(0));
    tokio::spawn(listen_for_signals(stops, signal.clone()));
    let endpoint = Endpoint {
        url: cli.endpoint_url.clone(),
        region: cli.region.clone(),
    };
    let options = Options {
        schedule: schedule(&cli),
        batch: cli.batch,
        retry: RetryPolicy {
            max_retries: cli.max_retries,
            ..RetryPolicy::default()
        },
    };
    let not_started = Summary {
        unsent: input.planned(&options.schedule).unwrap_or(0),
        ..Summary::default()
    };
    let stream = Stream::connect(&endpoint, &cli.stream).await;
    let checked = {
        let mut stop = stop.clone();
        tokio::select! {
            checked = stream.check() => Some(checked),
            _ = stop.wait() => None,
        }
    };
    match checked {
        None => return finish(&not_started, None, &signal),
        Some(Err(err)) => return finish(&not_started, Some(&err.to_string()), &signal),
        Some(Ok(())) => {}
    }
    let mut progress = progress::for_stderr(options.schedule.total());
    let outcome = run::run_until(
        &stream,
        &mut input,
        options,
        if cli.no_aggregate {
            Packing::Single
        } else {
            Packing::Aggregate
        },
        progress.as_mut(),
        &mut |_, _| {},
        stop,
    )
    .await;
    match outcome {
        Ok(summary) => finish(&summary, None, &signal),
        Err(stopped) => finish(&stopped.summary, Some(&stopped.to_string()), &signal),
    }
}

/// Prints the error (stderr), then the summary as the last line on stdout, and picks the
/// exit status.
fn finish(summary: &Summary, error: Option<&str>, signal: &AtomicI32) -> ExitCode {
    if let Some(error) = error {
        eprintln!("error: {error}");
    }
    println!("{summary}");
    let _ = std::io::stdout().flush();
    match signal.load(Ordering::SeqCst) {
        0 if error.is_none()
            && summary.failed == 0
            && summary.unsent == 0
            && summary.in_doubt == 0 =>
        {
            ExitCode::SUCCESS
        }
        0 => ExitCode::FAILURE,
        signo => ExitCode::from(128 + signo as u8),
    }
}

/// Turns SIGINT and SIGTERM into stop requests: the first lets the call in flight finish,
/// the second stops at once. The first signal's number is kept for the exit status.
async fn listen_for_signals(stops: StopHandle, first: Arc<AtomicI32>) {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut interrupt), Ok(mut terminate)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        eprintln!("warning: cannot listen for SIGINT and SIGTERM; they will end the run without a summary");
        return;
    };
    loop {
        let signo = tokio::select! {
            _ = interrupt.recv() => 2,
            _ = terminate.recv() => 15,
        };
        let again = first
            .compare_exchange(0, signo, Ordering::SeqCst, Ordering::SeqCst)
            .is_err();
        if again {
            eprintln!("stopping now");
        } else {
            eprintln!(
                "stopping: waiting up to {} s for the call in flight (signal again to stop at once)",
                run::STOP_GRACE.as_secs()
            );
        }
        stops.request();
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
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
    fn bad_endpoints_and_regions_are_exit_2_naming_the_flag() {
        assert!(Cli::try_parse_from(["producer", "stream", "--region", "eu-west-1"]).is_ok());
        for (flag, value) in [
            ("--region", "not a region"),
            ("--endpoint-url", "127.0.0.1:5000"),
        ] {
            let err = Cli::try_parse_from(["producer", "stream", flag, value]).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{flag}");
            assert!(err.to_string().contains(flag), "{err}");
        }
    }
}
