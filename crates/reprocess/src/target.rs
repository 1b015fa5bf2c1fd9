//! The deployed function that redrive and replay process records through, read from the
//! stack (through `deployed_stack`) once for both: its stream (the events' source), its role
//! and timeout, and the processor's configuration from its environment, by the processor's
//! own rules, so records processed in this process (`--local`) are written as the function
//! would write them (its TTL, its index write shards) to the table and queue it writes to
//! (`TABLE_NAME`, else the TableName output; `DLQ_URL`, else the DeadLetterQueueUrl output).

use std::time::Duration;

use aws_config::SdkConfig;
use deployed_stack::{Stack, StackError};
use kinesis_codec::record::EventSource;
use processor::config::{Config, ConfigError};

/// The function records are processed again through, and the stream they came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
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
    /// The processor's configuration from the function's environment.
    pub processor: Config,
}

/// Why the stack could not tell what to process records through.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
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

impl Target {
    /// Reads the function's configuration and the outputs it needs from `stack`.
    pub async fn read(config: &SdkConfig, stack: &Stack) -> Result<Target, TargetError> {
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
                .map_err(|error| TargetError::Environment {
                    function: function.name.clone(),
                    error,
                })?;
        Ok(Target {
            stream_name: stack.stream_name()?.to_owned(),
            stream_arn: stack.stream_arn()?.to_owned(),
            processor,
            role_arn: function.role,
            timeout: function.timeout,
            function_name: function.name,
        })
    }

    /// The event fields every record shares, in `config`'s region (else us-east-1).
    pub fn event_source(&self, config: &SdkConfig) -> EventSource {
        EventSource {
            stream_arn: self.stream_arn.clone(),
            region: config
                .region()
                .map_or("us-east-1".to_owned(), |r| r.to_string()),
            role_arn: self.role_arn.clone(),
        }
    }
}
