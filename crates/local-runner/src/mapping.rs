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
//!   skipped records themselves as the event's `payload`.

use std::collections::VecDeque;
use std::future::Future;
use std::time::Duration;

use aws_lambda_events::event::streams::KinesisEventResponse;
use kinesis_codec::on_failure::{BatchInfo, OnFailure};
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
}

/// The function as the mapping sees it.
pub trait Function {
    /// Invokes the function with `records`; `Err` is a function error.
    fn invoke(
        &self,
        records: &[StreamRecord],
    ) -> impl Future<Output = Result<KinesisEventResponse, String>>;
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
/// skipped. `now_ms` tells the record ages; `pause` waits between retries.
pub async fn deliver<F: Function, D: Destination>(
    batch: Vec<StreamRecord>,
    settings: &Settings,
    function: &F,
    destination: &D,
    context: &Context<'_>,
    counts: &mut Counts,
) -> Result<(), DestinationFailed> {
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
        let retry = match function.invoke(&records).await {
            Ok(response) => match first_failed(&response, &records, settings) {
                None => continue,
                Some(index) => {
                    counts.partial_failures += 1;
                    records[index..].to_vec()
                }
            },
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

/// The index of the first record the response reports as failed.
fn first_failed(
    response: &KinesisEventResponse,
    records: &[StreamRecord],
    settings: &Settings,
) -> Option<usize> {
    if !settings.report_item_failures {
        return None;
    }
    let failure = response.batch_item_failures.first()?;
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
}
