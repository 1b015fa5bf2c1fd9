//! One redrive run: read the dead-letter queue, then the failure archive; turn each message
//! and each on-failure object back into the records it stands for, process them again, and
//! let go of a message or an object only once every record of it is durably stored or
//! dead-lettered again: a message is deleted, an object tagged handled.
//!
//! Messages that are left (filtered out, already redriven as often as allowed, with
//! expired or failed records, unreadable) are made visible again at the end, never deleted;
//! objects that are left stay untagged. Dead letters that this run's own invocations write
//! land in the same queue; they are recognised by their `requestId` and left alone, so a run
//! never chases its own output (the archive is read after the queue, so the dead letters
//! its records become wait for the next run).
//!
//! A processor that fails every invocation the same way (a function that cannot run, such
//! as one on moto, which runs no Lambda code; a table that is gone) fails every message the
//! same way too: trying the rest of the queue only repeats the error. So when
//! [`SAME_FAILURE_LIMIT`] messages or objects in a row had every invocation fail with the
//! same error and none of their records handled, the run stops ([`Summary::stopped`]), and
//! leaves the rest untouched. A repeated problem is reported once, with a count.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::time::Duration;

use aws_edge::error::Failure;
use contract::archive::ON_FAILURE_PREFIX;
use kinesis_codec::kpl::{self, Deaggregated};
use kinesis_codec::record::{EventSource, StreamRecord};
use reprocess::batches::{self, Fate, Processed, Retry};
use reprocess::objects::ObjectStore;
use reprocess::{Identified, Reprocessor};

use crate::archive;
use crate::letter::{self, ClaimCheck, Letter, Rejected, SkippedRange};
use crate::queue::{Message, Queue};
use crate::stream::RecordSource;
use reprocess::touched::Touched;

/// What to redrive and how.
#[derive(Debug, Clone)]
pub struct Options {
    /// Change nothing: count, then make every message visible again and tag no object.
    pub dry_run: bool,
    /// Only messages and objects of these error types (the dead letter's `errorType`, or an
    /// on-failure record's condition); empty for all.
    pub error_types: Vec<String>,
    /// Stop after this many messages and archive objects (the queue's first).
    pub limit: Option<u64>,
    /// A dead letter already redriven this often is skipped.
    pub max_redrives: u32,
    /// Records per invocation.
    pub batch_size: usize,
    /// Invocations of the same records before they count as failed.
    pub attempts: u32,
    /// Pause between those invocations.
    pub retry_pause: Duration,
    /// What to add when the processor cannot be invoked, or fails the same way until the
    /// run stops (e.g. that `--local` is the way on an endpoint that runs no Lambda code).
    pub processor_hint: Option<String>,
}

impl Default for Options {
    fn default() -> Options {
        let retry = Retry::default();
        Options {
            dry_run: false,
            error_types: Vec::new(),
            limit: None,
            max_redrives: 1,
            batch_size: retry.batch_size,
            attempts: retry.attempts,
            retry_pause: retry.pause,
            processor_hint: None,
        }
    }
}

impl Options {
    fn retry(&self) -> Retry {
        Retry {
            batch_size: self.batch_size,
            attempts: self.attempts,
            pause: self.retry_pause,
        }
    }

    fn wants(&self, error_type: &str) -> bool {
        self.error_types.is_empty() || self.error_types.iter().any(|t| t == error_type)
    }

    /// `text` followed by the processor hint, when there is one.
    fn with_hint(&self, text: String) -> String {
        match &self.processor_hint {
            Some(hint) => format!("{text}; {hint}"),
            None => text,
        }
    }
}

/// What a run did, in records (an on-failure message stands for its batch's records, an
/// on-failure object for its payload's).
/// `read = stored + dead_lettered_again + expired + skipped + failed + planned`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Records the messages and objects read stand for.
    pub read: u64,
    /// Records stored in the table.
    pub stored: u64,
    /// Records still invalid, dead-lettered again (with their redrive count).
    pub dead_lettered_again: u64,
    /// Records the stream (or the failure archive, for a claim check) no longer holds.
    pub expired: u64,
    /// Records left alone: filtered out, or already redriven `max_redrives` times.
    pub skipped: u64,
    /// Records not handled (the invocation failed, or the message or object is unreadable).
    pub failed: u64,
    /// A dry run's records that a real run would process again (0 otherwise).
    pub planned: u64,
    /// On-failure objects of the failure archive read (not counting those already tagged
    /// handled).
    pub archive_objects: u64,
    /// Messages read, by kind (`dead-letter`, `on-failure`, `unreadable`).
    pub by_kind: BTreeMap<String, u64>,
    /// Messages and objects read, by error type (or condition).
    pub by_error_type: BTreeMap<String, u64>,
    /// Messages deleted.
    pub deleted: u64,
    /// Messages left in the queue.
    pub left: u64,
    /// Archive objects tagged handled by this run.
    pub tagged: u64,
    /// Archive objects already tagged handled, passed over.
    pub already_handled: u64,
    /// Claim checks (the S3 objects of oversize dead letters) tagged handled.
    pub claim_checks_tagged: u64,
    /// Why records were not handled, one line each (the first few), each said once with how
    /// often it happened.
    pub problems: Vec<Problem>,
    /// Why the run stopped before reading everything, when it did: the messages not read
    /// stay in the queue, the objects not read stay untagged.
    pub stopped: Option<String>,
    /// The event-time minutes of the records stored: no aggregate counts them.
    pub touched: Touched,
}

impl Summary {
    /// Everything read was handled (stored, dead-lettered again, or deliberately skipped).
    pub fn all_handled(&self) -> bool {
        self.expired == 0 && self.failed == 0
    }

    /// Notes a problem; one said before counts once more instead of making another line.
    fn problem(&mut self, text: String) {
        if let Some(known) = self.problems.iter_mut().find(|p| p.text == text) {
            known.times += 1;
        } else if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(Problem { text, times: 1 });
        }
    }

    fn tally(&mut self, records: &[Identified], fates: &[Fate]) {
        for (record, fate) in records.iter().zip(fates) {
            match fate {
                Fate::Stored => {
                    self.stored += 1;
                    self.touched
                        .add(&record.record.data, record.record.arrival_ms);
                }
                Fate::DeadLettered => self.dead_lettered_again += 1,
                Fate::Failed => self.failed += 1,
            }
        }
    }
}

const MAX_PROBLEMS: usize = 20;

/// A problem of the run and how often it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// What happened, on one line.
    pub text: String,
    /// How often.
    pub times: u64,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)?;
        if self.times > 1 {
            write!(f, " ({} times)", self.times)?;
        }
        Ok(())
    }
}

/// Messages or objects in a row whose every invocation failed with the same error, none of
/// their records handled, after which a run stops: the first may have failed for its own
/// records, the second failing the same way says the processor fails whatever it is sent.
pub const SAME_FAILURE_LIMIT: u32 = 2;

/// The messages and objects in a row that failed the same way.
#[derive(Debug, Default)]
struct Streak {
    /// The error they failed with.
    error: String,
    /// How many.
    units: u32,
    /// Their invocations.
    invocations: u64,
}

impl Streak {
    /// Counts one message's or object's outcome, `done`; whether the run should stop.
    fn count(&mut self, done: &Processed) -> bool {
        let Some(error) = same_failure(done) else {
            *self = Streak::default();
            return false;
        };
        if self.units == 0 || self.error != error {
            *self = Streak {
                error: error.to_owned(),
                ..Streak::default()
            };
        }
        self.units += 1;
        self.invocations += done.errors.len() as u64;
        self.units >= SAME_FAILURE_LIMIT
    }

    /// Why the run stopped, for [`Summary::stopped`]: `what` failed, `rest` says what is
    /// left. The error is named unless `summary` lists it already.
    fn reason(&self, summary: &Summary, what: &str, rest: &str) -> String {
        let error = if summary.problems.iter().any(|p| p.text == self.error) {
            "the same error (above)".to_owned()
        } else {
            format!("the same error, {}", self.error)
        };
        format!(
            "stopped after {} {what} in a row failed every invocation ({} in all) with \
             {error}; {rest}",
            self.units, self.invocations
        )
    }
}

/// The error every invocation of a message's or object's records failed with, when none of
/// them was handled and the invocations all failed alike.
fn same_failure(done: &Processed) -> Option<&str> {
    let first = done.errors.first()?;
    let alike = done.errors.iter().all(|e| e == first);
    let none_handled = done.fates.iter().all(|f| *f == Fate::Failed);
    (alike && none_handled).then_some(first.as_str())
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "redrive: read={} stored={} dead_lettered_again={} expired={} skipped={} failed={} \
             archive_objects={}",
            self.read,
            self.stored,
            self.dead_lettered_again,
            self.expired,
            self.skipped,
            self.failed,
            self.archive_objects
        )
    }
}

/// The queue, the stream, the failure archive and the processor a run works with.
pub struct Parts<'a, Q, S, O, P> {
    /// The dead-letter queue.
    pub queue: &'a Q,
    /// The stream, for on-failure ranges and dead letters truncated without a claim check.
    pub stream: &'a S,
    /// The objects of the failure archive, and of the claim checks dead letters name.
    pub objects: &'a O,
    /// The failure archive's bucket (`FailureBucketName`); `None` when the stack has none,
    /// and then only the queue is read.
    pub failure_bucket: Option<&'a str>,
    /// The processor.
    pub processor: &'a P,
    /// The event fields every record shares (also used to predict what becomes of a
    /// record, with the processor's own pure core).
    pub source: &'a EventSource,
}

/// A message turned back into records.
struct Work {
    message: Message,
    records: Vec<Identified>,
    expired: u64,
    redrive_count: u32,
    /// The S3 object holding the record's bytes, tagged handled with the message.
    claim_check: Option<ClaimCheck>,
}

/// Runs redrive until the queue has no visible message, then over the failure archive's
/// untagged objects (or until `limit` messages and objects were read). `progress` sees the
/// summary after every batch of messages and every object.
pub async fn run<Q: Queue, S: RecordSource, O: ObjectStore, P: Reprocessor>(
    parts: Parts<'_, Q, S, O, P>,
    options: &Options,
    progress: &mut dyn FnMut(&Summary),
) -> Result<Summary, String> {
    let mut summary = Summary::default();
    let mut seen: HashSet<String> = HashSet::new();
    let mut ours: HashSet<String> = HashSet::new();
    let mut left: Vec<Message> = Vec::new();
    let mut taken: u64 = 0;
    let mut streak = Streak::default();
    while summary.stopped.is_none() && options.limit.is_none_or(|limit| taken < limit) {
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
        if options.dry_run {
            left.extend(work.into_iter().map(|w| w.message));
        } else {
            let mut work = work.into_iter();
            for w in work.by_ref() {
                let done = redrive(&parts, options, &mut summary, &mut ours, w, &mut left).await?;
                if streak.count(&done) {
                    let rest = if parts.failure_bucket.is_some() {
                        "the messages not tried stay in the queue and the failure archive was \
                         not read"
                    } else {
                        "the messages not tried stay in the queue"
                    };
                    let reason = streak.reason(&summary, "messages", rest);
                    summary.stopped = Some(options.with_hint(reason));
                    break;
                }
            }
            // Taken but not tried (the run stopped): counted as read, not handled.
            for w in work {
                summary.failed += w.records.len() as u64;
                left.push(w.message);
            }
        }
        progress(&summary);
    }
    for message in &left {
        parts.queue.release(message).await?;
    }
    summary.left = left.len() as u64;
    if let (Some(bucket), None) = (parts.failure_bucket, &summary.stopped) {
        walk_archive(&parts, bucket, options, &mut summary, &mut taken, progress).await?;
    }
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
async fn take<Q, S: RecordSource, O: ObjectStore, P>(
    parts: &Parts<'_, Q, S, O, P>,
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
    if !options.wants(letter.error_type()) {
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
        Letter::Rejected(r) => rejected_work(parts, message, r).await?,
        Letter::Skipped(range) => range_work(parts.stream, message, &range).await?,
    };
    if work.expired > 0 {
        let gone = match &work.claim_check {
            Some(check) => format!(
                "the failure archive no longer holds s3://{}/{}",
                check.bucket, check.key
            ),
            None => "no longer in the stream (past its retention, or the shard is gone)".into(),
        };
        summary.expired += work.expired;
        summary.problem(format!(
            "message {}: {} record(s) are {gone}",
            work.message.id, work.expired
        ));
    }
    if options.dry_run {
        summary.planned += work.records.len() as u64;
        return Ok(Taken::Left(work.message));
    }
    Ok(Taken::Work(work))
}

/// The record of a dead letter: its bytes from the letter, from its claim check in the
/// failure archive, or from the stream when the letter only says it was too large.
async fn rejected_work<Q, S: RecordSource, O: ObjectStore, P>(
    parts: &Parts<'_, Q, S, O, P>,
    message: Message,
    r: Rejected,
) -> Result<Work, String> {
    let data = match (&r.data, &r.claim_check) {
        (Some(data), _) => Some(data.clone()),
        (None, Some(check)) => match parts.objects.get(&check.bucket, &check.key).await {
            Ok(bytes) => Some(bytes),
            Err(err) if err.failure == Failure::NotFound => None,
            Err(err) => return Err(err.to_string()),
        },
        (None, None) => parts
            .stream
            .range(&r.shard_id, &r.sequence_number, &r.sequence_number)
            .await?
            .into_iter()
            .next()
            .and_then(|record| user_record(record.data, r.sub_sequence_number)),
    };
    let records = data
        .map(|data| {
            vec![Identified {
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
        claim_check: r.claim_check,
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

/// The records of an on-failure range, read back from the stream, and how many of the
/// range's records it no longer holds.
async fn range_records<S: RecordSource>(
    stream: &S,
    range: &SkippedRange,
) -> Result<(Vec<Identified>, u64), String> {
    let found = stream
        .range(
            &range.shard_id,
            &range.start_sequence_number,
            &range.end_sequence_number,
        )
        .await?;
    let records: Vec<Identified> = found.into_iter().map(Identified::whole).collect();
    let expired = range.batch_size.saturating_sub(records.len() as u64);
    Ok((records, expired))
}

/// The records of an on-failure message's range.
async fn range_work<S: RecordSource>(
    stream: &S,
    message: Message,
    range: &SkippedRange,
) -> Result<Work, String> {
    let (records, expired) = range_records(stream, range).await?;
    Ok(Work {
        expired,
        message,
        records,
        redrive_count: 1,
        claim_check: None,
    })
}

/// Processes one message's records and deletes the message when all are handled (tagging
/// its claim check handled first, unless the record was dead-lettered again and its new
/// letter points at the same object); what became of them.
async fn redrive<Q: Queue, S, O: ObjectStore, P: Reprocessor>(
    parts: &Parts<'_, Q, S, O, P>,
    options: &Options,
    summary: &mut Summary,
    ours: &mut HashSet<String>,
    work: Work,
    left: &mut Vec<Message>,
) -> Result<Processed, String> {
    let done = batches::process(
        parts.processor,
        &work.records,
        work.redrive_count,
        &options.retry(),
        parts.source,
    )
    .await
    .map_err(|e| options.with_hint(e))?;
    ours.extend(done.request_ids.iter().cloned());
    for error in &done.errors {
        summary.problem(error.clone());
    }
    summary.tally(&work.records, &done.fates);
    let unhandled = done.count(Fate::Failed);
    if unhandled > 0 {
        summary.problem(format!(
            "message {}: {unhandled} record(s) not handled after {} attempts; the message stays",
            work.message.id, options.attempts
        ));
    }
    if unhandled == 0 && work.expired == 0 {
        // A record dead-lettered again keeps its identity, so its new letter's claim check
        // is the same key (kinesis_codec::archive::dead_letter_key): tagging it handled
        // would let the lifecycle rule expire the bytes that letter points at.
        let rejected_again = done.count(Fate::DeadLettered) > 0;
        if let Some(check) = work.claim_check.as_ref().filter(|_| !rejected_again) {
            parts
                .objects
                .mark_handled(&check.bucket, &check.key)
                .await
                .map_err(|e| e.to_string())?;
            summary.claim_checks_tagged += 1;
        }
        parts.queue.delete(&work.message).await?;
        summary.deleted += 1;
    } else {
        left.push(work.message);
    }
    Ok(done)
}

/// Every untagged on-failure object of the failure archive: read, processed again from its
/// payload, and tagged handled once all its records are.
async fn walk_archive<Q, S: RecordSource, O: ObjectStore, P: Reprocessor>(
    parts: &Parts<'_, Q, S, O, P>,
    bucket: &str,
    options: &Options,
    summary: &mut Summary,
    taken: &mut u64,
    progress: &mut dyn FnMut(&Summary),
) -> Result<(), String> {
    let mut streak = Streak::default();
    let keys = parts
        .objects
        .list(bucket, ON_FAILURE_PREFIX)
        .await
        .map_err(|e| e.to_string())?;
    for key in keys {
        if options.limit.is_some_and(|limit| *taken >= limit) {
            break;
        }
        let handled = parts.objects.is_handled(bucket, &key).await;
        match handled {
            Ok(true) => {
                summary.already_handled += 1;
                continue;
            }
            Ok(false) => {}
            // Gone since it was listed (deleted by hand, or by the lifecycle rule).
            Err(err) if err.failure == Failure::NotFound => continue,
            Err(err) => return Err(err.to_string()),
        }
        let body = match parts.objects.get(bucket, &key).await {
            Ok(body) => body,
            Err(err) if err.failure == Failure::NotFound => continue,
            Err(err) => return Err(err.to_string()),
        };
        *taken += 1;
        summary.archive_objects += 1;
        let done = redrive_object(parts, bucket, &key, &body, options, summary).await?;
        progress(summary);
        if done.is_some_and(|done| streak.count(&done)) {
            let rest = "the objects not tried stay untagged";
            let reason = streak.reason(summary, "archive objects", rest);
            summary.stopped = Some(options.with_hint(reason));
            break;
        }
    }
    Ok(())
}

/// One on-failure object: its records processed again, the object tagged handled when all
/// are; what became of them, when they were sent to the processor.
async fn redrive_object<Q, S: RecordSource, O: ObjectStore, P: Reprocessor>(
    parts: &Parts<'_, Q, S, O, P>,
    bucket: &str,
    key: &str,
    body: &[u8],
    options: &Options,
    summary: &mut Summary,
) -> Result<Option<Processed>, String> {
    let object = match archive::read(body) {
        Ok(object) => object,
        Err(err) => {
            summary.read += 1;
            summary.failed += 1;
            summary.problem(format!("object s3://{bucket}/{key}: {err}"));
            return Ok(None);
        }
    };
    let count = object.record_count();
    summary.read += count;
    *summary
        .by_error_type
        .entry(object.condition.clone())
        .or_default() += 1;
    if !options.wants(&object.condition) {
        summary.skipped += count;
        return Ok(None);
    }
    let (records, expired) = match object.records {
        Some(records) => (records, 0),
        // Written without its payload: only the stream can give the records back.
        None => {
            let range = SkippedRange {
                shard_id: object.batch.shard_id.clone(),
                start_sequence_number: object.batch.start_sequence_number.clone(),
                end_sequence_number: object.batch.end_sequence_number.clone(),
                batch_size: object.batch.batch_size,
                condition: object.condition.clone(),
            };
            range_records(parts.stream, &range).await?
        }
    };
    if expired > 0 {
        summary.expired += expired;
        summary.problem(format!(
            "object s3://{bucket}/{key} has no payload and {expired} of its record(s) are no \
             longer in the stream"
        ));
    }
    if options.dry_run {
        summary.planned += records.len() as u64;
        return Ok(None);
    }
    let done = batches::process(parts.processor, &records, 1, &options.retry(), parts.source)
        .await
        .map_err(|e| options.with_hint(e))?;
    for error in &done.errors {
        summary.problem(error.clone());
    }
    summary.tally(&records, &done.fates);
    let unhandled = done.count(Fate::Failed);
    if unhandled > 0 {
        summary.problem(format!(
            "object s3://{bucket}/{key}: {unhandled} record(s) not handled after {} attempts; \
             the object stays untagged",
            options.attempts
        ));
    }
    if unhandled == 0 && expired == 0 {
        parts
            .objects
            .mark_handled(bucket, key)
            .await
            .map_err(|e| e.to_string())?;
        summary.tagged += 1;
    }
    Ok(Some(done))
}

#[cfg(test)]
mod tests;
