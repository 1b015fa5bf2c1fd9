//! Putting records on the stream: PutRecords calls within Kinesis's limits, with the
//! entries a call did not accept (throttled, internal failure) retried with exponential
//! backoff and jitter until they are in or the retry budget is spent.

use std::future::Future;
use std::time::Duration;

use crate::source::Record;

/// Kinesis's limit on records per PutRecords call.
pub const MAX_BATCH_RECORDS: usize = 500;

/// Kinesis's limit on one PutRecords request: data plus partition keys.
pub const MAX_BATCH_BYTES: usize = 5 * 1024 * 1024;

/// Where one record landed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    /// The shard that took it.
    pub shard_id: String,
    /// Its sequence number there.
    pub sequence_number: String,
}

/// One entry of a PutRecords answer.
pub type EntryResult = Result<Placement, String>;

/// A PutRecords call that failed as a whole.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CallError {
    /// Worth trying again: throttling, a 5xx, a timeout.
    #[error("{0}")]
    Transient(String),
    /// Not worth trying again: the stream does not exist, access denied, the endpoint is
    /// unreachable after the SDK's own attempts.
    #[error("{0}")]
    Fatal(String),
}

/// The PutRecords API: Kinesis in production, a fake in tests.
pub trait PutRecords {
    /// Puts `records`; the answer has one entry per record, in order.
    fn put_records(
        &self,
        records: &[&Record],
    ) -> impl Future<Output = Result<Vec<EntryResult>, CallError>> + Send;
}

/// How hard to try.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Further attempts for a record after the first.
    pub max_retries: u32,
    /// The first backoff; each retry doubles it, up to `max_delay`, with full jitter.
    pub base_delay: Duration,
    /// The longest wait between attempts.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 10,
            base_delay: Duration::from_millis(50),
            max_delay: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    fn delay(&self, attempt: u32) -> Duration {
        let cap = self
            .base_delay
            .saturating_mul(1u32 << attempt.min(16))
            .min(self.max_delay);
        cap.mul_f64(fastrand::f64())
    }
}

/// What became of one batch.
#[derive(Debug, Default)]
pub struct BatchOutcome {
    /// Records that are in the stream, by index into the batch.
    pub placed: Vec<(usize, Placement)>,
    /// Records given up on, by index, with the last error.
    pub failed: Vec<(usize, String)>,
    /// Record attempts after the first (a record retried twice counts 2).
    pub retries: usize,
}

/// Puts `records` (already within [`MAX_BATCH_RECORDS`] and [`MAX_BATCH_BYTES`]), retrying
/// rejected entries. A fatal call error stops at once and is returned.
pub async fn put_batch<A: PutRecords>(
    api: &A,
    records: &[Record],
    policy: RetryPolicy,
) -> Result<BatchOutcome, CallError> {
    let mut outcome = BatchOutcome::default();
    let mut pending: Vec<usize> = (0..records.len()).collect();
    let mut attempt = 0u32;
    while !pending.is_empty() {
        if attempt > 0 {
            tokio::time::sleep(policy.delay(attempt - 1)).await;
            outcome.retries += pending.len();
        }
        let batch: Vec<&Record> = pending.iter().map(|&i| &records[i]).collect();
        let rejected: Vec<(usize, String)> = match api.put_records(&batch).await {
            Ok(answers) => {
                let mut rejected = Vec::new();
                for (position, &index) in pending.iter().enumerate() {
                    match answers.get(position) {
                        Some(Ok(placement)) => outcome.placed.push((index, placement.clone())),
                        Some(Err(error)) => rejected.push((index, error.clone())),
                        None => rejected.push((index, "PutRecords gave no answer for it".into())),
                    }
                }
                rejected
            }
            // The whole call failed but may succeed later (throttling, 5xx, a timeout).
            Err(CallError::Transient(error)) => {
                pending.iter().map(|&i| (i, error.clone())).collect()
            }
            Err(fatal) => return Err(fatal),
        };
        attempt += 1;
        if attempt > policy.max_retries {
            outcome.failed.extend(rejected);
            break;
        }
        pending = rejected.into_iter().map(|(i, _)| i).collect();
    }
    Ok(outcome)
}

/// Splits `records` into PutRecords batches within Kinesis's count and size limits.
pub fn batches(records: &[Record], max_records: usize) -> Vec<std::ops::Range<usize>> {
    let max_records = max_records.clamp(1, MAX_BATCH_RECORDS);
    let mut ranges = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, record) in records.iter().enumerate() {
        let full = i - start == max_records || bytes + record.size() > MAX_BATCH_BYTES;
        if full && i > start {
            ranges.push(start..i);
            (start, bytes) = (i, 0);
        }
        bytes += record.size();
    }
    if start < records.len() {
        ranges.push(start..records.len());
    }
    ranges
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    fn record(i: usize, bytes: usize) -> Record {
        Record {
            partition_key: format!("user-{i}"),
            data: vec![b'x'; bytes],
            invalid: None,
        }
    }

    /// Rejects every `n`-th entry it sees with a throttling error; counts calls.
    struct Flaky {
        every: usize,
        seen: Mutex<usize>,
        calls: Mutex<usize>,
        call_errors: Mutex<usize>,
    }

    impl Flaky {
        fn new(every: usize, call_errors: usize) -> Flaky {
            Flaky {
                every,
                seen: Mutex::new(0),
                calls: Mutex::new(0),
                call_errors: Mutex::new(call_errors),
            }
        }
    }

    impl PutRecords for Flaky {
        async fn put_records(&self, records: &[&Record]) -> Result<Vec<EntryResult>, CallError> {
            *self.calls.lock().unwrap() += 1;
            {
                let mut left = self.call_errors.lock().unwrap();
                if *left > 0 {
                    *left -= 1;
                    return Err(CallError::Transient("ServiceUnavailable".into()));
                }
            }
            let mut seen = self.seen.lock().unwrap();
            Ok(records
                .iter()
                .map(|r| {
                    *seen += 1;
                    if self.every > 0 && *seen % self.every == 0 {
                        Err("ProvisionedThroughputExceededException".into())
                    } else {
                        Ok(Placement {
                            shard_id: "shardId-000000000000".into(),
                            sequence_number: format!("{}-{}", r.partition_key, *seen),
                        })
                    }
                })
                .collect())
        }
    }

    fn fast() -> RetryPolicy {
        RetryPolicy {
            max_retries: 5,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(2),
        }
    }

    #[tokio::test]
    async fn rejected_entries_are_retried_until_all_are_in() {
        let records: Vec<Record> = (0..100).map(|i| record(i, 10)).collect();
        let api = Flaky::new(7, 1);
        let outcome = put_batch(&api, &records, fast()).await.unwrap();
        let mut placed: Vec<usize> = outcome.placed.iter().map(|(i, _)| *i).collect();
        placed.sort();
        assert_eq!(placed, (0..100).collect::<Vec<_>>());
        assert!(outcome.failed.is_empty());
        assert!(outcome.retries >= 14, "{} retries", outcome.retries);
        assert!(*api.calls.lock().unwrap() >= 3);
    }

    #[tokio::test]
    async fn a_spent_budget_reports_the_records_as_failed() {
        let records: Vec<Record> = (0..10).map(|i| record(i, 10)).collect();
        let api = Flaky::new(1, 0);
        let outcome = put_batch(&api, &records, fast()).await.unwrap();
        assert!(outcome.placed.is_empty());
        assert_eq!(outcome.failed.len(), 10);
        assert_eq!(*api.calls.lock().unwrap(), 6);
        assert!(outcome.failed[0].1.contains("Throughput"));
    }

    #[tokio::test]
    async fn a_fatal_error_stops_at_once() {
        struct Missing;
        impl PutRecords for Missing {
            async fn put_records(&self, _: &[&Record]) -> Result<Vec<EntryResult>, CallError> {
                Err(CallError::Fatal("stream s not found".into()))
            }
        }
        let err = put_batch(&Missing, &[record(0, 1)], fast())
            .await
            .unwrap_err();
        assert!(err.to_string().contains("not found"));
    }

    #[test]
    fn batches_respect_the_count_and_size_limits() {
        let small: Vec<Record> = (0..1_201).map(|i| record(i, 100)).collect();
        let lens: Vec<usize> = batches(&small, 500).iter().map(|r| r.len()).collect();
        assert_eq!(lens, [500, 500, 201]);
        let big: Vec<Record> = (0..12).map(|i| record(i, 1024 * 1024 - 16)).collect();
        let ranges = batches(&big, 500);
        assert_eq!(ranges, [0..5, 5..10, 10..12]);
        for range in ranges {
            let bytes: usize = big[range].iter().map(Record::size).sum();
            assert!(bytes <= MAX_BATCH_BYTES);
        }
        assert_eq!(batches(&small[..3], 1).len(), 3);
        assert!(batches(&[], 500).is_empty());
    }
}
