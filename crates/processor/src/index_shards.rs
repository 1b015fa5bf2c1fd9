//! The write-sharded index keys the table sink adds to every item when the function's
//! `INDEX_WRITE_SHARDS` is more than 1 (the values are `contract::index`'s).
//!
//! The `events` crate builds the item; these attributes are derived from it (its key, its
//! `eventType` and `productId`) at the edge, where the item is written, so the pure path
//! and its item stay the same whatever the table's indexes look like. The one thing the
//! plan must know is what they add: an item that fits DynamoDB's 400 KB, or an `eventType`
//! that fits its 2,048-byte key, may not once `#shard` is appended, and DynamoDB would then
//! refuse the whole request of 25 on every retry. [`IndexShards::refusal`] finds those
//! records first, so they are dead-lettered like any other record DynamoDB cannot store.

use contract::index::{self, EVENT_TYPE_SHARD, PRODUCT_ID_SHARD};
use events::{AttrRef, Item, RejectionKind, MAX_ITEM_BYTES, MAX_PARTITION_KEY_BYTES};

/// How many write shards the indexes' partition keys are spread over: from 1 (the plain
/// `eventType` / `productId` keys, nothing added) to [`index::MAX_SHARDS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexShards(u32);

impl Default for IndexShards {
    fn default() -> IndexShards {
        IndexShards::NONE
    }
}

impl IndexShards {
    /// Not sharded: items are written as the `events` crate made them.
    pub const NONE: IndexShards = IndexShards(1);

    /// `count` shards, when it is from 1 to [`index::MAX_SHARDS`].
    pub fn new(count: u32) -> Option<IndexShards> {
        (1..=index::MAX_SHARDS)
            .contains(&count)
            .then_some(IndexShards(count))
    }

    /// The number of shards.
    pub fn count(self) -> u32 {
        self.0
    }

    /// The attributes `item` gains: none when not sharded, else `eventTypeShard` and, when
    /// the item has a `productId`, `productIdShard`. An item without `productId` gets no
    /// `productIdShard` (an index key must be absent, not empty), so it stays out of
    /// `ProductIndex` as it does unsharded.
    pub fn attributes(self, item: &Item) -> Vec<(&'static str, String)> {
        if self.0 <= 1 {
            return Vec::new();
        }
        let key =
            |value: &str| index::shard_key(value, item.partition_key(), item.sort_key(), self.0);
        [
            ("eventType", EVENT_TYPE_SHARD),
            ("productId", PRODUCT_ID_SHARD),
        ]
        .into_iter()
        .filter_map(|(plain, sharded)| match item.get(plain) {
            Some(AttrRef::S(value)) => Some((sharded, key(value))),
            _ => None,
        })
        .collect()
    }

    /// Why `item` cannot be written with its [`attributes`](IndexShards::attributes): a
    /// sharded key over DynamoDB's 2,048 bytes, or the item over 400 KB with them. The
    /// rejection's kind (for the dead letter's `errorType`) and message; `None` when it
    /// can be written.
    pub fn refusal(self, item: &Item) -> Option<(RejectionKind, String)> {
        let added = self.attributes(item);
        if added.is_empty() {
            return None;
        }
        for (name, value) in &added {
            if value.len() > MAX_PARTITION_KEY_BYTES {
                return Some((
                    RejectionKind::InvalidField,
                    format!(
                        "{name} must be at most {MAX_PARTITION_KEY_BYTES} bytes (an index key; \
                         the value, '#' and the shard of {}), got {} bytes",
                        self.0,
                        value.len()
                    ),
                ));
            }
        }
        let size = item.size_bytes()
            + added
                .iter()
                .map(|(name, value)| name.len() + value.len())
                .sum::<usize>();
        (size > MAX_ITEM_BYTES).then(|| {
            (
                RejectionKind::ItemTooLarge,
                format!(
                    "item must be at most {MAX_ITEM_BYTES} bytes (DynamoDB's 400 KB), got \
                     {size} bytes with its sharded index keys ({} shards)",
                    self.0
                ),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::item;

    #[test]
    fn counts_from_1_to_100_only() {
        assert_eq!(IndexShards::new(0), None);
        assert_eq!(IndexShards::new(1), Some(IndexShards::NONE));
        assert_eq!(IndexShards::new(100).map(IndexShards::count), Some(100));
        assert_eq!(IndexShards::new(101), None);
    }

    #[test]
    fn one_shard_adds_nothing() {
        let item = item(r#"{"userId":"u1","eventType":"view","productId":"p1","eventId":"e"}"#);
        assert_eq!(IndexShards::NONE.attributes(&item), Vec::new());
        assert_eq!(IndexShards::NONE.refusal(&item), None);
    }

    #[test]
    fn both_keys_carry_the_value_and_the_items_shard() {
        let item = item(
            r#"{"userId":"u1","eventType":"purchase","productId":"p1","eventId":"e","timestamp":1764000000000}"#,
        );
        let shards = IndexShards::new(8).unwrap();
        let shard = contract::index::shard_of("u1", "1764000000000#e", 8);
        assert_eq!(item.sort_key(), "1764000000000#e");
        assert_eq!(
            shards.attributes(&item),
            [
                (EVENT_TYPE_SHARD, format!("purchase#{shard}")),
                (PRODUCT_ID_SHARD, format!("p1#{shard}")),
            ]
        );
        assert_eq!(shards.refusal(&item), None);
    }

    #[test]
    fn an_item_without_product_gets_no_product_key() {
        let item = item(r#"{"userId":"u1","eventType":"view","eventId":"e"}"#);
        let added = IndexShards::new(8).unwrap().attributes(&item);
        let names: Vec<&str> = added.iter().map(|(name, _)| *name).collect();
        assert_eq!(names, [EVENT_TYPE_SHARD]);
    }

    #[test]
    fn a_key_too_long_to_shard_is_refused() {
        // 2,047 bytes fit an unsharded key; with "#" and a digit they do not.
        let long = "t".repeat(2_047);
        let item = item(&format!(r#"{{"userId":"u","eventType":"{long}"}}"#));
        let (kind, message) = IndexShards::new(8).unwrap().refusal(&item).unwrap();
        assert_eq!(kind, RejectionKind::InvalidField);
        assert_eq!(
            message,
            "eventTypeShard must be at most 2048 bytes (an index key; the value, '#' and the \
             shard of 8), got 2049 bytes"
        );
        assert_eq!(IndexShards::NONE.refusal(&item), None);
    }

    #[test]
    fn an_item_that_the_keys_push_over_400_kb_is_refused() {
        let base = item(r#"{"userId":"u","eventType":"view","pad":""}"#);
        // Pad the event so the unsharded item is 10 bytes under the limit; `eventTypeShard`
        // adds 20 ("eventTypeShard", "view#1").
        let pad = "x".repeat(MAX_ITEM_BYTES - 10 - base.size_bytes());
        let full = item(&format!(
            r#"{{"userId":"u","eventType":"view","pad":"{pad}"}}"#
        ));
        assert!(full.size_bytes() <= MAX_ITEM_BYTES, "{}", full.size_bytes());
        assert_eq!(IndexShards::NONE.refusal(&full), None);
        let (kind, message) = IndexShards::new(2).unwrap().refusal(&full).unwrap();
        assert_eq!(kind, RejectionKind::ItemTooLarge);
        assert!(
            message.ends_with("with its sharded index keys (2 shards)"),
            "{message}"
        );
    }
}
