//! The deployed stack's outputs that verify reads (docs/design.md, "Stack outputs"),
//! through `deployed_stack`.

use aws_config::SdkConfig;

use crate::error::Error;

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
    /// Output `FunctionName`: named in messages, and whose mapping's books verify reads.
    pub function_name: String,
    /// The stack as `deployed_stack` reads it: its mappings.
    pub deployed: deployed_stack::Stack,
}

impl Stack {
    /// The stack from the deployed stack's outputs; an output verify reads that is
    /// missing is named.
    pub fn from_outputs(stack: &deployed_stack::Stack) -> Result<Stack, Error> {
        Ok(Stack {
            name: stack.name().to_owned(),
            stream_name: stack.stream_name()?.to_owned(),
            table_name: stack.table_name()?.to_owned(),
            queue_url: stack.dead_letter_queue_url()?.to_owned(),
            log_group: stack.log_group_name()?.to_owned(),
            function_name: stack.function_name()?.to_owned(),
            deployed: stack.clone(),
        })
    }

    /// Reads the outputs of stack `name` with DescribeStacks.
    pub async fn describe(config: &SdkConfig, name: &str) -> Result<Stack, Error> {
        let found = deployed_stack::Stack::find(config, name).await?;
        Stack::from_outputs(&found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::collections::BTreeMap;

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
        let stack =
            Stack::from_outputs(&deployed_stack::Stack::from_outputs("x", outputs())).unwrap();
        assert_eq!(stack.stream_name, "s");
        assert_eq!(stack.queue_url, "http://q");
        assert_eq!(stack.log_group, "/aws/lambda/f");
    }

    #[test]
    fn a_missing_or_empty_output_is_named() {
        let mut outputs = outputs();
        outputs.remove("TableName");
        let err = Stack::from_outputs(&deployed_stack::Stack::from_outputs("x", outputs.clone()))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("stack x has no output TableName"), "{err}");
        let mut outputs = self::tests::outputs();
        outputs.insert("LogGroupName".into(), String::new());
        let err = Stack::from_outputs(&deployed_stack::Stack::from_outputs("x", outputs.clone()))
            .unwrap_err()
            .to_string();
        assert!(err.contains("no output LogGroupName"), "{err}");
    }
}
