//! Where processed records go: the table, the dead-letter queue and the buckets of the
//! failure and event archives, behind small traits so the core can be tested (and
//! benchmarked) without AWS, and the AWS clients stay at the edge.

pub mod aggregates;
pub mod dynamodb;
pub mod memory;
pub mod s3;
pub mod sqs;
pub mod write_body;

use std::future::Future;

use futures_util::future::BoxFuture;

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use events::Item;

use crate::dead_letter::DeadLetter;
use crate::index_shards::IndexShards;

/// Why a request to a sink failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SinkError {
    /// Throttling, a 5xx, a timeout or a dropped connection: worth retrying.
    #[error("{0} (retryable)")]
    Retryable(String),
    /// The request itself is wrong (validation, access denied, missing table): retrying
    /// cannot help; the records stay unhandled and Lambda's retry policy takes over.
    #[error("{0}")]
    Fatal(String),
    /// The service asked the caller to slow down (DynamoDB's
    /// `ProvisionedThroughputExceededException`, `RequestLimitExceeded`,
    /// `ThrottlingException`, SQS's `RequestThrottled`): retryable, and a signal to keep
    /// fewer requests in flight ([`crate::concurrency`]). Sinks that cannot tell throttling
    /// apart answer [`SinkError::Retryable`], which the store retries and paces the same way,
    /// with a backoff in time.
    #[error("{0} (throttled)")]
    Throttled(String),
}

impl SinkError {
    /// Whether the same request may succeed later ([`SinkError::Retryable`] or
    /// [`SinkError::Throttled`]).
    pub fn is_retryable(&self) -> bool {
        !matches!(self, SinkError::Fatal(_))
    }
}

/// Sorts an SDK error into retryable (throttling, 5xx, timeouts, dropped connections) and
/// fatal (everything the same request would hit again), by `aws_edge`'s classifier.
pub fn classify_sdk_error<E>(err: SdkError<E, HttpResponse>) -> SinkError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let message = aws_smithy_types::error::display::DisplayErrorContext(&err).to_string();
    if aws_edge::error::Failure::of(&err).is_retryable() {
        SinkError::Retryable(message)
    } else {
        SinkError::Fatal(message)
    }
}

/// [`classify_sdk_error`], telling throttling apart: an error `aws_edge` classifies as
/// [`Failure::Throttled`](aws_edge::error::Failure::Throttled) (by its error code) is
/// [`SinkError::Throttled`], so the store paces on it. For sinks whose service throttles by
/// request rate (SQS); the table's sink has [`classify_batch_write_error`], which also reads
/// DynamoDB's `ThrottlingReasons`.
pub fn classify_sdk_error_throttling<E>(err: SdkError<E, HttpResponse>) -> SinkError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    if aws_edge::error::Failure::of(&err) == aws_edge::error::Failure::Throttled {
        let message = aws_smithy_types::error::display::DisplayErrorContext(&err).to_string();
        SinkError::Throttled(message)
    } else {
        classify_sdk_error(err)
    }
}

/// A `BatchWriteItem` error as the store needs it: DynamoDB's three throttling answers
/// (`ProvisionedThroughputExceededException`, `RequestLimitExceeded`, `ThrottlingException`)
/// are [`SinkError::Throttled`], their `ThrottlingReasons` (`TableWriteKeyRangeThroughputExceeded`,
/// `IndexWriteProvisionedThroughputExceeded`, `TableWriteMaxOnDemandThroughputExceeded`, ...,
/// with the resource's ARN) appended to the text so the log says which table or index and
/// which limit; everything else as [`classify_sdk_error`].
pub fn classify_batch_write_error(
    err: SdkError<aws_sdk_dynamodb::operation::batch_write_item::BatchWriteItemError, HttpResponse>,
) -> SinkError {
    use aws_sdk_dynamodb::operation::batch_write_item::BatchWriteItemError as E;
    let reasons = match err.as_service_error() {
        Some(E::ProvisionedThroughputExceededException(e)) => Some(e.throttling_reasons()),
        Some(E::RequestLimitExceeded(e)) => Some(e.throttling_reasons()),
        Some(E::ThrottlingException(e)) => Some(e.throttling_reasons()),
        _ => None,
    };
    match reasons {
        Some(reasons) => {
            let said: Vec<String> = reasons
                .iter()
                .map(|r| {
                    format!(
                        "{} on {}",
                        r.reason().unwrap_or("unspecified"),
                        r.resource().unwrap_or("the table")
                    )
                })
                .collect();
            let message = aws_smithy_types::error::display::DisplayErrorContext(&err).to_string();
            if said.is_empty() {
                SinkError::Throttled(message)
            } else {
                SinkError::Throttled(format!("{message}; ThrottlingReasons: {}", said.join(", ")))
            }
        }
        None => classify_sdk_error_throttling(err),
    }
}

/// Writes items with one `BatchWriteItem` request.
pub trait TableWriter: Sync {
    /// Writes up to 25 items with distinct keys; returns the indices (into `items`) that
    /// DynamoDB left unprocessed.
    fn batch_write(
        &self,
        items: &[&Item],
    ) -> impl Future<Output = Result<Vec<usize>, SinkError>> + Send;

    /// The write-sharded index keys this writer adds to every item it writes
    /// ([`IndexShards::NONE`], nothing, unless it says otherwise): the plan dead-letters the
    /// records whose items could not be written with them.
    fn index_shards(&self) -> IndexShards {
        IndexShards::NONE
    }
}

/// Sends dead letters with one `SendMessageBatch` request.
pub trait QueueSender: Sync {
    /// Sends up to 10 messages whose bodies total at most 256 KiB; returns the indices
    /// (into `letters`) whose entries failed.
    fn send_batch(
        &self,
        letters: &[&DeadLetter],
    ) -> impl Future<Output = Result<Vec<usize>, SinkError>> + Send;
}

/// Stores whole objects in one bucket with one `PutObject` request each: the failure
/// archive's claim checks and the event archive's batches.
///
/// Unlike the table and the queue it is called once or twice per invocation, so it is a
/// trait object (`Arc<dyn ObjectStore>` in [`Buckets`](crate::handler::Buckets)): a handler's
/// type stays `Handler<W, Q>` with or without buckets, and the future is boxed.
pub trait ObjectStore: Send + Sync {
    /// The bucket's name, as a claim-check letter names it (`dataS3Bucket`).
    fn bucket(&self) -> &str;

    /// Stores `body` at `key` with `content_type`, replacing any object there (a retry of
    /// the same key writes the same bytes again). `Ok` only once the object is durably
    /// stored.
    fn put<'a>(
        &'a self,
        key: &'a str,
        body: &'a [u8],
        content_type: &'a str,
    ) -> BoxFuture<'a, Result<(), SinkError>>;

    /// Stores `body` at `key` only if no object is there yet (S3's conditional write,
    /// `If-None-Match: *`): `Ok(true)` when it stored it, `Ok(false)` when an object was
    /// already there and is kept. For objects whose first version must not be replaced by a
    /// later one under the same key.
    fn put_new<'a>(
        &'a self,
        key: &'a str,
        body: &'a [u8],
        content_type: &'a str,
    ) -> BoxFuture<'a, Result<bool, SinkError>>;
}

/// A borrowed table writes as the table does (a test keeps the table to look at it).
impl<T: TableWriter> TableWriter for &T {
    fn batch_write(
        &self,
        items: &[&Item],
    ) -> impl Future<Output = Result<Vec<usize>, SinkError>> + Send {
        (**self).batch_write(items)
    }

    fn index_shards(&self) -> IndexShards {
        (**self).index_shards()
    }
}
