//! `backfill`: the write-sharded index keys added to the items stored before
//! `dynamodb_index_write_shards` changed (see the crate's docs and docs/backfill.md).
//!
//! Exit status: 0 done, 1 an AWS call failed, updates were refused or the shard count
//! changed during the run, 2 bad arguments (or a checkpoint of another table).

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use backfill::cli::Cli;

fn main() -> ExitCode {
    let options = Cli::parse().options();
    aws_edge::run(async move {
        let progress = backfill::progress::for_stderr();
        match backfill::run(&options, progress.as_ref()).await {
            Ok(report) => {
                for line in report.warnings() {
                    eprintln!("{line}");
                }
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{}", report.summary());
                let _ = out.flush();
                ExitCode::from(report.exit_code())
            }
            Err(err) => {
                progress.finish();
                eprintln!("error: {err}");
                ExitCode::from(err.exit_code())
            }
        }
    })
}
