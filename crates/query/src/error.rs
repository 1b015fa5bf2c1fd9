//! What can go wrong after the arguments were accepted: each is one plain line naming the
//! service, the operation and what to check, and exit status 1. AWS calls fail with
//! `aws_edge`'s [`CallError`], classified by the SDK error's kind.

use aws_edge::error::CallError;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use deployed_stack::StackError;

use crate::layout::NoIndex;

/// A failure of the query.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An AWS call failed.
    #[error(transparent)]
    Call(#[from] CallError),
    /// The stack could not be read, or has no `TableName` output.
    #[error(transparent)]
    Stack(#[from] StackError),
    /// BatchGetItem kept leaving keys unprocessed (the table throttles reads).
    #[error(
        "DynamoDB BatchGetItem({table}) left {left} of {asked} keys unprocessed after \
         {attempts} attempts; the table's reads are being throttled (its ReadThrottleEvents \
         metric shows it): run again later or with a smaller --limit"
    )]
    Unprocessed {
        /// The table.
        table: String,
        /// Keys still unprocessed.
        left: usize,
        /// Keys the batch asked for.
        asked: usize,
        /// Calls made.
        attempts: u32,
    },
    /// The table has no index for the question.
    #[error(transparent)]
    NoIndex(#[from] NoIndex),
    /// An aggregate item could not be read as one.
    #[error("aggregate table {table}: item day={day} part={part} cannot be read: {reason}")]
    BadAggregate {
        /// The aggregate table.
        table: String,
        /// The item's partition key.
        day: String,
        /// The item's sort key.
        part: String,
        /// What is wrong with it.
        reason: String,
    },
    /// BatchWriteItem kept leaving requests unprocessed (the table throttles writes).
    #[error(
        "DynamoDB BatchWriteItem({table}) left {left} of {asked} {what} unprocessed after \
         {attempts} attempts; the table's writes are being throttled: run the rebuild again \
         (it is idempotent: it writes the same items and deletes what is left)"
    )]
    UnprocessedWrites {
        /// The table.
        table: String,
        /// Puts or deletes.
        what: &'static str,
        /// Requests still unprocessed.
        left: usize,
        /// Requests the batch held.
        asked: usize,
        /// Calls made.
        attempts: u32,
    },
    /// A request refused before anything was read or changed (exit status 2).
    #[error("{0}")]
    Refused(String),
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

/// An [`Error::Call`] for an SDK error of `operation` on `service`. The hint says what to
/// check: the endpoint when there was no answer, the permission `action` (and where it
/// comes from) when access was denied, else `otherwise`.
///
/// The error is classified by its SDK type (the service's error code, the connector's
/// error kind): an erased error would lose the code and read as no answer at all.
pub fn call<E, R>(
    service: &'static str,
    operation: String,
    err: &SdkError<E, R>,
    action: &str,
    otherwise: &str,
) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    hinted(
        CallError::new(format!("{service} {operation}"), err),
        action,
        otherwise,
    )
}

/// [`call`] for an error whose SDK type is not known here (a request the SDK's builder
/// refused, an I/O error): read from the types in its chain of causes.
pub fn call_erased(
    service: &'static str,
    operation: String,
    err: &(dyn std::error::Error + 'static),
    action: &str,
    otherwise: &str,
) -> Error {
    hinted(
        CallError::from_dyn(format!("{service} {operation}"), err),
        action,
        otherwise,
    )
}

fn hinted(call: CallError, action: &str, otherwise: &str) -> Error {
    Error::Call(
        call.when_denied(format!(
            "the caller needs {action} (the stack's EventReaderPolicyArn grants the table; \
             see docs/query.md)"
        ))
        .when_not_found(otherwise)
        .when_refused(otherwise),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_edge::error::Failure;

    fn hint(failure: Failure) -> String {
        let call = CallError::with_failure("DynamoDB Query(t)", failure, "detail");
        let err = match call.failure.clone() {
            Failure::Denied => call.when_denied(
                "the caller needs dynamodb:Query (the stack's EventReaderPolicyArn grants the \
                 table; see docs/query.md)",
            ),
            _ => call.when_not_found("else").when_refused("else"),
        };
        err.hint
    }

    #[test]
    fn the_hint_follows_the_failure() {
        assert!(hint(Failure::NoAnswer {
            cause: "connection refused"
        })
        .contains("is up and reachable"));
        assert!(hint(Failure::Denied).contains("EventReaderPolicyArn"));
        assert_eq!(hint(Failure::NotFound), "else");
        assert!(hint(Failure::NoCredentials).starts_with("set AWS_PROFILE"));
    }

    #[test]
    fn an_erased_sdk_error_keeps_its_kind() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let err = call_erased("DynamoDB", "Query(t)".into(), &io, "dynamodb:Query", "else");
        let text = err.to_string();
        assert!(
            text.starts_with("DynamoDB Query(t) failed: refused;"),
            "{text}"
        );
        assert!(text.contains("is up and reachable"), "{text}");
    }
}
