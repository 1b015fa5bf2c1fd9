//! The event source mapping and the processor: how many events a second the function gets
//! through when every concurrent batch is full and the next one waits.
//!
//! ```text
//! concurrency = shards × lambda_parallelization_factor, at most the reserved concurrency
//! records     = lambda_batch_size, at most what fits Lambda's 6 MB payload
//! batch time  = overhead + records × CPU per record × (1,769 MB / memory, at least 1)
//!               + write waves × round trip
//! events/s    = concurrency × records / batch time
//!               × (1 − window end ms / window ms)       (with tumbling windows)
//! ```
//!
//! With tumbling windows (`aggregate_window_seconds`) each shard is invoked once more at
//! every window's end, with no records: the stage counts that time (the cost model's
//! 20 ms, `cost::services::aggregates::WINDOW_END_MS`) as taken from the shard's batches.
//!
//! The CPU per record is measured: a 10,000-record invocation with in-memory sinks takes
//! 39 ms on one core (docs/performance.md, `cargo bench -p processor --bench invocation`), so
//! 3.9 µs a record with one whole vCPU, which Lambda gives at 1,769 MB and proportionally
//! less below. The overhead and the round trip of a wave of concurrent BatchWriteItem calls
//! are the cost model's estimates (crates/synth/src/cost/workload.rs): the benchmarks do not
//! measure DynamoDB's latency.
//!
//! The batching window does not lower this: a backlog fills a batch at once, and Lambda
//! invokes as soon as a batch is full. Reading is not the limit either: a shard serves 2 MiB/s
//! to readers, twice what it takes in.

use serde_json::json;

use super::{stream, Stage};
use crate::config::Config;
use crate::cost::services::aggregates::{Windows, WINDOW_END_MS};
use crate::cost::workload::{
    INVOCATION_OVERHEAD_MS, ITEMS_PER_BATCH_WRITE, MAX_PAYLOAD_BYTES, RECORD_ENVELOPE_BYTES,
    WRITES_IN_FLIGHT, WRITE_ROUND_TRIP_MS,
};

/// The stage's name, and the `bottleneck` when it sets the ceiling.
pub const NAME: &str = "Lambda";

/// Milliseconds of one vCPU per record: 39 ms for the benchmark's 10,000-record invocation
/// (docs/performance.md, "10,000-record invocation, in-memory sinks").
pub const BENCH_MS_PER_RECORD: f64 = 39.0 / 10_000.0;

/// At this memory size a function has one whole vCPU; below it, that share of one.
pub const FULL_VCPU_MEMORY_MB: f64 = 1769.0;

/// Records in a full batch: the batch size, unless fewer fit Lambda's payload limit (each
/// record is its data in base64 plus the event's JSON around it).
pub fn full_batch(config: &Config, event_bytes: f64) -> f64 {
    let record = (event_bytes * 4.0 / 3.0).ceil() + RECORD_ENVELOPE_BYTES;
    let payload_cap = (MAX_PAYLOAD_BYTES / record).floor().max(1.0);
    f64::from(config.lambda_batch_size).min(payload_cap)
}

/// How much longer CPU work takes than on a whole vCPU: 1,769 MB / memory, at least 1.
pub fn cpu_slowdown(memory_mb: u32) -> f64 {
    (FULL_VCPU_MEMORY_MB / f64::from(memory_mb.max(1))).max(1.0)
}

/// Milliseconds for a batch of `records` valid records on a function of `memory_mb`.
pub fn batch_ms(records: f64, memory_mb: u32) -> f64 {
    let calls = (records / ITEMS_PER_BATCH_WRITE).ceil();
    let waves = (calls / WRITES_IN_FLIGHT).ceil();
    INVOCATION_OVERHEAD_MS
        + records * BENCH_MS_PER_RECORD * cpu_slowdown(memory_mb)
        + waves * WRITE_ROUND_TRIP_MS
}

/// With `archive_events`, the processor builds the batch's event JSON and gzips it: 10 µs a
/// record on one vCPU, measured on the recipe's events (9 to 14 µs for batches of 100 to
/// 500 on the development machine: `kinesis_codec::event::event_json` and
/// `kinesis_codec::archive::encode`).
pub const ARCHIVE_MS_PER_RECORD: f64 = 0.010;

/// ... and PUTs the object to S3 before it answers: one round trip, estimated (not
/// measured) for a PUT of tens of KB within the region. The processor makes it while it
/// writes the table (`tokio::join!` in its handler), so only the part longer than the
/// table's write waves adds to the batch.
pub const ARCHIVE_PUT_MS: f64 = 30.0;

/// Milliseconds the archive adds to a batch of `records` on a function of `memory_mb`
/// (0 without `archive_events`): its CPU, which shares the function's vCPU with the
/// record path, and what its PUT outlasts the table's writes by.
pub fn archive_ms(config: &Config, records: f64) -> f64 {
    if !config.archive_events {
        return 0.0;
    }
    let writes =
        ((records / ITEMS_PER_BATCH_WRITE).ceil() / WRITES_IN_FLIGHT).ceil() * WRITE_ROUND_TRIP_MS;
    records * ARCHIVE_MS_PER_RECORD * cpu_slowdown(config.lambda_memory_size)
        + (ARCHIVE_PUT_MS - writes).max(0.0)
}

/// The share of a shard's time its windows' end invocations take (0 without windows).
pub fn window_end_share(windows: Option<&Windows>) -> f64 {
    windows.map_or(0.0, |w| WINDOW_END_MS / (f64::from(w.seconds) * 1000.0))
}

/// Batches processed at once: one per shard and parallelization slot, at most the reserved
/// concurrency (when reserved).
pub fn concurrency(config: &Config) -> u32 {
    let lanes = stream::shards(config) * config.lambda_parallelization_factor.max(1);
    match u32::try_from(config.lambda_reserved_concurrency) {
        Ok(reserved) => lanes.min(reserved),
        Err(_) => lanes,
    }
}

/// The function's stage for events of `event_bytes`.
pub fn stage(config: &Config, event_bytes: f64) -> Stage {
    let concurrency = concurrency(config);
    let records = full_batch(config, event_bytes);
    let archive = archive_ms(config, records);
    let ms = batch_ms(records, config.lambda_memory_size) + archive;
    let windows = Windows::of(config, stream::shards(config));
    let window_share = window_end_share(windows.as_ref());
    let events_per_second = f64::from(concurrency) * records / (ms / 1000.0) * (1.0 - window_share);
    let reserved = if config.lambda_reserved_concurrency >= 0 {
        format!(
            ", reserved concurrency {}",
            config.lambda_reserved_concurrency
        )
    } else {
        String::new()
    };
    let window_end = windows.map_or(String::new(), |w| {
        format!(
            " × (1 − {WINDOW_END_MS} ms window end / {} s window)",
            w.seconds
        )
    });
    let limited_by = format!(
        "{concurrency} concurrent batch(es) ({} shard(s) × parallelization {}{reserved}) × \
         {records} records / {ms:.1} ms a batch{window_end}",
        stream::shards(config),
        config.lambda_parallelization_factor,
    );
    let mut stage = Stage::new(NAME, events_per_second, limited_by)
        .input("shards", json!(stream::shards(config)))
        .input(
            "parallelization_factor",
            json!(config.lambda_parallelization_factor),
        )
        .input(
            "reserved_concurrency",
            json!((config.lambda_reserved_concurrency >= 0)
                .then_some(config.lambda_reserved_concurrency)),
        )
        .input("concurrent_batches", json!(concurrency))
        .input("records_per_batch", json!(records))
        .input("memory_mb", json!(config.lambda_memory_size))
        .input("cpu_ms_per_record_one_vcpu", json!(BENCH_MS_PER_RECORD))
        .input(
            "cpu_slowdown",
            json!(cpu_slowdown(config.lambda_memory_size)),
        )
        .input("ms_per_batch", json!((ms * 1000.0).round() / 1000.0))
        .input(
            "archive_ms_per_batch",
            json!((archive * 1000.0).round() / 1000.0),
        )
        .input(
            "batching_window_seconds",
            json!(config.lambda_maximum_batching_window_in_seconds),
        )
        .input("tumbling_window_seconds", json!(windows.map(|w| w.seconds)))
        .input("window_end_share", json!(window_share))
        .note(
            "CPU per record measured by the processor's invocation benchmark (39 ms per 10,000 \
             records, docs/performance.md); DynamoDB round trips (15 ms per wave of 8 \
             BatchWriteItem calls) and the 5 ms overhead are estimates",
        );
    if config.lambda_maximum_batching_window_in_seconds > 0 {
        stage = stage.note(format!(
            "The {} s batching window only delays a batch while the stream is quiet; a backlog \
             fills batches at once",
            config.lambda_maximum_batching_window_in_seconds
        ));
    }
    if config.archive_events {
        stage = stage.note(format!(
            "archive_events adds {archive:.1} ms a batch: the batch's event JSON gzipped \
             ({ARCHIVE_MS_PER_RECORD} ms a record on a whole vCPU, measured) and what one S3 \
             PUT ({ARCHIVE_PUT_MS} ms, estimated) outlasts the table's writes it runs beside"
        ));
    }
    if let Some(windows) = &windows {
        stage = stage.note(format!(
            "Tumbling windows of {} s: each shard's window ends with one more invocation \
             (no records, the window's state; {WINDOW_END_MS} ms estimated), counted as time \
             the shard's batches wait; the state carried in and out of every invocation (up \
             to 1 MB a shard) is not",
            windows.seconds
        ));
    }
    if config.lambda_reserved_concurrency == 0 {
        stage = stage.note("Reserved concurrency 0 stops the function: nothing is processed");
    }
    stage
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_processes_full_batches_of_100_on_one_lane() {
        let config = Config {
            aggregate_window_seconds: 0,
            ..Config::default()
        };
        assert_eq!(concurrency(&config), 1);
        assert_eq!(full_batch(&config, 500.0), 100.0);
        // 5 ms + 100 × 0.0039 ms × 1769/256 + one wave of 4 calls × 15 ms.
        let ms = 5.0 + 100.0 * 0.0039 * (1769.0 / 256.0) + 15.0;
        assert!((batch_ms(100.0, 256) - ms).abs() < 1e-9);
        let stage = stage(&config, 500.0);
        assert!((stage.events_per_second - 100.0 / (ms / 1000.0)).abs() < 1e-6);
    }

    #[test]
    fn reserved_concurrency_caps_the_lanes() {
        let config = Config {
            kinesis_shard_count: 4,
            lambda_parallelization_factor: 10,
            lambda_reserved_concurrency: 12,
            ..Config::default()
        };
        assert_eq!(concurrency(&config), 12);
        let stopped = Config {
            lambda_reserved_concurrency: 0,
            ..Config::default()
        };
        assert_eq!(stage(&stopped, 500.0).events_per_second, 0.0);
    }

    #[test]
    fn memory_beyond_one_vcpu_does_not_speed_up_the_single_threaded_path() {
        assert_eq!(cpu_slowdown(1769), 1.0);
        assert_eq!(cpu_slowdown(10_240), 1.0);
        assert_eq!(cpu_slowdown(128), 1769.0 / 128.0);
    }

    #[test]
    fn the_archive_slows_each_batch_by_its_gzip_and_one_put() {
        let config = Config {
            archive_events: true,
            ..Config::default()
        };
        // 100 records: one wave of table writes (15 ms) runs beside the 30 ms PUT.
        let ms = 100.0 * 0.010 * (1769.0 / 256.0) + (30.0 - 15.0);
        assert!((archive_ms(&config, 100.0) - ms).abs() < 1e-9);
        assert_eq!(archive_ms(&Config::default(), 100.0), 0.0);
        let with = stage(&config, 500.0).events_per_second;
        let without = stage(&Config::default(), 500.0).events_per_second;
        // (Both with dev's windows, which take the same share of either.)
        let expected = without * batch_ms(100.0, 256) / (batch_ms(100.0, 256) + ms);
        assert!((with - expected).abs() < 1e-6, "{with} vs {expected}");
    }

    #[test]
    fn window_ends_take_their_share_of_each_shard() {
        let off = Config {
            aggregate_window_seconds: 0,
            ..Config::default()
        };
        let plain = stage(&off, 500.0).events_per_second;
        // dev: 20 ms every 60 s.
        let windowed = stage(&Config::default(), 500.0);
        let share = 20.0 / 60_000.0;
        assert!((windowed.events_per_second - plain * (1.0 - share)).abs() < 1e-9);
        assert!(windowed
            .limited_by
            .ends_with("× (1 − 20 ms window end / 60 s window)"));
        assert!(windowed
            .notes
            .iter()
            .any(|n| n.starts_with("Tumbling windows of 60 s")));
        assert!(!stage(&off, 500.0).limited_by.contains("window end"));
    }

    #[test]
    fn big_records_make_smaller_batches() {
        let config = Config {
            lambda_batch_size: 10_000,
            ..Config::default()
        };
        // ⌈100,000 × 4/3⌉ + 600 = 133,934 bytes a record: 46 fit 6 MiB.
        assert_eq!(full_batch(&config, 100_000.0), 46.0);
    }
}
