//! `redrive`: processes the pipeline's dead letters and on-failure records again.
//!
//! Exit status: 0 everything read was handled (stored, dead-lettered again, or skipped as
//! asked), 1 some records expired or failed (or AWS could not be reached), 2 bad arguments.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use aws_edge::args;
use clap::Parser;

use aws_edge::config::sdk_config;
use redrive::run::{Options, Summary};
use redrive::{stack, Mode};

/// The crate's version and the git commit it was built from (build.rs).
const VERSION: &str = aws_edge::version!();

/// Process the pipeline's dead-lettered records again, after a fix, with their original
/// identity.
///
/// Reads the stack's dead-letter queue, then its failure archive (when the stack has
/// FailureBucketName). A processor dead letter carries its record's bytes (or, when it was
/// too large, a claim check naming the S3 object that holds them, or only its place in the
/// stream); an event source mapping's on-failure record names a shard's sequence range,
/// whose records are read back from the stream (those past the stream's retention are
/// reported as expired); an on-failure object of the archive carries the batch's records in
/// its payload. Each record is processed again under its first Kinesis eventID and arrival
/// time, so it gets the item key a first successful attempt would have given it: redriving
/// twice never stores an event twice. A message is deleted, and an object tagged
/// redrive=handled, only when all its records are stored or dead-lettered again; a record
/// still invalid becomes one new dead letter that counts its redrives, and later runs skip
/// it (--max-redrives). Progress goes to stderr, the summary to stdout.
#[derive(Debug, Parser)]
#[command(name = "redrive", version = VERSION, about, after_help = AFTER_HELP)]
struct Cli {
    /// The pipeline's CloudFormation stack.
    #[arg(long, value_name = "NAME", value_parser = args::stack_name)]
    stack_name: String,

    /// Endpoint URL instead of AWS's, e.g. a local moto server.
    #[arg(long, value_name = "URL", value_parser = args::endpoint_url)]
    endpoint_url: Option<String>,

    /// AWS region (default: AWS_REGION or the profile's, else us-east-1).
    #[arg(long, value_parser = args::region)]
    region: Option<String>,

    /// Change nothing: count the messages and archive objects by kind and error type, leave
    /// every message visible and tag no object.
    #[arg(long)]
    dry_run: bool,

    /// Only messages and archive objects of this error type (a dead letter's errorType, e.g.
    /// InvalidJson, or an on-failure record's or object's condition, e.g.
    /// RetryAttemptsExhausted); repeatable.
    #[arg(long = "error-type", value_name = "TYPE")]
    error_types: Vec<String>,

    /// Stop after this many queue messages and archive objects (the queue's first).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    limit: Option<u64>,

    /// Run the processor in this process with your credentials instead of invoking the
    /// deployed function (for moto, or to try a fix before deploying it).
    #[arg(long)]
    local: bool,

    /// Skip dead letters already redriven this many times and rejected again.
    #[arg(long, value_name = "N", default_value_t = 1)]
    max_redrives: u32,

    /// Records per invocation.
    #[arg(long, value_name = "N", default_value_t = 100, value_parser = clap::value_parser!(u16).range(1..=10_000))]
    batch_size: u16,
}

const AFTER_HELP: &str = "Examples:
  redrive --stack-name retail-events-dev --dry-run
  redrive --stack-name retail-events-dev --error-type InvalidJson --limit 100
  redrive --stack-name demo --endpoint-url http://127.0.0.1:5000 --local

The last stdout line is
  redrive: read=N stored=N dead_lettered_again=N expired=N skipped=N failed=N archive_objects=N
counted in records (an on-failure message stands for its batch's records, an archive object
for its payload's); archive_objects counts the failure archive's objects read.

Exit status: 0 everything read was handled, 1 some records expired or failed, 2 bad arguments.";

fn main() -> ExitCode {
    let cli = Cli::parse();
    aws_edge::run(async {
        let stack_name = cli.stack_name.clone();
        match start(cli).await {
            Ok((summary, has_aggregates)) => {
                report(&summary);
                if let Some(note) = summary
                    .touched
                    .note("redriven", &stack_name, has_aggregates)
                {
                    eprintln!("{note}");
                }
                println!("{summary}");
                if summary.all_handled() {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::FAILURE
                }
            }
            Err(err) => {
                eprintln!("error: {err}");
                ExitCode::FAILURE
            }
        }
    })
}

/// Runs the redrive; also whether the stack has an aggregate table.
async fn start(cli: Cli) -> anyhow::Result<(Summary, bool)> {
    let config = sdk_config(cli.endpoint_url.as_deref(), cli.region.as_deref(), 3).await;
    let wiring = stack::wiring(&config, &cli.stack_name).await?;
    let options = Options {
        dry_run: cli.dry_run,
        error_types: cli.error_types.clone(),
        limit: cli.limit,
        max_redrives: cli.max_redrives,
        batch_size: usize::from(cli.batch_size),
        ..Options::default()
    };
    let mode = if cli.local {
        Mode::Local
    } else {
        Mode::Deployed
    };
    eprintln!(
        "redrive{}: {}{} → {} ({})",
        if cli.dry_run { " (dry run)" } else { "" },
        wiring.queue_url,
        wiring
            .failure_bucket
            .as_deref()
            .map_or(String::new(), |b| format!(
                " and s3://{b}/{}",
                contract::archive::ON_FAILURE_PREFIX
            )),
        match mode {
            Mode::Local => format!(
                "the processor in this process, table {}",
                wiring.target.processor.table_name
            ),
            Mode::Deployed => format!("function {}", wiring.target.function_name),
        },
        wiring.target.stream_name
    );
    let mut progress = Progress::new();
    let summary = redrive::redrive_on(&config, &wiring, &options, mode, &mut |s| progress.show(s))
        .await
        .map_err(anyhow::Error::msg)?;
    progress.finish();
    Ok((summary, wiring.aggregate_table.is_some()))
}

/// A line rewritten in place on a terminal; a plain line every few seconds otherwise.
struct Progress {
    terminal: bool,
    last: Instant,
}

impl Progress {
    fn new() -> Progress {
        Progress {
            terminal: std::io::stderr().is_terminal(),
            last: Instant::now(),
        }
    }

    fn show(&mut self, summary: &Summary) {
        let mut err = std::io::stderr();
        if self.terminal {
            let _ = write!(err, "\r{summary}  ");
            let _ = err.flush();
        } else if self.last.elapsed() >= Duration::from_secs(5) {
            self.last = Instant::now();
            let _ = writeln!(err, "{summary}");
        }
    }

    fn finish(&self) {
        if self.terminal {
            eprintln!();
        }
    }
}

/// The breakdown and problems on stderr (the caller prints the summary line, last on
/// stdout).
fn report(summary: &Summary) {
    let join = |counts: &std::collections::BTreeMap<String, u64>| {
        counts
            .iter()
            .map(|(k, n)| format!("{k}={n}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    eprintln!("messages by kind: {}", join(&summary.by_kind));
    eprintln!(
        "messages and objects by error type: {}",
        join(&summary.by_error_type)
    );
    eprintln!(
        "messages deleted: {}, left in the queue: {}",
        summary.deleted, summary.left
    );
    if summary.archive_objects > 0 || summary.already_handled > 0 {
        eprintln!(
            "failure archive: {} object(s) read, {} tagged handled, {} already handled",
            summary.archive_objects, summary.tagged, summary.already_handled
        );
    }
    if summary.claim_checks_tagged > 0 {
        eprintln!(
            "claim checks tagged handled: {}",
            summary.claim_checks_tagged
        );
    }
    if summary.planned > 0 {
        eprintln!(
            "dry run: {} records would be processed again; nothing was changed",
            summary.planned
        );
    }
    for problem in &summary.problems {
        eprintln!("  {problem}");
    }
    if let Some(stopped) = &summary.stopped {
        eprintln!("redrive {stopped}");
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

    #[test]
    fn bad_arguments_are_refused_by_name() {
        let err =
            Cli::try_parse_from(["redrive", "--stack-name", "s", "--limit", "0"]).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("--limit"), "{err}");
        assert!(Cli::try_parse_from(["redrive"]).is_err());
        for (flag, value) in [
            ("--region", "not a region"),
            ("--endpoint-url", "127.0.0.1:5000"),
            ("--stack-name", "not a stack"),
        ] {
            let mut argv = vec!["redrive", flag, value];
            if flag != "--stack-name" {
                argv.extend(["--stack-name", "s"]);
            }
            let err = Cli::try_parse_from(argv).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{flag}");
            assert!(err.to_string().contains(flag), "{err}");
        }
        let ok = Cli::try_parse_from([
            "redrive",
            "--stack-name",
            "s",
            "--error-type",
            "A",
            "--error-type",
            "B",
        ])
        .unwrap();
        assert_eq!(ok.error_types, ["A", "B"]);
    }
}
