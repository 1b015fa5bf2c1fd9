//! `synth changeset-report FILE`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use review::changeset;

/// Render `aws cloudformation describe-change-set` JSON as markdown, with data-loss warnings.
///
/// Prints the change set's name, stack and status, a table of resource changes (action,
/// logical ID, type, replacement, scope, details), and a warning when stateful resources
/// (tables, streams, queues, keys, log groups, buckets) are replaced or removed, and a note
/// when an alias moves to a new version gradually through CodeDeploy (with `--template`,
/// naming the alarms that roll it back).
///
/// Exit status: 0 the report was printed, 2 the file (or the template) cannot be read or is
/// not describe-change-set output (a template).
#[derive(Debug, Args)]
pub struct ChangesetArgs {
    /// The JSON that `aws cloudformation describe-change-set` printed (`-` reads stdin).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The template the change set was made from (YAML or JSON): with it, the report names
    /// the deployment configuration and the alarms that roll a gradual traffic shift back.
    #[arg(long, value_name = "TEMPLATE")]
    pub template: Option<PathBuf>,
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
    let template = match args.template.as_deref().map(review::diff::read_template) {
        None => None,
        Some(Ok(template)) => Some(template),
        Some(Err(err)) => {
            eprintln!("error: --template: {err}");
            return ExitCode::from(2);
        }
    };
    let report = changeset::render_with_template(&change_set, template.as_ref());
    match super::print_stdout(&report) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: cannot write the report: {err}");
            ExitCode::from(2)
        }
    }
}
