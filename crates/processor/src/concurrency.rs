//! How many requests the store keeps in flight against one sink: a window that adapts to
//! what the service answers (additive increase, multiplicative decrease).
//!
//! - It **starts** at `WRITE_CONCURRENCY` (8 by default).
//! - Every call that succeeds while work is waiting for a slot **adds one** (so an
//!   unthrottled window doubles each round trip: 8, 16, 32, 64).
//! - Once a round (the calls issued before the first answer to a later call), when any of
//!   its answers pushed back — throttling (DynamoDB's `ProvisionedThroughputExceededException`,
//!   `RequestLimitExceeded`, `ThrottlingException`, SQS's `RequestThrottled`), items left
//!   unprocessed or entries failed, or another retryable error — it is **cut** by the share
//!   of the round's answers that pushed back: `size × (1 − share)`, at least 1 (DCTCP's
//!   proportional cut, with the whole share). One cut a round, as TCP cuts once a window:
//!   the answers to calls already in flight were sent at the old size.
//!
//!   A service that takes C calls at once and throttles the rest holds the window where
//!   `(w + C) × C / w = w`, about 1.6 × C, with 38 % of calls throttled; a steady 30 % of
//!   throttles whatever the load (`0.7 w` regained, a cut to `0.7 ×`) leaves it near its cap.
//! - It is **capped** at [`MAX_IN_FLIGHT`] (64, `WRITE_CONCURRENCY`'s own limit), and by
//!   the function's memory: one request in flight per [`MB_PER_REQUEST`] MB
//!   (`AWS_LAMBDA_FUNCTION_MEMORY_SIZE`), never below the start. 128 MB allows 16, 256 MB
//!   32, 512 MB and more 64: Lambda's CPU share is proportional to memory, and every
//!   request in flight is a connection (its TLS handshake, tens of KB of buffers) and a
//!   serialized copy of its items.
//!
//! The store ([`crate::store`]) retries a throttled request at once while the window can
//! still shrink, so pacing is the window's job, and with exponential backoff in time once
//! the window is at 1 (or for errors that are not throttling). docs/performance.md,
//! "Invocation against services that take time", compares this with the SDK's adaptive
//! retry mode and says why.

/// The largest window: `WRITE_CONCURRENCY`'s own upper limit.
pub const MAX_IN_FLIGHT: usize = 64;

/// Function memory (MB) per request in flight: the memory cap is `memory / 8`.
pub const MB_PER_REQUEST: usize = 8;

/// The function's memory in MB, as Lambda tells the function (`None` outside Lambda).
pub fn function_memory_mb() -> Option<usize> {
    std::env::var("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        .ok()
        .and_then(|v| v.trim().parse().ok())
}

/// The cap for a window starting at `start` on a function of `memory_mb` (`None`: not on
/// Lambda, [`MAX_IN_FLIGHT`]): `memory / MB_PER_REQUEST`, at most [`MAX_IN_FLIGHT`], at
/// least `start`.
pub fn cap_for(start: usize, memory_mb: Option<usize>) -> usize {
    let by_memory = memory_mb.map_or(MAX_IN_FLIGHT, |mb| mb / MB_PER_REQUEST);
    by_memory.min(MAX_IN_FLIGHT).max(start.max(1))
}

/// The window a table with an on-demand maximum (`OnDemandThroughput.MaxWriteRequestUnits`)
/// or a provisioned capacity of `write_units` a second can use, shared by `writers`
/// invocations writing at once (shards × parallelization), each call carrying
/// `units_per_call` write units (25 items × WCU per item) and taking `round_trip_ms`: more
/// in flight only collects throttles. At least 1.
pub fn table_cap(write_units: f64, writers: u32, units_per_call: f64, round_trip_ms: f64) -> usize {
    let calls_per_second = write_units / units_per_call.max(1.0) / f64::from(writers.max(1));
    let window = (calls_per_second * round_trip_ms / 1000.0).ceil();
    if window.is_finite() && window >= 1.0 {
        (window as usize).min(MAX_IN_FLIGHT)
    } else {
        1
    }
}

/// What a call's answer says about the load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// Everything in it was written or sent.
    Done,
    /// Throttled, or part of it unprocessed (DynamoDB leaves items unprocessed when it
    /// throttles them) or failed: slow down.
    Throttled,
    /// Another retryable failure (a 5xx, a timeout, a dropped connection): a service
    /// failing under load looks the same, so the window is cut too.
    Failed,
    /// The request itself was wrong: says nothing about the load.
    Refused,
}

/// A call's place in the order calls were made, handed back with its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Ticket(u64);

/// The adaptive window: how many calls may be in flight, and how many are.
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    size: usize,
    cap: usize,
    in_flight: usize,
    peak: usize,
    issued: u64,
    /// The first ticket of the next round: an answer to it or a later one ends this round.
    next_round: u64,
    /// This round's answers, and those that pushed back.
    answers: usize,
    pushed_back: usize,
    cuts: usize,
}

impl Window {
    /// A window of `start` (at least 1) that may grow to `cap`.
    pub fn new(start: usize, cap: usize) -> Window {
        let size = start.max(1);
        Window {
            size,
            cap: cap.max(size),
            in_flight: 0,
            peak: 0,
            issued: 0,
            next_round: 0,
            answers: 0,
            pushed_back: 0,
            cuts: 0,
        }
    }

    /// The window for a sink on this function: from `start`, capped by [`cap_for`] the
    /// function's memory.
    pub fn for_function(start: usize) -> Window {
        Window::new(start, cap_for(start, function_memory_mb()))
    }

    /// A window that stays at `size`.
    pub fn fixed(size: usize) -> Window {
        Window::new(size, size)
    }

    /// Calls it allows in flight now.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Its cap.
    pub fn cap(&self) -> usize {
        self.cap
    }

    /// Calls in flight.
    pub fn in_flight(&self) -> usize {
        self.in_flight
    }

    /// The most calls that were in flight at once.
    pub fn peak(&self) -> usize {
        self.peak
    }

    /// How often it was cut.
    pub fn cuts(&self) -> usize {
        self.cuts
    }

    /// Whether another call may start.
    pub fn has_room(&self) -> bool {
        self.in_flight < self.size
    }

    /// Whether a cut could still make it smaller (it is above 1).
    pub fn can_shrink(&self) -> bool {
        self.size > 1
    }

    /// A call starts.
    pub fn issue(&mut self) -> Ticket {
        self.in_flight += 1;
        self.peak = self.peak.max(self.in_flight);
        let ticket = Ticket(self.issued);
        self.issued += 1;
        ticket
    }

    /// The call of `ticket` was answered with `answer`; `waiting` says whether work is
    /// waiting for a slot (a window that is not full has no reason to grow).
    pub fn answered(&mut self, ticket: Ticket, answer: Answer, waiting: bool) {
        self.in_flight = self.in_flight.saturating_sub(1);
        if ticket.0 >= self.next_round {
            self.end_round();
        }
        match answer {
            Answer::Done => {
                self.answers += 1;
                if waiting && self.size < self.cap {
                    self.size += 1;
                }
            }
            Answer::Throttled | Answer::Failed => {
                self.answers += 1;
                self.pushed_back += 1;
            }
            Answer::Refused => {}
        }
    }

    /// Cuts the window by the share of the round's answers that pushed back, and starts the
    /// next round with the calls issued from now on.
    fn end_round(&mut self) {
        if self.pushed_back > 0 {
            let share = self.pushed_back as f64 / self.answers.max(1) as f64;
            let cut = (self.size as f64 * (1.0 - share)).floor() as usize;
            self.size = cut.max(1);
            self.cuts += 1;
        }
        self.answers = 0;
        self.pushed_back = 0;
        self.next_round = self.issued;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One round: `calls` calls issued together, answered in order by `answers`.
    fn round(window: &mut Window, answers: &[Answer], waiting: bool) {
        let tickets: Vec<Ticket> = answers.iter().map(|_| window.issue()).collect();
        for (ticket, answer) in tickets.into_iter().zip(answers) {
            window.answered(ticket, *answer, waiting);
        }
    }

    #[test]
    fn successes_grow_it_one_a_call_up_to_the_cap() {
        let mut w = Window::new(8, 64);
        round(&mut w, &[Answer::Done; 8], true);
        assert_eq!(w.size(), 16);
        round(&mut w, &[Answer::Done; 16], true);
        assert_eq!(w.size(), 32);
        round(&mut w, &[Answer::Done; 32], true);
        round(&mut w, &[Answer::Done; 64], true);
        assert_eq!(w.size(), 64);
        assert_eq!(w.peak(), 64);
        assert_eq!(w.in_flight(), 0);
    }

    #[test]
    fn a_window_with_nothing_waiting_does_not_grow() {
        let mut w = Window::new(8, 64);
        round(&mut w, &[Answer::Done; 3], false);
        assert_eq!(w.size(), 8);
    }

    #[test]
    fn a_round_that_pushed_back_is_cut_by_its_share_once() {
        let mut w = Window::new(40, 64);
        // 40 calls, 10 throttled: the cut comes with the next round's first answer.
        let mut answers = vec![Answer::Done; 30];
        answers.extend([Answer::Throttled; 10]);
        round(&mut w, &answers, false);
        assert_eq!((w.size(), w.cuts()), (40, 0));
        round(&mut w, &[Answer::Done], false);
        assert_eq!((w.size(), w.cuts()), (30, 1), "40 × (1 − 10/40)");
        // Other retryable failures count the same; a refused request not at all.
        round(
            &mut w,
            &[Answer::Failed, Answer::Done, Answer::Refused],
            false,
        );
        round(&mut w, &[Answer::Done], false);
        assert_eq!((w.size(), w.cuts()), (15, 2), "30 × (1 − 1/2)");
    }

    #[test]
    fn answers_from_before_a_round_ends_count_in_that_round() {
        let mut w = Window::new(10, 64);
        let early: Vec<Ticket> = (0..10).map(|_| w.issue()).collect();
        for t in &early[..5] {
            w.answered(*t, Answer::Throttled, false);
        }
        let late = w.issue();
        for t in &early[5..] {
            w.answered(*t, Answer::Done, false);
        }
        assert_eq!(w.size(), 10, "the round is still open");
        w.answered(late, Answer::Done, false);
        assert_eq!(w.size(), 5, "10 × (1 − 5/10), once");
        assert_eq!(w.cuts(), 1);
    }

    #[test]
    fn it_never_goes_below_one_and_says_when_it_cannot_shrink() {
        let mut w = Window::new(8, 64);
        round(&mut w, &[Answer::Throttled; 8], false);
        round(&mut w, &[Answer::Throttled], false);
        assert_eq!(w.size(), 1, "all throttled");
        assert!(!w.can_shrink());
        round(&mut w, &[Answer::Done], true);
        assert_eq!(
            w.size(),
            2,
            "the last throttled round's cut to 1, then one more"
        );
        assert!(w.can_shrink());
    }

    /// 30 % of calls throttled whatever the load: a cut to 0.7 × a round against 0.7 × the
    /// round's calls regained keeps the window near its cap.
    #[test]
    fn a_steady_minority_of_throttles_keeps_it_near_the_cap() {
        let mut w = Window::new(8, 64);
        let mut sizes = Vec::new();
        for _ in 0..30 {
            let n = w.size();
            let answers: Vec<Answer> = (0..n)
                .map(|i| {
                    if i % 10 < 3 {
                        Answer::Throttled
                    } else {
                        Answer::Done
                    }
                })
                .collect();
            round(&mut w, &answers, true);
            sizes.push(w.size());
        }
        assert!(sizes[15..].iter().all(|&s| s >= 44), "{sizes:?}");
    }

    /// A service that takes 12 calls at once and throttles the rest: the window settles
    /// near 1.6 × 12 instead of growing to the cap.
    #[test]
    fn a_service_with_a_limit_holds_it_near_the_limit() {
        let mut w = Window::new(8, 64);
        let mut sizes = Vec::new();
        for _ in 0..40 {
            let n = w.size();
            let answers: Vec<Answer> = (0..n)
                .map(|i| {
                    if i < 12 {
                        Answer::Done
                    } else {
                        Answer::Throttled
                    }
                })
                .collect();
            round(&mut w, &answers, true);
            sizes.push(w.size());
        }
        assert!(
            sizes[10..].iter().all(|&s| (12..=32).contains(&s)),
            "{sizes:?}"
        );
    }

    #[test]
    fn a_table_limit_bounds_the_window() {
        // 4,000 WRU a second over 4 writers, 25 one-unit items a call, 10 ms: 0.4 → 1.
        assert_eq!(table_cap(4000.0, 4, 25.0, 10.0), 1);
        // 40,000 over 1 writer: 1,600 calls a second, 16 in flight at 10 ms.
        assert_eq!(table_cap(40_000.0, 1, 25.0, 10.0), 16);
        assert_eq!(table_cap(1e9, 1, 25.0, 10.0), 64);
    }
}
