//! One invocation: plan, deliver, and answer Lambda with the first record that was not
//! durably handled, so Lambda retries from there and nothing is lost.
//!
//! With the event archive on, the batch itself is stored too, while the table is written;
//! a batch that could not be archived makes the first record the failure, so Lambda retries
//! all of it (items overwrite themselves, the archive object keeps its key).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Instant;

use aws_lambda_events::event::kinesis::KinesisEvent;
use aws_lambda_events::event::streams::KinesisEventResponse;

use crate::archive;
use crate::config::Config;
use crate::dead_letter::Writer;
use crate::metrics::InvocationStats;
use crate::plan::{self, Plan, Settings};
use crate::sinks::aggregates::{AggregateStore, DynamoAggregates};
use crate::sinks::dynamodb::DynamoTable;
use crate::sinks::s3::S3Bucket;
use crate::sinks::sqs::SqsQueue;
use crate::sinks::{ObjectStore, QueueSender, TableWriter};
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
    /// The failure and event archives' buckets ([`Buckets::default`]: neither, the
    /// processor as it was before them).
    pub buckets: Buckets,
    /// The aggregate table a tumbling window's figures are written to (`None`: a window's
    /// records are stored, nothing is counted).
    pub aggregates: Option<Arc<dyn AggregateStore>>,
}

/// The buckets the handler writes to besides the table and the queue; each is optional.
#[derive(Clone, Default)]
pub struct Buckets {
    /// The failure archive (`FAILURE_BUCKET`): a dead letter too large for SQS keeps its
    /// record's bytes here and points at them (a claim check). `None`: such a letter says
    /// `dataTruncated` and keeps only the record's place in the stream.
    pub failures: Option<Arc<dyn ObjectStore>>,
    /// The event archive (`ARCHIVE_BUCKET`): every invocation stores its batch here before
    /// it answers. `None`: no archive.
    pub archive: Option<Arc<dyn ObjectStore>>,
}

impl Buckets {
    /// The buckets `config` names, on the SDK's S3 client.
    pub fn on_aws(config: &Config, s3: &aws_sdk_s3::Client) -> Buckets {
        let bucket = |name: &Option<String>| {
            name.as_ref().map(|name| {
                Arc::new(S3Bucket::new(s3.clone(), name.clone())) as Arc<dyn ObjectStore>
            })
        };
        Buckets {
            failures: bucket(&config.failure_bucket),
            archive: bucket(&config.archive_bucket),
        }
    }
}

impl std::fmt::Debug for Buckets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name =
            |store: &Option<Arc<dyn ObjectStore>>| store.as_ref().map(|s| s.bucket().to_owned());
        f.debug_struct("Buckets")
            .field("failures", &name(&self.failures))
            .field("archive", &name(&self.archive))
            .finish()
    }
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
    ///
    /// It writes to no bucket: a caller without an S3 client cannot. [`Handler::on_aws`]
    /// adds the buckets the configuration names; [`Handler::with_buckets`] adds any.
    pub fn from_config(config: &Config, table: W, queue: Q) -> Handler<W, Q> {
        Handler {
            table,
            queue,
            function_name: config.function_name.clone(),
            concurrency: config.write_concurrency,
            backoff: Backoff::default(),
            item_ttl_days: config.item_ttl_days,
            buckets: Buckets::default(),
            aggregates: None,
        }
    }

    /// The same handler writing claim checks and the archive to `buckets`.
    pub fn with_buckets(self, buckets: Buckets) -> Handler<W, Q> {
        Handler { buckets, ..self }
    }

    /// The same handler writing tumbling windows' figures to `store`.
    pub fn with_aggregates(self, store: Arc<dyn AggregateStore>) -> Handler<W, Q> {
        Handler {
            aggregates: Some(store),
            ..self
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
    /// written with its index write shards, and the failure and archive buckets it names.
    pub fn on_aws(config: &Config, clients: SinkClients) -> Handler<DynamoTable, SqsQueue> {
        let buckets = Buckets::on_aws(config, &clients.s3);
        let table = DynamoTable::new(clients.dynamodb.clone(), config.table_name.clone())
            .with_index_shards(config.index_write_shards);
        let queue = SqsQueue::new(clients.sqs, config.dlq_url.clone());
        let handler = Handler::from_config(config, table, queue).with_buckets(buckets);
        match &config.aggregate_table {
            Some(name) => handler.with_aggregates(Arc::new(DynamoAggregates::new(
                clients.dynamodb.clone(),
                name.clone(),
            ))),
            None => handler,
        }
    }
}

impl<W: TableWriter, Q: QueueSender> Handler<W, Q> {
    /// Processes one batch.
    pub async fn handle(&self, event: &KinesisEvent, invocation: Invocation<'_>) -> Outcome {
        self.run(event, invocation).await.outcome
    }

    /// [`Handler::handle`], keeping the plan and the first record not handled for the
    /// caller that counts what was handled (a tumbling window).
    pub(crate) async fn run(&self, event: &KinesisEvent, invocation: Invocation<'_>) -> Ran {
        let started = Instant::now();
        // The archive's JSON and gzip run on a blocking thread from the start, beside the
        // plan and the table's writes on this one.
        let archiving = self.buckets.archive.as_deref().and_then(|store| {
            let batch = archive::Batch::of(&event.records)?;
            let key = batch.key();
            Some((
                store,
                key,
                tokio::task::spawn_blocking(move || batch.encode()),
            ))
        });
        let writer = Writer {
            function_name: &self.function_name,
            request_id: invocation.request_id,
            redrive_count: invocation.redrive_count,
        };
        let failures = self.buckets.failures.as_deref();
        let settings = Settings {
            processed_at_ms: invocation.now_ms,
            item_ttl_days: self.item_ttl_days,
            index_shards: self.table.index_shards(),
            claim_bucket: failures.map(ObjectStore::bucket),
        };
        let plan = plan::plan_with(&event.records, writer, settings);
        let (written, sent, archived) = tokio::join!(
            store::write_items(
                &self.table,
                &plan.items,
                self.concurrency,
                self.backoff,
                invocation.deadline
            ),
            store::deliver_letters(
                &self.queue,
                failures,
                &plan.letters,
                self.concurrency,
                self.backoff,
                invocation.deadline
            ),
            write_archive(archiving, self.backoff, invocation.deadline),
        );
        let first_failed = if archived.is_failed() {
            Some(0)
        } else {
            first_unhandled(&plan, &written, &sent)
        };
        let mut response = KinesisEventResponse::default();
        if let Some(index) = first_failed {
            response.add_failure(event.records[index].kinesis.sequence_number.clone());
        }
        let stats = stats(&plan, &written, first_failed, started);
        log_outcome(&plan, (&written, &sent, &archived), first_failed, &stats);
        Ran {
            plan,
            first_failed,
            outcome: Outcome { response, stats },
        }
    }
}

/// A batch handled, with what it was made of.
pub(crate) struct Ran {
    /// The items and letters of each record.
    pub plan: Plan,
    /// The first record not durably handled (Lambda retries from it).
    pub first_failed: Option<usize>,
    /// The response and counts.
    pub outcome: Outcome,
}

/// What became of the invocation's archive object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Archived {
    /// No archive bucket, or an empty batch: nothing to write.
    Off,
    /// Stored at `key` (or found there from an earlier attempt at the same batch).
    Stored {
        /// The object's key.
        key: String,
        /// Its size, gzip-compressed.
        bytes: usize,
    },
    /// Not stored within the invocation's time: the first record is reported failed.
    Failed {
        /// The object's key.
        key: String,
    },
}

impl Archived {
    /// Whether the batch had to be archived and was not.
    pub fn is_failed(&self) -> bool {
        matches!(self, Archived::Failed { .. })
    }
}

/// Waits for the batch's encoding and stores it under its key. The write is conditional
/// (`If-None-Match: *`): an object already there is the same batch from an earlier attempt
/// (the key is the shard and the range of sequence numbers), or a larger one whose records
/// include these; it is kept rather than replaced by a redriven or replayed subset.
async fn write_archive(
    archiving: Option<(&dyn ObjectStore, String, tokio::task::JoinHandle<Vec<u8>>)>,
    backoff: Backoff,
    deadline: Deadline,
) -> Archived {
    let Some((store, key, encoding)) = archiving else {
        return Archived::Off;
    };
    let body = match encoding.await {
        Ok(body) => body,
        Err(err) => {
            tracing::error!(%err, key, "the batch could not be encoded for the archive");
            return Archived::Failed { key };
        }
    };
    let object = (key.as_str(), body.as_slice(), archive::CONTENT_TYPE);
    let put = store::put_object(store, object, true, backoff, deadline).await;
    if put.failed.is_empty() {
        Archived::Stored {
            bytes: body.len(),
            key,
        }
    } else {
        tracing::error!(
            key,
            bucket = store.bucket(),
            requests = put.requests,
            "the batch could not be archived; Lambda retries it from the first record"
        );
        Archived::Failed { key }
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
    (written, sent, archived): (&Delivery, &Delivery, &Archived),
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
            claim_check = letter.claim_check.as_ref().map(|c| c.key.as_str()),
            "record dead-lettered"
        );
    }
    let (archive_key, archive_bytes) = match archived {
        Archived::Off => (None, None),
        Archived::Stored { key, bytes } => (Some(key.as_str()), Some(*bytes)),
        Archived::Failed { key } => (Some(key.as_str()), None),
    };
    tracing::info!(
        records = stats.batch_size,
        stored = stats.processed,
        failed = stats.failed,
        dead_letters = plan.letters.len() - sent.failed.len(),
        retry_from_record = first_failed,
        archive_key,
        archive_bytes,
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
