//! verify's errors: each one plain line naming the service, the operation and what to check.
//! AWS calls fail with `aws_edge`'s [`CallError`], classified by the SDK error's kind.

use aws_edge::error::CallError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use deployed_stack::StackError;
use producer::send::CallError as PutError;

/// Why verify could not finish its checks (as opposed to checks that failed, which a
/// [`crate::report::Report`] lists).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An AWS call failed.
    #[error(transparent)]
    Call(#[from] CallError),
    /// The stack could not be read, or lacks an output verify reads (StreamName,
    /// TableName, DeadLetterQueueUrl, LogGroupName, FunctionName).
    #[error(transparent)]
    Stack(#[from] StackError),
    /// Records the stream did not take, even after retries.
    #[error(
        "Kinesis PutRecords on {stream}: {failed} of {total} records were not accepted after \
         retries (last: {last}); check the stream's capacity (throttling) and run verify again"
    )]
    NotSent {
        /// The stream.
        stream: String,
        /// Records given up on.
        failed: usize,
        /// Records of the batch.
        total: usize,
        /// The last entry error.
        last: String,
    },
}

/// An [`Error::Call`] for `err` of `operation` on `service`. `hint` says which permission
/// or resource to check when the service answered with a refusal; a call without an
/// answer, or without credentials, says what to check for that instead.
pub fn call<E, R>(
    service: &'static str,
    operation: impl Into<String>,
    err: &aws_smithy_runtime_api::client::result::SdkError<E, R>,
    hint: impl Into<String>,
) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    let hint = hint.into();
    Error::Call(
        CallError::new(format!("{service} {}", operation.into()), err)
            .when_denied(hint.clone())
            .when_not_found(hint.clone())
            .when_refused(hint),
    )
}

/// An [`Error::Call`] for a PutRecords call of the producer's sender on `stream` that
/// failed as a whole.
pub fn put_error(stream: &str, err: PutError) -> Error {
    use aws_edge::error::Failure;
    let (failure, detail) = match err {
        PutError::NoAnswer(detail) => (
            Failure::NoAnswer {
                cause: "no response",
            },
            detail,
        ),
        PutError::Transient(detail) => (Failure::Throttled, detail),
        PutError::Fatal(detail) => (
            Failure::Service {
                code: String::new(),
                server_side: false,
            },
            detail,
        ),
    };
    Error::Call(
        CallError::with_failure(format!("Kinesis PutRecords({stream})"), failure, detail)
            .when_refused(policy_hint("kinesis:PutRecords", "ProducerPolicy")),
    )
}

/// The advice for a call that the stack's managed policy `policy` (output `output`) allows.
pub fn policy_hint(action: &str, policy: &str) -> String {
    format!(
        "the caller needs {action}, which the stack's {policy} grants (attach the ARN in \
         its output {policy}Arn to the role or user running verify)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_put_names_the_policy_and_one_without_answer_the_endpoint() {
        let refused = put_error("s", PutError::Fatal("AccessDeniedException: no".into()));
        let text = refused.to_string();
        assert!(!text.contains('\n'));
        assert!(text.starts_with("Kinesis PutRecords(s) failed: AccessDeniedException: no;"));
        assert!(text.ends_with("output ProducerPolicyArn to the role or user running verify)"));
        let silent = put_error("s", PutError::NoAnswer("cannot reach Kinesis".into()));
        assert!(
            silent.to_string().contains("is up and reachable"),
            "{silent}"
        );
    }
}
