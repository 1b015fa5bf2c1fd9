//! Progress while a backfill runs: a spinner with the counts on a terminal, a plain line
//! every few seconds otherwise (CI logs, pipes), always on stderr so stdout keeps only the
//! summary. The run reports to an [`Observer`]; the displays are observers, and so is a
//! test that needs to act between a page's scan and its updates.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use crate::plan::Key;
use crate::run::Counts;

/// Sees a run as it goes. Every method has a default that does nothing.
pub trait Observer: Send + Sync {
    /// A page of `segment` was read, holding the items `keys`; its updates come next.
    fn page_read(&self, _segment: u32, _keys: &[Key]) {}
    /// The counts changed.
    fn progress(&self, _counts: &Counts) {}
    /// Something the user should read now (where the run continues from, a warning).
    fn note(&self, text: &str) {
        eprintln!("{text}");
    }
    /// The run is over.
    fn finish(&self) {}
}

/// The display that suits stderr: [`Bar`] on a terminal, else [`Lines`] every 5 s.
pub fn for_stderr() -> Box<dyn Observer> {
    if std::io::stderr().is_terminal() {
        Box::new(Bar::new())
    } else {
        Box::new(Lines::new(Duration::from_secs(5)))
    }
}

/// `scanned=… updated=… already=… skipped_conditional=… segments=d/S`.
fn counts_text(c: &Counts) -> String {
    format!(
        "scanned={} updated={} already={} skipped_conditional={} invalid={} failed={} \
         segments_done={}/{}",
        c.scanned,
        c.updated,
        c.already,
        c.skipped_conditional,
        c.invalid,
        c.failed,
        c.segments_done,
        c.segments
    )
}

/// An indicatif spinner (the table's item count is not known without another call, and
/// DynamoDB's is six hours stale) with the items per second and the counts.
pub struct Bar(ProgressBar);

impl Bar {
    fn new() -> Bar {
        let bar = ProgressBar::new_spinner().with_style(
            ProgressStyle::with_template("{spinner} backfill: {per_sec} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(Duration::from_millis(200));
        Bar(bar)
    }
}

impl Observer for Bar {
    fn progress(&self, counts: &Counts) {
        self.0.set_position(counts.scanned);
        self.0.set_message(counts_text(counts));
    }

    fn note(&self, text: &str) {
        self.0.println(text);
    }

    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

/// A line such as `backfill: scanned=… (12.0 s)` at most every so often.
pub struct Lines {
    started: Instant,
    last: Mutex<Instant>,
    every: Duration,
}

impl Lines {
    /// Lines at most `every` apart.
    pub fn new(every: Duration) -> Lines {
        let now = Instant::now();
        Lines {
            started: now,
            last: Mutex::new(now),
            every,
        }
    }
}

impl Observer for Lines {
    fn progress(&self, counts: &Counts) {
        let mut last = match self.last.lock() {
            Ok(last) => last,
            Err(poisoned) => poisoned.into_inner(),
        };
        if last.elapsed() >= self.every {
            *last = Instant::now();
            eprintln!(
                "backfill: {} ({:.1} s)",
                counts_text(counts),
                self.started.elapsed().as_secs_f64()
            );
        }
    }
}

/// No display at all (tests, libraries); notes are still printed.
pub struct Silent;

impl Observer for Silent {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_progress_text_names_every_count() {
        let counts = Counts {
            scanned: 10,
            updated: 6,
            already: 2,
            skipped_conditional: 1,
            invalid: 1,
            segments_done: 1,
            segments: 4,
            ..Counts::default()
        };
        assert_eq!(
            counts_text(&counts),
            "scanned=10 updated=6 already=2 skipped_conditional=1 invalid=1 failed=0 \
             segments_done=1/4"
        );
    }
}
