//! DynamoDB: writes (each item, and its copy in every global secondary index), storage
//! after a month, and point-in-time recovery.
//!
//! An item is bigger than its event: it carries the event as `originalEvent` plus the keys,
//! the copied fields and the enrichment. [`ITEM_ATTRIBUTES`] lists what is added, with a
//! typical value size, so [`item_bytes`] is the event size plus their sum.

use super::super::workload::{BYTES_PER_GB, HOURS_PER_MONTH, SECONDS_PER_MONTH};
use super::super::{LineItem, ServiceCost};
use super::Context;
use crate::config::BillingMode;

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

/// The table's line items.
pub fn estimate(ctx: &Context) -> ServiceCost {
    let w = ctx.workload;
    let p = ctx.prices;
    let config = ctx.config;
    let indexes = ctx.inventory.global_secondary_indexes as f64;
    let item = item_bytes(w.load.avg_event_bytes);
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
    let table_gb = w.valid_events * (item + ITEM_STORAGE_OVERHEAD_BYTES) / BYTES_PER_GB;
    items.push(LineItem::new(
        format!("Storage after one month (table + {indexes} GSIs projecting ALL)"),
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
    ServiceCost::new("DynamoDB", items)
        .assume(format!(
            "DynamoDB item = event bytes + {} bytes of keys, copied fields and enrichment \
             (attribute names plus typical values; see ITEM_ATTRIBUTES); every event has a \
             productId, so each GSI receives every item",
            added_bytes()
        ))
        .assume(
            "DynamoDB storage is what one month at this rate leaves (items never expire), \
             billed for a whole month, with 100 bytes of overhead per item and index entry",
        )
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
    let units = (item_bytes(w.load.avg_event_bytes) / WRITE_UNIT_BYTES).ceil();
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
