//! `query`: the pipeline's events by event type or product over a time window, or the
//! per-minute figures with `query aggregates` (see the crate's docs and docs/query.md).
//!
//! Exit status: 0 the query ran, 1 an AWS call failed, 2 bad arguments (and, for
//! `query aggregates --rebuild`, a range still open).

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use query::aggregate::cli::AggregatesArgs;
use query::cli::{Cli, Command};
use query::output::{self, Format};

fn main() -> ExitCode {
    let mut cli = Cli::parse();
    if let Some(Command::Aggregates(sub)) = cli.command.take() {
        let args = match sub.args() {
            Ok(args) => args,
            Err(err) => err.exit(),
        };
        return aws_edge::run(aggregates(args));
    }
    let args = match cli.args() {
        Ok(args) => args,
        Err(err) => err.exit(),
    };
    aws_edge::run(async move {
        match query::run(&args).await {
            Ok(answer) => {
                print(&answer.items, args.format);
                eprintln!("{}", answer.summary());
                ExitCode::SUCCESS
            }
            Err(err) => {
                eprintln!("error: {err}");
                ExitCode::FAILURE
            }
        }
    })
}

/// `query aggregates`, with or without `--rebuild`.
async fn aggregates(args: AggregatesArgs) -> ExitCode {
    let result = match args.rebuild {
        Some(options) => query::aggregate::rebuild(&args, options)
            .await
            .map(|rebuilt| {
                if rebuilt.dry_run {
                    write_lines(query::aggregate::rebuild::describe(&rebuilt.plan));
                }
                if rebuilt.unreadable > 0 {
                    eprintln!(
                        "rebuild: {} item(s) of the range lack eventTimestamp, eventType or \
                         userId and were not counted",
                        rebuilt.unreadable
                    );
                }
                eprintln!(
                    "rebuild: scanned {} item(s) of the event table",
                    rebuilt.scanned
                );
                eprintln!("{}", rebuilt.summary());
            }),
        None => query::aggregate::show(&args).await.map(|shown| {
            write_lines(shown.lines(&args));
            if let Some(note) = args
                .product
                .as_deref()
                .and_then(|p| query::aggregate::render::incomplete_note(&shown.buckets, p))
            {
                eprintln!("{note}");
            }
            eprintln!("{}", shown.summary());
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::from(err.exit_code())
        }
    }
}

/// Writes the items to stdout; a closed pipe (`| head`) ends the output quietly.
fn print(items: &[query::merge::Item], format: Format) {
    match format {
        Format::Json => write_lines(items.iter().map(|i| output::to_json(i).to_string())),
        Format::Text => write_lines(output::table(items)),
    }
}

/// Writes lines to stdout; a closed pipe ends the output quietly.
fn write_lines(lines: impl IntoIterator<Item = String>) {
    let mut out = std::io::stdout().lock();
    for line in lines {
        if writeln!(out, "{line}").is_err() {
            return;
        }
    }
    let _ = out.flush();
}
