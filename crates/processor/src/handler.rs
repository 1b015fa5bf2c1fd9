//! One invocation: plan, deliver, and answer Lambda with the first record that was not
//! durably handled, so Lambda retries from there and nothing is lost.

use std::collections::BTreeSet;
use std::time::Instant;

use aws_lambda_events::event::kinesis::KinesisEvent;
use aws_lambda_events::event::streams::KinesisEventResponse;

use crate::config::Config;
use crate::dead_letter::Writer;
use crate::metrics::InvocationStats;
use crate::plan::{self, Plan};
use crate::sinks::dynamodb::DynamoTable;
use crate::sinks::sqs::SqsQueue;
use crate::sinks::{QueueSender, TableWriter};
use crate::store::{self, Delivery};
use aws_edge::retry::{Backoff, Deadline};

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

impl<W, Q> Handler<W, Q> {
    /// The handler the function's configuration describes, writing through `table` and
    /// `queue`: the one way every caller (the Lambda, local-runner, redrive, the tests)
    /// assembles it, so each runs the processor with the deployed function's settings.
    pub fn from_config(config: &Config, table: W, queue: Q) -> Handler<W, Q> {
        Handler {
            table,
            queue,
            function_name: config.function_name.clone(),
            concurrency: config.write_concurrency,
            backoff: Backoff::default(),
            item_ttl_days: config.item_ttl_days,
        }
    }
}

/// The SDK clients the processor's sinks use, built once by the caller (with its own
/// endpoint, timeouts and interceptors).
#[derive(Debug, Clone)]
pub struct SinkClients {
    /// For the table.
    pub dynamodb: aws_sdk_dynamodb::Client,
    /// For the dead-letter queue.
    pub sqs: aws_sdk_sqs::Client,
    /// For the failure and event archives' buckets.
    pub s3: aws_sdk_s3::Client,
}

impl SinkClients {
    /// Every client on `config`.
    pub fn new(config: &aws_config::SdkConfig) -> SinkClients {
        SinkClients {
            dynamodb: aws_sdk_dynamodb::Client::new(config),
            sqs: aws_sdk_sqs::Client::new(config),
            s3: aws_sdk_s3::Client::new(config),
        }
    }
}

impl Handler<DynamoTable, SqsQueue> {
    /// The handler on the AWS SDK's clients: the table and queue of `config`, items
    /// written with its index write shards.
    pub fn on_aws(config: &Config, clients: SinkClients) -> Handler<DynamoTable, SqsQueue> {
        let table = DynamoTable::new(clients.dynamodb, config.table_name.clone())
            .with_index_shards(config.index_write_shards);
        let queue = SqsQueue::new(clients.sqs, config.dlq_url.clone());
        Handler::from_config(config, table, queue)
    }
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

/// What a caller running the handler in its own process (the emulator, redrive's
/// `--local`) keeps back from the function's timeout for the response: the part
/// `SAFETY_MARGIN_MS` plays on Lambda, where it defaults to 2 s.
pub const IN_PROCESS_SAFETY_MARGIN: std::time::Duration = std::time::Duration::from_millis(500);

/// A random request ID in UUID form, as Lambda's, for an invocation made in this process.
pub fn local_request_id() -> String {
    events::uuid(&mut fastrand::Rng::new())
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
