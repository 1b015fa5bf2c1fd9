//! Realistic retail events, deterministic for a seed: 100 users with profiles, a product
//! catalogue, event types weighted 60/20/10/5/3/2 (view, add_to_cart, purchase, wishlist,
//! share, review), 30-minute sessions, and fields specific to each event type.

use crate::event::{Metadata, RetailEvent};

/// Event types and their weights, as the recipe's producer draws them.
pub const EVENT_WEIGHTS: &[(&str, u32)] = &[
    ("view", 60),
    ("add_to_cart", 20),
    ("purchase", 10),
    ("wishlist", 5),
    ("share", 3),
    ("review", 2),
];
/// How long a session lasts without activity before a new one starts.
pub const SESSION_MS: i64 = 30 * 60 * 1000;
const USERS: usize = 100;

/// (product id, category, price in cents).
const CATALOGUE: &[(&str, &str, u32)] = &[
    ("prod_1001", "electronics", 129_999),
    ("prod_1002", "electronics", 4_999),
    ("prod_1003", "electronics", 89_900),
    ("prod_1004", "books", 1_999),
    ("prod_1005", "books", 3_450),
    ("prod_1006", "clothing", 5_999),
    ("prod_1007", "clothing", 2_499),
    ("prod_1008", "clothing", 12_000),
    ("prod_1009", "home", 7_999),
    ("prod_1010", "home", 24_950),
    ("prod_1011", "sports", 3_999),
    ("prod_1012", "sports", 15_900),
    ("prod_1013", "beauty", 2_200),
    ("prod_1014", "beauty", 6_800),
    ("prod_1015", "toys", 2_999),
    ("prod_1016", "toys", 4_450),
];
const USER_AGENTS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
    "RetailApp/4.2 (Android 14; Pixel 8)",
];
const SEGMENTS: &[&str] = &["new", "regular", "premium", "vip"];
const SOURCES: &[&str] = &["web", "mobile", "api"];
const PAGES: &[&str] = &["home", "search", "category", "product", "cart", "checkout"];

/// A user's fixed traits.
#[derive(Debug, Clone)]
struct Profile {
    id: String,
    user_agent: &'static str,
    ip: String,
    segment: &'static str,
    source: &'static str,
    session: u32,
    last_seen_ms: Option<i64>,
}

/// Draws events; the same seed gives the same sequence.
#[derive(Debug, Clone)]
pub struct Generator {
    rng: fastrand::Rng,
    users: Vec<Profile>,
    sequence: u64,
    seed: u64,
}

impl Generator {
    /// A generator whose users and events follow from `seed`.
    pub fn new(seed: u64) -> Generator {
        let mut rng = fastrand::Rng::with_seed(seed);
        let users = (0..USERS)
            .map(|i| Profile {
                id: format!("user_{:04}", i + 1),
                user_agent: USER_AGENTS[rng.usize(..USER_AGENTS.len())],
                ip: format!("203.0.{}.{}", rng.u8(0..=255), rng.u8(1..=254)),
                segment: SEGMENTS[rng.usize(..SEGMENTS.len())],
                source: SOURCES[rng.usize(..SOURCES.len())],
                session: 0,
                last_seen_ms: None,
            })
            .collect();
        Generator {
            rng,
            users,
            sequence: 0,
            seed,
        }
    }

    /// The next event, happening at `now_ms`.
    pub fn next_event(&mut self, now_ms: i64) -> RetailEvent {
        self.sequence += 1;
        let event_type = self.event_type();
        let (product_id, category, cents) = CATALOGUE[self.rng.usize(..CATALOGUE.len())];
        let page = PAGES[self.rng.usize(..PAGES.len())];
        let quantity =
            matches!(event_type, "add_to_cart" | "purchase").then(|| self.rng.u32(1..=3));
        let rating = (event_type == "review").then(|| self.rng.u8(1..=5));
        let event_id = format!("evt-{:08x}-{:010}", self.seed as u32, self.sequence);
        let user_index = self.rng.usize(..self.users.len());
        let user = &mut self.users[user_index];
        if user
            .last_seen_ms
            .is_none_or(|seen| now_ms - seen > SESSION_MS)
        {
            user.session += 1;
        }
        user.last_seen_ms = Some(now_ms);
        let has_price = matches!(event_type, "view" | "add_to_cart" | "purchase" | "wishlist");
        RetailEvent {
            event_id: Some(event_id),
            user_id: user.id.clone(),
            event_type: event_type.to_owned(),
            product_id: product_id.to_owned(),
            timestamp: now_ms,
            session_id: format!("sess_{}_{}", &user.id[5..], user.session),
            user_agent: user.user_agent.to_owned(),
            ip_address: user.ip.clone(),
            price: has_price.then(|| f64::from(cents) / 100.0),
            currency: has_price.then(|| "USD".to_owned()),
            quantity,
            rating,
            metadata: Metadata {
                source: user.source.to_owned(),
                category: category.to_owned(),
                user_segment: user.segment.to_owned(),
                page: page.to_owned(),
            },
        }
    }

    fn event_type(&mut self) -> &'static str {
        let total: u32 = EVENT_WEIGHTS.iter().map(|(_, w)| w).sum();
        let mut pick = self.rng.u32(0..total);
        for (event_type, weight) in EVENT_WEIGHTS {
            if pick < *weight {
                return event_type;
            }
            pick -= weight;
        }
        EVENT_WEIGHTS[0].0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{process_record, RecordContext};
    use std::collections::HashMap;

    #[test]
    fn a_seed_gives_the_same_events() {
        let a: Vec<RetailEvent> = (0..50)
            .map({
                let mut g = Generator::new(9);
                move |i| g.next_event(i)
            })
            .collect();
        let b: Vec<RetailEvent> = (0..50)
            .map({
                let mut g = Generator::new(9);
                move |i| g.next_event(i)
            })
            .collect();
        assert_eq!(a, b);
        let c: Vec<RetailEvent> = (0..50)
            .map({
                let mut g = Generator::new(10);
                move |i| g.next_event(i)
            })
            .collect();
        assert_ne!(a, c);
    }

    #[test]
    fn event_types_follow_the_recipes_weights() {
        let mut generator = Generator::new(1);
        let mut counts: HashMap<String, u32> = HashMap::new();
        for i in 0..10_000 {
            *counts
                .entry(generator.next_event(1_700_000_000_000 + i).event_type)
                .or_default() += 1;
        }
        for (event_type, weight) in EVENT_WEIGHTS {
            let share = f64::from(counts[*event_type]) / 100.0;
            assert!(
                (share - f64::from(*weight)).abs() < 2.0,
                "{event_type}: {share}% for weight {weight}"
            );
        }
    }

    #[test]
    fn every_generated_event_is_valid_and_about_460_bytes() {
        let mut generator = Generator::new(3);
        let mut total = 0;
        for i in 0..1_000 {
            let bytes =
                serde_json::to_vec(&generator.next_event(1_700_000_000_000 + i * 1000)).unwrap();
            total += bytes.len();
            let ctx = RecordContext {
                event_id: "shardId-0:1",
                arrival_ms: 0,
                processed_at_ms: 1_800_000_000_000,
            };
            process_record(&bytes, &ctx)
                .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&bytes)));
        }
        let average = total / 1_000;
        assert!(
            (380..=540).contains(&average),
            "average event is {average} bytes"
        );
    }

    #[test]
    fn sessions_rotate_after_thirty_quiet_minutes() {
        let mut generator = Generator::new(5);
        let first = generator.next_event(0);
        let user = first.user_id.clone();
        let mut later = generator.next_event(1);
        let mut t = 1;
        while later.user_id != user {
            t += 1;
            later = generator.next_event(t);
        }
        assert_eq!(
            later.session_id, first.session_id,
            "same session within 30 minutes"
        );
        let mut after = generator.next_event(t + SESSION_MS + 1);
        let mut t2 = t + SESSION_MS + 1;
        while after.user_id != user {
            t2 += SESSION_MS + 1;
            after = generator.next_event(t2);
        }
        assert_ne!(
            after.session_id, first.session_id,
            "new session after 30 quiet minutes"
        );
    }
}
