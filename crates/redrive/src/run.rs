//! One redrive run: read the dead-letter queue, turn each message back into the records it
//! stands for, process them again, and delete a message only once every record of it is
//! durably stored or dead-lettered again.
//!
//! Messages that are left (filtered out, already redriven as often as allowed, with
//! expired or failed records, unreadable) are made visible again at the end, never deleted.
//! Dead letters that this run's own invocations write land in the same queue; they are
//! recognised by their `requestId` and left alone, so a run never chases its own output.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::time::Duration;

use kinesis_codec::kpl::{self, Deaggregated};
use kinesis_codec::record::{EventSource, StreamRecord};
use processor::dead_letter::Writer;

use crate::letter::{self, Letter, Rejected, SkippedRange};
use crate::queue::{Message, Queue};
use crate::reprocess::{event_json, Redriven, Reprocessor};
use crate::stream::RecordSource;

/// What to redrive and how.
#[derive(Debug, Clone)]
pub struct Options {
    /// Change nothing: count, then make every message visible again.
    pub dry_run: bool,
    /// Only messages of these error types (the dead letter's `errorType`, or an on-failure
    /// record's condition); empty for all.
    pub error_types: Vec<String>,
    /// Stop after this many messages.
    pub limit: Option<u64>,
    /// A dead letter already redriven this often is skipped.
    pub max_redrives: u32,
    /// Records per invocation.
    pub batch_size: usize,
    /// Invocations of the same records before they count as failed.
    pub attempts: u32,
    /// Pause between those invocations.
    pub retry_pause: Duration,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            dry_run: false,
            error_types: Vec::new(),
            limit: None,
            max_redrives: 1,
            batch_size: 100,
            attempts: 3,
            retry_pause: Duration::from_millis(500),
        }
    }
}

/// What a run did, in records (an on-failure message stands for its batch's records).
/// `read = stored + dead_lettered_again + expired + skipped + failed + planned`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Records the messages read stand for.
    pub read: u64,
    /// Records stored in the table.
    pub stored: u64,
    /// Records still invalid, dead-lettered again (with their redrive count).
    pub dead_lettered_again: u64,
    /// Records the stream no longer holds.
    pub expired: u64,
    /// Records left alone: filtered out, or already redriven `max_redrives` times.
    pub skipped: u64,
    /// Records not handled (the invocation failed, or the message is unreadable).
    pub failed: u64,
    /// A dry run's records that a real run would process again (0 otherwise).
    pub planned: u64,
    /// Messages read, by kind (`dead-letter`, `on-failure`, `unreadable`).
    pub by_kind: BTreeMap<String, u64>,
    /// Messages read, by error type.
    pub by_error_type: BTreeMap<String, u64>,
    /// Messages deleted.
    pub deleted: u64,
    /// Messages left in the queue.
    pub left: u64,
    /// Why records were not handled, one line each (the first few).
    pub problems: Vec<String>,
}

impl Summary {
    /// Everything read was handled (stored, dead-lettered again, or deliberately skipped).
    pub fn all_handled(&self) -> bool {
        self.expired == 0 && self.failed == 0
    }

    fn problem(&mut self, text: String) {
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(text);
        }
    }
}

const MAX_PROBLEMS: usize = 20;

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "redrive: read={} stored={} dead_lettered_again={} expired={} skipped={} failed={}",
            self.read,
            self.stored,
            self.dead_lettered_again,
            self.expired,
            self.skipped,
            self.failed
        )
    }
}

/// The queue, the stream and the processor a run works with.
pub struct Parts<'a, Q, S, P> {
    /// The dead-letter queue.
    pub queue: &'a Q,
    /// The stream, for on-failure ranges and truncated dead letters.
    pub stream: &'a S,
    /// The processor.
    pub processor: &'a P,
    /// The event fields every record shares (also used to predict what becomes of a
    /// record, with the processor's own pure core).
    pub source: &'a EventSource,
}

/// A message turned back into records.
struct Work {
    message: Message,
    records: Vec<Redriven>,
    expired: u64,
    redrive_count: u32,
}

/// Runs redrive until the queue has no visible message (or `limit` messages were read).
/// `progress` sees the summary after every batch of messages.
pub async fn run<Q: Queue, S: RecordSource, P: Reprocessor>(
    parts: Parts<'_, Q, S, P>,
    options: &Options,
    progress: &mut dyn FnMut(&Summary),
) -> Result<Summary, String> {
    let mut summary = Summary::default();
    let mut seen: HashSet<String> = HashSet::new();
    let mut ours: HashSet<String> = HashSet::new();
    let mut left: Vec<Message> = Vec::new();
    let mut taken: u64 = 0;
    while options.limit.is_none_or(|limit| taken < limit) {
        let batch = parts.queue.receive().await?;
        if batch.is_empty() {
            break;
        }
        let mut work = Vec::new();
        for message in batch {
            if !seen.insert(message.id.clone()) || written_by(&message, &ours) {
                left.push(message);
                continue;
            }
            if options.limit.is_some_and(|limit| taken >= limit) {
                left.push(message);
                continue;
            }
            taken += 1;
            match take(&parts, options, &mut summary, message).await? {
                Taken::Work(w) => work.push(w),
                Taken::Left(message) => left.push(message),
            }
        }
        if !options.dry_run {
            for w in work {
                redrive(&parts, options, &mut summary, &mut ours, w, &mut left).await?;
            }
        } else {
            left.extend(work.into_iter().map(|w| w.message));
        }
        progress(&summary);
    }
    for message in &left {
        parts.queue.release(message).await?;
    }
    summary.left = left.len() as u64;
    Ok(summary)
}

/// A dead letter that an invocation of this run wrote.
fn written_by(message: &Message, ours: &HashSet<String>) -> bool {
    matches!(letter::parse(&message.body), Ok(Letter::Rejected(r)) if ours.contains(&r.request_id))
}

enum Taken {
    Work(Work),
    Left(Message),
}

/// Reads one message: counts it, decides whether to redrive it, and finds its records.
async fn take<Q, S: RecordSource, P>(
    parts: &Parts<'_, Q, S, P>,
    options: &Options,
    summary: &mut Summary,
    message: Message,
) -> Result<Taken, String> {
    let letter = match letter::parse(&message.body) {
        Ok(letter) => letter,
        Err(err) => {
            summary.read += 1;
            summary.failed += 1;
            *summary.by_kind.entry("unreadable".into()).or_default() += 1;
            summary.problem(format!("message {}: {err}", message.id));
            return Ok(Taken::Left(message));
        }
    };
    let count = letter.record_count();
    summary.read += count;
    *summary.by_kind.entry(letter.kind().into()).or_default() += 1;
    *summary
        .by_error_type
        .entry(letter.error_type().into())
        .or_default() += 1;
    let wanted = options.error_types.is_empty()
        || options.error_types.iter().any(|t| t == letter.error_type());
    if !wanted {
        summary.skipped += count;
        return Ok(Taken::Left(message));
    }
    let work = match letter {
        Letter::Rejected(r) if r.redrive_count >= options.max_redrives => {
            summary.skipped += 1;
            summary.problem(format!(
                "skipped {}: redriven {} time(s) already and rejected again ({}); raise --max-redrives to try again",
                r.identity(),
                r.redrive_count,
                r.error_type
            ));
            return Ok(Taken::Left(message));
        }
        Letter::Rejected(r) => rejected_work(parts.stream, message, &r).await?,
        Letter::Skipped(range) => range_work(parts.stream, message, &range).await?,
    };
    if work.expired > 0 {
        summary.expired += work.expired;
        summary.problem(format!(
            "message {}: {} record(s) are no longer in the stream (past its retention, or the shard is gone)",
            work.message.id, work.expired
        ));
    }
    if options.dry_run {
        summary.planned += work.records.len() as u64;
        return Ok(Taken::Left(work.message));
    }
    Ok(Taken::Work(work))
}

/// The record of a dead letter: its bytes from the letter, or from the stream when the
/// letter was too large to hold them.
async fn rejected_work<S: RecordSource>(
    stream: &S,
    message: Message,
    r: &Rejected,
) -> Result<Work, String> {
    let data = match &r.data {
        Some(data) => Some(data.clone()),
        None => stream
            .range(&r.shard_id, &r.sequence_number, &r.sequence_number)
            .await?
            .into_iter()
            .next()
            .and_then(|record| user_record(record.data, r.sub_sequence_number)),
    };
    let records = data
        .map(|data| {
            vec![Redriven {
                record: StreamRecord {
                    shard_id: r.shard_id.clone(),
                    sequence_number: r.sequence_number.clone(),
                    partition_key: r.partition_key.clone(),
                    data,
                    arrival_ms: r.arrival_ms,
                },
                event_id: r.identity(),
            }]
        })
        .unwrap_or_default();
    Ok(Work {
        expired: u64::from(records.is_empty()),
        message,
        records,
        redrive_count: r.redrive_count + 1,
    })
}

/// The bytes the dead letter was about: the whole record, or one user record of it.
fn user_record(data: Vec<u8>, sub: Option<u64>) -> Option<Vec<u8>> {
    let Some(sub) = sub else {
        return Some(data);
    };
    match kpl::deaggregate(&data) {
        Ok(Deaggregated::Aggregate(users)) => users
            .into_iter()
            .find(|u| u.sub_sequence_number == sub)
            .map(|u| u.data.to_vec()),
        _ => None,
    }
}

/// The records of an on-failure range, read back from the stream.
async fn range_work<S: RecordSource>(
    stream: &S,
    message: Message,
    range: &SkippedRange,
) -> Result<Work, String> {
    let found = stream
        .range(
            &range.shard_id,
            &range.start_sequence_number,
            &range.end_sequence_number,
        )
        .await?;
    let records: Vec<Redriven> = found
        .into_iter()
        .map(|record| Redriven {
            event_id: format!("{}:{}", record.shard_id, record.sequence_number),
            record,
        })
        .collect();
    Ok(Work {
        expired: range.batch_size.saturating_sub(records.len() as u64),
        message,
        records,
        redrive_count: 1,
    })
}

/// Processes one message's records and deletes the message when all are handled.
async fn redrive<Q: Queue, S, P: Reprocessor>(
    parts: &Parts<'_, Q, S, P>,
    options: &Options,
    summary: &mut Summary,
    ours: &mut HashSet<String>,
    work: Work,
    left: &mut Vec<Message>,
) -> Result<(), String> {
    let rejected_again = predict_dead_letters(&work.records, parts.source);
    let mut handled = vec![false; work.records.len()];
    for start in (0..work.records.len()).step_by(options.batch_size.max(1)) {
        let end = (start + options.batch_size.max(1)).min(work.records.len());
        let mut from = start;
        for attempt in 1..=options.attempts {
            let result = parts
                .processor
                .process(&work.records[from..end], work.redrive_count)
                .await?;
            ours.insert(result.request_id);
            let stop = result.first_unhandled.map_or(end, |i| from + i);
            handled[from..stop].iter_mut().for_each(|h| *h = true);
            from = stop;
            if from == end {
                break;
            }
            if let Some(error) = result.error {
                summary.problem(format!("message {}: {error}", work.message.id));
            }
            if attempt < options.attempts {
                tokio::time::sleep(options.retry_pause).await;
            }
        }
    }
    for (done, again) in handled.iter().zip(&rejected_again) {
        match (done, again) {
            (true, true) => summary.dead_lettered_again += 1,
            (true, false) => summary.stored += 1,
            (false, _) => summary.failed += 1,
        }
    }
    let unhandled = handled.iter().filter(|h| !**h).count();
    if unhandled > 0 {
        summary.problem(format!(
            "message {}: {unhandled} record(s) not handled after {} attempts; the message stays",
            work.message.id, options.attempts
        ));
    }
    if unhandled == 0 && work.expired == 0 {
        parts.queue.delete(&work.message).await?;
        summary.deleted += 1;
    } else {
        left.push(work.message);
    }
    Ok(())
}

/// Which records the processor rejects again, by its own pure core: the summary tells
/// stored from dead-lettered again without asking the function.
fn predict_dead_letters(records: &[Redriven], source: &EventSource) -> Vec<bool> {
    let Ok(event) = kinesis_codec::event::from_json(event_json(records, source)) else {
        return vec![false; records.len()];
    };
    let writer = Writer {
        function_name: "",
        request_id: "",
        redrive_count: 0,
    };
    processor::plan::plan(&event.records, writer, 0, 0)
        .needs
        .iter()
        .map(|needs| !needs.letters.is_empty())
        .collect()
}

#[cfg(test)]
mod tests;
