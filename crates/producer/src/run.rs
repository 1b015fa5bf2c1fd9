//! One producer run: take records from the input as the schedule makes them due, put them
//! on the stream (whatever is due and free goes in one PutRecords call, so high rates batch
//! by themselves), and count what happened. One call is in flight at a time, and a record
//! goes out only after every earlier record of its partition key is acknowledged (see
//! [`crate::pending`]), so each key's records reach the stream in the order produced.
//!
//! Every way a run ends gives a [`Summary`]: the input or the schedule runs out, a stop is
//! asked for (the binary asks on SIGINT and SIGTERM), or the endpoint fails for good
//! ([`Stopped`] carries the summary with the error).

use std::fmt;
use std::io::BufRead;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::pending::{Call, Pending, Settled, AGGREGATE_MAX_BYTES};
use crate::progress::Progress;
use crate::schedule::Schedule;
use crate::send::{CallError, Placement, PutError, PutRecords, Reach, RetryPolicy, Silence};
use crate::source::{Generated, Lines, Record};

/// Records taken from the input ahead of sending, at most: enough for every key of a
/// realistic workload to have its next record at hand, so calls stay full.
pub const WINDOW_RECORDS: usize = 5_000;

/// Bytes taken from the input ahead of sending, at most.
pub const WINDOW_BYTES: usize = 32 * 1024 * 1024;

/// How long a stop waits for the call in flight to be answered, so what it put is
/// counted; a second stop request does not wait.
pub const STOP_GRACE: Duration = Duration::from_secs(5);

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

impl Input {
    /// Records the run is to send, when known before it starts: a generated run's count.
    pub fn planned(&self, schedule: &Schedule) -> Option<u64> {
        match self {
            Input::Generated { .. } => schedule.total(),
            Input::File(_) => None,
        }
    }
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

/// How records become Kinesis records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Packing {
    /// Each record is one Kinesis record: one record per key per call.
    #[default]
    Single,
    /// A key's waiting records travel together as one KPL aggregate (at most
    /// [`AGGREGATE_MAX_BYTES`]); a key with one record waiting sends it as it is.
    Aggregate,
}

/// What a run did. Every record of the run (and unreadable input line) is counted in
/// exactly one of `sent`, `in_doubt`, `failed` and `unsent`, so for a generated COUNT they
/// add up to COUNT. Of the distinct records the stream holds from the run, there are at
/// least `sent` and at most `sent + in_doubt` (a record sent again after a call without
/// an answer may be there twice: distinct, not Kinesis records, are bounded).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Summary {
    /// Records Kinesis acknowledged with a sequence number (once each, however often they
    /// were sent): the stream holds each at least once.
    pub sent: u64,
    /// Of those, records made invalid on purpose.
    pub invalid: u64,
    /// Record attempts after the first.
    pub retried: u64,
    /// Records never acknowledged and certainly not in the stream: given up on after the
    /// retry budget with every call answered; and unreadable input lines.
    pub failed: u64,
    /// Records never acknowledged and certainly not in the stream, not given up on when the
    /// run ended: waiting, in calls that never left, and (for a generated COUNT) not yet
    /// made.
    pub unsent: u64,
    /// Records never acknowledged that a call without an answer carried after it may have
    /// reached Kinesis (the connection cut mid-call, a timeout, the run stopped waiting),
    /// whether they were waiting or given up on when the run ended: the stream may hold
    /// them; the producer cannot tell.
    pub in_doubt: u64,
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
            "summary: sent={} invalid={} retried={} failed={} unsent={} in_doubt={} \
             elapsed={:.2}s events_per_second={:.0}",
            self.sent,
            self.invalid,
            self.retried,
            self.failed,
            self.unsent,
            self.in_doubt,
            self.elapsed.as_secs_f64(),
            self.rate()
        )
    }
}

/// A run that ended on an error, with what it did until then.
#[derive(Debug)]
pub struct Stopped {
    /// What was done.
    pub summary: Summary,
    /// Why it stopped.
    pub error: CallError,
}

impl fmt::Display for Stopped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.error.fmt(f)
    }
}

impl std::error::Error for Stopped {}

/// Asks a run to stop; see [`stop_channel`].
#[derive(Debug, Clone)]
pub struct StopHandle(watch::Sender<u32>);

impl StopHandle {
    /// One more request to stop: the first ends the run once the call in flight is
    /// answered (waiting at most [`STOP_GRACE`]), the second without waiting.
    pub fn request(&self) {
        self.0.send_modify(|n| *n += 1);
    }
}

/// What a run listens to for stop requests.
#[derive(Debug, Clone)]
pub struct Stop(watch::Receiver<u32>);

impl Stop {
    /// A run that is never asked to stop.
    pub fn never() -> Stop {
        stop_channel().1
    }

    fn count(&self) -> u32 {
        *self.0.borrow()
    }

    /// Waits until a stop is asked for (forever, once nobody can ask).
    pub async fn wait(&mut self) {
        self.requested(1).await;
    }

    /// Waits until at least `n` stops were asked for (forever, once nobody can ask).
    async fn requested(&mut self, n: u32) {
        while self.count() < n {
            if self.0.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }
}

/// A handle to ask for stops and the listener to give the run.
pub fn stop_channel() -> (StopHandle, Stop) {
    let (tx, rx) = watch::channel(0);
    (StopHandle(tx), Stop(rx))
}

/// Runs until the schedule or the input ends. `on_placed` sees every record that reached
/// the stream (tests use it to know exactly what was acknowledged). A fatal error (stream
/// missing, endpoint silent too long) ends the run at once.
pub async fn run<A: PutRecords>(
    api: &A,
    input: &mut Input,
    options: Options,
    progress: &mut dyn Progress,
    on_placed: &mut dyn FnMut(&Record, &Placement),
) -> Result<Summary, Stopped> {
    let packing = Packing::Single;
    run_until(
        api,
        input,
        options,
        packing,
        progress,
        on_placed,
        Stop::never(),
    )
    .await
}

/// [`run`] with a choice of `packing`, ending early when `stop` asks. A stopped run is
/// `Ok`: its summary counts what was left as `unsent` (or `in_doubt`).
pub async fn run_until<A: PutRecords>(
    api: &A,
    input: &mut Input,
    options: Options,
    packing: Packing,
    progress: &mut dyn Progress,
    on_placed: &mut dyn FnMut(&Record, &Placement),
    mut stop: Stop,
) -> Result<Summary, Stopped> {
    let mut run = Run {
        started: Instant::now(),
        options,
        summary: Summary::default(),
        pending: match packing {
            Packing::Single => Pending::new(),
            Packing::Aggregate => Pending::aggregating(AGGREGATE_MAX_BYTES),
        },
        taken: 0,
        input_done: false,
        next_due: None,
        silence: Silence::default(),
        hold_until: None,
    };
    let result = run.go(api, input, progress, on_placed, &mut stop).await;
    progress.finish();
    let summary = run.finish(input);
    match result {
        Ok(()) => Ok(summary),
        Err(error) => Err(Stopped { summary, error }),
    }
}

/// The state of a run.
struct Run {
    started: Instant,
    options: Options,
    summary: Summary,
    pending: Pending,
    /// Records (and unreadable lines) taken from the input.
    taken: u64,
    input_done: bool,
    /// When the next record is due, if it is not yet.
    next_due: Option<Duration>,
    silence: Silence,
    /// No call before this: the endpoint did not answer the last one.
    hold_until: Option<Instant>,
}

impl Run {
    async fn go<A: PutRecords>(
        &mut self,
        api: &A,
        input: &mut Input,
        progress: &mut dyn Progress,
        on_placed: &mut dyn FnMut(&Record, &Placement),
        stop: &mut Stop,
    ) -> Result<(), CallError> {
        while stop.count() == 0 {
            self.take_due(input);
            let held = self.hold_until.filter(|at| *at > Instant::now());
            if held.is_none() {
                let call = self.pending.next_call(Instant::now(), self.options.batch);
                if !call.is_empty() {
                    if !self.exchange(api, call, on_placed, stop).await? {
                        return Ok(());
                    }
                    progress.update(self.summary.sent, self.summary.failed);
                    continue;
                }
                self.pending.abandon(call);
            }
            if self.pending.is_empty() && self.input_done {
                return Ok(());
            }
            let wake = [
                self.next_due.map(|due| self.started + due),
                self.pending.next_ready(),
                held,
            ]
            .into_iter()
            .flatten()
            .min();
            let Some(wake) = wake else {
                // Nothing due, nothing waiting, the input not over: a window full of keys in
                // flight cannot happen with one call at a time, so this is the input's end.
                return Ok(());
            };
            tokio::select! {
                _ = tokio::time::sleep_until(wake.into()) => {}
                _ = stop.requested(1) => {}
            }
        }
        Ok(())
    }

    /// Sends `call` and settles its answer. `Ok(false)` when a stop came and the answer did
    /// not; `Err` when the endpoint failed for good.
    async fn exchange<A: PutRecords>(
        &mut self,
        api: &A,
        call: Call,
        on_placed: &mut dyn FnMut(&Record, &Placement),
        stop: &mut Stop,
    ) -> Result<bool, CallError> {
        self.summary.retried += self.pending.retries_in(&call) as u64;
        let started = Instant::now();
        let answer = {
            let records = self.pending.records(&call);
            answer_or_stop(api.put_records(&records), stop).await
        };
        let Some(answer) = answer else {
            let cut = call.records();
            self.pending.unanswered(call, Reach::InDoubt);
            eprintln!(
                "warning: stopped without the answer to a call of {cut} records; the stream \
                 may hold some of them (counted as in_doubt)"
            );
            return Ok(false);
        };
        let (now, policy) = (Instant::now(), self.options.retry);
        let settled = match answer {
            Ok(entries) => {
                self.silence.answered();
                self.pending.settle(call, Ok(&entries), now, &policy)
            }
            Err(PutError::Transient(error)) => {
                self.silence.answered();
                self.pending.settle(call, Err(&error), now, &policy)
            }
            // The endpoint, not a key, is the trouble: every key waits.
            Err(PutError::NoAnswer { detail, reach }) => {
                self.pending.unanswered(call, reach);
                self.hold_until = Some(self.silence.no_answer(started, &detail, &policy)?);
                return Ok(true);
            }
            Err(PutError::Fatal(error)) => {
                self.pending.abandon(call);
                return Err(CallError::Fatal(error));
            }
        };
        self.count(settled, on_placed);
        Ok(true)
    }

    /// Takes the records that are due from the input, while the window has room.
    fn take_due(&mut self, input: &mut Input) {
        self.next_due = None;
        while !self.input_done
            && self.pending.len() < WINDOW_RECORDS
            && self.pending.bytes() < WINDOW_BYTES
        {
            let elapsed = self.started.elapsed();
            let Some(due) = self.options.schedule.due(self.taken, elapsed) else {
                self.input_done = true;
                break;
            };
            if due > elapsed {
                self.next_due = Some(due);
                break;
            }
            match next_record(input, due) {
                Some(Ok(record)) => self.pending.push(record),
                Some(Err(error)) => {
                    eprintln!("warning: {error}; skipped");
                    self.summary.failed += 1;
                }
                None => {
                    self.input_done = true;
                    break;
                }
            }
            self.taken += 1;
        }
    }

    fn count(&mut self, settled: Settled, on_placed: &mut dyn FnMut(&Record, &Placement)) {
        for (_, record, placement) in &settled.placed {
            self.summary.sent += 1;
            self.summary.invalid += u64::from(record.invalid.is_some());
            on_placed(record, placement);
        }
        for (_, record, error) in &settled.given_up {
            eprintln!(
                "warning: record for {} not sent after {} retries: {error}",
                record.partition_key, self.options.retry.max_retries
            );
        }
        for (_, record, error) in &settled.doubtful {
            eprintln!(
                "warning: record for {} not acknowledged after {} retries: {error}; the stream \
                 may hold it (a call got no answer; counted as in_doubt)",
                record.partition_key, self.options.retry.max_retries
            );
        }
        self.summary.failed += settled.given_up.len() as u64;
        self.summary.in_doubt += settled.doubtful.len() as u64;
    }

    /// The summary, with what is left counted as unsent or, if a call without an answer
    /// carried it, in doubt.
    fn finish(self, input: &Input) -> Summary {
        let not_taken = match input.planned(&self.options.schedule) {
            Some(planned) if !self.input_done => planned.saturating_sub(self.taken),
            _ => 0,
        };
        let in_doubt = self.pending.in_doubt() as u64;
        Summary {
            unsent: (self.pending.len() as u64 - in_doubt) + not_taken,
            in_doubt: self.summary.in_doubt + in_doubt,
            elapsed: self.started.elapsed(),
            ..self.summary
        }
    }
}

/// The call's answer, or `None` when a stop came and the answer did not follow within
/// [`STOP_GRACE`] (or a second stop came).
async fn answer_or_stop<F: std::future::Future>(call: F, stop: &mut Stop) -> Option<F::Output> {
    tokio::pin!(call);
    tokio::select! {
        answer = &mut call => return Some(answer),
        _ = stop.requested(1) => {}
    }
    tokio::select! {
        answer = &mut call => Some(answer),
        _ = tokio::time::sleep(STOP_GRACE) => None,
        _ = stop.requested(2) => None,
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::Silent;
    use crate::send::EntryResult;
    use std::collections::HashSet;
    use std::sync::Mutex;

    /// Accepts everything; keeps each call's partition keys. After `fail_after` calls it
    /// fails every call with a fatal error.
    #[derive(Default)]
    struct Recorder {
        calls: Mutex<Vec<Vec<String>>>,
        fail_after: Option<usize>,
    }

    impl Recorder {
        fn sizes(&self) -> Vec<usize> {
            self.calls.lock().unwrap().iter().map(Vec::len).collect()
        }
    }

    impl PutRecords for Recorder {
        async fn put_records(&self, records: &[&Record]) -> Result<Vec<EntryResult>, PutError> {
            let mut calls = self.calls.lock().unwrap();
            if self.fail_after.is_some_and(|n| calls.len() >= n) {
                return Err(PutError::Fatal(
                    "cannot reach Kinesis at http://127.0.0.1:1".into(),
                ));
            }
            calls.push(records.iter().map(|r| r.partition_key.clone()).collect());
            Ok(accepted(records))
        }
    }

    /// Every record of a call accepted, on one shard.
    fn accepted(records: &[&Record]) -> Vec<EntryResult> {
        records
            .iter()
            .map(|_| {
                Ok(Placement {
                    shard_id: "shardId-000000000000".into(),
                    sequence_number: "1".into(),
                    sub_sequence_number: None,
                })
            })
            .collect()
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
    async fn records_due_at_once_share_calls_of_one_record_per_key() {
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
        let calls = api.calls.lock().unwrap();
        for keys in calls.iter() {
            let distinct: HashSet<&String> = keys.iter().collect();
            assert_eq!(distinct.len(), keys.len(), "one record per key in a call");
        }
        // The generator has 100 users: the first calls carry nearly all of them.
        assert!(calls[0].len() > 90, "{}", calls[0].len());
        assert_eq!(calls.iter().map(Vec::len).sum::<usize>(), 1_234);
        assert_eq!(
            (summary.sent, summary.unsent, summary.failed),
            (1_234, 0, 0)
        );
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
        assert_eq!(api.sizes(), [1, 1, 1, 1, 1]);
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
        assert_eq!((summary.sent, summary.failed, summary.unsent), (2, 1, 0));
    }

    #[tokio::test]
    async fn a_fatal_error_ends_the_run_with_a_summary_of_what_was_acknowledged() {
        let api = Recorder {
            fail_after: Some(3),
            ..Recorder::default()
        };
        let mut acknowledged = 0;
        let stopped = run(
            &api,
            &mut generated(2, 0.0),
            options(Schedule::count(2_000, Duration::ZERO), 500),
            &mut Silent,
            &mut |_, _| acknowledged += 1,
        )
        .await
        .unwrap_err();
        assert!(stopped.to_string().starts_with("cannot reach Kinesis"));
        let summary = stopped.summary;
        assert_eq!(summary.sent, acknowledged);
        assert_eq!(summary.sent, api.sizes().iter().sum::<usize>() as u64);
        assert_eq!(summary.sent + summary.unsent, 2_000);
    }

    #[tokio::test]
    async fn a_stop_ends_the_run_with_the_rest_unsent() {
        let api = Recorder::default();
        let (handle, stop) = stop_channel();
        let asker = async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            handle.request();
        };
        let (mut input, mut progress, mut on_placed) =
            (generated(3, 0.0), Silent, |_: &Record, _: &Placement| {});
        let running = run_until(
            &api,
            &mut input,
            options(Schedule::count(1_000, Duration::from_millis(10)), 500),
            Packing::Single,
            &mut progress,
            &mut on_placed,
            stop,
        );
        let (summary, ()) = tokio::join!(running, asker);
        let summary = summary.unwrap();
        assert!(summary.sent > 0 && summary.sent < 100, "{summary}");
        assert_eq!(summary.sent + summary.unsent, 1_000);
    }

    /// A stream behind an endpoint that dies in call `dies_at`: Kinesis takes that call's
    /// records but the answer is lost (or, with `comes_back`, only that answer is lost).
    /// Later calls never leave, or with `comes_back` are answered again.
    struct Dying {
        dies_at: usize,
        comes_back: bool,
        calls: Mutex<usize>,
        /// Every record the stream took, repeats included.
        stream: Mutex<Vec<Vec<u8>>>,
    }

    impl Dying {
        fn new(dies_at: usize, comes_back: bool) -> Dying {
            Dying {
                dies_at,
                comes_back,
                calls: Mutex::default(),
                stream: Mutex::default(),
            }
        }

        fn distinct(&self) -> u64 {
            let stream = self.stream.lock().unwrap();
            stream.iter().collect::<HashSet<_>>().len() as u64
        }
    }

    impl PutRecords for Dying {
        async fn put_records(&self, records: &[&Record]) -> Result<Vec<EntryResult>, PutError> {
            let call = {
                let mut calls = self.calls.lock().unwrap();
                *calls += 1;
                *calls - 1
            };
            let no_answer = |reach| PutError::NoAnswer {
                detail: "cannot reach Kinesis at http://127.0.0.1:1".into(),
                reach,
            };
            if call > self.dies_at && !self.comes_back {
                return Err(no_answer(Reach::NotSent));
            }
            let mut stream = self.stream.lock().unwrap();
            stream.extend(records.iter().map(|r| r.data.clone()));
            if call == self.dies_at {
                return Err(no_answer(Reach::InDoubt));
            }
            Ok(accepted(records))
        }
    }

    fn short_silence() -> RetryPolicy {
        RetryPolicy {
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
            silence_limit: Duration::from_millis(50),
            ..RetryPolicy::default()
        }
    }

    #[tokio::test]
    async fn records_of_a_call_cut_by_a_dying_endpoint_are_in_doubt_not_unsent() {
        let api = Dying::new(3, false);
        let options = Options {
            retry: short_silence(),
            ..options(Schedule::count(200, Duration::from_millis(1)), 500)
        };
        let stopped = run(
            &api,
            &mut generated(5, 0.0),
            options,
            &mut Silent,
            &mut |_, _| {},
        )
        .await
        .unwrap_err();
        let summary = stopped.summary;
        let held = api.distinct();
        assert!(summary.in_doubt > 0, "{summary}");
        assert_eq!(held, summary.sent + summary.in_doubt, "{summary}");
        assert_eq!(
            summary.sent + summary.in_doubt + summary.failed + summary.unsent,
            200
        );
    }

    #[tokio::test]
    async fn a_record_sent_again_after_a_lost_answer_is_counted_once() {
        let api = Dying::new(2, true);
        let summary = run(
            &api,
            &mut generated(6, 0.0),
            options(Schedule::count(300, Duration::ZERO), 500),
            &mut Silent,
            &mut |_, _| {},
        )
        .await
        .unwrap();
        assert_eq!(
            (summary.sent, summary.in_doubt, summary.unsent),
            (300, 0, 0)
        );
        // The lost answer's records are in the stream twice: distinct records are bounded.
        assert!(api.stream.lock().unwrap().len() > 300);
        assert_eq!(api.distinct(), 300);
    }

    #[test]
    fn the_summary_line_names_every_count() {
        let summary = Summary {
            sent: 2_000,
            invalid: 200,
            retried: 12,
            failed: 0,
            unsent: 3,
            in_doubt: 5,
            elapsed: Duration::from_secs(4),
        };
        assert_eq!(
            summary.to_string(),
            "summary: sent=2000 invalid=200 retried=12 failed=0 unsent=3 in_doubt=5 \
             elapsed=4.00s events_per_second=500"
        );
    }
}
