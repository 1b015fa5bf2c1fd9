//! The DynamoDB item of one event, keyed as DESIGN.md says.

use crate::attr::AttrValue;

/// DynamoDB's largest item.
pub const MAX_ITEM_BYTES: usize = 409_600;

/// One table item: `userId` and `eventKey` first, then the other attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    attributes: Vec<(&'static str, AttrValue)>,
}

impl Item {
    /// An item of these attributes; the first two must be `userId` and `eventKey` as
    /// strings (the constructor in this crate guarantees it).
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

    /// The sort key: `eventKey` = 13-digit epoch ms, `#`, event id.
    pub fn sort_key(&self) -> &str {
        self.key(1)
    }

    /// Every attribute, keys included.
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

    /// The item's size by DynamoDB's rules.
    pub fn size_bytes(&self) -> usize {
        self.attributes
            .iter()
            .map(|(name, value)| name.len() + value.size_bytes())
            .sum()
    }
}

/// `eventKey`: the timestamp zero-padded to 13 digits, so keys sort by time, then `#` and
/// the event id, so two events of one user in one millisecond never collide.
pub fn event_key(timestamp_ms: i64, event_id: &str) -> String {
    format!("{timestamp_ms:013}#{event_id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_keys_pad_to_13_digits() {
        assert_eq!(event_key(1_700_000_000_123, "e1"), "1700000000123#e1");
        assert_eq!(
            event_key(42, "shardId-0:1:3"),
            "0000000000042#shardId-0:1:3"
        );
    }
}
