//! Per-minute business figures of the retail stream (docs/aggregates.md): what the
//! processor counts in a tumbling window's state and writes at the window's end, what
//! `query aggregates` sums, and what its `--rebuild` recomputes from the event table, all
//! with one definition.
//!
//! [`figures`] are one minute's counts (by type, purchases, revenue, products, distinct
//! users, dead letters) and how parts add up; [`money`] turns price × quantity into exact
//! cents; [`sketch`] counts distinct users so that counts from shards and windows merge;
//! [`window`] carries a window's figures in Lambda's state, duplicate-proof and within its
//! size; [`item`] is the aggregate table's item.

use std::collections::BTreeMap;

pub mod figures;
pub mod item;
pub mod money;
pub mod sketch;
pub mod window;

pub use figures::{EventFacts, Figures};
pub use item::{AggregateItem, Source};
pub use window::{Aggregator, Part, RecordFacts};

/// The figures of every minute the events touch, as a rebuild computes them from the
/// event table (each event once).
pub fn figures_by_minute<'a>(
    events: impl IntoIterator<Item = EventFacts<'a>>,
) -> BTreeMap<i64, Figures> {
    let mut minutes: BTreeMap<i64, Figures> = BTreeMap::new();
    for event in events {
        minutes.entry(event.minute_ms()).or_default().add(&event);
    }
    minutes
}

/// Sums items into buckets of `every_ms` (a multiple of a minute, from the epoch): counts
/// add up, users' sketches merge. The order of the items does not matter.
pub fn sum_by<'i>(
    items: impl IntoIterator<Item = &'i AggregateItem>,
    every_ms: i64,
) -> BTreeMap<i64, Figures> {
    let every_ms = every_ms.max(60_000);
    let mut buckets: BTreeMap<i64, Figures> = BTreeMap::new();
    for item in items {
        let bucket = item.minute_ms.div_euclid(every_ms) * every_ms;
        buckets.entry(bucket).or_default().merge(&item.figures);
    }
    buckets
}
