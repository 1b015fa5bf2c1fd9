//! The Kinesis stream's write limit in events per second.
//!
//! A shard takes 1,000 records and 1 MiB (partition keys included) a second; a new on-demand
//! stream takes 4 MB/s, four shards' worth (Kinesis Data Streams quotas). One event is one
//! record: that is what the project's producer sends while it keeps up (it aggregates a
//! user's events only while they wait behind an unacknowledged one, and `--no-aggregate`
//! never does). Aggregation lifts the record limit and leaves the byte limit; the stage
//! states that figure too, as what a KPL-aggregating producer could reach.

use serde_json::json;

use super::traffic::record_bytes;
use super::Stage;
use crate::config::{Config, StreamMode};
use crate::cost::workload::{
    ON_DEMAND_MIN_SHARDS, SHARD_BYTES_PER_SECOND, SHARD_RECORDS_PER_SECOND,
};

/// The stage's name, and the `bottleneck` when it sets the ceiling.
pub const NAME: &str = "KinesisWrites";

/// The shards the stream writes to and reads from: the configured count, or the four shards'
/// worth a new on-demand stream starts with.
pub fn shards(config: &Config) -> u32 {
    match config.kinesis_stream_mode {
        StreamMode::Provisioned => config.kinesis_shard_count.max(1),
        StreamMode::OnDemand => ON_DEMAND_MIN_SHARDS,
    }
}

/// The stream's stage for events of `event_bytes`.
pub fn stage(config: &Config, event_bytes: f64) -> Stage {
    let shards = shards(config);
    let record = record_bytes(event_bytes);
    let by_records = f64::from(shards) * SHARD_RECORDS_PER_SECOND;
    let by_bytes = f64::from(shards) * SHARD_BYTES_PER_SECOND / record;
    let (events_per_second, limit) = if by_records <= by_bytes {
        (by_records, "records")
    } else {
        (by_bytes, "bytes")
    };
    let capacity = match config.kinesis_stream_mode {
        StreamMode::Provisioned => format!("{shards} shard(s)"),
        StreamMode::OnDemand => format!("a new on-demand stream's {shards} shards' worth"),
    };
    let limited_by = format!(
        "{capacity} × 1,000 records/s and 1 MiB/s; {record:.0}-byte records: the {limit} limit"
    );
    let mut stage = Stage::new(NAME, events_per_second, limited_by)
        .input("stream_mode", json!(config.kinesis_stream_mode.as_str()))
        .input("shards", json!(shards))
        .input("record_bytes", json!(record))
        .input(
            "records_per_second_per_shard",
            json!(SHARD_RECORDS_PER_SECOND),
        )
        .input("bytes_per_second_per_shard", json!(SHARD_BYTES_PER_SECOND))
        .input("events_per_second_by_records", json!(round(by_records)))
        .input("events_per_second_by_bytes", json!(round(by_bytes)))
        .note(format!(
            "One event per Kinesis record, as the project's producer sends events while it keeps \
             up; a producer that aggregates (KPL) is held by the byte limit alone: {} events/s",
            crate::cost::render::number(by_bytes)
        ));
    if config.kinesis_stream_mode == StreamMode::OnDemand {
        stage = stage.note(
            "An on-demand stream grows with sustained traffic (to double its previous peak within \
             15 minutes, up to 10 GB/s in us-east-1, us-west-2 and eu-west-1 and 200 MB/s \
             elsewhere); the figure is a new stream's default write capacity",
        );
    }
    stage
}

/// Events per second to one decimal, for figures that are inputs of another.
fn round(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shard_takes_1000_records_of_500_bytes_a_second() {
        let stage = stage(&Config::default(), 500.0);
        assert_eq!(stage.events_per_second, 1000.0);
        assert!(
            stage.limited_by.contains("the records limit"),
            "{}",
            stage.limited_by
        );
    }

    #[test]
    fn big_events_are_held_by_the_byte_limit() {
        let config = Config {
            kinesis_shard_count: 2,
            ..Config::default()
        };
        // 2 × 1,048,576 B/s over 2,048 + 41 bytes.
        let stage = stage(&config, 2048.0);
        assert_eq!(stage.events_per_second, 2.0 * 1_048_576.0 / 2089.0);
        assert!(
            stage.limited_by.contains("the bytes limit"),
            "{}",
            stage.limited_by
        );
    }

    #[test]
    fn a_new_on_demand_stream_takes_four_shards_worth() {
        let config = Config {
            kinesis_stream_mode: StreamMode::OnDemand,
            kinesis_shard_count: 1,
            ..Config::default()
        };
        let stage = stage(&config, 500.0);
        assert_eq!(stage.events_per_second, 4000.0);
        assert_eq!(stage.notes.len(), 2);
    }
}
