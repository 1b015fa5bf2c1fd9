//! [`PutRecords`] on Amazon Kinesis (or anything speaking its API, such as moto).

use std::time::Duration;

use aws_sdk_kinesis::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::PutRecordsRequestEntry;
use aws_sdk_kinesis::Client;

use crate::send::{CallError, EntryResult, Placement, PutRecords};
use crate::source::Record;

/// Where to connect.
#[derive(Debug, Clone, Default)]
pub struct Endpoint {
    /// An endpoint URL instead of AWS's (`--endpoint-url`; the SDK also reads
    /// `AWS_ENDPOINT_URL`).
    pub url: Option<String>,
    /// The region (`--region`; else the SDK's chain: `AWS_REGION`, the profile; else
    /// us-east-1).
    pub region: Option<String>,
}

impl Endpoint {
    /// What to call the endpoint in messages.
    pub fn describe(&self) -> String {
        match &self.url {
            Some(url) => url.clone(),
            None => "AWS".to_owned(),
        }
    }
}

/// How long one call may take before it counts as unanswered.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(15);

/// A stream to put records on.
pub struct Stream {
    client: Client,
    name: String,
    endpoint: String,
}

impl Stream {
    /// A client for `name` at `endpoint`. Connections time out after 3 s and call attempts
    /// after 15 s, so an unreachable or frozen endpoint is an error, not a hang.
    pub async fn connect(endpoint: &Endpoint, name: &str) -> Stream {
        let region = aws_config::meta::region::RegionProviderChain::first_try(
            endpoint.region.clone().map(aws_config::Region::new),
        )
        .or_default_provider()
        .or_else("us-east-1");
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(region)
            .timeout_config(
                aws_config::timeout::TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(3))
                    .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                    .build(),
            )
            // The SDK retries the stream check a little; PutRecords is retried by our own
            // loop only (see `put_records`), which keeps each key in order.
            .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(3));
        if let Some(url) = &endpoint.url {
            loader = loader.endpoint_url(url);
        }
        Stream::with_config(&loader.load().await, name, endpoint.describe())
    }

    /// A client for `name` from an SDK configuration made elsewhere (tests); `endpoint`
    /// names it in messages.
    pub fn with_config(config: &aws_config::SdkConfig, name: &str, endpoint: String) -> Stream {
        Stream {
            client: Client::new(config),
            name: name.to_owned(),
            endpoint,
        }
    }

    /// Checks that the stream exists and can take records, with a message saying what to
    /// do when it cannot.
    pub async fn check(&self) -> Result<(), CallError> {
        let summary = self
            .client
            .describe_stream_summary()
            .stream_name(&self.name)
            .send()
            .await
            .map_err(|e| self.classify(e))?;
        let status = summary
            .stream_description_summary()
            .map(|s| s.stream_status().as_str().to_owned())
            .unwrap_or_default();
        match status.as_str() {
            "ACTIVE" | "UPDATING" | "" => Ok(()),
            other => Err(CallError::Fatal(format!(
                "stream {} is {other}; it takes records only when ACTIVE",
                self.name
            ))),
        }
    }

    fn classify<
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug + 'static,
    >(
        &self,
        err: SdkError<E, R>,
    ) -> CallError {
        let code = err.code().unwrap_or_default().to_owned();
        let detail = causes(&err);
        match &err {
            _ if detail.starts_with(NO_CREDENTIALS_HINT) => CallError::Fatal(detail),
            // No (complete) answer: the records may or may not be in the stream.
            SdkError::DispatchFailure(_)
            | SdkError::TimeoutError(_)
            | SdkError::ResponseError(_) => CallError::NoAnswer(format!(
                "cannot reach Kinesis at {}: {detail}",
                self.endpoint
            )),
            _ if code == "ResourceNotFoundException" => CallError::Fatal(format!(
                "stream {} not found at {} (is the stack deployed? `make outputs` names it)",
                self.name, self.endpoint
            )),
            _ if is_transient(&code) => CallError::Transient(format!("{code}: {detail}")),
            _ => CallError::Fatal(format!("PutRecords on {} failed: {detail}", self.name)),
        }
    }
}

/// An error and its causes in one line, without the SDK's debug dump: e.g. "dispatch
/// failure: io error: tcp connect error: Connection refused (os error 111)".
fn causes(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(err);
    while let Some(err) = next {
        let text = err.to_string();
        if !parts.iter().any(|part| part.contains(&text)) {
            parts.push(text);
        }
        next = err.source();
    }
    let text = parts.join(": ");
    if text.contains("loading credentials") || text.contains("no credentials found") {
        return format!("{NO_CREDENTIALS_HINT}; {text}");
    }
    text
}

/// Said after an error that comes from finding no credentials: the SDK's own text names
/// only the last place it looked (the instance metadata service).
const NO_CREDENTIALS_HINT: &str = "no AWS credentials found: set AWS_PROFILE, or \
     AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (against moto any values do)";

fn is_transient(code: &str) -> bool {
    matches!(
        code,
        "ProvisionedThroughputExceededException"
            | "LimitExceededException"
            | "InternalFailure"
            | "ServiceUnavailable"
            | "KMSThrottlingException"
            | "ThrottlingException"
    )
}

impl PutRecords for Stream {
    async fn put_records(&self, records: &[&Record]) -> Result<Vec<EntryResult>, CallError> {
        let entries = records
            .iter()
            .map(|record| {
                PutRecordsRequestEntry::builder()
                    .partition_key(&record.partition_key)
                    .data(Blob::new(record.data.clone()))
                    .build()
                    .map_err(|e| CallError::Fatal(format!("bad record: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        // The SDK does not retry PutRecords: our loop does, entry by entry with its own
        // backoff and count, keeping each key in order (see `crate::pending`).
        let request = self
            .client
            .put_records()
            .stream_name(&self.name)
            .set_records(Some(entries))
            .customize()
            .config_override(
                aws_sdk_kinesis::config::Builder::default()
                    .retry_config(aws_config::retry::RetryConfig::disabled()),
            );
        let output = request.send().await.map_err(|e| self.classify(e))?;
        Ok(output
            .records()
            .iter()
            .map(|entry| match (entry.shard_id(), entry.sequence_number()) {
                (Some(shard), Some(sequence)) if entry.error_code().is_none() => Ok(Placement {
                    shard_id: shard.to_owned(),
                    sequence_number: sequence.to_owned(),
                    sub_sequence_number: None,
                }),
                _ => Err(format!(
                    "{}: {}",
                    entry.error_code().unwrap_or("no sequence number"),
                    entry.error_message().unwrap_or_default()
                )),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Layer(&'static str, Option<Box<Layer>>);

    impl std::fmt::Display for Layer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }

    impl std::error::Error for Layer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|e| e as _)
        }
    }

    #[test]
    fn causes_are_joined_once_and_missing_credentials_are_named() {
        let refused = Layer(
            "dispatch failure",
            Some(Box::new(Layer("connection refused", None))),
        );
        assert_eq!(causes(&refused), "dispatch failure: connection refused");
        let creds = Layer(
            "dispatch failure",
            Some(Box::new(Layer(
                "an error occurred while loading credentials",
                None,
            ))),
        );
        assert!(causes(&creds).starts_with("no AWS credentials found: set AWS_PROFILE"));
    }
}
