//! The pipeline's stack as deployed, found by its name: the one model of it that every tool
//! (local-runner, redrive, replay, verify, query, and the aggregate tools to come) reads
//! (docs/design.md, "Stack outputs" and "Layers").
//!
//! - [`Stack`]: the stack's outputs, looked up by the names in `contract::outputs`.
//! - [`function`]: the processor function's configuration (role, timeout, environment).
//! - [`mapping`]: the event source mapping as the Lambda API reports it, completed from the
//!   stack's template where an implementation (moto) leaves fields out.
//! - [`stream`]: records read from the stack's stream, in the codec's shape.

pub mod function;
pub mod mapping;
pub mod stream;

use std::collections::BTreeMap;

use aws_config::SdkConfig;
use aws_edge::error::CallError;
use contract::outputs;

/// Why the stack could not be read.
#[derive(Debug, thiserror::Error)]
pub enum StackError {
    /// An AWS call failed.
    #[error(transparent)]
    Call(#[from] CallError),
    /// The stack lacks an output a tool needs.
    #[error(
        "stack {stack} has no output {output}; is it this pipeline's stack, and is its \
         creation complete? (make outputs lists what it has)"
    )]
    MissingOutput {
        /// The stack.
        stack: String,
        /// The output.
        output: &'static str,
    },
    /// The stack's template or resources say something that cannot be read.
    #[error("stack {stack}: {reason}")]
    Template {
        /// The stack.
        stack: String,
        /// What is wrong.
        reason: String,
    },
}

/// What to check when DescribeStacks names no such stack.
pub const NOT_FOUND_HINT: &str =
    "check --stack-name and --region (make deploy creates the stack, make outputs shows it)";

/// A deployed stack of the pipeline: its name and outputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stack {
    name: String,
    outputs: BTreeMap<String, String>,
}

impl Stack {
    /// Reads stack `name` with DescribeStacks (`cloudformation:DescribeStacks`).
    pub async fn find(config: &SdkConfig, name: &str) -> Result<Stack, StackError> {
        let cfn = aws_sdk_cloudformation::Client::new(config);
        let call = || format!("CloudFormation DescribeStacks({name})");
        let described = cfn
            .describe_stacks()
            .stack_name(name)
            .send()
            .await
            .map_err(|e| {
                CallError::new(call(), &e)
                    .when_not_found(NOT_FOUND_HINT)
                    .when_denied("the caller needs cloudformation:DescribeStacks on the stack")
            })?;
        let outputs = described
            .stacks()
            .first()
            .map(|s| s.outputs())
            .unwrap_or_default()
            .iter()
            .filter_map(|o| Some((o.output_key()?.to_owned(), o.output_value()?.to_owned())))
            .collect();
        Ok(Stack::from_outputs(name, outputs))
    }

    /// The stack `name` with `outputs` (key → value), read elsewhere.
    pub fn from_outputs(name: &str, outputs: BTreeMap<String, String>) -> Stack {
        Stack {
            name: name.to_owned(),
            outputs,
        }
    }

    /// The stack's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Output `key` (one of `contract::outputs`), when the stack has it and it is not
    /// empty.
    pub fn optional(&self, key: &str) -> Option<&str> {
        self.outputs
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// Output `key`, or an error naming the stack and the output.
    pub fn output(&self, key: &'static str) -> Result<&str, StackError> {
        self.optional(key).ok_or_else(|| StackError::MissingOutput {
            stack: self.name.clone(),
            output: key,
        })
    }

    /// The stream's name (`StreamName`).
    pub fn stream_name(&self) -> Result<&str, StackError> {
        self.output(outputs::STREAM_NAME)
    }

    /// The stream's ARN (`StreamArn`).
    pub fn stream_arn(&self) -> Result<&str, StackError> {
        self.output(outputs::STREAM_ARN)
    }

    /// The processor function's name (`FunctionName`).
    pub fn function_name(&self) -> Result<&str, StackError> {
        self.output(outputs::FUNCTION_NAME)
    }

    /// The events table's name (`TableName`).
    pub fn table_name(&self) -> Result<&str, StackError> {
        self.output(outputs::TABLE_NAME)
    }

    /// The dead-letter queue's URL (`DeadLetterQueueUrl`).
    pub fn dead_letter_queue_url(&self) -> Result<&str, StackError> {
        self.output(outputs::DEAD_LETTER_QUEUE_URL)
    }

    /// The failure archive's bucket (`FailureBucketName`): where the mapping's on-failure
    /// destination writes and the processor keeps oversize dead letters' bytes. `None` when
    /// the stack was synthesized with `on_failure_destination = "sqs"` (one of
    /// `outputs::WHEN_CONFIGURED`).
    pub fn failure_bucket_name(&self) -> Option<&str> {
        self.optional(outputs::FAILURE_BUCKET_NAME)
    }

    /// The event archive's bucket (`ArchiveBucketName`); `None` when the stack archives no
    /// events (`archive_events = false`, one of `outputs::WHEN_CONFIGURED`).
    pub fn archive_bucket_name(&self) -> Option<&str> {
        self.optional(outputs::ARCHIVE_BUCKET_NAME)
    }

    /// The managed policy for whoever runs replay (`ReplayPolicyArn`).
    pub fn replay_policy_arn(&self) -> Result<&str, StackError> {
        self.output(outputs::REPLAY_POLICY_ARN)
    }

    /// The processor's log group (`LogGroupName`).
    pub fn log_group_name(&self) -> Result<&str, StackError> {
        self.output(outputs::LOG_GROUP_NAME)
    }

    /// The processor function's configuration (`lambda:GetFunctionConfiguration`).
    pub async fn function(&self, config: &SdkConfig) -> Result<function::Function, StackError> {
        let name = self.function_name()?;
        Ok(function::Function::read(config, name).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stack() -> Stack {
        let outputs = [
            (outputs::STREAM_NAME, "s"),
            (outputs::TABLE_NAME, "t"),
            (outputs::LOG_GROUP_NAME, ""),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        Stack::from_outputs("demo", outputs)
    }

    #[test]
    fn outputs_are_read_by_their_contract_names() {
        let stack = stack();
        assert_eq!(stack.stream_name().unwrap(), "s");
        assert_eq!(stack.table_name().unwrap(), "t");
        assert_eq!(stack.optional(outputs::STREAM_ARN), None);
    }

    #[test]
    fn the_archives_buckets_are_there_only_when_configured() {
        assert_eq!(stack().failure_bucket_name(), None);
        assert_eq!(stack().archive_bucket_name(), None);
        let outputs = [
            (outputs::FAILURE_BUCKET_NAME, "failures"),
            (outputs::ARCHIVE_BUCKET_NAME, "archive"),
            (
                outputs::REPLAY_POLICY_ARN,
                "arn:aws:iam::123456789012:policy/replay",
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let stack = Stack::from_outputs("demo", outputs);
        assert_eq!(stack.failure_bucket_name(), Some("failures"));
        assert_eq!(stack.archive_bucket_name(), Some("archive"));
        assert_eq!(
            stack.replay_policy_arn().unwrap(),
            "arn:aws:iam::123456789012:policy/replay"
        );
        let err = Stack::from_outputs("demo", Default::default())
            .replay_policy_arn()
            .unwrap_err()
            .to_string();
        assert!(err.contains("no output ReplayPolicyArn"), "{err}");
    }

    #[test]
    fn a_missing_or_empty_output_names_the_stack_and_the_output() {
        let stack = stack();
        let err = stack.dead_letter_queue_url().unwrap_err().to_string();
        assert!(
            err.starts_with("stack demo has no output DeadLetterQueueUrl;"),
            "{err}"
        );
        let err = stack.log_group_name().unwrap_err().to_string();
        assert!(err.contains("no output LogGroupName"), "{err}");
    }
}
