//! The deployed stack's outputs that verify reads (DESIGN.md, "Contracts").

use std::collections::BTreeMap;

use aws_config::SdkConfig;

use crate::error::{self, Error};

/// Where the pipeline's parts are, from the stack's outputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stack {
    /// The stack's name.
    pub name: String,
    /// Output `StreamName`: where verify puts its batch.
    pub stream_name: String,
    /// Output `TableName`: where the valid events must arrive.
    pub table_name: String,
    /// Output `DeadLetterQueueUrl`: where the invalid ones must arrive.
    pub queue_url: String,
    /// Output `LogGroupName`: the function's log.
    pub log_group: String,
    /// Output `FunctionName`: named in messages.
    pub function_name: String,
}

impl Stack {
    /// The stack from its outputs (name → value).
    pub fn from_outputs(name: &str, outputs: &BTreeMap<String, String>) -> Result<Stack, Error> {
        let get = |output: &'static str| {
            outputs
                .get(output)
                .filter(|v| !v.is_empty())
                .cloned()
                .ok_or_else(|| Error::MissingOutput {
                    stack: name.to_owned(),
                    output,
                })
        };
        Ok(Stack {
            name: name.to_owned(),
            stream_name: get("StreamName")?,
            table_name: get("TableName")?,
            queue_url: get("DeadLetterQueueUrl")?,
            log_group: get("LogGroupName")?,
            function_name: get("FunctionName")?,
        })
    }

    /// Reads the outputs of stack `name` with DescribeStacks.
    pub async fn describe(config: &SdkConfig, name: &str) -> Result<Stack, Error> {
        let cfn = aws_sdk_cloudformation::Client::new(config);
        let described = cfn
            .describe_stacks()
            .stack_name(name)
            .send()
            .await
            .map_err(|e| {
                let region = config.region().map_or("?".to_owned(), |r| r.to_string());
                let hint = if local_runner::aws::describe(&e).contains("does not exist") {
                    format!(
                        "no stack named {name} in region {region}; check --stack-name and \
                         --region (make deploy creates it, make outputs shows it)"
                    )
                } else {
                    "the caller needs cloudformation:DescribeStacks on the stack".to_owned()
                };
                error::call(
                    "CloudFormation",
                    format!("DescribeStacks({name})"),
                    &e,
                    hint,
                )
            })?;
        let outputs: BTreeMap<String, String> = described
            .stacks()
            .first()
            .map(|s| s.outputs())
            .unwrap_or_default()
            .iter()
            .filter_map(|o| Some((o.output_key()?.to_owned(), o.output_value()?.to_owned())))
            .collect();
        Stack::from_outputs(name, &outputs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outputs() -> BTreeMap<String, String> {
        [
            ("StreamName", "s"),
            ("TableName", "t"),
            ("DeadLetterQueueUrl", "http://q"),
            ("LogGroupName", "/aws/lambda/f"),
            ("FunctionName", "f"),
            ("DashboardName", "d"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    #[test]
    fn the_outputs_verify_needs_are_read_by_name() {
        let stack = Stack::from_outputs("x", &outputs()).unwrap();
        assert_eq!(stack.stream_name, "s");
        assert_eq!(stack.queue_url, "http://q");
        assert_eq!(stack.log_group, "/aws/lambda/f");
    }

    #[test]
    fn a_missing_or_empty_output_is_named() {
        let mut outputs = outputs();
        outputs.remove("TableName");
        let err = Stack::from_outputs("x", &outputs).unwrap_err().to_string();
        assert!(err.starts_with("stack x has no output TableName"), "{err}");
        let mut outputs = self::tests::outputs();
        outputs.insert("LogGroupName".into(), String::new());
        let err = Stack::from_outputs("x", &outputs).unwrap_err().to_string();
        assert!(err.contains("no output LogGroupName"), "{err}");
    }
}
