//! The event source mapping's semantics for one batch of one shard, as Lambda documents
//! them for Kinesis:
//!
//! - a response naming a failed record (ReportBatchItemFailures) checkpoints the records
//!   before it and retries from it; an identifier that is not in the batch fails the whole
//!   batch;
//! - a function error (an error, a panic, a timeout) retries the batch, first split in two
//!   when BisectBatchOnFunctionError is on (splitting does not use up retries);
//! - after MaximumRetryAttempts retries, or when a record is older than
//!   MaximumRecordAgeInSeconds, the records are skipped and Lambda's on-failure record goes
//!   to the on-failure destination: for a queue, a description of them (where they were,
//!   not what they held); for an S3 bucket, one object holding the description and the
//!   skipped records themselves as the event's `payload`;
//! - with a tumbling window (`TumblingWindowInSeconds`), each invocation carries its
//!   window and the state the shard's previous invocation in it returned
//!   ([`deliver_window`]): a response's state is kept (a partial failure retries from the
//!   named record with it), a function error retries with the state from before; a state
//!   over 1 MB ([`MAX_STATE_BYTES`]) ends the window early (a final invocation with
//!   `isWindowTerminatedEarly`, then the window goes on with a fresh state); the window's
//!   end is one more invocation without records ([`close_window`]), retried until it
//!   succeeds, at most [`FINAL_ATTEMPTS`] times. [`crate::window`] keeps each shard's open
//!   window and decides when it ends.
//!
//! For tests, [`Faults`] turn chosen invocations (numbered from 1 over the run) into
//! function errors after the function ran, or deliver their records once more.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::future::Future;
use std::time::Duration;

use aws_lambda_events::event::streams::{KinesisBatchItemFailure, KinesisEventResponse};
use kinesis_codec::on_failure::{BatchInfo, OnFailure};
use kinesis_codec::time::iso8601;
use kinesis_codec::window::{WindowEvent, WindowResponse};
use processor::handler::local_request_id;

use crate::filter::FilterCriteria;
use crate::shards::ShardStart;
use kinesis_codec::record::StreamRecord;

/// The mapping's settings that shape delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Records per invocation at most.
    pub batch_size: usize,
    /// How long to gather records before invoking with fewer than `batch_size`.
    pub batching_window: Duration,
    /// Split a batch in two after a function error.
    pub bisect_on_error: bool,
    /// Retries of a failing batch; `None` retries until the records are too old.
    pub max_retries: Option<u32>,
    /// Records older than this are skipped; `None` keeps them.
    pub max_record_age: Option<Duration>,
    /// Whether the function's `batchItemFailures` are honoured.
    pub report_item_failures: bool,
    /// ARN of the on-failure destination.
    pub on_failure: Option<String>,
    /// Which records the function sees (FilterCriteria); the others are dropped unseen.
    pub filter: FilterCriteria,
    /// Where each shard's reading starts.
    pub start: ShardStart,
    /// The mapping's TumblingWindowInSeconds: invocations carry a window and its state;
    /// `None` (the mapping has none) delivers plain Kinesis events.
    pub tumbling_window: Option<Duration>,
    /// Faults to inject, for tests (none by default).
    pub faults: Faults,
}

/// Faults injected into a run, for tests (`--fail-invocation`, `--redeliver-invocation`).
/// Invocations are numbered from 1 over the whole run, in the order they are made: plain
/// and window invocations, retries, redeliveries and window finals alike.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Faults {
    /// These invocations run the function (its writes happen) and are then taken as a
    /// function error: the batch is retried (or bisected, skipped) as after any function
    /// error, with the window's state from before.
    pub fail_invocations: BTreeSet<usize>,
    /// After each of these invocations succeeds (no function error, no failed record),
    /// the same records are delivered once more, with the state it returned: Lambda's
    /// "in rare cases processed more than once". A window's final invocation is sent
    /// once more the same way.
    pub redeliver_invocations: BTreeSet<usize>,
}

/// The function as the mapping sees it.
pub trait Function {
    /// Invokes the function with `records`; `Err` is a function error.
    fn invoke(
        &self,
        records: &[StreamRecord],
    ) -> impl Future<Output = Result<KinesisEventResponse, String>>;

    /// Invokes the function with a tumbling window's event: `window` has its window,
    /// state, shard and flags (and no records of its own), `records` the records (none for
    /// a final invocation). `Err` is a function error.
    fn invoke_window(
        &self,
        window: &WindowEvent,
        records: &[StreamRecord],
    ) -> impl Future<Output = Result<WindowResponse, String>>;
}

/// Where the on-failure records of skipped batches go.
pub trait Destination {
    /// Sends the on-failure record of one skipped batch: `record` describes `records` (the
    /// skipped records, one shard's, in order) and has no payload; a destination that keeps
    /// the records (an S3 bucket) adds them as the payload.
    fn send(
        &self,
        record: &OnFailure,
        records: &[StreamRecord],
    ) -> impl Future<Output = Result<(), String>>;
}

/// What happened to the batches so far.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Counts {
    /// Invocations.
    pub invocations: usize,
    /// Invocations that ended in a function error.
    pub function_errors: usize,
    /// Invocations whose response named a failed record.
    pub partial_failures: usize,
    /// Batches split in two.
    pub bisections: usize,
    /// Failure records sent to the destination.
    pub skipped_batches: usize,
    /// Records skipped (described at the destination, or dropped when there is none).
    pub skipped_records: usize,
    /// Invocations taken as function errors by [`Faults::fail_invocations`] (also counted
    /// in `function_errors`).
    pub forced_errors: usize,
    /// Records delivered once more by [`Faults::redeliver_invocations`] (each also counted
    /// in `invocations`).
    pub redeliveries: usize,
    /// Tumbling windows closed by their final invocation.
    pub window_finals: usize,
    /// Tumbling windows terminated early (state over [`MAX_STATE_BYTES`]), each by a final
    /// invocation with `isWindowTerminatedEarly`.
    pub windows_terminated_early: usize,
}

/// Why the batch's delivery stopped with records not handled: the runner must not go on
/// past them.
#[derive(Debug, thiserror::Error)]
#[error("cannot send the failure record for {records} skipped records to {destination}: {error}")]
pub struct DestinationFailed {
    /// The destination.
    pub destination: String,
    /// Records it was about.
    pub records: usize,
    /// Why.
    pub error: String,
}

/// Delivers `batch` (records of one shard, in order) until every record is handled or
/// skipped. `context.now_ms` tells the record ages; `context.retry_pause` the waits
/// between retries. `counts` is added to; its `invocations` numbers the invocations for
/// [`Settings::faults`], so pass the run's running counts.
pub async fn deliver<F: Function, D: Destination>(
    batch: Vec<StreamRecord>,
    settings: &Settings,
    function: &F,
    destination: &D,
    context: &Context<'_>,
    counts: &mut Counts,
) -> Result<(), DestinationFailed> {
    let delivery = Delivery {
        settings,
        function,
        destination,
        context,
    };
    match delivery.run(batch, None, counts).await {
        Ok(()) => Ok(()),
        Err(DeliveryFailed::Destination(failed)) => Err(failed),
        Err(DeliveryFailed::WindowFinal(_)) => unreachable!("a plain delivery has no window"),
    }
}

/// [`deliver`] for a tumbling window: every invocation carries `window` (its bounds, its
/// shard and the state so far), and `window.state` follows the responses: the state a
/// response returns is kept (also when it names a failed record: the retry from there
/// carries it), a function error retries with the state from before. When a kept state's
/// JSON exceeds [`MAX_STATE_BYTES`] the window is terminated early ([`close_window`] with
/// `terminated_early`) and goes on with an empty state. The records must belong to the
/// window.
pub async fn deliver_window<F: Function, D: Destination>(
    batch: Vec<StreamRecord>,
    window: &mut OpenWindow,
    settings: &Settings,
    function: &F,
    destination: &D,
    context: &Context<'_>,
    counts: &mut Counts,
) -> Result<(), DeliveryFailed> {
    let delivery = Delivery {
        settings,
        function,
        destination,
        context,
    };
    delivery.run(batch, Some(window), counts).await
}

/// Lambda's limit on a tumbling window's state, 1 MB: a state whose JSON is larger ends
/// the window early.
pub const MAX_STATE_BYTES: usize = 1_048_576;

/// How often a window's final invocation is tried before the run gives up on it (Lambda
/// holds the shard until it succeeds; the emulator stops rather than hang).
pub const FINAL_ATTEMPTS: u32 = 10;

/// A shard's open tumbling window: where it is and the state its last invocation returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenWindow {
    /// The shard.
    pub shard_id: String,
    /// The window's start, epoch ms (inclusive).
    pub start_ms: i64,
    /// The window's end, epoch ms (exclusive).
    pub end_ms: i64,
    /// The state to send with the next invocation.
    pub state: HashMap<String, String>,
}

impl OpenWindow {
    /// The window of `width` holding `arrival_ms`, epoch-aligned, with an empty state.
    pub fn holding(shard_id: &str, arrival_ms: i64, width: Duration) -> OpenWindow {
        let (start_ms, end_ms) = window_bounds(arrival_ms, width);
        OpenWindow {
            shard_id: shard_id.to_owned(),
            start_ms,
            end_ms,
            state: HashMap::new(),
        }
    }

    /// The event of an invocation of this window (without records).
    pub fn event(&self, stream_arn: &str, is_final: bool, terminated_early: bool) -> WindowEvent {
        WindowEvent {
            start_ms: self.start_ms,
            end_ms: self.end_ms,
            state: self.state.clone(),
            shard_id: self.shard_id.clone(),
            event_source_arn: stream_arn.to_owned(),
            is_final,
            terminated_early,
            ..WindowEvent::default()
        }
    }

    /// The window as people read it: `[start, end)` in ISO 8601.
    pub fn describe(&self) -> String {
        format!("[{}, {})", iso8601(self.start_ms), iso8601(self.end_ms))
    }
}

/// The epoch-aligned tumbling window of `width` holding `arrival_ms`: `(start, end)`,
/// start = floor(arrival / width) × width, end = start + width (epoch ms).
pub fn window_bounds(arrival_ms: i64, width: Duration) -> (i64, i64) {
    let width = i64::try_from(width.as_millis()).unwrap_or(i64::MAX).max(1);
    let start = arrival_ms.div_euclid(width) * width;
    (start, start.saturating_add(width))
}

/// The bytes of a window state's JSON, as Lambda measures it against [`MAX_STATE_BYTES`].
pub fn state_bytes(state: &HashMap<String, String>) -> usize {
    serde_json::to_vec(state).map_or(usize::MAX, |json| json.len())
}

/// Why a window's final invocation was given up on.
#[derive(Debug, thiserror::Error)]
#[error(
    "the final invocation{early} of tumbling window {window} of shard {shard} failed \
     {attempts} times (last: {error}); Lambda would hold the shard until it succeeds, so \
     local-runner stops"
)]
pub struct WindowFinalFailed {
    /// The shard.
    pub shard: String,
    /// The window, `[start, end)` in ISO 8601.
    pub window: String,
    /// ` (window terminated early)` when it ended the window early, else empty.
    pub early: &'static str,
    /// Attempts made.
    pub attempts: u32,
    /// The last function error.
    pub error: String,
}

/// Why a delivery stopped with records or a window not handled.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryFailed {
    /// Skipped records could not be described at the destination.
    #[error(transparent)]
    Destination(#[from] DestinationFailed),
    /// A window's final invocation kept failing.
    #[error(transparent)]
    WindowFinal(#[from] WindowFinalFailed),
}

/// Sends `window`'s final invocation (no records, `isFinalInvokeForWindow`, its state;
/// `isWindowTerminatedEarly` too when `terminated_early`), retrying a function error
/// after the retry pause (growing linearly) until it succeeds, at most [`FINAL_ATTEMPTS`]
/// times. On success the state is emptied (for a window that goes on after an early
/// termination).
pub async fn close_window<F: Function>(
    window: &mut OpenWindow,
    terminated_early: bool,
    settings: &Settings,
    function: &F,
    context: &Context<'_>,
    counts: &mut Counts,
) -> Result<(), WindowFinalFailed> {
    let mut event = window.event(context.stream_arn, true, terminated_early);
    let mut failures = 0;
    let mut sends = 1;
    while sends > 0 {
        counts.invocations += 1;
        let number = counts.invocations;
        let result = function.invoke_window(&event, &[]).await;
        match forced(result, number, settings, counts) {
            Ok(response) => {
                sends -= 1;
                if settings.faults.redeliver_invocations.contains(&number) {
                    counts.redeliveries += 1;
                    sends += 1;
                    event.state = response.state;
                }
            }
            Err(error) => {
                counts.function_errors += 1;
                failures += 1;
                if failures >= FINAL_ATTEMPTS {
                    return Err(WindowFinalFailed {
                        shard: window.shard_id.clone(),
                        window: window.describe(),
                        early: if terminated_early {
                            " (window terminated early)"
                        } else {
                            ""
                        },
                        attempts: failures,
                        error,
                    });
                }
                tokio::time::sleep(context.retry_pause.saturating_mul(failures)).await;
            }
        }
    }
    if terminated_early {
        counts.windows_terminated_early += 1;
    } else {
        counts.window_finals += 1;
    }
    window.state = HashMap::new();
    Ok(())
}

/// `result`, or a function error when [`Faults::fail_invocations`] names invocation
/// `number` (the function has run all the same).
fn forced<T>(
    result: Result<T, String>,
    number: usize,
    settings: &Settings,
    counts: &mut Counts,
) -> Result<T, String> {
    if !settings.faults.fail_invocations.contains(&number) {
        return result;
    }
    counts.forced_errors += 1;
    result.and(Err(format!(
        "invocation {number} taken as a function error (--fail-invocation {number})"
    )))
}

/// One batch's delivery: what it needs besides the records.
struct Delivery<'a, 'c, F, D> {
    settings: &'a Settings,
    function: &'a F,
    destination: &'a D,
    context: &'a Context<'c>,
}

impl<F: Function, D: Destination> Delivery<'_, '_, F, D> {
    async fn run(
        &self,
        batch: Vec<StreamRecord>,
        mut window: Option<&mut OpenWindow>,
        counts: &mut Counts,
    ) -> Result<(), DeliveryFailed> {
        let Delivery {
            settings,
            function,
            destination,
            context,
        } = *self;
        let mut queue: VecDeque<(Vec<StreamRecord>, u32)> = VecDeque::from([(batch, 0)]);
        while let Some((records, retries)) = queue.pop_front() {
            if records.is_empty() {
                continue;
            }
            let (expired, records) = split_expired(records, settings, (context.now_ms)());
            if !expired.is_empty() {
                skip(
                    &expired,
                    "RecordAgeExceeded",
                    retries,
                    settings,
                    destination,
                    context,
                    counts,
                )
                .await?;
            }
            if records.is_empty() {
                continue;
            }
            counts.invocations += 1;
            let number = counts.invocations;
            let answer = match window.as_deref_mut() {
                None => function
                    .invoke(&records)
                    .await
                    .map(|response| (response.batch_item_failures, None)),
                Some(window) => {
                    let event = window.event(context.stream_arn, false, false);
                    function
                        .invoke_window(&event, &records)
                        .await
                        .map(|response| (response.batch_item_failures, Some(response.state)))
                }
            };
            let retry = match forced(answer, number, settings, counts) {
                Ok((failures, state)) => {
                    if let (Some(window), Some(state)) = (window.as_deref_mut(), state) {
                        window.state = state;
                        if state_bytes(&window.state) > MAX_STATE_BYTES {
                            close_window(window, true, settings, function, context, counts).await?;
                        }
                    }
                    match first_failed(&failures, &records, settings) {
                        None => {
                            if settings.faults.redeliver_invocations.contains(&number) {
                                counts.redeliveries += 1;
                                queue.push_front((records, retries));
                            }
                            continue;
                        }
                        Some(index) => {
                            counts.partial_failures += 1;
                            records[index..].to_vec()
                        }
                    }
                }
                Err(_) => {
                    counts.function_errors += 1;
                    if settings.bisect_on_error && records.len() > 1 {
                        counts.bisections += 1;
                        let mut first = records;
                        let second = first.split_off(first.len() / 2);
                        queue.push_front((second, retries));
                        queue.push_front((first, retries));
                        continue;
                    }
                    records
                }
            };
            if settings.max_retries.is_some_and(|max| retries >= max) {
                skip(
                    &retry,
                    "RetryAttemptsExhausted",
                    retries,
                    settings,
                    destination,
                    context,
                    counts,
                )
                .await?;
                continue;
            }
            tokio::time::sleep(context.retry_pause.saturating_mul(retries + 1)).await;
            queue.push_front((retry, retries + 1));
        }
        Ok(())
    }
}

/// Facts the failure records need.
pub struct Context<'a> {
    /// The function's ARN.
    pub function_arn: &'a str,
    /// The stream's ARN.
    pub stream_arn: &'a str,
    /// Epoch milliseconds now.
    pub now_ms: &'a (dyn Fn() -> i64 + Sync),
    /// The first pause between retries; later ones grow linearly.
    pub retry_pause: Duration,
}

fn split_expired(
    records: Vec<StreamRecord>,
    settings: &Settings,
    now_ms: i64,
) -> (Vec<StreamRecord>, Vec<StreamRecord>) {
    match settings.max_record_age {
        None => (Vec::new(), records),
        Some(age) => {
            let oldest_kept = now_ms - age.as_millis() as i64;
            records
                .into_iter()
                .partition(|r| r.arrival_ms < oldest_kept)
        }
    }
}

/// The index of the first record the response's `batchItemFailures` report as failed.
fn first_failed(
    failures: &[KinesisBatchItemFailure],
    records: &[StreamRecord],
    settings: &Settings,
) -> Option<usize> {
    if !settings.report_item_failures {
        return None;
    }
    let failure = failures.first()?;
    let position = failure
        .item_identifier
        .as_deref()
        .and_then(|id| records.iter().position(|r| r.sequence_number == id));
    // An identifier that names no record of the batch fails the whole batch.
    Some(position.unwrap_or(0))
}

async fn skip<D: Destination>(
    records: &[StreamRecord],
    condition: &str,
    retries: u32,
    settings: &Settings,
    destination: &D,
    context: &Context<'_>,
    counts: &mut Counts,
) -> Result<(), DestinationFailed> {
    counts.skipped_records += records.len();
    let Some(arn) = &settings.on_failure else {
        return Ok(());
    };
    let record = failure_record(records, condition, retries + 1, context);
    destination
        .send(&record, records)
        .await
        .map_err(|error| DestinationFailed {
            destination: arn.clone(),
            records: records.len(),
            error,
        })?;
    counts.skipped_batches += 1;
    Ok(())
}

/// Lambda's on-failure record for skipped Kinesis records: where they are, without the
/// payload (a destination that keeps the records adds them).
pub fn failure_record(
    records: &[StreamRecord],
    condition: &str,
    invoke_count: u32,
    context: &Context<'_>,
) -> OnFailure {
    let batch = BatchInfo::of(records, context.stream_arn).unwrap_or(BatchInfo {
        shard_id: String::new(),
        start_sequence_number: String::new(),
        end_sequence_number: String::new(),
        first_arrival_ms: 0,
        last_arrival_ms: 0,
        batch_size: 0,
        stream_arn: context.stream_arn.to_owned(),
    });
    OnFailure {
        request_id: local_request_id(),
        function_arn: context.function_arn.to_owned(),
        condition: condition.to_owned(),
        invoke_count: u64::from(invoke_count),
        timestamp_ms: (context.now_ms)(),
        batch,
        payload: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lambda_events::event::streams::KinesisBatchItemFailure;
    use kinesis_codec::on_failure::PayloadForm;
    use serde_json::Value;
    use std::cell::RefCell;

    fn records(n: usize) -> Vec<StreamRecord> {
        (0..n)
            .map(|i| StreamRecord {
                shard_id: "shardId-000000000000".into(),
                sequence_number: format!("{:04}", i),
                partition_key: "k".into(),
                data: vec![i as u8],
                arrival_ms: 1_000_000 + i as i64,
            })
            .collect()
    }

    fn settings() -> Settings {
        Settings {
            batch_size: 100,
            batching_window: Duration::ZERO,
            bisect_on_error: true,
            max_retries: Some(3),
            max_record_age: None,
            report_item_failures: true,
            on_failure: Some("arn:aws:sqs:us-east-1:123456789012:dlq".into()),
            filter: FilterCriteria::default(),
            start: ShardStart::TrimHorizon,
            tumbling_window: None,
            faults: Faults::default(),
        }
    }

    /// Fails each invocation that contains a "poison" record: with an error, or by naming
    /// it in batchItemFailures. Keeps every invocation's first sequence numbers.
    struct Poisoned {
        poison: Vec<u8>,
        report: bool,
        seen: RefCell<Vec<Vec<u8>>>,
    }

    impl Function for Poisoned {
        async fn invoke(&self, records: &[StreamRecord]) -> Result<KinesisEventResponse, String> {
            self.seen
                .borrow_mut()
                .push(records.iter().map(|r| r.data[0]).collect());
            let bad = records.iter().find(|r| self.poison.contains(&r.data[0]));
            match bad {
                None => Ok(KinesisEventResponse::default()),
                Some(_) if !self.report => Err("boom".into()),
                Some(bad) => {
                    let mut response = KinesisEventResponse::default();
                    let mut failure = KinesisBatchItemFailure::default();
                    failure.item_identifier = Some(bad.sequence_number.clone());
                    response.batch_item_failures.push(failure);
                    Ok(response)
                }
            }
        }

        async fn invoke_window(
            &self,
            window: &WindowEvent,
            records: &[StreamRecord],
        ) -> Result<WindowResponse, String> {
            let response = self.invoke(records).await?;
            Ok(WindowResponse {
                state: window.state.clone(),
                batch_item_failures: response.batch_item_failures,
            })
        }
    }

    /// Keeps each on-failure record as a queue receives it, and the records it was about.
    #[derive(Default)]
    struct Collect(RefCell<Vec<Value>>, RefCell<Vec<Vec<StreamRecord>>>);

    impl Destination for Collect {
        async fn send(&self, record: &OnFailure, records: &[StreamRecord]) -> Result<(), String> {
            assert_eq!(record.payload, None, "the mapping adds no payload itself");
            self.0
                .borrow_mut()
                .push(record.to_json(PayloadForm::Object));
            self.1.borrow_mut().push(records.to_vec());
            Ok(())
        }
    }

    fn context(now: &'static (dyn Fn() -> i64 + Sync)) -> Context<'static> {
        Context {
            function_arn: "arn:aws:lambda:us-east-1:123456789012:function:f",
            stream_arn: "arn:aws:kinesis:us-east-1:123456789012:stream/s",
            now_ms: now,
            retry_pause: Duration::ZERO,
        }
    }

    #[tokio::test]
    async fn a_reported_failure_retries_from_that_record_then_skips_it() {
        let function = Poisoned {
            poison: vec![3],
            report: true,
            seen: RefCell::default(),
        };
        let destination = Collect::default();
        let mut counts = Counts::default();
        deliver(
            records(6),
            &settings(),
            &function,
            &destination,
            &context(&|| 1_000_100),
            &mut counts,
        )
        .await
        .unwrap();
        let seen = function.seen.borrow();
        assert_eq!(seen[0], [0, 1, 2, 3, 4, 5]);
        // The initial call and 3 retries all start at the failed record.
        assert_eq!(seen[1..], [vec![3, 4, 5], vec![3, 4, 5], vec![3, 4, 5]]);
        let sent = destination.0.borrow();
        assert_eq!(sent.len(), 1);
        let info = &sent[0]["KinesisBatchInfo"];
        assert_eq!(info["startSequenceNumber"], "0003");
        assert_eq!(info["endSequenceNumber"], "0005");
        assert_eq!(info["batchSize"], 3);
        assert_eq!(
            sent[0]["requestContext"]["condition"],
            "RetryAttemptsExhausted"
        );
        assert_eq!(sent[0]["requestContext"]["approximateInvokeCount"], 4);
        assert_eq!(counts.partial_failures, 4);
        let skipped = &destination.1.borrow()[0];
        let data: Vec<u8> = skipped.iter().map(|r| r.data[0]).collect();
        assert_eq!(data, [3, 4, 5], "the skipped records reach the destination");
    }

    #[tokio::test]
    async fn function_errors_bisect_down_to_the_poison_record() {
        let function = Poisoned {
            poison: vec![5],
            report: false,
            seen: RefCell::default(),
        };
        let destination = Collect::default();
        let mut counts = Counts::default();
        deliver(
            records(8),
            &settings(),
            &function,
            &destination,
            &context(&|| 1_000_100),
            &mut counts,
        )
        .await
        .unwrap();
        let sent = destination.0.borrow();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0]["KinesisBatchInfo"]["startSequenceNumber"], "0005");
        assert_eq!(sent[0]["KinesisBatchInfo"]["batchSize"], 1);
        let handled: Vec<u8> = function
            .seen
            .borrow()
            .iter()
            .filter(|batch| !batch.contains(&5))
            .flatten()
            .copied()
            .collect();
        let mut handled_sorted = handled.clone();
        handled_sorted.sort();
        handled_sorted.dedup();
        assert_eq!(
            handled_sorted,
            [0, 1, 2, 3, 4, 6, 7],
            "every good record delivered"
        );
        assert_eq!(counts.bisections, 3);
        assert_eq!(counts.skipped_records, 1);
    }

    #[tokio::test]
    async fn without_item_failures_a_response_counts_as_success() {
        let function = Poisoned {
            poison: vec![1],
            report: true,
            seen: RefCell::default(),
        };
        let mut no_reports = settings();
        no_reports.report_item_failures = false;
        let destination = Collect::default();
        let mut counts = Counts::default();
        deliver(
            records(3),
            &no_reports,
            &function,
            &destination,
            &context(&|| 0),
            &mut counts,
        )
        .await
        .unwrap();
        assert_eq!(counts.invocations, 1);
        assert!(destination.0.borrow().is_empty());
    }

    #[tokio::test]
    async fn records_older_than_the_maximum_age_are_skipped_unseen() {
        let function = Poisoned {
            poison: vec![],
            report: true,
            seen: RefCell::default(),
        };
        let mut aged = settings();
        aged.max_record_age = Some(Duration::from_millis(10));
        let destination = Collect::default();
        let mut counts = Counts::default();
        // Records arrive at 1_000_000 + i; now is 1_000_013, so records 0..=2 are too old.
        deliver(
            records(5),
            &aged,
            &function,
            &destination,
            &context(&|| 1_000_013),
            &mut counts,
        )
        .await
        .unwrap();
        assert_eq!(function.seen.borrow()[0], [3, 4]);
        let sent = destination.0.borrow();
        assert_eq!(sent[0]["requestContext"]["condition"], "RecordAgeExceeded");
        assert_eq!(sent[0]["KinesisBatchInfo"]["batchSize"], 3);
    }

    #[tokio::test]
    async fn a_forced_error_runs_the_function_then_retries_the_batch() {
        let function = Poisoned {
            poison: vec![],
            report: true,
            seen: RefCell::default(),
        };
        let mut forced = settings();
        forced.faults.fail_invocations = [2, 3].into();
        forced.bisect_on_error = false;
        let destination = Collect::default();
        // The run's counts so far: invocation 1 was another batch's.
        let mut counts = Counts {
            invocations: 1,
            ..Counts::default()
        };
        deliver(
            records(4),
            &forced,
            &function,
            &destination,
            &context(&|| 0),
            &mut counts,
        )
        .await
        .unwrap();
        // Invocations 2 and 3 ran the function and were taken as errors: retried.
        assert_eq!(function.seen.borrow().len(), 3);
        assert!(function.seen.borrow().iter().all(|b| b[..] == [0, 1, 2, 3]));
        assert_eq!(counts.forced_errors, 2);
        assert_eq!(counts.function_errors, 2);
        assert_eq!(counts.invocations, 4);
        assert!(destination.0.borrow().is_empty());
    }

    #[tokio::test]
    async fn a_redelivery_repeats_a_successful_invocations_records_once() {
        let function = Poisoned {
            poison: vec![],
            report: true,
            seen: RefCell::default(),
        };
        let mut twice = settings();
        twice.faults.redeliver_invocations = [1].into();
        let mut counts = Counts::default();
        deliver(
            records(3),
            &twice,
            &function,
            &Collect::default(),
            &context(&|| 0),
            &mut counts,
        )
        .await
        .unwrap();
        assert_eq!(function.seen.borrow()[..], [vec![0, 1, 2], vec![0, 1, 2]]);
        assert_eq!((counts.invocations, counts.redeliveries), (2, 1));
    }
}
