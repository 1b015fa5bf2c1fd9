//! `synth stack-facts FACT ...`: what `tools/stack.sh` needs to know about a template, a
//! stack or a change set, read from a file synth wrote or from what the aws CLI printed.
//!
//! The script sequences aws CLI calls; every decision over their output is here, one module
//! per concern, each a pure function over text with its tests beside it:
//! [`capabilities`], [`retained_names`] (named resources a new stack would find taken, and
//! the refusal when they are),
//! [`kept`] (what a DeletionPolicy keeps, with physical IDs), [`buckets`] (the failure
//! bucket's objects not yet redriven, and the buckets to empty before a deletion),
//! [`stack_status`] (whether and how a stack can be changed), [`change_set`] (empty change
//! sets, parameters), [`outputs`] (the stack's output values, named by the `contract`
//! crate's constants) and [`mapping`] (the event source mapping across deploys: kept, or
//! replaced in steps AWS accepts, and where a replacing mapping starts).

pub mod buckets;
pub mod capabilities;
pub mod change_set;
pub mod kept;
pub mod mapping;
pub mod outputs;
pub mod retained_names;
pub mod stack_status;

use std::io::Read;
use std::path::Path;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use serde_json::Value;

/// Facts for tools/stack.sh, read from what synth wrote or the aws CLI printed.
///
/// Each fact reads its files (`-` reads stdin) or arguments and prints plain text for a
/// script: words, or tab-separated lines. Nothing is contacted.
///
/// Exit status: 0 the fact is printed (or the answer is yes), 1 the answer is no (the stack
/// cannot be updated now, the reason is not an empty change set's, the output is missing;
/// a message says so unless the fact is a plain yes/no question), 2 a file cannot be read or
/// is not what the fact reads.
#[derive(Debug, Args)]
pub struct StackFactsArgs {
    /// The fact to print.
    #[command(subcommand)]
    pub fact: Fact,
}

/// The facts. Their help text is the doc comment of their arguments' struct.
#[derive(Debug, Subcommand)]
pub enum Fact {
    Capabilities(capabilities::CapabilitiesArgs),
    #[command(name = "retained-names")]
    RetainedNames(retained_names::RetainedNamesArgs),
    #[command(name = "taken-names")]
    TakenNames(retained_names::TakenNamesArgs),
    Kept(kept::KeptArgs),
    #[command(name = "failure-objects")]
    FailureObjects(buckets::FailureObjectsArgs),
    #[command(name = "unhandled-failures")]
    UnhandledFailures(buckets::UnhandledArgs),
    #[command(name = "deleted-buckets")]
    DeletedBuckets(buckets::DeletedBucketsArgs),
    Updatable(stack_status::UpdatableArgs),
    #[command(name = "no-changes")]
    NoChanges(change_set::NoChangesArgs),
    #[command(name = "failed-change-set")]
    FailedChangeSet(change_set::FailedChangeSetArgs),
    #[command(name = "change-set-parameters")]
    ChangeSetParameters(change_set::ParametersArgs),
    Output(outputs::OutputArgs),
    #[command(name = "mapping-plan")]
    MappingPlan(mapping::MappingPlanArgs),
    #[command(name = "mapping-start")]
    MappingStart(mapping::MappingStartArgs),
    #[command(name = "mapping-template")]
    MappingTemplate(mapping::MappingTemplateArgs),
}

/// How a fact ends when its input could be read.
#[derive(Debug, PartialEq)]
pub enum Answer {
    /// Printed on stdout as it is; exit 0.
    Print(String),
    /// Exit 1, with this message on stderr (after `error: `) when there is one.
    No(Option<String>),
}

/// Runs one fact: its answer, or exit status 2 with the message when its input is bad.
pub fn run(args: &StackFactsArgs) -> ExitCode {
    let answer = match &args.fact {
        Fact::Capabilities(args) => capabilities::run(args),
        Fact::RetainedNames(args) => retained_names::run(args),
        Fact::TakenNames(args) => retained_names::run_taken(args),
        Fact::Kept(args) => kept::run(args),
        Fact::FailureObjects(args) => buckets::run_failure_objects(args),
        Fact::UnhandledFailures(args) => buckets::run_unhandled(args),
        Fact::DeletedBuckets(args) => buckets::run_deleted_buckets(args),
        Fact::Updatable(args) => stack_status::run(args),
        Fact::NoChanges(args) => Ok(change_set::run_no_changes(args)),
        Fact::FailedChangeSet(args) => change_set::run_failed(args),
        Fact::ChangeSetParameters(args) => change_set::run_parameters(args),
        Fact::Output(args) => outputs::run(args),
        Fact::MappingPlan(args) => mapping::run_plan(args),
        Fact::MappingStart(args) => mapping::run_start(args),
        Fact::MappingTemplate(args) => mapping::run_template(args),
    };
    match answer {
        Ok(Answer::Print(text)) => match super::print_stdout(&text) {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("error: cannot write the answer: {err}");
                ExitCode::from(2)
            }
        },
        Ok(Answer::No(message)) => {
            if let Some(message) = message {
                eprintln!("error: {message}");
            }
            ExitCode::from(1)
        }
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

/// The name a file is reported under: its path as given, or `<stdin>` for `-`.
pub fn input_name(path: &Path) -> String {
    if path.as_os_str() == "-" {
        review::diff::load::STDIN_NAME.to_owned()
    } else {
        path.display().to_string()
    }
}

/// A file's text (stdin for `-`) and the name it is reported under.
pub fn read_input(path: &Path) -> Result<(String, String), String> {
    let name = input_name(path);
    let result = if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).map(|_| text)
    } else {
        std::fs::read_to_string(path)
    };
    match result {
        Ok(text) => Ok((name, text)),
        Err(err) => Err(format!("{name}: cannot read: {err}")),
    }
}

/// A template (YAML with short-form tags, or JSON) from a file, through the reader
/// `synth diff` uses.
pub fn read_template(path: &Path) -> Result<Value, String> {
    review::diff::read_template(path).map_err(|err| err.to_string())
}

/// JSON that the aws CLI printed (`--output json`); `what` names the command in the message
/// when it is not JSON. A UTF-8 byte-order mark is skipped.
pub fn parse_json(name: &str, text: &str, what: &str) -> Result<Value, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    serde_json::from_str(text)
        .map_err(|err| format!("{name}: not {what} output: not valid JSON: {err}"))
}

/// What kind of JSON value this is, for messages.
pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// One tab-separated line. A tab or line break inside a field (no CloudFormation name or ID
/// has one) becomes a space, so every line keeps its columns.
pub fn tsv_line(fields: &[&str]) -> String {
    let fields: Vec<String> = fields
        .iter()
        .map(|field| field.replace(['\t', '\n', '\r'], " "))
        .collect();
    format!("{}\n", fields.join("\t"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tsv_lines_keep_their_columns() {
        assert_eq!(tsv_line(&["a", "b c", "d"]), "a\tb c\td\n");
        assert_eq!(tsv_line(&["a\tb", "c\nd"]), "a b\tc d\n");
    }

    #[test]
    fn unreadable_files_and_bad_json_are_named() {
        let err = read_input(Path::new("/nonexistent/stack.json")).unwrap_err();
        assert!(
            err.starts_with("/nonexistent/stack.json: cannot read: "),
            "{err}"
        );
        let err = parse_json("r.json", "{nope", "list-stack-resources").unwrap_err();
        assert!(
            err.starts_with("r.json: not list-stack-resources output: not valid JSON: "),
            "{err}"
        );
        assert_eq!(
            parse_json("r.json", "\u{feff}[]", "x"),
            Ok(Value::Array(vec![]))
        );
    }
}
