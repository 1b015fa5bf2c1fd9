//! The run: every segment of a parallel Scan read page by page, each item planned
//! ([`crate::plan`]) and updated under its condition at the rate the limit allows, and the
//! checkpoint advanced once a page's updates are all made.
//!
//! The segments run concurrently in one task. A call that fails in a way worth retrying
//! (no answer, throttling, a 5xx) is tried again after a backoff with full jitter, up to
//! [`Job::attempts`] times; any other failure stops the run, with the checkpoint at the
//! last complete page of each segment, so the same command continues it.

use std::future::Future;
use std::sync::Mutex;

use aws_edge::error::CallError;
use aws_edge::retry::Backoff;
use futures_util::stream::{self, StreamExt, TryStreamExt};

use crate::checkpoint::{self, Store};
use crate::error::Error;
use crate::plan::{self, Key, Plan};
use crate::progress::Observer;
use crate::rate::RateLimit;
use crate::table::{Segment, Table, Written};

/// After this many refused updates the run stops: a request every item fails is a fault of
/// the run, not of the items.
pub const MAX_REFUSED: u64 = 100;

/// How many invalid and refused items are named at the end.
pub const EXAMPLES: usize = 5;

/// What a run is asked to do.
#[derive(Debug)]
pub struct Job<'a> {
    /// The shard count the items must be brought to (the function's).
    pub shards: u32,
    /// Count only; update nothing.
    pub dry_run: bool,
    /// The write-unit limit.
    pub rate: &'a RateLimit,
    /// The backoff between attempts of a call.
    pub backoff: Backoff,
    /// Attempts of a call before the run stops.
    pub attempts: u32,
}

/// What a run did (or, in a dry run, would do).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Counts {
    /// Items read.
    pub scanned: u64,
    /// Items updated (in a dry run: that would be).
    pub updated: u64,
    /// Items already right.
    pub already: u64,
    /// Items whose condition failed: changed or deleted since the scan, left as written.
    pub skipped_conditional: u64,
    /// Items that cannot be given the attributes (not event items, keys too long).
    pub invalid: u64,
    /// Updates DynamoDB refused.
    pub failed: u64,
    /// Scan pages read.
    pub pages: u64,
    /// Write units consumed, as DynamoDB reported them (1 per write when it did not).
    pub write_units: f64,
    /// Segments finished (by this run or an earlier one).
    pub segments_done: u32,
    /// The Scan's segments.
    pub segments: u32,
}

/// The counts and the examples, shared by the segments.
#[derive(Debug, Default)]
struct Tally {
    counts: Counts,
    invalid: Vec<String>,
    refused: Vec<String>,
}

/// Items named at the end of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Examples {
    /// The first invalid items and why.
    pub invalid: Vec<String>,
    /// The first refused updates and why.
    pub refused: Vec<String>,
}

/// Runs `job` over `table` from where `store` says, telling `observer` as it goes. The
/// counts and examples are returned also when the run stops on an error.
pub async fn backfill<T: Table>(
    table: &T,
    job: &Job<'_>,
    store: &Store,
    observer: &dyn Observer,
) -> (Counts, Examples, Result<(), Error>) {
    let state = store.state();
    let total = u32::try_from(state.segments.len()).unwrap_or(u32::MAX);
    let tally = Mutex::new(Tally {
        counts: Counts {
            segments_done: u32::try_from(state.done()).unwrap_or(0),
            segments: total,
            ..Counts::default()
        },
        ..Tally::default()
    });
    let pending: Vec<(u32, Option<Key>)> = state
        .segments
        .iter()
        .enumerate()
        .filter_map(|(index, segment)| {
            let index = u32::try_from(index).ok()?;
            match segment {
                checkpoint::Segment::NotStarted => Some((index, None)),
                checkpoint::Segment::After(key) => Some((index, Some(key.clone()))),
                checkpoint::Segment::Done => None,
            }
        })
        .collect();
    let context = Context {
        table,
        job,
        store,
        observer,
        tally: &tally,
    };
    let context = &context;
    let result = stream::iter(pending)
        .map(|(index, start)| context.segment(Segment { index, total }, start))
        .buffer_unordered(total.max(1) as usize)
        .try_collect::<Vec<()>>()
        .await
        .map(|_| ());
    let tally = lock(&tally);
    let examples = Examples {
        invalid: tally.invalid.clone(),
        refused: tally.refused.clone(),
    };
    (tally.counts, examples, result)
}

struct Context<'a, T> {
    table: &'a T,
    job: &'a Job<'a>,
    store: &'a Store,
    observer: &'a dyn Observer,
    tally: &'a Mutex<Tally>,
}

impl<T: Table> Context<'_, T> {
    /// Reads `segment` to its end from after `start`.
    async fn segment(&self, segment: Segment, mut start: Option<Key>) -> Result<(), Error> {
        loop {
            let page = self
                .retrying(|| self.table.scan(segment, start.as_ref()))
                .await?;
            let keys: Vec<Key> = page.items.iter().filter_map(Key::of).collect();
            self.observer.page_read(segment.index, &keys);
            self.count(|c| c.pages += 1);
            for item in &page.items {
                self.item(item).await?;
            }
            start = page.next;
            let at = match &start {
                Some(key) => checkpoint::Segment::After(key.clone()),
                None => checkpoint::Segment::Done,
            };
            self.store.advance(segment.index, at)?;
            if start.is_none() {
                self.count(|c| c.segments_done += 1);
                return Ok(());
            }
        }
    }

    /// Plans one item and, unless this is a dry run, makes its update.
    async fn item(&self, item: &plan::Item) -> Result<(), Error> {
        let change = match plan::plan(item, self.job.shards) {
            Plan::Already => {
                self.scanned(|c| c.already += 1);
                return Ok(());
            }
            Plan::Invalid { key, reason } => {
                let key = key.map_or_else(|| "an item".to_owned(), |k| k.to_string());
                let mut tally = lock(self.tally);
                if tally.invalid.len() < EXAMPLES {
                    tally.invalid.push(format!("{key}: {reason}"));
                }
                drop(tally);
                self.scanned(|c| c.invalid += 1);
                return Ok(());
            }
            Plan::Update(_) if self.job.dry_run => {
                self.scanned(|c| c.updated += 1);
                return Ok(());
            }
            Plan::Update(change) => change,
        };
        self.job.rate.acquire().await;
        let written = match self.retrying(|| self.table.update(&change)).await {
            Ok(written) => written,
            Err(err) => {
                self.job.rate.refund();
                return Err(err.into());
            }
        };
        let units = match &written {
            Written::Updated { units } => units.unwrap_or(1.0),
            // A failed condition consumes units as a write does; 1 is the least.
            Written::ConditionFailed => 1.0,
            Written::Refused(_) => 0.0,
        };
        if units > 0.0 {
            self.job.rate.settle(units);
        } else {
            self.job.rate.refund();
        }
        match written {
            Written::Updated { .. } => self.scanned(|c| {
                c.updated += 1;
                c.write_units += units;
            }),
            Written::ConditionFailed => self.scanned(|c| {
                c.skipped_conditional += 1;
                c.write_units += units;
            }),
            Written::Refused(why) => {
                let mut tally = lock(self.tally);
                if tally.refused.len() < EXAMPLES {
                    tally.refused.push(format!("{}: {why}", change.key));
                }
                let first = tally.refused.first().cloned().unwrap_or_default();
                drop(tally);
                self.scanned(|c| c.failed += 1);
                let refused = lock(self.tally).counts.failed;
                if refused >= MAX_REFUSED {
                    return Err(Error::TooManyRefused { refused, first });
                }
            }
        }
        Ok(())
    }

    /// Counts one scanned item, and what became of it with `f`.
    fn scanned(&self, f: impl FnOnce(&mut Counts)) {
        self.count(|c| {
            c.scanned += 1;
            f(c);
        });
    }

    /// Changes the counts with `f`, and tells the observer.
    fn count(&self, f: impl FnOnce(&mut Counts)) {
        let counts = {
            let mut tally = lock(self.tally);
            f(&mut tally.counts);
            tally.counts
        };
        self.observer.progress(&counts);
    }

    /// `call`, tried again after a backoff while its failure is worth retrying.
    async fn retrying<V, F, Fut>(&self, mut call: F) -> Result<V, CallError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<V, CallError>>,
    {
        let mut attempt = 1;
        loop {
            match call().await {
                Err(err) if err.is_retryable() && attempt < self.job.attempts => {
                    tokio::time::sleep(self.job.backoff.delay(attempt)).await;
                    attempt += 1;
                }
                result => return result,
            }
        }
    }
}

fn lock(tally: &Mutex<Tally>) -> std::sync::MutexGuard<'_, Tally> {
    match tally.lock() {
        Ok(tally) => tally,
        Err(poisoned) => poisoned.into_inner(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::Duration;

    use aws_edge::error::Failure;
    use aws_sdk_dynamodb::types::AttributeValue;
    use contract::index::{EVENT_TYPE_SHARD, PRODUCT_ID_SHARD};

    use super::*;
    use crate::checkpoint::State;
    use crate::plan::{Change, Item, EVENT_KEY, EVENT_TYPE, PRODUCT_ID, USER_ID};
    use crate::progress::Silent;
    use crate::table::Page;

    /// A table in memory: a parallel Scan whose segments split the keys by hash, pages of
    /// `page` items, and updates under their conditions as DynamoDB evaluates them.
    struct Fake {
        items: Mutex<BTreeMap<Key, Item>>,
        page: usize,
        /// Scan calls before one fails for good (not retryable).
        scans_left: Mutex<Option<u32>>,
        /// Updates answered with throttling first.
        throttled: AtomicU32,
        updates: AtomicU32,
    }

    fn s(value: &str) -> AttributeValue {
        AttributeValue::S(value.to_owned())
    }

    /// `count` event items as a processor with one shard writes them; every third has no
    /// product.
    fn fake(count: u32, page: usize) -> Fake {
        let items = (0..count)
            .map(|i| {
                let key = Key {
                    user_id: format!("user-{}", i % 17),
                    event_key: format!("{:013}#e{i}", 1_764_000_000_000_u64 + u64::from(i)),
                };
                let mut item = key.to_item();
                item.insert(EVENT_TYPE.into(), s(["view", "purchase"][i as usize % 2]));
                if i % 3 != 0 {
                    item.insert(PRODUCT_ID.into(), s(&format!("p{}", i % 5)));
                }
                (key, item)
            })
            .collect();
        Fake {
            items: Mutex::new(items),
            page,
            scans_left: Mutex::new(None),
            throttled: AtomicU32::new(0),
            updates: AtomicU32::new(0),
        }
    }

    impl Fake {
        fn all_planned(&self, shards: u32) -> bool {
            let items = self.items.lock().unwrap();
            items
                .values()
                .all(|item| plan::plan(item, shards) == Plan::Already)
        }
    }

    fn refused(failure: Failure) -> CallError {
        CallError::with_failure("DynamoDB Fake(t)", failure, "detail")
    }

    impl Table for Fake {
        async fn scan(&self, segment: Segment, start: Option<&Key>) -> Result<Page, CallError> {
            if let Some(left) = self.scans_left.lock().unwrap().as_mut() {
                if *left == 0 {
                    return Err(refused(Failure::Denied));
                }
                *left -= 1;
            }
            let items = self.items.lock().unwrap();
            let mine: Vec<(&Key, &Item)> = items
                .iter()
                .filter(|(k, _)| {
                    contract::index::shard_of(&k.user_id, &k.event_key, segment.total)
                        == segment.index
                })
                .filter(|(k, _)| start.is_none_or(|s| *k > s))
                .collect();
            let page: Vec<Item> = mine
                .iter()
                .take(self.page)
                .map(|(_, i)| (*i).clone())
                .collect();
            let next = (mine.len() > self.page).then(|| mine[self.page - 1].0.clone());
            Ok(Page { items: page, next })
        }

        async fn update(&self, change: &Change) -> Result<Written, CallError> {
            if self
                .throttled
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
            {
                return Err(refused(Failure::Throttled));
            }
            self.updates.fetch_add(1, Ordering::SeqCst);
            let mut items = self.items.lock().unwrap();
            let Some(item) = items.get_mut(&change.key) else {
                return Ok(Written::ConditionFailed);
            };
            if change
                .read
                .iter()
                .any(|(name, value)| item.get(*name) != value.as_ref())
            {
                return Ok(Written::ConditionFailed);
            }
            for (name, value) in &change.set {
                item.insert((*name).to_owned(), s(value));
            }
            for name in &change.remove {
                item.remove(*name);
            }
            Ok(Written::Updated { units: Some(2.0) })
        }
    }

    fn job(rate: &RateLimit, shards: u32, dry_run: bool) -> Job<'_> {
        Job {
            shards,
            dry_run,
            rate,
            backoff: Backoff {
                base: Duration::from_millis(1),
                max: Duration::from_millis(2),
            },
            attempts: 8,
        }
    }

    #[tokio::test]
    async fn every_item_gets_the_keys_and_a_second_run_changes_nothing() {
        let table = fake(100, 7);
        let rate = RateLimit::new(1_000_000);
        let store = Store::new(None, State::fresh("t", 4, 3));
        let (counts, examples, result) =
            backfill(&table, &job(&rate, 4, false), &store, &Silent).await;
        result.unwrap();
        assert_eq!(
            (
                counts.scanned,
                counts.updated,
                counts.already,
                counts.segments_done
            ),
            (100, 100, 0, 3)
        );
        assert_eq!(counts.write_units, 200.0);
        assert_eq!(examples, Examples::default());
        assert!(table.all_planned(4));
        assert!(store
            .state()
            .segments
            .iter()
            .all(|s| *s == checkpoint::Segment::Done));
        // Only the shard attributes changed, and only where the item has the source.
        let first = table
            .items
            .lock()
            .unwrap()
            .values()
            .next()
            .cloned()
            .unwrap();
        assert_eq!(
            first.contains_key(PRODUCT_ID),
            first.contains_key(PRODUCT_ID_SHARD)
        );
        assert_eq!(
            first.len(),
            4 + 2 * usize::from(first.contains_key(PRODUCT_ID))
        );

        let store = Store::new(None, State::fresh("t", 4, 3));
        let (counts, _, result) = backfill(&table, &job(&rate, 4, false), &store, &Silent).await;
        result.unwrap();
        assert_eq!(
            (counts.scanned, counts.updated, counts.already),
            (100, 0, 100)
        );
        assert_eq!(
            table.updates.load(Ordering::SeqCst),
            100,
            "no update the second time"
        );
    }

    #[tokio::test]
    async fn a_dry_run_counts_and_writes_nothing() {
        let table = fake(40, 9);
        let rate = RateLimit::new(1);
        let store = Store::new(None, State::fresh("t", 8, 2));
        let (counts, _, result) = backfill(&table, &job(&rate, 8, true), &store, &Silent).await;
        result.unwrap();
        assert_eq!((counts.scanned, counts.updated), (40, 40));
        assert_eq!(table.updates.load(Ordering::SeqCst), 0);
        assert!(table.all_planned(1), "still as one shard writes them");
    }

    #[tokio::test]
    async fn an_interrupted_run_continues_from_its_checkpoint() {
        let path = std::env::temp_dir().join(format!(
            "backfill-run-{}/checkpoint.json",
            std::process::id()
        ));
        let table = fake(120, 5);
        *table.scans_left.lock().unwrap() = Some(9);
        let rate = RateLimit::new(1_000_000);
        let store = Store::new(Some(path.clone()), State::fresh("t", 4, 3));
        let (first, _, result) = backfill(&table, &job(&rate, 4, false), &store, &Silent).await;
        assert!(matches!(result, Err(Error::Call(_))), "{result:?}");
        assert!(first.updated > 0 && first.updated < 120, "{first:?}");
        let saved = checkpoint::load(&path)
            .unwrap()
            .expect("kept for the rerun");
        assert_eq!(saved.segments.len(), 3);

        *table.scans_left.lock().unwrap() = None;
        let (state, start) = checkpoint::start(Some(saved), "t", 4, 8, false).unwrap();
        assert!(matches!(
            start,
            checkpoint::Start::Continued { segments: 3, .. }
        ));
        let store = Store::new(Some(path.clone()), state);
        let (second, _, result) = backfill(&table, &job(&rate, 4, false), &store, &Silent).await;
        result.unwrap();
        store.finish().unwrap();
        assert!(table.all_planned(4));
        // Pages are redone only from the last saved key: every item updated exactly once,
        // and the second run scans less than the whole table.
        assert_eq!(first.updated + second.updated, 120);
        assert_eq!(table.updates.load(Ordering::SeqCst), 120);
        assert!(second.scanned < 120, "{second:?}");
        assert_eq!(checkpoint::load(&path).unwrap(), None);
        std::fs::remove_dir_all(path.parent().unwrap()).ok();
    }

    #[tokio::test]
    async fn throttled_updates_are_retried_and_other_failures_stop_the_run() {
        let table = fake(10, 100);
        table.throttled.store(3, Ordering::SeqCst);
        let rate = RateLimit::new(1_000_000);
        let store = Store::new(None, State::fresh("t", 4, 1));
        let (counts, _, result) = backfill(&table, &job(&rate, 4, false), &store, &Silent).await;
        result.unwrap();
        assert_eq!(counts.updated, 10);

        let table = fake(10, 100);
        table.throttled.store(100, Ordering::SeqCst);
        let store = Store::new(None, State::fresh("t", 4, 1));
        let (counts, _, result) = backfill(&table, &job(&rate, 4, false), &store, &Silent).await;
        let Err(Error::Call(err)) = result else {
            panic!("gives up: {result:?}")
        };
        assert_eq!(err.failure, Failure::Throttled);
        assert_eq!(counts.updated, 0);
        assert_eq!(store.state().segments[0], checkpoint::Segment::NotStarted);
    }

    /// Rewrites the first item of the first page the way a processor with `shards` would,
    /// between the page's scan and its updates.
    struct Rewrites<'a> {
        table: &'a Fake,
        shards: u32,
        rewritten: Mutex<Option<Key>>,
    }

    impl Observer for Rewrites<'_> {
        fn page_read(&self, _segment: u32, keys: &[Key]) {
            let mut rewritten = self.rewritten.lock().unwrap();
            if rewritten.is_some() {
                return;
            }
            let key = keys[0].clone();
            let mut items = self.table.items.lock().unwrap();
            let item = items.get_mut(&key).unwrap();
            let event_type = item[EVENT_TYPE].as_s().unwrap().clone();
            let value =
                contract::index::shard_key(&event_type, &key.user_id, &key.event_key, self.shards);
            item.insert(EVENT_TYPE_SHARD.into(), s(&value));
            item.remove(PRODUCT_ID_SHARD);
            item.remove(PRODUCT_ID);
            *rewritten = Some(key);
        }
    }

    #[tokio::test]
    async fn a_write_made_between_the_scan_and_the_update_is_kept() {
        let table = fake(30, 10);
        // A processor already on 8 shards rewrites one item; the backfill, told 4, must not
        // put its stale value over the newer write.
        let observer = Rewrites {
            table: &table,
            shards: 8,
            rewritten: Mutex::new(None),
        };
        let rate = RateLimit::new(1_000_000);
        let store = Store::new(None, State::fresh("t", 4, 1));
        let (counts, _, result) = backfill(&table, &job(&rate, 4, false), &store, &observer).await;
        result.unwrap();
        assert_eq!((counts.updated, counts.skipped_conditional), (29, 1));
        let key = observer.rewritten.lock().unwrap().clone().unwrap();
        let items = table.items.lock().unwrap();
        let item = &items[&key];
        let kept = contract::index::shard_key(
            item[EVENT_TYPE].as_s().unwrap(),
            &key.user_id,
            &key.event_key,
            8,
        );
        assert_eq!(item[EVENT_TYPE_SHARD], s(&kept));
        assert!(!item.contains_key(PRODUCT_ID_SHARD));
        assert_eq!(item[USER_ID], s(&key.user_id));
        assert_eq!(item[EVENT_KEY], s(&key.event_key));
    }

    #[tokio::test]
    async fn invalid_items_are_counted_and_named() {
        let table = fake(5, 10);
        table
            .items
            .lock()
            .unwrap()
            .values_mut()
            .next()
            .unwrap()
            .remove(EVENT_TYPE);
        let rate = RateLimit::new(1_000_000);
        let store = Store::new(None, State::fresh("t", 4, 1));
        let (counts, examples, result) =
            backfill(&table, &job(&rate, 4, false), &store, &Silent).await;
        result.unwrap();
        assert_eq!((counts.invalid, counts.updated), (1, 4));
        assert_eq!(examples.invalid.len(), 1);
        assert!(examples.invalid[0].ends_with("has no string eventType: not an event item"));
    }
}
