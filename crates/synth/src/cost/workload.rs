//! The month of traffic an estimate prices: events, shards, how Lambda batches them into
//! invocations, and how long an invocation runs. Every service's estimate starts here.

use crate::config::{Config, StreamMode};

/// Hours in the billing month AWS's price pages use.
pub const HOURS_PER_MONTH: f64 = 730.0;
/// Seconds in that month.
pub const SECONDS_PER_MONTH: f64 = HOURS_PER_MONTH * 3600.0;
/// Days in that month.
pub const DAYS_PER_MONTH: f64 = HOURS_PER_MONTH / 24.0;
/// Bytes in a GB as AWS bills storage and transfer (2^30).
pub const BYTES_PER_GB: f64 = 1_073_741_824.0;

/// Lambda polls each shard about once a second; with no batching window, a batch holds
/// what arrived since the last poll.
pub const POLL_INTERVAL_SECONDS: f64 = 1.0;
/// Lambda's synchronous invocation payload limit (6 MB), which also caps a batch.
pub const MAX_PAYLOAD_BYTES: f64 = 6_291_456.0;
/// JSON around each record in a Kinesis event besides its base64 data (eventID, ARNs,
/// sequence number, partition key, timestamps).
pub const RECORD_ENVELOPE_BYTES: f64 = 600.0;
/// On-demand streams start with 4 MB/s of write capacity, i.e. four shards' worth.
pub const ON_DEMAND_MIN_SHARDS: u32 = 4;
/// A shard takes 1 MB/s of writes ...
pub const SHARD_BYTES_PER_SECOND: f64 = 1_048_576.0;
/// ... or 1,000 records/s, whichever comes first.
pub const SHARD_RECORDS_PER_SECOND: f64 = 1000.0;

/// Estimated invocation time: fixed overhead (runtime API round trip, decoding, the EMF
/// line) ...
pub const INVOCATION_OVERHEAD_MS: f64 = 5.0;
/// ... plus CPU time per record (validate, enrich, build the item) ...
pub const CPU_MS_PER_RECORD: f64 = 0.01;
/// ... plus one round trip per wave of concurrent BatchWriteItem / SendMessageBatch calls.
pub const WRITE_ROUND_TRIP_MS: f64 = 15.0;
/// Items per BatchWriteItem call (DynamoDB's limit).
pub const ITEMS_PER_BATCH_WRITE: f64 = 25.0;
/// Messages per SendMessageBatch call (SQS's limit).
pub const MESSAGES_PER_SEND_BATCH: f64 = 10.0;
/// Calls the processor keeps in flight at once (its WRITE_CONCURRENCY default).
pub const WRITES_IN_FLIGHT: f64 = 8.0;

/// The traffic an estimate is for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Load {
    /// Events written to the stream per second, on average over the month.
    pub events_per_second: f64,
    /// Average size of one event (the Kinesis record's data), in bytes.
    pub avg_event_bytes: f64,
    /// Share of events the processor rejects to the dead-letter queue, 0–1.
    pub invalid_ratio: f64,
}

/// The default load: 100 events/s of 500 bytes, none invalid. The recipe gives no
/// "moderate traffic" figure of its own; 100/s is a tenth of one shard's record limit.
pub const DEFAULT_LOAD: Load = Load {
    events_per_second: 100.0,
    avg_event_bytes: 500.0,
    invalid_ratio: 0.0,
};

/// The most events per second an estimate prices: ten times the most a stack synth builds
/// can take (1,000 provisioned shards of 1,000 records/s each). It keeps every figure of the
/// month finite: `1e308` events a second would overflow them to infinity and NaN.
pub const MAX_EVENTS_PER_SECOND: f64 = 10_000_000.0;

/// A load value outside what can be priced.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LoadError {
    /// Negative, above [`MAX_EVENTS_PER_SECOND`], infinite or not a number.
    #[error(
        "events per second (--events-per-second) must be a number between 0 and {max} \
         (ten times what 1,000 shards take), got {0}",
        max = MAX_EVENTS_PER_SECOND
    )]
    Rate(f64),
    /// Zero, negative, or above Kinesis's record size limit.
    #[error(
        "average event size (--avg-event-bytes) must be between 1 and 1048576 bytes \
         (Kinesis's 1 MiB record limit), got {0}"
    )]
    Bytes(f64),
    /// Outside 0–1.
    #[error("share of invalid events (--invalid-ratio) must be between 0 and 1, got {0}")]
    InvalidRatio(f64),
}

impl Load {
    /// A checked load.
    pub fn new(
        events_per_second: f64,
        avg_event_bytes: f64,
        invalid_ratio: f64,
    ) -> Result<Load, LoadError> {
        if !(0.0..=MAX_EVENTS_PER_SECOND).contains(&events_per_second) {
            return Err(LoadError::Rate(events_per_second));
        }
        if !(1.0..=1_048_576.0).contains(&avg_event_bytes) {
            return Err(LoadError::Bytes(avg_event_bytes));
        }
        if !(0.0..=1.0).contains(&invalid_ratio) {
            return Err(LoadError::InvalidRatio(invalid_ratio));
        }
        Ok(Load {
            events_per_second,
            avg_event_bytes,
            invalid_ratio,
        })
    }
}

/// A month of traffic through the configured stack.
#[derive(Debug, Clone, PartialEq)]
pub struct Workload {
    /// The load it was derived from.
    pub load: Load,
    /// Events written in the month.
    pub events: f64,
    /// The share of events the mapping's filters pass to the function (1 without filters);
    /// see [`filter_share`].
    pub filter_share: f64,
    /// Events handed to the function: `events × filter_share`.
    pub delivered_events: f64,
    /// Events stored in the table.
    pub valid_events: f64,
    /// Events dead-lettered.
    pub invalid_events: f64,
    /// Shards: configured (PROVISIONED) or estimated (ON_DEMAND).
    pub shards: u32,
    /// Batches processed at once: shards × parallelization factor.
    pub lanes: u32,
    /// Records in an average invocation.
    pub records_per_invocation: f64,
    /// Invocations in the month.
    pub invocations: f64,
    /// Billed duration of an average invocation, in whole milliseconds.
    pub billed_ms_per_invocation: f64,
    /// Tumbling windows' end invocations in the month (no records, one per shard and
    /// window; see `services::aggregates`); 0 without windows.
    pub window_end_invocations: f64,
}

impl Workload {
    /// Derives the month from the configuration and the load.
    pub fn derive(config: &Config, load: Load) -> Workload {
        let events = load.events_per_second * SECONDS_PER_MONTH;
        let shards = shards(config, load);
        let lanes = shards * config.lambda_parallelization_factor.max(1);
        let share = filter_share(config);
        let delivered = events * share;
        // Lambda batches what passes the filters, so batches fill at the delivered rate.
        let delivered_load = Load {
            events_per_second: load.events_per_second * share,
            ..load
        };
        let records = records_per_invocation(config, delivered_load, lanes);
        Workload {
            load,
            events,
            filter_share: share,
            delivered_events: delivered,
            valid_events: delivered * (1.0 - load.invalid_ratio),
            invalid_events: delivered * load.invalid_ratio,
            shards,
            lanes,
            records_per_invocation: records,
            invocations: delivered / records,
            billed_ms_per_invocation: invocation_ms(records, load.invalid_ratio).ceil(),
            window_end_invocations: super::services::aggregates::Windows::of(config, shards)
                .map_or(0.0, |windows| {
                    windows
                        .at_rate(load.events_per_second * share)
                        .ends_per_month()
                }),
        }
    }

    /// Whether the load exceeds what the provisioned shards take (a warning, not an error:
    /// the producer would be throttled).
    pub fn exceeds_shards(&self) -> bool {
        let shards = f64::from(self.shards);
        self.load.events_per_second > shards * SHARD_RECORDS_PER_SECOND
            || self.load.events_per_second * self.load.avg_event_bytes
                > shards * SHARD_BYTES_PER_SECOND
    }
}

/// The share of events the event source mapping's filters hand to the function. With
/// `lambda_filter_event_types` alone, the share of the recipe's event mix (view 60 %,
/// add_to_cart 20 %, purchase 10 %, wishlist 5 %, share 3 %, review 2 %) those types have;
/// a type outside the mix counts 0. Any `lambda_filter_patterns` entry makes it 1: a pattern's
/// selectivity is unknown, and a record matching any filter passes, so every event is
/// counted (the Lambda assumptions say so).
pub fn filter_share(config: &Config) -> f64 {
    if !config.lambda_filter_patterns.is_empty() || config.lambda_filter_event_types.is_empty() {
        return 1.0;
    }
    let percent: u32 = crate::capacity::mix::RECIPE_WEIGHTS
        .iter()
        .filter(|(name, _)| config.lambda_filter_event_types.iter().any(|t| t == name))
        .map(|(_, weight)| weight)
        .sum();
    f64::from(percent) / 100.0
}

/// Provisioned: the configured count. On-demand: what the write rate needs, at least the
/// four shards an on-demand stream starts with.
fn shards(config: &Config, load: Load) -> u32 {
    match config.kinesis_stream_mode {
        StreamMode::Provisioned => config.kinesis_shard_count.max(1),
        StreamMode::OnDemand => {
            let by_bytes = load.events_per_second * load.avg_event_bytes / SHARD_BYTES_PER_SECOND;
            let by_records = load.events_per_second / SHARD_RECORDS_PER_SECOND;
            (by_bytes.max(by_records).ceil() as u32).max(ON_DEMAND_MIN_SHARDS)
        }
    }
}

/// A batch closes when it is full (batch size, or the 6 MB payload), or when the batching
/// window (or, with none, the one-second poll) ends: so it holds what one lane receives in
/// that time, at least one record, at most the batch size.
pub fn records_per_invocation(config: &Config, load: Load, lanes: u32) -> f64 {
    let lane_rate = load.events_per_second / f64::from(lanes.max(1));
    let window = match config.lambda_maximum_batching_window_in_seconds {
        0 => POLL_INTERVAL_SECONDS,
        seconds => f64::from(seconds),
    };
    let record_bytes = (load.avg_event_bytes * 4.0 / 3.0).ceil() + RECORD_ENVELOPE_BYTES;
    let payload_cap = (MAX_PAYLOAD_BYTES / record_bytes).floor().max(1.0);
    (lane_rate * window)
        .max(1.0)
        .min(f64::from(config.lambda_batch_size))
        .min(payload_cap)
}

/// Estimated milliseconds for one invocation of `records` records.
pub fn invocation_ms(records: f64, invalid_ratio: f64) -> f64 {
    let waves = |calls: f64| (calls / WRITES_IN_FLIGHT).ceil();
    let items = records * (1.0 - invalid_ratio);
    let letters = records * invalid_ratio;
    let writes = waves((items / ITEMS_PER_BATCH_WRITE).ceil());
    let sends = waves((letters / MESSAGES_PER_SEND_BATCH).ceil());
    INVOCATION_OVERHEAD_MS + records * CPU_MS_PER_RECORD + (writes + sends) * WRITE_ROUND_TRIP_MS
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `1e308` events a second used to pass and price the month at NaN.
    #[test]
    fn a_rate_that_is_not_a_finite_number_up_to_ten_million_is_refused() {
        for rate in [1e308, f64::INFINITY, f64::NAN, -1.0, 10_000_000.5] {
            let err = Load::new(rate, 500.0, 0.0).unwrap_err();
            assert!(matches!(err, LoadError::Rate(_)), "{rate}: {err}");
            assert!(
                err.to_string().starts_with(
                    "events per second (--events-per-second) must be a number between 0 and \
                     10000000"
                ),
                "{err}"
            );
        }
        assert!(Load::new(MAX_EVENTS_PER_SECOND, 500.0, 0.0).is_ok());
    }

    #[test]
    fn dev_at_the_default_load_invokes_once_a_second_with_full_batches() {
        let w = Workload::derive(&Config::default(), DEFAULT_LOAD);
        assert_eq!(w.events, 262_800_000.0);
        assert_eq!(w.records_per_invocation, 100.0);
        assert_eq!(w.invocations, 2_628_000.0);
        // 5 ms + 100 × 0.01 ms + one wave of 4 BatchWriteItem calls (15 ms).
        assert_eq!(w.billed_ms_per_invocation, 21.0);
        assert!(!w.exceeds_shards());
    }

    #[test]
    fn event_type_filters_pass_their_share_of_the_recipes_mix() {
        let types = |list: &[&str]| Config {
            lambda_filter_event_types: list.iter().map(|t| t.to_string()).collect(),
            ..Config::default()
        };
        assert_eq!(filter_share(&Config::default()), 1.0);
        let config = types(&["purchase", "add_to_cart"]);
        assert_eq!(filter_share(&config), 0.3);
        assert_eq!(filter_share(&types(&["refund"])), 0.0);
        let w = Workload::derive(&config, DEFAULT_LOAD);
        assert_eq!(w.delivered_events, 262_800_000.0 * 0.3);
        assert_eq!(w.valid_events, w.delivered_events);
        // 30 events/s fill a batch of 100 within the 5 s window: full batches, 30 % of them.
        assert_eq!(w.records_per_invocation, 100.0);
        assert_eq!(w.invocations, 788_400.0);
        // A pattern's selectivity is unknown: every event counts.
        let with_pattern = Config {
            lambda_filter_patterns: vec![
                r#"{"data": {"eventScore": [{"numeric": [">", 50]}]}}"#.into()
            ],
            ..config
        };
        assert_eq!(filter_share(&with_pattern), 1.0);
    }

    #[test]
    fn a_slow_stream_sends_partial_batches_when_the_window_ends() {
        let load = Load::new(2.0, 500.0, 0.0).unwrap();
        // 2 events/s × 5 s window.
        assert_eq!(records_per_invocation(&Config::default(), load, 1), 10.0);
        let no_window = Config {
            lambda_maximum_batching_window_in_seconds: 0,
            ..Config::default()
        };
        assert_eq!(records_per_invocation(&no_window, load, 1), 2.0);
        let trickle = Load::new(0.01, 500.0, 0.0).unwrap();
        assert_eq!(records_per_invocation(&Config::default(), trickle, 1), 1.0);
    }

    #[test]
    fn big_records_are_capped_by_the_payload_limit() {
        let config = Config {
            lambda_batch_size: 10_000,
            ..Config::default()
        };
        let load = Load::new(1000.0, 100_000.0, 0.0).unwrap();
        let records = records_per_invocation(&config, load, 1);
        assert_eq!(records, (6_291_456.0f64 / (133_334.0 + 600.0)).floor());
    }

    #[test]
    fn on_demand_streams_have_at_least_four_shards() {
        let config = Config {
            kinesis_stream_mode: StreamMode::OnDemand,
            ..Config::default()
        };
        assert_eq!(Workload::derive(&config, DEFAULT_LOAD).shards, 4);
        let busy = Load::new(10_000.0, 1000.0, 0.0).unwrap();
        assert_eq!(Workload::derive(&config, busy).shards, 10);
    }

    #[test]
    fn bad_loads_are_refused_with_the_flag_named() {
        for (load, flag) in [
            (Load::new(-1.0, 500.0, 0.0), "--events-per-second"),
            (Load::new(f64::NAN, 500.0, 0.0), "--events-per-second"),
            (Load::new(1.0, 0.0, 0.0), "--avg-event-bytes"),
            (Load::new(1.0, 2_000_000.0, 0.0), "--avg-event-bytes"),
            (Load::new(1.0, 500.0, 1.5), "--invalid-ratio"),
        ] {
            let message = load.unwrap_err().to_string();
            assert!(message.contains(flag), "{message}");
        }
    }
}
