//! What replay works on, found from the stack (through `deployed_stack`): its outputs name
//! the event archive's bucket (when the stack has one), the stream and the function; the
//! function's configuration gives its role, timeout and (for `--local`) the processor's
//! configuration from its environment, by the processor's own rules. Only calls the stack's
//! ReplayPolicy allows.

use std::time::Duration;

use aws_config::SdkConfig;
use deployed_stack::{Stack, StackError};
use processor::config::{Config, ConfigError};

/// The stack's parts replay needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wiring {
    /// The event archive's bucket (`ArchiveBucketName`), when the stack archives events.
    pub archive_bucket: Option<String>,
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
    /// The processor's configuration from the function's environment (`TABLE_NAME`, else
    /// the TableName output; `DLQ_URL`, else the queue's URL), so a replayed item is written
    /// as the function would write it.
    pub processor: Config,
}

/// Why the stack could not tell replay what to work on.
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
    let table_name = match function.env(contract::env::TABLE_NAME) {
        Some(table) => table.to_owned(),
        None => stack.table_name()?.to_owned(),
    };
    let dlq_url = match function.env(contract::env::DLQ_URL) {
        Some(url) => url.to_owned(),
        None => stack.dead_letter_queue_url()?.to_owned(),
    };
    let processor =
        Config::for_function(&function.name, &function.environment, &table_name, &dlq_url)
            .map_err(|error| WiringError::Environment {
                function: function.name.clone(),
                error,
            })?;
    Ok(Wiring {
        archive_bucket: stack.archive_bucket_name().map(str::to_owned),
        stream_name: stack.stream_name()?.to_owned(),
        stream_arn: stack.stream_arn()?.to_owned(),
        processor,
        role_arn: function.role,
        timeout: function.timeout,
        function_name: function.name,
    })
}
