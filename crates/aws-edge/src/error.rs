//! One reading of AWS SDK errors for every tool: what kind of failure it is, decided from
//! the `SdkError` variant, the connector's error kind, the credentials error type and the
//! service's error code — never from the text of a message — and one line that says it
//! and what to check.
//!
//! The single exception is CloudFormation's answer for a stack that does not exist: its code
//! is the generic `ValidationError`, and only its message (`Stack with id X does not exist`)
//! tells it from a malformed request, so [`Failure::of_service`] reads that message.
//!
//! What to check also depends on where the call went ([`Endpoint`]): a request AWS refuses
//! is worth checking against the caller's permissions and the call's parameters, but an
//! emulator such as moto refuses calls it does not implement (with an HTML page, an HTTP 500
//! or 404, or its own error code), and no IAM policy changes that. So on an endpoint that
//! is not AWS, a refusal says the emulator may not support the call instead.

use std::error::Error as StdError;
use std::fmt;

use aws_credential_types::provider::error::CredentialsError;
use aws_smithy_runtime_api::client::result::{ConnectorError, SdkError};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_smithy_types::error::ErrorMetadata;

pub use crate::config::Endpoint;

/// What kind of failure a call had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// No (complete) answer: connection refused or dropped, a timeout. The request may or
    /// may not have taken effect.
    NoAnswer {
        /// Why, in a word or two: `connection refused`, `timed out`, `connection dropped`,
        /// `no response`.
        cause: &'static str,
    },
    /// No credentials were found (or could be loaded) for the request.
    NoCredentials,
    /// The thing named does not exist (a stack, table, queue, stream, bucket, key).
    NotFound,
    /// The caller may not do this, or its credentials were refused.
    Denied,
    /// The service asks the caller to slow down.
    Throttled,
    /// Any other answer of the service.
    Service {
        /// Its error code, e.g. `ValidationException` (the message is the call's detail).
        code: String,
        /// Whether the service said it failed itself (an HTTP 5xx): worth retrying.
        server_side: bool,
    },
}

/// Error codes AWS services use for "slow down".
const THROTTLING_CODES: &[&str] = &[
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "Throttling",
    "ThrottledException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "RequestThrottledException",
    "TooManyRequestsException",
    "SlowDown",
    "KMSThrottlingException",
    "LimitExceededException",
    "AWS.SimpleQueueService.RequestThrottled",
];

/// Error codes that say the named thing does not exist.
const NOT_FOUND_CODES: &[&str] = &[
    "ResourceNotFoundException",
    "ResourceNotFound",
    "NotFound",
    "NoSuchBucket",
    "NoSuchKey",
    "NotFoundException",
    "StackNotFoundException",
    "QueueDoesNotExist",
    "AWS.SimpleQueueService.NonExistentQueue",
    "NonExistentQueue",
    "ChangeSetNotFound",
];

/// Error codes that say the caller may not, or that its credentials were refused.
const DENIED_CODES: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "AuthorizationError",
    "UnauthorizedOperation",
    "NotAuthorized",
    "KMSAccessDeniedException",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "ExpiredTokenException",
];

/// Error codes of a service that failed itself.
const SERVER_CODES: &[&str] = &[
    "InternalServerError",
    "InternalFailure",
    "InternalError",
    "ServiceUnavailable",
    "ServiceUnavailableException",
];

impl Failure {
    /// The failure an SDK error stands for.
    pub fn of<E, R>(err: &SdkError<E, R>) -> Failure
    where
        E: ProvideErrorMetadata + StdError + 'static,
        R: fmt::Debug + 'static,
    {
        if has_credentials_error(err) {
            return Failure::NoCredentials;
        }
        match err {
            SdkError::TimeoutError(_) => Failure::NoAnswer { cause: "timed out" },
            SdkError::DispatchFailure(dispatch) => match dispatch.as_connector_error() {
                Some(connector) => Failure::NoAnswer {
                    cause: connector_cause(connector),
                },
                None => Failure::NoAnswer {
                    cause: "no response",
                },
            },
            SdkError::ResponseError(_) => Failure::NoAnswer {
                cause: "connection dropped",
            },
            SdkError::ServiceError(service) => {
                let meta = service.err().meta();
                Failure::of_service(meta, server_status(service.raw()))
            }
            _ => match err.meta().code() {
                Some(_) => Failure::of_service(err.meta(), false),
                None => Failure::Service {
                    code: String::new(),
                    server_side: false,
                },
            },
        }
    }

    /// The failure of an error whose SDK type is not known here (an interceptor's, a boxed
    /// one): read from the types in its chain of causes.
    pub fn of_dyn(err: &(dyn StdError + 'static)) -> Failure {
        if has_credentials_error(err) {
            return Failure::NoCredentials;
        }
        let mut next = Some(err);
        while let Some(current) = next {
            if let Some(meta) = current.downcast_ref::<ErrorMetadata>() {
                return Failure::of_service(meta, false);
            }
            if let Some(connector) = current.downcast_ref::<ConnectorError>() {
                return Failure::NoAnswer {
                    cause: connector_cause(connector),
                };
            }
            next = current.source();
        }
        Failure::NoAnswer {
            cause: io_cause(err).unwrap_or("no response"),
        }
    }

    /// The failure a service's answer with `meta` stands for; `server_side` when its HTTP
    /// status was a 5xx.
    pub fn of_service(meta: &ErrorMetadata, server_side: bool) -> Failure {
        let code = meta.code().unwrap_or_default();
        let message = meta.message().unwrap_or_default();
        if THROTTLING_CODES.contains(&code) {
            Failure::Throttled
        } else if DENIED_CODES.contains(&code) {
            Failure::Denied
        } else if NOT_FOUND_CODES.contains(&code)
            || (code == "ValidationError" && message.ends_with("does not exist"))
        {
            Failure::NotFound
        } else {
            Failure::Service {
                code: code.to_owned(),
                server_side: server_side || SERVER_CODES.contains(&code),
            }
        }
    }

    /// Whether the same request may succeed later: no answer, throttling, a service that
    /// failed itself.
    pub fn is_retryable(&self) -> bool {
        match self {
            Failure::NoAnswer { .. } | Failure::Throttled => true,
            Failure::Service { server_side, .. } => *server_side,
            Failure::NoCredentials | Failure::NotFound | Failure::Denied => false,
        }
    }

    /// What to check, when nothing more specific is known.
    pub fn default_hint(&self) -> &'static str {
        match self {
            Failure::NoAnswer { .. } => {
                "check that the endpoint (--endpoint-url, AWS_ENDPOINT_URL, the region) is up \
                 and reachable"
            }
            Failure::NoCredentials => NO_CREDENTIALS_HINT,
            Failure::NotFound => "check the name and --region",
            Failure::Denied => {
                "check the caller's permissions: docs/access.md lists what each tool calls"
            }
            Failure::Throttled => "the service is throttling the caller; run again later",
            Failure::Service { .. } => "the service refused the request",
        }
    }

    /// What to check when nothing more specific is known, for a call to `endpoint`: the
    /// [`default_hint`](Failure::default_hint), except that a refusal by an endpoint that is
    /// not AWS says the emulator may not support the call.
    pub fn hint_at(&self, endpoint: &Endpoint) -> String {
        match (self, endpoint) {
            (Failure::Service { .. }, Endpoint::Other(url)) => emulator_hint(url),
            _ => self.default_hint().to_owned(),
        }
    }
}

/// What a refusal by `url`, an endpoint that is not AWS, most likely means.
fn emulator_hint(url: &str) -> String {
    format!(
        "{url} is not AWS: the emulator there may not implement or support this call (or \
         one of its parameters); docs/moto.md lists what moto lacks"
    )
}

/// What to do when no credentials were found: the SDK's own text names only the last place
/// it looked (the instance metadata service).
pub const NO_CREDENTIALS_HINT: &str = "set AWS_PROFILE, or AWS_ACCESS_KEY_ID and \
     AWS_SECRET_ACCESS_KEY (against moto any values do)";

fn server_status<R: fmt::Debug + 'static>(raw: &R) -> bool {
    let raw: &dyn std::any::Any = raw;
    raw.downcast_ref::<aws_smithy_runtime_api::client::orchestrator::HttpResponse>()
        .is_some_and(|r| r.status().is_server_error())
}

fn has_credentials_error(err: &(dyn StdError + 'static)) -> bool {
    let mut next = Some(err);
    while let Some(current) = next {
        if current.downcast_ref::<CredentialsError>().is_some() {
            return true;
        }
        next = current.source();
    }
    false
}

fn connector_cause(connector: &ConnectorError) -> &'static str {
    if connector.is_timeout() {
        "timed out"
    } else {
        io_cause(connector).unwrap_or(if connector.is_io() {
            "connection dropped"
        } else {
            "no response"
        })
    }
}

/// The cause an I/O error in `err`'s chain gives, by its kind.
fn io_cause(err: &(dyn StdError + 'static)) -> Option<&'static str> {
    use std::io::ErrorKind;
    let mut next = Some(err);
    while let Some(current) = next {
        if let Some(io) = current.downcast_ref::<std::io::Error>() {
            return Some(match io.kind() {
                ErrorKind::ConnectionRefused => "connection refused",
                ErrorKind::TimedOut | ErrorKind::WouldBlock => "timed out",
                ErrorKind::ConnectionReset
                | ErrorKind::ConnectionAborted
                | ErrorKind::BrokenPipe
                | ErrorKind::UnexpectedEof
                | ErrorKind::NotConnected => "connection dropped",
                _ => "no response",
            });
        }
        next = current.source();
    }
    None
}

/// A call that failed: which one, what kind of failure, what the service or the connection
/// said, and what to check. Its text is one line:
/// `CloudFormation DescribeStacks(demo) failed: ValidationError: Stack with id demo does not
/// exist; check --stack-name and --region`.
///
/// The endpoint is the process's ([`crate::config::in_use`]) unless [`CallError::at`] says
/// otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallError {
    /// The service and call, e.g. `CloudFormation DescribeStacks(demo)`.
    pub call: String,
    /// What kind of failure.
    pub failure: Failure,
    /// What was said, on one line: `Code: message` for a service's answer, else the
    /// error and its causes.
    pub detail: String,
    /// What to check.
    pub hint: String,
    /// Whether the call went to AWS itself (a `bool`, not the [`Endpoint`]: the error stays
    /// small enough to return by value).
    on_aws: bool,
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed: {}; {}", self.call, self.detail, self.hint)
    }
}

impl StdError for CallError {}

impl CallError {
    /// The error of `call` for SDK error `err`, with the failure's default hint.
    pub fn new<E, R>(call: impl Into<String>, err: &SdkError<E, R>) -> CallError
    where
        E: ProvideErrorMetadata + StdError + 'static,
        R: fmt::Debug + 'static,
    {
        let detail = match err {
            // A typed error of the operation (`DescribeTableError::ResourceNotFoundException`)
            // does not carry its metadata in its chain of causes: read it from the error.
            SdkError::ServiceError(service)
                if service.err().meta().code().is_some()
                    || service.err().meta().message().is_some() =>
            {
                service_answer(service.err().meta())
            }
            _ => describe(err),
        };
        CallError::with_failure(call, Failure::of(err), detail)
    }

    /// The error of `call` for an error whose SDK type is not known here.
    pub fn from_dyn(call: impl Into<String>, err: &(dyn StdError + 'static)) -> CallError {
        CallError::with_failure(call, Failure::of_dyn(err), describe(err))
    }

    /// The error of `call` with a `failure` decided elsewhere and its `detail`.
    pub fn with_failure(
        call: impl Into<String>,
        failure: Failure,
        detail: impl Into<String>,
    ) -> CallError {
        let endpoint = crate::config::in_use();
        CallError {
            call: call.into(),
            hint: failure.hint_at(&endpoint),
            failure,
            detail: detail.into(),
            on_aws: endpoint.is_aws(),
        }
    }

    /// The same error for a call that went to `endpoint`, with the hint that endpoint's
    /// default is ([`Failure::hint_at`]); call it before the `when_*` methods.
    pub fn at(mut self, endpoint: Endpoint) -> CallError {
        self.hint = self.failure.hint_at(&endpoint);
        self.on_aws = endpoint.is_aws();
        self
    }

    /// Whether the call went to AWS itself rather than another endpoint (moto).
    pub fn on_aws(&self) -> bool {
        self.on_aws
    }

    /// Says `hint` instead when the thing named does not exist.
    pub fn when_not_found(self, hint: impl Into<String>) -> CallError {
        self.when(|f| *f == Failure::NotFound, hint)
    }

    /// Says `hint` instead when access was denied.
    pub fn when_denied(self, hint: impl Into<String>) -> CallError {
        self.when(|f| *f == Failure::Denied, hint)
    }

    /// Says `hint` instead for any answer of the service that is not one of the named kinds,
    /// when the endpoint is AWS. An endpoint that is not AWS keeps saying that the emulator
    /// may not support the call: a permission or a parameter is rarely what an emulator
    /// refuses.
    pub fn when_refused(self, hint: impl Into<String>) -> CallError {
        let on_aws = self.on_aws;
        self.when(|f| on_aws && matches!(f, Failure::Service { .. }), hint)
    }

    fn when(mut self, applies: impl Fn(&Failure) -> bool, hint: impl Into<String>) -> CallError {
        if applies(&self.failure) {
            self.hint = hint.into();
        }
        self
    }

    /// Whether the same call may succeed later ([`Failure::is_retryable`]).
    pub fn is_retryable(&self) -> bool {
        self.failure.is_retryable()
    }
}

/// One line for an SDK error and its causes, without the SDK's debug dump.
///
/// An error the service answered with is said as the service said it, `Code: message`
/// (the SDK's own text for one it has no type for is `service error: unhandled error
/// (Code): Error { code: .., message: .., aws_request_id: .. }`); anything else is the
/// error and each cause that adds to it, joined by `: `. Missing credentials are named as
/// such first.
pub fn describe(err: &(dyn StdError + 'static)) -> String {
    let mut text = err.to_string();
    let mut cause = Some(err);
    while let Some(next) = cause {
        if let Some(answer) = next.downcast_ref::<ErrorMetadata>() {
            text = service_answer(answer);
            break;
        }
        let part = next.to_string();
        if !text.contains(&part) {
            text = format!("{text}: {part}");
        }
        cause = next.source();
    }
    if has_credentials_error(err) {
        text = format!("no AWS credentials found; {text}");
    }
    text
}

/// `Code: message` of an error the service answered with, either part left out when the
/// answer lacks it.
fn service_answer(answer: &ErrorMetadata) -> String {
    match (answer.code(), answer.message()) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.to_owned(),
        (None, Some(message)) => message.to_owned(),
        (None, None) => "the service refused the request without saying why".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
    use aws_smithy_runtime_api::client::result::ServiceError;
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;

    /// An operation error as the SDK generates them: metadata and nothing else.
    #[derive(Debug)]
    struct OpError(ErrorMetadata);

    impl fmt::Display for OpError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "unhandled error ({})", self.0.code().unwrap_or("?"))
        }
    }

    impl StdError for OpError {
        fn source(&self) -> Option<&(dyn StdError + 'static)> {
            Some(&self.0)
        }
    }

    impl ProvideErrorMetadata for OpError {
        fn meta(&self) -> &ErrorMetadata {
            &self.0
        }
    }

    fn answer(status: u16, code: &str, message: &str) -> SdkError<OpError, HttpResponse> {
        let meta = ErrorMetadata::builder().code(code).message(message).build();
        let raw = HttpResponse::new(StatusCode::try_from(status).unwrap(), SdkBody::empty());
        SdkError::ServiceError(
            ServiceError::builder()
                .source(OpError(meta))
                .raw(raw)
                .build(),
        )
    }

    fn refused() -> SdkError<OpError, HttpResponse> {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "tcp connect error");
        SdkError::dispatch_failure(ConnectorError::io(Box::new(io)))
    }

    #[test]
    fn answers_are_classified_by_their_code() {
        let kind = |status, code| Failure::of(&answer(status, code, "m"));
        assert_eq!(kind(400, "ThrottlingException"), Failure::Throttled);
        assert_eq!(
            kind(400, "ProvisionedThroughputExceededException"),
            Failure::Throttled
        );
        assert_eq!(kind(400, "AccessDeniedException"), Failure::Denied);
        assert_eq!(kind(400, "ResourceNotFoundException"), Failure::NotFound);
        assert_eq!(
            Failure::of(&answer(
                400,
                "ValidationError",
                "Stack with id x does not exist"
            )),
            Failure::NotFound
        );
        assert_eq!(
            kind(400, "ValidationException"),
            Failure::Service {
                code: "ValidationException".into(),
                server_side: false
            }
        );
        assert!(kind(503, "Whatever").is_retryable());
        assert!(kind(400, "InternalServerError").is_retryable());
        assert!(!kind(400, "ValidationException").is_retryable());
        assert!(!kind(400, "AccessDeniedException").is_retryable());
    }

    #[test]
    fn no_answer_is_told_by_the_connector_and_io_kind() {
        assert_eq!(
            Failure::of(&refused()),
            Failure::NoAnswer {
                cause: "connection refused"
            }
        );
        let reset = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset");
        let dropped: SdkError<OpError, HttpResponse> =
            SdkError::dispatch_failure(ConnectorError::io(Box::new(reset)));
        assert_eq!(
            Failure::of(&dropped),
            Failure::NoAnswer {
                cause: "connection dropped"
            }
        );
        let slow: SdkError<OpError, HttpResponse> =
            SdkError::dispatch_failure(ConnectorError::timeout("slow".into()));
        assert_eq!(Failure::of(&slow), Failure::NoAnswer { cause: "timed out" });
        assert!(Failure::of(&refused()).is_retryable());
    }

    #[test]
    fn missing_credentials_are_found_by_type() {
        let creds = CredentialsError::not_loaded("no providers in chain provided credentials");
        let err: SdkError<OpError, HttpResponse> =
            SdkError::dispatch_failure(ConnectorError::other(Box::new(creds), None));
        assert_eq!(Failure::of(&err), Failure::NoCredentials);
        let call = CallError::new("Kinesis PutRecords(s)", &err);
        assert!(
            call.detail.starts_with("no AWS credentials found; "),
            "{}",
            call.detail
        );
        assert!(call.to_string().ends_with(NO_CREDENTIALS_HINT));
    }

    #[test]
    fn a_call_error_is_one_line_ending_with_the_hint() {
        let err = CallError::new(
            "CloudFormation DescribeStacks(nope)",
            &answer(400, "ValidationError", "Stack with id nope does not exist"),
        )
        .when_not_found("check --stack-name and --region")
        .when_denied("needs cloudformation:DescribeStacks");
        assert_eq!(
            err.to_string(),
            "CloudFormation DescribeStacks(nope) failed: ValidationError: Stack with id nope \
             does not exist; check --stack-name and --region"
        );
        let down = CallError::new("DynamoDB Query(t)", &refused());
        assert!(!down.to_string().contains('\n'));
        assert!(down
            .to_string()
            .ends_with(Failure::NoAnswer { cause: "" }.default_hint()));
        let refused_call = CallError::new(
            "SQS SendMessage(q)",
            &answer(400, "InvalidParameterValue", "x"),
        )
        .at(Endpoint::Aws)
        .when_refused("the body is too large");
        assert!(refused_call
            .to_string()
            .ends_with("; the body is too large"));
    }

    #[test]
    fn a_refusal_by_an_emulator_says_it_may_not_support_the_call_not_to_check_permissions() {
        let moto = Endpoint::Other("http://127.0.0.1:5000".into());
        let permissions = "the caller needs logs:FilterLogEvents (attach the stack's policy)";
        // moto answers a call it does not implement with an HTML page and HTTP 500.
        for refusal in [
            answer(500, "", "<html>Internal Server Error</html>"),
            answer(400, "InvalidAction", "not implemented"),
        ] {
            let err = CallError::new("CloudWatchLogs FilterLogEvents(g)", &refusal)
                .at(moto.clone())
                .when_refused(permissions);
            let text = err.to_string();
            assert!(
                text.ends_with(
                    "; http://127.0.0.1:5000 is not AWS: the emulator there may not implement \
                     or support this call (or one of its parameters); docs/moto.md lists what \
                     moto lacks"
                ),
                "{text}"
            );
            assert!(!text.contains("the caller needs"), "{text}");
            assert!(!text.contains("refused the request"), "{text}");
            // On AWS the same refusal keeps the caller's advice.
            let on_aws = CallError::new("CloudWatchLogs FilterLogEvents(g)", &refusal)
                .at(Endpoint::Aws)
                .when_refused(permissions);
            assert!(on_aws.to_string().ends_with(permissions), "{on_aws}");
        }
        // Other kinds of failure keep their hints on an emulator too.
        let missing = CallError::new(
            "CloudFormation DescribeStacks(nope)",
            &answer(400, "ValidationError", "Stack with id nope does not exist"),
        )
        .at(moto.clone())
        .when_not_found("check --stack-name");
        assert!(missing.to_string().ends_with("; check --stack-name"));
        assert_eq!(
            Failure::of(&refused()).hint_at(&moto),
            Failure::of(&refused()).default_hint()
        );
    }

    /// An operation error of a modeled type (`ResourceNotFoundException`): its metadata is
    /// not among its causes.
    #[derive(Debug)]
    struct Modeled(ErrorMetadata);

    impl fmt::Display for Modeled {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("ResourceNotFoundException")
        }
    }

    impl StdError for Modeled {}

    impl ProvideErrorMetadata for Modeled {
        fn meta(&self) -> &ErrorMetadata {
            &self.0
        }
    }

    #[test]
    fn a_modeled_answer_is_said_as_code_and_message() {
        let meta = ErrorMetadata::builder()
            .code("ResourceNotFoundException")
            .message("Requested resource not found")
            .build();
        let raw = HttpResponse::new(StatusCode::try_from(400).unwrap(), SdkBody::empty());
        let err: SdkError<Modeled, HttpResponse> = SdkError::service_error(Modeled(meta), raw);
        let call = CallError::new("DynamoDB DescribeTable(t)", &err);
        assert_eq!(
            call.detail,
            "ResourceNotFoundException: Requested resource not found"
        );
        assert_eq!(call.failure, Failure::NotFound);
    }

    #[test]
    fn an_erased_error_is_read_from_its_causes() {
        let err = refused();
        assert_eq!(
            Failure::of_dyn(&err),
            Failure::NoAnswer {
                cause: "connection refused"
            }
        );
        let answered = answer(400, "AccessDenied", "no");
        assert_eq!(Failure::of_dyn(&answered), Failure::Denied);
        assert_eq!(describe(&answered), "AccessDenied: no");
        let bare = SdkError::<OpError, HttpResponse>::ServiceError(
            ServiceError::builder()
                .source(OpError(ErrorMetadata::builder().build()))
                .raw(HttpResponse::new(
                    StatusCode::try_from(400).unwrap(),
                    SdkBody::empty(),
                ))
                .build(),
        );
        assert_eq!(
            describe(&bare),
            "the service refused the request without saying why"
        );
    }
}
