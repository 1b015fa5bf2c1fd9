//! Kinesis Data Streams: shard-hours and PUT payload units (PROVISIONED), or stream-hours
//! and GB in and out (ON_DEMAND), plus retention beyond the included 24 hours.

use super::super::workload::{BYTES_PER_GB, DAYS_PER_MONTH, HOURS_PER_MONTH};
use super::super::{LineItem, ServiceCost};
use super::Context;
use crate::config::{ConsumerMode, StreamMode};

/// A PUT payload unit: each record is billed in 25 KB chunks.
pub const PUT_PAYLOAD_UNIT_BYTES: f64 = 25.0 * 1024.0;
/// On-demand ingestion rounds each record up to 1 KB.
pub const ON_DEMAND_RECORD_ROUNDING_BYTES: f64 = 1024.0;
/// Retention included in the base price.
const INCLUDED_RETENTION_HOURS: u32 = 24;
/// Retention covered by extended retention; beyond it is long-term retention.
const EXTENDED_RETENTION_HOURS: u32 = 168;

/// The stream's line items.
pub fn estimate(ctx: &Context) -> ServiceCost {
    match ctx.config.kinesis_stream_mode {
        StreamMode::Provisioned => provisioned(ctx),
        StreamMode::OnDemand => on_demand(ctx),
    }
}

fn provisioned(ctx: &Context) -> ServiceCost {
    let w = ctx.workload;
    let p = ctx.prices;
    let shards = f64::from(w.shards);
    let units_per_record = (w.load.avg_event_bytes / PUT_PAYLOAD_UNIT_BYTES).ceil();
    let mut items = vec![
        LineItem::new(
            format!("Shard-hours ({} shard{})", w.shards, plural(w.shards)),
            shards * HOURS_PER_MONTH,
            "shard-hour",
            p.kinesis_shard_hour,
        ),
        LineItem::new(
            format!("PUT payload units ({units_per_record} per record, 25 KB each)"),
            w.events * units_per_record / 1e6,
            "million units",
            p.kinesis_million_put_payload_units,
        ),
    ];
    let retention = ctx.config.kinesis_retention_period;
    if retention > INCLUDED_RETENTION_HOURS {
        items.push(LineItem::new(
            format!("Extended retention ({retention} h > 24 h), per shard-hour"),
            shards * HOURS_PER_MONTH,
            "shard-hour",
            p.kinesis_extended_retention_shard_hour,
        ));
    }
    items.extend(long_term(ctx));
    let fan_out = enhanced_fan_out(ctx);
    let reads_through_consumer = fan_out.is_some();
    items.extend(fan_out.into_iter().flatten());
    let cost = ServiceCost::new("Kinesis", items).assume(
        "Kinesis: each record is one PUT payload unit per started 25 KB; the producer's \
         aggregation (KPL) is not assumed, so one event is one record",
    );
    if reads_through_consumer {
        cost.assume(
            "Kinesis enhanced fan-out: the consumer is billed for every shard of the stream \
             all month, and for every byte the mapping reads through it (filters drop records \
             after the read)",
        )
    } else {
        cost
    }
}

/// With `kinesis_consumer = "enhanced-fan-out"` on a PROVISIONED stream: the consumer's
/// shard-hours and the data read through it (the events' bytes, not rounded).
fn enhanced_fan_out(ctx: &Context) -> Option<Vec<LineItem>> {
    (ctx.config.kinesis_consumer == ConsumerMode::EnhancedFanOut).then(|| {
        let w = ctx.workload;
        let p = ctx.prices;
        vec![
            LineItem::new(
                format!(
                    "Enhanced fan-out consumer-shard hours (1 consumer × {} shard{})",
                    w.shards,
                    plural(w.shards)
                ),
                f64::from(w.shards) * HOURS_PER_MONTH,
                "consumer-shard-hour",
                p.kinesis_efo_consumer_shard_hour,
            ),
            LineItem::new(
                "Enhanced fan-out data retrieval (every event's bytes)".into(),
                w.events * w.load.avg_event_bytes / BYTES_PER_GB,
                "GB",
                p.kinesis_efo_retrieval_gb,
            ),
        ]
    })
}

fn on_demand(ctx: &Context) -> ServiceCost {
    let w = ctx.workload;
    let p = ctx.prices;
    let rounded = (w.load.avg_event_bytes / ON_DEMAND_RECORD_ROUNDING_BYTES).ceil()
        * ON_DEMAND_RECORD_ROUNDING_BYTES;
    let gb = w.events * rounded / BYTES_PER_GB;
    let mut items = vec![
        LineItem::new(
            "Stream-hours (ON_DEMAND)".into(),
            HOURS_PER_MONTH,
            "stream-hour",
            p.kinesis_on_demand_stream_hour,
        ),
        LineItem::new(
            "Data ingested (records rounded up to 1 KB)".into(),
            gb,
            "GB",
            p.kinesis_on_demand_ingest_gb,
        ),
        retrieval_on_demand(ctx, gb),
    ];
    let retention = ctx.config.kinesis_retention_period;
    if retention > INCLUDED_RETENTION_HOURS {
        let extra_days =
            f64::from(retention.min(EXTENDED_RETENTION_HOURS) - INCLUDED_RETENTION_HOURS) / 24.0;
        items.push(LineItem::new(
            format!("Extended retention ({retention} h > 24 h), data held beyond a day"),
            gb / DAYS_PER_MONTH * extra_days,
            "GB-month",
            p.kinesis_on_demand_extended_retention_gb_month,
        ));
    }
    items.extend(long_term(ctx));
    ServiceCost::new("Kinesis", items).assume(
        "Kinesis ON_DEMAND: retrieval is billed like ingestion (records rounded up to 1 KB), \
         one consumer (the event source mapping; with enhanced fan-out, at its per-GB rate \
         and no consumer-shard hours)",
    )
}

/// What the processor's reads cost on an ON_DEMAND stream: shared reads or enhanced fan-out.
fn retrieval_on_demand(ctx: &Context, gb: f64) -> LineItem {
    let p = ctx.prices;
    match ctx.config.kinesis_consumer {
        ConsumerMode::Shared => LineItem::new(
            "Data retrieved by the processor (one consumer)".into(),
            gb,
            "GB",
            p.kinesis_on_demand_retrieval_gb,
        ),
        ConsumerMode::EnhancedFanOut => LineItem::new(
            "Data retrieved through the enhanced fan-out consumer".into(),
            gb,
            "GB",
            p.kinesis_on_demand_efo_retrieval_gb,
        ),
    }
}

/// Data held beyond seven days, at steady state (a day's data per retained day).
fn long_term(ctx: &Context) -> Option<LineItem> {
    let retention = ctx.config.kinesis_retention_period;
    (retention > EXTENDED_RETENTION_HOURS).then(|| {
        let w = ctx.workload;
        let gb_per_day = w.events * w.load.avg_event_bytes / BYTES_PER_GB / DAYS_PER_MONTH;
        let days = f64::from(retention - EXTENDED_RETENTION_HOURS) / 24.0;
        LineItem::new(
            format!("Long-term retention ({retention} h > 7 days), data held beyond a week"),
            gb_per_day * days,
            "GB-month",
            ctx.prices.kinesis_long_term_retention_gb_month,
        )
    })
}

fn plural(n: u32) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::{estimate as total, DEFAULT_LOAD};
    use crate::config::Config;

    fn kinesis(config: &Config) -> Vec<(String, f64)> {
        let estimate = total(config, DEFAULT_LOAD).expect("estimates");
        estimate.services[0]
            .line_items
            .iter()
            .map(|i| (i.item.clone(), i.monthly_usd))
            .collect()
    }

    #[test]
    fn provisioned_pays_per_shard_hour_and_retention_beyond_a_day() {
        let dev = kinesis(&Config::default());
        assert_eq!(dev.len(), 2);
        assert!((dev[0].1 - 730.0 * 0.015).abs() < 1e-9);
        let week = Config {
            kinesis_retention_period: 168,
            ..Config::default()
        };
        assert!(kinesis(&week)[2].0.starts_with("Extended retention"));
        let year = Config {
            kinesis_retention_period: 8760,
            ..Config::default()
        };
        assert!(kinesis(&year)[3].0.starts_with("Long-term retention"));
    }

    #[test]
    fn enhanced_fan_out_adds_consumer_shard_hours_and_retrieval() {
        let config = Config {
            kinesis_consumer: crate::config::ConsumerMode::EnhancedFanOut,
            kinesis_shard_count: 2,
            ..Config::default()
        };
        let items = kinesis(&config);
        assert_eq!(items.len(), 4);
        assert_eq!(
            items[2].0,
            "Enhanced fan-out consumer-shard hours (1 consumer × 2 shards)"
        );
        assert!((items[2].1 - 2.0 * 730.0 * 0.015).abs() < 1e-9);
        // 262.8 M events × 500 bytes = 122.4 GB read at $0.013.
        let gb = 262_800_000.0 * 500.0 / 1_073_741_824.0;
        assert!((items[3].1 - gb * 0.013).abs() < 1e-9);
        let on_demand = Config {
            kinesis_stream_mode: crate::config::StreamMode::OnDemand,
            ..config
        };
        let items = kinesis(&on_demand);
        assert_eq!(
            items[2].0,
            "Data retrieved through the enhanced fan-out consumer"
        );
        let rounded = 262_800_000.0 * 1024.0 / 1_073_741_824.0;
        assert!((items[2].1 - rounded * 0.05).abs() < 1e-6);
    }

    #[test]
    fn on_demand_pays_per_stream_hour_and_gb() {
        let config = Config {
            kinesis_stream_mode: crate::config::StreamMode::OnDemand,
            ..Config::default()
        };
        let items = kinesis(&config);
        assert!(items[0].0.starts_with("Stream-hours"));
        // 262.8 M records × 1 KB = 250.6 GB in at $0.08 and out at $0.04.
        let gb = 262_800_000.0 * 1024.0 / 1_073_741_824.0;
        assert!((items[1].1 - gb * 0.08).abs() < 1e-6);
        assert!((items[2].1 - gb * 0.04).abs() < 1e-6);
    }
}
