//! SQS: the dead-letter queue's requests. Only invalid events reach it (the share given by
//! `--invalid-ratio`, 0 by default), sent in batches of ten.

use super::super::workload::MESSAGES_PER_SEND_BATCH;
use super::super::{LineItem, ServiceCost};
use super::Context;

/// A dead letter's body besides the record's base64 data: error, ids, shard, timestamps.
pub const DEAD_LETTER_ENVELOPE_BYTES: f64 = 600.0;
/// SQS bills each 64 KB chunk of a request as one request.
pub const REQUEST_CHUNK_BYTES: f64 = 65_536.0;

/// The queue's line items.
pub fn estimate(ctx: &Context) -> ServiceCost {
    let w = ctx.workload;
    let body = (w.load.avg_event_bytes * 4.0 / 3.0).ceil() + DEAD_LETTER_ENVELOPE_BYTES;
    let requests = (w.invalid_events / MESSAGES_PER_SEND_BATCH)
        .max(w.invalid_events * body / REQUEST_CHUNK_BYTES);
    let items = vec![LineItem::new(
        format!(
            "Requests (SendMessageBatch of 10 dead letters, {:.1}% of events invalid)",
            w.load.invalid_ratio * 100.0
        ),
        requests / 1e6,
        "million requests",
        ctx.prices.sqs_million_requests,
    )];
    ServiceCost::new("SQS", items).assume(
        "SQS: only invalid events are sent (no consumer polls the dead-letter queue in this \
         estimate); each 64 KB of a batch counts as one request; free tier (1 M requests) not \
         applied",
    )
}
