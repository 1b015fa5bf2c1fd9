//! One replay: read the records that arrived in the window from the event archive
//! ([`run_archive`]) or the stream ([`run_stream`]), keep the event types asked for, and
//! process them again through the processor under their original identity, object by
//! object or page by page.
//!
//! Identity: each Kinesis record keeps its eventID and arrival time, and a KPL aggregate
//! travels as its user records, each under `eventID:n` (docs/design.md, "Record identity"),
//! so every event lands on the item key its first delivery wrote. Replaying a range that is
//! stored already changes no key and adds no item; replaying a range that was lost stores
//! it. Records are replayed with a redrive count of 0: one still invalid is dead-lettered
//! as on its first delivery.

use std::fmt;
use std::time::Duration;

use aws_edge::error::Failure;
use kinesis_codec::archive::hour_prefixes;
use kinesis_codec::record::EventSource;
use reprocess::batches::{self, Fate, Retry};
use reprocess::objects::ObjectStore;
use reprocess::{Identified, Reprocessor};

use crate::archive::{self, Seen};
use crate::stream::Pages;
use crate::window::{self, Window};
use reprocess::touched::Touched;

/// What to replay and how.
#[derive(Debug, Clone)]
pub struct Options {
    /// The arrival times to replay.
    pub window: Window,
    /// Only events of these types (`eventType`); empty for all.
    pub event_types: Vec<String>,
    /// Change nothing: read and count what a replay would process.
    pub dry_run: bool,
    /// Records per invocation, and how often the unhandled ones are tried again.
    pub retry: Retry,
    /// Pause between two GetRecords pages of one shard (`--source stream`).
    pub page_pause: Duration,
}

impl Options {
    /// Every event of `window`, sent as redrive sends records.
    pub fn new(window: Window) -> Options {
        Options {
            window,
            event_types: Vec::new(),
            dry_run: false,
            retry: Retry::default(),
            page_pause: Duration::from_millis(200),
        }
    }
}

/// What a replay did, counted in user records (a KPL aggregate counts its user records):
/// `read = stored + dead_lettered + skipped + failed + planned`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Records in the window (each once, however many archive objects hold it).
    pub read: u64,
    /// Records stored in the table.
    pub stored: u64,
    /// Records still invalid, dead-lettered.
    pub dead_lettered: u64,
    /// Records of other event types than those asked for.
    pub skipped: u64,
    /// Records not handled (the invocation failed), or archive objects that cannot be read.
    pub failed: u64,
    /// A dry run's records that a replay would process (0 otherwise).
    pub planned: u64,
    /// Archive objects read.
    pub objects: u64,
    /// GetRecords pages read.
    pub pages: u64,
    /// Kinesis records read that arrived outside the window.
    pub outside: u64,
    /// Kinesis records met again in overlapping archive objects (a retried or split
    /// batch), replayed once.
    pub duplicates: u64,
    /// Why records were not handled, one line each (the first few).
    pub problems: Vec<String>,
    /// The event-time minutes of the records stored: no aggregate counts them.
    pub touched: Touched,
}

impl Summary {
    /// Everything read was handled (stored, dead-lettered, or skipped as asked).
    pub fn all_handled(&self) -> bool {
        self.failed == 0
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
            "replay: read={} stored={} dead_lettered={} skipped={} failed={}",
            self.read, self.stored, self.dead_lettered, self.skipped, self.failed
        )
    }
}

/// The records read so far, sent to the processor as they come.
struct Replayer<'a, P> {
    processor: &'a P,
    source: &'a EventSource,
    options: &'a Options,
    summary: Summary,
}

impl<P: Reprocessor> Replayer<'_, P> {
    /// Replays the window's records of `records` (one object's or one page's, of one
    /// shard, in order) that `seen` has not seen; counts the rest.
    async fn feed(
        &mut self,
        records: Vec<Identified>,
        mut seen: Option<&mut Seen>,
        whence: &str,
    ) -> Result<(), String> {
        let mut chosen = Vec::new();
        for record in records {
            if !self.options.window.contains(record.record.arrival_ms) {
                self.summary.outside += 1;
                continue;
            }
            if seen.as_deref_mut().is_some_and(|seen| seen.again(&record)) {
                self.summary.duplicates += 1;
                continue;
            }
            for user in record.user_records() {
                self.summary.read += 1;
                if window::selected(&user.record.data, &self.options.event_types) {
                    chosen.push(user);
                } else {
                    self.summary.skipped += 1;
                }
            }
        }
        if chosen.is_empty() {
            return Ok(());
        }
        if self.options.dry_run {
            self.summary.planned += chosen.len() as u64;
            return Ok(());
        }
        let done =
            batches::process(self.processor, &chosen, 0, &self.options.retry, self.source).await?;
        for error in &done.errors {
            self.summary.problem(format!("{whence}: {error}"));
        }
        let failed = done.count(Fate::Failed);
        if failed > 0 {
            self.summary.problem(format!(
                "{whence}: {failed} record(s) not handled after {} attempts",
                self.options.retry.attempts
            ));
        }
        self.summary.stored += done.count(Fate::Stored);
        for (user, fate) in chosen.iter().zip(&done.fates) {
            if *fate == Fate::Stored {
                self.summary
                    .touched
                    .add(&user.record.data, user.record.arrival_ms);
            }
        }
        self.summary.dead_lettered += done.count(Fate::DeadLettered);
        self.summary.failed += failed;
        Ok(())
    }
}

/// Replays the window from the event archive in `bucket`: the objects of the window's hours
/// (and the hour before), shard by shard in sequence order.
pub async fn run_archive<O: ObjectStore, P: Reprocessor>(
    objects: &O,
    bucket: &str,
    processor: &P,
    source: &EventSource,
    options: &Options,
    progress: &mut dyn FnMut(&Summary),
) -> Result<Summary, String> {
    let mut replayer = Replayer {
        processor,
        source,
        options,
        summary: Summary::default(),
    };
    let mut seen = Seen::default();
    for prefix in hour_prefixes(options.window.from_ms, options.window.to_ms) {
        seen.next_hour();
        let mut keys = objects
            .list(bucket, &prefix)
            .await
            .map_err(|e| e.to_string())?;
        archive::order(&mut keys);
        for key in keys {
            let body = match objects.get(bucket, &key).await {
                Ok(body) => body,
                // Expired by the archive's lifecycle since it was listed.
                Err(err) if err.failure == Failure::NotFound => continue,
                Err(err) => return Err(err.to_string()),
            };
            replayer.summary.objects += 1;
            let whence = format!("s3://{bucket}/{key}");
            match archive::records_of(&body) {
                Ok(records) => replayer.feed(records, Some(&mut seen), &whence).await?,
                Err(err) => {
                    replayer.summary.read += 1;
                    replayer.summary.failed += 1;
                    replayer.summary.problem(format!("{whence}: {err}"));
                }
            }
            progress(&replayer.summary);
        }
    }
    Ok(replayer.summary)
}

/// Replays the window from the stream: every shard from the window's start until a record
/// arrived at or after its end, the shard ends, or the reader caught up with its tip.
pub async fn run_stream<K: Pages, P: Reprocessor>(
    pages: &K,
    processor: &P,
    source: &EventSource,
    options: &Options,
    progress: &mut dyn FnMut(&Summary),
) -> Result<Summary, String> {
    let mut replayer = Replayer {
        processor,
        source,
        options,
        summary: Summary::default(),
    };
    for shard in pages.shards().await? {
        let mut iterator = pages.start(&shard, options.window.from_ms).await?;
        loop {
            let page = pages.page(&shard, &iterator).await?;
            replayer.summary.pages += 1;
            let past_end = page
                .records
                .iter()
                .any(|r| r.arrival_ms >= options.window.to_ms);
            let records = page.records.into_iter().map(Identified::whole).collect();
            replayer.feed(records, None, &shard).await?;
            progress(&replayer.summary);
            match page.next {
                Some(next) if !past_end && !page.caught_up => {
                    tokio::time::sleep(options.page_pause).await;
                    iterator = next;
                }
                _ => break,
            }
        }
    }
    Ok(replayer.summary)
}

#[cfg(test)]
mod tests;
