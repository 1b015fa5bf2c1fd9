//! `synth changeset-report FILE`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use review::changeset;

/// Render `aws cloudformation describe-change-set` JSON as markdown, with data-loss warnings.
///
/// Prints the change set's name, stack and status, a table of resource changes (action,
/// logical ID, type, replacement, scope, details), and a warning when stateful resources
/// (tables, streams, queues, keys, log groups, buckets) are replaced or removed.
///
/// Exit status: 0 the report was printed, 2 the file cannot be read or is not
/// describe-change-set output.
#[derive(Debug, Args)]
pub struct ChangesetArgs {
    /// The JSON that `aws cloudformation describe-change-set` printed (`-` reads stdin).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

/// Reads the change set and prints the report.
pub fn run(args: &ChangesetArgs) -> ExitCode {
    let change_set = match changeset::read(&args.file) {
        Ok(change_set) => change_set,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(2);
        }
    };
    match super::print_stdout(&changeset::render(&change_set)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: cannot write the report: {err}");
            ExitCode::from(2)
        }
    }
}
