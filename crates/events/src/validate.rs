//! The rules a record's fields must follow before it becomes an item.
//!
//! Each rule exists because breaking it would either corrupt the table (an event filed in
//! 1970, a key that collides) or make DynamoDB refuse the write on every retry, which would
//! stall the shard; a record that breaks one goes to the dead-letter queue instead.
//!
//! Decisions the rules encode:
//! - `null` is a value, not an absence: `"productId": null` is refused like any other
//!   non-string, so a producer bug shows up in the dead-letter queue instead of silently
//!   dropping an attribute.
//! - `timestamp` must be an integer of epoch milliseconds written without fraction or
//!   exponent, from 100,000,000,000 (1973-03-03) to 253,402,300,799,999 (the last
//!   millisecond of 9999). Anything smaller is refused as "looks like seconds": epoch
//!   seconds are the common producer mistake, and storing them as milliseconds would file
//!   the event in January 1970 where no query by time finds it.
//! - Key attributes stay within DynamoDB's key sizes: `userId`, `eventType` and
//!   `productId` (partition keys of the table and its indexes) at most 2,048 bytes,
//!   `eventId` at most 1,010 bytes so `eventKey` (the sort key) stays within 1,024. Index
//!   keys cannot be empty strings either, so an empty `productId` is refused.
//! - `sessionId` is an ordinary attribute: any string, even empty.

use crate::attr::number_fits;
use crate::rejection::{Rejection, RejectionKind};
use crate::tape::{AttrRef, MapRef};

/// The latest timestamp accepted: 9999-12-31T23:59:59.999Z in epoch milliseconds.
pub const MAX_TIMESTAMP_MS: i64 = 253_402_300_799_999;
/// The earliest timestamp accepted (1973-03-03T09:46:40Z): anything smaller is almost
/// certainly epoch seconds (see the module docs).
pub const MIN_TIMESTAMP_MS: i64 = 100_000_000_000;
/// DynamoDB's largest partition key (and index partition key), in bytes.
pub const MAX_PARTITION_KEY_BYTES: usize = 2048;
/// The largest `eventId`: DynamoDB's sort keys hold 1,024 bytes, and `eventKey` spends 14
/// of them on the timestamp and `#`.
pub const MAX_EVENT_ID_BYTES: usize = 1024 - 14;

/// The validated fields an item is made of, borrowed from the parsed record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fields<'a> {
    pub user_id: &'a str,
    pub event_type: &'a str,
    pub product_id: Option<&'a str>,
    pub session_id: Option<&'a str>,
    pub event_id: Option<&'a str>,
    /// `None` when the record has no timestamp (the caller falls back to arrival time).
    pub timestamp: Option<i64>,
    /// The timestamp's digits as the record wrote them (canonical: JSON has no leading
    /// zeros), so the item can reuse them instead of formatting the number again.
    pub timestamp_text: Option<&'a str>,
}

/// The top-level fields the rules are about.
#[derive(Clone, Copy)]
enum Known {
    UserId,
    EventType,
    ProductId,
    SessionId,
    EventId,
    Timestamp,
}

impl Known {
    /// Which known field `key` names, if any. Most keys of an event are looked up here, so
    /// the length and first byte pick the one candidate to compare.
    fn of(key: &[u8]) -> Option<Known> {
        let known = match (key.len(), key.first()) {
            (6, _) if key == b"userId" => Known::UserId,
            (7, _) if key == b"eventId" => Known::EventId,
            (9, Some(b'e')) if key == b"eventType" => Known::EventType,
            (9, Some(b'p')) if key == b"productId" => Known::ProductId,
            (9, Some(b's')) if key == b"sessionId" => Known::SessionId,
            (9, Some(b't')) if key == b"timestamp" => Known::Timestamp,
            _ => return None,
        };
        Some(known)
    }
}

/// Checks the record's top-level fields (one pass over them) against the rules.
pub(crate) fn fields(event: MapRef<'_>) -> Result<Fields<'_>, Rejection> {
    let (mut user_id, mut event_type, mut product_id) = (None, None, None);
    let (mut session_id, mut event_id, mut timestamp) = (None, None, None);
    // Most keys are none of these, so values are looked at only for the known ones.
    for (key, value) in event.keys() {
        let slot = match Known::of(event.key_bytes(key)) {
            Some(Known::UserId) => &mut user_id,
            Some(Known::EventType) => &mut event_type,
            Some(Known::ProductId) => &mut product_id,
            Some(Known::SessionId) => &mut session_id,
            Some(Known::EventId) => &mut event_id,
            Some(Known::Timestamp) => &mut timestamp,
            None => continue,
        };
        *slot = Some(value);
    }
    let [user_id, event_type, product_id, session_id, event_id, timestamp] = [
        user_id, event_type, product_id, session_id, event_id, timestamp,
    ]
    .map(|index| index.map(|index| event.value(index)));
    Ok(Fields {
        user_id: key_string("userId", required("userId", user_id)?)?,
        event_type: key_string("eventType", required("eventType", event_type)?)?,
        product_id: product_id.map(|v| key_string("productId", v)).transpose()?,
        session_id: session_id.map(|v| string("sessionId", v)).transpose()?,
        event_id: event_id.map(event_id_string).transpose()?,
        timestamp: timestamp.map(epoch_ms).transpose()?,
        timestamp_text: match timestamp {
            Some(AttrRef::N(text)) => Some(text),
            _ => None,
        },
    })
}

fn required<'v>(name: &str, value: Option<AttrRef<'v>>) -> Result<AttrRef<'v>, Rejection> {
    value.ok_or_else(|| {
        Rejection::new(
            RejectionKind::MissingField,
            format!("{name} is missing: every event needs a non-empty string {name}"),
        )
    })
}

#[cold]
fn invalid(name: &str, rule: &str, shown: String) -> Rejection {
    Rejection::new(
        RejectionKind::InvalidField,
        format!("{name} must be {rule}, got {shown}"),
    )
}

/// A rejection for a string that is too long, showing its length rather than its text.
#[cold]
fn too_long(name: &str, rule: &str, text: &str) -> Rejection {
    invalid(
        name,
        rule,
        describe(AttrRef::S(&format!("{} bytes", text.len()))),
    )
}

fn string<'v>(name: &str, value: AttrRef<'v>) -> Result<&'v str, Rejection> {
    match value {
        AttrRef::S(s) => Ok(s),
        other => Err(invalid(name, "a string", describe(other))),
    }
}

/// A non-empty string that fits a DynamoDB partition key.
fn key_string<'v>(name: &str, value: AttrRef<'v>) -> Result<&'v str, Rejection> {
    match value {
        AttrRef::S(s) if !s.is_empty() && s.len() <= MAX_PARTITION_KEY_BYTES => Ok(s),
        AttrRef::S(s) if !s.is_empty() => Err(too_long(
            name,
            "at most 2048 bytes (DynamoDB's key size)",
            s,
        )),
        other => Err(invalid(name, "a non-empty string", describe(other))),
    }
}

fn event_id_string(value: AttrRef<'_>) -> Result<&str, Rejection> {
    match value {
        AttrRef::S(s) if !s.is_empty() && s.len() <= MAX_EVENT_ID_BYTES => Ok(s),
        AttrRef::S(s) if !s.is_empty() => Err(too_long(
            "eventId",
            "at most 1010 bytes (eventKey must fit DynamoDB's 1024-byte sort key)",
            s,
        )),
        other => Err(invalid("eventId", "a non-empty string", describe(other))),
    }
}

/// An integer of epoch milliseconds in range (see the module docs).
fn epoch_ms(value: AttrRef) -> Result<i64, Rejection> {
    let refuse = |rule: &str| {
        Rejection::new(
            RejectionKind::InvalidTimestamp,
            format!("timestamp must be {rule}, got {}", describe(value)),
        )
    };
    let AttrRef::N(text) = value else {
        return Err(refuse("an integer of epoch milliseconds"));
    };
    // Digits only: no sign, fraction or exponent. 16 digits already exceed the range.
    if text.len() > 16 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(refuse(
            "an integer of epoch milliseconds (no sign, fraction or exponent)",
        ));
    }
    let ms = text
        .bytes()
        .fold(0i64, |ms, b| ms * 10 + i64::from(b - b'0'));
    if ms < MIN_TIMESTAMP_MS {
        Err(refuse(
            "epoch milliseconds from 100000000000 (1973) on; this looks like epoch seconds",
        ))
    } else if ms > MAX_TIMESTAMP_MS {
        Err(refuse(
            "epoch milliseconds no later than 253402300799999 (the end of year 9999)",
        ))
    } else {
        Ok(ms)
    }
}

/// A short rendering of a value for messages: strings quoted, numbers as written,
/// containers by kind, anything over 64 characters truncated with `...`.
pub(crate) fn describe(value: AttrRef) -> String {
    let text = match value {
        AttrRef::S(s) => format!("{s:?}"),
        AttrRef::N(n) => n.to_owned(),
        AttrRef::Bool(b) => b.to_string(),
        AttrRef::Null => "null".into(),
        AttrRef::M(_) => "an object".into(),
        AttrRef::L(_) => "an array".into(),
    };
    truncate(text, 64)
}

pub(crate) fn truncate(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut end = max - 3;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push_str("...");
    }
    text
}

/// Finds what in the document DynamoDB cannot store and says where, e.g.
/// `originalEvent.items[2].price`. Only called once the parser has said something is
/// wrong, so the common path never builds a path string.
#[cold]
pub(crate) fn unstorable(document: AttrRef) -> Rejection {
    let mut path = String::from("originalEvent");
    let message = find_unstorable(document, &mut path)
        .unwrap_or_else(|| "originalEvent cannot be stored in DynamoDB".to_owned());
    Rejection::new(RejectionKind::InvalidField, message)
}

fn find_unstorable(value: AttrRef, path: &mut String) -> Option<String> {
    match value {
        AttrRef::N(text) if !number_fits(text) => Some(format!(
            "{path} must be a number DynamoDB can store (at most 38 significant digits, \
             magnitude 1e-130 to 1e126), got {}",
            truncate(text.to_owned(), 64)
        )),
        AttrRef::M(map) => map.iter().find_map(|(key, v)| {
            if key.is_empty() {
                return Some(format!(
                    "{path} must not have an empty key (DynamoDB refuses empty attribute names)"
                ));
            }
            within(
                path,
                |path| {
                    path.push('.');
                    path.push_str(key);
                },
                v,
            )
        }),
        AttrRef::L(list) => list
            .iter()
            .enumerate()
            .find_map(|(i, v)| within(path, |path| path.push_str(&format!("[{i}]")), v)),
        _ => None,
    }
}

/// [`find_unstorable`] in a child whose path is `path` extended by `step`.
fn within(path: &mut String, step: impl FnOnce(&mut String), child: AttrRef) -> Option<String> {
    let len = path.len();
    step(path);
    let found = find_unstorable(child, path);
    path.truncate(len);
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attr::AttrValue;
    use crate::tape::Tape;

    fn s(text: &str) -> AttrValue<'static> {
        AttrValue::S(text.to_owned().into())
    }

    fn n(text: &str) -> AttrValue<'static> {
        AttrValue::N(text.to_owned().into())
    }

    /// `value` as JSON text.
    fn json(value: &AttrValue) -> String {
        let quoted = |s: &str| serde_json::to_string(s).expect("a string serializes");
        match value {
            AttrValue::S(s) => quoted(s),
            AttrValue::N(n) => n.to_string(),
            AttrValue::Bool(b) => b.to_string(),
            AttrValue::Null => "null".to_owned(),
            AttrValue::M(entries) => {
                let entries: Vec<String> = entries
                    .iter()
                    .map(|(k, v)| format!("{}:{}", quoted(k), json(v)))
                    .collect();
                format!("{{{}}}", entries.join(","))
            }
            AttrValue::L(values) => {
                let values: Vec<String> = values.iter().map(json).collect();
                format!("[{}]", values.join(","))
            }
        }
    }

    /// A record of these fields, read as the processor reads it.
    fn entries(pairs: &[(&str, AttrValue)]) -> Tape {
        let object = AttrValue::M(
            pairs
                .iter()
                .map(|(k, v)| ((*k).into(), v.clone()))
                .collect(),
        );
        document(&object)
    }

    fn document(value: &AttrValue) -> Tape {
        let mut tape = Tape::default();
        crate::json::read_into(&json(value), &mut tape).expect("valid JSON");
        tape
    }

    fn fields(record: &Tape) -> Result<Fields<'_>, Rejection> {
        let AttrRef::M(event) = record.view(0) else {
            panic!("a record of fields is an object")
        };
        super::fields(event)
    }

    fn refused(pairs: &[(&str, AttrValue)]) -> Rejection {
        fields(&entries(pairs)).expect_err("must be refused")
    }

    #[test]
    fn the_smallest_valid_event() {
        let e = entries(&[("userId", s("u")), ("eventType", s("view"))]);
        let f = fields(&e).unwrap();
        assert_eq!((f.user_id, f.event_type), ("u", "view"));
        assert_eq!(
            (f.product_id, f.session_id, f.event_id, f.timestamp),
            (None, None, None, None)
        );
    }

    #[test]
    fn every_field_is_read() {
        let e = entries(&[
            ("timestamp", n("1700000000123")),
            ("eventId", s("e1")),
            ("sessionId", s("")),
            ("productId", s("p")),
            ("eventType", s("purchase")),
            ("userId", s("u")),
            ("other", AttrValue::Null),
        ]);
        let f = fields(&e).unwrap();
        assert_eq!(f.product_id, Some("p"));
        assert_eq!(
            f.session_id,
            Some(""),
            "an empty session id is an ordinary value"
        );
        assert_eq!(f.event_id, Some("e1"));
        assert_eq!(f.timestamp, Some(1_700_000_000_123));
    }

    #[test]
    fn required_fields() {
        let r = refused(&[("eventType", s("view"))]);
        assert_eq!(r.kind, RejectionKind::MissingField);
        assert!(r.message.starts_with("userId is missing"), "{}", r.message);
        let r = refused(&[("userId", s("u"))]);
        assert_eq!(r.kind, RejectionKind::MissingField);
        assert!(
            r.message.starts_with("eventType is missing"),
            "{}",
            r.message
        );
        for (bad, shown) in [
            (n("42"), "42"),
            (s(""), "\"\""),
            (AttrValue::Null, "null"),
            (AttrValue::Bool(true), "true"),
            (AttrValue::L(vec![]), "an array"),
            (AttrValue::M(vec![]), "an object"),
        ] {
            let r = refused(&[("userId", bad.clone()), ("eventType", s("view"))]);
            assert_eq!(r.kind, RejectionKind::InvalidField);
            assert_eq!(
                r.message,
                format!("userId must be a non-empty string, got {shown}")
            );
            let r = refused(&[("userId", s("u")), ("eventType", bad)]);
            assert_eq!(
                r.message,
                format!("eventType must be a non-empty string, got {shown}")
            );
        }
    }

    #[test]
    fn optional_fields() {
        let base = [("userId", s("u")), ("eventType", s("view"))];
        let with = |name: &str, value: AttrValue<'static>| {
            let mut pairs = base.to_vec();
            pairs.push((name, value));
            fields(&entries(&pairs)).map(|_| ())
        };
        for (name, value, fragment) in [
            (
                "productId",
                n("7"),
                "productId must be a non-empty string, got 7",
            ),
            (
                "productId",
                s(""),
                "productId must be a non-empty string, got \"\"",
            ),
            (
                "productId",
                AttrValue::Null,
                "productId must be a non-empty string, got null",
            ),
            (
                "sessionId",
                AttrValue::M(vec![]),
                "sessionId must be a string, got an object",
            ),
            (
                "sessionId",
                AttrValue::Null,
                "sessionId must be a string, got null",
            ),
            (
                "eventId",
                s(""),
                "eventId must be a non-empty string, got \"\"",
            ),
            (
                "eventId",
                n("12"),
                "eventId must be a non-empty string, got 12",
            ),
        ] {
            let r = with(name, value).expect_err(fragment);
            assert_eq!(r.kind, RejectionKind::InvalidField);
            assert_eq!(r.message, fragment);
        }
    }

    #[test]
    fn keys_fit_dynamodbs_key_sizes() {
        let long = |n: usize| s(&"k".repeat(n));
        let ok = |pairs: &[(&str, AttrValue)]| fields(&entries(pairs)).is_ok();
        assert!(ok(&[("userId", long(2048)), ("eventType", s("v"))]));
        let r = refused(&[("userId", long(2049)), ("eventType", s("v"))]);
        assert_eq!(r.kind, RejectionKind::InvalidField);
        assert!(r.message.contains("at most 2048 bytes"), "{}", r.message);
        assert!(r.message.contains("2049 bytes"), "{}", r.message);
        assert!(!ok(&[("userId", s("u")), ("eventType", long(2049))]));
        assert!(!ok(&[
            ("userId", s("u")),
            ("eventType", s("v")),
            ("productId", long(2049))
        ]));
        assert!(ok(&[
            ("userId", s("u")),
            ("eventType", s("v")),
            ("eventId", long(1010))
        ]));
        let r = refused(&[
            ("userId", s("u")),
            ("eventType", s("v")),
            ("eventId", long(1011)),
        ]);
        assert!(r.message.contains("1024-byte sort key"), "{}", r.message);
    }

    #[test]
    fn timestamps() {
        let at = |value: AttrValue| {
            fields(&entries(&[
                ("userId", s("u")),
                ("eventType", s("view")),
                ("timestamp", value),
            ]))
            .map(|f| f.timestamp)
        };
        assert_eq!(at(n("1700000000123")), Ok(Some(1_700_000_000_123)));
        assert_eq!(at(n("100000000000")), Ok(Some(MIN_TIMESTAMP_MS)));
        assert_eq!(at(n("253402300799999")), Ok(Some(MAX_TIMESTAMP_MS)));
        for (bad, fragment) in [
            (s("1700000000123"), "got \"1700000000123\""),
            (s("yesterday"), "got \"yesterday\""),
            (AttrValue::Null, "got null"),
            (AttrValue::Bool(false), "got false"),
            (n("1700000000000.5"), "no sign, fraction or exponent"),
            (n("1700000000000.0"), "no sign, fraction or exponent"),
            (n("1.7e12"), "no sign, fraction or exponent"),
            (n("-5"), "got -5"),
            (n("1700000000"), "looks like epoch seconds"),
            (n("0"), "looks like epoch seconds"),
            (n("253402300800000"), "end of year 9999"),
            (n("99999999999999999999999"), "got 99999999999999999999999"),
        ] {
            let r = at(bad).expect_err(fragment);
            assert_eq!(r.kind, RejectionKind::InvalidTimestamp);
            assert!(r.message.starts_with("timestamp must be"), "{}", r.message);
            assert!(
                r.message.contains(fragment),
                "{} lacks {fragment}",
                r.message
            );
        }
    }

    #[test]
    fn long_values_are_truncated_in_messages() {
        let r = refused(&[("userId", AttrValue::Bool(true)), ("eventType", s("v"))]);
        assert!(r.message.ends_with("true"));
        let long = "é".repeat(100);
        let shown = describe(AttrRef::S(&long));
        assert!(shown.len() <= 64 && shown.ends_with("..."), "{shown}");
        assert_eq!(describe(AttrRef::S("short")), "\"short\"");
    }

    #[test]
    fn unstorable_values_are_found_by_path() {
        let doc = AttrValue::M(vec![
            ("ok".into(), n("1")),
            (
                "items".into(),
                AttrValue::L(vec![
                    n("2"),
                    AttrValue::M(vec![("price".into(), n("1e999"))]),
                ]),
            ),
        ]);
        let r = unstorable(document(&doc).view(0));
        assert_eq!(r.kind, RejectionKind::InvalidField);
        assert!(
            r.message
                .starts_with("originalEvent.items[1].price must be a number DynamoDB can store"),
            "{}",
            r.message
        );
        assert!(r.message.ends_with("got 1e999"), "{}", r.message);
        let empty_key = AttrValue::M(vec![(
            "a".into(),
            AttrValue::M(vec![(String::new().into(), n("1"))]),
        )]);
        assert!(unstorable(document(&empty_key).view(0))
            .message
            .starts_with("originalEvent.a must not have an empty key"));
    }
}
