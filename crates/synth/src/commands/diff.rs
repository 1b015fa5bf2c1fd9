//! `synth diff OLD NEW`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use review::diff;

/// Compare two templates: resources, replacements, IAM statements, parameters, outputs.
///
/// OLD and NEW are CloudFormation templates in YAML (short-form tags like !Ref allowed) or
/// JSON. Shows resources added, removed and modified with their property changes, which
/// ones are replaced (from the resource schemas' create-only properties), IAM statements
/// added and removed, and parameter, condition and output changes.
///
/// Exit status: 0 the templates are equal, 1 they differ, 2 a file cannot be read or is not
/// a template.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The old template (`-` reads stdin).
    #[arg(value_name = "OLD")]
    pub old: PathBuf,

    /// The new template (`-` reads stdin; only one of OLD and NEW may be `-`).
    #[arg(value_name = "NEW")]
    pub new: PathBuf,

    /// Output format: text for a terminal, markdown for a pull request comment.
    #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
    pub format: DiffFormat,
}

/// How the diff is printed.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DiffFormat {
    /// cdk-diff-like text; coloured on a terminal unless NO_COLOR is set.
    Text,
    /// GitHub-flavoured markdown with a summary line and tables.
    Markdown,
}

/// Runs the comparison and prints it.
pub fn run(args: &DiffArgs) -> ExitCode {
    if args.old.as_os_str() == "-" && args.new.as_os_str() == "-" {
        eprintln!("error: only one of OLD and NEW may be `-` (stdin)");
        return ExitCode::from(2);
    }
    let load = |path: &PathBuf| {
        diff::read_template(path).map_err(|err| {
            eprintln!("error: {err}");
            ExitCode::from(2)
        })
    };
    let (old, new) = match (load(&args.old), load(&args.new)) {
        (Ok(old), Ok(new)) => (old, new),
        (Err(code), _) | (_, Err(code)) => return code,
    };
    let name = |path: &PathBuf| {
        if path.as_os_str() == "-" {
            diff::load::STDIN_NAME.to_owned()
        } else {
            path.display().to_string()
        }
    };
    let result = diff::diff(&old, &new);
    let text = match args.format {
        DiffFormat::Text => diff::text::render(
            &result,
            &name(&args.old),
            &name(&args.new),
            super::colour_stdout(),
        ),
        DiffFormat::Markdown => diff::markdown::render(&result, &name(&args.old), &name(&args.new)),
    };
    if let Err(err) = super::print_stdout(&text) {
        eprintln!("error: cannot write the diff: {err}");
        return ExitCode::from(2);
    }
    if result.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
