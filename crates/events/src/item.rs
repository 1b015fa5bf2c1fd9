//! The DynamoDB item of one event, keyed as docs/design.md, "Table items", says.

use std::fmt;

use crate::attr::AttrValue;
use crate::tape::{AttrRef, Tape};

/// DynamoDB's largest item, in bytes (400 KB).
pub const MAX_ITEM_BYTES: usize = 409_600;

/// The item's attributes, in its order. `productId` and `sessionId` are absent when the
/// event has none, `expiresAt` when items do not expire; `originalEvent` is the whole event.
pub const ITEM_ATTRIBUTES: [&str; 14] = [
    "userId",
    "eventKey",
    "eventTimestamp",
    "eventType",
    "productId",
    "sessionId",
    "eventScore",
    "engagementLevel",
    "insight",
    "processedAt",
    "processingLatency",
    "version",
    "expiresAt",
    "originalEvent",
];

/// Seconds in a day, for `expiresAt`.
const SECONDS_PER_DAY: i64 = 86_400;

/// `expiresAt`, the table's TTL attribute: the event's time in epoch seconds (rounded down)
/// plus `ttl_days` days, so an item expires a fixed time after its event happened, however
/// late it was processed or replayed (a replay writes the same value).
pub fn expires_at(timestamp_ms: i64, ttl_days: u32) -> i64 {
    timestamp_ms
        .div_euclid(1000)
        .saturating_add(i64::from(ttl_days) * SECONDS_PER_DAY)
}

/// One table item: `userId` and `eventKey` first, then the other attributes in a fixed
/// order. Built only by [`process_record`](crate::process_record), so its keys are always
/// present, non-empty and within DynamoDB's key sizes.
///
/// It keeps a copy of the record's text and reads its values in place ([`AttrRef`]): an
/// item is two allocations (the text, with the enrichment's text after it, and the
/// values' nodes) however many values the event has. The processor copies each string
/// once, into the SDK's request, when it writes.
#[derive(Clone)]
pub struct Item {
    /// Node `i` is the `i`-th of [`ITEM_ATTRIBUTES`]; the last, `originalEvent`, is the event's
    /// root, whose nodes follow.
    tape: Tape,
    /// Bit `i` is set when the `i`-th of [`ITEM_ATTRIBUTES`] is present.
    present: u16,
}

impl Item {
    /// An item of these attributes (see [`Item::tape`]); the one caller, in this crate,
    /// makes `userId` and `eventKey` non-empty strings.
    pub(crate) fn new(tape: Tape, present: u16) -> Item {
        let item = Item { tape, present };
        debug_assert!(matches!(
            (item.get("userId"), item.get("eventKey")),
            (Some(AttrRef::S(_)), Some(AttrRef::S(_)))
        ));
        item
    }

    fn key(&self, index: usize) -> &str {
        match self.tape.view(index) {
            AttrRef::S(value) => value,
            _ => "",
        }
    }

    /// The partition key: `userId`.
    pub fn partition_key(&self) -> &str {
        self.key(0)
    }

    /// The sort key: `eventKey` = 13-digit zero-padded epoch ms, `#`, event id.
    pub fn sort_key(&self) -> &str {
        self.key(1)
    }

    /// Every attribute, keys included, in the item's order.
    pub fn attributes(&self) -> impl Iterator<Item = (&'static str, AttrRef<'_>)> {
        ITEM_ATTRIBUTES
            .iter()
            .enumerate()
            .filter(|(i, _)| self.present & (1 << i) != 0)
            .map(|(i, name)| (*name, self.tape.view(i)))
    }

    /// One attribute by name.
    pub fn get(&self, name: &str) -> Option<AttrRef<'_>> {
        let i = ITEM_ATTRIBUTES.iter().position(|n| *n == name)?;
        (self.present & (1 << i) != 0).then(|| self.tape.view(i))
    }

    /// The item's size by DynamoDB's rules: attribute names' UTF-8 lengths plus the
    /// values' sizes (see [`AttrValue::size_bytes`]; conservative for numbers).
    pub fn size_bytes(&self) -> usize {
        self.attributes()
            .map(|(name, value)| name.len() + value.size_bytes())
            .sum()
    }

    /// The text the item's values are slices of: the record's, then what the item made.
    #[cfg(test)]
    pub(crate) fn text(&self) -> &str {
        &self.tape.text
    }

    /// The attributes as values of their own, free of the item (for a caller that keeps
    /// them apart from it).
    pub fn into_attributes(self) -> Vec<(&'static str, AttrValue<'static>)> {
        self.attributes()
            .map(|(name, value)| (name, value.to_value().into_owned()))
            .collect()
    }
}

/// Items are equal when their attributes are.
impl PartialEq for Item {
    fn eq(&self, other: &Item) -> bool {
        self.present == other.present && self.attributes().eq(other.attributes())
    }
}

impl Eq for Item {}

impl fmt::Debug for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Item")
            .field("attributes", &self.attributes().collect::<Vec<_>>())
            .finish()
    }
}

/// `eventKey`: the timestamp zero-padded to 13 digits, so keys of one user sort by time
/// (until the year 2286), then `#` and the event id, so two events of one user in one
/// millisecond never collide while a replay of the same event lands on the same key.
pub fn event_key(timestamp_ms: i64, event_id: &str) -> String {
    let mut key = String::with_capacity(15 + 20 + event_id.len());
    write_event_key(&mut key, timestamp_ms, event_id);
    key
}

/// [`event_key`], appended to `out`.
pub(crate) fn write_event_key(out: &mut String, timestamp_ms: i64, event_id: &str) {
    if timestamp_ms < 0 {
        // Never from a validated event; only a caller's odd arrival time can get here.
        out.push('-');
    }
    let mut digits = itoa::Buffer::new();
    write_key(out, digits.format(timestamp_ms.unsigned_abs()), event_id);
}

/// [`event_key`] from a timestamp's digits (a validated timestamp's, as the record wrote
/// them), appended to `out`.
pub(crate) fn write_key(out: &mut String, digits: &str, event_id: &str) {
    const ZEROS: &str = "0000000000000";
    out.push_str(&ZEROS[digits.len().min(13)..]);
    out.push_str(digits);
    out.push('#');
    out.push_str(event_id);
}

/// `n` as decimal text, appended to `out` (numbers on the hot path skip `format!`).
pub(crate) fn write_integer(out: &mut String, n: i64) {
    out.push_str(itoa::Buffer::new().format(n));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tape::{span, Node};

    #[test]
    fn event_keys_pad_to_13_digits() {
        assert_eq!(event_key(1_700_000_000_123, "e1"), "1700000000123#e1");
        assert_eq!(
            event_key(100_000_000_000, "shardId-0:1:3"),
            "0100000000000#shardId-0:1:3"
        );
        assert_eq!(event_key(0, "x"), "0000000000000#x");
        assert_eq!(event_key(253_402_300_799_999, "x"), "253402300799999#x");
        assert_eq!(event_key(-5, "x"), "-0000000000005#x");
    }

    #[test]
    fn integers_as_text() {
        for n in [
            0,
            7,
            -7,
            10,
            99,
            100,
            101,
            1_700_000_000_123,
            i64::MAX,
            i64::MIN,
        ] {
            let mut text = String::from("x");
            write_integer(&mut text, n);
            assert_eq!(text, format!("x{n}"));
        }
    }

    /// An item of `userId` `u`, `eventKey` `k` and `eventScore` 10 only.
    fn small_item() -> Item {
        let mut nodes = vec![Node::Null; ITEM_ATTRIBUTES.len()];
        nodes[0] = Node::S(span(0, 1));
        nodes[1] = Node::S(span(1, 1));
        nodes[6] = Node::N(span(2, 2));
        let tape = Tape {
            text: "uk10".to_owned(),
            nodes,
        };
        Item::new(tape, 1 | 1 << 1 | 1 << 6)
    }

    #[test]
    fn keys_and_attributes() {
        let item = small_item();
        assert_eq!((item.partition_key(), item.sort_key()), ("u", "k"));
        assert_eq!(item.get("eventScore"), Some(AttrRef::N("10")));
        assert_eq!(item.get("nope"), None);
        assert_eq!(item.size_bytes(), 6 + 1 + 8 + 1 + 10 + 2);
        let names: Vec<&str> = item.attributes().map(|(n, _)| n).collect();
        assert_eq!(names, ["userId", "eventKey", "eventScore"]);
        assert_eq!(item.into_attributes().len(), 3);
    }
}
