//! Tumbling windows (the mapping's `TumblingWindowInSeconds`), as Lambda documents them
//! for Kinesis (<https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-windows.html>):
//!
//! - a record belongs to the window of its ARRIVAL time; windows are epoch-aligned
//!   (start = floor(arrival / width) × width, end = start + width), so a batch never mixes
//!   two windows ([`Windows::split`]);
//! - each shard has at most one open window, with the state its last invocation returned;
//!   shards do not share state;
//! - the window ends with a final invocation (no records, `isFinalInvokeForWindow`, the
//!   final state) when the shard's next record belongs to a later window, when the shard
//!   ends (closed or resharded: its children start fresh), when its end passed more than
//!   [`GRACE`] ago while the shard is quiet ([`Windows::overdue`]; Lambda closes a quiet
//!   window up to 2 minutes late), and before the run exits idle;
//! - a record arriving for a window that has already ended (it cannot on Kinesis, whose
//!   arrival times grow per shard) joins the shard's next window rather than reopen it.
//!
//! What one invocation does with the state is [`crate::mapping::deliver_window`]; the
//! final invocation is [`crate::mapping::close_window`].

use std::collections::BTreeMap;
use std::time::Duration;

use kinesis_codec::record::StreamRecord;

use crate::mapping::{
    close_window, deliver_window, window_bounds, Context, Counts, DeliveryFailed, Destination,
    Function, OpenWindow, Settings, WindowFinalFailed,
};

/// How long after its end a quiet shard's window waits for its final invocation (Lambda
/// waits up to 2 minutes; the emulator need not).
pub const GRACE: Duration = Duration::from_secs(2);

/// Every shard's open tumbling window.
#[derive(Debug)]
pub struct Windows {
    width: Duration,
    shards: BTreeMap<String, ShardWindow>,
}

/// One shard's window.
#[derive(Debug, Default)]
struct ShardWindow {
    /// The open window, if any.
    open: Option<OpenWindow>,
    /// The end of the last window closed (epoch ms): later records start at it or after.
    closed_until: Option<i64>,
}

impl Windows {
    /// No window open yet; windows are `width` long.
    pub fn new(width: Duration) -> Windows {
        Windows {
            width,
            shards: BTreeMap::new(),
        }
    }

    /// The windows' width.
    pub fn width(&self) -> Duration {
        self.width
    }

    /// The open window of `shard`.
    pub fn open(&self, shard: &str) -> Option<&OpenWindow> {
        self.shards.get(shard).and_then(|s| s.open.as_ref())
    }

    /// Shards with an open window.
    pub fn open_shards(&self) -> Vec<String> {
        self.shards
            .iter()
            .filter(|(_, s)| s.open.is_some())
            .map(|(shard, _)| shard.clone())
            .collect()
    }

    /// Shards whose open window ended more than [`GRACE`] before `now_ms`.
    pub fn overdue(&self, now_ms: i64) -> Vec<String> {
        let grace = i64::try_from(GRACE.as_millis()).unwrap_or(i64::MAX);
        self.shards
            .iter()
            .filter(|(_, s)| {
                s.open
                    .as_ref()
                    .is_some_and(|w| now_ms.saturating_sub(w.end_ms) > grace)
            })
            .map(|(shard, _)| shard.clone())
            .collect()
    }

    /// The start of the window a record of `shard` that arrived at `arrival_ms` goes to:
    /// its arrival's window, unless the shard has moved past it.
    fn start_of(&self, shard: &str, arrival_ms: i64) -> i64 {
        let (start, _) = window_bounds(arrival_ms, self.width);
        let Some(known) = self.shards.get(shard) else {
            return start;
        };
        let floor = known
            .open
            .as_ref()
            .map(|w| w.start_ms)
            .into_iter()
            .chain(known.closed_until)
            .max();
        floor.map_or(start, |floor| start.max(floor))
    }

    /// Splits `records` (one shard's, in order) into runs of one window each, in order.
    pub fn split(&self, shard: &str, records: Vec<StreamRecord>) -> Vec<Vec<StreamRecord>> {
        let mut runs: Vec<(i64, Vec<StreamRecord>)> = Vec::new();
        for record in records {
            let start = self.start_of(shard, record.arrival_ms);
            match runs.last_mut() {
                Some((last, run)) if *last >= start => run.push(record),
                _ => runs.push((start, vec![record])),
            }
        }
        runs.into_iter().map(|(_, run)| run).collect()
    }

    /// Delivers `batch` (records of `shard`, in order, of one window: a run of
    /// [`Windows::split`] or part of one) in its window: first closes the shard's open
    /// window when the batch belongs to a later one, then opens the batch's window with an
    /// empty state when none is open, then delivers with the window's state.
    #[allow(clippy::too_many_arguments)]
    pub async fn deliver<F: Function, D: Destination>(
        &mut self,
        shard: &str,
        batch: Vec<StreamRecord>,
        settings: &Settings,
        function: &F,
        destination: &D,
        context: &Context<'_>,
        counts: &mut Counts,
    ) -> Result<(), DeliveryFailed> {
        let Some(first) = batch.first() else {
            return Ok(());
        };
        let start = self.start_of(shard, first.arrival_ms);
        if self.open(shard).is_some_and(|w| w.start_ms < start) {
            self.close(shard, settings, function, context, counts)
                .await?;
        }
        let width = self.width;
        let known = self.shards.entry(shard.to_owned()).or_default();
        let window = known
            .open
            .get_or_insert_with(|| OpenWindow::holding(shard, start, width));
        deliver_window(
            batch,
            window,
            settings,
            function,
            destination,
            context,
            counts,
        )
        .await
    }

    /// Sends the final invocation of `shard`'s open window, if it has one, and forgets the
    /// window. `Ok(true)` when a window was closed.
    pub async fn close<F: Function>(
        &mut self,
        shard: &str,
        settings: &Settings,
        function: &F,
        context: &Context<'_>,
        counts: &mut Counts,
    ) -> Result<bool, WindowFinalFailed> {
        let Some(known) = self.shards.get_mut(shard) else {
            return Ok(false);
        };
        let Some(window) = known.open.as_mut() else {
            return Ok(false);
        };
        close_window(window, false, settings, function, context, counts).await?;
        known.closed_until = Some(window.end_ms);
        known.open = None;
        Ok(true)
    }

    /// Forgets a shard that has ended, once its window is closed: its children are other
    /// shards and start afresh.
    pub fn forget(&mut self, shard: &str) {
        if self.open(shard).is_none() {
            self.shards.remove(shard);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::FilterCriteria;
    use crate::mapping::{Faults, MAX_STATE_BYTES};
    use crate::shards::ShardStart;
    use aws_lambda_events::event::streams::{KinesisBatchItemFailure, KinesisEventResponse};
    use kinesis_codec::on_failure::OnFailure;
    use kinesis_codec::window::{WindowEvent, WindowResponse};
    use std::cell::{Cell, RefCell};
    use std::collections::{BTreeSet, HashMap};

    const SHARD_A: &str = "shardId-000000000000";
    const SHARD_B: &str = "shardId-000000000001";
    const STREAM: &str = "arn:aws:kinesis:us-east-1:123456789012:stream/s";
    const MINUTE: i64 = 60_000;
    /// An epoch-aligned minute: 2025-11-24T16:00:00Z.
    const T0: i64 = 1_764_000_000_000;

    fn record(shard: &str, seq: u32, arrival_ms: i64) -> StreamRecord {
        StreamRecord {
            shard_id: shard.into(),
            sequence_number: format!("{seq:04}"),
            partition_key: "k".into(),
            data: vec![seq as u8],
            arrival_ms,
        }
    }

    fn settings() -> Settings {
        Settings {
            batch_size: 100,
            batching_window: Duration::ZERO,
            bisect_on_error: false,
            max_retries: Some(3),
            max_record_age: None,
            report_item_failures: true,
            on_failure: None,
            filter: FilterCriteria::default(),
            start: ShardStart::TrimHorizon,
            tumbling_window: Some(Duration::from_secs(60)),
            faults: Faults::default(),
        }
    }

    fn context() -> Context<'static> {
        Context {
            function_arn: "arn:aws:lambda:us-east-1:123456789012:function:f",
            stream_arn: STREAM,
            now_ms: &|| T0,
            retry_pause: Duration::ZERO,
        }
    }

    /// What one invocation got.
    #[derive(Debug, Clone, PartialEq)]
    struct Seen {
        shard: String,
        start_ms: i64,
        end_ms: i64,
        state: HashMap<String, String>,
        records: Vec<u8>,
        is_final: bool,
        terminated_early: bool,
    }

    /// A window function that counts its records into `state["n"]` (and lists them in
    /// `state["seen"]`), and records every event it got. It fails (a function error) when a
    /// record is in `errors` (once each), names a record in `failures` as failed (once
    /// each), fails its first `final_errors` final invocations, and pads the state past
    /// 1 MB when a record is in `huge`.
    #[derive(Default)]
    struct Counter {
        seen: RefCell<Vec<Seen>>,
        errors: RefCell<Vec<u8>>,
        failures: RefCell<Vec<u8>>,
        final_errors: Cell<usize>,
        huge: Vec<u8>,
    }

    impl Counter {
        fn seen(&self) -> Vec<Seen> {
            self.seen.borrow().clone()
        }
    }

    impl Function for Counter {
        async fn invoke(&self, _: &[StreamRecord]) -> Result<KinesisEventResponse, String> {
            panic!("a window mapping invokes with windows only")
        }

        async fn invoke_window(
            &self,
            window: &WindowEvent,
            records: &[StreamRecord],
        ) -> Result<WindowResponse, String> {
            assert!(window.event.records.is_empty(), "records come separately");
            assert_eq!(window.event_source_arn, STREAM);
            for r in records {
                let (start, end) = window_bounds(r.arrival_ms, Duration::from_secs(60));
                assert!(
                    (start, end) <= (window.start_ms, window.end_ms),
                    "record {} arrived after its window",
                    r.data[0]
                );
            }
            self.seen.borrow_mut().push(Seen {
                shard: window.shard_id.clone(),
                start_ms: window.start_ms,
                end_ms: window.end_ms,
                state: window.state.clone(),
                records: records.iter().map(|r| r.data[0]).collect(),
                is_final: window.is_final,
                terminated_early: window.terminated_early,
            });
            if window.is_final {
                assert!(records.is_empty());
                if self.final_errors.get() > 0 {
                    self.final_errors.set(self.final_errors.get() - 1);
                    return Err("the aggregate table is down".into());
                }
                return Ok(WindowResponse::default());
            }
            let mut errors = self.errors.borrow_mut();
            if let Some(i) = errors
                .iter()
                .position(|e| records.iter().any(|r| r.data[0] == *e))
            {
                errors.remove(i);
                return Err("boom".into());
            }
            let mut state = window.state.clone();
            let mut response = WindowResponse::default();
            for r in records {
                let mut failures = self.failures.borrow_mut();
                if let Some(i) = failures.iter().position(|f| *f == r.data[0]) {
                    failures.remove(i);
                    let mut failure = KinesisBatchItemFailure::default();
                    failure.item_identifier = Some(r.sequence_number.clone());
                    response.batch_item_failures.push(failure);
                    break;
                }
                let n: u32 = state.get("n").map_or(0, |n| n.parse().unwrap());
                state.insert("n".into(), (n + 1).to_string());
                let seen = state.entry("seen".into()).or_default();
                seen.push_str(&format!("{},", r.data[0]));
                if self.huge.contains(&r.data[0]) {
                    state.insert("pad".into(), "x".repeat(MAX_STATE_BYTES));
                }
            }
            response.state = state;
            Ok(response)
        }
    }

    /// No destination is configured in these tests.
    struct Nowhere;

    impl Destination for Nowhere {
        async fn send(&self, _: &OnFailure, _: &[StreamRecord]) -> Result<(), String> {
            panic!("nothing is skipped")
        }
    }

    fn state(n: u32, seen: &str) -> HashMap<String, String> {
        HashMap::from([("n".into(), n.to_string()), ("seen".into(), seen.into())])
    }

    /// Delivers `records` of `shard` as the runner does: split by window, then batches.
    async fn deliver(
        windows: &mut Windows,
        shard: &str,
        records: Vec<StreamRecord>,
        settings: &Settings,
        function: &Counter,
        counts: &mut Counts,
    ) -> Result<(), DeliveryFailed> {
        for run in windows.split(shard, records) {
            for batch in crate::runner::invocation_batches(run, settings.batch_size) {
                windows
                    .deliver(
                        shard,
                        batch,
                        settings,
                        function,
                        &Nowhere,
                        &context(),
                        counts,
                    )
                    .await?;
            }
        }
        Ok(())
    }

    #[test]
    fn windows_are_epoch_aligned_by_arrival_time() {
        let minute = Duration::from_secs(60);
        assert_eq!(window_bounds(T0, minute), (T0, T0 + MINUTE));
        assert_eq!(window_bounds(T0 + MINUTE - 1, minute), (T0, T0 + MINUTE));
        assert_eq!(
            window_bounds(T0 + MINUTE, minute),
            (T0 + MINUTE, T0 + 2 * MINUTE)
        );
        let fifteen = Duration::from_secs(900);
        assert_eq!(
            window_bounds(T0 + 7 * MINUTE, fifteen),
            (T0, T0 + 15 * MINUTE)
        );
    }

    #[test]
    fn a_run_never_crosses_a_window() {
        let windows = Windows::new(Duration::from_secs(60));
        let records = vec![
            record(SHARD_A, 0, T0 + 10),
            record(SHARD_A, 1, T0 + MINUTE - 1),
            record(SHARD_A, 2, T0 + MINUTE),
            record(SHARD_A, 3, T0 + 3 * MINUTE + 5),
            record(SHARD_A, 4, T0 + 3 * MINUTE + 6),
        ];
        let runs: Vec<Vec<u8>> = windows
            .split(SHARD_A, records)
            .iter()
            .map(|run| run.iter().map(|r| r.data[0]).collect())
            .collect();
        assert_eq!(runs, [vec![0, 1], vec![2], vec![3, 4]]);
    }

    #[tokio::test]
    async fn state_is_carried_within_a_shards_window_and_the_next_window_closes_it() {
        let function = Counter::default();
        let mut windows = Windows::new(Duration::from_secs(60));
        let mut counts = Counts::default();
        let mut small = settings();
        small.batch_size = 2;
        let records = (0..5)
            .map(|i| record(SHARD_A, i, T0 + i64::from(i)))
            .chain([record(SHARD_A, 5, T0 + MINUTE + 1)])
            .collect();
        deliver(
            &mut windows,
            SHARD_A,
            records,
            &small,
            &function,
            &mut counts,
        )
        .await
        .unwrap();
        let seen = function.seen();
        let batches: Vec<(&[u8], bool)> = seen
            .iter()
            .map(|s| (s.records.as_slice(), s.is_final))
            .collect();
        assert_eq!(
            batches,
            [
                (&[0, 1][..], false),
                (&[2, 3][..], false),
                (&[4][..], false),
                (&[][..], true),
                (&[5][..], false)
            ]
        );
        assert_eq!(seen[0].state, HashMap::new(), "a window starts empty");
        assert_eq!(seen[1].state, state(2, "0,1,"));
        assert_eq!(seen[2].state, state(4, "0,1,2,3,"));
        let last = &seen[3];
        assert_eq!(last.state, state(5, "0,1,2,3,4,"), "the final state");
        assert_eq!((last.start_ms, last.end_ms), (T0, T0 + MINUTE));
        assert!(!last.terminated_early);
        assert_eq!(
            seen[4].state,
            HashMap::new(),
            "the next window starts empty"
        );
        assert_eq!(seen[4].start_ms, T0 + MINUTE);
        assert_eq!(counts.window_finals, 1);
        assert_eq!(counts.invocations, 5);
        assert_eq!(windows.open(SHARD_A).unwrap().state, state(1, "5,"));
    }

    #[tokio::test]
    async fn shards_keep_their_own_state_and_close_on_their_own() {
        let function = Counter::default();
        let mut windows = Windows::new(Duration::from_secs(60));
        let mut counts = Counts::default();
        let s = settings();
        for (shard, seq) in [(SHARD_A, 0), (SHARD_B, 10), (SHARD_A, 1), (SHARD_B, 11)] {
            let records = vec![record(shard, seq, T0 + i64::from(seq))];
            deliver(&mut windows, shard, records, &s, &function, &mut counts)
                .await
                .unwrap();
        }
        let seen = function.seen();
        assert_eq!(seen[2].shard, SHARD_A);
        assert_eq!(seen[2].state, state(1, "0,"));
        assert_eq!(seen[3].shard, SHARD_B);
        assert_eq!(seen[3].state, state(1, "10,"));
        // Shard A ends (or the run exits idle): only its window closes.
        assert!(windows
            .close(SHARD_A, &s, &function, &context(), &mut counts)
            .await
            .unwrap());
        windows.forget(SHARD_A);
        assert!(!windows
            .close(SHARD_A, &s, &function, &context(), &mut counts)
            .await
            .unwrap());
        let last = function.seen().pop().unwrap();
        assert!(last.is_final && last.records.is_empty());
        assert_eq!(
            (last.shard.as_str(), last.state),
            (SHARD_A, state(2, "0,1,"))
        );
        assert_eq!(windows.open_shards(), [SHARD_B]);
        assert_eq!(counts.window_finals, 1);
    }

    #[test]
    fn a_quiet_window_is_overdue_only_after_the_grace() {
        let mut windows = Windows::new(Duration::from_secs(60));
        windows.shards.insert(
            SHARD_A.into(),
            ShardWindow {
                open: Some(OpenWindow::holding(
                    SHARD_A,
                    T0 + 5,
                    Duration::from_secs(60),
                )),
                closed_until: None,
            },
        );
        assert!(windows.overdue(T0 + MINUTE + 2_000).is_empty());
        assert_eq!(windows.overdue(T0 + MINUTE + 2_001), [SHARD_A]);
    }

    #[test]
    fn windows_end_when_the_shard_ends_is_quiet_past_the_grace_or_the_run_exits() {
        let mut windows = Windows::new(Duration::from_secs(60));
        for shard in [SHARD_A, SHARD_B, "shardId-000000000002"] {
            windows.shards.insert(
                shard.into(),
                ShardWindow {
                    open: Some(OpenWindow::holding(shard, T0, Duration::from_secs(60))),
                    closed_until: None,
                },
            );
        }
        let open = vec![SHARD_A.to_owned(), SHARD_B.to_owned()];
        let quiet = BTreeSet::from([SHARD_A.to_owned()]);
        let nothing_buffered = |_: &str| false;
        let ending = |now, idle, buffered: &dyn Fn(&str) -> bool| {
            crate::runner::windows_ending(&windows, now, idle, buffered, &open, &quiet)
        };
        // Shard 2 has ended: its window closes at once.
        assert_eq!(
            ending(T0 + 10, false, &nothing_buffered),
            ["shardId-000000000002"]
        );
        // Shard A is quiet and its window ended more than 2 s ago; B still reads records.
        assert_eq!(
            ending(T0 + MINUTE + 2_001, false, &nothing_buffered),
            [SHARD_A, "shardId-000000000002"]
        );
        // Exiting idle closes every window, but never one with records still buffered.
        let a_buffered = |shard: &str| shard == SHARD_A;
        assert_eq!(
            ending(T0 + 10, true, &a_buffered),
            [SHARD_B, "shardId-000000000002"]
        );
    }

    #[tokio::test]
    async fn a_record_for_a_closed_window_joins_the_next_one() {
        let function = Counter::default();
        let mut windows = Windows::new(Duration::from_secs(60));
        let mut counts = Counts::default();
        let s = settings();
        let first = vec![record(SHARD_A, 0, T0 + MINUTE + 5)];
        deliver(&mut windows, SHARD_A, first, &s, &function, &mut counts)
            .await
            .unwrap();
        windows
            .close(SHARD_A, &s, &function, &context(), &mut counts)
            .await
            .unwrap();
        let late = vec![record(SHARD_A, 1, T0 + MINUTE + 6)];
        assert_eq!(windows.split(SHARD_A, late.clone()).len(), 1);
        deliver(&mut windows, SHARD_A, late, &s, &function, &mut counts)
            .await
            .unwrap();
        assert_eq!(windows.open(SHARD_A).unwrap().start_ms, T0 + 2 * MINUTE);
    }

    #[tokio::test]
    async fn a_function_error_retries_with_the_state_from_before() {
        let function = Counter {
            errors: RefCell::new(vec![3]),
            ..Counter::default()
        };
        let mut windows = Windows::new(Duration::from_secs(60));
        let mut counts = Counts::default();
        let mut s = settings();
        s.batch_size = 2;
        let records = (0..4)
            .map(|i| record(SHARD_A, i, T0 + i64::from(i)))
            .collect();
        deliver(&mut windows, SHARD_A, records, &s, &function, &mut counts)
            .await
            .unwrap();
        let seen = function.seen();
        assert_eq!(seen.len(), 3);
        assert_eq!(seen[1].records, [2, 3]);
        assert_eq!(seen[2].records, [2, 3], "the batch is retried");
        assert_eq!(seen[2].state, seen[1].state, "with the state it had before");
        assert_eq!(seen[2].state, state(2, "0,1,"));
        assert_eq!(counts.function_errors, 1);
        assert_eq!(windows.open(SHARD_A).unwrap().state, state(4, "0,1,2,3,"));
    }

    #[tokio::test]
    async fn a_partial_failure_retries_from_the_record_with_the_state_returned() {
        let function = Counter {
            failures: RefCell::new(vec![2]),
            ..Counter::default()
        };
        let mut windows = Windows::new(Duration::from_secs(60));
        let mut counts = Counts::default();
        let records = (0..4)
            .map(|i| record(SHARD_A, i, T0 + i64::from(i)))
            .collect();
        deliver(
            &mut windows,
            SHARD_A,
            records,
            &settings(),
            &function,
            &mut counts,
        )
        .await
        .unwrap();
        let seen = function.seen();
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[1].records, [2, 3], "retried from the named record");
        assert_eq!(seen[1].state, state(2, "0,1,"), "with the state returned");
        assert_eq!(counts.partial_failures, 1);
        assert_eq!(windows.open(SHARD_A).unwrap().state, state(4, "0,1,2,3,"));
    }

    #[tokio::test]
    async fn a_state_over_1_mb_terminates_the_window_early_then_starts_afresh() {
        let function = Counter {
            huge: vec![1],
            ..Counter::default()
        };
        let mut windows = Windows::new(Duration::from_secs(60));
        let mut counts = Counts::default();
        let mut s = settings();
        s.batch_size = 2;
        let records = (0..4)
            .map(|i| record(SHARD_A, i, T0 + i64::from(i)))
            .collect();
        deliver(&mut windows, SHARD_A, records, &s, &function, &mut counts)
            .await
            .unwrap();
        let seen = function.seen();
        assert_eq!(seen.len(), 3);
        let early = &seen[1];
        assert!(early.is_final && early.terminated_early && early.records.is_empty());
        assert_eq!(early.state["n"], "2", "the big state goes with it");
        assert!(early.state["pad"].len() >= MAX_STATE_BYTES);
        assert_eq!((early.start_ms, early.end_ms), (T0, T0 + MINUTE));
        assert_eq!(seen[2].records, [2, 3]);
        assert_eq!(seen[2].state, HashMap::new(), "the window goes on afresh");
        assert_eq!((seen[2].start_ms, seen[2].terminated_early), (T0, false));
        assert_eq!(counts.windows_terminated_early, 1);
        assert_eq!(counts.window_finals, 0);
        assert_eq!(windows.open(SHARD_A).unwrap().state, state(2, "2,3,"));
    }

    #[tokio::test]
    async fn a_forced_error_runs_the_function_then_retries_with_the_state_from_before() {
        let function = Counter::default();
        let mut windows = Windows::new(Duration::from_secs(60));
        let mut counts = Counts::default();
        let mut s = settings();
        s.batch_size = 2;
        s.faults.fail_invocations = BTreeSet::from([2]);
        let records = (0..4)
            .map(|i| record(SHARD_A, i, T0 + i64::from(i)))
            .collect();
        deliver(&mut windows, SHARD_A, records, &s, &function, &mut counts)
            .await
            .unwrap();
        let seen = function.seen();
        assert_eq!(seen.len(), 3);
        assert_eq!(seen[1].records, [2, 3], "invocation 2 ran");
        assert_eq!(seen[2].records, [2, 3], "and was retried");
        assert_eq!(
            seen[2].state,
            state(2, "0,1,"),
            "with the state it had before"
        );
        assert_eq!((counts.forced_errors, counts.function_errors), (1, 1));
        assert_eq!(windows.open(SHARD_A).unwrap().state, state(4, "0,1,2,3,"));
    }

    #[tokio::test]
    async fn a_redelivery_repeats_the_records_with_the_state_returned() {
        let function = Counter::default();
        let mut windows = Windows::new(Duration::from_secs(60));
        let mut counts = Counts::default();
        let mut s = settings();
        s.batch_size = 2;
        s.faults.redeliver_invocations = BTreeSet::from([1]);
        let records = (0..4)
            .map(|i| record(SHARD_A, i, T0 + i64::from(i)))
            .collect();
        deliver(&mut windows, SHARD_A, records, &s, &function, &mut counts)
            .await
            .unwrap();
        let seen = function.seen();
        let batches: Vec<&[u8]> = seen.iter().map(|s| s.records.as_slice()).collect();
        assert_eq!(batches, [&[0, 1][..], &[0, 1][..], &[2, 3][..]]);
        assert_eq!(
            seen[1].state,
            state(2, "0,1,"),
            "with the state it returned"
        );
        assert_eq!((counts.redeliveries, counts.invocations), (1, 3));
    }

    #[tokio::test]
    async fn a_failing_final_invocation_is_retried_until_it_succeeds() {
        let function = Counter {
            final_errors: Cell::new(3),
            ..Counter::default()
        };
        let mut windows = Windows::new(Duration::from_secs(60));
        let mut counts = Counts::default();
        let s = settings();
        let records = vec![record(SHARD_A, 0, T0)];
        deliver(&mut windows, SHARD_A, records, &s, &function, &mut counts)
            .await
            .unwrap();
        windows
            .close(SHARD_A, &s, &function, &context(), &mut counts)
            .await
            .unwrap();
        let finals: Vec<Seen> = function.seen().into_iter().filter(|s| s.is_final).collect();
        assert_eq!(finals.len(), 4);
        assert!(finals.iter().all(|f| f.state == state(1, "0,")));
        assert_eq!((counts.function_errors, counts.window_finals), (3, 1));
        assert!(windows.open_shards().is_empty());
    }

    #[tokio::test]
    async fn a_final_invocation_failing_10_times_stops_naming_the_shard_and_window() {
        let function = Counter {
            final_errors: Cell::new(usize::MAX),
            ..Counter::default()
        };
        let mut windows = Windows::new(Duration::from_secs(60));
        let mut counts = Counts::default();
        let s = settings();
        let records = vec![record(SHARD_A, 0, T0)];
        deliver(&mut windows, SHARD_A, records, &s, &function, &mut counts)
            .await
            .unwrap();
        let err = windows
            .close(SHARD_A, &s, &function, &context(), &mut counts)
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "the final invocation of tumbling window [2025-11-24T16:00:00.000Z, \
             2025-11-24T16:01:00.000Z) of shard shardId-000000000000 failed 10 times (last: \
             the aggregate table is down); Lambda would hold the shard until it succeeds, so \
             local-runner stops"
        );
        assert_eq!(function.seen().iter().filter(|s| s.is_final).count(), 10);
        // A forced failure of a final counts the same way, and is retried.
        let function = Counter::default();
        let mut forced = settings();
        let mut counts = Counts::default();
        forced.faults.fail_invocations = BTreeSet::from([2]);
        deliver(
            &mut windows,
            SHARD_B,
            vec![record(SHARD_B, 0, T0)],
            &forced,
            &function,
            &mut counts,
        )
        .await
        .unwrap();
        windows
            .close(SHARD_B, &forced, &function, &context(), &mut counts)
            .await
            .unwrap();
        assert_eq!(function.seen().iter().filter(|s| s.is_final).count(), 2);
        assert_eq!((counts.forced_errors, counts.window_finals), (1, 1));
    }
}
