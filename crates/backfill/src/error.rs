//! What stops a backfill: each a plain line naming the call or the file, what went wrong
//! and what to check. Exit status 2 for a request refused before anything was read (a
//! checkpoint of another table), 1 otherwise.

use aws_edge::error::CallError;
use deployed_stack::StackError;

use crate::checkpoint::CheckpointError;

/// A failure of the backfill.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An AWS call failed (after its retries).
    #[error(transparent)]
    Call(#[from] CallError),
    /// The stack could not be read, or lacks an output.
    #[error(transparent)]
    Stack(#[from] StackError),
    /// The function's `INDEX_WRITE_SHARDS` is not a shard count.
    #[error(
        "the processor {function} has INDEX_WRITE_SHARDS={value:?}, not a whole number from 1 \
         to {max}; is it this pipeline's processor (docs/design.md, \"Processor environment\")?"
    )]
    Shards {
        /// The function.
        function: String,
        /// Its value.
        value: String,
        /// The largest shard count.
        max: u32,
    },
    /// The checkpoint could not be read or written.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// Refused before anything was read (exit status 2).
    #[error("{0}")]
    Refused(String),
    /// DynamoDB refused too many updates: something is wrong with the run, not the items.
    #[error(
        "DynamoDB refused {refused} updates, e.g. {first}; stopping, since a request that \
         fails for every item is no fault of the items"
    )]
    TooManyRefused {
        /// Updates refused.
        refused: u64,
        /// The first, with DynamoDB's message.
        first: String,
    },
}

impl Error {
    /// The exit status: 2 for a refused request, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Refused(_) => 2,
            _ => 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_refusal_is_exit_2() {
        assert_eq!(Error::Refused("no".into()).exit_code(), 2);
        let shards = Error::Shards {
            function: "f".into(),
            value: "four".into(),
            max: 100,
        };
        assert_eq!(shards.exit_code(), 1);
        assert!(
            shards
                .to_string()
                .starts_with("the processor f has INDEX_WRITE_SHARDS=\"four\", not a whole"),
            "{shards}"
        );
    }
}
