//! verify's errors: each one plain line naming the service, the operation and what to check.

use aws_sdk_cloudformation::error::SdkError;

/// Why verify could not finish its checks (as opposed to checks that failed, which a
/// [`crate::report::Report`] lists).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An AWS call failed.
    #[error("{service} {operation} failed: {detail}; {hint}")]
    Call {
        /// The service, e.g. `DynamoDB`.
        service: &'static str,
        /// The operation and what it was on, e.g. `Query(retail-events-dev-events)`.
        operation: String,
        /// The SDK's error and its causes in one line.
        detail: String,
        /// What to check.
        hint: String,
    },
    /// The stack lacks an output verify reads.
    #[error(
        "stack {stack} has no output {output}; verify needs StreamName, TableName, \
         DeadLetterQueueUrl, LogGroupName and FunctionName (is it this project's stack, and \
         is its creation complete? make outputs lists what it has)"
    )]
    MissingOutput {
        /// The stack.
        stack: String,
        /// The output.
        output: &'static str,
    },
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

/// What to say when a call could not reach the service at all.
pub(crate) const UNREACHABLE: &str =
    "check that the endpoint is reachable (--endpoint-url or AWS_ENDPOINT_URL, the region, the network)";

/// An [`Error::Call`] for `err`. `hint` says which permission or resource to check; it is
/// replaced by [`UNREACHABLE`]'s advice when the request never got an answer.
pub fn call<E, R>(
    service: &'static str,
    operation: impl Into<String>,
    err: &SdkError<E, R>,
    hint: impl Into<String>,
) -> Error
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    let unreachable = matches!(
        err,
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_)
    );
    let detail = local_runner::aws::describe(err);
    let hint = if unreachable && !detail.starts_with("no AWS credentials") {
        UNREACHABLE.to_owned()
    } else {
        hint.into()
    };
    Error::Call {
        service,
        operation: operation.into(),
        detail,
        hint,
    }
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
    fn a_call_error_is_one_line_naming_service_operation_and_what_to_check() {
        let err = Error::Call {
            service: "DynamoDB",
            operation: "Query(events)".into(),
            detail: "service error: AccessDeniedException: not authorized".into(),
            hint: policy_hint("dynamodb:Query", "EventReaderPolicy"),
        };
        let text = err.to_string();
        assert!(!text.contains('\n'));
        assert!(text.starts_with("DynamoDB Query(events) failed: service error"));
        assert!(text.ends_with("output EventReaderPolicyArn to the role or user running verify)"));
    }

    #[test]
    fn a_missing_output_names_the_stack_and_the_output() {
        let err = Error::MissingOutput {
            stack: "s".into(),
            output: "TableName",
        };
        assert!(err
            .to_string()
            .starts_with("stack s has no output TableName;"));
    }
}
