//! How fast a backlog drains per shard: what the function gets through when a shard's
//! batches are all full and back to back (after an outage, a deploy, a replay), with the
//! processor's adaptive write window.
//!
//! ```text
//! calls        = ⌈records / 25⌉                        (BatchWriteItem calls a batch)
//! window cap   = min(64, memory MB / 8), at least 8
//! write rounds = rounds of a window from 8 that doubles each round (one more call per
//!                success) up to its cap, until the calls are made
//! batch ms     = 5 + records × 0.0039 × max(1, 1,769 / memory) + write rounds × 15
//!                (+ the archive's ms with archive_events)
//! drain        = lanes per shard × records / batch ms    (events a second, per shard)
//! throttled    = the same with the write rounds × 1.64: 30 % of calls throttled
//! at most        the lowest of the table, index and archive stages / shards
//! ```
//!
//! The window's growth and the throttled factor are measured by the processor's latency
//! benchmark (docs/performance.md, "Invocation against services that take time", `cargo
//! bench -j2 -p processor --bench latency`, 2-core development machine): 10,000 records
//! against 10 ms calls, 400 calls, write in 117 ms (160.8 ms wall less 43.4 ms of CPU), about
//! 11 round trips of a window growing 8, 16, 32, 64, where a fixed 8 waits 500 ms; with 30 %
//! of the calls throttled the writes take 192 ms, 1.64 × as long, every record stored. The
//! model counts the window's 9 rounds for 400 calls. The round trip is
//! the cost model's 15 ms estimate (crates/synth/src/cost/workload.rs), as in the Lambda
//! stage. These are the figures of the processor on the system allocator; on mimalloc (the
//! Lambda's allocator since) the benchmark measures 110.9 ms wall with 9.3 ms of CPU and a
//! throttled factor of 1.71, and the invocation's CPU per record is lower (docs/performance.md);
//! the model does not use those yet.

use serde_json::{json, Value};

use super::{lambda, stream};
use crate::config::Config;
use crate::cost::services::aggregates::Windows;
use crate::cost::workload::{INVOCATION_OVERHEAD_MS, ITEMS_PER_BATCH_WRITE, WRITE_ROUND_TRIP_MS};

/// The window's start: the processor's `WRITE_CONCURRENCY` default.
pub const WINDOW_START: f64 = 8.0;
/// The window's cap: `WRITE_CONCURRENCY`'s own limit (processor::concurrency::MAX_IN_FLIGHT).
pub const WINDOW_MAX: f64 = 64.0;
/// Function memory per call in flight (processor::concurrency::MB_PER_REQUEST).
pub const MB_PER_CALL: f64 = 8.0;
/// The share of write calls throttled in the throttled figure.
pub const THROTTLED_SHARE: f64 = 0.3;
/// How much longer the writes take with that share throttled: measured by the latency
/// benchmark, (throttled wall − CPU) / (unthrottled wall − CPU).
pub const THROTTLED_WRITE_FACTOR: f64 = 1.64;

/// The window's cap on a function of `memory_mb`.
pub fn window_cap(memory_mb: u32) -> f64 {
    (f64::from(memory_mb) / MB_PER_CALL)
        .floor()
        .clamp(WINDOW_START, WINDOW_MAX)
}

/// Round trips to make `calls` calls with a window that starts at [`WINDOW_START`] and
/// doubles each round up to `cap`.
pub fn write_rounds(calls: f64, cap: f64) -> f64 {
    let mut rounds = 0.0;
    let mut made = 0.0;
    let mut window = WINDOW_START.min(cap);
    while made < calls {
        made += window;
        window = (window * 2.0).min(cap);
        rounds += 1.0;
    }
    rounds
}

/// A shard's backlog, drained.
#[derive(Debug, Clone, PartialEq)]
pub struct Backlog {
    /// Events a second one shard's backlog drains at, its writes unthrottled.
    pub events_per_second: f64,
    /// The same with [`THROTTLED_SHARE`] of the write calls throttled.
    pub throttled_events_per_second: f64,
    /// Events a second arriving per shard at the stack's ceiling.
    pub arriving_per_shard: f64,
    /// The figures it was computed from, by name.
    pub inputs: Vec<(&'static str, Value)>,
}

impl Backlog {
    /// Minutes a backlog of `seconds` of arrivals at the ceiling takes to drain while they
    /// keep arriving (`None`: the function has no headroom over the ceiling).
    pub fn drain_minutes(&self, seconds: f64, throttled: bool) -> Option<f64> {
        let drain = if throttled {
            self.throttled_events_per_second
        } else {
            self.events_per_second
        };
        let headroom = drain - self.arriving_per_shard;
        (headroom > drain * 1e-9).then(|| seconds * self.arriving_per_shard / headroom / 60.0)
    }
}

/// One shard's backlog on `config` with events of `event_bytes`, `ceiling` events a second
/// arriving over the whole stream, and the writes after the function sustaining at most
/// `downstream` events a second over all shards (the lowest of the table, its indexes and
/// the archive: a drain faster than that is throttled down to it, and the window follows).
pub fn assess(config: &Config, event_bytes: f64, ceiling: f64, downstream: f64) -> Backlog {
    let shards = f64::from(stream::shards(config));
    let lanes = f64::from(lambda::concurrency(config)) / shards;
    let records = lambda::full_batch(config, event_bytes);
    let calls = (records / ITEMS_PER_BATCH_WRITE).ceil();
    let cap = window_cap(config.lambda_memory_size);
    let rounds = write_rounds(calls, cap);
    let cpu =
        records * lambda::BENCH_MS_PER_RECORD * lambda::cpu_slowdown(config.lambda_memory_size);
    let archive = lambda::archive_ms(config, records);
    let writes = rounds * WRITE_ROUND_TRIP_MS;
    let batch_ms = INVOCATION_OVERHEAD_MS + cpu + writes + archive;
    let throttled_ms = batch_ms + writes * (THROTTLED_WRITE_FACTOR - 1.0);
    let windows = Windows::of(config, stream::shards(config));
    let share = 1.0 - lambda::window_end_share(windows.as_ref());
    let held = downstream / shards;
    let rate = |ms: f64| (lanes * records / (ms / 1000.0) * share).min(held);
    Backlog {
        events_per_second: rate(batch_ms),
        throttled_events_per_second: rate(throttled_ms),
        arriving_per_shard: ceiling / shards,
        inputs: vec![
            ("lanes_per_shard", json!(lanes)),
            ("records_per_batch", json!(records)),
            ("write_calls_per_batch", json!(calls)),
            ("window_start", json!(WINDOW_START)),
            ("window_cap", json!(cap)),
            ("write_rounds", json!(rounds)),
            ("round_trip_ms", json!(WRITE_ROUND_TRIP_MS)),
            ("ms_per_batch", json!((batch_ms * 1000.0).round() / 1000.0)),
            (
                "ms_per_batch_throttled",
                json!((throttled_ms * 1000.0).round() / 1000.0),
            ),
            ("throttled_share", json!(THROTTLED_SHARE)),
            ("throttled_write_factor", json!(THROTTLED_WRITE_FACTOR)),
            ("downstream_events_per_second_per_shard", json!(held)),
        ],
    }
}

/// The report's line on it.
pub fn describe(backlog: &Backlog) -> String {
    let number = crate::cost::render::number;
    let hour = |throttled| {
        backlog.drain_minutes(3600.0, throttled).map_or_else(
            || "never, while events keep arriving at the ceiling".to_owned(),
            |m| format!("in {} min", number(m.round())),
        )
    };
    let held = backlog
        .inputs
        .iter()
        .find(|(n, _)| *n == "downstream_events_per_second_per_shard")
        .and_then(|(_, v)| v.as_f64())
        .is_some_and(|h| backlog.events_per_second >= h);
    let held = if held {
        ", held there by the writes after the function (the lowest of the table, index and \
         archive stages)"
    } else {
        ""
    };
    format!(
        "A backlog drains at {} events/s per shard{held} ({} with {} % of write calls throttled; \
         adaptive write window from {} to {} calls in flight, measured by `cargo bench -p \
         processor --bench latency`); at the ceiling's {} events/s per shard, an hour's \
         backlog drains {} ({} throttled)",
        number(backlog.events_per_second),
        number(backlog.throttled_events_per_second),
        number(THROTTLED_SHARE * 100.0),
        number(WINDOW_START),
        number(
            backlog
                .inputs
                .iter()
                .find(|(n, _)| *n == "window_cap")
                .and_then(|(_, v)| v.as_f64())
                .unwrap_or(WINDOW_MAX)
        ),
        number(backlog.arriving_per_shard),
        hour(false),
        hour(true),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_doubles_to_its_cap() {
        assert_eq!(write_rounds(4.0, 64.0), 1.0);
        assert_eq!(write_rounds(20.0, 64.0), 2.0);
        // 10,000 records: 400 calls in 8 + 16 + 32 + 64 × 6 (7 would do at 64 from the start).
        assert_eq!(write_rounds(400.0, 64.0), 9.0);
        assert_eq!(write_rounds(400.0, 8.0), 50.0);
        assert_eq!(window_cap(128), 16.0);
        assert_eq!(window_cap(256), 32.0);
        assert_eq!(window_cap(1024), 64.0);
        assert_eq!(window_cap(64), 8.0);
    }

    #[test]
    fn dev_drains_a_backlog_with_headroom() {
        let config = Config {
            aggregate_window_seconds: 0,
            ..Config::default()
        };
        let backlog = assess(&config, 500.0, 1000.0, 1e9);
        // 100 records, 4 calls in one round: 5 + 100 × 0.0039 × 1769/256 + 15 ms.
        let ms = 5.0 + 100.0 * 0.0039 * (1769.0 / 256.0) + 15.0;
        assert!((backlog.events_per_second - 100.0 / (ms / 1000.0)).abs() < 1e-6);
        let throttled = ms + 15.0 * (THROTTLED_WRITE_FACTOR - 1.0);
        assert!((backlog.throttled_events_per_second - 100.0 / (throttled / 1000.0)).abs() < 1e-6);
        let minutes = backlog.drain_minutes(3600.0, false).unwrap();
        let expected = 3600.0 * 1000.0 / (backlog.events_per_second - 1000.0) / 60.0;
        assert!((minutes - expected).abs() < 1e-9);
        let none = Backlog {
            arriving_per_shard: backlog.events_per_second,
            ..backlog
        };
        assert_eq!(none.drain_minutes(3600.0, false), None);
        // A table that takes 2,000 events/s over the stream holds the drain there.
        let held = assess(&config, 500.0, 1000.0, 2000.0);
        assert_eq!(held.events_per_second, 2000.0);
    }
}
