//! The pure path: one record's bytes to a validated, enriched item, or the reason it is
//! rejected. Never panics; every branch is a [`Rejection`] naming the field, the rule and
//! the value.

use crate::attr::AttrValue;
use crate::enrich;
use crate::item::{event_key, Item, MAX_ITEM_BYTES};
use crate::json;
use crate::time::iso8601;

/// The `version` attribute: the enrichment's schema version, as the recipe writes it.
pub const ENRICHMENT_VERSION: &str = "1.0";
/// The latest timestamp accepted: 9999-12-31T23:59:59.999Z.
pub const MAX_TIMESTAMP_MS: i64 = 253_402_300_799_999;
/// Timestamps below this (1973-03-03 in milliseconds) are refused: they are almost
/// certainly epoch seconds, and storing them as milliseconds would file the event in 1970.
pub const MIN_TIMESTAMP_MS: i64 = 100_000_000_000;

/// What the processor knows about the record besides its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordContext<'a> {
    /// The Kinesis eventID; for the n-th user record of a KPL aggregate, with `:n` appended.
    pub event_id: &'a str,
    /// The record's approximate arrival time (epoch ms): the timestamp of an event that
    /// has none, so a replay gives the same item (never "now").
    pub arrival_ms: i64,
    /// When the record is processed (epoch ms): `processedAt` and `processingLatency`.
    pub processed_at_ms: i64,
}

/// Why a record was rejected; it goes to the dead-letter queue as `errorType` and `error`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Rejection {
    /// The kind, the dead letter's `errorType`.
    pub kind: RejectionKind,
    /// What was wrong, naming the field, the rule and the value.
    pub message: String,
}

/// The kinds of rejection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RejectionKind {
    /// The bytes are not UTF-8.
    NotUtf8,
    /// The text is not JSON.
    InvalidJson,
    /// The JSON is not an object.
    NotAnObject,
    /// A required field is absent.
    MissingField,
    /// A field has the wrong type or a value DynamoDB cannot store.
    InvalidField,
    /// The timestamp is not an integer of epoch milliseconds.
    InvalidTimestamp,
    /// The item would exceed DynamoDB's 400 KB.
    ItemTooLarge,
}

impl RejectionKind {
    /// The `errorType` text.
    pub fn as_str(&self) -> &'static str {
        match self {
            RejectionKind::NotUtf8 => "NotUtf8",
            RejectionKind::InvalidJson => "InvalidJson",
            RejectionKind::NotAnObject => "NotAnObject",
            RejectionKind::MissingField => "MissingField",
            RejectionKind::InvalidField => "InvalidField",
            RejectionKind::InvalidTimestamp => "InvalidTimestamp",
            RejectionKind::ItemTooLarge => "ItemTooLarge",
        }
    }
}

fn reject(kind: RejectionKind, message: String) -> Rejection {
    Rejection { kind, message }
}

/// Bytes → item. See the module docs.
pub fn process_record(data: &[u8], ctx: &RecordContext) -> Result<Item, Rejection> {
    let text = std::str::from_utf8(data).map_err(|e| {
        reject(
            RejectionKind::NotUtf8,
            format!(
                "record is not UTF-8 (invalid byte at offset {})",
                e.valid_up_to()
            ),
        )
    })?;
    let document = json::parse(text).map_err(|e| {
        reject(
            RejectionKind::InvalidJson,
            format!("record is not JSON: {e}"),
        )
    })?;
    let AttrValue::M(fields) = &document else {
        return Err(reject(
            RejectionKind::NotAnObject,
            format!("record must be a JSON object, got {}", describe(&document)),
        ));
    };
    let user_id = required_string(fields, "userId")?;
    let event_type = required_string(fields, "eventType")?;
    let product_id = optional_string(fields, "productId")?;
    let session_id = optional_string(fields, "sessionId")?;
    let event_id = match optional_string(fields, "eventId")? {
        Some("") => {
            return Err(reject(
                RejectionKind::InvalidField,
                "eventId must be a non-empty string, got \"\"".into(),
            ))
        }
        Some(id) => id,
        None => ctx.event_id,
    };
    let timestamp = timestamp(fields, ctx.arrival_ms)?;
    // The quick walk allocates nothing; only a failing record pays for the path in the message.
    if !storable(&document) {
        check_storable(&document, "")?;
    }

    let score = enrich::score(event_type);
    let mut attributes: Vec<(&'static str, AttrValue)> = Vec::with_capacity(13);
    attributes.push(("userId", AttrValue::S(user_id.to_owned())));
    attributes.push(("eventKey", AttrValue::S(event_key(timestamp, event_id))));
    attributes.push(("eventTimestamp", AttrValue::N(timestamp.to_string())));
    attributes.push(("eventType", AttrValue::S(event_type.to_owned())));
    if let Some(product) = product_id {
        attributes.push(("productId", AttrValue::S(product.to_owned())));
    }
    if let Some(session) = session_id {
        attributes.push(("sessionId", AttrValue::S(session.to_owned())));
    }
    attributes.push(("eventScore", AttrValue::N(score.to_string())));
    attributes.push((
        "engagementLevel",
        AttrValue::S(enrich::engagement_level(score).to_owned()),
    ));
    attributes.push((
        "insight",
        AttrValue::S(enrich::insight(user_id, event_type, product_id)),
    ));
    attributes.push(("processedAt", AttrValue::S(iso8601(ctx.processed_at_ms))));
    attributes.push((
        "processingLatency",
        AttrValue::N((ctx.processed_at_ms - timestamp).to_string()),
    ));
    attributes.push(("version", AttrValue::S(ENRICHMENT_VERSION.to_owned())));
    attributes.push(("originalEvent", document));
    let item = Item::new(attributes);
    let size = item.size_bytes();
    if size > MAX_ITEM_BYTES {
        return Err(reject(
            RejectionKind::ItemTooLarge,
            format!("item would be {size} bytes; DynamoDB stores at most {MAX_ITEM_BYTES}"),
        ));
    }
    Ok(item)
}

fn field<'a>(fields: &'a [(String, AttrValue)], name: &str) -> Option<&'a AttrValue> {
    fields.iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

fn required_string<'a>(
    fields: &'a [(String, AttrValue)],
    name: &str,
) -> Result<&'a str, Rejection> {
    match field(fields, name) {
        None => Err(reject(
            RejectionKind::MissingField,
            format!("{name} is missing"),
        )),
        Some(AttrValue::S(s)) if !s.trim().is_empty() => Ok(s),
        Some(other) => Err(reject(
            RejectionKind::InvalidField,
            format!("{name} must be a non-empty string, got {}", describe(other)),
        )),
    }
}

fn optional_string<'a>(
    fields: &'a [(String, AttrValue)],
    name: &str,
) -> Result<Option<&'a str>, Rejection> {
    match field(fields, name) {
        None | Some(AttrValue::Null) => Ok(None),
        Some(AttrValue::S(s)) => Ok(Some(s)),
        Some(other) => Err(reject(
            RejectionKind::InvalidField,
            format!("{name} must be a string, got {}", describe(other)),
        )),
    }
}

fn timestamp(fields: &[(String, AttrValue)], arrival_ms: i64) -> Result<i64, Rejection> {
    let invalid = |value: &AttrValue, rule: &str| {
        reject(
            RejectionKind::InvalidTimestamp,
            format!("timestamp must be {rule}, got {}", describe(value)),
        )
    };
    match field(fields, "timestamp") {
        None | Some(AttrValue::Null) => Ok(arrival_ms),
        Some(value @ AttrValue::N(text)) => {
            let integer = text.bytes().all(|b| b.is_ascii_digit() || b == b'-');
            match text.parse::<i64>() {
                Ok(ms) if integer && (MIN_TIMESTAMP_MS..=MAX_TIMESTAMP_MS).contains(&ms) => Ok(ms),
                Ok(ms) if integer && (0..MIN_TIMESTAMP_MS).contains(&ms) => Err(invalid(
                    value,
                    "epoch milliseconds (this looks like seconds)",
                )),
                _ => Err(invalid(
                    value,
                    "an integer of epoch milliseconds between 1973 and 9999",
                )),
            }
        }
        Some(other) => Err(invalid(other, "an integer of epoch milliseconds")),
    }
}

/// Whether every number fits DynamoDB and no map key is empty.
fn storable(value: &AttrValue) -> bool {
    match value {
        AttrValue::N(text) => number_fits(text),
        AttrValue::M(entries) => entries.iter().all(|(k, v)| !k.is_empty() && storable(v)),
        AttrValue::L(values) => values.iter().all(storable),
        _ => true,
    }
}

/// DynamoDB refuses numbers beyond 38 significant digits or outside 1e-130..1e126, and
/// empty map keys; such a record is invalid rather than a write that fails forever.
fn check_storable(value: &AttrValue, path: &str) -> Result<(), Rejection> {
    match value {
        AttrValue::N(text) if !number_fits(text) => Err(reject(
            RejectionKind::InvalidField,
            format!(
                "{} is a number DynamoDB cannot store (over 38 digits or out of range), got {text}",
                name(path)
            ),
        )),
        AttrValue::M(entries) => entries.iter().try_for_each(|(k, v)| {
            if k.is_empty() {
                return Err(reject(
                    RejectionKind::InvalidField,
                    format!("{} has an empty key", name(path)),
                ));
            }
            check_storable(v, &join(path, k))
        }),
        AttrValue::L(values) => values
            .iter()
            .enumerate()
            .try_for_each(|(i, v)| check_storable(v, &format!("{path}[{i}]"))),
        _ => Ok(()),
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn name(path: &str) -> &str {
    if path.is_empty() {
        "the record"
    } else {
        path
    }
}

/// Whether DynamoDB can store the JSON number `text` exactly.
pub(crate) fn number_fits(text: &str) -> bool {
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(i) => (&text[..i], text[i + 1..].parse::<i64>().unwrap_or(i64::MAX)),
        None => (text, 0),
    };
    let mantissa = mantissa.trim_start_matches('-');
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits: String = format!("{int}{frac}");
    let Some(first) = digits.find(|c: char| c != '0') else {
        return true;
    }; // zero
    let significant = digits.trim_end_matches('0').len() - first;
    // Decimal exponent of the leading significant digit.
    let magnitude = exponent
        .saturating_add(i64::try_from(int.len()).unwrap_or(0))
        .saturating_sub(i64::try_from(first).unwrap_or(0))
        - 1;
    significant <= 38 && (-130..=125).contains(&magnitude)
}

/// A short rendering of a value for messages.
fn describe(value: &AttrValue) -> String {
    let text = match value {
        AttrValue::S(s) => format!("{s:?}"),
        AttrValue::N(n) => n.clone(),
        AttrValue::Bool(b) => b.to_string(),
        AttrValue::Null => "null".into(),
        AttrValue::M(_) => "an object".into(),
        AttrValue::L(_) => "an array".into(),
    };
    if text.len() > 64 {
        let mut end = 61;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}...", &text[..end])
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CTX: RecordContext<'static> = RecordContext {
        event_id: "shardId-000000000000:495",
        arrival_ms: 1_700_000_000_500,
        processed_at_ms: 1_700_000_001_000,
    };

    fn ok(json: &str) -> Item {
        process_record(json.as_bytes(), &CTX).unwrap_or_else(|e| panic!("{json}: {e}"))
    }

    fn kind(data: &[u8]) -> (RejectionKind, String) {
        let err = process_record(data, &CTX).expect_err("must be rejected");
        (err.kind, err.message)
    }

    fn s(value: &str) -> AttrValue {
        AttrValue::S(value.into())
    }

    #[test]
    fn a_valid_event_becomes_the_designed_item() {
        let item = ok(
            r#"{"userId":"u1","eventType":"purchase","productId":"p1","sessionId":"s1","timestamp":1700000000123,"price":59.99}"#,
        );
        assert_eq!(item.partition_key(), "u1");
        assert_eq!(item.sort_key(), "1700000000123#shardId-000000000000:495");
        assert_eq!(
            item.get("eventTimestamp"),
            Some(&AttrValue::N("1700000000123".into()))
        );
        assert_eq!(item.get("eventScore"), Some(&AttrValue::N("10".into())));
        assert_eq!(item.get("engagementLevel"), Some(&s("high")));
        assert_eq!(
            item.get("insight"),
            Some(&s("User u1 purchased product p1"))
        );
        assert_eq!(
            item.get("processedAt"),
            Some(&s("2023-11-14T22:13:21.000Z"))
        );
        assert_eq!(
            item.get("processingLatency"),
            Some(&AttrValue::N("877".into()))
        );
        assert_eq!(item.get("version"), Some(&s("1.0")));
        assert_eq!(item.get("sessionId"), Some(&s("s1")));
        let Some(AttrValue::M(original)) = item.get("originalEvent") else {
            panic!("originalEvent is a map")
        };
        assert_eq!(
            original.iter().find(|(k, _)| k == "price").map(|(_, v)| v),
            Some(&AttrValue::N("59.99".into()))
        );
    }

    #[test]
    fn the_events_own_id_wins_and_a_missing_timestamp_uses_the_arrival_time() {
        let item = ok(r#"{"userId":"u1","eventType":"view","eventId":"e-7"}"#);
        assert_eq!(item.sort_key(), "1700000000500#e-7");
        assert!(item.get("productId").is_none());
    }

    #[test]
    fn numbers_keep_every_digit() {
        let item = ok(
            r#"{"userId":"u","eventType":"view","big":12345678901234567890123,"exact":0.1000000000000000055511}"#,
        );
        let Some(AttrValue::M(original)) = item.get("originalEvent") else {
            panic!()
        };
        assert!(original.contains(&("big".into(), AttrValue::N("12345678901234567890123".into()))));
        assert!(original.contains(&(
            "exact".into(),
            AttrValue::N("0.1000000000000000055511".into())
        )));
    }

    #[test]
    fn every_rejection_names_what_was_wrong() {
        let cases: &[(&[u8], RejectionKind, &str)] = &[
            (b"\xff\xfe", RejectionKind::NotUtf8, "UTF-8"),
            (b"{oops", RejectionKind::InvalidJson, "not JSON"),
            (b"[1,2]", RejectionKind::NotAnObject, "an array"),
            (
                br#"{"eventType":"view"}"#,
                RejectionKind::MissingField,
                "userId is missing",
            ),
            (
                br#"{"userId":"u"}"#,
                RejectionKind::MissingField,
                "eventType is missing",
            ),
            (
                br#"{"userId":42,"eventType":"view"}"#,
                RejectionKind::InvalidField,
                "userId must be a non-empty string, got 42",
            ),
            (
                br#"{"userId":"","eventType":"view"}"#,
                RejectionKind::InvalidField,
                "userId must be a non-empty string",
            ),
            (
                br#"{"userId":"u","eventType":["view"]}"#,
                RejectionKind::InvalidField,
                "eventType must be a non-empty string, got an array",
            ),
            (
                br#"{"userId":"u","eventType":"view","productId":7}"#,
                RejectionKind::InvalidField,
                "productId must be a string, got 7",
            ),
            (
                br#"{"userId":"u","eventType":"view","sessionId":{}}"#,
                RejectionKind::InvalidField,
                "sessionId",
            ),
            (
                br#"{"userId":"u","eventType":"view","eventId":""}"#,
                RejectionKind::InvalidField,
                "eventId",
            ),
            (
                br#"{"userId":"u","eventType":"view","timestamp":"yesterday"}"#,
                RejectionKind::InvalidTimestamp,
                "\"yesterday\"",
            ),
            (
                br#"{"userId":"u","eventType":"view","timestamp":1700000000.5}"#,
                RejectionKind::InvalidTimestamp,
                "integer",
            ),
            (
                br#"{"userId":"u","eventType":"view","timestamp":-5}"#,
                RejectionKind::InvalidTimestamp,
                "-5",
            ),
            (
                br#"{"userId":"u","eventType":"view","timestamp":1700000000}"#,
                RejectionKind::InvalidTimestamp,
                "seconds",
            ),
            (
                br#"{"userId":"u","eventType":"view","timestamp":253402300800000}"#,
                RejectionKind::InvalidTimestamp,
                "9999",
            ),
            (
                br#"{"userId":"u","eventType":"view","x":1e200}"#,
                RejectionKind::InvalidField,
                "x is a number DynamoDB cannot store",
            ),
            (
                br#"{"userId":"u","eventType":"view","a":{"":1}}"#,
                RejectionKind::InvalidField,
                "a has an empty key",
            ),
        ];
        for (data, expected, fragment) in cases {
            let (got, message) = kind(data);
            assert_eq!(got, *expected, "{}", String::from_utf8_lossy(data));
            assert!(message.contains(fragment), "{message:?} lacks {fragment:?}");
        }
    }

    #[test]
    fn an_item_over_400_kb_is_refused() {
        let big = format!(
            r#"{{"userId":"u","eventType":"view","blob":"{}"}}"#,
            "x".repeat(MAX_ITEM_BYTES)
        );
        assert_eq!(kind(big.as_bytes()).0, RejectionKind::ItemTooLarge);
    }

    #[test]
    fn dynamodb_number_limits() {
        for fits in [
            "0",
            "-0.0",
            "1e125",
            "9.99e125",
            "1e-130",
            "12345678901234567890123456789012345678",
            "100000000000000000000000000000000000000000",
        ] {
            assert!(number_fits(fits), "{fits}");
        }
        for too_much in ["1e126", "1e-131", "123456789012345678901234567890123456789"] {
            assert!(!number_fits(too_much), "{too_much}");
        }
    }

    #[test]
    fn error_types_are_the_dead_letter_names() {
        assert_eq!(RejectionKind::InvalidJson.as_str(), "InvalidJson");
        assert_eq!(RejectionKind::ItemTooLarge.as_str(), "ItemTooLarge");
    }
}
