//! What replay works on, found from the stack (through `deployed_stack`): its outputs name
//! the event archive's bucket (when the stack has one), the stream and the function; the
//! function's configuration gives its role, timeout and (for `--local`) the processor's
//! configuration from its environment, by the processor's own rules. Only calls the stack's
//! ReplayPolicy allows.

use aws_config::SdkConfig;
use deployed_stack::{Stack, StackError};
use reprocess::target::{Target, TargetError};

/// The stack's parts replay needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wiring {
    /// The event archive's bucket (`ArchiveBucketName`), when the stack archives events.
    pub archive_bucket: Option<String>,
    /// The function the records are processed through, and their stream.
    pub target: Target,
    /// The aggregate table (`AggregateTableName`), when the stack has one: the minutes a
    /// replay stored are then to be rebuilt (`query aggregates --rebuild`).
    pub aggregate_table: Option<String>,
}

/// Why the stack could not tell replay what to work on.
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
        archive_bucket: stack.archive_bucket_name().map(str::to_owned),
        target: Target::read(config, &stack).await?,
        aggregate_table: stack
            .optional(contract::outputs::AGGREGATE_TABLE_NAME)
            .map(str::to_owned),
    })
}
