//! How items are printed: one JSON object per line (`--format json`, for scripts and `jq`)
//! or a table for people (`--format text`).

use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use serde_json::{Map, Number, Value};

use crate::merge::{order_key, Item};
use crate::time;

/// The output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A table: time (UTC), event type, user, product, event key.
    Text,
    /// One JSON object per line: every attribute of the item.
    Json,
}

/// An item as a JSON object: strings stay strings, numbers become JSON numbers (as text
/// when they do not fit a 64-bit number), binary becomes base64, sets become arrays.
/// Attributes are in name order, so lines compare as text.
pub fn to_json(item: &Item) -> Value {
    let mut names: Vec<&String> = item.keys().collect();
    names.sort();
    let map: Map<String, Value> = names
        .into_iter()
        .map(|name| (name.clone(), value(&item[name])))
        .collect();
    Value::Object(map)
}

fn value(attribute: &AttributeValue) -> Value {
    let base64 = |b: &[u8]| Value::String(base64::engine::general_purpose::STANDARD.encode(b));
    match attribute {
        AttributeValue::S(s) => Value::String(s.clone()),
        AttributeValue::N(n) => number(n),
        AttributeValue::Bool(b) => Value::Bool(*b),
        AttributeValue::Null(_) => Value::Null,
        AttributeValue::B(b) => base64(b.as_ref()),
        AttributeValue::M(m) => {
            let mut names: Vec<&String> = m.keys().collect();
            names.sort();
            Value::Object(
                names
                    .into_iter()
                    .map(|k| (k.clone(), value(&m[k])))
                    .collect(),
            )
        }
        AttributeValue::L(l) => Value::Array(l.iter().map(value).collect()),
        AttributeValue::Ss(ss) => Value::Array(ss.iter().cloned().map(Value::String).collect()),
        AttributeValue::Ns(ns) => Value::Array(ns.iter().map(|n| number(n)).collect()),
        AttributeValue::Bs(bs) => Value::Array(bs.iter().map(|b| base64(b.as_ref())).collect()),
        _ => Value::Null,
    }
}

/// A DynamoDB number as JSON: an integer when it is one, else a float when it survives
/// the trip unchanged, else its text (DynamoDB keeps 38 digits, JSON readers 15–17).
fn number(text: &str) -> Value {
    if let Ok(n) = text.parse::<i64>() {
        return Value::Number(n.into());
    }
    match text.parse::<f64>().ok().and_then(Number::from_f64) {
        Some(n) if n.to_string() == text => Value::Number(n),
        _ => Value::String(text.to_owned()),
    }
}

/// The header line and one line per item of the text table, columns padded to the widest
/// value.
pub fn table(items: &[Item]) -> Vec<String> {
    let header = ["TIME (UTC)", "EVENT TYPE", "USER", "PRODUCT", "EVENT KEY"].map(str::to_owned);
    let rows: Vec<[String; 5]> = items
        .iter()
        .map(|item| {
            let text = |name: &str| {
                item.get(name)
                    .and_then(|v| v.as_s().ok())
                    .cloned()
                    .unwrap_or_else(|| "-".to_owned())
            };
            let (ms, _, _) = order_key(item);
            [
                time::format(ms),
                text("eventType"),
                text("userId"),
                text("productId"),
                text("eventKey"),
            ]
        })
        .collect();
    let mut widths = header.clone().map(|h| h.chars().count());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    std::iter::once(&header)
        .chain(&rows)
        .map(|row| {
            let cells: Vec<String> = row
                .iter()
                .zip(widths)
                .map(|(cell, width)| format!("{cell:<width$}"))
                .collect();
            cells.join("  ").trim_end().to_owned()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn item() -> Item {
        HashMap::from([
            ("userId".to_owned(), AttributeValue::S("user_1".into())),
            (
                "eventKey".to_owned(),
                AttributeValue::S("1764000000000#e1".into()),
            ),
            (
                "eventTimestamp".to_owned(),
                AttributeValue::N("1764000000000".into()),
            ),
            ("eventType".to_owned(), AttributeValue::S("purchase".into())),
            ("eventScore".to_owned(), AttributeValue::N("0.75".into())),
            (
                "originalEvent".to_owned(),
                AttributeValue::M(HashMap::from([
                    ("price".to_owned(), AttributeValue::N("59.990".into())),
                    (
                        "tags".to_owned(),
                        AttributeValue::L(vec![AttributeValue::Bool(true)]),
                    ),
                    ("none".to_owned(), AttributeValue::Null(true)),
                ])),
            ),
        ])
    }

    #[test]
    fn json_lines_keep_types_and_sort_names() {
        assert_eq!(
            to_json(&item()).to_string(),
            r#"{"eventKey":"1764000000000#e1","eventScore":0.75,"eventTimestamp":1764000000000,"eventType":"purchase","originalEvent":{"none":null,"price":"59.990","tags":[true]},"userId":"user_1"}"#
        );
    }

    #[test]
    fn the_table_aligns_columns_and_marks_missing_values() {
        assert_eq!(
            table(&[item()]),
            [
                "TIME (UTC)                EVENT TYPE  USER    PRODUCT  EVENT KEY",
                "2025-11-24T16:00:00.000Z  purchase    user_1  -        1764000000000#e1",
            ]
        );
        assert_eq!(table(&[]).len(), 1);
    }
}
