//! `replay`: processes the events that arrived in a time range again, with their original
//! identity.
//!
//! Exit status: 0 every record read was handled (stored, dead-lettered, or skipped by
//! --event-type), 1 some were not (or AWS could not be reached, or the stack lacks what was
//! asked for), 2 bad arguments.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use aws_edge::args::StackArgs;
use aws_edge::config::sdk_config;
use clap::{CommandFactory, Parser};
use replay::run::{Options, Summary};
use replay::window::Window;
use replay::{stack, Mode, Source};
use reprocess::batches::Retry;

/// The crate's version and the git commit it was built from (build.rs).
const VERSION: &str = aws_edge::version!();

/// Process the events that arrived in a time range again, with their original identity.
///
/// Reads every record whose arrival time is in [--from, --to) from the stack's event
/// archive (the batches the processor keeps in ArchiveBucketName, for
/// archive_retention_days) or, with --source stream, from what the stream still retains,
/// and processes them again: through the deployed function by default, or with --local
/// through the processor in this process, configured from the function's environment.
/// Each record keeps its Kinesis eventID (with :n for a KPL aggregate's user records) and
/// arrival time, so it lands on the item key its first delivery wrote: replaying a range
/// that is stored changes no key and adds no item (only processedAt and processingLatency
/// change); replaying a range that was lost stores it. Invalid records are dead-lettered
/// again. Progress goes to stderr on a terminal, the summary line last to stdout.
#[derive(Debug, Parser)]
#[command(name = "replay", version = VERSION, about, after_help = AFTER_HELP)]
struct Cli {
    /// The stack, and where to reach AWS.
    #[command(flatten)]
    stack: StackArgs,

    /// The first arrival time replayed: epoch milliseconds or RFC 3339
    /// (2026-11-25T08:00:00Z).
    #[arg(long, value_name = "TIME", value_parser = aws_edge::time::parse)]
    from: i64,

    /// The first arrival time not replayed (the range is [--from, --to)).
    #[arg(long, value_name = "TIME", value_parser = aws_edge::time::parse)]
    to: i64,

    /// Only events of this eventType; repeatable (default: every event).
    #[arg(long = "event-type", value_name = "TYPE")]
    event_types: Vec<String>,

    /// Where the records come from (default: archive when the stack has ArchiveBucketName,
    /// else stream).
    #[arg(long, value_enum)]
    source: Option<Source>,

    /// Change nothing: read the range and count what would be processed.
    #[arg(long)]
    dry_run: bool,

    /// Run the processor in this process with your credentials instead of invoking the
    /// deployed function (for moto, or to try a fix before deploying it).
    #[arg(long)]
    local: bool,

    /// Records per invocation.
    #[arg(long, value_name = "N", default_value_t = 100, value_parser = clap::value_parser!(u16).range(1..=10_000))]
    batch_size: u16,
}

const AFTER_HELP: &str = "Examples:
  replay --stack-name retail-events-prod --from 2026-11-25T08:00:00Z --to 2026-11-25T09:00:00Z --dry-run
  replay --stack-name retail-events-prod --from 2026-11-25T08:00:00Z --to 2026-11-26T08:00:00Z --event-type purchase
  replay --stack-name retail-events-dev --from 1764057600000 --to 1764061200000 --source stream
  replay --stack-name demo --endpoint-url http://127.0.0.1:5000 --from 2026-11-25T00:00:00Z --to 2026-11-26T00:00:00Z --local

The last stdout line is
  replay: read=N stored=N dead_lettered=N skipped=N failed=N
counted in user records (a KPL aggregate counts its user records), each once however many
archive objects hold it; read = stored + dead_lettered + skipped + failed (+ what a dry run
would process). skipped counts the records --event-type left out.

Permissions: the stack's ReplayPolicyArn output (docs/replay.md).
Exit status: 0 everything read was handled, 1 some records failed, 2 bad arguments.";

fn main() -> ExitCode {
    let cli = Cli::parse();
    let window = match Window::new(cli.from, cli.to) {
        Ok(window) => window,
        Err(err) => Cli::command()
            .error(clap::error::ErrorKind::ValueValidation, err)
            .exit(),
    };
    aws_edge::run(async {
        let stack_name = cli.stack.stack_name.clone();
        match start(cli, window).await {
            Ok((summary, has_aggregates)) => {
                report(&summary);
                if let Some(note) = summary
                    .touched
                    .note("replayed", &stack_name, has_aggregates)
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

/// Runs the replay; also whether the stack has an aggregate table.
async fn start(cli: Cli, window: Window) -> anyhow::Result<(Summary, bool)> {
    let aws = &cli.stack.aws;
    let config = sdk_config(aws.endpoint_url.as_deref(), aws.region.as_deref(), 3).await;
    let wiring = stack::wiring(&config, &cli.stack.stack_name).await?;
    let source = replay::choose_source(cli.source, &wiring).map_err(anyhow::Error::msg)?;
    let options = Options {
        event_types: cli.event_types.clone(),
        dry_run: cli.dry_run,
        retry: Retry {
            batch_size: usize::from(cli.batch_size),
            ..Retry::default()
        },
        ..Options::new(window)
    };
    let mode = if cli.local {
        Mode::Local
    } else {
        Mode::Deployed
    };
    eprintln!(
        "replay{}: arrivals from {} to {} from {} → {}",
        if cli.dry_run { " (dry run)" } else { "" },
        aws_edge::time::format(window.from_ms),
        aws_edge::time::format(window.to_ms),
        match (source, &wiring.archive_bucket) {
            (Source::Archive, Some(bucket)) => format!("the event archive s3://{bucket}"),
            _ => format!("stream {}", wiring.target.stream_name),
        },
        match mode {
            Mode::Local => format!(
                "the processor in this process, table {}",
                wiring.target.processor.table_name
            ),
            Mode::Deployed => format!("function {}", wiring.target.function_name),
        },
    );
    if cli.source.is_none() && source == Source::Stream {
        eprintln!(
            "the stack has no event archive: reading the stream, which holds only its \
             retention period"
        );
    }
    let terminal = std::io::stderr().is_terminal();
    let mut show = |summary: &Summary| {
        if terminal {
            let mut err = std::io::stderr();
            let _ = write!(
                err,
                "\r{summary} ({} objects, {} pages)  ",
                summary.objects, summary.pages
            );
            let _ = err.flush();
        }
    };
    let summary = replay::replay_on(&config, &wiring, &options, source, mode, &mut show)
        .await
        .map_err(anyhow::Error::msg)?;
    if terminal {
        eprintln!();
    }
    Ok((summary, wiring.aggregate_table.is_some()))
}

/// What else happened on stderr (the caller prints the summary line, last on stdout).
fn report(summary: &Summary) {
    eprintln!(
        "read {} archive object(s) and {} stream page(s); {} record(s) outside the range, {} \
         met again in overlapping objects (replayed once)",
        summary.objects, summary.pages, summary.outside, summary.duplicates
    );
    if summary.read == 0 {
        eprintln!(
            "no record arrived in the range, or the source no longer holds it (the archive \
             keeps archive_retention_days from when archive_events was turned on, the stream \
             its retention period)"
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

    fn parse(extra: &[&str]) -> Result<Cli, clap::Error> {
        let mut argv = vec!["replay", "--stack-name", "s"];
        argv.extend(extra);
        Cli::try_parse_from(argv)
    }

    #[test]
    fn times_are_epoch_ms_or_rfc_3339_and_flags_repeat() {
        let cli = parse(&[
            "--from",
            "2025-11-24T16:00:00Z",
            "--to",
            "1764003600000",
            "--event-type",
            "purchase",
            "--event-type",
            "view",
            "--source",
            "stream",
            "--local",
            "--dry-run",
        ])
        .unwrap();
        assert_eq!((cli.from, cli.to), (1_764_000_000_000, 1_764_003_600_000));
        assert_eq!(cli.event_types, ["purchase", "view"]);
        assert_eq!(cli.source, Some(Source::Stream));
        assert!(cli.local && cli.dry_run);
        assert_eq!(cli.batch_size, 100);
    }

    #[test]
    fn bad_arguments_are_refused_by_name_with_exit_2() {
        let ok = ["--from", "1764000000000", "--to", "1764003600000"];
        assert!(parse(&ok).is_ok());
        for (flag, value) in [
            ("--from", "1764000000"),
            ("--to", "yesterday"),
            ("--source", "tape"),
            ("--batch-size", "0"),
            ("--region", "moon"),
            ("--endpoint-url", "127.0.0.1:5000"),
        ] {
            let mut argv: Vec<&str> = ok.to_vec();
            argv.extend([flag, value]);
            let err = parse(&argv).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{flag}");
            assert!(err.to_string().contains(flag), "{err}");
        }
        assert_eq!(
            parse(&["--from", "1764000000000"]).unwrap_err().exit_code(),
            2
        );
    }

    #[test]
    fn the_help_explains_with_examples() {
        let help = Cli::command().render_long_help().to_string();
        for needle in [
            "[--from, --to)",
            "replay: read=N stored=N dead_lettered=N skipped=N failed=N",
            "ReplayPolicyArn",
            "--source stream",
            "Exit status",
        ] {
            assert!(help.contains(needle), "{needle} in\n{help}");
        }
    }
}
