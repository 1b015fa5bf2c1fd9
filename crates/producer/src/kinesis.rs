//! [`PutRecords`] on Amazon Kinesis (or anything speaking its API, such as moto).
//!
//! A call that gets no answer is told apart by whether its request may have reached
//! Kinesis ([`reach`]): only a request that never left (it could not be built, or no
//! connection was made) certainly did not put its records on the stream.

use std::time::Duration;

use aws_edge::error::Failure;
use aws_sdk_kinesis::error::{ConnectorError, ProvideErrorMetadata, SdkError};
use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::PutRecordsRequestEntry;
use aws_sdk_kinesis::Client;

use crate::send::{CallError, EntryResult, Placement, PutError, PutRecords, Reach};
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
        let call =
            aws_edge::error::CallError::new(format!("Kinesis PutRecords({})", self.name), &err);
        match &call.failure {
            // No (complete) answer: the records may or may not be in the stream.
            Failure::NoAnswer { .. } => CallError::NoAnswer(format!(
                "cannot reach Kinesis at {}: {}",
                self.endpoint, call.detail
            )),
            Failure::NotFound => CallError::Fatal(format!(
                "stream {} not found at {} (is the stack deployed? `make outputs` names it)",
                self.name, self.endpoint
            )),
            Failure::Throttled => CallError::Transient(call.detail),
            failure if failure.is_retryable() => CallError::Transient(call.detail),
            _ => CallError::Fatal(call.to_string()),
        }
    }

    /// A failed PutRecords call as [`PutRecords`] reports it.
    fn put_error<E, R>(&self, err: SdkError<E, R>) -> PutError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug + 'static,
    {
        let reach = reach(&err);
        match self.classify(err) {
            CallError::Transient(detail) => PutError::Transient(detail),
            CallError::NoAnswer(detail) => PutError::NoAnswer { detail, reach },
            CallError::Fatal(detail) => PutError::Fatal(detail),
        }
    }
}

/// Whether the request of a call that failed with `err` may have reached the service,
/// decided from the `SdkError` variant and the connector error's types, never from text.
///
/// Never sent: the SDK could not build the request (`ConstructionFailure`), or the
/// dispatch failed while connecting (`DispatchFailure` whose cause is the HTTP client's
/// connect error, which covers a refused connection, a name not resolved, the connect
/// timeout and the TLS handshake; or an I/O `ConnectionRefused`, which only a connect
/// gives). Everything else may have been sent: the attempt timed out (`TimeoutError`), the
/// answer was cut or unreadable (`ResponseError`), the connection was reset or closed after
/// it was made (`DispatchFailure` of I/O or timeout), or a kind this function does not know.
/// Only "may have" matters for counting, so any doubt counts as [`Reach::InDoubt`].
pub fn reach<E, R>(err: &SdkError<E, R>) -> Reach {
    match err {
        SdkError::ConstructionFailure(_) => Reach::NotSent,
        SdkError::DispatchFailure(dispatch)
            if dispatch.as_connector_error().is_some_and(never_connected) =>
        {
            Reach::NotSent
        }
        _ => Reach::InDoubt,
    }
}

/// Whether a connector error happened before a connection was made.
fn never_connected(err: &ConnectorError) -> bool {
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(current) = next {
        if let Some(client) = current.downcast_ref::<hyper_util::client::legacy::Error>() {
            if client.is_connect() {
                return true;
            }
        }
        if let Some(io) = current.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::ConnectionRefused {
                return true;
            }
        }
        next = current.source();
    }
    false
}

impl PutRecords for Stream {
    async fn put_records(&self, records: &[&Record]) -> Result<Vec<EntryResult>, PutError> {
        let entries = records
            .iter()
            .map(|record| {
                PutRecordsRequestEntry::builder()
                    .partition_key(&record.partition_key)
                    .data(Blob::new(record.data.clone()))
                    .build()
                    .map_err(|e| PutError::Fatal(format!("bad record: {e}")))
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
        let output = request.send().await.map_err(|e| self.put_error(e))?;
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
    use std::io::{Error as IoError, ErrorKind};

    type Failed = SdkError<aws_sdk_kinesis::operation::put_records::PutRecordsError, ()>;

    fn dispatch(err: ConnectorError) -> Failed {
        SdkError::dispatch_failure(err)
    }

    fn io(kind: ErrorKind) -> ConnectorError {
        ConnectorError::io(Box::new(IoError::new(kind, "x")))
    }

    #[test]
    fn only_a_request_that_never_left_is_not_in_doubt() {
        assert_eq!(
            reach(&Failed::construction_failure("no stream name")),
            Reach::NotSent
        );
        assert_eq!(
            reach(&dispatch(io(ErrorKind::ConnectionRefused))),
            Reach::NotSent
        );
        for kind in [
            ErrorKind::ConnectionReset,
            ErrorKind::BrokenPipe,
            ErrorKind::UnexpectedEof,
        ] {
            assert_eq!(reach(&dispatch(io(kind))), Reach::InDoubt, "{kind:?}");
        }
        let slow = ConnectorError::timeout(Box::new(IoError::new(ErrorKind::TimedOut, "x")));
        assert_eq!(reach(&dispatch(slow)), Reach::InDoubt);
        assert_eq!(
            reach(&Failed::timeout_error("attempt timeout")),
            Reach::InDoubt
        );
        assert_eq!(
            reach(&Failed::response_error("connection closed", ())),
            Reach::InDoubt
        );
        let other = ConnectorError::other("unknown".into(), None);
        assert_eq!(reach(&dispatch(other)), Reach::InDoubt);
    }
}
