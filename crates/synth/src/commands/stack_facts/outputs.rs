//! `synth stack-facts output OUTPUT DESCRIBE_STACKS`: one of the stack's output values, by
//! the name the `contract` crate gives it, so no script spells an output's name.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use serde_json::Value;

use super::Answer;

/// One output value of the stack, by the name the contract crate gives it.
///
/// DESCRIBE_STACKS is what `aws cloudformation describe-stacks --stack-name NAME --output
/// json` printed. Exit status 1, naming the stack and the output, when the stack has no such
/// output (with --optional: prints nothing, exit 0).
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Which output.
    #[arg(value_enum, value_name = "OUTPUT")]
    pub output: Output,

    /// The stack as `describe-stacks --output json` prints it (`-` reads stdin).
    #[arg(value_name = "DESCRIBE_STACKS")]
    pub file: PathBuf,

    /// A missing output is not an error: nothing is printed.
    #[arg(long)]
    pub optional: bool,
}

/// The outputs the scripts read (tools/stack.sh, tools/local.sh).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// The stream's name (make local puts its events there).
    Stream,
    /// The events table's name (make local counts what is stored).
    Table,
    /// The dead-letter queue's URL (destroy refuses while dead letters wait in it).
    DeadLetterQueue,
    /// The processor's log group's name (logs).
    LogGroup,
    /// The failure bucket's name (destroy refuses while it holds batches not yet redriven);
    /// only with `on_failure_destination = "s3"`.
    FailureBucket,
    /// The processor function's name (deploy reads its IteratorAge before replacing the
    /// event source mapping).
    Function,
    /// The event source mapping's UUID (deploy reads it before replacing it).
    Mapping,
}

impl Output {
    /// The stack's output key.
    pub fn key(self) -> &'static str {
        match self {
            Output::Stream => contract::outputs::STREAM_NAME,
            Output::Table => contract::outputs::TABLE_NAME,
            Output::DeadLetterQueue => contract::outputs::DEAD_LETTER_QUEUE_URL,
            Output::LogGroup => contract::outputs::LOG_GROUP_NAME,
            Output::FailureBucket => contract::outputs::FAILURE_BUCKET_NAME,
            Output::Function => contract::outputs::FUNCTION_NAME,
            Output::Mapping => contract::outputs::EVENT_SOURCE_MAPPING_ID,
        }
    }
}

/// Reads describe-stacks' JSON and prints the value.
pub fn run(args: &OutputArgs) -> Result<Answer, String> {
    let (name, text) = super::read_input(&args.file)?;
    let key = args.output.key();
    let (stack, value) = output_value(&name, &text, key)?;
    Ok(match value {
        Some(value) => Answer::Print(format!("{value}\n")),
        None if args.optional => Answer::Print(String::new()),
        None => Answer::No(Some(format!("stack {stack} has no {key} output"))),
    })
}

/// The stack's name and the value of its output `key` (`None`: no such output), from
/// describe-stacks JSON describing one stack. `name` labels errors.
pub fn output_value(name: &str, text: &str, key: &str) -> Result<(String, Option<String>), String> {
    let value = super::parse_json(name, text, "describe-stacks")?;
    let bad = |reason: String| format!("{name}: not describe-stacks output: {reason}");
    let stacks = match value.get("Stacks") {
        Some(Value::Array(stacks)) => stacks,
        Some(other) => {
            return Err(bad(format!(
                "Stacks must be a list, got {}",
                super::kind(other)
            )))
        }
        None if value.is_object() => return Err(bad("no Stacks".into())),
        None => {
            return Err(bad(format!(
                "expected a mapping, got {}",
                super::kind(&value)
            )))
        }
    };
    let stack = match stacks.as_slice() {
        [stack] => stack,
        [] => return Err(bad("it describes no stack".into())),
        more => {
            return Err(bad(format!(
                "it describes {} stacks; give describe-stacks --stack-name",
                more.len()
            )))
        }
    };
    let stack_name = stack
        .get("StackName")
        .and_then(Value::as_str)
        .unwrap_or("(unnamed)")
        .to_owned();
    let outputs = match stack.get("Outputs") {
        None | Some(Value::Null) => return Ok((stack_name, None)),
        Some(Value::Array(outputs)) => outputs,
        Some(other) => {
            return Err(bad(format!(
                "Outputs must be a list, got {}",
                super::kind(other)
            )))
        }
    };
    let found = outputs
        .iter()
        .find(|output| output.get("OutputKey").and_then(Value::as_str) == Some(key))
        .and_then(|output| output.get("OutputValue"))
        .and_then(Value::as_str)
        .filter(|value| !value.is_empty())
        .map(str::to_owned);
    Ok((stack_name, found))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DESCRIBED: &str = r#"{"Stacks": [{
        "StackName": "retail-events-dev", "StackStatus": "CREATE_COMPLETE",
        "Outputs": [
            {"OutputKey": "LogGroupName", "OutputValue": "/aws/lambda/retail-events-dev-processor"},
            {"OutputKey": "DeadLetterQueueUrl", "OutputValue": "https://sqs.us-east-1.amazonaws.com/1/dlq", "Description": "x"}
        ]
    }]}"#;

    #[test]
    fn outputs_are_found_by_the_contract_names() {
        assert_eq!(Output::DeadLetterQueue.key(), "DeadLetterQueueUrl");
        assert_eq!(Output::LogGroup.key(), "LogGroupName");
        assert_eq!(
            output_value("d.json", DESCRIBED, Output::LogGroup.key()).unwrap(),
            (
                "retail-events-dev".to_owned(),
                Some("/aws/lambda/retail-events-dev-processor".to_owned())
            )
        );
        assert_eq!(
            output_value("d.json", DESCRIBED, Output::DeadLetterQueue.key())
                .unwrap()
                .1
                .as_deref(),
            Some("https://sqs.us-east-1.amazonaws.com/1/dlq")
        );
    }

    #[test]
    fn the_stack_synth_builds_has_the_outputs_read_here() {
        let config = synth::config::Config::load(Some("dev"), None, &[]).expect("dev loads");
        let rendered = synth::stack::build(&config)
            .render(cfn::Format::Json)
            .expect("renders");
        let template: Value = serde_json::from_str(&rendered.body).expect("JSON");
        for output in Output::value_variants() {
            assert!(
                template["Outputs"].get(output.key()).is_some(),
                "the stack has no {} output",
                output.key()
            );
        }
    }

    #[test]
    fn a_missing_output_is_none() {
        let no_outputs = r#"{"Stacks": [{"StackName": "s"}]}"#;
        assert_eq!(
            output_value("d.json", no_outputs, "LogGroupName").unwrap(),
            ("s".into(), None)
        );
        let other = r#"{"Stacks": [{"StackName": "s", "Outputs": [{"OutputKey": "X", "OutputValue": "y"}]}]}"#;
        assert_eq!(
            output_value("d.json", other, "LogGroupName").unwrap().1,
            None
        );
        let null = r#"{"Stacks": [{"StackName": "s", "Outputs": null}]}"#;
        assert_eq!(
            output_value("d.json", null, "LogGroupName").unwrap().1,
            None
        );
    }

    #[test]
    fn documents_that_are_not_one_stack_say_why() {
        let cases = [
            ("[]", "d.json: not describe-stacks output: expected a mapping, got a list"),
            ("{}", "d.json: not describe-stacks output: no Stacks"),
            (r#"{"Stacks": {}}"#, "d.json: not describe-stacks output: Stacks must be a list, got a mapping"),
            (r#"{"Stacks": []}"#, "d.json: not describe-stacks output: it describes no stack"),
            (
                r#"{"Stacks": [{}, {}]}"#,
                "d.json: not describe-stacks output: it describes 2 stacks; give describe-stacks --stack-name",
            ),
            (
                r#"{"Stacks": [{"Outputs": "x"}]}"#,
                "d.json: not describe-stacks output: Outputs must be a list, got a string",
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(output_value("d.json", text, "K").unwrap_err(), expected);
        }
        let err = output_value("d.json", "not json", "K").unwrap_err();
        assert!(
            err.starts_with("d.json: not describe-stacks output: not valid JSON"),
            "{err}"
        );
    }
}
