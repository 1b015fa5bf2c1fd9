//! Which table to read (and which function's environment says how it is sharded): from the
//! stack's outputs, read through `deployed_stack`, or from `--table-name`.

use aws_config::SdkConfig;
use deployed_stack::Stack;

use crate::cli::Args;
use crate::error::Error;

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
        let stack = Stack::find(config, stack).await?;
        Ok(Target {
            table_name: stack.table_name()?.to_owned(),
            function_name: stack.function_name().ok().map(str::to_owned),
        })
    }
}
