//! `verify`: checks a deployed pipeline end to end (see the crate's docs and
//! docs/verify.md).
//!
//! Exit status: 0 every check held, 1 a check failed or an AWS call failed, 2 bad
//! arguments.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;

use verify::batch::{Plan, RunId};
use verify::check::{self, Status};
use verify::cli::{Args, Cli};
use verify::report::Report;
use verify::stack::Stack;

fn main() -> ExitCode {
    let args = match Cli::parse().args() {
        Ok(args) => args,
        Err(err) => err.exit(),
    };
    aws_edge::run(async {
        match run(args).await {
            Ok(report) => {
                for line in report.lines() {
                    println!("{line}");
                }
                ExitCode::from(report.exit_code())
            }
            Err(err) => {
                eprintln!("error: {err}");
                ExitCode::FAILURE
            }
        }
    })
}

async fn run(args: Args) -> Result<Report, verify::Error> {
    let config =
        aws_edge::config::sdk_config(args.endpoint_url.as_deref(), args.region.as_deref(), 3).await;
    let stack = Stack::describe(&config, &args.stack_name).await?;
    println!(
        "verify: stack {}: stream {}, table {}, queue {}, log group {}",
        stack.name, stack.stream_name, stack.table_name, stack.queue_url, stack.log_group
    );
    let plan = Plan {
        run_id: RunId::new(verify::now_ms()),
        count: args.count,
        invalid: args.invalid,
    };
    let endpoint = args.endpoint_url.as_deref().unwrap_or("AWS");
    let sent = verify::send::send(&config, &stack, &plan, endpoint).await?;
    println!(
        "verify: run {}: sent {} events ({} valid, {} invalid) to stream {} as userId {}",
        sent.run_id,
        sent.records.len(),
        sent.valid().count(),
        sent.invalid().count(),
        sent.stream_name,
        sent.run_id.marker()
    );
    let mut last: Option<(Status, Instant)> = None;
    let mut progress = |status: &Status| {
        // A line when something arrived, else every 10 s: alive, not chatty.
        let due = last.is_none_or(|(before, at)| {
            (before.stored, before.dead_lettered) != (status.stored, status.dead_lettered)
                || at.elapsed() >= Duration::from_secs(10)
        });
        if due {
            eprintln!("{status}");
            last = Some((*status, Instant::now()));
        }
    };
    check::wait(&config, &stack, &sent, args.wait, &mut progress).await
}
