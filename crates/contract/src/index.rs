//! Write-sharded index keys: the values the processor writes and the query tool reads back.
//!
//! An index keyed on `eventType` puts every "view" (about 60 % of events) under one
//! partition key value, and DynamoDB serves at most 1,000 write units per second per value;
//! a throttled index write fails the base-table write too. With
//! [`INDEX_WRITE_SHARDS`](crate::env::INDEX_WRITE_SHARDS) = N > 1, the indexes are keyed on
//! [`EVENT_TYPE_SHARD`] and [`PRODUCT_ID_SHARD`] instead, whose values spread each event
//! type (and product) over N partition key values.
//!
//! The format, spelled here once: `<value>#<shard>`, the shard a decimal number from 0 to
//! N − 1 without padding, e.g. `purchase#3`. The shard is a function of the item's key
//! (`userId`, `eventKey`) alone, so a replay, a producer retry or a redrive of an event
//! writes the same shard value, and overwriting the item never leaves a stale index entry
//! under another shard. A reader of one value queries all N keys ([`all_shard_keys`]) and
//! merges the answers by `eventTimestamp`.
//!
//! The hash is fixed forever (changing it would move items between shards only for new
//! writes, and a rewrite of an old item would then leave it under a new shard value —
//! harmless for readers, who query every shard, but needless churn): 64-bit FNV-1a over
//! the `userId` bytes, one `0xFF` byte (never part of UTF-8, so no two keys run together),
//! and the `eventKey` bytes, then the MurmurHash3 64-bit finalizer to mix FNV's weak low
//! bits into the high ones, then Lemire's multiply-shift, `(hash × N) >> 64`, for a number
//! below N. Not `std`'s `DefaultHasher`, whose algorithm may change between Rust releases,
//! nor `RandomState`, which is seeded per process.

/// The index partition key attribute of `EventTypeIndex` when the index is write-sharded:
/// `eventType#shard`, on every item.
pub const EVENT_TYPE_SHARD: &str = "eventTypeShard";

/// The index partition key attribute of `ProductIndex` when the index is write-sharded:
/// `productId#shard`, only on items that have a `productId` (an index key attribute must
/// be absent, never empty, and an item without one is simply not in the index).
pub const PRODUCT_ID_SHARD: &str = "productIdShard";

/// The most write shards an index key may be spread over.
pub const MAX_SHARDS: u32 = 100;

/// The number of write shards the function's `INDEX_WRITE_SHARDS` value says: unset is 1
/// (the plain keys), a whole number from 1 to [`MAX_SHARDS`] that many, anything else
/// `None`. The processor reads its environment by this rule, and so do the tools that
/// stand in for it or read what it wrote.
pub fn write_shards_of(value: Option<&str>) -> Option<u32> {
    match value {
        None => Some(1),
        Some(text) => text
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_SHARDS).contains(n)),
    }
}

/// The shard, from 0 to `shards` − 1, of the item keyed (`user_id`, `event_key`). `shards`
/// of 0 counts as 1 (everything in shard 0).
pub fn shard_of(user_id: &str, event_key: &str, shards: u32) -> u32 {
    let mut hash = FNV_OFFSET;
    for byte in user_id
        .bytes()
        .chain(std::iter::once(0xFF))
        .chain(event_key.bytes())
    {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(FNV_PRIME);
    }
    let mixed = fmix64(hash);
    // The high 64 bits of a 64 × 32-bit product are below `shards`.
    let shard = (u128::from(mixed) * u128::from(shards.max(1))) >> 64;
    u32::try_from(shard).unwrap_or(0)
}

/// The sharded index key value of `value` (an event type or a product id) for the item
/// keyed (`user_id`, `event_key`) when the index has `shards` write shards: `value#shard`.
pub fn shard_key(value: &str, user_id: &str, event_key: &str, shards: u32) -> String {
    format_key(value, shard_of(user_id, event_key, shards))
}

/// Every sharded key value of `value` with `shards` write shards, shard 0 first: what a
/// reader queries to find all of `value`'s items. One key (`value#0`) when `shards` is 0.
pub fn all_shard_keys(value: &str, shards: u32) -> impl Iterator<Item = String> + '_ {
    (0..shards.max(1)).map(move |shard| format_key(value, shard))
}

/// The bytes a sharded key adds to its value: `#` and at most three digits (shard 99 of
/// 100 is the largest). A value longer than DynamoDB's 2,048-byte key less this cannot be
/// sharded.
pub const SUFFIX_MAX_BYTES: usize = 3;

fn format_key(value: &str, shard: u32) -> String {
    format!("{value}#{shard}")
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// MurmurHash3's 64-bit finalizer: every input bit affects every output bit.
fn fmix64(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^ (k >> 33)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_write_shards_setting_is_1_to_100_and_unset_is_1() {
        assert_eq!(write_shards_of(None), Some(1));
        assert_eq!(write_shards_of(Some(" 8 ")), Some(8));
        assert_eq!(write_shards_of(Some("100")), Some(100));
        for bad in ["0", "101", "", "four"] {
            assert_eq!(write_shards_of(Some(bad)), None, "{bad:?}");
        }
    }

    /// Keys shaped like the table's: generated user ids, 13-digit timestamps and Kinesis
    /// event ids.
    fn key(i: u32) -> (String, String) {
        let user = format!("user_{:05}", i % 997);
        let event_key = format!(
            "{:013}#shardId-00000000000{}:49650000000000000000000{:08}",
            1_764_000_000_000_u64 + u64::from(i) * 37,
            i % 4,
            i
        );
        (user, event_key)
    }

    #[test]
    fn the_shard_is_a_fixed_function_of_the_key() {
        // Pinned values: a change of algorithm moves items and must fail here first.
        // (Recomputed independently of this code, in Python, when they were pinned.)
        assert_eq!(shard_of("user_00001", "1764000000000#e1", 8), 7);
        assert_eq!(shard_of("user_00001", "1764000000000#e3", 8), 6);
        assert_eq!(shard_of("u", "k", 100), 70);
        assert_eq!(
            shard_key("purchase", "user_00001", "1764000000000#e3", 8),
            "purchase#6"
        );
        for i in 0..1_000 {
            let (user, event_key) = key(i);
            let first = shard_of(&user, &event_key, 8);
            assert_eq!(shard_of(&user, &event_key, 8), first);
            assert!(first < 8);
        }
    }

    #[test]
    fn the_user_and_event_key_do_not_run_together() {
        // Without the separator these two keys hash the same bytes.
        let a = (0..64).map(|i| shard_of("ab", &format!("c{i}"), 100));
        let b = (0..64).map(|i| shard_of("a", &format!("bc{i}"), 100));
        assert!(a.zip(b).any(|(a, b)| a != b));
    }

    #[test]
    fn one_or_no_shard_is_shard_0() {
        for i in 0..100 {
            let (user, event_key) = key(i);
            assert_eq!(shard_of(&user, &event_key, 1), 0);
            assert_eq!(shard_of(&user, &event_key, 0), 0);
        }
        assert_eq!(all_shard_keys("view", 0).collect::<Vec<_>>(), ["view#0"]);
    }

    /// 10,000 keys over 8 shards: the fair share is 1,250, and a uniform hash's count per
    /// shard is binomial with σ = √(10,000 × 1/8 × 7/8) ≈ 33.1. ±10 % (125, 3.8 σ) is a
    /// bound a good hash misses with probability about 8 × 1.5e-4 ≈ 0.1 %; the keys are
    /// fixed, so the test is deterministic either way. The counts are pinned too (the
    /// largest deviation is 55, 4.4 %), so the figures in docs/processor.md stay true.
    #[test]
    fn ten_thousand_keys_spread_evenly_over_8_shards() {
        let mut counts = [0_u32; 8];
        for i in 0..10_000 {
            let (user, event_key) = key(i);
            counts[shard_of(&user, &event_key, 8) as usize] += 1;
        }
        assert_eq!(counts.iter().sum::<u32>(), 10_000);
        for (shard, &count) in counts.iter().enumerate() {
            assert!(
                (1_125..=1_375).contains(&count),
                "shard {shard} holds {count} of 10,000 (fair share 1,250 ± 10 %): {counts:?}"
            );
        }
        assert_eq!(counts, [1212, 1284, 1234, 1255, 1233, 1305, 1217, 1260]);
    }

    /// Every shard of 100 is reachable, and none holds more than twice its share of 20,000.
    #[test]
    fn every_one_of_100_shards_is_used() {
        let mut counts = [0_u32; 100];
        for i in 0..20_000 {
            let (user, event_key) = key(i);
            counts[shard_of(&user, &event_key, 100) as usize] += 1;
        }
        assert!(
            counts.iter().all(|&c| (100..=400).contains(&c)),
            "{counts:?}"
        );
    }

    #[test]
    fn keys_are_the_value_a_hash_and_the_shard() {
        assert_eq!(
            all_shard_keys("purchase", 3).collect::<Vec<_>>(),
            ["purchase#0", "purchase#1", "purchase#2"]
        );
        let all: Vec<String> = all_shard_keys("p#1", MAX_SHARDS).collect();
        assert_eq!(all.len(), 100);
        assert_eq!(all[99], "p#1#99");
        assert_eq!(all[99].len() - "p#1".len(), SUFFIX_MAX_BYTES);
        // What a writer writes is one of what a reader reads.
        for i in 0..1_000 {
            let (user, event_key) = key(i);
            let written = shard_key("view", &user, &event_key, 8);
            assert!(all_shard_keys("view", 8).any(|k| k == written), "{written}");
        }
    }
}
