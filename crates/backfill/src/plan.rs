//! What one stored item needs so the indexes find it: the pure decision, no AWS call.
//!
//! The state every item must be in is the one the processor writes (docs/design.md,
//! "Write-sharded index keys"): with N > 1 write shards, `eventTypeShard` =
//! `eventType#s` and, when the item has a `productId`, `productIdShard` = `productId#s`,
//! where `s` = `contract::index::shard_of(userId, eventKey, N)`; with N = 1 neither (the
//! indexes are keyed on the plain attributes, and a processor with one shard writes none).
//! An item written before the shard count changed lacks the attributes, or has them for
//! another count; [`plan`] says which attributes to set and which to remove.
//!
//! The change is made with one `UpdateItem` whose condition ([`Change::condition`]) says
//! that the attributes the new values are computed from (`eventType`, `productId`) and the
//! ones it replaces (`eventTypeShard`, `productIdShard`) are still what the scan read. So:
//!
//! - an item the processor rewrote meanwhile (a replay, a redrive, a function with another
//!   shard count) keeps what the processor wrote: its shard attributes are no longer as
//!   scanned, the condition fails, and the backfill counts it `skipped_conditional`;
//! - an item deleted meanwhile (Time to Live) stays deleted: `eventType = :v` is false for
//!   an item that is not there, so `UpdateItem` cannot create a stub holding only keys and
//!   shard attributes;
//! - the rest of the item is never touched: `SET` and `REMOVE` name the two shard
//!   attributes only.
//!
//! Nothing else needs guarding: the values follow from the item's key (which an update
//! cannot change), its `eventType` and its `productId`, all three in the condition.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use contract::index::{self, EVENT_TYPE_SHARD, PRODUCT_ID_SHARD};
use events::MAX_PARTITION_KEY_BYTES;

/// A stored item as the Scan returns it.
pub type Item = HashMap<String, AttributeValue>;

/// The table's partition key.
pub const USER_ID: &str = "userId";
/// The table's sort key.
pub const EVENT_KEY: &str = "eventKey";
/// The event type, from which `eventTypeShard` is computed.
pub const EVENT_TYPE: &str = "eventType";
/// The product, from which `productIdShard` is computed.
pub const PRODUCT_ID: &str = "productId";

/// The attributes the Scan reads: the key and what the shard attributes follow from, and
/// the shard attributes themselves. (A projection does not lower a Scan's cost, which is
/// by item size, but keeps the answers small.)
pub const READ: [&str; 6] = [
    USER_ID,
    EVENT_KEY,
    EVENT_TYPE,
    PRODUCT_ID,
    EVENT_TYPE_SHARD,
    PRODUCT_ID_SHARD,
];

/// The attributes an update's condition checks, in the condition's order.
const GUARDED: [&str; 4] = [EVENT_TYPE, PRODUCT_ID, EVENT_TYPE_SHARD, PRODUCT_ID_SHARD];

/// An item's key: (`userId`, `eventKey`), both strings.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    /// `userId`.
    pub user_id: String,
    /// `eventKey`.
    pub event_key: String,
}

impl Key {
    /// The key of `item`, when both key attributes are strings.
    pub fn of(item: &Item) -> Option<Key> {
        Some(Key {
            user_id: text(item, USER_ID)?.to_owned(),
            event_key: text(item, EVENT_KEY)?.to_owned(),
        })
    }

    /// The key as DynamoDB takes it (`Key`, `ExclusiveStartKey`).
    pub fn to_item(&self) -> Item {
        HashMap::from([
            (USER_ID.to_owned(), AttributeValue::S(self.user_id.clone())),
            (
                EVENT_KEY.to_owned(),
                AttributeValue::S(self.event_key.clone()),
            ),
        ])
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "userId={} eventKey={}", self.user_id, self.event_key)
    }
}

/// What an item needs.
#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    /// Nothing: its shard attributes are what the processor writes today.
    Already,
    /// One conditional update.
    Update(Change),
    /// It cannot be given the attributes (not an event item, or a sharded key too long for
    /// DynamoDB); left as it is.
    Invalid {
        /// Its key, when it has one.
        key: Option<Key>,
        /// Why, naming the attribute, the rule and the value's size.
        reason: String,
    },
}

/// The update one item needs, and the state it was read in.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// The item.
    pub key: Key,
    /// Shard attributes to set, with their values.
    pub set: Vec<(&'static str, String)>,
    /// Shard attributes to remove.
    pub remove: Vec<&'static str>,
    /// The guarded attributes as the scan read them (`None`: absent).
    pub read: Vec<(&'static str, Option<AttributeValue>)>,
}

/// What `item` needs so that the indexes of a table with `shards` write shards find it.
pub fn plan(item: &Item, shards: u32) -> Plan {
    let Some(key) = Key::of(item) else {
        return Plan::Invalid {
            key: None,
            reason: format!("has no string {USER_ID} and {EVENT_KEY}"),
        };
    };
    let Some(event_type) = text(item, EVENT_TYPE).filter(|t| !t.is_empty()) else {
        return Plan::Invalid {
            key: Some(key),
            reason: format!("has no string {EVENT_TYPE}: not an event item"),
        };
    };
    let product = text(item, PRODUCT_ID).filter(|p| !p.is_empty());
    let sharded = |value: &str| index::shard_key(value, &key.user_id, &key.event_key, shards);
    let wanted = if shards > 1 {
        [
            (EVENT_TYPE_SHARD, Some(sharded(event_type))),
            (PRODUCT_ID_SHARD, product.map(sharded)),
        ]
    } else {
        [(EVENT_TYPE_SHARD, None), (PRODUCT_ID_SHARD, None)]
    };
    if let Some((name, value)) = wanted
        .iter()
        .find_map(|(name, value)| Some((name, value.as_ref()?)))
        .filter(|(_, value)| value.len() > MAX_PARTITION_KEY_BYTES)
    {
        return Plan::Invalid {
            key: Some(key),
            reason: format!(
                "{name} would be {} bytes, over DynamoDB's {MAX_PARTITION_KEY_BYTES}-byte key \
                 (the processor dead-letters such events)",
                value.len()
            ),
        };
    }
    let mut set = Vec::new();
    let mut remove = Vec::new();
    for (name, want) in wanted {
        match (want, item.get(name)) {
            (Some(want), Some(AttributeValue::S(have))) if *have == want => {}
            (Some(want), _) => set.push((name, want)),
            (None, Some(_)) => remove.push(name),
            (None, None) => {}
        }
    }
    if set.is_empty() && remove.is_empty() {
        return Plan::Already;
    }
    let read = GUARDED
        .iter()
        .map(|name| (*name, item.get(*name).cloned()))
        .collect();
    Plan::Update(Change {
        key,
        set,
        remove,
        read,
    })
}

impl Change {
    /// `SET #eventTypeShard = :set0, ... REMOVE #productIdShard`.
    pub fn update_expression(&self) -> String {
        let mut parts = Vec::new();
        if !self.set.is_empty() {
            let sets: Vec<String> = self
                .set
                .iter()
                .enumerate()
                .map(|(i, (name, _))| format!("#{name} = :set{i}"))
                .collect();
            parts.push(format!("SET {}", sets.join(", ")));
        }
        if !self.remove.is_empty() {
            let removes: Vec<String> = self.remove.iter().map(|name| format!("#{name}")).collect();
            parts.push(format!("REMOVE {}", removes.join(", ")));
        }
        parts.join(" ")
    }

    /// The condition: every guarded attribute as read, `#a = :read0` or
    /// `attribute_not_exists(#a)`, joined by `AND`. `eventType` is always present, so the
    /// condition also requires the item to exist.
    pub fn condition(&self) -> String {
        let terms: Vec<String> = self
            .read
            .iter()
            .enumerate()
            .map(|(i, (name, value))| match value {
                Some(_) => format!("#{name} = :read{i}"),
                None => format!("attribute_not_exists(#{name})"),
            })
            .collect();
        terms.join(" AND ")
    }

    /// `ExpressionAttributeNames`: `#name` for every attribute the expressions name (names
    /// such as these are not reserved words, but placeholders keep it so for any).
    pub fn names(&self) -> HashMap<String, String> {
        self.read
            .iter()
            .map(|(name, _)| *name)
            .chain(self.set.iter().map(|(name, _)| *name))
            .chain(self.remove.iter().copied())
            .map(|name| (format!("#{name}"), name.to_owned()))
            .collect()
    }

    /// `ExpressionAttributeValues`: `:setN` for the new values, `:readN` for the values the
    /// condition expects.
    pub fn values(&self) -> HashMap<String, AttributeValue> {
        let set = self
            .set
            .iter()
            .enumerate()
            .map(|(i, (_, value))| (format!(":set{i}"), AttributeValue::S(value.clone())));
        let read = self
            .read
            .iter()
            .enumerate()
            .filter_map(|(i, (_, value))| Some((format!(":read{i}"), value.clone()?)));
        set.chain(read).collect()
    }
}

fn text<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    match item.get(name) {
        Some(AttributeValue::S(value)) => Some(value),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(value: &str) -> AttributeValue {
        AttributeValue::S(value.to_owned())
    }

    /// An event item as the processor stores it with one shard (only what matters here).
    fn item(event_type: &str, product: Option<&str>) -> Item {
        let mut item = HashMap::from([
            (USER_ID.to_owned(), s("user_00001")),
            (EVENT_KEY.to_owned(), s("1764000000000#e3")),
            (EVENT_TYPE.to_owned(), s(event_type)),
            (
                "eventTimestamp".to_owned(),
                AttributeValue::N("1764000000000".into()),
            ),
        ]);
        if let Some(product) = product {
            item.insert(PRODUCT_ID.to_owned(), s(product));
        }
        item
    }

    fn change(plan: Plan) -> Change {
        match plan {
            Plan::Update(change) => change,
            other => panic!("expected an update, got {other:?}"),
        }
    }

    #[test]
    fn an_item_written_with_one_shard_gets_the_processors_values() {
        // contract::index pins shard_of("user_00001", "1764000000000#e3", 8) = 6.
        let plan = change(plan(&item("purchase", Some("p1")), 8));
        assert_eq!(
            plan.set,
            [
                (EVENT_TYPE_SHARD, "purchase#6".to_owned()),
                (PRODUCT_ID_SHARD, "p1#6".to_owned())
            ]
        );
        assert!(plan.remove.is_empty());
        assert_eq!(
            plan.update_expression(),
            "SET #eventTypeShard = :set0, #productIdShard = :set1"
        );
        assert_eq!(
            plan.condition(),
            "#eventType = :read0 AND #productId = :read1 AND \
             attribute_not_exists(#eventTypeShard) AND attribute_not_exists(#productIdShard)"
        );
        let values = plan.values();
        assert_eq!(values[":set0"], s("purchase#6"));
        assert_eq!(values[":read0"], s("purchase"));
        assert_eq!(values[":read1"], s("p1"));
        assert_eq!(values.len(), 4, "{values:?}");
        assert_eq!(plan.names()["#productIdShard"], PRODUCT_ID_SHARD);
        assert_eq!(plan.names().len(), 4);
    }

    #[test]
    fn what_the_processor_writes_is_already_right() {
        let mut stored = item("purchase", Some("p1"));
        stored.insert(EVENT_TYPE_SHARD.into(), s("purchase#6"));
        stored.insert(PRODUCT_ID_SHARD.into(), s("p1#6"));
        assert_eq!(plan(&stored, 8), Plan::Already);
        // The same with one shard: nothing to add, so nothing to do.
        assert_eq!(plan(&item("purchase", Some("p1")), 1), Plan::Already);
    }

    #[test]
    fn attributes_of_another_shard_count_are_replaced_under_a_condition_on_them() {
        let mut stored = item("view", Some("p1"));
        stored.insert(EVENT_TYPE_SHARD.into(), s("view#1"));
        stored.insert(PRODUCT_ID_SHARD.into(), s("p1#1"));
        let shard = index::shard_of("user_00001", "1764000000000#e3", 4);
        assert_ne!(shard, 1, "pick another example");
        let plan = change(plan(&stored, 4));
        assert_eq!(
            plan.set,
            [
                (EVENT_TYPE_SHARD, format!("view#{shard}")),
                (PRODUCT_ID_SHARD, format!("p1#{shard}"))
            ]
        );
        assert_eq!(
            plan.condition(),
            "#eventType = :read0 AND #productId = :read1 AND #eventTypeShard = :read2 AND \
             #productIdShard = :read3"
        );
        assert_eq!(plan.values()[":read2"], s("view#1"));
    }

    #[test]
    fn an_item_without_product_gets_no_product_key_and_loses_a_stray_one() {
        let plan = change(plan(&item("view", None), 8));
        let names: Vec<&str> = plan.set.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, [EVENT_TYPE_SHARD]);
        assert!(plan
            .condition()
            .contains("attribute_not_exists(#productId) AND"));
        let mut stray = item("view", None);
        stray.insert(EVENT_TYPE_SHARD.into(), s("view#6"));
        stray.insert(PRODUCT_ID_SHARD.into(), s("x#6"));
        let plan = change(super::plan(&stray, 8));
        assert!(plan.set.is_empty());
        assert_eq!(plan.remove, [PRODUCT_ID_SHARD]);
        assert_eq!(plan.update_expression(), "REMOVE #productIdShard");
    }

    #[test]
    fn back_to_one_shard_removes_both_attributes() {
        let mut stored = item("view", Some("p1"));
        stored.insert(EVENT_TYPE_SHARD.into(), s("view#6"));
        stored.insert(PRODUCT_ID_SHARD.into(), s("p1#6"));
        let plan = change(plan(&stored, 1));
        assert_eq!(plan.remove, [EVENT_TYPE_SHARD, PRODUCT_ID_SHARD]);
        assert_eq!(
            plan.update_expression(),
            "REMOVE #eventTypeShard, #productIdShard"
        );
        // Only the read values are placeholders; nothing is set.
        assert_eq!(plan.values().len(), 4);
    }

    #[test]
    fn items_that_cannot_be_sharded_are_named_and_left_alone() {
        let mut no_type = item("view", None);
        no_type.remove(EVENT_TYPE);
        let Plan::Invalid { key, reason } = plan(&no_type, 8) else {
            panic!("refused")
        };
        assert_eq!(key.unwrap().user_id, "user_00001");
        assert_eq!(reason, "has no string eventType: not an event item");
        let Plan::Invalid { key: None, .. } = plan(&HashMap::new(), 8) else {
            panic!("no key")
        };
        let long = "t".repeat(MAX_PARTITION_KEY_BYTES - 1);
        let Plan::Invalid { reason, .. } = plan(&item(&long, None), 8) else {
            panic!("too long")
        };
        assert!(
            reason.starts_with("eventTypeShard would be 2049 bytes, over DynamoDB's 2048-byte"),
            "{reason}"
        );
        // With one shard nothing is appended, so the same item is fine.
        assert_eq!(plan(&item(&long, None), 1), Plan::Already);
    }

    #[test]
    fn keys_go_back_to_dynamodb_as_strings() {
        let key = Key::of(&item("view", None)).unwrap();
        assert_eq!(Key::of(&key.to_item()), Some(key.clone()));
        assert_eq!(
            key.to_string(),
            "userId=user_00001 eventKey=1764000000000#e3"
        );
    }
}
