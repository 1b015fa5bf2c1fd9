//! One producer run: take records from the input as the schedule makes them due, put them
//! on the stream in batches (whatever is due at once goes in one PutRecords call, so high
//! rates batch by themselves), and count what happened. One call is in flight at a time,
//! which keeps each shard's records in order.

use std::fmt;
use std::io::BufRead;
use std::time::{Duration, Instant};

use crate::progress::Progress;
use crate::schedule::Schedule;
use crate::send::{self, CallError, Placement, PutRecords, RetryPolicy};
use crate::source::{Generated, Lines, Record};

/// Where the records come from.
pub enum Input {
    /// The realistic generator. Event times follow the schedule from `clock_start_ms`, so a
    /// seed and a start time reproduce a run's records exactly.
    Generated {
        /// The source.
        source: Generated,
        /// Epoch ms of the first event.
        clock_start_ms: i64,
    },
    /// A JSON-lines file.
    File(Lines<Box<dyn BufRead + Send>>),
}

/// How to send.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// When records are due.
    pub schedule: Schedule,
    /// Records per PutRecords call at most (1–500).
    pub batch: usize,
    /// Retries of rejected entries.
    pub retry: RetryPolicy,
}

/// What a run did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Summary {
    /// Records in the stream.
    pub sent: u64,
    /// Of those, records made invalid on purpose.
    pub invalid: u64,
    /// Record attempts after the first.
    pub retried: u64,
    /// Records given up on after the retry budget, or unreadable input lines.
    pub failed: u64,
    /// Wall time.
    pub elapsed: Duration,
}

impl Summary {
    /// Records in the stream per second of the run.
    pub fn rate(&self) -> f64 {
        let seconds = self.elapsed.as_secs_f64();
        if seconds > 0.0 {
            self.sent as f64 / seconds
        } else {
            0.0
        }
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "summary: sent={} invalid={} retried={} failed={} elapsed={:.2}s events_per_second={:.0}",
            self.sent,
            self.invalid,
            self.retried,
            self.failed,
            self.elapsed.as_secs_f64(),
            self.rate()
        )
    }
}

/// Runs until the schedule or the input ends. `on_placed` sees every record that reached
/// the stream (tests use it to know exactly what was acknowledged). A fatal error (stream
/// missing, endpoint unreachable) ends the run at once.
pub async fn run<A: PutRecords>(
    api: &A,
    input: &mut Input,
    options: Options,
    progress: &mut dyn Progress,
    on_placed: &mut dyn FnMut(&Record, &Placement),
) -> Result<Summary, CallError> {
    let started = Instant::now();
    let mut summary = Summary::default();
    let mut pending: Vec<Record> = Vec::new();
    let mut index = 0u64;
    let mut next_due = None;
    loop {
        while pending.len() < options.batch.max(1) {
            let Some(due) = options.schedule.due(index, started.elapsed()) else {
                next_due = None;
                break;
            };
            if due > started.elapsed() {
                next_due = Some(due);
                break;
            }
            match next_record(input, due) {
                Some(Ok(record)) => pending.push(record),
                Some(Err(error)) => {
                    eprintln!("warning: {error}; skipped");
                    summary.failed += 1;
                }
                None => {
                    next_due = None;
                    break;
                }
            }
            index += 1;
            next_due = Some(due);
        }
        if !pending.is_empty() {
            deliver(api, &pending, options, &mut summary, on_placed).await?;
            pending.clear();
            progress.update(summary.sent, summary.failed);
            continue;
        }
        match next_due {
            Some(due) => tokio::time::sleep(due.saturating_sub(started.elapsed())).await,
            None => break,
        }
    }
    progress.finish();
    summary.elapsed = started.elapsed();
    Ok(summary)
}

fn next_record(
    input: &mut Input,
    due: Duration,
) -> Option<Result<Record, crate::source::SourceError>> {
    match input {
        Input::Generated {
            source,
            clock_start_ms,
        } => {
            let now_ms = clock_start_ms.saturating_add(due.as_millis() as i64);
            Some(Ok(source.next_record(now_ms)))
        }
        Input::File(lines) => lines.next_record(),
    }
}

async fn deliver<A: PutRecords>(
    api: &A,
    records: &[Record],
    options: Options,
    summary: &mut Summary,
    on_placed: &mut dyn FnMut(&Record, &Placement),
) -> Result<(), CallError> {
    for range in send::batches(records, options.batch) {
        let batch = &records[range];
        let outcome = send::put_batch(api, batch, options.retry).await?;
        for (index, placement) in &outcome.placed {
            let record = &batch[*index];
            summary.sent += 1;
            summary.invalid += u64::from(record.invalid.is_some());
            on_placed(record, placement);
        }
        for (index, error) in &outcome.failed {
            eprintln!(
                "warning: record for {} not sent after {} retries: {error}",
                batch[*index].partition_key, options.retry.max_retries
            );
        }
        summary.failed += outcome.failed.len() as u64;
        summary.retried += outcome.retries as u64;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::Silent;
    use crate::send::EntryResult;
    use std::sync::Mutex;

    /// Accepts everything; records each call's size.
    #[derive(Default)]
    struct Recorder(Mutex<Vec<usize>>);

    impl PutRecords for Recorder {
        async fn put_records(&self, records: &[&Record]) -> Result<Vec<EntryResult>, CallError> {
            self.0.lock().unwrap().push(records.len());
            Ok(records
                .iter()
                .map(|_| {
                    Ok(Placement {
                        shard_id: "shardId-000000000000".into(),
                        sequence_number: "1".into(),
                    })
                })
                .collect())
        }
    }

    fn generated(seed: u64, invalid_ratio: f64) -> Input {
        Input::Generated {
            source: Generated::new(seed, invalid_ratio),
            clock_start_ms: 1_700_000_000_000,
        }
    }

    fn options(schedule: Schedule, batch: usize) -> Options {
        Options {
            schedule,
            batch,
            retry: RetryPolicy::default(),
        }
    }

    #[tokio::test]
    async fn records_due_at_once_share_a_call() {
        let api = Recorder::default();
        let summary = run(
            &api,
            &mut generated(1, 0.0),
            options(Schedule::count(1_234, Duration::ZERO), 500),
            &mut Silent,
            &mut |_, _| {},
        )
        .await
        .unwrap();
        assert_eq!(*api.0.lock().unwrap(), [500, 500, 234]);
        assert_eq!(summary.sent, 1_234);
    }

    #[tokio::test]
    async fn invalid_records_are_counted_and_oversized_ones_split_calls() {
        let api = Recorder::default();
        let mut placed = Vec::new();
        let summary = run(
            &api,
            &mut generated(1, 0.1),
            options(Schedule::count(1_234, Duration::ZERO), 500),
            &mut Silent,
            &mut |record, _| placed.push(record.clone()),
        )
        .await
        .unwrap();
        assert_eq!(placed.len(), 1_234);
        assert!(
            api.0.lock().unwrap().len() > 3,
            "5 MiB per call splits batches"
        );
        let invalid = placed.iter().filter(|r| r.invalid.is_some()).count() as u64;
        assert_eq!(summary.invalid, invalid);
        assert!(invalid > 60 && invalid < 190, "{invalid}");
    }

    #[tokio::test]
    async fn paced_records_go_one_by_one_and_take_their_time() {
        let api = Recorder::default();
        let started = Instant::now();
        let summary = run(
            &api,
            &mut generated(1, 0.0),
            options(Schedule::count(5, Duration::from_millis(20)), 500),
            &mut Silent,
            &mut |_, _| {},
        )
        .await
        .unwrap();
        assert_eq!(*api.0.lock().unwrap(), [1, 1, 1, 1, 1]);
        assert_eq!(summary.sent, 5);
        assert!(started.elapsed() >= Duration::from_millis(80));
    }

    #[tokio::test]
    async fn a_file_is_sent_line_by_line_and_bad_lines_are_counted() {
        let text = format!("{{\"userId\":\"u1\"}}\n{}\nnot json\n", "x".repeat(1 << 21));
        let reader: Box<dyn BufRead + Send> = Box::new(std::io::Cursor::new(text.into_bytes()));
        let mut input = Input::File(Lines::new(reader, "in.jsonl"));
        let api = Recorder::default();
        let summary = run(
            &api,
            &mut input,
            options(Schedule::count(u64::MAX, Duration::ZERO), 500),
            &mut Silent,
            &mut |_, _| {},
        )
        .await
        .unwrap();
        assert_eq!((summary.sent, summary.failed), (2, 1));
    }

    #[test]
    fn the_summary_line_names_every_count() {
        let summary = Summary {
            sent: 2_000,
            invalid: 200,
            retried: 12,
            failed: 0,
            elapsed: Duration::from_secs(4),
        };
        assert_eq!(
            summary.to_string(),
            "summary: sent=2000 invalid=200 retried=12 failed=0 elapsed=4.00s events_per_second=500"
        );
    }
}
