//! The pure path: one record's bytes to a validated, enriched item, or the reason it is
//! rejected. Never panics; every refusal is a [`Rejection`] naming the field, the rule and
//! the value.
//!
//! It runs once per record at stream speed, so it parses once (straight into the item's
//! storage, measuring size and storability on the way), looks the known fields up in one
//! pass, and writes what the item adds after the record's text: an item costs two
//! allocations, not one per string.

use crate::attr::mantissa_size;
use crate::enrich;
use crate::item::{
    expires_at, write_event_key, write_integer, write_key, Item, ITEM_ATTRIBUTES, MAX_ITEM_BYTES,
};
use crate::json;
use crate::rejection::{Rejection, RejectionKind};
use crate::tape::{AttrRef, Node, Span, Tape};
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
/// in the `validate` module's docs. The item has the keys of docs/design.md, "Table items" (`userId`,
/// `eventKey`), the recipe's enrichment and the whole event as `originalEvent`.
pub fn process_record(data: &[u8], ctx: &RecordContext) -> Result<Item, Rejection> {
    process_record_with_ttl(data, ctx, 0)
}

/// [`process_record`], with the item's `expiresAt` (N, epoch seconds) =
/// floor(event timestamp ms / 1000) + `ttl_days` × 86400 when `ttl_days` is not 0
/// (the table's TTL attribute; `ITEM_TTL_DAYS` of the function's environment).
pub fn process_record_with_ttl(
    data: &[u8],
    ctx: &RecordContext,
    ttl_days: u32,
) -> Result<Item, Rejection> {
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
    let (mut tape, read) = read(text)?;
    let fields = Fields::of(&tape, read)?;
    let present = add_attributes(&mut tape, &fields, (ctx, ttl_days), text);
    // The event's size as the reader added it up (a repeated key's replaced value stays
    // counted: the total only errs high), plus what the item adds.
    let size = added_size(&tape, present) + "originalEvent".len() + read.size_bytes;
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
    Ok(Item::new(tape, present))
}

/// The record's JSON document, read onto a tape whose first nodes are kept for the item's
/// own attributes (all but `originalEvent`, which is the document).
fn read(text: &str) -> Result<(Tape, json::Read), Rejection> {
    // Room for what the item adds to the text (keys, insight, times): about 200 bytes
    // besides the ids it repeats. Values take about a node per ten bytes of an event.
    let mut tape = Tape {
        text: String::with_capacity(text.len() + 256),
        nodes: Vec::with_capacity(ITEM_ATTRIBUTES.len() + text.len() / 10),
    };
    tape.nodes.resize(ITEM_ATTRIBUTES.len() - 1, Node::Null);
    let read = json::read_into(text, &mut tape).map_err(|e| {
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
    debug_assert_eq!(read.root, ITEM_ATTRIBUTES.len() - 1);
    Ok((tape, read))
}

/// The validated fields, as places in the tape (so the tape can grow while they are used).
struct Fields {
    user_id: Span,
    event_type: Span,
    product_id: Option<Span>,
    session_id: Option<Span>,
    event_id: Option<Span>,
    /// The timestamp and its digits as the record wrote them.
    timestamp: Option<(i64, Span)>,
}

impl Fields {
    /// The fields of the document `read` onto `tape`, if it is an event the rules accept
    /// and DynamoDB can store.
    fn of(tape: &Tape, read: json::Read) -> Result<Fields, Rejection> {
        let document = tape.view(read.root);
        let AttrRef::M(event) = document else {
            return Err(Rejection::new(
                RejectionKind::NotAnObject,
                format!("record must be a JSON object, got {}", describe(document)),
            ));
        };
        let fields = validate::fields(event)?;
        if !read.storable {
            return Err(validate::unstorable(document));
        }
        let span = |text: &str| tape.span_of(text);
        Ok(Fields {
            user_id: span(fields.user_id),
            event_type: span(fields.event_type),
            product_id: fields.product_id.map(span),
            session_id: fields.session_id.map(span),
            event_id: fields.event_id.map(span),
            timestamp: fields.timestamp.zip(fields.timestamp_text.map(span)),
        })
    }
}

/// Writes the item's own attributes into the tape's first nodes, their text onto the end
/// of its text; which of [`ITEM_ATTRIBUTES`] the item has (a bit each).
fn add_attributes(
    tape: &mut Tape,
    fields: &Fields,
    (ctx, ttl_days): (&RecordContext, u32),
    record: &str,
) -> u16 {
    let text = |span| tape.verbatim(record, span);
    let user_id = text(fields.user_id);
    let event_type = text(fields.event_type);
    let product_id = fields.product_id.map(text);
    let event_id = fields.event_id.map(text);
    let event_id = event_id.as_deref().unwrap_or(ctx.event_id);
    let timestamp = fields.timestamp.map_or(ctx.arrival_ms, |(ms, _)| ms);
    let score = enrich::score(&event_type);

    let key = tape.append(|out| match fields.timestamp {
        Some((_, digits)) => write_key(out, &record[digits.range()], event_id),
        None => write_event_key(out, timestamp, event_id),
    });
    let event_timestamp = match fields.timestamp {
        Some((_, digits)) => digits,
        None => tape.append(|out| write_integer(out, timestamp)),
    };
    let score_text = tape.append(|out| write_integer(out, i64::from(score)));
    let level = tape.append(|out| out.push_str(enrich::engagement_level(score)));
    let insight =
        tape.append(|out| enrich::write_insight(out, &user_id, &event_type, product_id.as_deref()));
    let processed_at = tape.append(|out| write_integer(out, ctx.processed_at_ms));
    let latency =
        tape.append(|out| write_integer(out, ctx.processed_at_ms.saturating_sub(timestamp)));
    let version = tape.append(|out| out.push_str(ENRICHMENT_VERSION));
    let expires = (ttl_days > 0)
        .then(|| tape.append(|out| write_integer(out, expires_at(timestamp, ttl_days))));

    let nodes = [
        Some(Node::S(fields.user_id)),
        Some(Node::S(key)),
        Some(Node::N(event_timestamp)),
        Some(Node::S(fields.event_type)),
        fields.product_id.map(Node::S),
        fields.session_id.map(Node::S),
        Some(Node::N(score_text)),
        Some(Node::S(level)),
        Some(Node::S(insight)),
        Some(Node::N(processed_at)),
        Some(Node::N(latency)),
        Some(Node::S(version)),
        expires.map(Node::N),
    ];
    let mut present = 1 << (ITEM_ATTRIBUTES.len() - 1); // originalEvent
    for (i, node) in nodes.into_iter().enumerate() {
        if let Some(node) = node {
            tape.nodes[i] = node;
            present |= 1 << i;
        }
    }
    present
}

/// The DynamoDB size of the attributes [`add_attributes`] wrote (names included), from
/// their lengths: their strings count their length, and their numbers are integers.
fn added_size(tape: &Tape, present: u16) -> usize {
    let nodes = tape
        .nodes
        .iter()
        .zip(ITEM_ATTRIBUTES)
        .take(ITEM_ATTRIBUTES.len() - 1);
    nodes
        .enumerate()
        .filter(|(i, _)| present & (1 << i) != 0)
        .map(|(_, (node, name))| {
            name.len()
                + match *node {
                    Node::S(text) => text.len as usize,
                    Node::N(digits) => integer_size(tape.str(digits)),
                    _ => 0,
                }
        })
        .sum()
}

/// The DynamoDB size of an integer's text (digits after an optional `-`), from its length.
fn integer_size(text: &str) -> usize {
    let negative = text.starts_with('-');
    mantissa_size(text.len() - usize::from(negative), negative)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AttrValue;
    use std::borrow::Cow;

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

    fn s(value: &str) -> AttrValue<'static> {
        AttrValue::S(value.to_owned().into())
    }

    fn n(value: &str) -> AttrValue<'static> {
        AttrValue::N(value.to_owned().into())
    }

    /// An attribute as a value (maps and lists built, strings borrowed from the item).
    fn value<'i>(item: &'i Item, name: &str) -> Option<AttrValue<'i>> {
        item.get(name).map(|v| v.to_value())
    }

    fn original(item: &Item) -> Vec<(Cow<'_, str>, AttrValue<'_>)> {
        match value(item, "originalEvent") {
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
        let got: Vec<(&str, AttrValue)> = item
            .attributes()
            .map(|(name, value)| (name, value.to_value()))
            .collect();
        assert_eq!(got.len(), expected.len() + 1);
        for ((name, value), (want_name, want)) in got.iter().zip(&expected) {
            assert_eq!((*name, value), (*want_name, want));
        }
        assert_eq!(item.partition_key(), "u1");
        assert_eq!(item.sort_key(), format!("1700000000123#{}", CTX.event_id));
        let original = original(&item);
        let names: Vec<&str> = original.iter().map(|(k, _)| &**k).collect();
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
            assert_eq!(value(&item, "eventScore"), Some(n(score)));
            assert_eq!(value(&item, "engagementLevel"), Some(s(level)));
            assert_eq!(
                value(&item, "insight"),
                Some(s(&format!("User u {verb} product p")))
            );
        }
    }

    #[test]
    fn absent_optional_fields_are_absent_attributes() {
        let item = ok(r#"{"userId":"u1","eventType":"view"}"#);
        assert_eq!(value(&item, "productId"), None);
        assert_eq!(value(&item, "sessionId"), None);
        assert_eq!(
            value(&item, "insight"),
            Some(s("User u1 viewed product unknown"))
        );
        assert_eq!(item.attributes().count(), 11);
    }

    #[test]
    fn expires_at_is_the_event_time_in_seconds_plus_the_ttl_days() {
        let json = br#"{"userId":"u1","eventType":"view","timestamp":1700000000999}"#;
        let item = process_record_with_ttl(json, &CTX, 30).expect("valid");
        // floor(1700000000999 / 1000) + 30 × 86400
        assert_eq!(value(&item, "expiresAt"), Some(n("1702592000")));
        let without = process_record(json, &CTX).expect("valid");
        assert_eq!(value(&without, "expiresAt"), None);
        assert_eq!(item.attributes().count(), without.attributes().count() + 1);
        assert_eq!(
            item.size_bytes(),
            without.size_bytes() + "expiresAt".len() + n("1702592000").size_bytes()
        );
        // No timestamp: the arrival time, as for eventKey.
        let late = br#"{"userId":"u1","eventType":"view"}"#;
        let item = process_record_with_ttl(late, &CTX, 1).expect("valid");
        assert_eq!(value(&item, "expiresAt"), Some(n("1700086400")));
    }

    #[test]
    fn the_events_own_id_wins_and_a_missing_timestamp_uses_the_arrival_time() {
        let item = ok(r#"{"userId":"u1","eventType":"view","eventId":"e-7"}"#);
        assert_eq!(item.sort_key(), "1700000000500#e-7");
        assert_eq!(value(&item, "eventTimestamp"), Some(n("1700000000500")));
        assert_eq!(value(&item, "processingLatency"), Some(n("500")));
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
    fn the_item_outlives_the_record() {
        for json in [
            r#"{"userId":"u1","eventType":"purchase","productId":"p1","sessionId":"s1","timestamp":1700000000123,"price":59.99,"m":{"k":[1,"x",null]}}"#,
            r#"{"userId":"\u00fcser","eventType":"vi\"ew","productId":"p\n","caf\u00e9":"\t"}"#,
            r#"{"userId":"u","eventType":"view"}"#,
        ] {
            let record = json.as_bytes().to_vec();
            let item = process_record(&record, &CTX).unwrap();
            let expected = format!("{item:?}");
            let size = item.size_bytes();
            let keys = (item.partition_key().to_owned(), item.sort_key().to_owned());
            drop(record);
            let clone = item.clone();
            drop(item);
            assert_eq!(format!("{clone:?}"), expected, "{json}");
            assert_eq!(clone.size_bytes(), size);
            assert_eq!(
                (clone.partition_key(), clone.sort_key()),
                (&*keys.0, &*keys.1)
            );
            let before: Vec<String> = clone
                .attributes()
                .map(|(name, value)| format!("{name}={value:?}"))
                .collect();
            let detached: Vec<String> = clone
                .into_attributes()
                .iter()
                .map(|(name, value)| format!("{name}={value:?}"))
                .collect();
            assert_eq!(detached, before);
        }
    }

    #[test]
    fn the_item_keeps_the_record_and_adds_only_what_it_makes() {
        let json = r#"{"userId":"u1","eventType":"view","productId":"p\u0031","n":12.5}"#;
        let item = process_record(json.as_bytes(), &CTX).unwrap();
        let text = item.text();
        assert!(text.starts_with(json));
        let at = |s: &str| s.as_ptr() as usize - text.as_ptr() as usize;
        let Some(AttrRef::S(user)) = item.get("userId") else {
            panic!("userId is a string")
        };
        assert_eq!((user, at(user)), ("u1", json.find("u1").unwrap()));
        let Some(AttrRef::S(product)) = item.get("productId") else {
            panic!("productId is a string")
        };
        assert_eq!(product, "p1");
        assert!(at(product) >= json.len(), "an unescaped string is made");
        let Some(AttrRef::M(original)) = item.get("originalEvent") else {
            panic!("originalEvent is a map")
        };
        let Some(AttrRef::N(n)) = original.get("n") else {
            panic!("n is a number")
        };
        assert_eq!((n, at(n)), ("12.5", json.find("12.5").unwrap()));
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
            value(&item, "processingLatency"),
            Some(n(&i64::MAX.to_string()))
        );
    }
}
