//! What redrive works on, found from the stack (through `deployed_stack`): its outputs name
//! the queue, the failure archive's bucket (when the stack has one), the stream and the
//! function; the function's configuration gives its role, timeout and (for `--local`) the
//! table and queue it writes to. Only calls the stack's RedrivePolicy allows.

use aws_config::SdkConfig;
use deployed_stack::{Stack, StackError};
use reprocess::target::{Target, TargetError};

/// The stack's parts redrive needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wiring {
    /// The dead-letter queue's URL.
    pub queue_url: String,
    /// The failure archive's bucket (`FailureBucketName`), when the stack has one.
    pub failure_bucket: Option<String>,
    /// The function the records are processed through, and their stream.
    pub target: Target,
    /// The aggregate table (`AggregateTableName`), when the stack has one: the minutes a
    /// run stored are then to be rebuilt (`query aggregates --rebuild`).
    pub aggregate_table: Option<String>,
}

/// Why the stack could not tell redrive what to work on.
#[derive(Debug, thiserror::Error)]
pub enum WiringError {
    /// Reading the stack failed.
    #[error(transparent)]
    Stack(#[from] StackError),
    /// The function could not be read or configured.
    #[error(transparent)]
    Target(#[from] TargetError),
}

/// Reads the stack's outputs and the function's configuration.
pub async fn wiring(config: &SdkConfig, stack_name: &str) -> Result<Wiring, WiringError> {
    let stack = Stack::find(config, stack_name).await?;
    Ok(Wiring {
        queue_url: stack.dead_letter_queue_url()?.to_owned(),
        failure_bucket: stack.failure_bucket_name().map(str::to_owned),
        target: Target::read(config, &stack).await?,
        aggregate_table: stack
            .optional(contract::outputs::AGGREGATE_TABLE_NAME)
            .map(str::to_owned),
    })
}
