//! The DynamoDB item of one event, keyed as DESIGN.md says.

use crate::attr::{AttrRef, AttrValue};

/// DynamoDB's largest item, in bytes (400 KB).
pub const MAX_ITEM_BYTES: usize = 409_600;

/// One table item: `userId` and `eventKey` first, then the other attributes in a fixed
/// order. Built only by [`process_record`](crate::process_record), so its keys are always
/// present, non-empty and within DynamoDB's key sizes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    attributes: Vec<(&'static str, AttrValue)>,
}

impl Item {
    /// An item of these attributes; the first two must be `userId` and `eventKey` as
    /// strings (the one caller, in this crate, guarantees it).
    pub(crate) fn new(attributes: Vec<(&'static str, AttrValue)>) -> Item {
        debug_assert!(
            attributes.len() >= 2 && attributes[0].0 == "userId" && attributes[1].0 == "eventKey"
        );
        Item { attributes }
    }

    fn key(&self, index: usize) -> &str {
        match self.attributes.get(index) {
            Some((_, AttrValue::S(value))) => value,
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
    pub fn attributes(&self) -> impl Iterator<Item = (&str, &AttrValue)> {
        self.attributes.iter().map(|(name, value)| (*name, value))
    }

    /// One attribute by name.
    pub fn get(&self, name: &str) -> Option<&AttrValue> {
        self.attributes
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v)
    }

    /// The item's size by DynamoDB's rules: attribute names' UTF-8 lengths plus the
    /// values' sizes (see [`AttrValue::size_bytes`]; conservative for numbers).
    pub fn size_bytes(&self) -> usize {
        self.attributes
            .iter()
            .map(|(name, value)| name.len() + value.size_bytes())
            .sum()
    }

    /// The attributes, taken out of the item (for a caller that converts them and has no
    /// further use for the item: no clones needed).
    pub fn into_attributes(self) -> Vec<(&'static str, AttrValue)> {
        self.attributes
    }
}

/// An [`Item`] whose strings and numbers borrow from the record's bytes where they can:
/// what [`process_record_ref`](crate::process_record_ref) returns, for a caller that converts
/// the attributes into its SDK's values right away (each string is then copied once, not
/// twice) or wants the pure path without ~40 small allocations per record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemRef<'a> {
    attributes: Vec<(&'static str, AttrRef<'a>)>,
}

impl<'a> ItemRef<'a> {
    pub(crate) fn new(attributes: Vec<(&'static str, AttrRef<'a>)>) -> ItemRef<'a> {
        debug_assert!(
            attributes.len() >= 2 && attributes[0].0 == "userId" && attributes[1].0 == "eventKey"
        );
        ItemRef { attributes }
    }

    fn key(&self, index: usize) -> &str {
        match self.attributes.get(index) {
            Some((_, AttrRef::S(value))) => value,
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
    pub fn attributes(&self) -> impl Iterator<Item = (&str, &AttrRef<'a>)> {
        self.attributes.iter().map(|(name, value)| (*name, value))
    }

    /// One attribute by name.
    pub fn get(&self, name: &str) -> Option<&AttrRef<'a>> {
        self.attributes
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v)
    }

    /// The item's size by DynamoDB's rules (as [`Item::size_bytes`]).
    pub fn size_bytes(&self) -> usize {
        self.attributes
            .iter()
            .map(|(name, value)| name.len() + value.size_bytes())
            .sum()
    }

    /// The attributes, taken out of the item.
    pub fn into_attributes(self) -> Vec<(&'static str, AttrRef<'a>)> {
        self.attributes
    }

    /// The owned item: the same attributes, every string copied.
    pub fn to_item(&self) -> Item {
        Item::new(
            self.attributes
                .iter()
                .map(|(name, value)| (*name, value.to_value()))
                .collect(),
        )
    }
}

/// `eventKey`: the timestamp zero-padded to 13 digits, so keys of one user sort by time
/// (until the year 2286), then `#` and the event id, so two events of one user in one
/// millisecond never collide while a replay of the same event lands on the same key.
pub fn event_key(timestamp_ms: i64, event_id: &str) -> String {
    let mut digits = [0u8; 20];
    let text = decimal(timestamp_ms.unsigned_abs(), &mut digits);
    let mut key = String::with_capacity(14 + text.len().max(13) + event_id.len());
    if timestamp_ms < 0 {
        // Never from a validated event; only a caller's odd arrival time can get here.
        key.push('-');
    }
    for _ in text.len()..13 {
        key.push('0');
    }
    key.push_str(text);
    key.push('#');
    key.push_str(event_id);
    key
}

/// `n` as decimal text, exactly sized: numbers on the hot path skip `format!`.
pub(crate) fn integer_text(n: i64) -> String {
    let mut digits = [0u8; 20];
    let text = decimal(n.unsigned_abs(), &mut digits);
    let mut out = String::with_capacity(text.len() + usize::from(n < 0));
    if n < 0 {
        out.push('-');
    }
    out.push_str(text);
    out
}

/// Writes `n`'s digits at the end of `buffer` and returns them, two digits per division.
fn decimal(mut n: u64, buffer: &mut [u8; 20]) -> &str {
    const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
        2021222324252627282930313233343536373839\
        4041424344454647484950515253545556575859\
        6061626364656667686970717273747576777879\
        8081828384858687888990919293949596979899";
    let mut start = buffer.len();
    while n >= 100 {
        let pair = (n % 100) as usize * 2;
        n /= 100;
        start -= 2;
        buffer[start..start + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    }
    if n >= 10 {
        let pair = n as usize * 2;
        start -= 2;
        buffer[start..start + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    } else {
        start -= 1;
        buffer[start] = b'0' + n as u8;
    }
    // Only ASCII digits were written.
    std::str::from_utf8(&buffer[start..]).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

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
            assert_eq!(integer_text(n), n.to_string());
        }
    }

    #[test]
    fn keys_and_attributes() {
        let item = Item::new(vec![
            ("userId", AttrValue::S("u".into())),
            ("eventKey", AttrValue::S("k".into())),
            ("eventScore", AttrValue::N("10".into())),
        ]);
        assert_eq!((item.partition_key(), item.sort_key()), ("u", "k"));
        assert_eq!(item.get("eventScore"), Some(&AttrValue::N("10".into())));
        assert_eq!(item.get("nope"), None);
        assert_eq!(item.size_bytes(), 6 + 1 + 8 + 1 + 10 + 2);
        let names: Vec<&str> = item.attributes().map(|(n, _)| n).collect();
        assert_eq!(names, ["userId", "eventKey", "eventScore"]);
        assert_eq!(item.into_attributes().len(), 3);
    }
}
