//! The rules of the event source mapping's filters: `lambda_filter_event_types` and
//! `lambda_filter_patterns`.
//!
//! Lambda checks a filter pattern only when the mapping is created or updated, so a typo
//! would surface as a failed deployment, or worse, as a pattern that silently matches
//! nothing and drops every record. Patterns are therefore checked here against the grammar
//! Lambda documents for Kinesis event sources (Lambda developer guide, "Control which
//! events Lambda sends to your function"): a JSON object over the record's fields, whose
//! leaves are lists of values or comparison operators.

use serde_json::{Map, Value as Json};
use toml::Value;

use super::keys::{show, wrong_type, Failure};

/// The filters one event source mapping may have: Lambda's default quota.
pub const MAX_FILTERS: usize = 5;

/// Most event types `lambda_filter_event_types` lists; with [`MAX_EVENT_TYPE_CHARS`] each,
/// their pattern stays within Lambda's 4,096 characters.
pub const MAX_EVENT_TYPES: usize = 50;

/// Longest event type accepted.
pub const MAX_EVENT_TYPE_CHARS: usize = 64;

/// Longest pattern Lambda accepts (`Filter.Pattern`).
pub const MAX_PATTERN_CHARS: usize = 4096;

/// The fields of a Kinesis record a pattern may filter on: the event itself (`data`, when
/// it is a JSON object) and the record's metadata.
pub const RECORD_FIELDS: &[&str] = &[
    "data",
    "partitionKey",
    "sequenceNumber",
    "approximateArrivalTimestamp",
    "kinesisSchemaVersion",
];

/// The comparison operators of Lambda's filter grammar.
pub const OPERATORS: &[&str] = &[
    "prefix",
    "suffix",
    "equals-ignore-case",
    "anything-but",
    "numeric",
    "exists",
];

/// What `lambda_filter_patterns` accepts, for the reference and the errors.
pub const PATTERNS_ALLOWED: &str = "JSON objects as text: Lambda filter patterns on data \
     or the record's metadata, every leaf a list of values or operators";

/// Checks `lambda_filter_event_types`: distinct, non-empty, printable, short.
pub fn check_event_types(value: &Value, max: usize) -> Result<(), Failure> {
    let items = value
        .as_array()
        .ok_or_else(|| wrong_type("be a list of strings", value))?;
    if items.len() > max {
        let rule = format!("have at most {max} event types");
        return Err((rule, format!("{} event types", items.len())));
    }
    for (i, item) in items.iter().enumerate() {
        let fits = item.as_str().is_some_and(|text| {
            (1..=MAX_EVENT_TYPE_CHARS).contains(&text.chars().count())
                && !text.chars().any(char::is_control)
        });
        if !fits {
            let rule = format!(
                "contain only event types of 1 to {MAX_EVENT_TYPE_CHARS} printable characters"
            );
            return Err((rule, show(item)));
        }
        if items[..i].contains(item) {
            return Err(("not list an event type twice".to_string(), show(item)));
        }
    }
    Ok(())
}

/// Checks `lambda_filter_patterns`: each entry a valid pattern, none twice.
pub fn check_patterns(value: &Value) -> Result<(), Failure> {
    let items = value
        .as_array()
        .ok_or_else(|| wrong_type("be a list of strings", value))?;
    let mut seen: Vec<String> = Vec::new();
    for item in items {
        let Some(text) = item.as_str() else {
            return Err(("contain only strings (JSON text)".to_string(), show(item)));
        };
        let canonical = canonical_pattern(text).map_err(|reason| {
            (
                format!("contain only Lambda filter patterns ({reason})"),
                show_pattern(item),
            )
        })?;
        if seen.contains(&canonical) {
            return Err(("not list a pattern twice".to_string(), show_pattern(item)));
        }
        seen.push(canonical);
    }
    Ok(())
}

/// The pattern in the compact form the template carries, or why it is not a pattern.
pub fn canonical_pattern(text: &str) -> Result<String, String> {
    let parsed: Json = serde_json::from_str(text).map_err(|error| format!("not JSON: {error}"))?;
    let Json::Object(fields) = &parsed else {
        return Err("not a JSON object".to_string());
    };
    if fields.is_empty() {
        return Err("an empty object matches nothing useful".to_string());
    }
    for (field, value) in fields {
        if !RECORD_FIELDS.contains(&field.as_str()) {
            return Err(format!(
                "{field:?} is not a field of a Kinesis record; use {}",
                RECORD_FIELDS.join(", ")
            ));
        }
        match (field.as_str(), value) {
            ("data", Json::Object(inner)) => check_object(inner, "data")?,
            ("data", _) => {
                return Err("data must be an object of the event's fields".to_string());
            }
            (_, leaf) => check_leaf(leaf, field)?,
        }
    }
    let compact = parsed.to_string();
    if compact.chars().count() > MAX_PATTERN_CHARS {
        return Err(format!(
            "longer than Lambda's {MAX_PATTERN_CHARS} characters"
        ));
    }
    Ok(compact)
}

/// The pattern of `lambda_filter_event_types`: records whose data's eventType is one of them.
pub fn event_types_pattern(types: &[String]) -> String {
    serde_json::json!({ "data": { "eventType": types } }).to_string()
}

/// A nested object of a pattern: every value an object again, or a leaf.
fn check_object(fields: &Map<String, Json>, path: &str) -> Result<(), String> {
    if fields.is_empty() {
        return Err(format!("{path} is an empty object"));
    }
    for (name, value) in fields {
        let inner = format!("{path}.{name}");
        match value {
            Json::Object(nested) => check_object(nested, &inner)?,
            leaf => check_leaf(leaf, &inner)?,
        }
    }
    Ok(())
}

/// A leaf: a non-empty list of values (string, number, boolean, null) or operators.
fn check_leaf(leaf: &Json, path: &str) -> Result<(), String> {
    let Json::Array(items) = leaf else {
        return Err(format!("{path} must be a list, e.g. [{leaf}]"));
    };
    if items.is_empty() {
        return Err(format!("{path} is an empty list, which matches nothing"));
    }
    for item in items {
        match item {
            Json::Object(operator) => check_operator(operator, path)?,
            Json::Array(_) => return Err(format!("{path} holds a list inside its list")),
            _ => {}
        }
    }
    Ok(())
}

/// One operator object, e.g. `{"prefix": "add_"}`, `{"numeric": [">", 0, "<=", 5]}`.
fn check_operator(operator: &Map<String, Json>, path: &str) -> Result<(), String> {
    let mut entries = operator.iter();
    let (Some((name, argument)), None) = (entries.next(), entries.next()) else {
        return Err(format!("{path}: an operator object has exactly one key"));
    };
    let fits = match name.as_str() {
        "prefix" | "suffix" | "equals-ignore-case" => argument.is_string(),
        "exists" => argument.is_boolean(),
        "numeric" => numeric_ok(argument),
        "anything-but" => anything_but_ok(argument),
        _ => {
            return Err(format!(
                "{path}: unknown operator {name:?}; Lambda knows {}",
                OPERATORS.join(", ")
            ))
        }
    };
    if fits {
        Ok(())
    } else {
        Err(format!("{path}: {name} does not take {argument}"))
    }
}

/// `["=", 5]`, `[">", 0]`, or a range `[">", 0, "<=", 5]` whose lower bound is below its
/// upper one.
fn numeric_ok(argument: &Json) -> bool {
    let Some(parts) = argument.as_array() else {
        return false;
    };
    let pair = |i: usize, ops: &[&str]| -> Option<f64> {
        let op = parts.get(i)?.as_str()?;
        let number = parts.get(i + 1)?.as_f64()?;
        ops.contains(&op).then_some(number)
    };
    match parts.len() {
        2 => pair(0, &["=", "<", "<=", ">", ">="]).is_some(),
        4 => match (pair(0, &[">", ">="]), pair(2, &["<", "<="])) {
            (Some(low), Some(high)) => low < high,
            _ => false,
        },
        _ => false,
    }
}

/// A value, a non-empty list of strings or of numbers, or `{"prefix"|"suffix": "..."}`.
fn anything_but_ok(argument: &Json) -> bool {
    match argument {
        Json::String(_) | Json::Number(_) => true,
        Json::Array(items) => {
            !items.is_empty()
                && (items.iter().all(Json::is_string) || items.iter().all(Json::is_number))
        }
        Json::Object(inner) => {
            inner.len() == 1
                && inner
                    .iter()
                    .all(|(k, v)| matches!(k.as_str(), "prefix" | "suffix") && v.is_string())
        }
        _ => false,
    }
}

/// A pattern entry as the user wrote it, cut only when very long: the fault may be anywhere.
fn show_pattern(item: &Value) -> String {
    const LIMIT: usize = 300;
    let text = item.to_string();
    if text.chars().count() <= LIMIT {
        return text;
    }
    let cut: String = text.chars().take(LIMIT).collect();
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(text: &str) -> String {
        canonical_pattern(text).expect_err(text)
    }

    #[test]
    fn every_form_the_docs_describe_is_accepted_in_compact_form() {
        let cases = [
            (
                r#"{ "data": { "eventType": ["purchase", "add_to_cart"] } }"#,
                r#"{"data":{"eventType":["purchase","add_to_cart"]}}"#,
            ),
            (
                r#"{"data": {"productId": [{"prefix": "prod_1"}]}}"#,
                r#"{"data":{"productId":[{"prefix":"prod_1"}]}}"#,
            ),
            (
                r#"{"data": {"eventScore": [{"numeric": [">", 0, "<=", 50]}]}}"#,
                r#"{"data":{"eventScore":[{"numeric":[">",0,"<=",50]}]}}"#,
            ),
            (
                r#"{"data": {"sessionId": [{"exists": false}]}}"#,
                r#"{"data":{"sessionId":[{"exists":false}]}}"#,
            ),
            (
                r#"{"data": {"eventType": [{"anything-but": ["view", "share"]}]}}"#,
                r#"{"data":{"eventType":[{"anything-but":["view","share"]}]}}"#,
            ),
            (
                r#"{"partitionKey": ["user_1"], "data": {"a": {"b": [null, 1, true]}}}"#,
                r#"{"partitionKey":["user_1"],"data":{"a":{"b":[null,1,true]}}}"#,
            ),
        ];
        for (given, compact) in cases {
            assert_eq!(canonical_pattern(given).as_deref(), Ok(compact), "{given}");
        }
    }

    #[test]
    fn malformed_patterns_are_refused_saying_why() {
        assert!(refused("{data").starts_with("not JSON: "));
        assert_eq!(refused("[1]"), "not a JSON object");
        assert_eq!(refused("{}"), "an empty object matches nothing useful");
        assert_eq!(
            refused(r#"{"eventType": ["view"]}"#),
            "\"eventType\" is not a field of a Kinesis record; use data, partitionKey, \
             sequenceNumber, approximateArrivalTimestamp, kinesisSchemaVersion"
        );
        assert_eq!(
            refused(r#"{"data": ["view"]}"#),
            "data must be an object of the event's fields"
        );
        assert_eq!(
            refused(r#"{"data": {"eventType": "view"}}"#),
            "data.eventType must be a list, e.g. [\"view\"]"
        );
        assert_eq!(
            refused(r#"{"data": {"eventType": []}}"#),
            "data.eventType is an empty list, which matches nothing"
        );
        assert_eq!(
            refused(r#"{"data": {"n": [{"numeric": [">", 5, "<", 1]}]}}"#),
            "data.n: numeric does not take [\">\",5,\"<\",1]"
        );
        assert_eq!(
            refused(r#"{"data": {"n": [{"wildcard": "a*"}]}}"#),
            "data.n: unknown operator \"wildcard\"; Lambda knows prefix, suffix, \
             equals-ignore-case, anything-but, numeric, exists"
        );
        assert_eq!(
            refused(r#"{"data": {"n": [{"prefix": "a", "suffix": "b"}]}}"#),
            "data.n: an operator object has exactly one key"
        );
        let long = format!(r#"{{"data": {{"a": ["{}"]}}}}"#, "x".repeat(4100));
        assert_eq!(refused(&long), "longer than Lambda's 4096 characters");
    }

    #[test]
    fn the_event_types_pattern_lists_the_types_on_data() {
        let types = vec!["purchase".to_string(), "add_to_cart".to_string()];
        assert_eq!(
            event_types_pattern(&types),
            r#"{"data":{"eventType":["purchase","add_to_cart"]}}"#
        );
        // The most and longest event types accepted still fit one pattern.
        let most: Vec<String> = (0..MAX_EVENT_TYPES)
            .map(|i| format!("{i:0>width$}", width = MAX_EVENT_TYPE_CHARS))
            .collect();
        assert!(event_types_pattern(&most).len() <= MAX_PATTERN_CHARS);
    }
}
