//! What tumbling windows add (`aggregate_window_seconds` not 0), for `synth cost` and
//! `synth capacity`: one more invocation per shard at each window's end, and the aggregate
//! table's items, written then and read back by `query aggregates` a day at a time.
//!
//! ```text
//! window ends a day = shards × 86,400 / window seconds × active share
//! items a window    = window seconds / 60 + 1      (per shard: the event-time minutes touched)
//! item              ≤ 6 KB: 6 write request units
//! a day's read      = window ends a day × items a window × 6 KB, in 1 MB Query pages
//! active share      = 1 − e^(−events/s a shard × window seconds)
//! ```
//!
//! A window that receives no record has no end invocation and writes nothing: the active
//! share is the chance that a shard's window receives at least one (1 under any real load;
//! 0 for an idle stack). `synth capacity`, which is about sustained load, counts every
//! window.
//!
//! An item is one event-time minute of one shard's window (`contract::aggregate`). A window
//! of W seconds gathers W / 60 minutes of arrivals, and events' own timestamps run behind
//! their arrival, so it counts about one minute more (an estimate on the high side); events
//! arriving late add more, and a window whose state outgrew 1 MB is written in parts. Its size is bounded, not proportional to traffic: the distinct users' sketch
//! (HyperLogLog, 4,096 one-byte registers, base64: 5.5 KB once dense) and at most 100
//! products; 6 KB is the bound the estimate uses, so the figures are an upper bound for a
//! quiet stream.

use super::super::workload::{
    Workload, BYTES_PER_GB, INVOCATION_OVERHEAD_MS, SECONDS_PER_MONTH, WRITE_ROUND_TRIP_MS,
};
use super::super::{LineItem, Prices};
use crate::config::Config;
use crate::cost::render::number;

/// Seconds in a day.
pub const SECONDS_PER_DAY: f64 = 86_400.0;
/// A window's end invocation carries no records, only the window's state: the overhead and
/// one BatchWriteItem round trip for the window's few items, in milliseconds (an estimate,
/// as the cost model's other durations).
pub const WINDOW_END_MS: f64 = INVOCATION_OVERHEAD_MS + WRITE_ROUND_TRIP_MS;
/// The largest aggregate item the estimate counts: a dense sketch (5.5 KB) and products.
pub const ITEM_BYTES: f64 = 6.0 * 1024.0;
/// DynamoDB's write unit: 1 KB.
pub const WRITE_UNIT_BYTES: f64 = 1024.0;
/// DynamoDB's read unit: 4 KB (a Query sums its items' sizes, then rounds up).
pub const READ_UNIT_BYTES: f64 = 4096.0;
/// A Query returns at most 1 MB of items a page.
pub const QUERY_PAGE_BYTES: f64 = 1_048_576.0;
/// Overhead DynamoDB bills per stored item (as the cost model's event items).
pub const ITEM_STORAGE_OVERHEAD_BYTES: f64 = 100.0;

/// The windows of one configured stack.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Windows {
    /// `aggregate_window_seconds`.
    pub seconds: u32,
    /// The stream's shards (each has its own window and state).
    pub shards: u32,
    /// The share of windows that receive records (and so end with an invocation).
    pub active: f64,
}

impl Windows {
    /// The stack's windows; `None` when `aggregate_window_seconds` is 0.
    pub fn of(config: &Config, shards: u32) -> Option<Windows> {
        config.aggregate_window().map(|seconds| Windows {
            seconds,
            shards: shards.max(1),
            active: 1.0,
        })
    }

    /// The windows of a workload: the share of them that see records at its rate of
    /// events handed to the function (after the mapping's filters).
    pub fn of_workload(config: &Config, w: &Workload) -> Option<Windows> {
        let rate = w.load.events_per_second * w.filter_share;
        Windows::of(config, w.shards).map(|windows| windows.at_rate(rate))
    }

    /// These windows at `events_per_second` over all shards.
    pub fn at_rate(self, events_per_second: f64) -> Windows {
        let per_shard = events_per_second / f64::from(self.shards);
        Windows {
            active: 1.0 - (-per_shard * f64::from(self.seconds)).exp(),
            ..self
        }
    }

    /// Window ends (final invocations) a day, over all shards.
    pub fn ends_per_day(&self) -> f64 {
        f64::from(self.shards) * SECONDS_PER_DAY / f64::from(self.seconds) * self.active
    }

    /// Window ends in the 730-hour month.
    pub fn ends_per_month(&self) -> f64 {
        f64::from(self.shards) * SECONDS_PER_MONTH / f64::from(self.seconds) * self.active
    }

    /// Items one shard's window writes: the event-time minutes it touches.
    pub fn items_per_window(&self) -> f64 {
        f64::from(self.seconds) / 60.0 + 1.0
    }

    /// Items a day, over all shards.
    pub fn items_per_day(&self) -> f64 {
        self.ends_per_day() * self.items_per_window()
    }

    /// Write units of one item.
    pub fn units_per_item(&self) -> f64 {
        (ITEM_BYTES / WRITE_UNIT_BYTES).ceil()
    }

    /// Query pages of 1 MB to read one day (one partition) back.
    pub fn pages_per_day(&self) -> f64 {
        (self.items_per_day() * ITEM_BYTES / QUERY_PAGE_BYTES).ceil()
    }

    /// Read units of one day read back, strongly consistent (eventually consistent: half).
    pub fn read_units_per_day(&self) -> f64 {
        (self.items_per_day() * ITEM_BYTES / READ_UNIT_BYTES).ceil()
    }

    /// The sentence on reading a day back, for the cost's and the capacity's assumptions.
    pub fn day_read(&self, prices: &Prices) -> String {
        let eventual = self.read_units_per_day() / 2.0;
        format!(
            "Reading a day of aggregates back (query aggregates, one partition, day): {} \
             window ends × {} items = {} items of up to 6 KB, {} MB: {} Query pages of 1 MB \
             and {} read request units strongly consistent ({} eventually consistent, ${:.4} \
             on demand); not in the monthly total",
            number(self.ends_per_day()),
            number(self.items_per_window()),
            number(self.items_per_day()),
            number((self.items_per_day() * ITEM_BYTES / QUERY_PAGE_BYTES * 10.0).round() / 10.0),
            number(self.pages_per_day()),
            number(self.read_units_per_day()),
            number(eventual),
            eventual / 1e6 * prices.dynamodb_million_read_request_units,
        )
    }
}

/// Lambda's window-end line items: requests and compute at the function's memory.
pub fn lambda_items(
    windows: &Windows,
    w: &Workload,
    config: &Config,
    (arch, price): (&str, f64),
    prices: &Prices,
) -> Vec<LineItem> {
    let invocations = w.window_end_invocations;
    let memory_gb = f64::from(config.lambda_memory_size) / 1024.0;
    vec![
        LineItem::new(
            format!(
                "Requests, window ends ({} shard(s) × 86,400 / {} s a day)",
                windows.shards, windows.seconds
            ),
            invocations / 1e6,
            "million requests",
            prices.lambda_million_requests,
        ),
        LineItem::new(
            format!(
                "Compute, window ends ({arch}, {} MB, {WINDOW_END_MS} ms each)",
                config.lambda_memory_size
            ),
            invocations * WINDOW_END_MS / 1000.0 * memory_gb,
            "GB-second",
            price,
        ),
    ]
}

/// The assumption behind [`lambda_items`].
pub fn lambda_assumption(windows: &Windows) -> String {
    format!(
        "Tumbling windows (aggregate_window_seconds = {}): Lambda invokes the function once \
         more per shard at each window's end, with no records and the window's state: {} \
         shard(s) × 86,400 / {} = {} a day, each {WINDOW_END_MS} ms ({INVOCATION_OVERHEAD_MS} \
         ms overhead and one BatchWriteItem round trip of {WRITE_ROUND_TRIP_MS} ms for the \
         window's items) at the function's memory; the state carried in and out of every \
         invocation and the batch a window's end closes early are not priced",
        windows.seconds,
        windows.shards,
        windows.seconds,
        number(windows.ends_per_day()),
    )
}

/// The aggregate table's line items: writes, storage (kept as the event table's TTL keeps
/// items) and point-in-time recovery when on. `month_one` is the months of items stored
/// after the first month ([`super::dynamodb::retained`]), `stored` says which storage that
/// is, as the event table's storage line does.
pub fn dynamodb_items(
    windows: &Windows,
    config: &Config,
    (month_one, stored): (f64, &str),
    prices: &Prices,
) -> Vec<LineItem> {
    let items = windows.ends_per_month() * windows.items_per_window();
    let gb = items * (ITEM_BYTES + ITEM_STORAGE_OVERHEAD_BYTES) / BYTES_PER_GB * month_one;
    let mut lines = vec![
        LineItem::new(
            format!(
                "Aggregate table writes ({} items a shard and window, {} WRU each)",
                number(windows.items_per_window()),
                windows.units_per_item()
            ),
            items * windows.units_per_item() / 1e6,
            "million WRU",
            prices.dynamodb_million_write_request_units,
        ),
        LineItem::new(
            format!("Aggregate table storage {stored}"),
            gb,
            "GB-month",
            prices.dynamodb_storage_gb_month,
        ),
    ];
    if config.dynamodb_point_in_time_recovery_enabled {
        lines.push(LineItem::new(
            "Aggregate table point-in-time recovery".into(),
            gb,
            "GB-month",
            prices.dynamodb_pitr_gb_month,
        ));
    }
    lines
}

/// The assumption behind [`dynamodb_items`].
pub fn dynamodb_assumption(windows: &Windows) -> String {
    format!(
        "Aggregate table (on demand, Standard class): per shard and window {} / 60 + 1 = {} \
         items (the event-time minutes a window touches; late events add more), each up to \
         6 KB (a dense distinct-users sketch, 4,096 one-byte registers in base64, 5.5 KB, and \
         up to 100 products): {} write request units each; {} items a day; stored, with 100 \
         bytes of overhead, as long as the event table's TTL keeps items",
        windows.seconds,
        number(windows.items_per_window()),
        windows.units_per_item(),
        number(windows.items_per_day()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prod_reads_a_day_back_in_51_pages() {
        let prod = Config::from_preset("prod").unwrap();
        let windows = Windows::of(&prod, 3).unwrap();
        assert_eq!(windows.ends_per_day(), 3.0 * 1440.0);
        assert_eq!(windows.items_per_window(), 2.0);
        assert_eq!(windows.items_per_day(), 8640.0);
        assert_eq!(windows.units_per_item(), 6.0);
        // 8,640 × 6,144 bytes = 50.6 MiB.
        assert_eq!(windows.pages_per_day(), 51.0);
        assert_eq!(windows.read_units_per_day(), 12_960.0);
        let cheap = Config::from_preset("cost-optimized").unwrap();
        assert!(Windows::of(&cheap, 1).is_none());
    }

    #[test]
    fn longer_windows_end_less_often_and_touch_more_minutes() {
        let config = Config {
            aggregate_window_seconds: 300,
            ..Config::default()
        };
        let windows = Windows::of(&config, 2).unwrap();
        assert_eq!(windows.ends_per_day(), 576.0);
        assert_eq!(windows.items_per_window(), 6.0);
        assert_eq!(windows.items_per_day(), 3456.0);
        assert_eq!(windows.ends_per_month(), 2.0 * 2_628_000.0 / 300.0);
    }

    #[test]
    fn only_windows_that_receive_records_end_with_an_invocation() {
        let windows = Windows::of(&Config::default(), 1).unwrap();
        assert_eq!(windows.at_rate(0.0).ends_per_day(), 0.0);
        assert_eq!(windows.at_rate(100.0).ends_per_day(), 1440.0);
        // One event a minute on one shard: 1 − 1/e of the windows see one.
        let sparse = windows.at_rate(1.0 / 60.0);
        assert!((sparse.active - (1.0 - (-1.0f64).exp())).abs() < 1e-12);
    }
}
