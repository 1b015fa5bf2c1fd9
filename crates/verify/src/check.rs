//! Waiting for the batch: poll the table and the dead-letter queue until every record is
//! accounted for or the time is up, then read the function's log.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use aws_config::SdkConfig;

use crate::books;
use crate::error::Error;
use crate::letters::{Letter, Wanted};
use crate::logs;
use crate::queue::{Found, Queue};
use crate::report::{Findings, Places, Report};
use crate::send::Sent;
use crate::stack::Stack;
use crate::table::Table;

/// The function's log is read from this long before the batch was made, so a clock a
/// little behind AWS's does not hide the first invocations' lines.
const LOG_MARGIN_MS: i64 = 10_000;

/// How to wait.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// How long to wait for the records at most.
    pub timeout: Duration,
    /// Pause between two polls.
    pub poll: Duration,
    /// Leave verify's dead letters in the queue.
    pub keep: bool,
    /// Long-poll seconds of a receive that finds the queue empty (0–20).
    pub receive_wait_secs: i32,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            timeout: Duration::from_secs(120),
            poll: Duration::from_secs(2),
            keep: false,
            receive_wait_secs: 1,
        }
    }
}

/// Where the wait stands, after each poll.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    /// Time waited so far.
    pub elapsed: Duration,
    /// The limit.
    pub timeout: Duration,
    /// Valid events stored.
    pub stored: usize,
    /// Valid events sent.
    pub valid: usize,
    /// Invalid events dead-lettered.
    pub dead_lettered: usize,
    /// Invalid events sent.
    pub invalid: usize,
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "verify: waiting {} s of {} s: stored {}/{}, dead-lettered {}/{}",
            self.elapsed.as_secs(),
            self.timeout.as_secs(),
            self.stored,
            self.valid,
            self.dead_lettered,
            self.invalid
        )
    }
}

/// Polls until every record of `sent` is accounted for (or `options.timeout` has passed),
/// calling `progress` after each poll, then checks the function's log. A failed AWS call
/// ends the wait with an error; missing records are the report's business.
pub async fn wait(
    config: &SdkConfig,
    stack: &Stack,
    sent: &Sent,
    options: Options,
    progress: &mut dyn FnMut(&Status),
) -> Result<Report, Error> {
    let started = Instant::now();
    let marker = sent.run_id.marker();
    let table = Table::new(config, &stack.table_name);
    let queue = Queue::new(config, &stack.queue_url);
    let wanted = Wanted::new(sent);
    let mut findings = Findings::default();
    loop {
        if findings.stored(sent) < sent.valid().count() {
            findings.add_items(table.items_of(&marker).await?);
        }
        if !findings.settled(sent) {
            let missing: BTreeSet<usize> = sent
                .records
                .iter()
                .enumerate()
                .filter(|(i, r)| {
                    matches!(r.expect, crate::batch::Expect::DeadLettered(_))
                        && !findings.dead_letters.contains_key(i)
                })
                .map(|(i, _)| i)
                .collect();
            let enough = |found: &[Found]| {
                !missing.is_empty()
                    && missing.iter().all(|i| {
                        found.iter().any(
                            |f| matches!(f.letter, Letter::Record { index, .. } if index == *i),
                        )
                    })
            };
            let sweep = queue
                .sweep(&wanted, options.keep, options.receive_wait_secs, &enough)
                .await?;
            findings.add_sweep(sweep);
        }
        let elapsed = started.elapsed();
        progress(&Status {
            elapsed,
            timeout: options.timeout,
            stored: findings.stored(sent),
            valid: sent.valid().count(),
            dead_lettered: findings.dead_lettered(sent),
            invalid: sent.invalid().count(),
        });
        if findings.settled(sent) || elapsed >= options.timeout {
            break;
        }
        tokio::time::sleep(options.poll.min(options.timeout - elapsed)).await;
    }
    let waited = started.elapsed();
    let logs = logs::check(config, &stack.log_group, sent.started_ms - LOG_MARGIN_MS).await?;
    let books = books::read(
        config,
        &stack.deployed,
        &stack.function_name,
        sent.started_ms - LOG_MARGIN_MS,
    )
    .await;
    Ok(Report {
        sent: sent.clone(),
        findings,
        logs,
        books,
        places: Places {
            table: stack.table_name.clone(),
            queue: stack.queue_url.clone(),
            log_group: stack.log_group.clone(),
        },
        waited,
        keep: options.keep,
    })
}
