//! Putting the shards' answers together: each shard's items come sorted by
//! `eventTimestamp` (the index's sort key), but items of one millisecond come in no order
//! DynamoDB promises, so the merged order breaks ties by the item's own key (`userId`,
//! then `eventKey`): the same query always prints the same lines.

use std::cmp::Ordering;
use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::layout::SORT_KEY;

/// One item as DynamoDB returns it.
pub type Item = HashMap<String, AttributeValue>;

/// Where an item sorts: (`eventTimestamp`, `userId`, `eventKey`). An item without a
/// number timestamp (never written by the processor) sorts first, not lost.
pub fn order_key(item: &Item) -> (i64, &str, &str) {
    let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).map_or("", |s| s);
    let time = item
        .get(SORT_KEY)
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse::<i64>().ok())
        .unwrap_or(i64::MIN);
    (time, text("userId"), text("eventKey"))
}

/// Compares two items by [`order_key`].
pub fn compare(a: &Item, b: &Item) -> Ordering {
    order_key(a).cmp(&order_key(b))
}

/// All shards' items in one list, ordered by [`order_key`], the first `limit` of them
/// (all with `None`).
pub fn merge(shards: Vec<Vec<Item>>, limit: Option<usize>) -> Vec<Item> {
    let mut all: Vec<Item> = shards.into_iter().flatten().collect();
    all.sort_by(compare);
    if let Some(limit) = limit {
        all.truncate(limit);
    }
    all
}

/// Whether a shard read in time order can stop: it holds `limit` items, and the last item
/// read is later than the `limit`-th. Items of the `limit`-th's millisecond may still
/// follow in the shard and sort before it by key, so reading stops only past that
/// millisecond; none later can be among the first `limit` of the merge.
pub fn has_enough(items: &[Item], limit: Option<usize>) -> bool {
    match limit {
        None => false,
        Some(0) => true,
        Some(limit) => match (items.get(limit - 1), items.last()) {
            (Some(boundary), Some(last)) => order_key(last).0 > order_key(boundary).0,
            _ => false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(time: i64, user: &str, key: &str) -> Item {
        HashMap::from([
            (SORT_KEY.to_owned(), AttributeValue::N(time.to_string())),
            ("userId".to_owned(), AttributeValue::S(user.into())),
            ("eventKey".to_owned(), AttributeValue::S(key.into())),
        ])
    }

    fn keys(items: &[Item]) -> Vec<(i64, String, String)> {
        items
            .iter()
            .map(|i| {
                let (t, u, k) = order_key(i);
                (t, u.to_owned(), k.to_owned())
            })
            .collect()
    }

    #[test]
    fn shards_merge_by_time_then_user_then_event_key() {
        let a = vec![item(1, "u2", "k"), item(3, "u1", "k")];
        let b = vec![item(1, "u1", "k2"), item(1, "u1", "k1"), item(2, "u9", "k")];
        let merged = merge(vec![a, b], None);
        assert_eq!(
            keys(&merged),
            [
                (1, "u1".into(), "k1".into()),
                (1, "u1".into(), "k2".into()),
                (1, "u2".into(), "k".into()),
                (2, "u9".into(), "k".into()),
                (3, "u1".into(), "k".into()),
            ]
        );
        let first_two = merge(
            vec![vec![item(5, "a", "a")], vec![item(4, "b", "b")]],
            Some(1),
        );
        assert_eq!(keys(&first_two), [(4, "b".into(), "b".into())]);
    }

    #[test]
    fn a_shard_reads_past_its_limit_until_the_millisecond_changes() {
        let read = [item(1, "z", "z"), item(2, "z", "z"), item(2, "a", "a")];
        assert!(!has_enough(&read[..1], Some(2)));
        // Two items, but another of millisecond 2 may follow and sort first.
        assert!(!has_enough(&read[..2], Some(2)));
        assert!(!has_enough(&read, Some(2)));
        let past = [read.to_vec(), vec![item(3, "a", "a")]].concat();
        assert!(has_enough(&past, Some(2)));
        assert!(!has_enough(&past, None));
        assert!(has_enough(&[], Some(0)));
    }

    #[test]
    fn an_item_without_a_timestamp_sorts_first() {
        let bare = HashMap::from([("userId".to_owned(), AttributeValue::S("u".into()))]);
        assert_eq!(order_key(&bare), (i64::MIN, "u", ""));
    }
}
