//! What redrive works on, found from the stack (through `deployed_stack`): its outputs name
//! the queue, the failure archive's bucket (when the stack has one), the stream and the
//! function; the function's configuration gives its role, timeout and (for `--local`) the
//! table and queue it writes to. Only calls the stack's RedrivePolicy allows.

use std::time::Duration;

use aws_config::SdkConfig;
use deployed_stack::{Stack, StackError};
use processor::config::{Config, ConfigError};

/// The stack's parts redrive needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wiring {
    /// The dead-letter queue's URL.
    pub queue_url: String,
    /// The failure archive's bucket (`FailureBucketName`), when the stack has one.
    pub failure_bucket: Option<String>,
    /// The stream's name.
    pub stream_name: String,
    /// The stream's ARN (the events' `eventSourceARN`).
    pub stream_arn: String,
    /// The processor function's name.
    pub function_name: String,
    /// Its execution role (the events' `invokeIdentityArn`).
    pub role_arn: String,
    /// Its timeout.
    pub timeout: Duration,
    /// The processor's configuration from the function's environment, by the processor's
    /// own rules, so a redriven item is written as the function would write it (its TTL,
    /// its index write shards), to the table and queue it writes to (`TABLE_NAME`, else
    /// the TableName output; `DLQ_URL`, else the queue's URL).
    pub processor: Config,
}

/// Why the stack could not tell redrive what to work on.
#[derive(Debug, thiserror::Error)]
pub enum WiringError {
    /// Reading the stack failed.
    #[error(transparent)]
    Stack(#[from] StackError),
    /// The function's environment would stop the processor at init.
    #[error("function {function}: its environment would stop the processor at init: {error}")]
    Environment {
        /// The function.
        function: String,
        /// Why.
        error: ConfigError,
    },
}

/// Reads the stack's outputs and the function's configuration.
pub async fn wiring(config: &SdkConfig, stack_name: &str) -> Result<Wiring, WiringError> {
    let stack = Stack::find(config, stack_name).await?;
    let function = stack.function(config).await?;
    let queue_url = stack.dead_letter_queue_url()?.to_owned();
    let table_name = match function.env(contract::env::TABLE_NAME) {
        Some(table) => table.to_owned(),
        None => stack.table_name()?.to_owned(),
    };
    let dlq_url = function
        .env(contract::env::DLQ_URL)
        .unwrap_or(&queue_url)
        .to_owned();
    let processor =
        Config::for_function(&function.name, &function.environment, &table_name, &dlq_url)
            .map_err(|error| WiringError::Environment {
                function: function.name.clone(),
                error,
            })?;
    Ok(Wiring {
        failure_bucket: stack.failure_bucket_name().map(str::to_owned),
        stream_name: stack.stream_name()?.to_owned(),
        stream_arn: stack.stream_arn()?.to_owned(),
        processor,
        queue_url,
        role_arn: function.role,
        timeout: function.timeout,
        function_name: function.name,
    })
}
