//! What the processor and the parts around it agree on, spelled once.
//!
//! The stack (`synth`) sets environment variables on the function and watches the metrics
//! it emits; the processor reads those variables and writes those metrics; `local-runner`
//! and `redrive` read the deployed function's environment and call the processor as Lambda
//! does. When any of them spelled a name by hand, a typo showed only in a deployed stack
//! (an alarm on a metric nobody emits never fires). Here each name is one constant, and the
//! lists ([`env::SETTABLE`], [`metrics::EMITTED`]) are what each side's tests check against:
//! the processor's that it reads and emits exactly these, synth's that the stack sets and
//! watches nothing else.
//!
//! The event itself (fields, validation, the item written) is the `events` crate's contract;
//! the write-sharded index keys the processor adds to it, which the query tool reads back,
//! are [`index`]'s. The stack's outputs, which every tool reads a deployed stack by, are
//! [`outputs`]'.

pub mod aggregate;
pub mod archive;
pub mod outputs;

/// Environment variables of the processor function.
pub mod env {
    /// The DynamoDB table the processor writes to. Required.
    pub const TABLE_NAME: &str = "TABLE_NAME";
    /// The URL of the dead-letter queue. Required.
    pub const DLQ_URL: &str = "DLQ_URL";
    /// The CloudWatch namespace of the processor's metrics; default
    /// [`DEFAULT_NAMESPACE`](crate::metrics::DEFAULT_NAMESPACE).
    pub const METRICS_NAMESPACE: &str = "METRICS_NAMESPACE";
    /// The `tracing` filter directive of the processor's log; default `info`.
    pub const LOG_LEVEL: &str = "LOG_LEVEL";
    /// Milliseconds kept back from an invocation's deadline to answer Lambda in time.
    pub const SAFETY_MARGIN_MS: &str = "SAFETY_MARGIN_MS";
    /// BatchWriteItem requests the processor keeps in flight at once.
    pub const WRITE_CONCURRENCY: &str = "WRITE_CONCURRENCY";
    /// Days after its event that an item expires: the processor writes the table's TTL
    /// attribute `expiresAt` (epoch seconds) when this is set and not 0. Optional; the stack
    /// sets it only when `dynamodb_ttl_days` is on.
    pub const ITEM_TTL_DAYS: &str = "ITEM_TTL_DAYS";
    /// The largest [`ITEM_TTL_DAYS`] (ten years), the same bound as the stack's config.
    pub const MAX_ITEM_TTL_DAYS: u32 = 3650;
    /// How many write shards the indexes' partition keys are spread over: `1` (or unset)
    /// keeps the plain `eventType` / `productId` index keys; 2 to
    /// [`MAX_INDEX_WRITE_SHARDS`] make the processor write
    /// [`EVENT_TYPE_SHARD`](crate::index::EVENT_TYPE_SHARD) and
    /// [`PRODUCT_ID_SHARD`](crate::index::PRODUCT_ID_SHARD) on every item, which the
    /// indexes are then keyed on. The stack sets it from `dynamodb_index_write_shards`.
    pub const INDEX_WRITE_SHARDS: &str = "INDEX_WRITE_SHARDS";
    /// The largest [`INDEX_WRITE_SHARDS`], the same bound as the stack's config.
    pub const MAX_INDEX_WRITE_SHARDS: u32 = crate::index::MAX_SHARDS;
    /// The EMF `StorageResolution` of the `FailedEvents` metric: `1` (high resolution, for an
    /// alarm period under a minute) or `60` (standard, the default). The stack sets `1` when
    /// `cloudwatch_alarm_period_seconds` is 10 or 30: an alarm that short on a
    /// standard-resolution metric sees mostly missing data.
    pub const FAILED_EVENTS_RESOLUTION: &str = "FAILED_EVENTS_RESOLUTION";
    /// The failure archive's bucket: a dead letter whose record is too large for an SQS
    /// message keeps the record's bytes there (a claim check) instead of only its place in
    /// the stream. Optional; without it such a letter says `dataTruncated` and redrive reads
    /// the record back from the stream while it still holds it.
    pub const FAILURE_BUCKET: &str = "FAILURE_BUCKET";
    /// The event archive's bucket: every invocation writes its batch there, with each
    /// record's identity, before it answers. Optional; unset writes no archive.
    pub const ARCHIVE_BUCKET: &str = "ARCHIVE_BUCKET";
    /// The per-minute aggregate table (docs/aggregates.md): on a tumbling-window
    /// invocation the processor counts the records it handles into the window's state and,
    /// at the window's end, writes one item per event-time minute there. Optional; unset,
    /// a window's state is carried but nothing is written.
    pub const AGGREGATE_TABLE: &str = "AGGREGATE_TABLE";
    /// The function's name. Lambda sets it (a reserved variable: a deployment may not), the
    /// processor reads it for the metrics' dimension and its dead letters.
    pub const FUNCTION_NAME: &str = "AWS_LAMBDA_FUNCTION_NAME";

    /// The variables without which the processor refuses to start.
    pub const REQUIRED: &[&str] = &[TABLE_NAME, DLQ_URL];
    /// Every variable a deployment may set for the processor, required ones first.
    pub const SETTABLE: &[&str] = &[
        TABLE_NAME,
        DLQ_URL,
        METRICS_NAMESPACE,
        LOG_LEVEL,
        SAFETY_MARGIN_MS,
        WRITE_CONCURRENCY,
        ITEM_TTL_DAYS,
        FAILED_EVENTS_RESOLUTION,
        INDEX_WRITE_SHARDS,
        FAILURE_BUCKET,
        ARCHIVE_BUCKET,
        AGGREGATE_TABLE,
    ];
    /// Every variable the processor reads: the settable ones and Lambda's own.
    pub const READ: &[&str] = &[
        TABLE_NAME,
        DLQ_URL,
        METRICS_NAMESPACE,
        LOG_LEVEL,
        SAFETY_MARGIN_MS,
        WRITE_CONCURRENCY,
        ITEM_TTL_DAYS,
        FAILED_EVENTS_RESOLUTION,
        INDEX_WRITE_SHARDS,
        FAILURE_BUCKET,
        ARCHIVE_BUCKET,
        AGGREGATE_TABLE,
        FUNCTION_NAME,
    ];
}

pub mod index;

/// The processor's metrics: CloudWatch Embedded Metric Format lines in its log, one per
/// invocation, all under one namespace with one dimension.
pub mod metrics {
    /// The namespace when [`METRICS_NAMESPACE`](crate::env::METRICS_NAMESPACE) is not set.
    pub const DEFAULT_NAMESPACE: &str = "RetailEventProcessing";
    /// The one dimension, whose value is the function's name. Lambda's own metrics
    /// (`AWS/Lambda`) use the same name, so one value selects both on a dashboard.
    pub const DIMENSION: &str = "FunctionName";

    /// User records stored in the table (count).
    pub const PROCESSED_EVENTS: &str = "ProcessedEvents";
    /// User records dead-lettered as invalid or not durably handled (count).
    pub const FAILED_EVENTS: &str = "FailedEvents";
    /// Wall time of the invocation's work (milliseconds).
    pub const PROCESSING_DURATION: &str = "ProcessingDuration";
    /// Percentage of user records stored.
    pub const SUCCESS_RATE: &str = "SuccessRate";
    /// Kinesis records in the invocation's batch (count).
    pub const BATCH_SIZE: &str = "BatchSize";

    /// Revenue of the purchases a tumbling window counted, in USD (indicative: EMF may
    /// deliver a line twice; the aggregate table is the record). Emitted at a window's end.
    pub const REVENUE: &str = "Revenue";
    /// Purchases a tumbling window counted (count). Emitted at a window's end.
    pub const PURCHASES: &str = "Purchases";
    /// Events a tumbling window counted, per [`EVENT_TYPE_DIMENSION`] (count). Emitted at a
    /// window's end.
    pub const WINDOW_EVENTS: &str = "WindowEvents";
    /// The second dimension of [`WINDOW_EVENTS`]: the events' `eventType`.
    pub const EVENT_TYPE_DIMENSION: &str = "EventType";
    /// The business metrics of a window's end, in the order of their line.
    pub const BUSINESS: &[&str] = &[REVENUE, PURCHASES, WINDOW_EVENTS];

    /// Every metric the processor emits, in the order of its metrics line.
    pub const EMITTED: &[&str] = &[
        PROCESSED_EVENTS,
        FAILED_EVENTS,
        PROCESSING_DURATION,
        SUCCESS_RATE,
        BATCH_SIZE,
    ];
}

/// The key in an Invoke's client context (`custom`) that tells the function how often the
/// records of the event have been redriven. Set by `redrive`, read by the processor; the
/// event source mapping sends no client context, which counts as 0.
pub const REDRIVE_COUNT_CONTEXT_KEY: &str = "redriveCount";

#[cfg(test)]
mod tests {
    use super::*;

    fn has_duplicates(names: &[&str]) -> bool {
        names
            .iter()
            .enumerate()
            .any(|(i, name)| names[..i].contains(name))
    }

    #[test]
    fn the_lists_name_each_thing_once_and_agree_with_each_other() {
        for list in [
            env::REQUIRED,
            env::SETTABLE,
            env::READ,
            metrics::EMITTED,
            metrics::BUSINESS,
        ] {
            assert!(!has_duplicates(list), "{list:?}");
        }
        assert!(env::REQUIRED.iter().all(|v| env::SETTABLE.contains(v)));
        assert!(env::SETTABLE.iter().all(|v| env::READ.contains(v)));
        assert!(!env::SETTABLE.contains(&env::FUNCTION_NAME));
        assert_eq!(env::READ.len(), env::SETTABLE.len() + 1);
    }

    #[test]
    fn environment_names_are_valid_for_lambda() {
        // Lambda accepts [a-zA-Z][a-zA-Z0-9_]+; AWS_ names belong to Lambda and the AWS SDK.
        for name in env::SETTABLE {
            assert!(
                name.starts_with(|c: char| c.is_ascii_alphabetic()),
                "{name}"
            );
            assert!(
                name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                "{name}"
            );
            assert!(
                !name.starts_with("AWS_"),
                "{name}: AWS_ names belong to Lambda and the SDK"
            );
        }
    }
}
