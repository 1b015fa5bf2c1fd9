//! The aggregate table's items between the AWS SDK's `AttributeValue` and the SDK-free
//! `events::AttrValue` the `aggregates` crate reads and writes.
//!
//! An aggregate item holds only strings, numbers and maps of them; the other DynamoDB types
//! (binary, sets) are refused by name rather than guessed at, so a damaged item is an error
//! naming its part key, not a figure silently read as 0.

use std::borrow::Cow;
use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use events::AttrValue;

/// An item as the SDK returns it.
pub type SdkItem = HashMap<String, AttributeValue>;

/// `value` as an [`AttrValue`]; `Err` names the DynamoDB type that has no equivalent.
pub fn from_sdk(value: &AttributeValue) -> Result<AttrValue<'static>, &'static str> {
    Ok(match value {
        AttributeValue::S(s) => AttrValue::S(Cow::Owned(s.clone())),
        AttributeValue::N(n) => AttrValue::N(Cow::Owned(n.clone())),
        AttributeValue::Bool(b) => AttrValue::Bool(*b),
        AttributeValue::Null(_) => AttrValue::Null,
        AttributeValue::M(map) => AttrValue::M(
            map.iter()
                .map(|(k, v)| Ok::<_, &'static str>((Cow::Owned(k.clone()), from_sdk(v)?)))
                .collect::<Result<_, _>>()?,
        ),
        AttributeValue::L(list) => {
            AttrValue::L(list.iter().map(from_sdk).collect::<Result<_, _>>()?)
        }
        AttributeValue::B(_) => return Err("binary (B)"),
        AttributeValue::Ss(_) => return Err("a string set (SS)"),
        AttributeValue::Ns(_) => return Err("a number set (NS)"),
        AttributeValue::Bs(_) => return Err("a binary set (BS)"),
        _ => return Err("an unknown type"),
    })
}

/// `value` as the SDK's `AttributeValue`.
pub fn to_sdk(value: &AttrValue<'_>) -> AttributeValue {
    match value {
        AttrValue::S(s) => AttributeValue::S(s.to_string()),
        AttrValue::N(n) => AttributeValue::N(n.to_string()),
        AttrValue::Bool(b) => AttributeValue::Bool(*b),
        AttrValue::Null => AttributeValue::Null(true),
        AttrValue::M(entries) => AttributeValue::M(
            entries
                .iter()
                .map(|(k, v)| (k.to_string(), to_sdk(v)))
                .collect(),
        ),
        AttrValue::L(values) => AttributeValue::L(values.iter().map(to_sdk).collect()),
    }
}

/// A whole SDK item as attribute values; `Err` names the attribute and its type.
pub fn item_from_sdk(item: &SdkItem) -> Result<HashMap<String, AttrValue<'static>>, String> {
    item.iter()
        .map(|(name, value)| {
            from_sdk(value)
                .map(|v| (name.clone(), v))
                .map_err(|kind| format!("{name} is {kind}, which an aggregate item never holds"))
        })
        .collect()
}

/// An item's attributes (as [`aggregates::AggregateItem::attributes`] lists them) as an SDK
/// item.
pub fn item_to_sdk(attributes: &[(&str, AttrValue<'_>)]) -> SdkItem {
    attributes
        .iter()
        .map(|(name, value)| ((*name).to_owned(), to_sdk(value)))
        .collect()
}

/// The string attribute `name` of an SDK item.
pub fn text<'a>(item: &'a SdkItem, name: &str) -> Option<&'a str> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aggregates::{AggregateItem, EventFacts, Figures, Source};
    use aws_sdk_dynamodb::primitives::Blob;

    fn item() -> AggregateItem {
        let mut figures = Figures::default();
        figures.add(&EventFacts {
            timestamp_ms: 1_765_139_460_000,
            event_type: "purchase",
            user_id: "u1",
            product_id: Some("p1"),
            price: Some("19.99"),
            quantity: Some("3"),
        });
        figures.add_dead_lettered(2);
        AggregateItem {
            minute_ms: 1_765_139_460_000,
            source: Source::Window {
                shard_id: "shardId-000000000000".into(),
                window_start_ms: 1_765_139_400_000,
                first_sequence: "4959".into(),
            },
            figures,
            written_at_ms: 1_765_139_580_000,
            expires_at: Some(1_767_731_460),
        }
    }

    #[test]
    fn an_item_survives_the_trip_through_the_sdk() {
        let original = item();
        let sdk = item_to_sdk(&original.attributes());
        assert_eq!(text(&sdk, "part"), Some(original.part().as_str()));
        assert_eq!(sdk["revenueCents"], AttributeValue::N("5997".into()));
        let back = AggregateItem::from_attributes(&item_from_sdk(&sdk).unwrap()).unwrap();
        assert_eq!(back, original);
    }

    #[test]
    fn every_value_kind_converts_both_ways() {
        let value = AttrValue::M(vec![
            (Cow::Borrowed("s"), AttrValue::S("x".into())),
            (Cow::Borrowed("n"), AttrValue::N("12.50".into())),
            (Cow::Borrowed("b"), AttrValue::Bool(true)),
            (Cow::Borrowed("z"), AttrValue::Null),
            (
                Cow::Borrowed("l"),
                AttrValue::L(vec![AttrValue::N("1".into())]),
            ),
        ]);
        let sdk = to_sdk(&value);
        let AttributeValue::M(map) = &sdk else {
            panic!("a map")
        };
        assert_eq!(map["n"], AttributeValue::N("12.50".into()), "digits kept");
        assert_eq!(map["z"], AttributeValue::Null(true));
        let AttrValue::M(mut back) = from_sdk(&sdk).unwrap() else {
            panic!("a map")
        };
        back.sort_by(|a, b| a.0.cmp(&b.0));
        let AttrValue::M(mut expected) = value else {
            unreachable!()
        };
        expected.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(back, expected);
    }

    #[test]
    fn types_an_aggregate_item_never_holds_are_named() {
        assert_eq!(
            from_sdk(&AttributeValue::Ss(vec!["a".into()])),
            Err("a string set (SS)")
        );
        let bad = HashMap::from([("users".to_owned(), AttributeValue::B(Blob::new(vec![1u8])))]);
        assert_eq!(
            item_from_sdk(&bad).unwrap_err(),
            "users is binary (B), which an aggregate item never holds"
        );
    }
}
