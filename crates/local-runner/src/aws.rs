//! The AWS calls of discovery and of the on-failure destination.

use std::time::Duration;

use aws_config::SdkConfig;
use serde_json::Value;

use crate::discovery::{
    self, DiscoveryError, FunctionConfig, MappingConfig, Outputs, Overrides, Target,
};
use crate::health::{cause, is_no_answer, Watch};
use crate::mapping::Destination;

/// An SDK configuration for `endpoint` (or AWS's) in `region` (or the SDK's chain, else
/// us-east-1). Connections time out after 3 s so an unreachable endpoint is an error, not
/// a hang; `attempts` is the SDK's own attempts per call.
pub async fn sdk_config(endpoint: Option<&str>, region: Option<&str>, attempts: u32) -> SdkConfig {
    let region = aws_config::meta::region::RegionProviderChain::first_try(
        region.map(|r| aws_config::Region::new(r.to_owned())),
    )
    .or_default_provider()
    .or_else("us-east-1");
    let timeouts = aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(3))
        .operation_attempt_timeout(Duration::from_secs(60))
        .build();
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(region)
        .timeout_config(timeouts)
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(attempts));
    if let Some(url) = endpoint {
        loader = loader.endpoint_url(url);
    }
    loader.load().await
}

/// Connections the runner makes time out after this long.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// One attempt of one call of the runner times out after this long: a frozen endpoint is
/// found out in seconds, whatever the function's timeout.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// A whole call of the runner's, retries included, times out after this long.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(25);

/// [`sdk_config`] with the runner's bounds: connections time out after
/// [`CONNECT_TIMEOUT`], attempts after [`ATTEMPT_TIMEOUT`], calls (all `attempts`) after
/// [`CALL_TIMEOUT`], so no call waits longer than that for an endpoint that has gone.
pub async fn bounded_config(
    endpoint: Option<&str>,
    region: Option<&str>,
    attempts: u32,
) -> SdkConfig {
    let timeouts = aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .operation_timeout(CALL_TIMEOUT)
        .build();
    sdk_config(endpoint, region, attempts)
        .await
        .into_builder()
        .timeout_config(timeouts)
        .build()
}

/// A Kinesis client on `config` whose attempts report to `watch`.
pub fn watched_kinesis(config: &SdkConfig, watch: Watch) -> aws_sdk_kinesis::Client {
    let conf = aws_sdk_kinesis::config::Builder::from(config)
        .interceptor(watch)
        .build();
    aws_sdk_kinesis::Client::from_conf(conf)
}

/// A DynamoDB client on `config` whose attempts report to `watch`.
pub fn watched_dynamodb(config: &SdkConfig, watch: Watch) -> aws_sdk_dynamodb::Client {
    let conf = aws_sdk_dynamodb::config::Builder::from(config)
        .interceptor(watch)
        .build();
    aws_sdk_dynamodb::Client::from_conf(conf)
}

/// An SQS client on `config` whose attempts report to `watch`.
pub fn watched_sqs(config: &SdkConfig, watch: Watch) -> aws_sdk_sqs::Client {
    let conf = aws_sdk_sqs::config::Builder::from(config)
        .interceptor(watch)
        .build();
    aws_sdk_sqs::Client::from_conf(conf)
}

/// One line for an SDK error and its causes, without the SDK's debug dump.
///
/// An error the service answered with is said as the service said it, `Code: message`
/// (the SDK's own text for one it has no type for is `service error: unhandled error
/// (Code): Error { code: .., message: .., aws_request_id: .. }`); anything else is the
/// error and each cause that adds to it, joined by `: `.
pub fn describe(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut cause = Some(err);
    while let Some(next) = cause {
        if let Some(answer) = next.downcast_ref::<aws_sdk_kinesis::error::ErrorMetadata>() {
            text = service_answer(answer);
            break;
        }
        let part = next.to_string();
        if !text.contains(&part) {
            text = format!("{text}: {part}");
        }
        cause = next.source();
    }
    if text.contains("loading credentials") || text.contains("no credentials found") {
        text = format!("{NO_CREDENTIALS_HINT}; {text}");
    }
    text
}

/// `Code: message` of an error the service answered with, either part left out when the
/// answer lacks it.
fn service_answer(answer: &aws_sdk_kinesis::error::ErrorMetadata) -> String {
    match (answer.code(), answer.message()) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.to_owned(),
        (None, Some(message)) => message.to_owned(),
        (None, None) => "the service refused the request without saying why".to_owned(),
    }
}

/// Said after an error that comes from finding no credentials: the SDK's own text names
/// only the last place it looked (the instance metadata service).
const NO_CREDENTIALS_HINT: &str = "no AWS credentials found: set AWS_PROFILE, or \
     AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (against moto any values do)";

/// What to check after a service's answer that names a common cause: a name that does
/// not exist (the stack's, in another region) or permissions the caller lacks.
fn what_to_check(error: &str) -> Option<&'static str> {
    if error.contains("does not exist") || error.contains("NotFound") {
        Some("check --stack-name and --region (make outputs lists the stack's resources)")
    } else if error.contains("AccessDenied") || error.contains("not authorized") {
        Some("check the caller's permissions: docs/access.md lists what each tool calls")
    } else {
        None
    }
}

/// Turns an SDK error of `call` into a [`DiscoveryError`] naming the call; an error that
/// is no answer at all says what to check.
pub fn call_error(
    call: String,
) -> impl FnOnce(&(dyn std::error::Error + 'static)) -> DiscoveryError {
    move |err| {
        let mut error = describe(err);
        if is_no_answer(&error) {
            error = format!(
                "no answer ({}): check that the endpoint is up and reachable; {error}",
                cause(&error)
            );
        } else if let Some(hint) = what_to_check(&error) {
            error = format!("{error}; {hint}");
        }
        DiscoveryError::Call { call, error }
    }
}

/// Finds what to run from stack `stack`.
pub async fn discover(
    config: &SdkConfig,
    stack: &str,
    overrides: &Overrides,
) -> Result<Target, DiscoveryError> {
    let outputs = stack_outputs(config, stack).await?;
    let function_name =
        outputs
            .get("FunctionName")
            .cloned()
            .ok_or_else(|| DiscoveryError::Missing {
                what: "output FunctionName".into(),
                stack: stack.into(),
                hint: "is the stack created (CREATE_COMPLETE)?".into(),
            })?;
    let function = function_config(config, &function_name).await?;
    let mut mappings = mappings(config, &function_name).await?;
    for mapping in mappings.iter_mut().filter(|m| m.lacks_timestamp()) {
        complete_from_template(config, stack, mapping).await?;
    }
    let mut target = discovery::target(stack, &outputs, &function, &mappings, overrides)?;
    if let Some(name) = target
        .settings
        .on_failure
        .as_deref()
        .and_then(discovery::queue_name)
    {
        let sqs = aws_sdk_sqs::Client::new(config);
        let url = sqs
            .get_queue_url()
            .queue_name(name)
            .send()
            .await
            .map_err(|e| call_error(format!("SQS GetQueueUrl({name})"))(&e))?;
        target.on_failure_url = url.queue_url().map(str::to_owned);
    }
    Ok(target)
}

/// The outputs of stack `stack` by key.
pub async fn stack_outputs(config: &SdkConfig, stack: &str) -> Result<Outputs, DiscoveryError> {
    let cfn = aws_sdk_cloudformation::Client::new(config);
    let described = cfn
        .describe_stacks()
        .stack_name(stack)
        .send()
        .await
        .map_err(|e| call_error(format!("CloudFormation DescribeStacks({stack})"))(&e))?;
    let found = described
        .stacks()
        .first()
        .ok_or_else(|| DiscoveryError::Missing {
            what: "the stack".into(),
            stack: stack.into(),
            hint: "create it first (make local does)".into(),
        })?;
    Ok(found
        .outputs()
        .iter()
        .filter_map(|o| Some((o.output_key()?.to_owned(), o.output_value()?.to_owned())))
        .collect())
}

/// The configuration of function `name` (ARN, role, timeout, environment).
pub async fn function_config(
    config: &SdkConfig,
    name: &str,
) -> Result<FunctionConfig, DiscoveryError> {
    let lambda = aws_sdk_lambda::Client::new(config);
    let got = lambda
        .get_function_configuration()
        .function_name(name)
        .send()
        .await
        .map_err(|e| call_error(format!("Lambda GetFunctionConfiguration({name})"))(&e))?;
    Ok(FunctionConfig {
        arn: got.function_arn().unwrap_or_default().to_owned(),
        role: got.role().unwrap_or_default().to_owned(),
        timeout_secs: got
            .timeout()
            .and_then(|t| u64::try_from(t).ok())
            .unwrap_or(3),
        environment: got
            .environment()
            .and_then(|e| e.variables())
            .cloned()
            .unwrap_or_default(),
    })
}

async fn mappings(
    config: &SdkConfig,
    function: &str,
) -> Result<Vec<MappingConfig>, DiscoveryError> {
    let lambda = aws_sdk_lambda::Client::new(config);
    let listed = lambda
        .list_event_source_mappings()
        .function_name(function)
        .send()
        .await
        .map_err(|e| call_error(format!("Lambda ListEventSourceMappings({function})"))(&e))?;
    Ok(listed
        .event_source_mappings()
        .iter()
        .map(|m| MappingConfig {
            uuid: m.uuid().unwrap_or_default().to_owned(),
            event_source_arn: m.event_source_arn().unwrap_or_default().to_owned(),
            batch_size: m.batch_size().unwrap_or(100),
            window_secs: m.maximum_batching_window_in_seconds().unwrap_or(0),
            bisect: m.bisect_batch_on_function_error().unwrap_or(false),
            max_retries: m.maximum_retry_attempts().unwrap_or(-1),
            max_record_age_secs: m.maximum_record_age_in_seconds().unwrap_or(-1),
            report_item_failures: m
                .function_response_types()
                .iter()
                .any(|t| t.as_str() == "ReportBatchItemFailures"),
            on_failure: m
                .destination_config()
                .and_then(|d| d.on_failure())
                .and_then(|f| f.destination())
                .map(str::to_owned),
            starting_position: m.starting_position().map(|p| p.as_str().to_owned()),
            starting_position_timestamp: m.starting_position_timestamp().map(|t| t.as_secs_f64()),
            filter_patterns: m
                .filter_criteria()
                .map(|c| {
                    c.filters()
                        .iter()
                        .filter_map(|f| f.pattern().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
        })
        .collect())
}

/// Fills in what the Lambda API left out of `mapping` from the stack's template: moto
/// does not report StartingPositionTimestamp. The stack's resources tell which template
/// resource the mapping is (its physical ID is the mapping's UUID).
async fn complete_from_template(
    config: &SdkConfig,
    stack: &str,
    mapping: &mut MappingConfig,
) -> Result<(), DiscoveryError> {
    let cfn = aws_sdk_cloudformation::Client::new(config);
    let mut logical_id = None;
    let mut token: Option<String> = None;
    loop {
        let page = cfn
            .list_stack_resources()
            .stack_name(stack)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| call_error(format!("CloudFormation ListStackResources({stack})"))(&e))?;
        logical_id = logical_id.or_else(|| {
            page.stack_resource_summaries()
                .iter()
                .find(|r| r.physical_resource_id() == Some(mapping.uuid.as_str()))
                .and_then(|r| r.logical_resource_id())
                .map(str::to_owned)
        });
        token = page.next_token().map(str::to_owned);
        if token.is_none() || logical_id.is_some() {
            break;
        }
    }
    let body = cfn
        .get_template()
        .stack_name(stack)
        .send()
        .await
        .map_err(|e| call_error(format!("CloudFormation GetTemplate({stack})"))(&e))?
        .template_body()
        .unwrap_or_default()
        .to_owned();
    let found = discovery::from_template(&body, logical_id.as_deref()).map_err(|reason| {
        DiscoveryError::Mapping {
            mapping: mapping.uuid.clone(),
            reason,
        }
    })?;
    if mapping.starting_position_timestamp.is_none() {
        mapping.starting_position_timestamp = found.starting_position_timestamp;
    }
    if mapping.filter_patterns.is_empty() {
        mapping.filter_patterns = found.filter_patterns.unwrap_or_default();
    }
    Ok(())
}

/// An SQS queue as the on-failure destination.
pub struct QueueDestination {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl QueueDestination {
    /// The queue at `url`.
    pub fn new(config: &SdkConfig, url: String) -> QueueDestination {
        QueueDestination::with_client(aws_sdk_sqs::Client::new(config), url)
    }

    /// The queue at `url` through `client` (one with a [`Watch`], say).
    pub fn with_client(client: aws_sdk_sqs::Client, url: String) -> QueueDestination {
        QueueDestination { client, url }
    }
}

impl Destination for QueueDestination {
    async fn send(&self, record: &Value) -> Result<(), String> {
        self.client
            .send_message()
            .queue_url(&self.url)
            .message_body(record.to_string())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| describe(&e))
    }
}

/// No destination configured: skipped records are only counted.
pub struct NoDestination;

impl Destination for NoDestination {
    async fn send(&self, _: &Value) -> Result<(), String> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    /// An error whose cause is what the service answered, as the SDK nests an unmodelled
    /// error (`unhandled error (Code)` over the answer's metadata).
    #[derive(Debug)]
    struct Unhandled(aws_sdk_kinesis::error::ErrorMetadata);

    impl std::fmt::Display for Unhandled {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(
                f,
                "service error: unhandled error ({})",
                self.0.code().unwrap_or("?")
            )
        }
    }

    impl std::error::Error for Unhandled {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn common_answers_say_what_to_check() {
        assert!(
            super::what_to_check("ValidationError: Stack with id x does not exist")
                .unwrap()
                .contains("--stack-name and --region")
        );
        assert!(super::what_to_check("AccessDeniedException: no")
            .unwrap()
            .contains("permissions"));
        assert_eq!(super::what_to_check("ThrottlingException: slow down"), None);
    }

    #[test]
    fn a_service_answer_is_said_as_code_and_message_without_the_debug_dump() {
        let answer = aws_sdk_kinesis::error::ErrorMetadata::builder()
            .code("ValidationError")
            .message("Stack with id nope does not exist")
            .build();
        assert_eq!(
            super::describe(&Unhandled(answer)),
            "ValidationError: Stack with id nope does not exist"
        );
        let bare = aws_sdk_kinesis::error::ErrorMetadata::builder().build();
        assert_eq!(
            super::describe(&Unhandled(bare)),
            "the service refused the request without saying why"
        );
    }

    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("{0}")]
    struct Layer(&'static str, #[source] Option<Box<Layer>>);

    #[test]
    fn causes_are_joined_once_and_missing_credentials_are_named() {
        let inner = Layer("connection refused", None);
        let outer = Layer("dispatch failure", Some(Box::new(inner)));
        assert_eq!(describe(&outer), "dispatch failure: connection refused");
        let creds = Layer(
            "dispatch failure",
            Some(Box::new(Layer(
                "an error occurred while loading credentials",
                None,
            ))),
        );
        assert!(describe(&creds).starts_with("no AWS credentials found: set AWS_PROFILE"));
    }
}
