//! The poll loop: read every shard, drop the records the mapping's filters drop (Lambda
//! filters before batching, so they neither count toward a batch nor invoke anything, and
//! the shard's position moves past them), gather the rest into batches as the mapping's
//! batch size and batching window say, deliver each batch with the mapping's semantics, and stop
//! once the stream has been quiet for the idle time. It stops early, with one line saying
//! why, when a service stops answering (`aws_edge::health`), and tells how it is going every
//! second while it works or waits, so a caller can show progress.
//!
//! With a tumbling window (the mapping's `TumblingWindowInSeconds`) a shard's buffered
//! records are first split at window boundaries, so a batch never mixes two windows, and
//! each batch is delivered in its shard's open window ([`crate::window`]). A window's final
//! invocation is sent when the shard's next record belongs to a later window, when the
//! shard has ended (closed or resharded) and its records are delivered, when its end passed
//! more than [`crate::window::GRACE`] ago while the shard is quiet, and, for every window
//! still open, before the run exits idle. A final invocation that fails
//! [`crate::mapping::FINAL_ATTEMPTS`] times stops the run ([`RunError::WindowFinal`]).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::future::Future;
use std::time::{Duration, Instant};

use crate::mapping::{
    self, Context, Counts, DeliveryFailed, Destination, DestinationFailed, Function, Settings,
    WindowFinalFailed,
};
use crate::shards::StreamReader;
use crate::window::Windows;
use aws_edge::health::{Health, Service, Unreachable};
use kinesis_codec::record::StreamRecord;

/// How often the loop reports what it is doing while an invocation runs.
pub const TICK: Duration = Duration::from_secs(1);

/// Lambda's limit on an invocation's payload; base64 makes record data a third larger.
pub const MAX_PAYLOAD_BYTES: usize = 6 * 1024 * 1024;

/// Bytes of a record's JSON besides its data (ids, ARNs, field names).
const RECORD_OVERHEAD_BYTES: usize = 512;

/// How the loop paces itself.
#[derive(Debug, Clone, Copy)]
pub struct Pacing {
    /// Stop after this long without a new record (and nothing left to deliver).
    pub idle_exit: Duration,
    /// Wait between polls of a quiet stream.
    pub poll_interval: Duration,
    /// First wait before retrying a failed batch.
    pub retry_pause: Duration,
}

/// What a run did.
#[derive(Debug, Default, Clone)]
pub struct Summary {
    /// Shards read.
    pub shards: usize,
    /// Records read from the stream.
    pub records: usize,
    /// Records the mapping's filters dropped (never delivered).
    pub filtered: usize,
    /// What the mapping did.
    pub counts: Counts,
    /// Wall time.
    pub elapsed: Duration,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.counts;
        write!(
            f,
            "summary: records={} shards={} filtered={} invocations={} function_errors={} \
             partial_failures={} bisections={} skipped_records={} failure_records_sent={} \
             elapsed={:.2}s forced_errors={} redeliveries={} window_finals={} \
             windows_terminated_early={}",
            self.records,
            self.shards,
            self.filtered,
            c.invocations,
            c.function_errors,
            c.partial_failures,
            c.bisections,
            c.skipped_records,
            c.skipped_batches,
            self.elapsed.as_secs_f64(),
            c.forced_errors,
            c.redeliveries,
            c.window_finals,
            c.windows_terminated_early
        )
    }
}

/// Where the loop reads and what it calls.
pub struct Wiring<'a, F, D> {
    /// The stream.
    pub reader: &'a mut StreamReader,
    /// The mapping's settings.
    pub settings: &'a Settings,
    /// The function.
    pub function: &'a F,
    /// The on-failure destination.
    pub destination: &'a D,
    /// ARNs and clock for failure records.
    pub context: Context<'a>,
}

/// What the loop is doing, for progress lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activity<'a> {
    /// A batch was just delivered.
    Delivered,
    /// The stream has had no new record for `quiet`.
    Waiting {
        /// How long.
        quiet: Duration,
    },
    /// The function has been busy with `records` records of `shard` for `busy` (retries
    /// of the batch included).
    Invoking {
        /// The shard.
        shard: &'a str,
        /// Records in the batch.
        records: usize,
        /// How long so far.
        busy: Duration,
    },
}

/// Runs until the stream has been idle for `pacing.idle_exit`. `progress` sees the running
/// summary after every delivered batch (and more often; see [`run_watched`]).
pub async fn run<F: Function, D: Destination>(
    wiring: Wiring<'_, F, D>,
    pacing: Pacing,
    progress: &mut dyn FnMut(&Summary),
) -> Result<Summary, RunError> {
    // Nothing reports to this one, so it never finds a service down.
    let health = Health::default();
    run_watched(wiring, pacing, &health, &mut |summary, _| progress(summary)).await
}

/// [`run`], stopping with [`RunError::Unreachable`] once `health` finds a service silent
/// for its limit (the clients of the wiring report to it through [`aws_edge::health::Watch`]).
/// `progress` sees the summary and what the loop is doing after every batch, every
/// [`TICK`] of an invocation and every poll of a quiet stream.
pub async fn run_watched<F: Function, D: Destination>(
    wiring: Wiring<'_, F, D>,
    pacing: Pacing,
    health: &Health,
    progress: &mut dyn FnMut(&Summary, Activity<'_>),
) -> Result<Summary, RunError> {
    run_until(wiring, pacing, health, &|| false, progress).await
}

/// [`run_watched`], ending early, without an error, once `stop` says so: checked before each
/// read of the stream and each batch delivered (never during one), as Lambda stops a mapping
/// that is deleted. Records read and not yet delivered are left to whoever reads next, and a
/// tumbling window still open gets no final invocation.
pub async fn run_until<F: Function, D: Destination>(
    wiring: Wiring<'_, F, D>,
    pacing: Pacing,
    health: &Health,
    stop: &dyn Fn() -> bool,
    progress: &mut dyn FnMut(&Summary, Activity<'_>),
) -> Result<Summary, RunError> {
    let Wiring {
        reader,
        settings,
        function,
        destination,
        mut context,
    } = wiring;
    context.retry_pause = pacing.retry_pause;
    reader.start_at(settings.start);
    let started = Instant::now();
    let mut summary = Summary::default();
    let mut buffers: BTreeMap<String, (Instant, Vec<StreamRecord>)> = BTreeMap::new();
    let mut windows = settings.tumbling_window.map(Windows::new);
    // Shards whose last read found nothing new: a window of theirs may close on time.
    let mut quiet: BTreeSet<String> = BTreeSet::new();
    let mut last_record = Instant::now();
    let stream_error = |error: String| match health.silent(Service::Stream) {
        Some(silent) => RunError::Unreachable(silent),
        None => RunError::Stream(error),
    };
    let stopped = |failed: DeliveryFailed| match failed {
        DeliveryFailed::Destination(failed) => match health.silent(Service::Destination) {
            Some(silent) => RunError::Unreachable(silent),
            None => RunError::Destination(failed),
        },
        DeliveryFailed::WindowFinal(failed) => RunError::WindowFinal(failed),
    };
    'run: loop {
        if stop() {
            break;
        }
        reader.refresh().await.map_err(stream_error)?;
        let open = reader.shard_ids();
        summary.shards = summary.shards.max(open.len());
        let mut got = false;
        for shard in &open {
            let buffered = buffers.get(shard).map_or(0, |(_, b)| b.len());
            if buffered >= settings.batch_size {
                continue;
            }
            let records = reader
                .next_records(shard, settings.batch_size - buffered)
                .await
                .map_err(stream_error)?;
            if records.is_empty() {
                quiet.insert(shard.clone());
                continue;
            }
            quiet.remove(shard);
            got = true;
            last_record = Instant::now();
            summary.records += records.len();
            let (records, filtered) = settings.filter.apply(records);
            summary.filtered += filtered;
            if records.is_empty() {
                continue;
            }
            let (_, buffer) = buffers
                .entry(shard.clone())
                .or_insert_with(|| (Instant::now(), Vec::new()));
            buffer.extend(records);
        }
        let still_open = reader.shard_ids();
        let due: Vec<String> = buffers
            .iter()
            .filter(|(shard, (since, buffer))| {
                buffer.len() >= settings.batch_size
                    || since.elapsed() >= settings.batching_window
                    || !still_open.contains(shard)
            })
            .map(|(shard, _)| shard.clone())
            .collect();
        for shard in due {
            let Some((_, buffer)) = buffers.remove(&shard) else {
                continue;
            };
            let runs = match &windows {
                Some(windows) => windows.split(&shard, buffer),
                None => vec![buffer],
            };
            for batch in runs
                .into_iter()
                .flat_map(|run| invocation_batches(run, settings.batch_size))
            {
                if stop() {
                    break 'run;
                }
                let records = batch.len();
                // The run's counts so far: `deliver` numbers the invocations from them.
                let mut counts = summary.counts.clone();
                let delivered = {
                    let delivery = async {
                        match windows.as_mut() {
                            Some(windows) => {
                                windows
                                    .deliver(
                                        &shard,
                                        batch,
                                        settings,
                                        function,
                                        destination,
                                        &context,
                                        &mut counts,
                                    )
                                    .await
                            }
                            None => mapping::deliver(
                                batch,
                                settings,
                                function,
                                destination,
                                &context,
                                &mut counts,
                            )
                            .await
                            .map_err(DeliveryFailed::from),
                        }
                    };
                    watch_over(delivery, health, &mut |busy| {
                        let invoking = Activity::Invoking {
                            shard: &shard,
                            records,
                            busy,
                        };
                        progress(&summary, invoking)
                    })
                    .await
                };
                summary.counts = counts;
                summary.elapsed = started.elapsed();
                match delivered {
                    Ok(Ok(())) => {}
                    Ok(Err(failed)) => return Err(stopped(failed)),
                    Err(down) => return Err(RunError::Unreachable(down)),
                }
                progress(&summary, Activity::Delivered);
            }
        }
        let idle = !got && buffers.is_empty() && last_record.elapsed() >= pacing.idle_exit;
        if let Some(windows) = windows.as_mut() {
            // Windows whose shard has ended, is quiet past the window's end, or all of
            // them before exiting; never one whose shard still has records buffered.
            let ending = windows_ending(
                windows,
                (context.now_ms)(),
                idle,
                &|shard| buffers.contains_key(shard),
                &still_open,
                &quiet,
            );
            for shard in ending {
                let mut counts = summary.counts.clone();
                let closed = {
                    let closing = windows.close(&shard, settings, function, &context, &mut counts);
                    watch_over(closing, health, &mut |busy| {
                        let invoking = Activity::Invoking {
                            shard: &shard,
                            records: 0,
                            busy,
                        };
                        progress(&summary, invoking)
                    })
                    .await
                };
                summary.counts = counts;
                summary.elapsed = started.elapsed();
                match closed {
                    Ok(Ok(_)) => {}
                    Ok(Err(failed)) => return Err(RunError::WindowFinal(failed)),
                    Err(down) => return Err(RunError::Unreachable(down)),
                }
                if !still_open.contains(&shard) {
                    windows.forget(&shard);
                }
                progress(&summary, Activity::Delivered);
            }
        }
        if !got {
            if idle {
                break;
            }
            summary.elapsed = started.elapsed();
            let quiet = last_record.elapsed();
            progress(&summary, Activity::Waiting { quiet });
            tokio::time::sleep(pacing.poll_interval).await;
        }
    }
    summary.elapsed = started.elapsed();
    Ok(summary)
}

/// The shards whose open window gets its final invocation now: never one with records
/// still buffered; otherwise every one when the run is about to exit `idle`, one whose
/// shard has ended (is not in `open`), and one whose shard is `quiet` and whose end passed
/// more than [`crate::window::GRACE`] before `now_ms`.
pub fn windows_ending(
    windows: &Windows,
    now_ms: i64,
    idle: bool,
    buffered: &dyn Fn(&str) -> bool,
    open: &[String],
    quiet: &BTreeSet<String>,
) -> Vec<String> {
    let overdue = windows.overdue(now_ms);
    windows
        .open_shards()
        .into_iter()
        .filter(|shard| !buffered(shard))
        .filter(|shard| {
            idle || !open.contains(shard) || (quiet.contains(shard) && overdue.contains(shard))
        })
        .collect()
}

/// Runs `work` to its end, calling `tick` with the time so far every [`TICK`]; `Err` as
/// soon as `health` finds a service down (the work is dropped).
async fn watch_over<F: Future>(
    work: F,
    health: &Health,
    tick: &mut dyn FnMut(Duration),
) -> Result<F::Output, Unreachable> {
    tokio::pin!(work);
    let started = Instant::now();
    loop {
        tokio::select! {
            output = &mut work => return Ok(output),
            down = health.down() => return Err(down),
            _ = tokio::time::sleep(TICK) => tick(started.elapsed()),
        }
    }
}

/// Splits a shard's buffered records into invocations within the batch size and Lambda's
/// payload limit, in order.
pub fn invocation_batches(records: Vec<StreamRecord>, batch_size: usize) -> Vec<Vec<StreamRecord>> {
    let mut batches: Vec<Vec<StreamRecord>> = Vec::new();
    let mut current: Vec<StreamRecord> = Vec::new();
    let mut bytes = 0;
    for record in records {
        let size = record.data.len().div_ceil(3) * 4 + RECORD_OVERHEAD_BYTES;
        if !current.is_empty() && (current.len() >= batch_size || bytes + size > MAX_PAYLOAD_BYTES)
        {
            batches.push(std::mem::take(&mut current));
            bytes = 0;
        }
        bytes += size;
        current.push(record);
    }
    if !current.is_empty() {
        batches.push(current);
    }
    batches
}

/// Why a run stopped early.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The stream could not be read.
    #[error("{0}")]
    Stream(String),
    /// Skipped records could not be described at the destination; the runner stops rather
    /// than lose track of them.
    #[error(transparent)]
    Destination(#[from] DestinationFailed),
    /// A service stopped answering.
    #[error(transparent)]
    Unreachable(#[from] Unreachable),
    /// A tumbling window's final invocation kept failing ([`mapping::FINAL_ATTEMPTS`]
    /// times); Lambda would hold the shard until it succeeds, the runner stops.
    #[error(transparent)]
    WindowFinal(#[from] WindowFinalFailed),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(bytes: usize) -> StreamRecord {
        StreamRecord {
            shard_id: "shardId-000000000000".into(),
            sequence_number: "1".into(),
            partition_key: "k".into(),
            data: vec![0; bytes],
            arrival_ms: 0,
        }
    }

    #[test]
    fn the_summary_line_counts_filtered_records() {
        let summary = Summary {
            shards: 2,
            records: 10,
            filtered: 4,
            counts: Counts {
                invocations: 3,
                ..Counts::default()
            },
            elapsed: Duration::from_millis(1_500),
        };
        assert_eq!(
            summary.to_string(),
            "summary: records=10 shards=2 filtered=4 invocations=3 function_errors=0 \
             partial_failures=0 bisections=0 skipped_records=0 failure_records_sent=0 \
             elapsed=1.50s forced_errors=0 redeliveries=0 window_finals=0 \
             windows_terminated_early=0"
        );
        let windowed = Summary {
            counts: Counts {
                invocations: 9,
                function_errors: 2,
                forced_errors: 1,
                redeliveries: 1,
                window_finals: 3,
                windows_terminated_early: 1,
                ..Counts::default()
            },
            ..summary
        };
        assert!(
            windowed.to_string().ends_with(
                "elapsed=1.50s forced_errors=1 redeliveries=1 window_finals=3 \
                 windows_terminated_early=1"
            ),
            "{windowed}"
        );
    }

    #[test]
    fn batches_keep_to_the_batch_size_and_the_payload_limit() {
        let small: Vec<StreamRecord> = (0..250).map(|_| record(500)).collect();
        let sizes: Vec<usize> = invocation_batches(small, 100)
            .iter()
            .map(Vec::len)
            .collect();
        assert_eq!(sizes, [100, 100, 50]);
        let large: Vec<StreamRecord> = (0..30).map(|_| record(430 * 1024)).collect();
        let batches = invocation_batches(large, 100);
        assert!(batches.len() > 1);
        for batch in &batches {
            let payload: usize = batch.iter().map(|r| r.data.len() * 4 / 3 + 512).sum();
            assert!(payload <= MAX_PAYLOAD_BYTES, "{payload}");
        }
        assert_eq!(batches.iter().map(Vec::len).sum::<usize>(), 30);
    }
}
