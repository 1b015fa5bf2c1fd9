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

use crate::attr::{Child, Repr, View};
use crate::rejection::{Rejection, RejectionKind};

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

/// Checks the record's top-level fields (one pass over them) against the rules.
pub(crate) fn fields<'v, 'a, T: Repr<'a>>(
    entries: &'v [(T::Key, T)],
) -> Result<Fields<'v>, Rejection> {
    let (mut user_id, mut event_type, mut product_id) = (None, None, None);
    let (mut session_id, mut event_id, mut timestamp) = (None, None, None);
    for (key, value) in entries {
        let slot = match T::key_str(key) {
            "userId" => &mut user_id,
            "eventType" => &mut event_type,
            "productId" => &mut product_id,
            "sessionId" => &mut session_id,
            "eventId" => &mut event_id,
            "timestamp" => &mut timestamp,
            _ => continue,
        };
        *slot = Some(value.view());
    }
    Ok(Fields {
        user_id: key_string("userId", required("userId", user_id)?)?,
        event_type: key_string("eventType", required("eventType", event_type)?)?,
        product_id: product_id.map(|v| key_string("productId", v)).transpose()?,
        session_id: session_id.map(|v| string("sessionId", v)).transpose()?,
        event_id: event_id.map(event_id_string).transpose()?,
        timestamp: timestamp.map(epoch_ms).transpose()?,
        timestamp_text: match timestamp {
            Some(View::N(text)) => Some(text),
            _ => None,
        },
    })
}

fn required<'v>(name: &str, value: Option<View<'v>>) -> Result<View<'v>, Rejection> {
    value.ok_or_else(|| {
        Rejection::new(
            RejectionKind::MissingField,
            format!("{name} is missing: every event needs a non-empty string {name}"),
        )
    })
}

fn invalid(name: &str, rule: &str, value: View) -> Rejection {
    Rejection::new(
        RejectionKind::InvalidField,
        format!("{name} must be {rule}, got {}", describe(value)),
    )
}

fn string<'v>(name: &str, value: View<'v>) -> Result<&'v str, Rejection> {
    match value {
        View::S(s) => Ok(s),
        other => Err(invalid(name, "a string", other)),
    }
}

/// A non-empty string that fits a DynamoDB partition key.
fn key_string<'v>(name: &str, value: View<'v>) -> Result<&'v str, Rejection> {
    match value {
        View::S(s) if !s.is_empty() && s.len() <= MAX_PARTITION_KEY_BYTES => Ok(s),
        View::S(s) if !s.is_empty() => Err(invalid(
            name,
            "at most 2048 bytes (DynamoDB's key size)",
            View::S(&format!("{} bytes", s.len())),
        )),
        other => Err(invalid(name, "a non-empty string", other)),
    }
}

fn event_id_string(value: View<'_>) -> Result<&str, Rejection> {
    match value {
        View::S(s) if !s.is_empty() && s.len() <= MAX_EVENT_ID_BYTES => Ok(s),
        View::S(s) if !s.is_empty() => Err(invalid(
            "eventId",
            "at most 1010 bytes (eventKey must fit DynamoDB's 1024-byte sort key)",
            View::S(&format!("{} bytes", s.len())),
        )),
        other => Err(invalid("eventId", "a non-empty string", other)),
    }
}

/// An integer of epoch milliseconds in range (see the module docs).
fn epoch_ms(value: View) -> Result<i64, Rejection> {
    let refuse = |rule: &str| {
        Rejection::new(
            RejectionKind::InvalidTimestamp,
            format!("timestamp must be {rule}, got {}", describe(value)),
        )
    };
    let View::N(text) = value else {
        return Err(refuse("an integer of epoch milliseconds"));
    };
    // Digits only: no sign, fraction or exponent. 16 digits already exceed the range.
    let mut ms: i64 = 0;
    if text.len() > 16 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(refuse(
            "an integer of epoch milliseconds (no sign, fraction or exponent)",
        ));
    }
    for b in text.bytes() {
        ms = ms * 10 + i64::from(b - b'0');
    }
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
pub(crate) fn describe(value: View) -> String {
    let text = match value {
        View::S(s) => format!("{s:?}"),
        View::N(n) => n.to_owned(),
        View::Bool(b) => b.to_string(),
        View::Null => "null".into(),
        View::M => "an object".into(),
        View::L => "an array".into(),
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
pub(crate) fn unstorable<'a, T: Repr<'a>>(document: &T) -> Rejection {
    let mut path = String::from("originalEvent");
    let message = find_unstorable(document, &mut path)
        .unwrap_or_else(|| "originalEvent cannot be stored in DynamoDB".to_owned());
    Rejection::new(RejectionKind::InvalidField, message)
}

fn find_unstorable<'a, T: Repr<'a>>(value: &T, path: &mut String) -> Option<String> {
    if let View::N(text) = value.view() {
        if !crate::attr::number_fits(text) {
            return Some(format!(
                "{path} must be a number DynamoDB can store (at most 38 significant digits, \
                 magnitude 1e-130 to 1e126), got {}",
                truncate(text.to_owned(), 64)
            ));
        }
    }
    value.children().into_iter().find_map(|(child, v)| {
        let len = path.len();
        match child {
            Child::Key("") => {
                return Some(format!(
                    "{path} must not have an empty key (DynamoDB refuses empty attribute names)"
                ))
            }
            Child::Key(key) => {
                path.push('.');
                path.push_str(key);
            }
            Child::Index(i) => path.push_str(&format!("[{i}]")),
        }
        let found = find_unstorable(v, path);
        path.truncate(len);
        found
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attr::AttrValue;

    fn s(text: &str) -> AttrValue {
        AttrValue::S(text.into())
    }

    fn n(text: &str) -> AttrValue {
        AttrValue::N(text.into())
    }

    fn entries(pairs: &[(&str, AttrValue)]) -> Vec<(String, AttrValue)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    }

    fn refused(pairs: &[(&str, AttrValue)]) -> Rejection {
        fields(&entries(pairs)).expect_err("must be refused")
    }

    fn fields(entries: &[(String, AttrValue)]) -> Result<Fields<'_>, Rejection> {
        super::fields::<AttrValue>(entries)
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
        let with = |name: &str, value: AttrValue| {
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
        let shown = describe(View::S(&long));
        assert!(shown.len() <= 64 && shown.ends_with("..."), "{shown}");
        assert_eq!(describe(View::S("short")), "\"short\"");
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
        let r = unstorable(&doc);
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
            AttrValue::M(vec![(String::new(), n("1"))]),
        )]);
        assert!(unstorable(&empty_key)
            .message
            .starts_with("originalEvent.a must not have an empty key"));
    }
}
