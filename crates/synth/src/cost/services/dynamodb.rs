//! DynamoDB: writes (each item, and its copy in every global secondary index), storage
//! (after a month, or the steady state that the items' TTL bounds it to), and
//! point-in-time recovery.
//!
//! An item is bigger than its event: it carries the event as `originalEvent` plus the keys,
//! the copied fields and the enrichment. [`ITEM_ATTRIBUTES`] lists what is added, with a
//! typical value size, so [`item_bytes`] is the event size plus their sum.

use super::super::workload::{BYTES_PER_GB, DAYS_PER_MONTH, HOURS_PER_MONTH, SECONDS_PER_MONTH};
use super::super::{LineItem, ServiceCost};
use super::Context;
use crate::config::{BillingMode, Config};

/// Attributes an item holds besides the event's own bytes (`originalEvent` holds those):
/// the name, and a typical value size in bytes by DynamoDB's rules.
pub const ITEM_ATTRIBUTES: &[(&str, usize)] = &[
    ("userId", 12),
    // 13-digit timestamp, '#', a 36-character event id.
    ("eventKey", 50),
    // A 13-digit number takes 8 bytes.
    ("eventTimestamp", 8),
    ("eventType", 12),
    ("productId", 12),
    ("sessionId", 36),
    ("eventScore", 2),
    ("engagementLevel", 6),
    ("insight", 60),
    ("processedAt", 8),
    ("processingLatency", 3),
    ("version", 3),
    ("originalEvent", 0),
];

/// `expiresAt` when items expire (`dynamodb_ttl_days` > 0): its name and a 10-digit number
/// of epoch seconds (6 bytes).
pub const TTL_ATTRIBUTE_BYTES: usize = "expiresAt".len() + 6;

/// Days an expired item may stay (and be billed) before DynamoDB's TTL deletes it: AWS
/// says deletion typically happens within a few days of expiry; we count two.
pub const TTL_DELETION_LAG_DAYS: f64 = 2.0;

/// DynamoDB's per-item storage overhead for indexing, in the table and in each index.
pub const ITEM_STORAGE_OVERHEAD_BYTES: f64 = 100.0;

/// One write request unit covers this much of an item.
pub const WRITE_UNIT_BYTES: f64 = 1024.0;

/// The bytes the enrichment adds to every event: attribute names plus typical values.
pub fn added_bytes() -> usize {
    ITEM_ATTRIBUTES
        .iter()
        .map(|(name, value)| name.len() + value)
        .sum()
}

/// The estimated size of the item stored for an event of `event_bytes`.
pub fn item_bytes(event_bytes: f64) -> f64 {
    event_bytes + added_bytes() as f64
}

/// [`item_bytes`] for the configured stack: with `expiresAt` when items expire.
pub fn configured_item_bytes(config: &Config, event_bytes: f64) -> f64 {
    let ttl = if config.dynamodb_ttl_days > 0 {
        TTL_ATTRIBUTE_BYTES
    } else {
        0
    };
    item_bytes(event_bytes) + ttl as f64
}

/// How many months of items the table holds: in the first month and once it stops growing.
/// Without TTL it holds one month's items after the first month and never stops growing
/// (`steady` is `None`); with TTL it holds the TTL's days plus the deletion lag, which it
/// reaches within the first month when that is shorter than a month.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Retained {
    /// Months of items stored at the end of the first month.
    pub month_one: f64,
    /// Months of items stored for good, if TTL bounds it.
    pub steady: Option<f64>,
}

/// The table's [`Retained`] for `dynamodb_ttl_days`.
pub fn retained(config: &Config) -> Retained {
    if config.dynamodb_ttl_days == 0 {
        return Retained {
            month_one: 1.0,
            steady: None,
        };
    }
    let steady = (f64::from(config.dynamodb_ttl_days) + TTL_DELETION_LAG_DAYS) / DAYS_PER_MONTH;
    Retained {
        month_one: steady.min(1.0),
        steady: Some(steady),
    }
}

/// The table's line items.
pub fn estimate(ctx: &Context) -> ServiceCost {
    let w = ctx.workload;
    let p = ctx.prices;
    let config = ctx.config;
    let indexes = ctx.inventory.global_secondary_indexes as f64;
    let item = configured_item_bytes(config, w.load.avg_event_bytes);
    let units_per_item = (item / WRITE_UNIT_BYTES).ceil();
    let copies = 1.0 + indexes;
    let mut items = match config.dynamodb_billing_mode {
        BillingMode::PayPerRequest => vec![LineItem::new(
            format!(
                "Write request units ({units_per_item} per {item:.0}-byte item, × {copies} for the table and {indexes} GSIs)"
            ),
            w.valid_events * units_per_item * copies / 1e6,
            "million WRU",
            p.dynamodb_million_write_request_units,
        )],
        BillingMode::Provisioned => provisioned(ctx, units_per_item, copies),
    };
    let month_gb = w.valid_events * (item + ITEM_STORAGE_OVERHEAD_BYTES) / BYTES_PER_GB;
    let retained = retained(config);
    let table_gb = month_gb * retained.month_one;
    let stored = match retained.steady {
        None => "after one month".to_string(),
        Some(steady) if steady <= 1.0 => format!(
            "steady state, {} days' items under TTL",
            config.dynamodb_ttl_days
        ),
        Some(_) => "after one month, TTL not yet reached".to_string(),
    };
    items.push(LineItem::new(
        format!("Storage {stored} (table + {indexes} GSIs projecting ALL)"),
        table_gb * copies,
        "GB-month",
        p.dynamodb_storage_gb_month,
    ));
    if config.dynamodb_point_in_time_recovery_enabled {
        items.push(LineItem::new(
            "Point-in-time recovery (table size, indexes excluded)".into(),
            table_gb,
            "GB-month",
            p.dynamodb_pitr_gb_month,
        ));
    }
    let pitr = if config.dynamodb_point_in_time_recovery_enabled {
        p.dynamodb_pitr_gb_month
    } else {
        0.0
    };
    let storage_usd =
        |months: f64| month_gb * months * (copies * p.dynamodb_storage_gb_month + pitr);
    let steady_state = match retained.steady {
        None => format!(
            "DynamoDB storage is what one month at this rate leaves (items never expire: \
             dynamodb_ttl_days = 0), billed for a whole month, with 100 bytes of overhead per \
             item and index entry; it grows by about ${:.2} (storage and point-in-time \
             recovery) every month after",
            storage_usd(1.0)
        ),
        Some(steady) if steady <= 1.0 => format!(
            "DynamoDB storage is the steady state under TTL: {} days of items plus {} days \
             until DynamoDB deletes expired ones, reached within the first month and billed \
             for a whole month, with 100 bytes of overhead per item and index entry",
            config.dynamodb_ttl_days, TTL_DELETION_LAG_DAYS
        ),
        Some(steady) => format!(
            "DynamoDB storage is what one month at this rate leaves, billed for a whole month, \
             with 100 bytes of overhead per item and index entry; under the {}-day TTL it \
             levels off at {steady:.2} months of items, ${:.2} a month for storage and \
             point-in-time recovery (steady state) instead of the first month's ${:.2}",
            config.dynamodb_ttl_days,
            storage_usd(steady),
            storage_usd(1.0)
        ),
    };
    ServiceCost::new("DynamoDB", items)
        .assume(format!(
            "DynamoDB item = event bytes + {} bytes of keys, copied fields and enrichment{} \
             (attribute names plus typical values; see ITEM_ATTRIBUTES); every event has a \
             productId, so each GSI receives every item",
            configured_item_bytes(config, 0.0),
            if config.dynamodb_ttl_days > 0 {
                " and expiresAt"
            } else {
                ""
            }
        ))
        .assume(steady_state)
}

/// Capacity-hours: auto scaling keeps write capacity at the rate's need divided by the
/// target utilization, within the configured base and maximum; reads stay at the base.
fn provisioned(ctx: &Context, units_per_item: f64, copies: f64) -> Vec<LineItem> {
    let config = ctx.config;
    let p = ctx.prices;
    let w = ctx.workload;
    let per_second = w.valid_events / SECONDS_PER_MONTH * units_per_item;
    let target = f64::from(config.dynamodb_autoscaling_target_utilization) / 100.0;
    let wcu = (per_second / target)
        .ceil()
        .max(f64::from(config.dynamodb_write_capacity))
        .min(f64::from(config.dynamodb_max_write_capacity));
    let rcu = f64::from(config.dynamodb_read_capacity);
    vec![
        LineItem::new(
            format!("Write capacity ({wcu} WCU × {copies} for the table and its GSIs)"),
            wcu * copies * HOURS_PER_MONTH,
            "WCU-hour",
            p.dynamodb_wcu_hour,
        ),
        LineItem::new(
            format!("Read capacity ({rcu} RCU × {copies}, the auto scaling minimum)"),
            rcu * copies * HOURS_PER_MONTH,
            "RCU-hour",
            p.dynamodb_rcu_hour,
        ),
    ]
}

/// Whether provisioned write capacity, at its maximum, is below what the rate needs.
pub fn write_capacity_short(ctx: &Context) -> bool {
    let config = ctx.config;
    if config.dynamodb_billing_mode != BillingMode::Provisioned {
        return false;
    }
    let w = ctx.workload;
    let units = (configured_item_bytes(config, w.load.avg_event_bytes) / WRITE_UNIT_BYTES).ceil();
    w.valid_events / SECONDS_PER_MONTH * units > f64::from(config.dynamodb_max_write_capacity)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_500_byte_event_makes_an_item_of_one_write_unit() {
        assert_eq!(added_bytes(), 347);
        assert_eq!(item_bytes(500.0), 847.0);
        assert_eq!((item_bytes(700.0) / WRITE_UNIT_BYTES).ceil(), 2.0);
    }
}
