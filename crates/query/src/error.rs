//! What can go wrong after the arguments were accepted: each is one plain line naming the
//! service, the operation and what to check, and exit status 1.

use crate::layout::NoIndex;

/// A failure of the query.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An AWS call failed.
    #[error("{service} {operation} failed: {error}; {hint}")]
    Call {
        /// The service, e.g. `DynamoDB`.
        service: &'static str,
        /// The operation and its subject, e.g. `Query(EventTypeIndex, purchase#3)`.
        operation: String,
        /// The SDK's error, on one line.
        error: String,
        /// What to check.
        hint: String,
    },
    /// The stack has no `TableName` output.
    #[error(
        "stack {stack} has no output TableName; is its creation complete? (make outputs lists \
         what it has)"
    )]
    NoTableOutput {
        /// The stack.
        stack: String,
    },
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
}

/// An [`Error::Call`] for an SDK error of `operation` on `service`. The hint says what to
/// check: the endpoint when there was no answer, the permission `action` (and where it
/// comes from) when access was denied, else `otherwise`.
pub fn call(
    service: &'static str,
    operation: String,
    err: &(dyn std::error::Error + 'static),
    action: &str,
    otherwise: &str,
) -> Error {
    from_text(
        service,
        operation,
        local_runner::aws::describe(err),
        action,
        otherwise,
    )
}

/// [`call`] for an error already described as text (local-runner's discovery errors).
pub fn from_text(
    service: &'static str,
    operation: String,
    error: String,
    action: &str,
    otherwise: &str,
) -> Error {
    // local-runner puts its own endpoint hint first; this one says it once, at the end.
    let error = match error.strip_prefix("no answer") {
        Some(rest) => rest
            .split_once("; ")
            .map_or(error.clone(), |(_, sdk)| sdk.to_owned()),
        None => error,
    };
    let hint = if error.starts_with("no AWS credentials found") {
        "set credentials as above, then run again".to_owned()
    } else if local_runner::health::is_no_answer(&error) {
        format!(
            "no answer ({}): check that the endpoint (--endpoint-url, AWS_ENDPOINT_URL) is up \
             and reachable",
            local_runner::health::cause(&error)
        )
    } else if error.contains("AccessDenied") || error.contains("not authorized") {
        format!(
            "the caller needs {action} (the stack's EventReaderPolicyArn grants the table; see \
             docs/query.md)"
        )
    } else {
        otherwise.to_owned()
    };
    Error::Call {
        service,
        operation,
        error,
        hint,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hint(error: &str) -> String {
        match from_text(
            "DynamoDB",
            "Query(t)".into(),
            error.into(),
            "dynamodb:Query",
            "else",
        ) {
            Error::Call { hint, .. } => hint,
            other => panic!("{other}"),
        }
    }

    #[test]
    fn the_hint_follows_the_failure() {
        assert_eq!(
            hint("dispatch failure: io error: Connection refused (os error 111)"),
            "no answer (connection refused): check that the endpoint (--endpoint-url, \
             AWS_ENDPOINT_URL) is up and reachable"
        );
        assert_eq!(
            hint("service error: AccessDeniedException: no"),
            "the caller needs dynamodb:Query (the stack's EventReaderPolicyArn grants the \
             table; see docs/query.md)"
        );
        assert_eq!(hint("service error: ResourceNotFoundException"), "else");
        assert_eq!(
            hint("no AWS credentials found: set AWS_PROFILE; dispatch failure: other"),
            "set credentials as above, then run again"
        );
    }

    #[test]
    fn one_line_names_service_operation_error_and_hint() {
        let error = from_text(
            "CloudFormation",
            "DescribeStacks(s)".into(),
            "no answer (connection refused): check that the endpoint is up and reachable; \
             dispatch failure: Connection refused"
                .into(),
            "cloudformation:DescribeStacks",
            "else",
        );
        assert_eq!(
            error.to_string(),
            "CloudFormation DescribeStacks(s) failed: dispatch failure: Connection refused; no \
             answer \
(connection refused): check that the endpoint (--endpoint-url, AWS_ENDPOINT_URL) is \
             up and reachable"
        );
    }
}
