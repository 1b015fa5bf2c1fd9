//! Progress while a run is going: a bar on a terminal, a plain line every few seconds
//! otherwise (CI logs, pipes), always on stderr so stdout keeps only the summary.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// Shows how far a run is.
pub trait Progress {
    /// `sent` records are in the stream and `failed` were given up on.
    fn update(&mut self, sent: u64, failed: u64);
    /// The run is over.
    fn finish(&mut self);
}

/// The progress display that suits stderr: [`Bar`] on a terminal, else [`Lines`].
pub fn for_stderr(total: Option<u64>) -> Box<dyn Progress> {
    if std::io::stderr().is_terminal() {
        Box::new(Bar::new(total))
    } else {
        Box::new(Lines::new(Duration::from_secs(5)))
    }
}

/// An indicatif bar (a spinner when the total is unknown).
pub struct Bar(ProgressBar);

impl Bar {
    fn new(total: Option<u64>) -> Bar {
        let bar = match total {
            Some(total) => ProgressBar::new(total).with_style(
                ProgressStyle::with_template(
                    "{bar:40} {pos}/{len} records  {per_sec}  eta {eta}  {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            ),
            None => ProgressBar::new_spinner().with_style(
                ProgressStyle::with_template("{spinner} {pos} records  {per_sec}  {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            ),
        };
        bar.enable_steady_tick(Duration::from_millis(200));
        Bar(bar)
    }
}

impl Progress for Bar {
    fn update(&mut self, sent: u64, failed: u64) {
        self.0.set_position(sent + failed);
        if failed > 0 {
            self.0.set_message(format!("{failed} failed"));
        }
    }

    fn finish(&mut self) {
        self.0.finish_and_clear();
    }
}

/// A line such as `sent 1500 records (0 failed) in 3.0 s` every `every`.
pub struct Lines {
    started: Instant,
    last: Instant,
    every: Duration,
}

impl Lines {
    /// Lines at most `every` apart.
    pub fn new(every: Duration) -> Lines {
        let now = Instant::now();
        Lines {
            started: now,
            last: now,
            every,
        }
    }
}

impl Progress for Lines {
    fn update(&mut self, sent: u64, failed: u64) {
        if self.last.elapsed() >= self.every {
            self.last = Instant::now();
            eprintln!(
                "sent {sent} records ({failed} failed) in {:.1} s",
                self.started.elapsed().as_secs_f64()
            );
        }
    }

    fn finish(&mut self) {}
}

/// No progress at all (tests, libraries).
pub struct Silent;

impl Progress for Silent {
    fn update(&mut self, _: u64, _: u64) {}
    fn finish(&mut self) {}
}
