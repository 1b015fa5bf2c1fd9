//! The pure path: one record's bytes to a validated, enriched item, or the reason it is
//! rejected. Never panics; every refusal is a [`Rejection`] naming the field, the rule and
//! the value.
//!
//! It runs once per record at stream speed, so it parses once (straight into attribute
//! values, measuring size and storability on the way), looks the known fields up in one
//! pass, and allocates only the strings the item must own.

use crate::attr::{AttrRef, AttrValue, Repr};
use crate::enrich;
use crate::item::{event_key, integer_text, Item, ItemRef, MAX_ITEM_BYTES};
use crate::json;
use crate::rejection::{Rejection, RejectionKind};
use crate::validate::{self, describe};

/// The `version` attribute, as the recipe writes it: the enrichment's schema version.
pub const ENRICHMENT_VERSION: &str = "1.0";

/// What the processor knows about the record besides its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordContext<'a> {
    /// The Kinesis eventID (`shardId-…:sequenceNumber`); for the n-th user record of a KPL
    /// aggregate, with `:n` appended by the caller. The event id of an event without its
    /// own `eventId`, so a replay of the record overwrites the same item.
    pub event_id: &'a str,
    /// The record's approximateArrivalTimestamp in epoch ms: the timestamp of an event
    /// that has none. Never "now", so a replay gives the same item.
    pub arrival_ms: i64,
    /// When the record is processed, in epoch ms, supplied by the caller (the pure path
    /// reads no clock): `processedAt`, and `processingLatency` = this − the event's time.
    pub processed_at_ms: i64,
}

/// Record bytes → the item to store, or why the record belongs in the dead-letter queue.
///
/// The bytes must be UTF-8 JSON holding an object with non-empty string `userId` and
/// `eventType`; the other rules (optional fields, timestamps, what DynamoDB can store) are
/// in the `validate` module's docs. The item has the keys of DESIGN.md (`userId`,
/// `eventKey`), the recipe's enrichment and the whole event as `originalEvent`.
pub fn process_record(data: &[u8], ctx: &RecordContext) -> Result<Item, Rejection> {
    build::<AttrValue>(data, ctx).map(Item::new)
}

/// [`process_record`], but the item borrows from `data` where it can (see [`ItemRef`]):
/// the same validation, enrichment, keys and size limit, at a fraction of the allocations.
pub fn process_record_ref<'a>(
    data: &'a [u8],
    ctx: &RecordContext,
) -> Result<ItemRef<'a>, Rejection> {
    build::<AttrRef<'a>>(data, ctx).map(ItemRef::new)
}

/// The pure path for either representation: the item's attributes in order.
fn build<'a, T: Repr<'a>>(
    data: &'a [u8],
    ctx: &RecordContext,
) -> Result<Vec<(&'static str, T)>, Rejection> {
    let text = std::str::from_utf8(data).map_err(|e| {
        Rejection::new(
            RejectionKind::NotUtf8,
            format!(
                "record must be UTF-8 text, got an invalid byte at offset {} of {}",
                e.valid_up_to(),
                data.len()
            ),
        )
    })?;
    let document = json::parse_as::<T>(text).map_err(|e| {
        if e.is_too_deep() {
            Rejection::new(
                RejectionKind::InvalidField,
                format!(
                    "originalEvent must nest at most {} levels (DynamoDB's limit), got deeper at byte {}",
                    json::MAX_DEPTH,
                    e.offset
                ),
            )
        } else {
            Rejection::new(
                RejectionKind::InvalidJson,
                format!("record must be JSON, got {e}"),
            )
        }
    })?;
    let Some(entries) = document.value.entries() else {
        return Err(Rejection::new(
            RejectionKind::NotAnObject,
            format!(
                "record must be a JSON object, got {}",
                describe(document.value.view())
            ),
        ));
    };
    let fields = validate::fields(entries)?;
    if !document.storable {
        return Err(validate::unstorable(&document.value));
    }
    let timestamp = fields.timestamp.unwrap_or(ctx.arrival_ms);
    let event_id = fields.event_id.unwrap_or(ctx.event_id);
    let score = enrich::score(fields.event_type);
    let level = enrich::engagement_level(score);
    let insight = enrich::insight(fields.user_id, fields.event_type, fields.product_id);
    let processed_at = integer_text(ctx.processed_at_ms);
    let latency = integer_text(ctx.processed_at_ms.saturating_sub(timestamp));
    let (key, timestamp_value, timestamp_size) = match fields.timestamp_text {
        Some(digits) => (
            padded_key(digits, event_id),
            T::field_number(digits, text),
            crate::attr::number_size(digits),
        ),
        None => {
            let digits = integer_text(timestamp);
            let size = crate::attr::number_size(&digits);
            (
                event_key(timestamp, event_id),
                T::owned_number(digits),
                size,
            )
        }
    };

    // Sizes of what is added to the original event, from lengths already known.
    let number = |text: &str| crate::attr::number_size(text);
    let size = "userId".len()
        + fields.user_id.len()
        + "eventKey".len()
        + key.len()
        + "eventTimestamp".len()
        + timestamp_size
        + "eventType".len()
        + fields.event_type.len()
        + fields.product_id.map_or(0, |p| "productId".len() + p.len())
        + fields.session_id.map_or(0, |s| "sessionId".len() + s.len())
        + "eventScore".len()
        + number(score_text(score))
        + "engagementLevel".len()
        + level.len()
        + "insight".len()
        + insight.len()
        + "processedAt".len()
        + number(&processed_at)
        + "processingLatency".len()
        + number(&latency)
        + "version".len()
        + ENRICHMENT_VERSION.len()
        + "originalEvent".len()
        + document.size_bytes;
    if size > MAX_ITEM_BYTES {
        return Err(Rejection::new(
            RejectionKind::ItemTooLarge,
            format!(
                "item must be at most {MAX_ITEM_BYTES} bytes (DynamoDB's 400 KB), got {size} bytes \
                 from a {}-byte record",
                data.len()
            ),
        ));
    }

    // `fields` borrows from `document`, so these are made before the document moves in:
    // copies (owned representation) or slices of the record (borrowed).
    let mut attributes: Vec<(&'static str, T)> = Vec::with_capacity(14);
    attributes.push(("userId", T::field_text(fields.user_id, text)));
    attributes.push(("eventKey", T::owned_text(key)));
    attributes.push(("eventTimestamp", timestamp_value));
    attributes.push(("eventType", T::field_text(fields.event_type, text)));
    if let Some(product_id) = fields.product_id {
        attributes.push(("productId", T::field_text(product_id, text)));
    }
    if let Some(session_id) = fields.session_id {
        attributes.push(("sessionId", T::field_text(session_id, text)));
    }
    attributes.push(("eventScore", T::static_number(score_text(score))));
    attributes.push(("engagementLevel", T::static_text(level)));
    attributes.push(("insight", T::owned_text(insight)));
    attributes.push(("processedAt", T::owned_number(processed_at)));
    attributes.push(("processingLatency", T::owned_number(latency)));
    attributes.push(("version", T::static_text(ENRICHMENT_VERSION)));
    attributes.push(("originalEvent", document.value));
    Ok(attributes)
}

/// [`event_key`] from a validated timestamp's digits, without formatting it again.
fn padded_key(digits: &str, event_id: &str) -> String {
    let mut key = String::with_capacity(digits.len().max(13) + 1 + event_id.len());
    for _ in digits.len()..13 {
        key.push('0');
    }
    key.push_str(digits);
    key.push('#');
    key.push_str(event_id);
    key
}

fn score_text(score: u8) -> &'static str {
    match score {
        1 => "1",
        2 => "2",
        3 => "3",
        5 => "5",
        8 => "8",
        10 => "10",
        _ => "1",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CTX: RecordContext<'static> = RecordContext {
        event_id: "shardId-000000000000:49590338271490256608559692538361571095921575989136588898",
        arrival_ms: 1_700_000_000_500,
        processed_at_ms: 1_700_000_001_000,
    };

    fn ok(json: &str) -> Item {
        process_record(json.as_bytes(), &CTX).unwrap_or_else(|e| panic!("{json}: {e}"))
    }

    fn refused(data: &[u8]) -> Rejection {
        process_record(data, &CTX).expect_err("must be rejected")
    }

    fn s(value: &str) -> AttrValue {
        AttrValue::S(value.into())
    }

    fn n(value: &str) -> AttrValue {
        AttrValue::N(value.into())
    }

    fn original(item: &Item) -> &[(String, AttrValue)] {
        match item.get("originalEvent") {
            Some(AttrValue::M(entries)) => entries,
            other => panic!("originalEvent must be a map, got {other:?}"),
        }
    }

    #[test]
    fn a_valid_event_becomes_the_designed_item() {
        let json = r#"{"userId":"u1","eventType":"purchase","productId":"p1","sessionId":"s1","timestamp":1700000000123,"price":59.99,"metadata":{"platform":"iOS","tags":["a",true,null]}}"#;
        let item = ok(json);
        let expected = [
            ("userId", s("u1")),
            ("eventKey", s(&format!("1700000000123#{}", CTX.event_id))),
            ("eventTimestamp", n("1700000000123")),
            ("eventType", s("purchase")),
            ("productId", s("p1")),
            ("sessionId", s("s1")),
            ("eventScore", n("10")),
            ("engagementLevel", s("high")),
            ("insight", s("User u1 purchased product p1")),
            ("processedAt", n("1700000001000")),
            ("processingLatency", n("877")),
            ("version", s("1.0")),
        ];
        let got: Vec<(&str, &AttrValue)> = item.attributes().collect();
        assert_eq!(got.len(), expected.len() + 1);
        for ((name, value), (want_name, want)) in got.iter().zip(&expected) {
            assert_eq!((*name, *value), (*want_name, want));
        }
        assert_eq!(item.partition_key(), "u1");
        assert_eq!(item.sort_key(), format!("1700000000123#{}", CTX.event_id));
        let original = original(&item);
        let names: Vec<&str> = original.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "userId",
                "eventType",
                "productId",
                "sessionId",
                "timestamp",
                "price",
                "metadata"
            ]
        );
        assert_eq!(original[4].1, n("1700000000123"));
        assert_eq!(original[5].1, n("59.99"));
        assert_eq!(
            original[6].1,
            AttrValue::M(vec![
                ("platform".into(), s("iOS")),
                (
                    "tags".into(),
                    AttrValue::L(vec![s("a"), AttrValue::Bool(true), AttrValue::Null])
                ),
            ])
        );
    }

    #[test]
    fn each_event_type_is_enriched_as_the_recipe_does() {
        for (event_type, score, level, verb) in [
            ("view", "1", "low", "viewed"),
            ("add_to_cart", "5", "medium", "added to cart"),
            ("purchase", "10", "high", "purchased"),
            ("wishlist", "3", "low", "added to wishlist"),
            ("share", "2", "low", "shared"),
            ("review", "8", "high", "reviewed"),
            ("login", "1", "low", "interacted with"),
        ] {
            let item = ok(&format!(
                r#"{{"userId":"u","eventType":"{event_type}","productId":"p"}}"#
            ));
            assert_eq!(item.get("eventScore"), Some(&n(score)));
            assert_eq!(item.get("engagementLevel"), Some(&s(level)));
            assert_eq!(
                item.get("insight"),
                Some(&s(&format!("User u {verb} product p")))
            );
        }
    }

    #[test]
    fn absent_optional_fields_are_absent_attributes() {
        let item = ok(r#"{"userId":"u1","eventType":"view"}"#);
        assert_eq!(item.get("productId"), None);
        assert_eq!(item.get("sessionId"), None);
        assert_eq!(
            item.get("insight"),
            Some(&s("User u1 viewed product unknown"))
        );
        assert_eq!(item.attributes().count(), 11);
    }

    #[test]
    fn the_events_own_id_wins_and_a_missing_timestamp_uses_the_arrival_time() {
        let item = ok(r#"{"userId":"u1","eventType":"view","eventId":"e-7"}"#);
        assert_eq!(item.sort_key(), "1700000000500#e-7");
        assert_eq!(item.get("eventTimestamp"), Some(&n("1700000000500")));
        assert_eq!(item.get("processingLatency"), Some(&n("500")));
        assert!(original(&item).iter().all(|(k, _)| k != "timestamp"));
    }

    #[test]
    fn the_kinesis_event_id_is_the_fallback_with_the_kpl_suffix() {
        let ctx = RecordContext {
            event_id: "shardId-000000000003:4959:2",
            ..CTX
        };
        let data = br#"{"userId":"u1","eventType":"view","timestamp":1700000000000}"#;
        let item = process_record(data, &ctx).unwrap();
        assert_eq!(item.sort_key(), "1700000000000#shardId-000000000003:4959:2");
        let next = RecordContext {
            event_id: "shardId-000000000003:4959:3",
            ..CTX
        };
        let sibling = process_record(data, &next).unwrap();
        assert_ne!(
            item.sort_key(),
            sibling.sort_key(),
            "two user records of one aggregate never collide"
        );
    }

    #[test]
    fn replays_give_the_same_keys_and_same_millisecond_events_do_not_collide() {
        let data = br#"{"userId":"u1","eventType":"view","timestamp":1700000000000}"#;
        let first = process_record(data, &CTX).unwrap();
        let replay = process_record(
            data,
            &RecordContext {
                processed_at_ms: CTX.processed_at_ms + 60_000,
                ..CTX
            },
        )
        .unwrap();
        assert_eq!(
            (first.partition_key(), first.sort_key()),
            (replay.partition_key(), replay.sort_key())
        );
        let other = process_record(
            data,
            &RecordContext {
                event_id: "shardId-000000000000:2",
                ..CTX
            },
        )
        .unwrap();
        assert_eq!(first.partition_key(), other.partition_key());
        assert_ne!(first.sort_key(), other.sort_key());
        // Without a timestamp, a replay still lands on the same key: arrival time is fixed.
        let untimed = br#"{"userId":"u1","eventType":"view"}"#;
        let a = process_record(untimed, &CTX).unwrap();
        let b = process_record(
            untimed,
            &RecordContext {
                processed_at_ms: CTX.processed_at_ms + 3_600_000,
                ..CTX
            },
        )
        .unwrap();
        assert_eq!(a.sort_key(), b.sort_key());
    }

    #[test]
    fn numbers_keep_every_digit() {
        let item = ok(
            r#"{"userId":"u","eventType":"view","big":12345678901234567890,"exact":0.1000000000000000055511,"e":-1.5E+3,"neg":-0}"#,
        );
        let original = original(&item);
        assert_eq!(original[2].1, n("12345678901234567890"));
        assert_eq!(original[3].1, n("0.1000000000000000055511"));
        assert_eq!(original[4].1, n("-1.5E+3"));
        assert_eq!(original[5].1, n("-0"));
    }

    #[test]
    fn strings_are_unescaped_and_keys_may_be_unicode() {
        let item = ok(r#"{"userId":"\u00fcser \"1\"","eventType":"view","caf\u00e9":"ok"}"#);
        assert_eq!(item.partition_key(), "üser \"1\"");
        assert_eq!(original(&item)[2].0, "café");
    }

    #[test]
    fn every_rejection_names_what_was_wrong() {
        let cases: &[(&[u8], RejectionKind, &str)] = &[
            (b"\xff\xfe", RejectionKind::NotUtf8, "must be UTF-8"),
            (b"{\"userId\":\"\xc3\"}", RejectionKind::NotUtf8, "offset 11"),
            (b"", RejectionKind::InvalidJson, "must be JSON"),
            (b"{oops", RejectionKind::InvalidJson, "expected a string key at byte 1"),
            (b"{\"userId\":\"u\",}", RejectionKind::InvalidJson, "must be JSON"),
            (b"[1,2]", RejectionKind::NotAnObject, "must be a JSON object, got an array"),
            (b"\"text\"", RejectionKind::NotAnObject, "got \"text\""),
            (b"42", RejectionKind::NotAnObject, "got 42"),
            (b"null", RejectionKind::NotAnObject, "got null"),
            (br#"{"eventType":"view"}"#, RejectionKind::MissingField, "userId is missing"),
            (br#"{"userId":"u"}"#, RejectionKind::MissingField, "eventType is missing"),
            (
                br#"{"userId":42,"eventType":"view"}"#,
                RejectionKind::InvalidField,
                "userId must be a non-empty string, got 42",
            ),
            (
                br#"{"userId":"","eventType":"view"}"#,
                RejectionKind::InvalidField,
                "userId must be a non-empty string, got \"\"",
            ),
            (
                br#"{"userId":"u","eventType":["view"]}"#,
                RejectionKind::InvalidField,
                "eventType must be a non-empty string, got an array",
            ),
            (
                br#"{"userId":"u","eventType":"view","productId":7}"#,
                RejectionKind::InvalidField,
                "productId must be a non-empty string, got 7",
            ),
            (
                br#"{"userId":"u","eventType":"view","sessionId":{}}"#,
                RejectionKind::InvalidField,
                "sessionId must be a string, got an object",
            ),
            (
                br#"{"userId":"u","eventType":"view","eventId":""}"#,
                RejectionKind::InvalidField,
                "eventId must be a non-empty string",
            ),
            (
                br#"{"userId":"u","eventType":"view","timestamp":"yesterday"}"#,
                RejectionKind::InvalidTimestamp,
                "timestamp must be an integer of epoch milliseconds, got \"yesterday\"",
            ),
            (
                br#"{"userId":"u","eventType":"view","timestamp":1700000000000.5}"#,
                RejectionKind::InvalidTimestamp,
                "no sign, fraction or exponent",
            ),
            (
                br#"{"userId":"u","eventType":"view","timestamp":-5}"#,
                RejectionKind::InvalidTimestamp,
                "got -5",
            ),
            (
                br#"{"userId":"u","eventType":"view","timestamp":1700000000}"#,
                RejectionKind::InvalidTimestamp,
                "looks like epoch seconds",
            ),
            (
                br#"{"userId":"u","eventType":"view","timestamp":253402300800000}"#,
                RejectionKind::InvalidTimestamp,
                "9999",
            ),
            (
                br#"{"userId":"u","eventType":"view","x":1e200}"#,
                RejectionKind::InvalidField,
                "originalEvent.x must be a number DynamoDB can store",
            ),
            (
                br#"{"userId":"u","eventType":"view","a":[{"b":123456789012345678901234567890123456789}]}"#,
                RejectionKind::InvalidField,
                "originalEvent.a[0].b must be a number DynamoDB can store",
            ),
            (
                br#"{"userId":"u","eventType":"view","a":{"":1}}"#,
                RejectionKind::InvalidField,
                "originalEvent.a must not have an empty key",
            ),
        ];
        for (data, expected, fragment) in cases {
            let r = refused(data);
            assert_eq!(r.kind, *expected, "{}", String::from_utf8_lossy(data));
            assert!(
                r.message.contains(fragment),
                "{:?} lacks {fragment:?}",
                r.message
            );
        }
    }

    #[test]
    fn nesting_deeper_than_dynamodb_stores_is_an_invalid_field() {
        let nest = |levels: usize| {
            format!(
                r#"{{"userId":"u","eventType":"view","deep":{}1{}}}"#,
                "[".repeat(levels),
                "]".repeat(levels)
            )
        };
        assert!(process_record(nest(31).as_bytes(), &CTX).is_ok());
        let r = refused(nest(32).as_bytes());
        assert_eq!(r.kind, RejectionKind::InvalidField);
        assert!(r.message.contains("at most 32 levels"), "{}", r.message);
    }

    #[test]
    fn an_item_over_400_kb_is_refused() {
        let record = |blob: usize| {
            format!(
                r#"{{"userId":"u","eventType":"view","eventId":"e","blob":"{}"}}"#,
                "x".repeat(blob)
            )
        };
        let small = ok(&record(0));
        let room = MAX_ITEM_BYTES - small.size_bytes();
        let fits = ok(&record(room));
        assert_eq!(fits.size_bytes(), MAX_ITEM_BYTES);
        let r = refused(record(room + 1).as_bytes());
        assert_eq!(r.kind, RejectionKind::ItemTooLarge);
        assert!(
            r.message
                .contains(&format!("got {} bytes", MAX_ITEM_BYTES + 1)),
            "{}",
            r.message
        );
    }

    #[test]
    fn the_reported_size_is_the_items_size() {
        let item = ok(
            r#"{"userId":"u1","eventType":"view","productId":"p","n":[1,2.5,{"k":null}],"s":"é"}"#,
        );
        let by_hand: usize = item
            .attributes()
            .map(|(name, value)| name.len() + value.size_bytes())
            .sum();
        assert_eq!(item.size_bytes(), by_hand);
    }

    #[test]
    fn the_borrowed_item_is_the_same_item() {
        for json in [
            r#"{"userId":"u1","eventType":"purchase","productId":"p1","sessionId":"s1","timestamp":1700000000123,"price":59.99,"m":{"k":[1,"x",null]}}"#,
            r#"{"userId":"\u00fcser","eventType":"vi\"ew","productId":"p\n","caf\u00e9":"\t"}"#,
            r#"{"userId":"u","eventType":"view"}"#,
        ] {
            let owned = process_record(json.as_bytes(), &CTX).unwrap();
            let borrowed = process_record_ref(json.as_bytes(), &CTX).unwrap();
            assert_eq!(borrowed.to_item(), owned, "{json}");
            assert_eq!(borrowed.size_bytes(), owned.size_bytes());
            assert_eq!(
                (borrowed.partition_key(), borrowed.sort_key()),
                (owned.partition_key(), owned.sort_key())
            );
        }
        for data in [
            &b"{oops"[..],
            br#"{"userId":"u"}"#,
            br#"{"userId":"u","eventType":"v","timestamp":5}"#,
        ] {
            assert_eq!(
                process_record_ref(data, &CTX).unwrap_err(),
                process_record(data, &CTX).unwrap_err()
            );
        }
    }

    #[test]
    fn the_borrowed_item_copies_only_what_it_must() {
        use std::borrow::Cow;
        let json = r#"{"userId":"u1","eventType":"view","productId":"p\u0031","n":12.5}"#;
        let item = process_record_ref(json.as_bytes(), &CTX).unwrap();
        assert!(matches!(
            item.get("userId"),
            Some(AttrRef::S(Cow::Borrowed("u1")))
        ));
        assert!(matches!(
            item.get("eventType"),
            Some(AttrRef::S(Cow::Borrowed("view")))
        ));
        assert!(matches!(item.get("productId"), Some(AttrRef::S(Cow::Owned(p))) if p == "p1"));
        assert!(matches!(
            item.get("version"),
            Some(AttrRef::S(Cow::Borrowed("1.0")))
        ));
        let Some(AttrRef::M(original)) = item.get("originalEvent") else {
            panic!("originalEvent must be a map")
        };
        assert!(matches!(
            &original[3],
            (Cow::Borrowed("n"), AttrRef::N(Cow::Borrowed("12.5")))
        ));
    }

    #[test]
    fn an_odd_context_does_not_panic() {
        let ctx = RecordContext {
            event_id: "",
            arrival_ms: i64::MIN,
            processed_at_ms: i64::MAX,
        };
        let item = process_record(br#"{"userId":"u","eventType":"view"}"#, &ctx).unwrap();
        assert_eq!(
            item.get("processingLatency"),
            Some(&n(&i64::MAX.to_string()))
        );
    }
}
