//! Putting records on the stream: PutRecords calls within Kinesis's limits, with the
//! entries a call did not accept (throttled, internal failure) retried with exponential
//! backoff and jitter until they are in or the retry budget is spent, in order per partition
//! key (see [`crate::pending`]).

use std::future::Future;
use std::time::{Duration, Instant};

use crate::pending::Pending;
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
    /// The record's position in the KPL aggregate that carried it, when one did: its
    /// Kinesis eventID is then `shardId:sequenceNumber:n`.
    pub sub_sequence_number: Option<u64>,
}

/// One entry of a PutRecords answer.
pub type EntryResult = Result<Placement, String>;

/// A call that failed as a whole, as a batch or a run ends with it (and as
/// [`crate::kinesis::Stream::check`] fails).
#[derive(Debug, Clone, thiserror::Error)]
pub enum CallError {
    /// Kinesis answered and refused the call, but may take it later: throttling, a 5xx.
    #[error("{0}")]
    Transient(String),
    /// No answer came: the connection was refused or dropped, or the call timed out.
    #[error("{0}")]
    NoAnswer(String),
    /// Not worth trying again: the stream does not exist, access denied, no credentials,
    /// or the endpoint stayed silent too long.
    #[error("{0}")]
    Fatal(String),
}

/// Whether a PutRecords call that got no answer may have put its records on the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// The request never left: it could not be built, or no connection was made
    /// (refused, name not resolved, connect timeout, TLS handshake). The stream does not
    /// hold its records.
    NotSent,
    /// The request was sent, or may have been: the connection was reset or closed
    /// mid-call, the call timed out, the answer was cut or unreadable. Kinesis may have
    /// taken any of its records; the producer cannot tell which.
    InDoubt,
}

/// A PutRecords call that failed as a whole, as [`PutRecords`] reports it: like
/// [`CallError`], and for a call without an answer, whether it may have reached Kinesis.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PutError {
    /// Kinesis answered and refused the call, but may take it later: throttling, a 5xx.
    /// None of its records is in the stream.
    #[error("{0}")]
    Transient(String),
    /// No answer came. The call is tried again until the endpoint has been silent for
    /// [`RetryPolicy::silence_limit`]; `reach` says whether the stream may hold its records.
    #[error("{detail}")]
    NoAnswer {
        /// What happened, on one line.
        detail: String,
        /// Whether the request may have reached Kinesis.
        reach: Reach,
    },
    /// Not worth trying again: the stream does not exist, access denied, no credentials.
    /// None of its records is in the stream.
    #[error("{0}")]
    Fatal(String),
}

/// The PutRecords API: Kinesis in production, a fake in tests.
pub trait PutRecords {
    /// Puts `records`; the answer has one entry per record, in order.
    fn put_records(
        &self,
        records: &[&Record],
    ) -> impl Future<Output = Result<Vec<EntryResult>, PutError>> + Send;
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
    /// How long the endpoint may go without answering any call (refused or dropped
    /// connections, timeouts) before the run gives up on it.
    pub silence_limit: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 10,
            base_delay: Duration::from_millis(50),
            max_delay: Duration::from_secs(5),
            silence_limit: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `attempt + 1` of a record: full jitter under a cap
    /// that doubles from `base_delay` up to `max_delay`.
    pub fn delay(&self, attempt: u32) -> Duration {
        let cap = self
            .base_delay
            .saturating_mul(1u32 << attempt.min(16))
            .min(self.max_delay);
        cap.mul_f64(fastrand::f64())
    }
}

/// How long the endpoint has gone without answering.
#[derive(Debug, Default)]
pub struct Silence {
    since: Option<Instant>,
    calls: u32,
}

impl Silence {
    /// A call answered (even with an error): the endpoint is there.
    pub fn answered(&mut self) {
        self.since = None;
        self.calls = 0;
    }

    /// A call started at `started` got no answer (`error`). `Ok` with when to try again
    /// (a backoff that grows with each silent call), or `Err` saying so once no call has
    /// been answered for `policy.silence_limit`.
    pub fn no_answer(
        &mut self,
        started: Instant,
        error: &str,
        policy: &RetryPolicy,
    ) -> Result<Instant, CallError> {
        let since = *self.since.get_or_insert(started);
        self.calls += 1;
        let silent = since.elapsed();
        if silent < policy.silence_limit {
            return Ok(Instant::now() + policy.delay(self.calls - 1));
        }
        Err(CallError::Fatal(format!(
            "{error}; no answer for {:.0} s, giving up (is the endpoint running and reachable?)",
            silent.as_secs_f64()
        )))
    }
}

/// What became of one batch.
#[derive(Debug, Default)]
pub struct BatchOutcome {
    /// Records that are in the stream, by index into the batch.
    pub placed: Vec<(usize, Placement)>,
    /// Records given up on, by index, with the last error.
    pub failed: Vec<(usize, String)>,
    /// Of `failed`, how many an earlier call without an answer left in doubt: the stream
    /// may hold them.
    pub failed_in_doubt: usize,
    /// Record attempts after the first (a record retried twice counts 2).
    pub retries: usize,
}

/// Puts `records`, in order per partition key, retrying rejected entries. A fatal call
/// error stops at once and is returned.
pub async fn put_batch<A: PutRecords>(
    api: &A,
    records: &[Record],
    policy: RetryPolicy,
) -> Result<BatchOutcome, CallError> {
    let mut outcome = BatchOutcome::default();
    let mut pending = Pending::new();
    for record in records {
        pending.push(record.clone());
    }
    let mut silence = Silence::default();
    while !pending.is_empty() {
        let call = pending.next_call(Instant::now(), MAX_BATCH_RECORDS);
        if call.is_empty() {
            pending.abandon(call);
            if let Some(at) = pending.next_ready() {
                tokio::time::sleep_until(at.into()).await;
            }
            continue;
        }
        outcome.retries += pending.retries_in(&call);
        let started = Instant::now();
        let answer = api.put_records(&pending.records(&call)).await;
        let settled = match answer {
            Ok(entries) => {
                silence.answered();
                pending.settle(call, Ok(&entries), Instant::now(), &policy)
            }
            Err(PutError::Transient(error)) => {
                silence.answered();
                pending.settle(call, Err(&error), Instant::now(), &policy)
            }
            Err(PutError::NoAnswer { detail, reach }) => {
                pending.unanswered(call, reach);
                let again = silence.no_answer(started, &detail, &policy)?;
                tokio::time::sleep_until(again.into()).await;
                continue;
            }
            Err(PutError::Fatal(error)) => return Err(CallError::Fatal(error)),
        };
        for (seq, _, placement) in settled.placed {
            outcome.placed.push((seq as usize, placement));
        }
        outcome.failed_in_doubt += settled.doubtful.len();
        for (seq, _, error) in settled.given_up.into_iter().chain(settled.doubtful) {
            outcome.failed.push((seq as usize, error));
        }
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
        async fn put_records(&self, records: &[&Record]) -> Result<Vec<EntryResult>, PutError> {
            *self.calls.lock().unwrap() += 1;
            {
                let mut left = self.call_errors.lock().unwrap();
                if *left > 0 {
                    *left -= 1;
                    return Err(PutError::Transient("ServiceUnavailable".into()));
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
                            sub_sequence_number: None,
                        })
                    }
                })
                .collect())
        }
    }

    fn fast() -> RetryPolicy {
        RetryPolicy {
            max_retries: 5,
            base_delay: Duration::ZERO,
            max_delay: Duration::ZERO,
            ..RetryPolicy::default()
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
            async fn put_records(&self, _: &[&Record]) -> Result<Vec<EntryResult>, PutError> {
                Err(PutError::Fatal("stream s not found".into()))
            }
        }
        let err = put_batch(&Missing, &[record(0, 1)], fast())
            .await
            .unwrap_err();
        assert!(err.to_string().contains("not found"));
    }

    /// Accepts or rejects entries at random (seeded) and checks the ordering rule on every
    /// call: a record arrives only when every earlier record of its key was accepted.
    struct Strict {
        rng: Mutex<fastrand::Rng>,
        /// Per key, the next record number it must send, and the numbers accepted.
        keys: Mutex<std::collections::HashMap<String, (usize, Vec<usize>)>>,
    }

    impl PutRecords for Strict {
        async fn put_records(&self, records: &[&Record]) -> Result<Vec<EntryResult>, PutError> {
            let mut rng = self.rng.lock().unwrap();
            if rng.f64() < 0.05 {
                return Err(PutError::Transient("LimitExceededException".into()));
            }
            let mut keys = self.keys.lock().unwrap();
            let mut in_call = std::collections::HashSet::new();
            let mut answers = Vec::new();
            for record in records {
                assert!(
                    in_call.insert(&record.partition_key),
                    "two records of one key in a call"
                );
                let n: usize = String::from_utf8_lossy(&record.data).parse().unwrap();
                let (next, accepted) = keys.entry(record.partition_key.clone()).or_default();
                assert_eq!(n, *next, "{} sent out of turn", record.partition_key);
                if rng.f64() < 0.2 {
                    answers.push(Err("ProvisionedThroughputExceededException".into()));
                } else {
                    accepted.push(n);
                    *next += 1;
                    answers.push(Ok(Placement {
                        shard_id: "shardId-000000000000".into(),
                        sequence_number: n.to_string(),
                        sub_sequence_number: None,
                    }));
                }
            }
            Ok(answers)
        }
    }

    #[tokio::test]
    async fn under_rejections_each_key_is_sent_and_accepted_in_order() {
        let rng = fastrand::Rng::with_seed(11);
        let mut counters = std::collections::HashMap::<String, usize>::new();
        let records: Vec<Record> = (0..2_000)
            .map(|i| {
                let key = format!("user-{}", (i * 7919 + i / 3) % 37);
                let n = counters.entry(key.clone()).or_default();
                *n += 1;
                Record {
                    partition_key: key,
                    data: (*n - 1).to_string().into_bytes(),
                    invalid: None,
                }
            })
            .collect();
        let api = Strict {
            rng: Mutex::new(rng),
            keys: Mutex::default(),
        };
        let policy = RetryPolicy {
            max_retries: 50,
            ..fast()
        };
        let outcome = put_batch(&api, &records, policy).await.unwrap();
        assert_eq!(outcome.placed.len(), 2_000);
        assert!(outcome.retries > 300, "{} retries", outcome.retries);
        for (key, (_, accepted)) in api.keys.lock().unwrap().iter() {
            assert_eq!(*accepted, (0..counters[key]).collect::<Vec<_>>(), "{key}");
        }
    }

    #[tokio::test]
    async fn an_endpoint_silent_past_the_limit_is_given_up() {
        struct Gone;
        impl PutRecords for Gone {
            async fn put_records(&self, _: &[&Record]) -> Result<Vec<EntryResult>, PutError> {
                tokio::time::sleep(Duration::from_millis(5)).await;
                Err(PutError::NoAnswer {
                    detail: "cannot reach Kinesis at http://127.0.0.1:1: refused".into(),
                    reach: Reach::NotSent,
                })
            }
        }
        let policy = RetryPolicy {
            max_retries: 1_000,
            silence_limit: Duration::from_millis(50),
            ..fast()
        };
        let err = put_batch(&Gone, &[record(0, 1)], policy).await.unwrap_err();
        assert!(matches!(err, CallError::Fatal(_)), "{err:?}");
        assert!(err.to_string().starts_with("cannot reach Kinesis"), "{err}");
        assert!(err.to_string().contains("no answer for"), "{err}");
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
