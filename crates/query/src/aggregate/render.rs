//! How `query aggregates` prints its buckets: a table for people (`--format text`) or one
//! JSON object per bucket and line (`--format json`), for the whole figures or, with
//! `--product`, one product's purchases and revenue.
//!
//! Money is printed from exact integer cents (`123456` → `1234.56`), never through a
//! float; conversion is purchases per view in percent, rounded half up to hundredths, `-`
//! (JSON `null`) when the bucket has no views; distinct users are the merged sketch's
//! estimate.

use std::collections::BTreeMap;

use aggregates::figures::{ADD_TO_CART, OTHER, PURCHASE, VIEW};
use aggregates::Figures;
use serde_json::{json, Map, Value};

use crate::time;

/// The buckets: their start (epoch ms) → their summed figures.
pub type Buckets = BTreeMap<i64, Figures>;

/// A minute as RFC 3339 in UTC without seconds: `2026-12-07T20:31Z`.
pub fn minute(ms: i64) -> String {
    let text = time::format(ms);
    match text.get(..16) {
        Some(prefix) if text.len() > 16 => format!("{prefix}Z"),
        _ => text,
    }
}

/// Cents as a decimal amount: `123456` → `1234.56`, `-5` → `-0.05`.
pub fn money(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// Purchases per view in hundredths of a percent, rounded half up; `None` without views.
pub fn conversion_hundredths(figures: &Figures) -> Option<u128> {
    let views = u128::from(figures.count(VIEW));
    let purchases = u128::from(figures.count(PURCHASE));
    (views > 0).then(|| (purchases * 20_000 + views) / (2 * views))
}

/// The conversion as text: `2.50%`, or `-` without views.
pub fn conversion(figures: &Figures) -> String {
    conversion_hundredths(figures).map_or_else(
        || "-".to_owned(),
        |h| format!("{}.{:02}%", h / 100, h % 100),
    )
}

/// The table of the buckets: a header, then one line per bucket; the time left-aligned,
/// the figures right-aligned.
pub fn table(buckets: &Buckets) -> Vec<String> {
    let header = [
        "TIME (UTC)",
        "VIEWS",
        "CARTS",
        "PURCHASES",
        "REVENUE (USD)",
        "CONVERSION",
        "DISTINCT USERS",
        "EVENTS",
        "DEAD-LETTERED",
    ];
    let rows = buckets
        .iter()
        .map(|(&start, f)| {
            vec![
                minute(start),
                f.count(VIEW).to_string(),
                f.count(ADD_TO_CART).to_string(),
                f.purchases.to_string(),
                money(f.revenue_cents),
                conversion(f),
                f.users.estimate().to_string(),
                f.events.to_string(),
                f.dead_lettered.to_string(),
            ]
        })
        .collect();
    aligned(&header, rows)
}

/// One bucket as a JSON object with every figure.
pub fn to_json(start: i64, every_ms: i64, f: &Figures) -> Value {
    let products: Map<String, Value> = f
        .products
        .iter()
        .map(|(name, p)| {
            (
                name.clone(),
                json!({"purchases": p.purchases, "revenueCents": p.revenue_cents}),
            )
        })
        .collect();
    json!({
        "time": minute(start),
        "fromMs": start,
        "toMs": start + every_ms,
        "events": f.events,
        "byType": f.by_type,
        "views": f.count(VIEW),
        "carts": f.count(ADD_TO_CART),
        "purchases": f.purchases,
        "revenueCents": f.revenue_cents,
        "revenue": money(f.revenue_cents),
        "unpricedPurchases": f.unpriced_purchases,
        "conversionPercent": conversion_hundredths(f).map(|h| h as f64 / 100.0),
        "distinctUsers": f.users.estimate(),
        "deadLettered": f.dead_lettered,
        "products": products,
    })
}

/// Whether a bucket counts purchases under [`OTHER`]: products its parts did not name.
pub fn has_other(f: &Figures) -> bool {
    f.products
        .get(OTHER)
        .is_some_and(|p| p.purchases > 0 || p.revenue_cents != 0)
}

/// The note for stderr when `--product`'s figures may be incomplete: some bucket has
/// purchases under `(other)`.
pub fn incomplete_note(buckets: &Buckets, product: &str) -> Option<String> {
    let incomplete = buckets.values().filter(|f| has_other(f)).count();
    (incomplete > 0).then(|| {
        format!(
            "aggregates: {incomplete} of {} bucket(s) count purchases under {OTHER:?}: an \
             aggregate item names at most its {} top products by revenue (a window part its \
             first {} of a minute), so {product}'s figures there may be incomplete; query \
             --product-id {product} reads its events",
            buckets.len(),
            aggregates::figures::ITEM_PRODUCTS,
            aggregates::figures::MAX_PRODUCTS,
        )
    })
}

/// The table of one product's purchases and revenue per bucket; `*` marks a bucket with
/// purchases under `(other)`.
pub fn product_table(buckets: &Buckets, product: &str) -> Vec<String> {
    let header = [
        "TIME (UTC)",
        "PRODUCT",
        "PURCHASES",
        "REVENUE (USD)",
        "INCOMPLETE",
    ];
    let rows = buckets
        .iter()
        .map(|(&start, f)| {
            let p = f.products.get(product).copied().unwrap_or_default();
            vec![
                minute(start),
                product.to_owned(),
                p.purchases.to_string(),
                money(p.revenue_cents),
                if has_other(f) { "maybe" } else { "no" }.to_owned(),
            ]
        })
        .collect();
    aligned(&header, rows)
}

/// One bucket of one product as a JSON object.
pub fn product_json(start: i64, every_ms: i64, f: &Figures, product: &str) -> Value {
    let p = f.products.get(product).copied().unwrap_or_default();
    let other = f.products.get(OTHER).copied().unwrap_or_default();
    json!({
        "time": minute(start),
        "fromMs": start,
        "toMs": start + every_ms,
        "product": product,
        "purchases": p.purchases,
        "revenueCents": p.revenue_cents,
        "revenue": money(p.revenue_cents),
        "otherPurchases": other.purchases,
        "otherRevenueCents": other.revenue_cents,
        "incomplete": has_other(f),
    })
}

/// Rows padded to the widest cell of each column: the first column left-aligned, the
/// others right-aligned.
fn aligned(header: &[&str], rows: Vec<Vec<String>>) -> Vec<String> {
    let header: Vec<String> = header.iter().map(|h| (*h).to_owned()).collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    std::iter::once(&header)
        .chain(&rows)
        .map(|row| {
            let cells: Vec<String> = row
                .iter()
                .zip(&widths)
                .enumerate()
                .map(|(i, (cell, &width))| {
                    if i == 0 {
                        format!("{cell:<width$}")
                    } else {
                        format!("{cell:>width$}")
                    }
                })
                .collect();
            cells.join("  ").trim_end().to_owned()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use aggregates::figures::ProductFigures;
    use aggregates::EventFacts;

    const MINUTE: i64 = 1_765_139_460_000; // 2025-12-07T20:31Z

    fn event<'a>(kind: &'a str, user: &'a str, product: &'a str, price: &'a str) -> EventFacts<'a> {
        EventFacts {
            timestamp_ms: MINUTE,
            event_type: kind,
            user_id: user,
            product_id: Some(product),
            price: Some(price),
            quantity: Some("1"),
        }
    }

    /// Two parts of one minute (two shards), users overlapping.
    fn bucket() -> Figures {
        let mut a = Figures::default();
        for user in ["u1", "u2", "u3", "u4"] {
            a.add(&event("view", user, "p1", "0"));
        }
        a.add(&event("add_to_cart", "u1", "p1", "0"));
        a.add(&event("purchase", "u1", "p1", "0.10"));
        let mut b = Figures::default();
        for user in ["u3", "u4", "u5", "u6"] {
            b.add(&event("view", user, "p2", "0"));
        }
        b.add(&event("purchase", "u5", "p2", "0.20"));
        b.add(&event("purchase", "u6", "p2", "1234.26"));
        b.add_dead_lettered(3);
        a.merge(&b);
        a
    }

    #[test]
    fn money_is_exact_cents() {
        assert_eq!(money(123_456), "1234.56");
        assert_eq!(money(5), "0.05");
        assert_eq!(money(-5), "-0.05");
        assert_eq!(money(0), "0.00");
        assert_eq!(money(i64::MIN), "-92233720368547758.08");
        // 0.10 + 0.20 + 1234.26: no float drift.
        assert_eq!(money(bucket().revenue_cents), "1234.56");
    }

    #[test]
    fn conversion_is_purchases_per_view_and_dash_without_views() {
        let f = bucket();
        assert_eq!(conversion(&f), "37.50%", "3 purchases / 8 views");
        assert_eq!(conversion(&Figures::default()), "-");
        let mut third = Figures::default();
        for user in ["a", "b", "c"] {
            third.add(&event("view", user, "p", "0"));
        }
        third.add(&event("purchase", "a", "p", "1"));
        assert_eq!(conversion(&third), "33.33%");
        third.add(&event("purchase", "b", "p", "1"));
        assert_eq!(conversion(&third), "66.67%", "rounded half up");
    }

    #[test]
    fn the_table_merges_distinct_users_rather_than_summing_them() {
        let f = bucket();
        // 4 + 4 users per part, 2 shared: 6 distinct, not 8.
        assert_eq!(f.users.estimate(), 6);
        let lines = table(&Buckets::from([(MINUTE, f)]));
        assert_eq!(
            lines,
            [
                "TIME (UTC)         VIEWS  CARTS  PURCHASES  REVENUE (USD)  CONVERSION  \
                 DISTINCT USERS  EVENTS  DEAD-LETTERED",
                concat!(
                    "2025-12-07T20:31Z      8      1          3        1234.56      37.50%",
                    "               6      12              3"
                ),
            ]
        );
        assert_eq!(table(&Buckets::new()).len(), 1);
    }

    #[test]
    fn a_json_line_has_every_figure() {
        let value = to_json(MINUTE, 300_000, &bucket());
        assert_eq!(value["time"], "2025-12-07T20:31Z");
        assert_eq!(value["toMs"], MINUTE + 300_000);
        assert_eq!(value["revenueCents"], 123_456);
        assert_eq!(value["revenue"], "1234.56");
        assert_eq!(value["distinctUsers"], 6);
        assert_eq!(value["byType"]["view"], 8);
        assert_eq!(value["carts"], 1);
        assert_eq!(value["deadLettered"], 3);
        assert_eq!(value["conversionPercent"], 37.5);
        assert_eq!(value["products"]["p2"]["revenueCents"], 123_446);
        let empty = to_json(MINUTE, 60_000, &Figures::default());
        assert_eq!(empty["conversionPercent"], Value::Null);
    }

    #[test]
    fn a_product_shows_its_figures_and_other_makes_a_note() {
        let mut f = bucket();
        let buckets = Buckets::from([(MINUTE, f.clone())]);
        assert_eq!(incomplete_note(&buckets, "p2"), None);
        assert_eq!(
            product_table(&buckets, "p2"),
            [
                "TIME (UTC)         PRODUCT  PURCHASES  REVENUE (USD)  INCOMPLETE",
                "2025-12-07T20:31Z       p2          2        1234.46          no",
            ]
        );
        f.products.insert(
            OTHER.to_owned(),
            ProductFigures {
                purchases: 4,
                revenue_cents: 999,
            },
        );
        let later = MINUTE + 60_000;
        let buckets = Buckets::from([(MINUTE, bucket()), (later, f.clone())]);
        let note = incomplete_note(&buckets, "p2").unwrap();
        assert!(
            note.starts_with("aggregates: 1 of 2 bucket(s) count purchases under \"(other)\""),
            "{note}"
        );
        assert!(
            note.contains("p2's figures there may be incomplete"),
            "{note}"
        );
        let line = product_json(later, 60_000, &f, "p2");
        assert_eq!(line["purchases"], 2);
        assert_eq!(line["revenueCents"], 123_446);
        assert_eq!(line["otherPurchases"], 4);
        assert_eq!(line["incomplete"], true);
        let absent = product_json(MINUTE, 60_000, &bucket(), "nope");
        assert_eq!(
            (absent["purchases"].clone(), absent["revenue"].clone()),
            (json!(0), json!("0.00"))
        );
    }

    #[test]
    fn minutes_print_without_seconds() {
        assert_eq!(minute(MINUTE), "2025-12-07T20:31Z");
    }
}
