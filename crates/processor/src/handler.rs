//! One invocation: plan, deliver, and answer Lambda with the first record that was not
//! durably handled, so Lambda retries from there and nothing is lost.

use std::collections::BTreeSet;
use std::time::Instant;

use aws_lambda_events::event::kinesis::KinesisEvent;
use aws_lambda_events::event::streams::KinesisEventResponse;

use crate::dead_letter::Writer;
use crate::metrics::InvocationStats;
use crate::plan::{self, Plan};
use crate::retry::{Backoff, Deadline};
use crate::sinks::{QueueSender, TableWriter};
use crate::store::{self, Delivery};

/// What the handler needs besides the event.
pub struct Handler<W, Q> {
    /// The table sink.
    pub table: W,
    /// The dead-letter sink.
    pub queue: Q,
    /// The function's name (dead letters, metrics).
    pub function_name: String,
    /// Requests in flight per sink.
    pub concurrency: usize,
    /// Retry backoff.
    pub backoff: Backoff,
    /// Days after its event that an item expires (`expiresAt`); 0 writes no `expiresAt`.
    pub item_ttl_days: u32,
}

/// Facts about this invocation.
#[derive(Debug, Clone, Copy)]
pub struct Invocation<'a> {
    /// Lambda's request ID.
    pub request_id: &'a str,
    /// When retries must stop.
    pub deadline: Deadline,
    /// Now, epoch ms: the items' processing time.
    pub now_ms: i64,
    /// How often these records have been redriven (0 for the mapping's deliveries); the
    /// redrive tool passes it in the invocation's client context.
    pub redrive_count: u32,
}

/// The response and what happened.
#[derive(Debug)]
pub struct Outcome {
    /// `batchItemFailures`: empty when everything was handled, else the first record that was
    /// not.
    pub response: KinesisEventResponse,
    /// Counts for the metrics line.
    pub stats: InvocationStats,
}

impl<W: TableWriter, Q: QueueSender> Handler<W, Q> {
    /// Processes one batch.
    pub async fn handle(&self, event: &KinesisEvent, invocation: Invocation<'_>) -> Outcome {
        let started = Instant::now();
        let writer = Writer {
            function_name: &self.function_name,
            request_id: invocation.request_id,
            redrive_count: invocation.redrive_count,
        };
        let plan = plan::plan_for_shards(
            &event.records,
            writer,
            (invocation.now_ms, self.item_ttl_days),
            self.table.index_shards(),
        );
        let (written, sent) = tokio::join!(
            store::write_items(
                &self.table,
                &plan.items,
                self.concurrency,
                self.backoff,
                invocation.deadline
            ),
            store::send_letters(
                &self.queue,
                &plan.letters,
                self.concurrency,
                self.backoff,
                invocation.deadline
            ),
        );
        let first_failed = first_unhandled(&plan, &written, &sent);
        let mut response = KinesisEventResponse::default();
        if let Some(index) = first_failed {
            response.add_failure(event.records[index].kinesis.sequence_number.clone());
        }
        let stats = stats(&plan, &written, first_failed, started);
        log_outcome(&plan, &written, &sent, first_failed, &stats);
        Outcome { response, stats }
    }
}

/// One stored record in this many is logged: enough to follow data through, cheap at
/// thousands of records per invocation.
pub const SUCCESS_LOG_SAMPLE: usize = 100;

fn log_outcome(
    plan: &Plan,
    written: &Delivery,
    sent: &Delivery,
    first_failed: Option<usize>,
    stats: &InvocationStats,
) {
    for (index, item) in plan.items.iter().enumerate().step_by(SUCCESS_LOG_SAMPLE) {
        if !written.failed.contains(&index) {
            tracing::info!(
                user_id = item.partition_key(),
                event_key = item.sort_key(),
                "stored (1 in {SUCCESS_LOG_SAMPLE} logged)"
            );
        }
    }
    for (index, letter) in plan.letters.iter().enumerate() {
        let delivered = !sent.failed.contains(&index);
        tracing::warn!(
            error_type = letter.error_type,
            delivered,
            "record dead-lettered"
        );
    }
    tracing::info!(
        records = stats.batch_size,
        stored = stats.processed,
        failed = stats.failed,
        dead_letters = plan.letters.len() - sent.failed.len(),
        retry_from_record = first_failed,
        duration_ms = stats.duration_ms,
        "batch done"
    );
}

/// The first record one of whose items or letters was not delivered.
pub fn first_unhandled(plan: &Plan, written: &Delivery, sent: &Delivery) -> Option<usize> {
    plan.needs.iter().position(|needs| {
        needs.items.iter().any(|i| written.failed.contains(i))
            || needs.letters.iter().any(|l| sent.failed.contains(l))
    })
}

fn stats(
    plan: &Plan,
    written: &Delivery,
    first_failed: Option<usize>,
    started: Instant,
) -> InvocationStats {
    // Records from the first failure on are retried by Lambda: count them as failed now and
    // as processed when a later invocation stores them.
    let retried: BTreeSet<usize> = match first_failed {
        Some(first) => plan.needs[first..]
            .iter()
            .flat_map(|n| n.items.iter().copied())
            .collect(),
        None => BTreeSet::new(),
    };
    let stored = plan.items.len() - written.failed.union(&retried).count();
    InvocationStats {
        batch_size: plan.needs.len(),
        processed: stored,
        failed: plan.user_records.saturating_sub(stored),
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    }
}
