//! The aggregate table's item: one part of one minute's figures, keyed as
//! `contract::aggregate` says (`day`, `HH:MM#<source>`), written by the processor and by a
//! rebuild, read by `query aggregates`.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Datelike, Timelike};
use contract::aggregate as names;
use events::AttrValue;

use crate::figures::{Figures, ProductFigures};
use crate::sketch::Sketch;

/// Where a part's figures came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A Lambda window of one shard (or one part of it).
    Window {
        /// The shard.
        shard_id: String,
        /// The window's start, epoch ms.
        window_start_ms: i64,
        /// The part's first counted sequence number.
        first_sequence: String,
    },
    /// A rebuild from the event table: the minute's whole figures.
    Rebuild,
}

/// One item of the aggregate table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AggregateItem {
    /// The minute's start, epoch ms.
    pub minute_ms: i64,
    /// Whose figures.
    pub source: Source,
    /// The figures.
    pub figures: Figures,
    /// When it was written, epoch ms.
    pub written_at_ms: i64,
    /// Its TTL, epoch seconds.
    pub expires_at: Option<i64>,
}

/// Why an item of the aggregate table could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("aggregate item {part:?}: {attribute} {reason}")]
pub struct ItemError {
    /// The item's sort key, as far as known.
    pub part: String,
    /// The attribute.
    pub attribute: &'static str,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// The partition key of the minute starting at `minute_ms`: its UTC day, `YYYY-MM-DD`.
pub fn day_key(minute_ms: i64) -> String {
    DateTime::from_timestamp_millis(minute_ms)
        .map(|t| format!("{:04}-{:02}-{:02}", t.year(), t.month(), t.day()))
        .unwrap_or_default()
}

/// The first part of the sort key of the minute starting at `minute_ms`: `HH:MM`.
pub fn minute_key(minute_ms: i64) -> String {
    DateTime::from_timestamp_millis(minute_ms)
        .map(|t| format!("{:02}:{:02}", t.hour(), t.minute()))
        .unwrap_or_default()
}

/// The Query conditions that read the minutes from `from_ms` (inclusive) to `to_ms`
/// (exclusive): per day, the partition and the sort keys between which its minutes lie.
pub fn key_ranges(from_ms: i64, to_ms: i64) -> Vec<KeyRange> {
    const DAY_MS: i64 = 86_400_000;
    let mut ranges = Vec::new();
    let last = crate::figures::minute_of(to_ms - 1);
    let mut day_start = from_ms.div_euclid(DAY_MS) * DAY_MS;
    while day_start <= last && from_ms < to_ms {
        let first = crate::figures::minute_of(from_ms).max(day_start);
        let end = last.min(day_start + DAY_MS - 60_000);
        ranges.push(KeyRange {
            day: day_key(day_start),
            from_part: minute_key(first),
            // `~` sorts after every character of a source, so `HH:MM~` closes the minute.
            to_part: format!("{}~", minute_key(end)),
        });
        day_start += DAY_MS;
    }
    ranges
}

/// One day's share of a range of minutes; see [`key_ranges`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRange {
    /// The partition key value.
    pub day: String,
    /// The lowest sort key (inclusive).
    pub from_part: String,
    /// The highest sort key (inclusive).
    pub to_part: String,
}

impl AggregateItem {
    /// The partition key's value.
    pub fn day(&self) -> String {
        day_key(self.minute_ms)
    }

    /// The sort key's value.
    pub fn part(&self) -> String {
        let minute = minute_key(self.minute_ms);
        match &self.source {
            Source::Window {
                shard_id,
                window_start_ms,
                first_sequence,
            } => format!("{minute}#{shard_id}#{window_start_ms}#{first_sequence}"),
            Source::Rebuild => format!("{minute}#{}", names::REBUILD_SOURCE),
        }
    }

    /// The item's attributes, keys first.
    pub fn attributes(&self) -> Vec<(&'static str, AttrValue<'static>)> {
        let f = &self.figures;
        let s = |v: String| AttrValue::S(Cow::Owned(v));
        let n = |v: String| AttrValue::N(Cow::Owned(v));
        let by_type = f
            .by_type
            .iter()
            .map(|(k, v)| (Cow::Owned(k.clone()), n(v.to_string())))
            .collect();
        let products = f
            .products
            .iter()
            .map(|(k, p)| {
                let figures = vec![
                    (Cow::Borrowed(names::PURCHASES), n(p.purchases.to_string())),
                    (
                        Cow::Borrowed(names::REVENUE_CENTS),
                        n(p.revenue_cents.to_string()),
                    ),
                ];
                (Cow::Owned(k.clone()), AttrValue::M(figures))
            })
            .collect();
        let mut attributes = vec![
            (names::DAY, s(self.day())),
            (names::PART, s(self.part())),
            (names::MINUTE, n(self.minute_ms.to_string())),
            (names::EVENTS, n(f.events.to_string())),
            (names::BY_TYPE, AttrValue::M(by_type)),
            (names::PURCHASES, n(f.purchases.to_string())),
            (names::REVENUE_CENTS, n(f.revenue_cents.to_string())),
            (
                names::UNPRICED_PURCHASES,
                n(f.unpriced_purchases.to_string()),
            ),
            (names::PRODUCTS, AttrValue::M(products)),
            (names::USERS, s(f.users.encode())),
            (names::USERS_ESTIMATE, n(f.users.estimate().to_string())),
            (names::DEAD_LETTERED, n(f.dead_lettered.to_string())),
        ];
        match &self.source {
            Source::Window {
                shard_id,
                window_start_ms,
                first_sequence,
            } => {
                attributes.push((names::SOURCE, s("window".into())));
                attributes.push((names::SHARD, s(shard_id.clone())));
                attributes.push((names::WINDOW_START, n(window_start_ms.to_string())));
                attributes.push((names::FIRST_SEQUENCE, s(first_sequence.clone())));
            }
            Source::Rebuild => attributes.push((names::SOURCE, s(names::REBUILD_SOURCE.into()))),
        }
        attributes.push((names::WRITTEN_AT, n(self.written_at_ms.to_string())));
        if let Some(expires_at) = self.expires_at {
            attributes.push((names::EXPIRES_AT, n(expires_at.to_string())));
        }
        attributes
    }

    /// Reads an item from its attributes; an error names the attribute.
    pub fn from_attributes(
        item: &HashMap<String, AttrValue<'_>>,
    ) -> Result<AggregateItem, ItemError> {
        let part = match item.get(names::PART) {
            Some(AttrValue::S(p)) => p.to_string(),
            _ => String::new(),
        };
        let error = |attribute, reason| ItemError {
            part: part.clone(),
            attribute,
            reason,
        };
        let number = |name: &'static str| -> Result<Option<i64>, ItemError> {
            match item.get(name) {
                None => Ok(None),
                Some(AttrValue::N(n)) => n
                    .parse()
                    .map(Some)
                    .map_err(|_| error(name, "is not a whole number")),
                Some(_) => Err(error(name, "is not a number")),
            }
        };
        let count = |name: &'static str| -> Result<u64, ItemError> {
            let value = number(name)?.unwrap_or(0);
            u64::try_from(value).map_err(|_| error(name, "is negative"))
        };
        let text = |name: &'static str| match item.get(name) {
            Some(AttrValue::S(s)) => Some(s.to_string()),
            _ => None,
        };
        let minute_ms = number(names::MINUTE)?.ok_or_else(|| error(names::MINUTE, "is missing"))?;
        let mut by_type = BTreeMap::new();
        if let Some(value) = item.get(names::BY_TYPE) {
            let AttrValue::M(entries) = value else {
                return Err(error(names::BY_TYPE, "is not a map"));
            };
            for (name, value) in entries {
                let AttrValue::N(n) = value else {
                    return Err(error(names::BY_TYPE, "holds a value that is not a number"));
                };
                let n = n
                    .parse()
                    .map_err(|_| error(names::BY_TYPE, "holds a count that is not whole"))?;
                by_type.insert(name.to_string(), n);
            }
        }
        let mut products = BTreeMap::new();
        if let Some(value) = item.get(names::PRODUCTS) {
            let AttrValue::M(entries) = value else {
                return Err(error(names::PRODUCTS, "is not a map"));
            };
            for (name, value) in entries {
                let AttrValue::M(fields) = value else {
                    return Err(error(names::PRODUCTS, "holds a product that is not a map"));
                };
                let field = |wanted: &str| {
                    fields
                        .iter()
                        .find(|(k, _)| k == wanted)
                        .and_then(|(_, v)| match v {
                            AttrValue::N(n) => n.parse::<i64>().ok(),
                            _ => None,
                        })
                };
                let (Some(purchases), Some(revenue_cents)) =
                    (field(names::PURCHASES), field(names::REVENUE_CENTS))
                else {
                    return Err(error(
                        names::PRODUCTS,
                        "holds a product without its figures",
                    ));
                };
                let purchases = u64::try_from(purchases)
                    .map_err(|_| error(names::PRODUCTS, "holds negative purchases"))?;
                products.insert(
                    name.to_string(),
                    ProductFigures {
                        purchases,
                        revenue_cents,
                    },
                );
            }
        }
        let users = Sketch::decode(&text(names::USERS).unwrap_or_default())
            .map_err(|_| error(names::USERS, "is not a sketch"))?;
        let source = match (
            text(names::SHARD),
            number(names::WINDOW_START)?,
            text(names::FIRST_SEQUENCE),
        ) {
            (Some(shard_id), Some(window_start_ms), Some(first_sequence)) => Source::Window {
                shard_id,
                window_start_ms,
                first_sequence,
            },
            _ => Source::Rebuild,
        };
        Ok(AggregateItem {
            minute_ms,
            source,
            figures: Figures {
                events: count(names::EVENTS)?,
                by_type,
                purchases: count(names::PURCHASES)?,
                revenue_cents: number(names::REVENUE_CENTS)?.unwrap_or(0),
                unpriced_purchases: count(names::UNPRICED_PURCHASES)?,
                products,
                users,
                dead_lettered: count(names::DEAD_LETTERED)?,
            },
            written_at_ms: number(names::WRITTEN_AT)?.unwrap_or(0),
            expires_at: number(names::EXPIRES_AT)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::figures::EventFacts;

    fn item(source: Source) -> AggregateItem {
        let mut figures = Figures::default();
        for (kind, user) in [("view", "u1"), ("purchase", "u2"), ("spin", "u3")] {
            figures.add(&EventFacts {
                timestamp_ms: 0,
                event_type: kind,
                user_id: user,
                product_id: Some("electronics-laptop-007"),
                price: Some("999.99"),
                quantity: Some("2"),
            });
        }
        figures.add_dead_lettered(4);
        AggregateItem {
            minute_ms: 1_765_139_460_000,
            source,
            figures,
            written_at_ms: 1_765_139_580_123,
            expires_at: Some(1_767_731_460),
        }
    }

    fn read_back(item: &AggregateItem) -> AggregateItem {
        let map: HashMap<String, AttrValue> = item
            .attributes()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        AggregateItem::from_attributes(&map).unwrap()
    }

    #[test]
    fn items_are_keyed_by_day_then_minute_and_source() {
        let window = item(Source::Window {
            shard_id: "shardId-000000000001".into(),
            window_start_ms: 1_765_139_400_000,
            first_sequence: "4959".into(),
        });
        assert_eq!(window.day(), "2025-12-07");
        assert_eq!(
            window.part(),
            "20:31#shardId-000000000001#1765139400000#4959"
        );
        assert_eq!(item(Source::Rebuild).part(), "20:31#rebuild");
        assert_eq!(read_back(&window), window);
        assert_eq!(read_back(&item(Source::Rebuild)), item(Source::Rebuild));
    }

    #[test]
    fn a_range_of_minutes_is_one_key_range_per_day() {
        let day = 1_765_065_600_000; // 2025-12-07T00:00Z
        let ranges = key_ranges(
            day + 23 * 3_600_000 + 59 * 60_000,
            day + 86_400_000 + 61_000,
        );
        assert_eq!(
            ranges,
            [
                KeyRange {
                    day: "2025-12-07".into(),
                    from_part: "23:59".into(),
                    to_part: "23:59~".into()
                },
                KeyRange {
                    day: "2025-12-08".into(),
                    from_part: "00:00".into(),
                    to_part: "00:01~".into()
                },
            ]
        );
        assert!(key_ranges(day, day).is_empty());
    }

    #[test]
    fn a_damaged_item_is_refused_naming_the_attribute() {
        let mut map: HashMap<String, AttrValue> = item(Source::Rebuild)
            .attributes()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        map.insert(names::EVENTS.into(), AttrValue::S("many".into()));
        let error = AggregateItem::from_attributes(&map).unwrap_err();
        assert_eq!(error.attribute, names::EVENTS);
        assert!(error.to_string().contains("20:31#rebuild"), "{error}");
    }
}
