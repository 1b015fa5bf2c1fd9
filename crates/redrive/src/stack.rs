//! What redrive works on, found from the stack: its outputs name the queue, the stream and
//! the function; the function's configuration gives its role, timeout and (for `--local`)
//! the table and queue it writes to. Only calls the stack's RedrivePolicy allows.

use std::time::Duration;

use aws_config::SdkConfig;
use local_runner::aws::{function_config, stack_outputs};
use local_runner::discovery::{processor_config, DiscoveryError, Outputs};

/// The stack's parts redrive needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wiring {
    /// The dead-letter queue's URL.
    pub queue_url: String,
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
    /// The table it writes (`TABLE_NAME`, else the TableName output).
    pub table_name: String,
    /// The queue it dead-letters to (`DLQ_URL`, else the queue's URL).
    pub dlq_url: String,
    /// The processor's configuration from the function's environment, by the processor's
    /// own rules, so a redriven item is written as the function would write it (its TTL,
    /// its index write shards).
    pub processor: processor::config::Config,
}

/// Reads the stack's outputs and the function's configuration.
pub async fn wiring(config: &SdkConfig, stack: &str) -> Result<Wiring, DiscoveryError> {
    let outputs = stack_outputs(config, stack).await?;
    let output = |key: &str| output(&outputs, stack, key);
    let function_name = output("FunctionName")?;
    let function = function_config(config, &function_name).await?;
    let env = |name: &str| function.environment.get(name).cloned();
    let queue_url = output("DeadLetterQueueUrl")?;
    let table_name = match env(contract::env::TABLE_NAME) {
        Some(table) => table,
        None => output("TableName")?,
    };
    let dlq_url = env(contract::env::DLQ_URL).unwrap_or_else(|| queue_url.clone());
    Ok(Wiring {
        stream_name: output("StreamName")?,
        stream_arn: output("StreamArn")?,
        processor: processor_config(&function, &table_name, &dlq_url)?,
        table_name,
        dlq_url,
        queue_url,
        role_arn: function.role,
        timeout: Duration::from_secs(function.timeout_secs.max(1)),
        function_name,
    })
}

fn output(outputs: &Outputs, stack: &str, key: &str) -> Result<String, DiscoveryError> {
    outputs
        .get(key)
        .cloned()
        .ok_or_else(|| DiscoveryError::Missing {
            what: format!("output {key}"),
            stack: stack.to_owned(),
            hint: "is it this pipeline's stack, created or updated by make deploy?".to_owned(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_output_is_named_with_the_stack() {
        let err = output(&Outputs::new(), "demo", "StreamArn")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("output StreamArn not found in stack demo"),
            "{err}"
        );
    }
}
