//! DynamoDB: writes (each item, and its copy in every global secondary index), storage
//! (after a month, or the steady state that the items' TTL bounds it to), and
//! point-in-time recovery. On demand, `dynamodb_max_on_demand_write_units` is a ceiling: a
//! load that asks more stores only what the cap lets through (the rest is throttled, and
//! the estimate warns), and both caps' monthly bounds are stated.
//!
//! An item is bigger than its event: it carries the event as `originalEvent` plus the keys,
//! the copied fields and the enrichment. [`ITEM_ATTRIBUTES`] lists what is added, with a
//! typical value size, so [`item_bytes`] is the event size plus their sum.

use super::super::workload::{BYTES_PER_GB, DAYS_PER_MONTH, HOURS_PER_MONTH, SECONDS_PER_MONTH};
use super::super::{LineItem, ServiceCost};
use super::{aggregates, Context};
use crate::config::{BillingMode, Config, GsiProjection, TableClass};
use crate::cost::render::number;
use crate::cost::Prices;

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

/// The write-sharded index keys when `dynamodb_index_write_shards` > 1: each attribute's name
/// and its value, the plain value's typical 12 bytes plus `#` and up to two digits.
pub fn sharded_key_bytes() -> usize {
    [
        contract::index::EVENT_TYPE_SHARD,
        contract::index::PRODUCT_ID_SHARD,
    ]
    .iter()
    .map(|name| name.len() + 12 + contract::index::SUFFIX_MAX_BYTES)
    .sum()
}

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

/// [`item_bytes`] for the configured stack: with `expiresAt` when items expire. (The
/// sharded index keys are [`stored_item_bytes`]'s; `synth capacity` adds them itself.)
pub fn configured_item_bytes(config: &Config, event_bytes: f64) -> f64 {
    let ttl = if config.dynamodb_ttl_days > 0 {
        TTL_ATTRIBUTE_BYTES
    } else {
        0
    };
    item_bytes(event_bytes) + ttl as f64
}

/// The item as stored: [`configured_item_bytes`] plus the sharded index keys when the
/// indexes are write-sharded (`dynamodb_index_write_shards` > 1).
pub fn stored_item_bytes(config: &Config, event_bytes: f64) -> f64 {
    let shards = if config.dynamodb_index_write_shards > 1 {
        sharded_key_bytes()
    } else {
        0
    };
    configured_item_bytes(config, event_bytes) + shards as f64
}

/// The attributes every index entry holds whatever the projection: the table's keys and
/// the index's sort key (names and typical values from [`ITEM_ATTRIBUTES`]).
const INDEX_KEY_ATTRIBUTES: &[&str] = &["userId", "eventKey", "eventTimestamp"];

/// Bytes of one named attribute as [`ITEM_ATTRIBUTES`] estimates it (name plus value);
/// `originalEvent` holds the event's own bytes.
fn attribute_bytes(name: &str, event_bytes: f64) -> f64 {
    let value = ITEM_ATTRIBUTES
        .iter()
        .find(|(n, _)| *n == name)
        .map_or(0, |(_, v)| *v);
    let extra = match name {
        "originalEvent" => event_bytes,
        "expiresAt" => return TTL_ATTRIBUTE_BYTES as f64,
        _ => 0.0,
    };
    (name.len() + value) as f64 + extra
}

/// The estimated size of one index entry: the whole item with ALL; otherwise the keys
/// (the table's, the index's sort key and its partition key, plain or write-sharded) and,
/// with INCLUDE, the included attributes.
pub fn index_entry_bytes(config: &Config, event_bytes: f64) -> f64 {
    if config.dynamodb_gsi_projection == GsiProjection::All {
        return stored_item_bytes(config, event_bytes);
    }
    let keys: f64 = INDEX_KEY_ATTRIBUTES
        .iter()
        .map(|name| attribute_bytes(name, event_bytes))
        .sum();
    let partition_key = if config.dynamodb_index_write_shards > 1 {
        sharded_key_bytes() as f64 / 2.0
    } else {
        attribute_bytes("eventType", event_bytes)
    };
    let included: f64 = config
        .dynamodb_gsi_include_attributes
        .iter()
        .filter(|_| config.dynamodb_gsi_projection == GsiProjection::Include)
        .map(|name| attribute_bytes(name, event_bytes))
        .sum();
    keys + partition_key + included
}

/// The table class's request and storage prices.
struct ClassPrices {
    million_write_request_units: f64,
    million_read_request_units: f64,
    wcu_hour: f64,
    rcu_hour: f64,
    storage_gb_month: f64,
}

fn class_prices(config: &Config, p: &Prices) -> ClassPrices {
    match config.dynamodb_table_class {
        TableClass::Standard => ClassPrices {
            million_write_request_units: p.dynamodb_million_write_request_units,
            million_read_request_units: p.dynamodb_million_read_request_units,
            wcu_hour: p.dynamodb_wcu_hour,
            rcu_hour: p.dynamodb_rcu_hour,
            storage_gb_month: p.dynamodb_storage_gb_month,
        },
        TableClass::StandardInfrequentAccess => ClassPrices {
            million_write_request_units: p.dynamodb_ia_million_write_request_units,
            million_read_request_units: p.dynamodb_ia_million_read_request_units,
            wcu_hour: p.dynamodb_ia_wcu_hour,
            rcu_hour: p.dynamodb_ia_rcu_hour,
            storage_gb_month: p.dynamodb_ia_storage_gb_month,
        },
    }
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
    let class = class_prices(config, p);
    let item = stored_item_bytes(config, w.load.avg_event_bytes);
    let entry = index_entry_bytes(config, w.load.avg_event_bytes);
    let units = write_units(ctx);
    let units_per_item = units.table;
    let copies = 1.0 + indexes;
    let stored_events = stored_events(ctx);
    let held = if stored_events < w.valid_events {
        format!(
            ", held to dynamodb_max_on_demand_write_units = {}",
            config.dynamodb_max_on_demand_write_units
        )
    } else {
        String::new()
    };
    let mut items = match config.dynamodb_billing_mode {
        BillingMode::PayPerRequest => vec![LineItem::new(
            if units.table == units.index {
                format!(
                    "Write request units ({units_per_item} per {item:.0}-byte item, × {copies} for the table and {indexes} GSIs{held})"
                )
            } else {
                format!(
                    "Write request units ({units_per_item} per {item:.0}-byte item, {} per {entry:.0}-byte entry in each of {indexes} GSIs{held})",
                    units.index
                )
            },
            stored_events * units.per_item() / 1e6,
            "million WRU",
            class.million_write_request_units,
        )],
        BillingMode::Provisioned => provisioned(ctx, &units, &class),
    };
    let month_gb = stored_events * (item + ITEM_STORAGE_OVERHEAD_BYTES) / BYTES_PER_GB;
    let index_month_gb = stored_events * (entry + ITEM_STORAGE_OVERHEAD_BYTES) / BYTES_PER_GB;
    let retained = retained(config);
    let table_gb = month_gb * retained.month_one;
    let index_gb = index_month_gb * retained.month_one * indexes;
    let stored = match retained.steady {
        None => "after one month".to_string(),
        Some(steady) if steady <= 1.0 => format!(
            "steady state, {} days' items under TTL",
            config.dynamodb_ttl_days
        ),
        Some(_) => "after one month, TTL not yet reached".to_string(),
    };
    let (stored_gb, stored_month_gb) = if config.dynamodb_gsi_projection == GsiProjection::All {
        // One item's size in the table and in each index.
        (table_gb * copies, month_gb * copies)
    } else {
        (table_gb + index_gb, month_gb + index_month_gb * indexes)
    };
    items.push(LineItem::new(
        format!(
            "Storage {stored} (table + {indexes} GSIs projecting {}{})",
            config.dynamodb_gsi_projection,
            match config.dynamodb_table_class {
                TableClass::Standard => "",
                TableClass::StandardInfrequentAccess => ", Standard-IA",
            }
        ),
        stored_gb,
        "GB-month",
        class.storage_gb_month,
    ));
    if config.dynamodb_point_in_time_recovery_enabled {
        // DynamoDB bills the table's size whatever the recovery period.
        let period = config
            .pitr_recovery_period()
            .map(|days| format!("; {days}-day recovery period, same price"))
            .unwrap_or_default();
        items.push(LineItem::new(
            format!("Point-in-time recovery (table size, indexes excluded{period})"),
            table_gb,
            "GB-month",
            p.dynamodb_pitr_gb_month,
        ));
    }
    let windows = aggregates::Windows::of_workload(config, w);
    if let Some(windows) = &windows {
        items.extend(aggregates::dynamodb_items(
            windows,
            config,
            (retained.month_one, &stored),
            p,
        ));
    }
    let pitr = if config.dynamodb_point_in_time_recovery_enabled {
        p.dynamodb_pitr_gb_month
    } else {
        0.0
    };
    let storage_usd =
        |months: f64| months * (stored_month_gb * class.storage_gb_month + month_gb * pitr);
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
            "DynamoDB item = event bytes + {} bytes of keys, copied fields and enrichment{}{} \
             (attribute names plus typical values; see ITEM_ATTRIBUTES); every event has a \
             productId, so each GSI receives every item",
            stored_item_bytes(config, 0.0),
            if config.dynamodb_ttl_days > 0 {
                " and expiresAt"
            } else {
                ""
            },
            if config.dynamodb_index_write_shards > 1 {
                " and the sharded index keys"
            } else {
                ""
            }
        ))
        .assume(steady_state)
        .assume_all(windows.iter().flat_map(|windows| {
            [
                aggregates::dynamodb_assumption(windows),
                windows.day_read(p),
            ]
        }))
        .assume_all(cap_ceilings(ctx, &class))
}

/// Write units per stored event: the table's and each index's.
struct Units {
    table: f64,
    index: f64,
    indexes: f64,
}

impl Units {
    fn per_item(&self) -> f64 {
        self.table + self.index * self.indexes
    }

    /// The most units one event takes on any one resource, the table or an index: what an
    /// equal cap on each holds first.
    fn on_one_resource(&self) -> f64 {
        if self.indexes > 0.0 {
            self.table.max(self.index)
        } else {
            self.table
        }
    }
}

/// The write units of the configured item and index entry at the load's event size.
fn write_units(ctx: &Context) -> Units {
    let bytes = ctx.workload.load.avg_event_bytes;
    Units {
        table: (stored_item_bytes(ctx.config, bytes) / WRITE_UNIT_BYTES).ceil(),
        index: (index_entry_bytes(ctx.config, bytes) / WRITE_UNIT_BYTES).ceil(),
        indexes: ctx.inventory.global_secondary_indexes as f64,
    }
}

/// The on-demand write cap (`dynamodb_max_on_demand_write_units`) in write request units a
/// second, on the table and on each index; `None` without one (or when provisioned).
fn write_cap(config: &Config) -> Option<f64> {
    let units = config.dynamodb_max_on_demand_write_units;
    (config.dynamodb_billing_mode == BillingMode::PayPerRequest && units > 0)
        .then(|| f64::from(units))
}

/// Events a second the write cap lets the table store: the cap over the units an event
/// takes on the resource it fills first. An index over its cap throttles the table's write
/// too (IndexWriteMaxOnDemandThroughputExceeded), so the index's entry counts as much as the
/// item. `None` without a cap.
pub fn events_per_second_under_cap(ctx: &Context) -> Option<f64> {
    write_cap(ctx.config).map(|cap| cap / write_units(ctx).on_one_resource())
}

/// The events of the month the table stores: every valid event, or what the write cap lets
/// through when the load asks more (the rest is throttled and backs up in the stream).
pub fn stored_events(ctx: &Context) -> f64 {
    let valid = ctx.workload.valid_events;
    match events_per_second_under_cap(ctx) {
        Some(rate) => valid.min(rate * SECONDS_PER_MONTH),
        None => valid,
    }
}

/// The warning when the load needs more write request units a second than the cap allows,
/// naming the key and the figures; `None` when it fits or there is no cap.
pub fn write_cap_short(ctx: &Context) -> Option<String> {
    let cap = write_cap(ctx.config)?;
    let allowed = events_per_second_under_cap(ctx)?;
    let asked = ctx.workload.valid_events / SECONDS_PER_MONTH;
    let units = write_units(ctx);
    (asked > allowed).then(|| {
        format!(
            "the write rate needs {} write request units a second on the busiest of the table \
             and its GSIs, more than dynamodb_max_on_demand_write_units ({cap}): writes over it \
             would be throttled (MaxOnDemandThroughputExceeded) and events would back up in the \
             stream; the DynamoDB estimate counts the {} events/s the cap lets through, of {}",
            number((asked * units.on_one_resource()).ceil()),
            number(allowed.floor()),
            number(asked.round())
        )
    })
}

/// What the on-demand caps bound, whatever the load: the write cap the month's write
/// request units on the table and every index, the read cap what reading them can cost
/// (reads are people's and tools', not in this estimate).
fn cap_ceilings(ctx: &Context, class: &ClassPrices) -> Vec<String> {
    let config = ctx.config;
    if config.dynamodb_billing_mode != BillingMode::PayPerRequest {
        return Vec::new();
    }
    let resources = 1.0 + ctx.inventory.global_secondary_indexes as f64;
    let month = |cap: u32| f64::from(cap) * resources * SECONDS_PER_MONTH / 1e6;
    let mut found = Vec::new();
    if let Some(cap) = (config.dynamodb_max_on_demand_write_units > 0)
        .then_some(config.dynamodb_max_on_demand_write_units)
    {
        found.push(format!(
            "dynamodb_max_on_demand_write_units = {cap} caps writes at {cap} WRU a second on \
             the table and on each of its {} GSIs: at most {} million WRU, ${:.2} a month of \
             writes, whatever the load (a cost ceiling; writes over it are throttled)",
            resources - 1.0,
            number(month(cap)),
            month(cap) * class.million_write_request_units
        ));
    }
    if let Some(cap) = (config.dynamodb_max_on_demand_read_units > 0)
        .then_some(config.dynamodb_max_on_demand_read_units)
    {
        found.push(format!(
            "dynamodb_max_on_demand_read_units = {cap} caps reads at {cap} RRU a second on the \
             table and on each of its {} GSIs: reading them (query, verify, rebuilds; not in \
             this estimate) costs at most {} million RRU, ${:.2} a month",
            resources - 1.0,
            number(month(cap)),
            month(cap) * class.million_read_request_units
        ));
    }
    found
}

/// Capacity-hours: auto scaling keeps each write capacity (the table's, each index's) at
/// the rate's need divided by the target utilization, within the configured base and
/// maximum; reads stay at the base.
fn provisioned(ctx: &Context, units: &Units, class: &ClassPrices) -> Vec<LineItem> {
    let config = ctx.config;
    let w = ctx.workload;
    let target = f64::from(config.dynamodb_autoscaling_target_utilization) / 100.0;
    let capacity = |units_per_item: f64| {
        let per_second = w.valid_events / SECONDS_PER_MONTH * units_per_item;
        (per_second / target)
            .ceil()
            .max(f64::from(config.dynamodb_write_capacity))
            .min(f64::from(config.dynamodb_max_write_capacity))
    };
    let (wcu, index_wcu) = (capacity(units.table), capacity(units.index));
    let copies = 1.0 + units.indexes;
    let writes = if wcu == index_wcu {
        LineItem::new(
            format!("Write capacity ({wcu} WCU × {copies} for the table and its GSIs)"),
            wcu * copies * HOURS_PER_MONTH,
            "WCU-hour",
            class.wcu_hour,
        )
    } else {
        LineItem::new(
            format!(
                "Write capacity ({wcu} WCU for the table, {index_wcu} for each of {} GSIs)",
                units.indexes
            ),
            (wcu + index_wcu * units.indexes) * HOURS_PER_MONTH,
            "WCU-hour",
            class.wcu_hour,
        )
    };
    let rcu = f64::from(config.dynamodb_read_capacity);
    vec![
        writes,
        LineItem::new(
            format!("Read capacity ({rcu} RCU × {copies}, the auto scaling minimum)"),
            rcu * copies * HOURS_PER_MONTH,
            "RCU-hour",
            class.rcu_hour,
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
    let units = (stored_item_bytes(config, w.load.avg_event_bytes) / WRITE_UNIT_BYTES).ceil();
    w.valid_events / SECONDS_PER_MONTH * units > f64::from(config.dynamodb_max_write_capacity)
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::super::super::{estimate as total, DEFAULT_LOAD, US_EAST_1};
    use crate::config::{GsiProjection, TableClass};

    fn storage(config: &Config) -> f64 {
        let estimate = total(config, DEFAULT_LOAD).expect("estimates");
        estimate.service("DynamoDB").unwrap().line_items[1].quantity
    }

    #[test]
    fn keys_only_indexes_store_their_keys_and_include_adds_the_attributes() {
        let keys_only = Config {
            dynamodb_gsi_projection: GsiProjection::KeysOnly,
            ..Config::default()
        };
        // userId 6 + 12, eventKey 8 + 50, eventTimestamp 14 + 8, eventType 9 + 12.
        assert_eq!(index_entry_bytes(&keys_only, 500.0), 119.0);
        let include = Config {
            dynamodb_gsi_projection: GsiProjection::Include,
            dynamodb_gsi_include_attributes: vec!["eventScore".into(), "originalEvent".into()],
            ..Config::default()
        };
        // ... + eventScore 10 + 2, originalEvent 13 + the event's 500.
        assert_eq!(index_entry_bytes(&include, 500.0), 119.0 + 12.0 + 513.0);
        assert_eq!(index_entry_bytes(&Config::default(), 500.0), 847.0);
        // A month of 262.8 M items: (847 + 100) bytes in the table, (119 + 100) in each of 2
        // indexes, against 3 × 947 with ALL.
        let events = 262_800_000.0;
        let gb = |bytes: f64| events * bytes / 1_073_741_824.0;
        assert!((storage(&keys_only) - (gb(947.0) + 2.0 * gb(219.0))).abs() < 1e-6);
        assert!((storage(&Config::default()) - 3.0 * gb(947.0)).abs() < 1e-6);
    }

    #[test]
    fn standard_ia_bills_storage_and_requests_at_its_own_prices() {
        let ia = Config {
            dynamodb_table_class: TableClass::StandardInfrequentAccess,
            ..Config::default()
        };
        let standard = total(&Config::default(), DEFAULT_LOAD).unwrap();
        let infrequent = total(&ia, DEFAULT_LOAD).unwrap();
        let items =
            |e: &super::super::super::Estimate| e.service("DynamoDB").unwrap().line_items.clone();
        let (s, i) = (items(&standard), items(&infrequent));
        assert_eq!(i[0].quantity, s[0].quantity);
        assert_eq!(
            i[0].unit_price_usd,
            US_EAST_1.dynamodb_ia_million_write_request_units
        );
        assert_eq!(i[1].quantity, s[1].quantity);
        assert_eq!(i[1].unit_price_usd, 0.10);
        assert!(
            i[1].item.ends_with("projecting ALL, Standard-IA)"),
            "{}",
            i[1].item
        );
        // In the first month writes dominate (3 WRU per event), so Standard-IA costs more:
        // it pays off only once months of stored items outweigh the writes.
        assert!(
            infrequent.service("DynamoDB").unwrap().monthly_usd()
                > standard.service("DynamoDB").unwrap().monthly_usd()
        );
    }

    fn capped(write: u32, read: u32) -> Config {
        Config {
            dynamodb_max_on_demand_write_units: write,
            dynamodb_max_on_demand_read_units: read,
            ..Config::default()
        }
    }

    /// A cap above the load changes no figure but states the ceiling it puts on the month.
    #[test]
    fn a_cap_above_the_load_states_its_ceiling() {
        let plain = total(&Config::default(), DEFAULT_LOAD).unwrap();
        let roomy = total(&capped(1000, 2000), DEFAULT_LOAD).unwrap();
        let dynamodb = |e: &super::super::super::Estimate| e.service("DynamoDB").unwrap().clone();
        assert_eq!(
            dynamodb(&roomy).line_items,
            dynamodb(&plain).line_items,
            "the load fits"
        );
        assert!(roomy.warnings.is_empty(), "{:?}", roomy.warnings);
        // 1,000 WRU/s on the table and 2 GSIs for 2,628,000 s: 7,884 million WRU at 0.625.
        let assumptions = dynamodb(&roomy).assumptions;
        assert!(
            assumptions.iter().any(|a| a.starts_with(
                "dynamodb_max_on_demand_write_units = 1000 caps writes at 1000 WRU a second on \
                 the table and on each of its 2 GSIs: at most 7,884 million WRU, $4927.50 a \
                 month of writes"
            )),
            "{assumptions:#?}"
        );
        // 2,000 RRU/s: 15,768 million RRU at 0.125.
        assert!(
            assumptions.iter().any(|a| a.contains(
                "caps reads at 2000 RRU a second on the table and on each of its 2 GSIs: reading \
                 them (query, verify, rebuilds; not in this estimate) costs at most 15,768 \
                 million RRU, $1971.00 a month"
            )),
            "{assumptions:#?}"
        );
    }

    /// A cap below the load bounds the writes, storage and point-in-time recovery to what
    /// it lets through, and the estimate warns that the rest would be throttled.
    #[test]
    fn a_cap_below_the_load_is_the_cost_ceiling_and_warned_about() {
        let plain = total(&Config::default(), DEFAULT_LOAD).unwrap();
        let tight = total(&capped(50, 0), DEFAULT_LOAD).unwrap();
        let items =
            |e: &super::super::super::Estimate| e.service("DynamoDB").unwrap().line_items.clone();
        let (p, t) = (items(&plain), items(&tight));
        // 50 of the 100 events/s: half of every event-driven figure.
        for i in 0..3 {
            assert!(
                (t[i].quantity - p[i].quantity / 2.0).abs() < 1e-9,
                "{:?} vs {:?}",
                t[i],
                p[i]
            );
        }
        assert!(
            t[0].item
                .ends_with("held to dynamodb_max_on_demand_write_units = 50)"),
            "{}",
            t[0].item
        );
        assert_eq!(
            tight.warnings,
            ["the write rate needs 100 write request units a second on the busiest of the table \
              and its GSIs, more than dynamodb_max_on_demand_write_units (50): writes over it \
              would be throttled (MaxOnDemandThroughputExceeded) and events would back up in the \
              stream; the DynamoDB estimate counts the 50 events/s the cap lets through, of 100"]
        );
    }

    #[test]
    fn the_recovery_period_does_not_change_the_price() {
        let week = Config {
            dynamodb_pitr_recovery_days: 7,
            ..Config::default()
        };
        let plain = total(&Config::default(), DEFAULT_LOAD).unwrap();
        let short = total(&week, DEFAULT_LOAD).unwrap();
        assert_eq!(short.total_usd(), plain.total_usd());
        let pitr = &short.service("DynamoDB").unwrap().line_items[2];
        assert_eq!(
            pitr.item,
            "Point-in-time recovery (table size, indexes excluded; 7-day recovery period, same \
             price)"
        );
    }

    #[test]
    fn a_500_byte_event_makes_an_item_of_one_write_unit() {
        assert_eq!(added_bytes(), 347);
        assert_eq!(item_bytes(500.0), 847.0);
        assert_eq!((item_bytes(700.0) / WRITE_UNIT_BYTES).ceil(), 2.0);
    }
}
