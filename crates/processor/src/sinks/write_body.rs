//! The `BatchWriteItem` request's body, written straight from the items.
//!
//! The SDK's input wants every item as a `HashMap<String, AttributeValue>`: an owned copy
//! of each attribute's name and value, a hash of each name, and then a second pass that
//! serializes the maps to JSON. For a 10,000-record invocation that was about 60 allocations
//! and frees per item and most of the invocation's CPU (docs/performance.md, "The
//! processor"). This module writes the JSON the SDK would send — DynamoDB's JSON protocol,
//! `{"RequestItems":{table:[{"PutRequest":{"Item":{name:{"S":...},...}}},...]}}` — from the
//! item's values read in place, into one buffer per request. The DynamoDB sink hands that
//! buffer to the SDK as the request's body ([`super::dynamodb`]); the SDK still signs,
//! sends, retries by its own rules and parses the answer (`UnprocessedItems`) as for any
//! request. A test sends both bodies through the SDK and compares what reaches the wire.

use events::{AttrRef, Item};

use crate::index_shards::IndexShards;

/// Room for one item's JSON, before the buffer grows: a generated retail event's item is
/// about 1.1 KB of JSON (`benches/invocation.rs`).
const ITEM_JSON_BYTES: usize = 1_280;

/// The body of a `BatchWriteItem` request that puts `items` (with the write-sharded index
/// keys of `shards`) into `table_name`, in the items' order.
pub fn batch_write_item_body(table_name: &str, items: &[&Item], shards: IndexShards) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + items.len() * ITEM_JSON_BYTES);
    out.extend_from_slice(b"{\"RequestItems\":{");
    string(&mut out, table_name);
    out.extend_from_slice(b":[");
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"PutRequest\":{\"Item\":{");
        let mut first = true;
        for (name, value) in item.attributes() {
            entry(&mut out, &mut first, name, value);
        }
        for (name, value) in shards.attributes(item) {
            entry(&mut out, &mut first, name, AttrRef::S(&value));
        }
        out.extend_from_slice(b"}}}");
    }
    out.extend_from_slice(b"]}}");
    out
}

/// `"name":value` in a map, after a comma unless it is the map's first entry.
fn entry(out: &mut Vec<u8>, first: &mut bool, name: &str, value: AttrRef<'_>) {
    if !std::mem::take(first) {
        out.push(b',');
    }
    string(out, name);
    out.push(b':');
    attribute(out, value);
}

/// One value as DynamoDB's JSON writes it: `{"S":"..."}`, `{"N":"..."}`, `{"BOOL":true}`,
/// `{"NULL":true}`, `{"M":{...}}`, `{"L":[...]}` (the conversion of
/// [`super::dynamodb::attribute`], which builds the SDK's type instead).
fn attribute(out: &mut Vec<u8>, value: AttrRef<'_>) {
    match value {
        AttrRef::S(s) => {
            out.extend_from_slice(b"{\"S\":");
            string(out, s);
        }
        AttrRef::N(n) => {
            out.extend_from_slice(b"{\"N\":");
            string(out, n);
        }
        AttrRef::Bool(true) => out.extend_from_slice(b"{\"BOOL\":true"),
        AttrRef::Bool(false) => out.extend_from_slice(b"{\"BOOL\":false"),
        AttrRef::Null => out.extend_from_slice(b"{\"NULL\":true"),
        AttrRef::M(map) => {
            out.extend_from_slice(b"{\"M\":{");
            let mut first = true;
            for (key, value) in map.iter() {
                entry(out, &mut first, key, value);
            }
            out.push(b'}');
        }
        AttrRef::L(list) => {
            out.extend_from_slice(b"{\"L\":[");
            for (i, value) in list.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                attribute(out, value);
            }
            out.push(b']');
        }
    }
    out.push(b'}');
}

/// `s` as a JSON string (RFC 8259, section 7): `"` and `\` escaped, control characters as
/// their short escape or `\u00XX`, everything else (UTF-8 included) as it is. Most values
/// need no escape ([`plain`]) and are one copy.
fn string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    if plain(bytes) {
        out.extend_from_slice(bytes);
    } else {
        escaped(out, bytes);
    }
    out.push(b'"');
}

/// Whether no byte of `bytes` is `"`, `\` or a control character, tested eight bytes at a
/// time: a word has a byte below `n` (`n` ≤ 128) when `(v − n × 0x01…01) & !v & 0x80…80`
/// is not zero, and a byte equal to `c` when `v ^ c × 0x01…01` has a byte below 1
/// (Sean Anderson's "Bit Twiddling Hacks", "Determine if a word has a byte less than n").
/// Both tests are exact for whether such a byte exists.
fn plain(bytes: &[u8]) -> bool {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    let below = |v: u64, n: u8| v.wrapping_sub(ONES * u64::from(n)) & !v & HIGH;
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        let Ok(word) = <[u8; 8]>::try_from(word) else {
            return false;
        };
        let v = u64::from_ne_bytes(word);
        let quote = v ^ (ONES * u64::from(b'"'));
        let backslash = v ^ (ONES * u64::from(b'\\'));
        if below(v, 0x20) | below(quote, 1) | below(backslash, 1) != 0 {
            return false;
        }
    }
    words
        .remainder()
        .iter()
        .all(|&b| b >= 0x20 && b != b'"' && b != b'\\')
}

/// `bytes` escaped, for a string [`plain`] refused.
fn escaped(out: &mut Vec<u8>, bytes: &[u8]) {
    let mut done = 0;
    for (at, &byte) in bytes.iter().enumerate() {
        let short: &[u8] = match byte {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0x00..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[done..at]);
        if short.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(byte >> 4)]);
            out.push(HEX[usize::from(byte & 0xf)]);
        } else {
            out.extend_from_slice(short);
        }
        done = at + 1;
    }
    out.extend_from_slice(&bytes[done..]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::item;
    use serde_json::{json, Value};

    fn body(items: &[&Item], shards: IndexShards) -> Value {
        let bytes = batch_write_item_body("events-dev", items, shards);
        serde_json::from_slice(&bytes).expect("the body is JSON")
    }

    #[test]
    fn an_item_is_written_as_dynamodb_json_in_the_items_order() {
        let item = item(
            r#"{"userId":"u1","eventType":"view","eventId":"e","timestamp":1764000000000,"n":[1,true,null],"m":{"k":"v"}}"#,
        );
        let written = body(&[&item], IndexShards::NONE);
        let entries = &written["RequestItems"]["events-dev"];
        assert_eq!(entries.as_array().map(Vec::len), Some(1));
        let put = &entries[0]["PutRequest"]["Item"];
        assert_eq!(put["userId"], json!({"S": "u1"}));
        assert_eq!(put["eventTimestamp"], json!({"N": "1764000000000"}));
        assert_eq!(
            put["originalEvent"]["M"]["n"],
            json!({"L": [{"N": "1"}, {"BOOL": true}, {"NULL": true}]})
        );
        assert_eq!(
            put["originalEvent"]["M"]["m"],
            json!({"M": {"k": {"S": "v"}}})
        );
        let names: Vec<&str> = put
            .as_object()
            .map(|map| map.keys().map(String::as_str).collect())
            .unwrap_or_default();
        assert_eq!(names.len(), item.attributes().count());
    }

    #[test]
    fn strings_are_escaped_as_json_requires() {
        let mut out = Vec::new();
        string(&mut out, "a\"b\\c\nd\u{1}é\u{7f}");
        let text = String::from_utf8(out).expect("UTF-8");
        assert_eq!(text, "\"a\\\"b\\\\c\\nd\\u0001é\u{7f}\"");
        let back: String = serde_json::from_str(&text).expect("a JSON string");
        assert_eq!(back, "a\"b\\c\nd\u{1}é\u{7f}");
    }

    #[test]
    fn every_control_character_survives_the_round_trip() {
        let all: String = (0u8..=0x7f).map(char::from).collect();
        let mut out = Vec::new();
        string(&mut out, &all);
        let back: String = serde_json::from_slice(&out).expect("a JSON string");
        assert_eq!(back, all);
    }

    #[test]
    fn plain_finds_every_byte_that_needs_an_escape_wherever_it_is() {
        let needs_escape = |b: u8| b < 0x20 || b == b'"' || b == b'\\';
        for len in 1..20 {
            for at in 0..len {
                for byte in 0..=u8::MAX {
                    let mut bytes = vec![b'a'; len];
                    bytes[at] = byte;
                    assert_eq!(
                        plain(&bytes),
                        !needs_escape(byte),
                        "{byte:#x} at {at} of {len}"
                    );
                }
            }
        }
        assert!(plain(b""));
        assert!(plain("ünïcödé ☃ and more than eight bytes".as_bytes()));
    }

    #[test]
    fn sharded_writes_carry_the_index_keys() {
        let item = item(r#"{"userId":"u1","eventType":"view","productId":"p9","eventId":"e"}"#);
        let shards = IndexShards::new(8).expect("shards");
        let written = body(&[&item, &item], shards);
        for put in written["RequestItems"]["events-dev"]
            .as_array()
            .expect("entries")
        {
            for (name, value) in shards.attributes(&item) {
                assert_eq!(put["PutRequest"]["Item"][name], json!({ "S": value }));
            }
        }
    }
}
