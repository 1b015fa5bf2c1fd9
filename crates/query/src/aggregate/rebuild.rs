//! `query aggregates --rebuild`: the figures of a range of minutes recounted exactly from
//! the event table, and the range's aggregate items replaced by one rebuilt item per
//! minute.
//!
//! 1. [`scan`]: a parallel Scan of the whole event table, filtered on `eventTimestamp`
//!    (the table has no index by time alone), each matching item made
//!    `aggregates::EventFacts` and counted with `aggregates::figures_by_minute`.
//! 2. The range's existing aggregate items are read (strongly consistent).
//! 3. [`plan`]: per minute, the recount plus the dead letters the existing items counted
//!    (the event table does not know dead letters); a minute with neither gets no item.
//! 4. [`apply`]: the rebuilt items are written first, then every other item of the range
//!    deleted, so an interruption leaves extra items, never missing ones; run again, the
//!    rebuild converges (see [`plan`] on dead letters).
//!
//! Minutes whose windows may still be open are refused ([`open_after`]): a window that
//! closes after the rebuild writes parts the rebuild did not replace, and they would be
//! counted twice.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use aggregates::{figures_by_minute, AggregateItem, EventFacts, Figures, Source};
use aws_config::SdkConfig;
use aws_edge::error::CallError;
use aws_edge::retry::Backoff;
use aws_sdk_dynamodb::types::{AttributeValue, DeleteRequest, PutRequest, WriteRequest};
use aws_sdk_dynamodb::Client;
use contract::aggregate::{DAY, PART};
use deployed_stack::Stack;
use futures_util::stream::{self, StreamExt, TryStreamExt};

use super::attr::{self, SdkItem};
use super::read::Stored;
use super::render::minute;
use crate::error::Error;

/// The tumbling window assumed when the mapping's cannot be read: Lambda's largest.
pub const DEFAULT_WINDOW_SECS: u32 = 900;
/// Time past a window's end before its figures count as written: the last invocation of
/// the window, its retries and the write.
pub const SETTLE_SECS: i64 = 120;
/// Items per BatchWriteItem.
pub const BATCH_MAX: usize = 25;
/// BatchWriteItem calls per batch, the first included, before unprocessed requests fail.
pub const ATTEMPTS: u32 = 10;

/// The latest range end a rebuild accepts at `now_ms` without `--force`: minutes ending
/// after it may still be counted by a window that has not closed.
pub fn open_after(now_ms: i64, window_secs: u32) -> i64 {
    now_ms - (i64::from(window_secs) + SETTLE_SECS) * 1000
}

/// The refusal of a range ending at `to_ms`, or `None` when it is closed.
pub fn refusal(to_ms: i64, now_ms: i64, window_secs: u32, source: &str) -> Option<String> {
    let limit = open_after(now_ms, window_secs);
    (to_ms > limit).then(|| {
        format!(
            "--to {} is later than {} (now minus the tumbling window of {window_secs} s \
             ({source}) and {SETTLE_SECS} s): windows may still be counting those minutes, \
             and the parts they write after the rebuild would be counted twice; rebuild an \
             earlier range, wait, or pass --force",
            crate::time::format(to_ms),
            crate::time::format(limit)
        )
    })
}

/// The tumbling window of the stack's mapping (`deployed_stack`'s reading of
/// GetEventSourceMapping), and where it came from; [`DEFAULT_WINDOW_SECS`] when it
/// cannot be read.
pub async fn window_secs(config: &SdkConfig, stack: Option<&Stack>) -> (u32, String) {
    let Some(stack) = stack else {
        return (
            DEFAULT_WINDOW_SECS,
            "assumed: no stack to read it from (--table-name)".into(),
        );
    };
    let function = match stack.function_name() {
        Ok(function) => function,
        Err(e) => return (DEFAULT_WINDOW_SECS, format!("assumed: {e}")),
    };
    match stack.mappings(config, function).await {
        Ok(mappings) => {
            let secs = mappings
                .iter()
                .filter_map(|m| m.tumbling_window_secs)
                .filter(|s| *s > 0)
                .max();
            match secs.and_then(|s| u32::try_from(s).ok()) {
                Some(s) => (
                    s,
                    format!("TumblingWindowInSeconds of {function}'s mapping"),
                ),
                None => (
                    DEFAULT_WINDOW_SECS,
                    format!("assumed: {function}'s mapping reports no TumblingWindowInSeconds"),
                ),
            }
        }
        Err(e) => (DEFAULT_WINDOW_SECS, format!("assumed: {e}")),
    }
}

/// The facts of an event item, as the processor counts them: `eventTimestamp`,
/// `eventType`, `userId`, `productId`, and `price` and `quantity` from `originalEvent`
/// (numbers, or strings holding one). `None` when the item lacks what every event item has.
pub fn facts(item: &SdkItem) -> Option<EventFacts<'_>> {
    fn text(v: &AttributeValue) -> Option<&str> {
        match v {
            AttributeValue::S(s) | AttributeValue::N(s) => Some(s.as_str()),
            _ => None,
        }
    }
    let original = item.get("originalEvent").and_then(|v| v.as_m().ok());
    let field = |name: &str| original.and_then(|m| m.get(name)).and_then(text);
    Some(EventFacts {
        timestamp_ms: item
            .get("eventTimestamp")
            .and_then(|v| v.as_n().ok())?
            .parse()
            .ok()?,
        event_type: attr::text(item, "eventType")?,
        user_id: attr::text(item, "userId")?,
        product_id: attr::text(item, "productId"),
        price: field("price"),
        quantity: field("quantity"),
    })
}

/// What the Scan found.
#[derive(Debug, Default)]
pub struct Scanned {
    /// The recount, by minute.
    pub minutes: BTreeMap<i64, Figures>,
    /// Items the Scan read (the whole table).
    pub scanned: u64,
    /// Events of the range counted.
    pub events: u64,
    /// Items of the range without what every event item has: not counted.
    pub unreadable: u64,
    /// Scan pages.
    pub pages: u64,
}

impl Scanned {
    fn merge(&mut self, other: Scanned) {
        for (minute, figures) in other.minutes {
            self.minutes.entry(minute).or_default().merge(&figures);
        }
        self.scanned += other.scanned;
        self.events += other.events;
        self.unreadable += other.unreadable;
        self.pages += other.pages;
    }
}

/// Counters shared by the segments, for the progress line.
struct Progress {
    scanned: AtomicU64,
    matched: AtomicU64,
    last: Mutex<Instant>,
}

impl Progress {
    fn line(&self, table: &str, segments: u32) -> String {
        format!(
            "rebuild: scanning {table} (the whole table, {segments} segments): scanned={} \
             in_range={}",
            self.scanned.load(Ordering::Relaxed),
            self.matched.load(Ordering::Relaxed)
        )
    }
}

/// Recounts the events of [`from_ms`, `to_ms`) of event table `table` with a parallel Scan
/// of `segments`, a progress line on stderr every few seconds.
pub async fn scan(
    client: &Client,
    table: &str,
    from_ms: i64,
    to_ms: i64,
    segments: u32,
) -> Result<Scanned, Error> {
    let progress = Progress {
        scanned: AtomicU64::new(0),
        matched: AtomicU64::new(0),
        last: Mutex::new(Instant::now()),
    };
    eprintln!("{}", progress.line(table, segments));
    let parts: Vec<Scanned> = stream::iter(0..segments)
        .map(|segment| scan_segment(client, table, from_ms, to_ms, segment, segments, &progress))
        .buffer_unordered(segments as usize)
        .try_collect()
        .await?;
    let mut all = Scanned::default();
    for part in parts {
        all.merge(part);
    }
    eprintln!(
        "{} pages={} done",
        progress.line(table, segments),
        all.pages
    );
    Ok(all)
}

async fn scan_segment(
    client: &Client,
    table: &str,
    from_ms: i64,
    to_ms: i64,
    segment: u32,
    segments: u32,
    progress: &Progress,
) -> Result<Scanned, Error> {
    let mut found = Scanned::default();
    let mut start = None;
    loop {
        let page = client
            .scan()
            .table_name(table)
            .segment(segment as i32)
            .total_segments(segments as i32)
            .filter_expression("#t BETWEEN :from AND :last")
            .projection_expression(
                "#t, eventType, userId, productId, originalEvent.price, originalEvent.quantity",
            )
            .expression_attribute_names("#t", "eventTimestamp")
            .expression_attribute_values(":from", AttributeValue::N(from_ms.to_string()))
            .expression_attribute_values(":last", AttributeValue::N((to_ms - 1).to_string()))
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| {
                Error::Call(
                    CallError::new(
                        format!("DynamoDB Scan({table}, segment {segment} of {segments})"),
                        &e,
                    )
                    .when_denied(
                        "the caller needs dynamodb:Scan on the event table (the stack's \
                         RedrivePolicyArn and ReplayPolicyArn grant it with aggregates)",
                    ),
                )
            })?;
        found.pages += 1;
        found.scanned += u64::try_from(page.scanned_count()).unwrap_or(0);
        let items = page.items();
        let counted: Vec<EventFacts<'_>> = items.iter().filter_map(facts).collect();
        found.unreadable += (items.len() - counted.len()) as u64;
        found.events += counted.len() as u64;
        for (minute, figures) in figures_by_minute(counted) {
            found.minutes.entry(minute).or_default().merge(&figures);
        }
        progress.scanned.fetch_add(
            u64::try_from(page.scanned_count()).unwrap_or(0),
            Ordering::Relaxed,
        );
        progress
            .matched
            .fetch_add(items.len() as u64, Ordering::Relaxed);
        if let Ok(mut last) = progress.last.lock() {
            if last.elapsed() >= Duration::from_secs(5) {
                *last = Instant::now();
                eprintln!("{}", progress.line(table, segments));
            }
        }
        start = page.last_evaluated_key().cloned();
        if start.is_none() {
            return Ok(found);
        }
    }
}

/// What a rebuild writes and deletes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// One rebuilt item per minute with events or dead letters.
    pub writes: Vec<AggregateItem>,
    /// The keys (day, part) of the range's other items.
    pub deletes: Vec<(String, String)>,
}

impl Plan {
    /// Events the written items count.
    pub fn events(&self) -> u64 {
        self.writes.iter().map(|i| i.figures.events).sum()
    }
}

/// The dead letters the existing items of one minute counted, each once: with a rebuilt
/// item among them (an earlier rebuild, which carried over what existed when it ran), its
/// count plus the window parts written after it; else the sum of the parts. (A rebuild
/// interrupted between its writes and its deletes leaves parts it already carried; they
/// were written before it, so they are not counted again.)
pub fn dead_letters(items: &[&AggregateItem]) -> u64 {
    let rebuilt = items
        .iter()
        .filter(|i| i.source == Source::Rebuild)
        .max_by_key(|i| i.written_at_ms);
    match rebuilt {
        Some(rebuilt) => {
            rebuilt.figures.dead_lettered
                + items
                    .iter()
                    .filter(|i| {
                        i.source != Source::Rebuild && i.written_at_ms > rebuilt.written_at_ms
                    })
                    .map(|i| i.figures.dead_lettered)
                    .sum::<u64>()
        }
        None => items.iter().map(|i| i.figures.dead_lettered).sum(),
    }
}

/// The rebuild of a range: `recount` (by minute, from the event table) and the range's
/// `existing` items become one [`Source::Rebuild`] item per minute, written at
/// `written_at_ms`, carrying the minute's [`dead_letters`]; every existing item whose key
/// is not one of those is deleted. A minute with no event and no dead letter gets no item.
/// An item expires (`expiresAt`) only when existing items did: as its minute's did, or,
/// for a minute that had none, as far after its minute as the range's others.
pub fn plan(recount: &BTreeMap<i64, Figures>, existing: &[Stored], written_at_ms: i64) -> Plan {
    let mut by_minute: BTreeMap<i64, Vec<&AggregateItem>> = BTreeMap::new();
    for stored in existing {
        by_minute
            .entry(stored.item.minute_ms)
            .or_default()
            .push(&stored.item);
    }
    // Seconds from a minute's start to its expiry, as the range's items have it.
    let ttl_offset = existing
        .iter()
        .filter_map(|s| Some(s.item.expires_at? - s.item.minute_ms.div_euclid(1000)))
        .max();
    let minutes: BTreeSet<i64> = recount.keys().chain(by_minute.keys()).copied().collect();
    let mut writes = Vec::new();
    for minute_ms in minutes {
        let items = by_minute.get(&minute_ms).map(Vec::as_slice).unwrap_or(&[]);
        let mut figures = recount
            .get(&minute_ms)
            .map(Figures::with_top_products)
            .unwrap_or_default();
        figures.dead_lettered = dead_letters(items);
        if figures.events == 0 && figures.dead_lettered == 0 {
            continue;
        }
        let expires_at = items
            .iter()
            .filter_map(|i| i.expires_at)
            .max()
            .or_else(|| Some(minute_ms.div_euclid(1000) + ttl_offset?));
        writes.push(AggregateItem {
            minute_ms,
            source: Source::Rebuild,
            figures,
            written_at_ms,
            expires_at,
        });
    }
    let kept: BTreeSet<(String, String)> = writes.iter().map(|i| (i.day(), i.part())).collect();
    let deletes = existing
        .iter()
        .map(|s| (s.day.clone(), s.part.clone()))
        .filter(|key| !kept.contains(key))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    Plan { writes, deletes }
}

/// Writes the plan's items, then deletes the others, [`BATCH_MAX`] a call; returns the
/// BatchWriteItem calls made.
pub async fn apply(client: &Client, table: &str, plan: &Plan) -> Result<usize, Error> {
    let puts: Vec<WriteRequest> = plan
        .writes
        .iter()
        .map(|item| {
            let put = PutRequest::builder()
                .set_item(Some(attr::item_to_sdk(&item.attributes())))
                .build()
                .map_err(|e| Error::Refused(format!("cannot build a put request: {e}")))?;
            Ok(WriteRequest::builder().put_request(put).build())
        })
        .collect::<Result<_, Error>>()?;
    let deletes: Vec<WriteRequest> = plan
        .deletes
        .iter()
        .map(|(day, part)| {
            let key = HashMap::from([
                (DAY.to_owned(), AttributeValue::S(day.clone())),
                (PART.to_owned(), AttributeValue::S(part.clone())),
            ]);
            let delete = DeleteRequest::builder()
                .set_key(Some(key))
                .build()
                .map_err(|e| Error::Refused(format!("cannot build a delete request: {e}")))?;
            Ok(WriteRequest::builder().delete_request(delete).build())
        })
        .collect::<Result<_, Error>>()?;
    let mut calls = 0;
    // Puts first: an interruption leaves extra items, which the next run deletes.
    for (requests, what) in [(puts, "puts"), (deletes, "deletes")] {
        for batch in requests.chunks(BATCH_MAX) {
            calls += write_batch(client, table, batch.to_vec(), what).await?;
        }
    }
    Ok(calls)
}

/// One BatchWriteItem of up to [`BATCH_MAX`] requests, its unprocessed requests sent again
/// after a backoff, at most [`ATTEMPTS`] calls.
async fn write_batch(
    client: &Client,
    table: &str,
    batch: Vec<WriteRequest>,
    what: &'static str,
) -> Result<usize, Error> {
    let asked = batch.len();
    let backoff = Backoff::default();
    let mut pending = batch;
    for attempt in 1..=ATTEMPTS {
        let output = client
            .batch_write_item()
            .request_items(table, pending)
            .send()
            .await
            .map_err(|e| {
                Error::Call(
                    CallError::new(format!("DynamoDB BatchWriteItem({table}, {what})"), &e)
                        .when_denied(
                            "the caller needs dynamodb:BatchWriteItem (PutItem, DeleteItem) on \
                             the aggregate table (the stack's RedrivePolicyArn and \
                             ReplayPolicyArn grant it)",
                        ),
                )
            })?;
        pending = output
            .unprocessed_items
            .unwrap_or_default()
            .into_values()
            .flatten()
            .collect();
        if pending.is_empty() {
            return Ok(attempt as usize);
        }
        if attempt < ATTEMPTS {
            tokio::time::sleep(backoff.delay(attempt)).await;
        }
    }
    Err(Error::UnprocessedWrites {
        table: table.to_owned(),
        what,
        left: pending.len(),
        asked,
        attempts: ATTEMPTS,
    })
}

/// The dry run's lines: what would be written and deleted.
pub fn describe(plan: &Plan) -> Vec<String> {
    let writes = plan.writes.iter().map(|i| {
        format!(
            "write  {} {}  minute={} events={} purchases={} revenueCents={} deadLettered={}",
            i.day(),
            i.part(),
            minute(i.minute_ms),
            i.figures.events,
            i.figures.purchases,
            i.figures.revenue_cents,
            i.figures.dead_lettered
        )
    });
    let deletes = plan
        .deletes
        .iter()
        .map(|(day, part)| format!("delete {day} {part}"));
    writes.chain(deletes).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY_MS: i64 = 1_765_065_600_000; // 2025-12-07T00:00Z
    const M1: i64 = DAY_MS + (20 * 60 + 31) * 60_000; // 20:31
    const M2: i64 = M1 + 60_000; // 20:32
    const M3: i64 = M1 + 120_000; // 20:33

    fn event(ms: i64, kind: &'static str, user: &'static str) -> EventFacts<'static> {
        EventFacts {
            timestamp_ms: ms,
            event_type: kind,
            user_id: user,
            product_id: Some("p1"),
            price: Some("10.05"),
            quantity: Some("2"),
        }
    }

    fn stored(
        minute_ms: i64,
        source: Source,
        dead: u64,
        written: i64,
        expires: Option<i64>,
    ) -> Stored {
        let mut figures = Figures::default();
        figures.add(&event(minute_ms, "view", "someone"));
        figures.add_dead_lettered(dead);
        let item = AggregateItem {
            minute_ms,
            source,
            figures,
            written_at_ms: written,
            expires_at: expires,
        };
        Stored {
            day: item.day(),
            part: item.part(),
            item,
        }
    }

    fn window(shard: &str) -> Source {
        Source::Window {
            shard_id: shard.into(),
            window_start_ms: M1,
            first_sequence: "1".into(),
        }
    }

    #[test]
    fn a_minute_is_replaced_by_its_recount_and_keeps_its_dead_letters() {
        let recount = figures_by_minute([
            event(M1 + 5, "view", "u1"),
            event(M1 + 7, "purchase", "u1"),
            event(M3 + 1, "view", "u2"),
        ]);
        let existing = [
            stored(M1, window("shardId-0"), 2, 100, Some(9_000)),
            stored(M1, window("shardId-1"), 1, 100, Some(9_000)),
            // Dead letters only: no event left in the table for 20:32.
            stored(M2, window("shardId-0"), 4, 100, None),
            // No events, no dead letters: deleted, nothing written.
            stored(DAY_MS + 60_000, window("shardId-0"), 0, 100, None),
        ];
        let plan = plan(&recount, &existing, 500);
        let written: Vec<(String, u64, u64, Option<i64>)> = plan
            .writes
            .iter()
            .map(|i| {
                (
                    i.part(),
                    i.figures.events,
                    i.figures.dead_lettered,
                    i.expires_at,
                )
            })
            .collect();
        let ttl = 9_000 - M1 / 1000;
        assert_eq!(
            written,
            [
                ("20:31#rebuild".to_owned(), 2, 3, Some(9_000)),
                ("20:32#rebuild".to_owned(), 0, 4, Some(M2 / 1000 + ttl)),
                ("20:33#rebuild".to_owned(), 1, 0, Some(M3 / 1000 + ttl)),
            ]
        );
        assert_eq!(
            plan.writes[0].figures.revenue_cents, 2_010,
            "10.05 × 2, exact"
        );
        assert!(plan
            .writes
            .iter()
            .all(|i| i.written_at_ms == 500 && i.source == Source::Rebuild));
        let deleted: Vec<&str> = plan.deletes.iter().map(|(_, p)| p.as_str()).collect();
        assert_eq!(
            deleted,
            [
                "00:01#shardId-0#1765139460000#1",
                "20:31#shardId-0#1765139460000#1",
                "20:31#shardId-1#1765139460000#1",
                "20:32#shardId-0#1765139460000#1",
            ]
        );
        assert_eq!(plan.events(), 3);
    }

    #[test]
    fn a_rebuild_of_a_rebuild_replaces_it_in_place_and_keeps_nothing_else() {
        let recount = figures_by_minute([event(M1, "view", "u1")]);
        let existing = [stored(M1, Source::Rebuild, 5, 100, None)];
        let plan = plan(&recount, &existing, 200);
        assert_eq!(plan.writes.len(), 1);
        assert_eq!(plan.writes[0].figures.dead_lettered, 5);
        assert_eq!(plan.writes[0].expires_at, None, "none before, none now");
        assert!(
            plan.deletes.is_empty(),
            "the same key is overwritten, not deleted"
        );
    }

    #[test]
    fn dead_letters_already_carried_by_a_rebuild_count_once() {
        let rebuilt = stored(M1, Source::Rebuild, 5, 200, None).item;
        let carried = stored(M1, window("a"), 3, 100, None).item;
        let later = stored(M1, window("b"), 2, 300, None).item;
        assert_eq!(dead_letters(&[&carried, &later]), 5);
        assert_eq!(
            dead_letters(&[&rebuilt, &carried]),
            5,
            "interrupted rebuild"
        );
        assert_eq!(dead_letters(&[&rebuilt, &carried, &later]), 7);
        assert_eq!(dead_letters(&[]), 0);
    }

    #[test]
    fn an_empty_range_writes_and_deletes_nothing() {
        assert_eq!(plan(&BTreeMap::new(), &[], 1), Plan::default());
    }

    #[test]
    fn open_minutes_are_refused_naming_the_window() {
        let now = M1 + 3_600_000;
        assert_eq!(open_after(now, 60), now - 180_000);
        assert_eq!(refusal(now - 180_000, now, 60, "x"), None);
        let text = refusal(
            now - 179_999,
            now,
            60,
            "TumblingWindowInSeconds of f's mapping",
        )
        .unwrap();
        assert!(
            text.contains("tumbling window of 60 s (TumblingWindowInSeconds"),
            "{text}"
        );
        assert!(text.ends_with("or pass --force"), "{text}");
    }

    #[test]
    fn event_items_give_their_facts_numbers_or_strings() {
        let item: SdkItem = HashMap::from([
            (
                "eventTimestamp".into(),
                AttributeValue::N("1765139460123".into()),
            ),
            ("eventType".into(), AttributeValue::S("purchase".into())),
            ("userId".into(), AttributeValue::S("u1".into())),
            ("productId".into(), AttributeValue::S("p1".into())),
            (
                "originalEvent".into(),
                AttributeValue::M(HashMap::from([
                    ("price".into(), AttributeValue::S("19.99".into())),
                    ("quantity".into(), AttributeValue::N("3".into())),
                ])),
            ),
        ]);
        let f = facts(&item).unwrap();
        assert_eq!(
            (
                f.timestamp_ms,
                f.event_type,
                f.user_id,
                f.product_id,
                f.price,
                f.quantity
            ),
            (
                1_765_139_460_123,
                "purchase",
                "u1",
                Some("p1"),
                Some("19.99"),
                Some("3")
            )
        );
        let mut bare = item.clone();
        bare.remove("originalEvent");
        bare.remove("productId");
        let f = facts(&bare).unwrap();
        assert_eq!((f.product_id, f.price, f.quantity), (None, None, None));
        bare.remove("userId");
        assert!(facts(&bare).is_none());
    }

    #[test]
    fn the_dry_run_lists_writes_then_deletes() {
        let recount = figures_by_minute([event(M1, "purchase", "u1")]);
        let existing = [stored(M1, window("s"), 1, 1, None)];
        let lines = describe(&plan(&recount, &existing, 2));
        assert_eq!(
            lines,
            [
                "write  2025-12-07 20:31#rebuild  minute=2025-12-07T20:31Z events=1 purchases=1 \
                 revenueCents=2010 deadLettered=1",
                "delete 2025-12-07 20:31#s#1765139460000#1",
            ]
        );
    }
}
