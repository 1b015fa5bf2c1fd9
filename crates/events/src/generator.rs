//! Realistic retail events, as the recipe's test_data_producer.py makes them, but
//! deterministic for a seed so tests and benchmarks can replay a stream exactly.
//!
//! From the recipe: 100 users, each `user-<UUID>` with a type (new, returning, premium), a
//! location, an age group and a preferred category; event types weighted 60/20/10/5/3/2
//! (view, add_to_cart, purchase, wishlist, share, review); 500 products
//! (`<category>-<subcategory>-NNN`, 5 categories × 5 subcategories × 20), 70% of picks from
//! the user's preferred category; a session UUID per user that lasts 30 minutes from its
//! start; timestamps up to an hour before "now" (so consumers see out-of-order events, as
//! real mobile clients send them); five user agents, seven referrers, a random IPv4
//! address; price (10.00–500.00 USD) and quantity 1–3 on purchases, quantity 1–5 on
//! add_to_cart, a 1–5 rating on reviews.
//!
//! Two deliberate differences: every event carries an `eventId` (a UUID), so a producer's
//! retry overwrites the same item; and `metadata.platform` is derived from the event's own
//! user agent (the recipe drew a second, unrelated agent for it).

use crate::event::{Metadata, RetailEvent};

/// Event types and their weights, as the recipe's producer draws them.
pub const EVENT_WEIGHTS: [(&str, u32); 6] = [
    ("view", 60),
    ("add_to_cart", 20),
    ("purchase", 10),
    ("wishlist", 5),
    ("share", 3),
    ("review", 2),
];
/// How long a user's session lasts from its start, in milliseconds (the recipe's 30 min).
pub const SESSION_MS: i64 = 30 * 60 * 1000;
/// How far before "now" an event's timestamp may lie, in milliseconds (the recipe's hour).
const MAX_AGE_MS: i64 = 60 * 60 * 1000;
/// The users the generator picks from, uniformly.
pub const USERS: usize = 100;
const PRODUCTS_PER_SUBCATEGORY: u32 = 20;

/// The products in the generator's catalogue: every category's subcategories, each with
/// twenty products.
pub const PRODUCTS: u32 =
    (CATEGORIES.len() * CATEGORIES[0].1.len()) as u32 * PRODUCTS_PER_SUBCATEGORY;

const CATEGORIES: [(&str, [&str; 5]); 5] = [
    (
        "electronics",
        ["smartphone", "laptop", "tablet", "headphones", "smartwatch"],
    ),
    ("clothing", ["shirt", "pants", "dress", "shoes", "jacket"]),
    (
        "home",
        ["furniture", "kitchen", "garden", "decor", "appliances"],
    ),
    (
        "books",
        [
            "fiction",
            "non-fiction",
            "textbook",
            "cookbook",
            "biography",
        ],
    ),
    (
        "sports",
        [
            "equipment",
            "apparel",
            "supplements",
            "accessories",
            "footwear",
        ],
    ),
];
const USER_TYPES: [&str; 3] = ["new", "returning", "premium"];
const LOCATIONS: [&str; 7] = ["US", "CA", "UK", "DE", "FR", "AU", "JP"];
const AGE_GROUPS: [&str; 5] = ["18-25", "26-35", "36-45", "46-55", "55+"];
const USER_AGENTS: [&str; 5] = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 14_7_1 like Mac OS X) AppleWebKit/605.1.15",
    "Mozilla/5.0 (Android 11; Mobile; rv:91.0) Gecko/91.0 Firefox/91.0",
    "Mozilla/5.0 (iPad; CPU OS 14_7_1 like Mac OS X) AppleWebKit/605.1.15",
];
const REFERRERS: [&str; 7] = [
    "https://www.google.com/search",
    "https://www.facebook.com/",
    "https://www.instagram.com/",
    "https://www.youtube.com/",
    "https://direct",
    "https://newsletter.email/",
    "https://partner-site.com/",
];

/// A user's fixed traits and current session.
#[derive(Debug, Clone)]
struct Profile {
    user_id: String,
    user_type: &'static str,
    location: &'static str,
    age_group: &'static str,
    preferred_category: usize,
    /// The session's id and when it started.
    session: Option<(String, i64)>,
}

/// Draws realistic events; the same seed gives the same users and the same sequence.
#[derive(Debug, Clone)]
pub struct Generator {
    rng: fastrand::Rng,
    users: Vec<Profile>,
}

impl Generator {
    /// A generator whose users and events follow from `seed`.
    pub fn new(seed: u64) -> Generator {
        let mut rng = fastrand::Rng::with_seed(seed);
        let users = (0..USERS)
            .map(|_| Profile {
                user_id: format!("user-{}", uuid(&mut rng)),
                user_type: pick(&mut rng, &USER_TYPES),
                location: pick(&mut rng, &LOCATIONS),
                age_group: pick(&mut rng, &AGE_GROUPS),
                preferred_category: rng.usize(..CATEGORIES.len()),
                session: None,
            })
            .collect();
        Generator { rng, users }
    }

    /// The next event, produced at `now_ms` (epoch ms; its timestamp lies up to an hour
    /// earlier).
    pub fn next_event(&mut self, now_ms: i64) -> RetailEvent {
        let rng = &mut self.rng;
        let user = &mut self.users[rng.usize(..USERS)];
        let session_id = match &user.session {
            Some((id, started)) if now_ms.saturating_sub(*started) < SESSION_MS => id.clone(),
            _ => {
                let id = uuid(rng);
                user.session = Some((id.clone(), now_ms));
                id
            }
        };
        let event_type = event_type(rng);
        let category = if rng.u32(..100) < 70 {
            user.preferred_category
        } else {
            rng.usize(..CATEGORIES.len())
        };
        let (category, subcategories) = CATEGORIES[category];
        let product_id = format!(
            "{category}-{}-{:03}",
            pick(rng, &subcategories),
            rng.u32(1..=PRODUCTS_PER_SUBCATEGORY)
        );
        let timestamp = now_ms.saturating_sub(rng.i64(0..=MAX_AGE_MS));
        let user_agent = pick(rng, &USER_AGENTS);
        let ip_address = format!(
            "{}.{}.{}.{}",
            rng.u8(1..=223),
            rng.u8(1..=255),
            rng.u8(1..=255),
            rng.u8(1..=255)
        );
        let metadata = Metadata {
            user_type: user.user_type.to_owned(),
            location: user.location.to_owned(),
            age_group: user.age_group.to_owned(),
            referrer: pick(rng, &REFERRERS).to_owned(),
            platform: platform(user_agent).to_owned(),
        };
        let mut event = RetailEvent {
            event_id: Some(uuid(rng)),
            user_id: user.user_id.clone(),
            event_type: event_type.to_owned(),
            product_id,
            timestamp,
            session_id,
            user_agent: user_agent.to_owned(),
            ip_address,
            metadata,
            price: None,
            currency: None,
            quantity: None,
            rating: None,
        };
        match event_type {
            "purchase" => {
                event.price = Some(f64::from(rng.u32(1_000..=50_000)) / 100.0);
                event.currency = Some("USD".to_owned());
                event.quantity = Some(rng.u32(1..=3));
            }
            "add_to_cart" => event.quantity = Some(rng.u32(1..=5)),
            "review" => event.rating = Some(rng.u8(1..=5)),
            _ => {}
        }
        event
    }
}

fn pick<T: Copy>(rng: &mut fastrand::Rng, items: &[T]) -> T {
    items[rng.usize(..items.len())]
}

fn event_type(rng: &mut fastrand::Rng) -> &'static str {
    let total: u32 = EVENT_WEIGHTS.iter().map(|(_, w)| w).sum();
    let mut draw = rng.u32(..total);
    for (event_type, weight) in EVENT_WEIGHTS {
        if draw < weight {
            return event_type;
        }
        draw -= weight;
    }
    EVENT_WEIGHTS[0].0
}

/// The recipe's platform from a user agent.
fn platform(user_agent: &str) -> &'static str {
    if user_agent.contains("iPhone") || user_agent.contains("iPad") {
        "iOS"
    } else if user_agent.contains("Android") {
        "Android"
    } else if user_agent.contains("Windows") {
        "Windows"
    } else if user_agent.contains("Macintosh") {
        "macOS"
    } else {
        "Unknown"
    }
}

/// A random (version 4) UUID from `rng`, in its usual text form: the generator's ids, and
/// the request ids of invocations the tools make in their own process.
pub fn uuid(rng: &mut fastrand::Rng) -> String {
    let bits = (rng.u128(..) & !(0xF << 76) | (0x4 << 76)) & !(0x3 << 62) | (0x2 << 62);
    let hex = format!("{bits:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{process_record, RecordContext};
    use std::collections::{HashMap, HashSet};

    fn events(seed: u64, count: i64) -> Vec<RetailEvent> {
        let mut generator = Generator::new(seed);
        (0..count)
            .map(|i| generator.next_event(1_700_000_000_000 + i * 1_000))
            .collect()
    }

    #[test]
    fn a_seed_gives_the_same_events() {
        assert_eq!(events(9, 200), events(9, 200));
        assert_ne!(events(9, 200), events(10, 200));
    }

    #[test]
    fn event_types_follow_the_recipes_weights() {
        let mut counts: HashMap<String, u32> = HashMap::new();
        for event in events(1, 10_000) {
            *counts.entry(event.event_type).or_default() += 1;
        }
        assert_eq!(counts.len(), EVENT_WEIGHTS.len());
        for (event_type, weight) in EVENT_WEIGHTS {
            let percent = f64::from(counts[event_type]) / 100.0;
            assert!(
                (percent - f64::from(weight)).abs() < 1.5,
                "{event_type}: {percent}% for weight {weight}"
            );
        }
    }

    #[test]
    fn every_generated_event_is_valid_and_about_460_bytes() {
        let mut total = 0;
        let all = events(3, 2_000);
        for event in &all {
            let bytes = serde_json::to_vec(event).unwrap();
            total += bytes.len();
            let ctx = RecordContext {
                event_id: "shardId-000000000000:1",
                arrival_ms: 1_700_000_000_000,
                processed_at_ms: 1_800_000_000_000,
            };
            let item = process_record(&bytes, &ctx)
                .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&bytes)));
            assert_eq!(item.partition_key(), event.user_id);
            let event_id = event.event_id.as_deref().unwrap_or_default();
            assert_eq!(
                item.sort_key(),
                format!("{:013}#{event_id}", event.timestamp)
            );
        }
        let average = total / all.len();
        assert!(
            (430..=500).contains(&average),
            "average event is {average} bytes"
        );
    }

    #[test]
    fn events_have_the_recipes_shape() {
        let all = events(4, 5_000);
        let users: HashSet<&str> = all.iter().map(|e| e.user_id.as_str()).collect();
        assert_eq!(users.len(), USERS);
        let event_ids: HashSet<&str> = all.iter().filter_map(|e| e.event_id.as_deref()).collect();
        assert_eq!(event_ids.len(), all.len(), "event ids are unique");
        for (i, e) in all.iter().enumerate() {
            assert!(
                e.user_id.starts_with("user-") && e.user_id.len() == 41,
                "{}",
                e.user_id
            );
            let now = 1_700_000_000_000 + i as i64 * 1_000;
            assert!((now - MAX_AGE_MS..=now).contains(&e.timestamp));
            let parts: Vec<&str> = e.product_id.rsplitn(2, '-').collect();
            let number: u32 = parts[0].parse().unwrap();
            assert!(
                (1..=20).contains(&number) && parts[0].len() == 3,
                "{}",
                e.product_id
            );
            assert!(CATEGORIES
                .iter()
                .any(|(c, subs)| subs.iter().any(|s| parts[1] == format!("{c}-{s}"))));
            assert_eq!(e.metadata.platform, platform(&e.user_agent));
            let octets: Vec<u8> = e
                .ip_address
                .split('.')
                .map(|o| o.parse().unwrap())
                .collect();
            assert!(octets.len() == 4 && (1..=223).contains(&octets[0]));
            assert!(REFERRERS.contains(&e.metadata.referrer.as_str()));
            match e.event_type.as_str() {
                "purchase" => {
                    let price = e.price.unwrap();
                    assert!((10.0..=500.0).contains(&price));
                    assert_eq!((price * 100.0).round() / 100.0, price);
                    assert_eq!(e.currency.as_deref(), Some("USD"));
                    assert!((1..=3).contains(&e.quantity.unwrap()));
                    assert_eq!(e.rating, None);
                }
                "add_to_cart" => {
                    assert!((1..=5).contains(&e.quantity.unwrap()));
                    assert_eq!((e.price, e.rating), (None, None));
                }
                "review" => {
                    assert!((1..=5).contains(&e.rating.unwrap()));
                    assert_eq!((e.price, e.quantity), (None, None));
                }
                _ => assert_eq!((e.price, e.quantity, e.rating), (None, None, None)),
            }
        }
    }

    #[test]
    fn users_mostly_browse_their_preferred_category() {
        let mut generator = Generator::new(6);
        let preferred: HashMap<String, &str> = generator
            .users
            .iter()
            .map(|u| (u.user_id.clone(), CATEGORIES[u.preferred_category].0))
            .collect();
        let all: Vec<RetailEvent> = (0..10_000).map(|i| generator.next_event(i)).collect();
        let hits = all
            .iter()
            .filter(|e| e.product_id.starts_with(preferred[&e.user_id]))
            .count();
        // 70% on purpose plus a fifth of the other 30% by chance: 76%.
        let percent = hits as f64 / 100.0;
        assert!((73.0..79.0).contains(&percent), "{percent}%");
    }

    #[test]
    fn sessions_last_thirty_minutes_from_their_start() {
        let mut generator = Generator::new(5);
        let first = generator.next_event(0);
        let session_of = |g: &mut Generator, now: i64| loop {
            let e = g.next_event(now);
            if e.user_id == first.user_id {
                return e.session_id;
            }
        };
        assert_eq!(session_of(&mut generator, SESSION_MS - 1), first.session_id);
        let next = session_of(&mut generator, SESSION_MS);
        assert_ne!(next, first.session_id, "a new session after 30 minutes");
        assert_eq!(session_of(&mut generator, SESSION_MS + 60_000), next);
    }

    #[test]
    fn uuids_are_version_4() {
        let mut rng = fastrand::Rng::with_seed(1);
        for _ in 0..100 {
            let id = uuid(&mut rng);
            let bytes = id.as_bytes();
            assert_eq!(id.len(), 36);
            assert_eq!(
                (bytes[8], bytes[13], bytes[18], bytes[23]),
                (b'-', b'-', b'-', b'-')
            );
            assert_eq!(bytes[14], b'4');
            assert!(matches!(bytes[19], b'8' | b'9' | b'a' | b'b'), "{id}");
        }
    }
}
