//! Which table to read (and which function's environment says how it is sharded): from the
//! stack's outputs, read as local-runner reads them, or from `--table-name`.

use aws_config::SdkConfig;
use local_runner::discovery::DiscoveryError;

use crate::cli::Args;
use crate::error::{self, Error};

/// The table and, when a stack named it, the function writing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The table to query.
    pub table_name: String,
    /// The processor function (output `FunctionName`), with `--stack-name`.
    pub function_name: Option<String>,
}

impl Target {
    /// `--table-name`, or the outputs `TableName` and `FunctionName` of `--stack-name`.
    pub async fn resolve(config: &SdkConfig, args: &Args) -> Result<Target, Error> {
        let Some(stack) = args.stack_name.as_deref() else {
            return Ok(Target {
                table_name: args.table_name.clone().unwrap_or_default(),
                function_name: None,
            });
        };
        let outputs = local_runner::aws::stack_outputs(config, stack)
            .await
            .map_err(|e| {
                let text = match e {
                    DiscoveryError::Call { error, .. } => error,
                    other => other.to_string(),
                };
                error::from_text(
                    "CloudFormation",
                    format!("DescribeStacks({stack})"),
                    text,
                    "cloudformation:DescribeStacks on the stack (or pass --table-name)",
                    "check --stack-name and --region (make outputs shows the stack)",
                )
            })?;
        let table_name = outputs
            .get("TableName")
            .filter(|t| !t.is_empty())
            .cloned()
            .ok_or_else(|| Error::NoTableOutput {
                stack: stack.to_owned(),
            })?;
        Ok(Target {
            table_name,
            function_name: outputs.get("FunctionName").cloned(),
        })
    }
}
