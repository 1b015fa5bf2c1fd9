//! The figures of one event-time minute (or one part of them), what one event adds to them,
//! and how parts add up.
//!
//! Everything is a sum except distinct users, a [`Sketch`]; so parts merge in any order to
//! the same figures, which is what lets shards, windows, parts and rebuilt minutes be added
//! by whoever reads them.

use std::collections::BTreeMap;

use events::{AttrRef, Item};
use serde::{Deserialize, Serialize};

use crate::money::line_cents;
use crate::sketch::Sketch;

/// The event types counted under their own name; any other type is counted under its
/// name too, up to [`MAX_OTHER_TYPES`] of them per part, then under [`OTHER`].
pub const KNOWN_TYPES: [&str; 6] = [
    "view",
    "add_to_cart",
    "purchase",
    "wishlist",
    "share",
    "review",
];
/// Types besides [`KNOWN_TYPES`] a part names before it counts the rest under [`OTHER`]:
/// `eventType` is any string, and a stream of made-up types must not grow the state
/// without bound.
pub const MAX_OTHER_TYPES: usize = 10;
/// The products a part keeps figures for, the first it sees; later ones are counted under
/// [`OTHER`]. 200 products of a minute keep a part's state (1 MB per shard for the whole
/// window) and its item (each KB a write unit) small, and a minute of one shard rarely
/// sells more.
pub const MAX_PRODUCTS: usize = 200;
/// The products an aggregate item names, the highest revenue first; the rest of the part's
/// are summed under [`OTHER`].
pub const ITEM_PRODUCTS: usize = 50;
/// The name under which what is not named individually is counted.
pub const OTHER: &str = "(other)";

/// The type whose events are purchases (revenue and products).
pub const PURCHASE: &str = "purchase";
/// The funnel's first step.
pub const VIEW: &str = "view";
/// The funnel's second step.
pub const ADD_TO_CART: &str = "add_to_cart";

/// What the figures need of one stored event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventFacts<'a> {
    /// The event's `timestamp` (its arrival time when it had none), epoch ms: the item's
    /// `eventTimestamp`.
    pub timestamp_ms: i64,
    /// `eventType`.
    pub event_type: &'a str,
    /// `userId`.
    pub user_id: &'a str,
    /// `productId`, when the event has one.
    pub product_id: Option<&'a str>,
    /// The text of `price` (a number, or a string holding one), when present.
    pub price: Option<&'a str>,
    /// The text of `quantity`, when present.
    pub quantity: Option<&'a str>,
}

impl<'a> EventFacts<'a> {
    /// The facts of a processed item; `None` only if it lacks what every item has.
    pub fn of_item(item: &'a Item) -> Option<EventFacts<'a>> {
        let text = |name: &str| match item.get(name) {
            Some(AttrRef::S(s) | AttrRef::N(s)) => Some(s),
            _ => None,
        };
        let event_type = text("eventType")?;
        // Only a purchase's price and quantity count: the event is searched for nothing else.
        let original = match item.get("originalEvent") {
            Some(AttrRef::M(map)) if event_type == PURCHASE => Some(map),
            _ => None,
        };
        let field = |name: &str| match original.and_then(|m| m.get(name)) {
            Some(AttrRef::S(s) | AttrRef::N(s)) => Some(s),
            _ => None,
        };
        Some(EventFacts {
            timestamp_ms: text("eventTimestamp")?.parse().ok()?,
            event_type,
            user_id: text("userId")?,
            product_id: text("productId"),
            price: field("price"),
            quantity: field("quantity"),
        })
    }

    /// The start of the event's minute, epoch ms.
    pub fn minute_ms(&self) -> i64 {
        minute_of(self.timestamp_ms)
    }
}

/// The start of the minute of `ms`, epoch ms.
pub fn minute_of(ms: i64) -> i64 {
    ms.div_euclid(60_000) * 60_000
}

/// A product's purchases and revenue.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductFigures {
    /// Purchases.
    #[serde(rename = "p")]
    pub purchases: u64,
    /// Their revenue, cents.
    #[serde(rename = "r")]
    pub revenue_cents: i64,
}

/// The figures of a minute (or of a part of it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Figures {
    /// Events counted.
    #[serde(rename = "n", default)]
    pub events: u64,
    /// Events counted by `eventType`.
    #[serde(rename = "t", default)]
    pub by_type: BTreeMap<String, u64>,
    /// Purchases.
    #[serde(rename = "p", default)]
    pub purchases: u64,
    /// Revenue of the purchases, exact cents.
    #[serde(rename = "r", default)]
    pub revenue_cents: i64,
    /// Purchases whose price (or quantity) could not be read: counted, no revenue.
    #[serde(rename = "x", default)]
    pub unpriced_purchases: u64,
    /// Purchases and revenue by `productId` (bounded; see [`MAX_PRODUCTS`]).
    #[serde(rename = "q", default)]
    pub products: BTreeMap<String, ProductFigures>,
    /// Distinct users.
    #[serde(rename = "u", default, with = "sketch_text")]
    pub users: Sketch,
    /// Records dead-lettered.
    #[serde(rename = "d", default)]
    pub dead_lettered: u64,
}

impl Figures {
    /// Counts one event. Returns how many bytes the figures' encoding may have grown by
    /// (new names and sketch registers), for the state's budget.
    #[inline]
    pub fn add(&mut self, event: &EventFacts<'_>) -> usize {
        let before = self.users.encoded_len();
        let mut grown = 0;
        self.events += 1;
        let known = KNOWN_TYPES.contains(&event.event_type);
        let named = known || self.by_type.contains_key(event.event_type);
        let type_name = if named || self.other_types() < MAX_OTHER_TYPES {
            event.event_type
        } else {
            OTHER
        };
        grown += bump(&mut self.by_type, type_name, 1);
        if event.event_type == PURCHASE {
            self.purchases += 1;
            let cents = event.price.and_then(|p| line_cents(p, event.quantity));
            match cents {
                Some(cents) => self.revenue_cents += cents,
                None => self.unpriced_purchases += 1,
            }
            if let Some(product) = event.product_id {
                let cents = cents.unwrap_or(0);
                // A product seen before is found without a key's allocation.
                let figures = match self.products.get_mut(product) {
                    Some(figures) => figures,
                    None => {
                        let name = if self.products.len() < MAX_PRODUCTS {
                            product
                        } else {
                            OTHER
                        };
                        if !self.products.contains_key(name) {
                            grown += json_len(name) + PRODUCT_STATE_BYTES;
                        }
                        self.products.entry(name.to_owned()).or_default()
                    }
                };
                figures.purchases += 1;
                figures.revenue_cents += cents;
            }
        }
        self.users.insert(event.user_id);
        grown + self.users.encoded_len().saturating_sub(before)
    }

    /// Counts `records` dead-lettered records.
    pub fn add_dead_lettered(&mut self, records: u64) {
        self.dead_lettered += records;
    }

    /// Adds another part's figures (the union of their users).
    pub fn merge(&mut self, other: &Figures) {
        self.events += other.events;
        for (name, count) in &other.by_type {
            *self.by_type.entry(name.clone()).or_default() += count;
        }
        self.purchases += other.purchases;
        self.revenue_cents += other.revenue_cents;
        self.unpriced_purchases += other.unpriced_purchases;
        for (name, figures) in &other.products {
            let mine = self.products.entry(name.clone()).or_default();
            mine.purchases += figures.purchases;
            mine.revenue_cents += figures.revenue_cents;
        }
        self.users.merge(&other.users);
        self.dead_lettered += other.dead_lettered;
    }

    /// Events of one type.
    pub fn count(&self, event_type: &str) -> u64 {
        self.by_type.get(event_type).copied().unwrap_or(0)
    }

    /// Purchases per view, when there were views.
    pub fn conversion(&self) -> Option<f64> {
        let views = self.count(VIEW);
        (views > 0).then(|| self.count(PURCHASE) as f64 / views as f64)
    }

    /// The same figures naming only the [`ITEM_PRODUCTS`] products of highest revenue
    /// (then most purchases, then name), the rest summed under [`OTHER`].
    pub fn with_top_products(&self) -> Figures {
        let mut ranked: Vec<(&String, &ProductFigures)> =
            self.products.iter().filter(|(n, _)| *n != OTHER).collect();
        if ranked.len() <= ITEM_PRODUCTS {
            return self.clone();
        }
        ranked.sort_by(|a, b| {
            (b.1.revenue_cents, b.1.purchases, a.0).cmp(&(a.1.revenue_cents, a.1.purchases, b.0))
        });
        let mut products: BTreeMap<String, ProductFigures> = ranked[..ITEM_PRODUCTS]
            .iter()
            .map(|(n, f)| ((*n).clone(), **f))
            .collect();
        let mut other = self.products.get(OTHER).copied().unwrap_or_default();
        for (_, figures) in &ranked[ITEM_PRODUCTS..] {
            other.purchases += figures.purchases;
            other.revenue_cents += figures.revenue_cents;
        }
        products.insert(OTHER.to_owned(), other);
        Figures {
            products,
            ..self.clone()
        }
    }

    /// An upper bound of the bytes of this part's entry in the window's state.
    pub fn state_bytes(&self) -> usize {
        let names: usize = self
            .by_type
            .keys()
            .map(|k| json_len(k) + TYPE_STATE_BYTES)
            .sum();
        let products: usize = self
            .products
            .keys()
            .map(|k| json_len(k) + PRODUCT_STATE_BYTES)
            .sum();
        FIXED_STATE_BYTES + names + products + self.users.encoded_len()
    }

    fn other_types(&self) -> usize {
        self.by_type
            .keys()
            .filter(|k| !KNOWN_TYPES.contains(&k.as_str()))
            .count()
    }
}

/// The bytes of a minute's state entry besides its names and sketch: its key, the field
/// names and the counters' digits.
pub const FIXED_STATE_BYTES: usize = 160;
/// A type's counter in the state besides its name: `:`, the digits, `,`.
const TYPE_STATE_BYTES: usize = 24;
/// A product's figures in the state besides its name.
const PRODUCT_STATE_BYTES: usize = 56;

fn bump(map: &mut BTreeMap<String, u64>, name: &str, by: u64) -> usize {
    match map.get_mut(name) {
        Some(count) => {
            *count += by;
            0
        }
        None => {
            map.insert(name.to_owned(), by);
            json_len(name) + TYPE_STATE_BYTES
        }
    }
}

/// The length of `text` as a JSON string: escapes can make it up to six times longer.
fn json_len(text: &str) -> usize {
    text.len()
        + 2
        + text
            .bytes()
            .filter(|b| matches!(b, b'"' | b'\\') || *b < 0x20)
            .count()
            * 5
}

mod sketch_text {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::sketch::Sketch;

    pub fn serialize<S: Serializer>(sketch: &Sketch, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&sketch.encode())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Sketch, D::Error> {
        let text = String::deserialize(d)?;
        Sketch::decode(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event<'a>(
        event_type: &'a str,
        user: &'a str,
        product: &'a str,
        price: &'a str,
    ) -> EventFacts<'a> {
        EventFacts {
            timestamp_ms: 1_700_000_000_000,
            event_type,
            user_id: user,
            product_id: Some(product),
            price: Some(price),
            quantity: Some("2"),
        }
    }

    #[test]
    fn an_event_adds_to_its_type_users_and_for_a_purchase_revenue() {
        let mut figures = Figures::default();
        figures.add(&event("view", "u1", "p1", "9.99"));
        figures.add(&event("purchase", "u1", "p1", "9.99"));
        figures.add(&event("purchase", "u2", "p2", "oops"));
        assert_eq!(figures.events, 3);
        assert_eq!((figures.count("view"), figures.count("purchase")), (1, 2));
        assert_eq!((figures.purchases, figures.revenue_cents), (2, 1_998));
        assert_eq!(figures.unpriced_purchases, 1);
        assert_eq!(
            figures.products["p1"],
            ProductFigures {
                purchases: 1,
                revenue_cents: 1_998
            }
        );
        assert_eq!(figures.products["p2"].purchases, 1);
        assert_eq!(figures.users.estimate(), 2);
        assert_eq!(figures.conversion(), Some(2.0));
    }

    #[test]
    fn made_up_types_and_products_are_bounded_under_other() {
        let mut figures = Figures::default();
        let names: Vec<String> = (0..300).map(|i| format!("x{i}")).collect();
        for name in &names {
            figures.add(&event(name, "u", "p", "1"));
            figures.add(&event("purchase", "u", name, "1"));
        }
        assert_eq!(figures.by_type.len(), 1 + MAX_OTHER_TYPES + 1);
        assert_eq!(figures.by_type[OTHER], 300 - MAX_OTHER_TYPES as u64);
        assert_eq!(figures.products.len(), MAX_PRODUCTS + 1);
        assert_eq!(figures.products[OTHER].purchases, 100);
        let top = figures.with_top_products();
        assert_eq!(top.products.len(), ITEM_PRODUCTS + 1);
        let sum: i64 = top.products.values().map(|p| p.revenue_cents).sum();
        assert_eq!(sum, figures.revenue_cents, "nothing lost by naming fewer");
    }

    #[test]
    fn figures_survive_their_json() {
        let mut figures = Figures::default();
        figures.add(&event("purchase", "u1", "p\"1", "1.25"));
        figures.add_dead_lettered(3);
        let text = serde_json::to_string(&figures).unwrap();
        assert!(
            text.len() <= figures.state_bytes(),
            "{} > {}",
            text.len(),
            figures.state_bytes()
        );
        assert_eq!(serde_json::from_str::<Figures>(&text).unwrap(), figures);
    }
}
