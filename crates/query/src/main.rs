//! `query`: the pipeline's events by event type or product over a time window (see the
//! crate's docs and docs/query.md).
//!
//! Exit status: 0 the query ran, 1 an AWS call failed, 2 bad arguments.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use query::cli::Cli;
use query::output::{self, Format};

fn main() -> ExitCode {
    let args = match Cli::parse().args() {
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

/// Writes the items to stdout; a closed pipe (`| head`) ends the output quietly.
fn print(items: &[query::merge::Item], format: Format) {
    let lines: Box<dyn Iterator<Item = String>> = match format {
        Format::Json => Box::new(items.iter().map(|i| output::to_json(i).to_string())),
        Format::Text => Box::new(output::table(items).into_iter()),
    };
    let mut out = std::io::stdout().lock();
    for line in lines {
        if writeln!(out, "{line}").is_err() {
            return;
        }
    }
    let _ = out.flush();
}
