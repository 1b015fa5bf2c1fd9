//! The pure core of an invocation: Kinesis records in, the items to write and the dead
//! letters to send out, plus which of them each record depends on. No I/O here, so every
//! branch is unit-tested and benchmarked without AWS.

use std::hash::{BuildHasher, RandomState};

use aws_lambda_events::event::kinesis::KinesisEventRecord;
use events::{Item, RecordContext};
use hashbrown::HashTable;

use crate::dead_letter::{self, DeadLetter, Origin, Writer};
use crate::index_shards::IndexShards;
use kinesis_codec::kpl::{self, Deaggregated};

/// The error type of a KPL aggregate that cannot be read (its user records are unknown).
pub const CORRUPT_AGGREGATE: &str = "CorruptAggregate";

/// What one invocation must deliver.
#[derive(Debug, Default)]
pub struct Plan {
    /// Items with distinct keys, in first-seen order.
    pub items: Vec<Item>,
    /// Dead letters, in record order.
    pub letters: Vec<DeadLetter>,
    /// Per Kinesis record (same order as the event): the items and letters it needs.
    pub needs: Vec<Needs>,
    /// User records seen (a KPL aggregate counts its user records).
    pub user_records: usize,
}

/// What must be delivered for one Kinesis record to count as handled.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Needs {
    /// Indices into [`Plan::items`].
    pub items: Vec<usize>,
    /// Indices into [`Plan::letters`].
    pub letters: Vec<usize>,
}

/// Builds the plan. `processed_at_ms` stamps every item's processing time; `item_ttl_days`,
/// when not 0, gives every item its `expiresAt` that many days after its event.
pub fn plan(
    records: &[KinesisEventRecord],
    writer: Writer,
    processed_at_ms: i64,
    item_ttl_days: u32,
) -> Plan {
    plan_for_shards(
        records,
        writer,
        (processed_at_ms, item_ttl_days),
        IndexShards::NONE,
    )
}

/// [`plan`] for a table sink that adds the write-sharded index keys of `shards` to every
/// item: a record whose item could not be written with them (a key or the item too large,
/// see [`IndexShards::refusal`]) becomes a dead letter instead of an item.
pub fn plan_for_shards(
    records: &[KinesisEventRecord],
    writer: Writer,
    (processed_at_ms, item_ttl_days): (i64, u32),
    shards: IndexShards,
) -> Plan {
    plan_with(
        records,
        writer,
        Settings {
            processed_at_ms,
            item_ttl_days,
            index_shards: shards,
            claim_bucket: None,
        },
    )
}

/// How a plan is made: the invocation's clock and what the function is configured with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings<'a> {
    /// The items' processing time, epoch ms.
    pub processed_at_ms: i64,
    /// Days after its event that an item expires; 0 never.
    pub item_ttl_days: u32,
    /// The write-sharded index keys the table sink adds (see [`plan_for_shards`]).
    pub index_shards: IndexShards,
    /// The failure bucket: a dead letter too large for SQS keeps its record there (a claim
    /// check, [`DeadLetter::claim_check`]); `None` keeps only its place in the stream.
    pub claim_bucket: Option<&'a str>,
}

/// The plan with every setting: [`plan_for_shards`] plus claim checks.
pub fn plan_with(records: &[KinesisEventRecord], writer: Writer, settings: Settings) -> Plan {
    let mut plan = Plan {
        needs: Vec::with_capacity(records.len()),
        ..Plan::default()
    };
    plan.items.reserve(records.len());
    let mut by_key = ByKey::with_capacity(records.len());
    for record in records {
        let mut needs = Needs::default();
        add_record(&mut plan, &mut by_key, &mut needs, record, writer, settings);
        plan.needs.push(needs);
    }
    plan
}

/// Where each key's item is in [`Plan::items`]. Two records with one key (a producer retry,
/// a replay inside one batch) become one write: BatchWriteItem refuses duplicate keys, and
/// the later record wins as it would have if written one by one.
///
/// The table holds only indices and hashes the keys the items already have, so merging
/// costs no copy of a key per record.
struct ByKey {
    indices: HashTable<usize>,
    hasher: RandomState,
}

impl ByKey {
    fn with_capacity(capacity: usize) -> ByKey {
        ByKey {
            indices: HashTable::with_capacity(capacity),
            hasher: RandomState::new(),
        }
    }

    fn hash(&self, item: &Item) -> u64 {
        self.hasher
            .hash_one((item.partition_key(), item.sort_key()))
    }

    /// Adds `item` to `items`, replacing the item of the same key if there is one; its index.
    fn add(&mut self, items: &mut Vec<Item>, item: Item) -> usize {
        let hash = self.hash(&item);
        let same_key = |&index: &usize| {
            let other: &Item = &items[index];
            (other.partition_key(), other.sort_key()) == (item.partition_key(), item.sort_key())
        };
        if let Some(&index) = self.indices.find(hash, same_key) {
            items[index] = item;
            return index;
        }
        items.push(item);
        let index = items.len() - 1;
        let hasher = &self.hasher;
        self.indices.insert_unique(hash, index, |&i| {
            hasher.hash_one((items[i].partition_key(), items[i].sort_key()))
        });
        index
    }
}

fn add_record(
    plan: &mut Plan,
    by_key: &mut ByKey,
    needs: &mut Needs,
    record: &KinesisEventRecord,
    writer: Writer,
    settings: Settings,
) {
    let Settings {
        processed_at_ms,
        item_ttl_days,
        index_shards: shards,
        claim_bucket,
    } = settings;
    let kinesis = &record.kinesis;
    let event_id = record
        .event_id
        .as_deref()
        .unwrap_or(kinesis.sequence_number.as_str());
    let arrival = kinesis.approximate_arrival_timestamp.0;
    let origin = |sub: Option<u64>| Origin {
        event_id,
        partition_key: &kinesis.partition_key,
        sequence_number: &kinesis.sequence_number,
        sub_sequence_number: sub,
        approximate_arrival_timestamp: arrival.timestamp_millis() as f64 / 1000.0,
    };
    let mut add_unit = |plan: &mut Plan, data: &[u8], id: &str, sub: Option<u64>| {
        plan.user_records += 1;
        let ctx = RecordContext {
            event_id: id,
            arrival_ms: arrival.timestamp_millis(),
            processed_at_ms,
        };
        match events::process_record_with_ttl(data, &ctx, item_ttl_days)
            .map_err(|r| (r.kind, r.message))
            .and_then(|item| shards.refusal(&item).map_or(Ok(item), Err))
        {
            Ok(item) => needs.items.push(by_key.add(&mut plan.items, item)),
            Err((kind, message)) => {
                let letter = dead_letter::build_with_claim_check(
                    &origin(sub),
                    writer,
                    (&message, kind.as_str()),
                    data,
                    claim_bucket,
                );
                plan.letters.push(letter);
                needs.letters.push(plan.letters.len() - 1);
            }
        }
    };
    match kpl::deaggregate(&kinesis.data.0) {
        Ok(Deaggregated::Single(data)) => add_unit(plan, data, event_id, None),
        Ok(Deaggregated::Aggregate(users)) => {
            for user in users {
                let id = format!("{event_id}:{}", user.sub_sequence_number);
                add_unit(plan, user.data, &id, Some(user.sub_sequence_number));
            }
        }
        Err(err) => {
            plan.user_records += 1;
            let message = err.to_string();
            plan.letters.push(dead_letter::build_with_claim_check(
                &origin(None),
                writer,
                (&message, CORRUPT_AGGREGATE),
                &kinesis.data.0,
                claim_bucket,
            ));
            needs.letters.push(plan.letters.len() - 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use events::AttrRef;

    fn item(user: &str, event_id: &str, product: &str) -> Item {
        let json = format!(
            r#"{{"userId":"{user}","eventType":"view","eventId":"{event_id}","productId":"{product}","timestamp":1700000000000}}"#
        );
        let ctx = RecordContext {
            event_id: "shardId-0:1",
            arrival_ms: 0,
            processed_at_ms: 0,
        };
        events::process_record(json.as_bytes(), &ctx).expect("a valid event")
    }

    fn product(item: &Item) -> &str {
        match item.get("productId") {
            Some(AttrRef::S(p)) => p,
            other => panic!("productId must be a string, got {other:?}"),
        }
    }

    #[test]
    fn a_later_record_of_the_same_key_replaces_the_earlier_in_its_place() {
        let mut items = Vec::new();
        let mut by_key = ByKey::with_capacity(1);
        assert_eq!(by_key.add(&mut items, item("u1", "e1", "p1")), 0);
        assert_eq!(by_key.add(&mut items, item("u2", "e1", "p1")), 1);
        assert_eq!(by_key.add(&mut items, item("u1", "e2", "p1")), 2);
        assert_eq!(by_key.add(&mut items, item("u1", "e1", "p2")), 0);
        assert_eq!(items.len(), 3);
        assert_eq!(product(&items[0]), "p2");
        // Past its first capacity the table still finds every key.
        for i in 0..100 {
            assert_eq!(
                by_key.add(&mut items, item("u3", &i.to_string(), "p")),
                3 + i
            );
        }
        for i in 0..100 {
            assert_eq!(
                by_key.add(&mut items, item("u3", &i.to_string(), "q")),
                3 + i
            );
        }
        assert_eq!(items.len(), 103);
        assert!(items[3..].iter().all(|item| product(item) == "q"));
    }
}
