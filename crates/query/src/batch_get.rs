//! Whole items from the table, for an index that copies only part of each
//! (`dynamodb_gsi_projection` = KEYS_ONLY or INCLUDE).
//!
//! Such an index still says which items match and in what order: its items carry the
//! table's key (`userId`, `eventKey`) and `eventTimestamp`, all the merge needs. So `query`
//! merges and limits the partial items first and only then reads the ones it will print,
//! whole, with BatchGetItem: [`BATCH_MAX`] keys a call (DynamoDB's most), a few calls in
//! flight. DynamoDB may answer part of a call and hand the rest back as `UnprocessedKeys`
//! (throttling, or 16 MB of answer); those are asked again after a backoff, a bounded
//! number of times, and then the query fails naming the table and how many were left.
//!
//! An item the index still lists but the table no longer holds (TTL deleted it between the
//! Query and the get: the index catches up later) is skipped and counted, not an error.

use std::collections::{HashMap, HashSet};
use std::future::Future;

use aws_edge::retry::Backoff;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use aws_sdk_dynamodb::Client;
use futures_util::stream::{self, StreamExt, TryStreamExt};

use crate::error::{self, Error};
use crate::layout::TABLE_KEY;
use crate::merge::Item;

/// The most keys one BatchGetItem takes.
pub const BATCH_MAX: usize = 100;

/// BatchGetItem calls in flight at once: 400 items of up to 400 KB each is already more
/// than a reader wants to buffer, and fewer calls in flight throttle less.
pub const CONCURRENCY: usize = 4;

/// An item's key in the table: (`userId`, `eventKey`).
pub type Key = (String, String);

/// The table key of `item`, when it has one (every index item does: an index always
/// copies the table's key).
pub fn key_of(item: &Item) -> Option<Key> {
    let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
    Some((text(TABLE_KEY[0])?, text(TABLE_KEY[1])?))
}

/// `key` as the attribute map a request names an item by.
pub fn key_item((user, event_key): &Key) -> Item {
    HashMap::from([
        (TABLE_KEY[0].to_owned(), AttributeValue::S(user.clone())),
        (
            TABLE_KEY[1].to_owned(),
            AttributeValue::S(event_key.clone()),
        ),
    ])
}

/// What one BatchGetItem answered.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Answer {
    /// The items found (in no particular order).
    pub items: Vec<Item>,
    /// The keys DynamoDB did not get to: ask again.
    pub unprocessed: Vec<Key>,
}

/// One BatchGetItem on one table: the edge to DynamoDB, a fake in tests.
pub trait BatchGet: Sync {
    /// The table's name, for messages.
    fn table(&self) -> &str;

    /// Gets up to [`BATCH_MAX`] distinct `keys`.
    fn batch_get(&self, keys: &[Key]) -> impl Future<Output = Result<Answer, Error>> + Send;
}

/// [`BatchGet`] with the SDK.
#[derive(Debug, Clone, Copy)]
pub struct Table<'a> {
    /// The client.
    pub client: &'a Client,
    /// The table's name.
    pub name: &'a str,
}

impl BatchGet for Table<'_> {
    fn table(&self) -> &str {
        self.name
    }

    fn batch_get(&self, keys: &[Key]) -> impl Future<Output = Result<Answer, Error>> + Send {
        let operation = format!("BatchGetItem({}, {} keys)", self.name, keys.len());
        const ACTION: &str = "dynamodb:BatchGetItem on the table";
        const OTHERWISE: &str = "check the table exists in --region";
        // Eventually consistent, as the index itself is: half the read units.
        let request = KeysAndAttributes::builder()
            .set_keys(Some(keys.iter().map(key_item).collect()))
            .build()
            .map_err(|e| error::call_erased("DynamoDB", operation.clone(), &e, ACTION, OTHERWISE));
        let call = self.client.batch_get_item();
        async move {
            let output = call
                .request_items(self.name, request?)
                .send()
                .await
                .map_err(|e| error::call("DynamoDB", operation, &e, ACTION, OTHERWISE))?;
            // One table asked, so every answer is of it, whatever name it is filed under.
            let items = output
                .responses
                .unwrap_or_default()
                .into_values()
                .flatten()
                .collect();
            let unprocessed = output
                .unprocessed_keys
                .unwrap_or_default()
                .into_values()
                .flat_map(|k| k.keys)
                .filter_map(|k| key_of(&k))
                .collect();
            Ok(Answer { items, unprocessed })
        }
    }
}

/// How often, and how patiently, unprocessed keys are asked again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    /// Calls per batch, the first included.
    pub attempts: u32,
    /// The waits between them.
    pub backoff: Backoff,
}

impl Default for Retry {
    /// 10 calls, waits of up to 25 ms doubling to 2 s: about 5 s of patience at most.
    fn default() -> Self {
        Retry {
            attempts: 10,
            backoff: Backoff::default(),
        }
    }
}

/// The items made whole.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Whole {
    /// The table's items, in the order of the index items they complete.
    pub items: Vec<Item>,
    /// Index items the table no longer holds (or that carried no table key): skipped.
    pub missing: usize,
    /// BatchGetItem calls made, retries included.
    pub calls: usize,
}

/// The whole items of `partial` (index items, already merged and limited) from the table
/// `getter` reads, in `partial`'s order.
pub async fn whole_items<G: BatchGet>(
    getter: &G,
    partial: &[Item],
    retry: Retry,
) -> Result<Whole, Error> {
    let keys: Vec<Option<Key>> = partial.iter().map(key_of).collect();
    // A key asked twice in one call is a ValidationException; an index lists each item
    // once, but one stray duplicate should not fail the query.
    let mut seen = HashSet::new();
    let distinct: Vec<Key> = keys
        .iter()
        .flatten()
        .filter(|k| seen.insert(*k))
        .cloned()
        .collect();
    let batches: Vec<(Vec<Item>, usize)> = stream::iter(distinct.chunks(BATCH_MAX))
        .map(|batch| get_batch(getter, batch, retry))
        .buffered(CONCURRENCY)
        .try_collect()
        .await?;
    let calls = batches.iter().map(|(_, calls)| calls).sum();
    let found: HashMap<Key, Item> = batches
        .into_iter()
        .flat_map(|(items, _)| items)
        .filter_map(|item| key_of(&item).map(|key| (key, item)))
        .collect();
    let mut whole = Whole {
        items: Vec::with_capacity(partial.len()),
        missing: 0,
        calls,
    };
    for key in keys {
        match key.and_then(|k| found.get(&k)) {
            Some(item) => whole.items.push(item.clone()),
            None => whole.missing += 1,
        }
    }
    Ok(whole)
}

/// One batch of keys, asked again while DynamoDB leaves some unprocessed, at most
/// `retry.attempts` calls. Returns the items found and the calls made.
async fn get_batch<G: BatchGet>(
    getter: &G,
    keys: &[Key],
    retry: Retry,
) -> Result<(Vec<Item>, usize), Error> {
    let mut found = Vec::with_capacity(keys.len());
    let mut pending = keys.to_vec();
    let mut calls: u32 = 0;
    loop {
        calls += 1;
        let answer = getter.batch_get(&pending).await?;
        found.extend(answer.items);
        pending = answer.unprocessed;
        if pending.is_empty() {
            return Ok((found, calls as usize));
        }
        if calls >= retry.attempts {
            return Err(Error::Unprocessed {
                table: getter.table().to_owned(),
                left: pending.len(),
                asked: keys.len(),
                attempts: calls,
            });
        }
        let delay = retry.backoff.delay(calls);
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::time::Duration;

    /// A table of `items` that answers each call with at most `per_call` of the keys asked
    /// (the rest unprocessed), and records the calls' key counts.
    struct Fake {
        items: HashMap<Key, Item>,
        per_call: usize,
        calls: Mutex<Vec<usize>>,
    }

    impl Fake {
        fn new(items: impl IntoIterator<Item = Item>, per_call: usize) -> Fake {
            Fake {
                items: items
                    .into_iter()
                    .map(|i| (key_of(&i).unwrap(), i))
                    .collect(),
                per_call,
                calls: Mutex::new(Vec::new()),
            }
        }

        fn calls(&self) -> Vec<usize> {
            self.calls.lock().unwrap().clone()
        }
    }

    impl BatchGet for Fake {
        fn table(&self) -> &str {
            "events"
        }

        fn batch_get(&self, keys: &[Key]) -> impl Future<Output = Result<Answer, Error>> + Send {
            self.calls.lock().unwrap().push(keys.len());
            assert!(keys.len() <= BATCH_MAX, "{} keys in one call", keys.len());
            let distinct: HashSet<&Key> = keys.iter().collect();
            assert_eq!(distinct.len(), keys.len(), "a key asked twice");
            let (now, later) = keys.split_at(keys.len().min(self.per_call));
            let answer = Answer {
                // Found in another order than asked, as DynamoDB does.
                items: now
                    .iter()
                    .rev()
                    .filter_map(|k| self.items.get(k).cloned())
                    .collect(),
                unprocessed: later.to_vec(),
            };
            async move { Ok(answer) }
        }
    }

    /// An index item (keys and time only) or, with `whole`, the table's item.
    fn item(n: usize, whole: bool) -> Item {
        let mut item = key_item(&(format!("user_{:03}", n % 7), format!("{n:05}#e")));
        item.insert("eventTimestamp".into(), AttributeValue::N(n.to_string()));
        if whole {
            item.insert(
                "originalEvent".into(),
                AttributeValue::S(format!("event {n}")),
            );
        }
        item
    }

    fn no_wait(attempts: u32) -> Retry {
        Retry {
            attempts,
            backoff: Backoff {
                base: Duration::ZERO,
                max: Duration::ZERO,
            },
        }
    }

    fn get(fake: &Fake, partial: &[Item], retry: Retry) -> Result<Whole, Error> {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
            .block_on(whole_items(fake, partial, retry))
    }

    #[test]
    fn keys_go_in_calls_of_100_and_items_come_back_in_the_index_order() {
        let fake = Fake::new((0..250).map(|n| item(n, true)), BATCH_MAX);
        // The merged order is not the keys' order: newest first here.
        let partial: Vec<Item> = (0..250).rev().map(|n| item(n, false)).collect();
        let whole = get(&fake, &partial, no_wait(3)).unwrap();
        assert_eq!(fake.calls(), [100, 100, 50]);
        assert_eq!(
            whole.items,
            (0..250).rev().map(|n| item(n, true)).collect::<Vec<_>>()
        );
        assert_eq!((whole.missing, whole.calls), (0, 3));
    }

    #[test]
    fn unprocessed_keys_are_asked_again_until_all_are_in() {
        let fake = Fake::new((0..120).map(|n| item(n, true)), 40);
        let partial: Vec<Item> = (0..120).map(|n| item(n, false)).collect();
        let whole = get(&fake, &partial, no_wait(3)).unwrap();
        // The first 100 keys: 40 answered, then 40 of the 60 left, then the last 20; the
        // other batch's 20 in one call. (The batches run side by side: sorted.)
        let mut calls = fake.calls();
        calls.sort_unstable();
        assert_eq!(calls, [20, 20, 60, 100]);
        assert_eq!(
            whole.items,
            (0..120).map(|n| item(n, true)).collect::<Vec<_>>()
        );
        assert_eq!((whole.missing, whole.calls), (0, 4));
    }

    #[test]
    fn keys_still_unprocessed_after_the_last_attempt_fail_naming_the_table() {
        let fake = Fake::new((0..10).map(|n| item(n, true)), 3);
        let partial: Vec<Item> = (0..10).map(|n| item(n, false)).collect();
        let err = get(&fake, &partial, no_wait(2)).unwrap_err();
        assert_eq!(fake.calls(), [10, 7]);
        assert_eq!(
            err.to_string(),
            "DynamoDB BatchGetItem(events) left 4 of 10 keys unprocessed after 2 attempts; the \
             table's reads are being throttled (its ReadThrottleEvents metric shows it): run \
             again later or with a smaller --limit"
        );
    }

    #[test]
    fn items_gone_from_the_table_are_skipped_and_counted() {
        // The table lost items 1 and 3 (TTL); one index item has no table key at all.
        let fake = Fake::new([0, 2, 4].map(|n| item(n, true)), BATCH_MAX);
        let mut partial: Vec<Item> = (0..5).map(|n| item(n, false)).collect();
        partial.push(HashMap::new());
        let whole = get(&fake, &partial, no_wait(1)).unwrap();
        assert_eq!(whole.items, [0, 2, 4].map(|n| item(n, true)));
        assert_eq!((whole.missing, whole.calls), (3, 1));
    }

    #[test]
    fn nothing_to_complete_makes_no_call_and_a_duplicate_is_asked_once() {
        let fake = Fake::new([item(1, true)], BATCH_MAX);
        let none = get(&fake, &[], no_wait(1)).unwrap();
        assert_eq!((none.items.len(), none.calls), (0, 0));
        assert!(fake.calls().is_empty());
        let twice = get(&fake, &[item(1, false), item(1, false)], no_wait(1)).unwrap();
        assert_eq!(fake.calls(), [1]);
        assert_eq!(twice.items, [item(1, true), item(1, true)]);
    }

    #[test]
    fn keys_round_trip_through_the_request_form() {
        let key = ("user_1".to_owned(), "1764000000000#e1".to_owned());
        assert_eq!(key_of(&key_item(&key)), Some(key));
        let no_sort = HashMap::from([("userId".to_owned(), AttributeValue::S("u".into()))]);
        assert_eq!(key_of(&no_sort), None);
    }
}
