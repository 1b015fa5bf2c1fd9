//! No input makes the pure path panic, and the JSON reader agrees with serde_json on what is
//! JSON.

use events::{process_record, RecordContext};
use proptest::prelude::*;

const CTX: RecordContext<'static> = RecordContext {
    event_id: "shardId-0:1",
    arrival_ms: 1_700_000_000_000,
    processed_at_ms: 1_700_000_000_001,
};

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(serde_json::Value::from),
        ".{0,12}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
            proptest::collection::btree_map(".{0,6}", inner, 0..6)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn arbitrary_bytes_give_ok_or_a_rejection(data in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = process_record(&data, &CTX);
    }

    #[test]
    fn arbitrary_objects_never_panic(value in json_value(), user in ".{0,8}", kind in ".{0,8}") {
        let mut object = serde_json::Map::new();
        object.insert("userId".into(), user.into());
        object.insert("eventType".into(), kind.into());
        object.insert("payload".into(), value);
        let bytes = serde_json::to_vec(&object).unwrap();
        let _ = process_record(&bytes, &CTX);
    }

    #[test]
    fn the_reader_accepts_exactly_what_serde_json_accepts(text in "[\\[\\]{}\",:0-9a-z.eE+\\- \\\\]{0,24}") {
        let ours = events::json::parse(&text).is_ok();
        let theirs = serde_json::from_str::<serde_json::Value>(&text).is_ok();
        prop_assert_eq!(ours, theirs, "{:?}", text);
    }

    #[test]
    fn serialized_values_parse_back(value in json_value()) {
        let text = serde_json::to_string(&value).unwrap();
        prop_assert!(events::json::parse(&text).is_ok(), "{}", text);
    }
}
