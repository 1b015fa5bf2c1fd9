//! A tumbling window's invocation (docs/aggregates.md): the records are stored exactly as
//! in any invocation, and what was handled is counted into the window's state; at the
//! window's end (its final invocation, or Lambda's early termination) the figures are
//! written to the aggregate table, one item per event-time minute.
//!
//! - **A failure retries the whole batch with the state unchanged.** AWS does not say
//!   whether the state returned beside `batchItemFailures` is kept; answering with the
//!   state the invocation received and the batch's first record makes either reading
//!   right: nothing of the batch was counted, all of it comes back (its items overwrite
//!   themselves).
//! - **A failed final write fails the invocation**, after retries within
//!   [`FINAL_WRITE_LIMIT`]: Lambda then retries the final invocation and, as AWS documents,
//!   processes nothing more of the shard until it succeeds. A down aggregate table
//!   suspends the shard; the event table gets nothing meanwhile.
//! - **An unreadable state** (another format, damage) is logged and the window starts
//!   afresh: stalling the shard on it would stop the events too. The minutes it held are
//!   short in the table until `query aggregates --rebuild`.

use std::collections::HashMap;
use std::time::Duration;

use aggregates::{AggregateItem, Aggregator, EventFacts, Figures, Part, RecordFacts};
use aws_lambda_events::event::streams::{KinesisBatchItemFailure, KinesisEventResponse};
use kinesis_codec::window::{WindowEvent, WindowResponse};

use crate::handler::{Handler, Invocation, Ran};
use crate::metrics::InvocationStats;
use crate::plan::Plan;
use crate::sinks::{QueueSender, TableWriter};
use crate::store;

/// The longest a window's end retries its aggregate writes before the invocation fails
/// (and Lambda retries it): long enough to ride out throttling, short enough not to hold
/// the shard for the function's whole timeout.
pub const FINAL_WRITE_LIMIT: Duration = Duration::from_secs(20);

/// The answer to a window's invocation and what it did.
#[derive(Debug)]
pub struct WindowOutcome {
    /// The state to carry on and the record to retry from, if any.
    pub response: WindowResponse,
    /// Counts for the invocation's metrics line.
    pub stats: InvocationStats,
    /// What the window's figures did.
    pub window: WindowStats,
}

/// What one invocation did to its window's figures.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WindowStats {
    /// Whether it was the window's end (final invocation or early termination).
    pub closing: bool,
    /// Records counted.
    pub counted: usize,
    /// Records not counted because the window had counted them already.
    pub repeated: usize,
    /// Aggregate items written.
    pub items_written: usize,
    /// The figures written, summed over their minutes (for the business metrics).
    pub written: Option<Figures>,
}

/// Why a window's end could not be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{failed} of {items} aggregate items could not be written to table {table} within {limit:?}; \
     Lambda retries the window's end and holds the shard until it succeeds"
)]
pub struct WindowError {
    /// The aggregate table.
    pub table: String,
    /// Items to write.
    pub items: usize,
    /// Items not written.
    pub failed: usize,
    /// The time the writes were given.
    pub limit: Duration,
}

impl<W: TableWriter, Q: QueueSender> Handler<W, Q> {
    /// Handles one invocation of a tumbling window; `Err` only when the window's end could
    /// not be written (a function error: Lambda retries it).
    pub async fn handle_window(
        &self,
        window: &WindowEvent,
        invocation: Invocation<'_>,
    ) -> Result<WindowOutcome, WindowError> {
        let records = &window.event.records;
        let ran = if records.is_empty() {
            None
        } else {
            Some(self.run(&window.event, invocation).await)
        };
        let stats = ran.as_ref().map(|r| r.outcome.stats).unwrap_or_default();
        let Some(store) = self.aggregates.as_deref() else {
            let failures = ran.map(|r| r.outcome.response).unwrap_or_default();
            let response = WindowResponse {
                state: HashMap::new(),
                batch_item_failures: failures.batch_item_failures,
            };
            return Ok(WindowOutcome {
                response,
                stats,
                window: WindowStats::default(),
            });
        };
        if ran.as_ref().is_some_and(|r| r.first_failed.is_some()) {
            return Ok(retry_whole_batch(window, stats));
        }
        let mut aggregator = resume(window);
        let mut window_stats = WindowStats {
            closing: window.is_final || window.terminated_early,
            ..WindowStats::default()
        };
        if let Some(ran) = &ran {
            count(&mut aggregator, window, ran, &mut window_stats);
        }
        if !aggregator.damaged().is_empty() {
            tracing::error!(
                minutes = ?aggregator.damaged(),
                shard = window.shard_id,
                "minutes of the window's state were unreadable and are counted afresh \
                 (rebuild them with `query aggregates --rebuild`)"
            );
        }
        let parts = if window_stats.closing {
            aggregator.finish()
        } else {
            aggregator.take_closed()
        };
        if !parts.is_empty() {
            let items = items_of(&parts, invocation.now_ms, self.item_ttl_days);
            let limit = FINAL_WRITE_LIMIT;
            let deadline = invocation.deadline.within(limit);
            let written = store::write_aggregates(store, &items, self.backoff, deadline).await;
            if !written.failed.is_empty() {
                let error = WindowError {
                    table: store.table().to_owned(),
                    items: items.len(),
                    failed: written.failed.len(),
                    limit,
                };
                tracing::error!(%error, shard = window.shard_id, "window figures not written");
                if window_stats.closing {
                    return Err(error);
                }
                return Ok(retry_whole_batch(window, stats));
            }
            window_stats.items_written = items.len();
            window_stats.written = Some(total(&parts));
            tracing::info!(
                shard = window.shard_id,
                window_start_ms = window.start_ms,
                items = items.len(),
                closing = window_stats.closing,
                "window figures written"
            );
        }
        Ok(WindowOutcome {
            response: WindowResponse {
                state: aggregator.state(),
                batch_item_failures: Vec::new(),
            },
            stats,
            window: window_stats,
        })
    }
}

/// The window's figures so far; an unreadable state starts afresh (see the module's
/// documentation).
fn resume(window: &WindowEvent) -> Aggregator {
    Aggregator::resume(&window.shard_id, window.start_ms, &window.state).unwrap_or_else(|err| {
        tracing::error!(
            %err,
            shard = window.shard_id,
            window_start_ms = window.start_ms,
            "the window's state is unreadable; its figures start afresh \
             (rebuild its minutes with `query aggregates --rebuild`)"
        );
        Aggregator::resume(&window.shard_id, window.start_ms, &HashMap::new())
            .unwrap_or_else(|_| unreachable!("an empty state always reads"))
    })
}

/// Counts every record of a fully handled batch: each of its stored items once (a record
/// repeating an earlier record's event in the batch adds nothing), its dead letters.
fn count(aggregator: &mut Aggregator, window: &WindowEvent, ran: &Ran, stats: &mut WindowStats) {
    let Plan { items, needs, .. } = &ran.plan;
    let mut seen = vec![false; items.len()];
    let mut facts: Vec<EventFacts<'_>> = Vec::new();
    for (record, needs) in window.event.records.iter().zip(needs) {
        facts.clear();
        for &i in &needs.items {
            if !std::mem::replace(&mut seen[i], true) {
                facts.extend(EventFacts::of_item(&items[i]));
            }
        }
        let kinesis = &record.kinesis;
        let counted = aggregator.count(&RecordFacts {
            sequence: &kinesis.sequence_number,
            arrival_ms: kinesis.approximate_arrival_timestamp.timestamp_millis(),
            events: &facts,
            dead_lettered: needs.letters.len() as u64,
        });
        if counted {
            stats.counted += 1;
        } else {
            stats.repeated += 1;
        }
    }
}

/// The answer that retries the whole batch with the state the invocation received.
fn retry_whole_batch(window: &WindowEvent, stats: InvocationStats) -> WindowOutcome {
    let mut failures = KinesisEventResponse::default();
    if let Some(first) = window.event.records.first() {
        failures.add_failure(first.kinesis.sequence_number.clone());
    }
    let batch_item_failures: Vec<KinesisBatchItemFailure> = failures.batch_item_failures;
    WindowOutcome {
        response: WindowResponse {
            state: window.state.clone(),
            batch_item_failures,
        },
        stats,
        window: WindowStats::default(),
    }
}

fn items_of(parts: &[Part], now_ms: i64, ttl_days: u32) -> Vec<AggregateItem> {
    parts
        .iter()
        .flat_map(|part| part.items(now_ms, ttl_days))
        .collect()
}

fn total(parts: &[Part]) -> Figures {
    let mut sum = Figures::default();
    for figures in parts.iter().flat_map(|p| p.minutes.values()) {
        sum.merge(figures);
    }
    sum
}
