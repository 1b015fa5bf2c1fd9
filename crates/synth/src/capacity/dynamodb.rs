//! The table and each global secondary index: events per second before writes throttle.
//!
//! Every event writes its item to the table and to each index (both project `ALL`, so the
//! index entry is as big as the item). Two limits hold for each:
//!
//! ```text
//! per key value = 1,000 WCU/s × write shards / (hottest value's share × WCU per item)
//! capacity      = write capacity (template) / WCU per item
//! ```
//!
//! DynamoDB serves at most 1,000 write units a second for one partition key value; an
//! index's sort key (`eventTimestamp`) only grows, so splitting for heat cannot help, and a
//! throttled index write fails the table write too. With `dynamodb_index_write_shards` = N
//! the index keys become `value#shard` over N shards picked by a hash of the item's key, so
//! the hottest value's limit is N times higher. The shares are the event mix's (event
//! types) and the event generator's (users, products): see `traffic` and `mix`.

use contract::index;
use serde_json::json;

use super::mix::{percent, EventMix};
use super::template::{CapacitySource, IndexFacts, TableFacts, WriteCapacity};
use super::{traffic, Stage};
use crate::config::Config;
use crate::cost::services::dynamodb::{configured_item_bytes, ITEM_ATTRIBUTES, WRITE_UNIT_BYTES};

/// The base table's stage name, and the `bottleneck` when it sets the ceiling.
pub const TABLE: &str = "Table";

/// Write units a second that one partition key value takes (DynamoDB developer guide,
/// partitions: a partition serves at most 1,000 WCU).
pub const WCU_PER_KEY_VALUE: f64 = 1000.0;

/// The write-sharded index key attributes and the plain attribute each one carries with a
/// `#shard` suffix.
const SHARDED_KEYS: &[(&str, &str)] = &[
    (index::EVENT_TYPE_SHARD, "eventType"),
    (index::PRODUCT_ID_SHARD, "productId"),
];

/// How events spread over one partition key attribute's values.
#[derive(Debug, Clone, PartialEq)]
pub struct KeySpread {
    /// The hottest value, for people (`eventType "view"`).
    pub hottest: String,
    /// Its share of all events.
    pub share: f64,
    /// Partition key values each value is spread over (1 unless write-sharded).
    pub shards: u32,
}

/// How events spread over `attribute`'s values, or `None` for an attribute the model does
/// not know (then only the capacity limit applies).
pub fn key_spread(attribute: &str, mix: &EventMix, write_shards: u32) -> Option<KeySpread> {
    let (plain, shards) = match SHARDED_KEYS
        .iter()
        .find(|(sharded, _)| *sharded == attribute)
    {
        Some((_, plain)) => (*plain, write_shards.max(1)),
        None => (attribute, 1),
    };
    let (hottest, share) = match plain {
        "userId" => (
            format!(
                "the busiest of the generator's {} users",
                traffic::RECIPE_USERS
            ),
            traffic::hottest_user_share(),
        ),
        "eventType" => {
            let (name, share) = mix.hottest();
            (format!("eventType \"{name}\""), share)
        }
        "productId" => (
            format!(
                "the best-selling of the generator's {} products",
                traffic::RECIPE_PRODUCTS
            ),
            traffic::hottest_product_share(),
        ),
        _ => return None,
    };
    Some(KeySpread {
        hottest,
        share,
        shards,
    })
}

/// The item's size: the cost model's item for the event, plus the sharded index key
/// attributes the template's indexes are keyed on (name, a typical value, `#shard`).
pub fn item_bytes(config: &Config, event_bytes: f64, facts: &TableFacts) -> f64 {
    let sharded: usize = facts
        .indexes
        .iter()
        .filter_map(|gsi| {
            let (name, plain) = SHARDED_KEYS
                .iter()
                .find(|(sharded, _)| *sharded == gsi.partition_key)?;
            let value = ITEM_ATTRIBUTES.iter().find(|(n, _)| n == plain)?.1;
            Some(name.len() + value + index::SUFFIX_MAX_BYTES)
        })
        .sum();
    configured_item_bytes(config, event_bytes) + sharded as f64
}

/// Write units for one item of `bytes`.
pub fn units_per_item(bytes: f64) -> f64 {
    (bytes / WRITE_UNIT_BYTES).ceil().max(1.0)
}

/// The stages: the table, then each index in the template's order.
pub fn stages(
    config: &Config,
    event_bytes: f64,
    mix: &EventMix,
    facts: &TableFacts,
    write_shards: u32,
) -> Vec<Stage> {
    let item = item_bytes(config, event_bytes, facts);
    let table = Writes {
        name: TABLE,
        partition_key: &facts.partition_key,
        item_bytes: item,
        capacity: facts.capacity,
        spread: key_spread(&facts.partition_key, mix, write_shards),
    };
    let mut stages = vec![table.stage(None)];
    for index in &facts.indexes {
        let writes = Writes {
            name: &index.name,
            partition_key: &index.partition_key,
            item_bytes: item,
            capacity: index.capacity,
            spread: key_spread(&index.partition_key, mix, write_shards),
        };
        stages.push(writes.stage(Some(index)));
    }
    stages
}

/// One table's or index's writes.
struct Writes<'a> {
    name: &'a str,
    partition_key: &'a str,
    item_bytes: f64,
    capacity: WriteCapacity,
    spread: Option<KeySpread>,
}

impl Writes<'_> {
    fn stage(&self, index: Option<&IndexFacts>) -> Stage {
        let units = units_per_item(self.item_bytes);
        let by_capacity = self.capacity.units / units;
        let by_key = self
            .spread
            .as_ref()
            .filter(|s| s.share > 0.0)
            .map(|s| WCU_PER_KEY_VALUE * f64::from(s.shards) / (s.share * units));
        let capacity_text = format!(
            "{} {} WCU/s / {units} WCU per item",
            self.capacity.source.describe(),
            crate::cost::render::number(self.capacity.units)
        );
        let (events_per_second, limited_by) = match (&self.spread, by_key) {
            (Some(spread), Some(by_key)) if by_key <= by_capacity => (
                by_key,
                format!(
                    "{} ({} % of events) over {} key value(s): 1,000 WCU/s × {} / ({} × {units} WCU)",
                    spread.hottest,
                    percent(spread.share),
                    spread.shards,
                    spread.shards,
                    crate::cost::render::number((spread.share * 1e4).round() / 1e4),
                ),
            ),
            _ => (by_capacity, capacity_text),
        };
        let mut stage = Stage::new(self.name, events_per_second, limited_by)
            .input("partition_key", json!(self.partition_key))
            .input("item_bytes", json!(self.item_bytes))
            .input("wcu_per_item", json!(units))
            .input("write_capacity_units", json!(self.capacity.units))
            .input(
                "write_capacity_source",
                json!(self.capacity.source.describe()),
            )
            .input("events_per_second_by_capacity", json!(round(by_capacity)));
        if let Some(spread) = &self.spread {
            stage = stage
                .input("hottest_key_value", json!(spread.hottest))
                .input("hottest_key_share", json!(spread.share))
                .input("key_values_per_value", json!(spread.shards))
                .input("wcu_per_key_value", json!(WCU_PER_KEY_VALUE))
                .input("events_per_second_by_key", json!(by_key.map(round)));
        } else {
            stage = stage.note(format!(
                "How events spread over {} is not modelled: only the capacity limit is counted",
                self.partition_key
            ));
        }
        if self.capacity.source == CapacitySource::OnDemandMaximum {
            stage = stage.note(cap_note(self.name, self.capacity.units, index.is_some()));
        }
        if let Some(index) = index {
            stage = stage.input("projection", json!(index.projection));
            if index.projection != "ALL" {
                stage = stage.note(format!(
                    "Projection {} makes index entries smaller than the item; the item's size \
                     is counted, so this figure is low",
                    index.projection
                ));
            }
        }
        stage
    }
}

/// What an on-demand cap (`dynamodb_max_on_demand_write_units`) does at this stage: writes
/// over it are throttled, and an index's cap throttles the table's writes as well, since a
/// write whose index entry cannot be written fails on the table too.
fn cap_note(name: &str, units: f64, index: bool) -> String {
    let units = crate::cost::render::number(units);
    if index {
        format!(
            "dynamodb_max_on_demand_write_units caps {name} at {units} write request units a \
             second: a table write whose entry in {name} would go over it is throttled with \
             it (throttling reason MaxOnDemandThroughputExceeded, in full \
             IndexWriteMaxOnDemandThroughputExceeded), so the index's cap throttles the \
             table's writes; the processor retries, then Lambda retries the batch from the \
             stream"
        )
    } else {
        format!(
            "dynamodb_max_on_demand_write_units caps the table at {units} write request units \
             a second: writes over it are throttled (throttling reason \
             MaxOnDemandThroughputExceeded, in full TableWriteMaxOnDemandThroughputExceeded); \
             the processor retries, then Lambda retries the batch from the stream"
        )
    }
}

fn round(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::super::template::table_facts;
    use super::*;

    fn facts(config: &Config) -> TableFacts {
        table_facts(&crate::stack::build(config).to_document().unwrap()).unwrap()
    }

    #[test]
    fn the_recipes_event_type_index_tops_out_near_1700_events() {
        let config = Config::default();
        let stages = stages(&config, 500.0, &EventMix::default(), &facts(&config), 1);
        let names: Vec<&str> = stages.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["Table", "EventTypeIndex", "ProductIndex"]);
        // An 847-byte item is 1 WCU; views are 60 % of events: 1,000 / 0.6.
        assert_eq!(stages[1].events_per_second, 1000.0 / 0.6);
        // The busiest of 100 users: 1,000 / 0.01; the best seller of 500: 1,000 / 0.002,
        // above the 40,000 WRU table quota.
        assert_eq!(stages[0].events_per_second, 40_000.0);
        assert_eq!(stages[2].events_per_second, 40_000.0);
        assert!(stages[1]
            .limited_by
            .contains("eventType \"view\" (60 % of events)"));
    }

    #[test]
    fn write_shards_multiply_only_the_sharded_keys_limit() {
        let spread = key_spread("eventTypeShard", &EventMix::default(), 8).unwrap();
        assert_eq!((spread.share, spread.shards), (0.6, 8));
        assert_eq!(
            key_spread("eventType", &EventMix::default(), 8)
                .unwrap()
                .shards,
            1
        );
        assert_eq!(
            key_spread("userId", &EventMix::default(), 8)
                .unwrap()
                .shards,
            1
        );
        assert_eq!(key_spread("sessionId", &EventMix::default(), 8), None);
    }

    /// The on-demand write cap is the table's and each index's ceiling, and each stage says
    /// how the cap throttles, an index's cap the table's writes too.
    #[test]
    fn the_on_demand_write_cap_is_the_ceiling_of_the_table_and_each_index() {
        let config = Config {
            dynamodb_max_on_demand_write_units: 300,
            ..Config::default()
        };
        let capped_facts = facts(&config);
        let capped = stages(&config, 500.0, &EventMix::default(), &capped_facts, 1);
        for stage in &capped {
            assert_eq!(stage.events_per_second, 300.0, "{}", stage.name);
            assert!(
                stage
                    .limited_by
                    .starts_with("on-demand maximum throughput 300 WCU/s"),
                "{}",
                stage.limited_by
            );
            assert!(
                stage
                    .notes
                    .iter()
                    .any(|n| n.contains("MaxOnDemandThroughputExceeded")),
                "{:?}",
                stage.notes
            );
        }
        assert!(capped[1].notes.iter().any(|n| n.contains(
            "IndexWriteMaxOnDemandThroughputExceeded), so the index's cap throttles the table's \
             writes"
        )));
        // A 700-byte event makes a 2-unit item: the cap takes half as many events.
        let big = stages(&config, 700.0, &EventMix::default(), &capped_facts, 1);
        assert_eq!(big[0].events_per_second, 150.0);
        // Without a cap, no note.
        let plain = Config::default();
        let uncapped = stages(&plain, 500.0, &EventMix::default(), &facts(&plain), 1);
        assert!(uncapped
            .iter()
            .flat_map(|s| &s.notes)
            .all(|n| !n.contains("MaxOnDemandThroughputExceeded")));
    }

    #[test]
    fn items_over_1_kib_take_two_units() {
        assert_eq!(units_per_item(847.0), 1.0);
        assert_eq!(units_per_item(1024.0), 1.0);
        assert_eq!(units_per_item(1025.0), 2.0);
        let config = Config::default();
        let stages = stages(&config, 700.0, &EventMix::default(), &facts(&config), 1);
        assert_eq!(stages[1].events_per_second, 1000.0 / (0.6 * 2.0));
    }
}
