//! KMS: customer managed keys (counted from the template) and the requests the services
//! encrypting with them make. Services cache data keys, so requests follow time, not
//! traffic: about one per five minutes per caller, as AWS documents for Kinesis and
//! DynamoDB and as the queue's `KmsDataKeyReusePeriodSeconds` sets for SQS.

use super::super::workload::HOURS_PER_MONTH;
use super::super::{LineItem, ServiceCost};
use super::Context;

/// Data-key refreshes per caller in a month: one every five minutes.
pub const REFRESHES_PER_MONTH: f64 = HOURS_PER_MONTH * 12.0;
/// Lambda decrypts the function's environment once per execution environment start;
/// assume each batch lane's environment is replaced about once an hour.
pub const COLD_STARTS_PER_LANE_PER_MONTH: f64 = HOURS_PER_MONTH;

/// Requests in a month: Kinesis (a producer and a consumer per shard), DynamoDB (the
/// writer of each table: the events, and the aggregates with windows), CloudWatch Logs (the log group), SQS (the sender, while dead letters flow), S3
/// (the archive bucket's bucket key, while the processor writes batches) and Lambda
/// (environment decryption at cold starts), for each that uses a customer key.
pub fn requests(ctx: &Context) -> f64 {
    let w = ctx.workload;
    let inv = ctx.inventory;
    let mut total = 0.0;
    if inv.stream_cmk {
        total += 2.0 * f64::from(w.shards) * REFRESHES_PER_MONTH;
    }
    if inv.table_cmk {
        total += REFRESHES_PER_MONTH;
    }
    if inv.aggregate_table_cmk && w.window_end_invocations > 0.0 {
        total += REFRESHES_PER_MONTH;
    }
    if inv.log_group_cmk {
        total += REFRESHES_PER_MONTH;
    }
    if inv.queue_cmk && w.invalid_events > 0.0 {
        total += HOURS_PER_MONTH * 3600.0 / f64::from(inv.queue_data_key_reuse_seconds.max(1));
    }
    if inv.archive_bucket_cmk && w.invocations > 0.0 {
        total += REFRESHES_PER_MONTH;
    }
    if inv.function_cmk {
        total += f64::from(w.lanes) * COLD_STARTS_PER_LANE_PER_MONTH;
    }
    total
}

/// KMS's line items.
pub fn estimate(ctx: &Context) -> ServiceCost {
    let p = ctx.prices;
    let items = vec![
        LineItem::new(
            "Customer managed keys".into(),
            ctx.inventory.kms_keys as f64,
            "key-month",
            p.kms_key_month,
        ),
        LineItem::new(
            "Requests (data keys cached about 5 minutes per caller)".into(),
            requests(ctx) / 10_000.0,
            "10k requests",
            p.kms_10k_requests,
        ),
    ];
    ServiceCost::new("KMS", items).assume(
        "KMS requests: one per 5 minutes per Kinesis shard for the producer and for the \
         consumer, one per 5 minutes for DynamoDB (each table written) and for CloudWatch Logs, one per data-key \
         reuse period for SQS while dead letters flow, one per 5 minutes for the archive \
         bucket's S3 Bucket Key, one per lane-hour for the function's environment; the \
         failure bucket's rare writes and key rotation's added key versions (after a year) \
         not included",
    )
}
