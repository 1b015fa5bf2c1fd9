//! Properties of the figures over generated streams: parts merge in any order to the same
//! figures, a record delivered again is counted once, a window whose state would outgrow
//! Lambda's 1 MB splits into parts that add up to the truth, and how Lambda batches the
//! records does not change the parts.

use std::collections::{BTreeMap, HashMap};

use aggregates::window::STATE_BUDGET_BYTES;
use aggregates::{Aggregator, EventFacts, Figures, Part, RecordFacts};
use proptest::prelude::*;

const MINUTE: i64 = 1_700_000_040_000;

/// An event as owned text, borrowed as [`EventFacts`].
#[derive(Debug, Clone)]
struct Event {
    minute: i64,
    kind: &'static str,
    user: String,
    product: String,
    price: String,
}

impl Event {
    fn facts(&self) -> EventFacts<'_> {
        EventFacts {
            timestamp_ms: MINUTE + self.minute * 60_000 + 17,
            event_type: self.kind,
            user_id: &self.user,
            product_id: Some(&self.product),
            price: Some(&self.price),
            quantity: Some("2"),
        }
    }
}

fn event(product_len: usize) -> impl Strategy<Value = Event> {
    (
        -5i64..3,
        prop::sample::select(vec!["view", "add_to_cart", "purchase", "share"]),
        0u32..300,
        0u32..400,
        0u32..100_000,
    )
        .prop_map(move |(minute, kind, user, product, cents)| Event {
            minute,
            kind,
            user: format!("user-{user}"),
            product: format!("{product:0>width$}", width = product_len),
            price: format!("{}.{:02}", cents / 100, cents % 100),
        })
}

fn count_all(window: &mut Aggregator, events: &[Event], first_sequence: usize) -> usize {
    let mut counted = 0;
    for (i, e) in events.iter().enumerate() {
        let sequence = format!("{:030}", first_sequence + i);
        let facts = [e.facts()];
        counted += usize::from(window.count(&RecordFacts {
            sequence: &sequence,
            arrival_ms: MINUTE,
            events: &facts,
            dead_lettered: 0,
        }));
    }
    counted
}

fn sum_parts(parts: &[Part]) -> BTreeMap<i64, Figures> {
    let mut sum: BTreeMap<i64, Figures> = BTreeMap::new();
    for part in parts {
        for (minute, figures) in &part.minutes {
            sum.entry(*minute).or_default().merge(figures);
        }
    }
    sum
}

/// What matters of a minute's figures when product names may be bounded differently.
#[derive(Debug, PartialEq)]
struct Totals {
    minute: i64,
    events: u64,
    by_type: BTreeMap<String, u64>,
    revenue_cents: i64,
    purchases: u64,
    users: aggregates::sketch::Sketch,
}

fn totals(minutes: &BTreeMap<i64, Figures>) -> Vec<Totals> {
    minutes
        .iter()
        .map(|(m, f)| Totals {
            minute: *m,
            events: f.events,
            by_type: f.by_type.clone(),
            revenue_cents: f.revenue_cents,
            purchases: f.purchases,
            users: f.users.clone(),
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn merging_parts_in_any_order_gives_the_same_figures(
        events in prop::collection::vec(event(8), 1..200),
        cuts in prop::collection::vec(0usize..200, 0..6),
        seed in any::<u64>(),
    ) {
        let mut bounds: Vec<usize> = cuts.into_iter().map(|c| c % events.len()).collect();
        bounds.push(0);
        bounds.push(events.len());
        bounds.sort_unstable();
        let parts: Vec<Figures> = bounds
            .windows(2)
            .map(|w| {
                let mut f = Figures::default();
                for e in &events[w[0]..w[1]] {
                    f.add(&e.facts());
                }
                f
            })
            .collect();
        let merge = |order: &[usize]| {
            let mut sum = Figures::default();
            for &i in order {
                sum.merge(&parts[i]);
            }
            sum
        };
        let forward: Vec<usize> = (0..parts.len()).collect();
        let mut shuffled = forward.clone();
        fastrand::Rng::with_seed(seed).shuffle(&mut shuffled);
        prop_assert_eq!(merge(&forward), merge(&shuffled));
        let mut whole = Figures::default();
        for e in &events {
            whole.add(&e.facts());
        }
        let merged = merge(&forward);
        prop_assert_eq!((merged.events, merged.revenue_cents, &merged.users), (whole.events, whole.revenue_cents, &whole.users));
    }

    #[test]
    fn a_record_seen_again_is_counted_once(
        events in prop::collection::vec(event(8), 1..150),
        repeats in prop::collection::vec((0usize..150, 0usize..150), 0..40),
    ) {
        // Deliveries in order, each sometimes followed by an earlier record again.
        let mut window = Aggregator::resume("s", MINUTE, &HashMap::new()).unwrap();
        let mut once = Aggregator::resume("s", MINUTE, &HashMap::new()).unwrap();
        count_all(&mut once, &events, 1);
        for (i, e) in events.iter().enumerate() {
            count_all(&mut window, std::slice::from_ref(e), 1 + i);
            for &(at, back) in &repeats {
                if at == i {
                    let j = back.min(i);
                    prop_assert_eq!(count_all(&mut window, std::slice::from_ref(&events[j]), 1 + j), 0);
                }
            }
        }
        prop_assert_eq!(window.state(), once.state());
    }

    #[test]
    fn batching_does_not_change_the_parts_and_the_parts_add_up(
        events in prop::collection::vec(
            event(4_000).prop_map(|e| Event { kind: "purchase", ..e }),
            150..400,
        ),
        batch in 1usize..120,
    ) {
        // Purchases of products named in 4,000 bytes make the state outgrow its budget.
        let mut whole = Aggregator::resume("s", MINUTE, &HashMap::new()).unwrap();
        count_all(&mut whole, &events, 1);
        let mut parts_whole = whole.finish();

        let mut state = HashMap::new();
        let mut parts_batched = Vec::new();
        for (n, chunk) in events.chunks(batch).enumerate() {
            let mut window = Aggregator::resume("s", MINUTE, &state).unwrap();
            count_all(&mut window, chunk, 1 + n * batch);
            parts_batched.extend(window.take_closed());
            state = window.state();
            let bytes = serde_json::to_string(&state).unwrap().len();
            prop_assert!(bytes < 1_000_000, "state of {} bytes", bytes);
        }
        let mut last = Aggregator::resume("s", MINUTE, &state).unwrap();
        parts_batched.extend(last.finish());
        prop_assert!(parts_whole.len() > 1, "the budget ({STATE_BUDGET_BYTES}) split the window");
        prop_assert_eq!(&parts_batched, &parts_whole);

        let truth = aggregates::figures_by_minute(events.iter().map(Event::facts));
        prop_assert_eq!(totals(&sum_parts(&parts_whole)), totals(&truth));
        parts_whole.clear();
    }
}
