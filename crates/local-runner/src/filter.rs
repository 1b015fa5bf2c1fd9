//! Lambda's event filtering for Kinesis records: the mapping's `FilterCriteria`, compiled
//! once when the runner starts, decides per record whether the function sees it.
//!
//! The semantics are Lambda's (which are EventBridge's event patterns):
//!
//! - a record passes when ANY filter matches it; with no filters every record passes;
//! - a filter matches when EVERY field it names matches; a field matches when ANY of its
//!   rules matches ANY of the record's values there (a field that is an array in the record
//!   offers each element; arrays of objects are walked through);
//! - `data` names the record's data, decoded as JSON. Data that is not a JSON object (not
//!   UTF-8 JSON, a bare string or number, or a KPL aggregate, whose bytes are protobuf)
//!   matches no filter that names `data`: Lambda drops such records, whatever the rules
//!   (even `exists: false`). A filter without `data` matches on the metadata alone;
//! - the other top-level names are the record's metadata: `partitionKey`, `sequenceNumber`,
//!   `approximateArrivalTimestamp` (epoch seconds), `kinesisSchemaVersion`, `eventID`,
//!   `eventName`, `eventSource`, `eventVersion`. (AWS's current documentation says Kinesis
//!   mappings filter on `data` only; earlier versions show metadata filters, so the runner
//!   keeps them.)
//!
//! Rules: exact values (string, number, boolean, `null`; strings compared character by
//! character, numbers by their JSON form, so `300` is not `300.0`), `prefix`, `suffix`
//! (each also with `equals-ignore-case` inside), `equals-ignore-case`, `numeric` with `=`,
//! `<`, `<=`, `>`, `>=` and a number (one or two pairs), `exists`, and `anything-but` with
//! a value, a list of values, or `prefix`, `suffix` or `equals-ignore-case`. Anything else
//! (EventBridge's `wildcard` and `cidr` included, which Lambda does not list) is refused
//! with an error naming the filter and the operator, before any record is read.

use serde_json::{json, Map, Value};

use kinesis_codec::record::StreamRecord;

/// The top-level name of a filter that matches the record's data.
const DATA: &str = "data";

/// A mapping's filters, compiled.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FilterCriteria {
    filters: Vec<Filter>,
}

/// Why a filter pattern cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("filter {number} of the mapping's FilterCriteria ({pattern}): {reason}")]
pub struct FilterError {
    /// Which filter, counting from 1.
    pub number: usize,
    /// Its pattern, as given.
    pub pattern: String,
    /// What is wrong with it.
    pub reason: String,
}

/// One filter: every condition must hold.
#[derive(Debug, Clone, PartialEq)]
struct Filter {
    conditions: Vec<Condition>,
}

/// The rules for the values at one path (`data` first for data fields).
#[derive(Debug, Clone, PartialEq)]
struct Condition {
    path: Vec<String>,
    rules: Vec<Rule>,
}

/// One element of a field's rule list.
#[derive(Debug, Clone, PartialEq)]
enum Rule {
    Equals(Value),
    EqualsIgnoreCase(String),
    Prefix(Text),
    Suffix(Text),
    Numeric(Vec<(Comparison, f64)>),
    Exists(bool),
    AnythingBut(Exclusion),
}

/// A prefix or suffix, compared exactly or ignoring case.
#[derive(Debug, Clone, PartialEq)]
struct Text {
    text: String,
    ignore_case: bool,
}

/// What `anything-but` excludes.
#[derive(Debug, Clone, PartialEq)]
enum Exclusion {
    Values(Vec<Value>),
    Prefix(String),
    Suffix(String),
    EqualsIgnoreCase(Vec<String>),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Comparison {
    Equal,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

impl FilterCriteria {
    /// Compiles the filters' patterns (each a JSON object as a string, as the Lambda API's
    /// `FilterCriteria.Filters[].Pattern` holds them).
    pub fn parse<S: AsRef<str>>(patterns: &[S]) -> Result<FilterCriteria, FilterError> {
        let filters = patterns
            .iter()
            .enumerate()
            .map(|(index, pattern)| {
                let pattern = pattern.as_ref();
                parse_filter(pattern).map_err(|reason| FilterError {
                    number: index + 1,
                    pattern: pattern.to_owned(),
                    reason,
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(FilterCriteria { filters })
    }

    /// How many filters there are; none lets every record through.
    pub fn len(&self) -> usize {
        self.filters.len()
    }

    /// Whether there are no filters.
    pub fn is_empty(&self) -> bool {
        self.filters.is_empty()
    }

    /// Whether Lambda would hand `record` to the function.
    pub fn admits(&self, record: &StreamRecord) -> bool {
        if self.filters.is_empty() {
            return true;
        }
        let metadata = metadata(record);
        let data = match serde_json::from_slice::<Value>(&record.data) {
            Ok(object @ Value::Object(_)) => Some(object),
            _ => None,
        };
        self.filters
            .iter()
            .any(|filter| filter.matches(&metadata, data.as_ref()))
    }

    /// Splits `records` into those the function sees, in order, and the number dropped.
    pub fn apply(&self, records: Vec<StreamRecord>) -> (Vec<StreamRecord>, usize) {
        let before = records.len();
        let kept: Vec<StreamRecord> = records.into_iter().filter(|r| self.admits(r)).collect();
        let dropped = before - kept.len();
        (kept, dropped)
    }
}

/// The record's metadata as filters see it: the fields of its `kinesis` object and of
/// the event record around it.
fn metadata(record: &StreamRecord) -> Value {
    json!({
        "kinesisSchemaVersion": "1.0",
        "partitionKey": record.partition_key,
        "sequenceNumber": record.sequence_number,
        "approximateArrivalTimestamp": record.arrival_ms as f64 / 1000.0,
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": format!("{}:{}", record.shard_id, record.sequence_number),
        "eventName": "aws:kinesis:record",
    })
}

impl Filter {
    fn matches(&self, metadata: &Value, data: Option<&Value>) -> bool {
        self.conditions.iter().all(|condition| {
            let (root, path) = match condition.path.split_first() {
                Some((first, rest)) if first == DATA => match data {
                    Some(data) => (data, rest),
                    None => return false,
                },
                _ => (metadata, &condition.path[..]),
            };
            let mut values = Vec::new();
            leaves(root, path, &mut values);
            condition.rules.iter().any(|rule| rule.admits(&values))
        })
    }
}

/// The leaf values (not objects) at `path` under `value`, walking through arrays.
fn leaves<'a>(value: &'a Value, path: &[String], out: &mut Vec<&'a Value>) {
    match value {
        Value::Array(items) => items.iter().for_each(|item| leaves(item, path, out)),
        Value::Object(fields) => {
            if let Some((first, rest)) = path.split_first() {
                if let Some(next) = fields.get(first) {
                    leaves(next, rest, out);
                }
            }
        }
        leaf if path.is_empty() => out.push(leaf),
        _ => {}
    }
}

impl Rule {
    fn admits(&self, values: &[&Value]) -> bool {
        match self {
            Rule::Exists(wanted) => values.is_empty() != *wanted,
            _ => values.iter().any(|value| self.admits_value(value)),
        }
    }

    fn admits_value(&self, value: &Value) -> bool {
        match self {
            Rule::Equals(expected) => expected == value,
            Rule::EqualsIgnoreCase(expected) => value
                .as_str()
                .is_some_and(|s| s.to_lowercase() == expected.to_lowercase()),
            Rule::Prefix(prefix) => value.as_str().is_some_and(|s| prefix.starts(s)),
            Rule::Suffix(suffix) => value.as_str().is_some_and(|s| suffix.ends(s)),
            Rule::Numeric(comparisons) => value.as_f64().is_some_and(|n| {
                comparisons
                    .iter()
                    .all(|(comparison, bound)| comparison.holds(n, *bound))
            }),
            Rule::Exists(_) => true,
            Rule::AnythingBut(exclusion) => exclusion.admits(value),
        }
    }
}

impl Text {
    fn starts(&self, s: &str) -> bool {
        if self.ignore_case {
            s.to_lowercase().starts_with(&self.text.to_lowercase())
        } else {
            s.starts_with(&self.text)
        }
    }

    fn ends(&self, s: &str) -> bool {
        if self.ignore_case {
            s.to_lowercase().ends_with(&self.text.to_lowercase())
        } else {
            s.ends_with(&self.text)
        }
    }
}

impl Exclusion {
    fn admits(&self, value: &Value) -> bool {
        match self {
            Exclusion::Values(excluded) => !excluded.contains(value),
            Exclusion::Prefix(prefix) => value.as_str().is_some_and(|s| !s.starts_with(prefix)),
            Exclusion::Suffix(suffix) => value.as_str().is_some_and(|s| !s.ends_with(suffix)),
            Exclusion::EqualsIgnoreCase(excluded) => value.as_str().is_some_and(|s| {
                let s = s.to_lowercase();
                excluded.iter().all(|e| e.to_lowercase() != s)
            }),
        }
    }
}

impl Comparison {
    fn holds(self, value: f64, bound: f64) -> bool {
        match self {
            Comparison::Equal => value == bound,
            Comparison::Less => value < bound,
            Comparison::LessOrEqual => value <= bound,
            Comparison::Greater => value > bound,
            Comparison::GreaterOrEqual => value >= bound,
        }
    }
}

fn parse_filter(pattern: &str) -> Result<Filter, String> {
    let value: Value =
        serde_json::from_str(pattern).map_err(|e| format!("the pattern is not JSON: {e}"))?;
    let Value::Object(fields) = value else {
        return Err(format!("the pattern must be a JSON object, got {value}"));
    };
    if let Some(data) = fields.get(DATA) {
        if !data.is_object() {
            return Err(format!(
                "`data` must be an object of the data's fields (the record's data is matched as JSON), got {data}"
            ));
        }
    }
    let mut conditions = Vec::new();
    collect(&fields, &mut Vec::new(), &mut conditions)?;
    Ok(Filter { conditions })
}

/// Turns a pattern object into one condition per leaf field.
fn collect(
    fields: &Map<String, Value>,
    path: &mut Vec<String>,
    out: &mut Vec<Condition>,
) -> Result<(), String> {
    for (name, value) in fields {
        path.push(name.clone());
        let field = path.join(".");
        match value {
            Value::Object(inner) if inner.is_empty() => {
                return Err(format!("field {field} has an empty object; give it rules"));
            }
            Value::Object(inner) => collect(inner, path, out)?,
            Value::Array(items) if items.is_empty() => {
                return Err(format!(
                    "field {field} has an empty list; give it at least one value or rule"
                ));
            }
            Value::Array(items) => {
                let rules = items
                    .iter()
                    .map(|item| rule(item, &field))
                    .collect::<Result<_, _>>()?;
                out.push(Condition {
                    path: path.clone(),
                    rules,
                });
            }
            other => {
                return Err(format!(
                    "field {field} must be a list of values or rules, or an object of fields, got {other} (write [{other}])"
                ));
            }
        }
        path.pop();
    }
    Ok(())
}

fn rule(item: &Value, field: &str) -> Result<Rule, String> {
    match item {
        Value::Object(operator) => operator_rule(operator, field),
        Value::Array(_) => Err(format!("field {field} has a list inside its list: {item}")),
        scalar => Ok(Rule::Equals(scalar.clone())),
    }
}

/// The operators Lambda's documentation lists, for messages.
const OPERATORS: &str = "prefix, suffix, equals-ignore-case, numeric, exists, anything-but";

fn operator_rule(operator: &Map<String, Value>, field: &str) -> Result<Rule, String> {
    let mut entries = operator.iter();
    let (Some((name, argument)), None) = (entries.next(), entries.next()) else {
        return Err(format!(
            "field {field}: a rule object must have exactly one operator ({OPERATORS}), got {}",
            Value::Object(operator.clone())
        ));
    };
    let bad = |what: &str| {
        Err(format!(
            "field {field}: {name} takes {what}, got {argument}"
        ))
    };
    match name.as_str() {
        "prefix" | "suffix" => {
            let text = match argument {
                Value::String(s) => Text {
                    text: s.clone(),
                    ignore_case: false,
                },
                Value::Object(inner) => match ignore_case_text(inner) {
                    Some(s) => Text {
                        text: s,
                        ignore_case: true,
                    },
                    None => return bad("a string or {\"equals-ignore-case\": STRING}"),
                },
                _ => return bad("a string or {\"equals-ignore-case\": STRING}"),
            };
            Ok(if name == "prefix" {
                Rule::Prefix(text)
            } else {
                Rule::Suffix(text)
            })
        }
        "equals-ignore-case" => match argument {
            Value::String(s) => Ok(Rule::EqualsIgnoreCase(s.clone())),
            _ => bad("a string"),
        },
        "exists" => match argument {
            Value::Bool(wanted) => Ok(Rule::Exists(*wanted)),
            _ => bad("true or false"),
        },
        "numeric" => numeric(argument).map(Rule::Numeric).map_err(|what| {
            format!("field {field}: numeric takes {what}, got {argument}")
        }),
        "anything-but" => exclusion(argument).map(Rule::AnythingBut).map_err(|what| {
            format!("field {field}: anything-but takes {what}, got {argument}")
        }),
        "wildcard" | "cidr" => Err(format!(
            "field {field}: operator {name} is EventBridge's, not one Lambda event filtering supports ({OPERATORS})"
        )),
        _ => Err(format!(
            "field {field}: unknown operator {name:?}; Lambda event filtering supports {OPERATORS}"
        )),
    }
}

/// `{"equals-ignore-case": "text"}`'s text.
fn ignore_case_text(inner: &Map<String, Value>) -> Option<String> {
    match (inner.len(), inner.get("equals-ignore-case")) {
        (1, Some(Value::String(s))) => Some(s.clone()),
        _ => None,
    }
}

fn numeric(argument: &Value) -> Result<Vec<(Comparison, f64)>, &'static str> {
    const WHAT: &str = "one or two pairs of a comparison (=, <, <=, >, >=) and a number";
    let Value::Array(items) = argument else {
        return Err(WHAT);
    };
    if items.is_empty() || items.len() % 2 != 0 || items.len() > 4 {
        return Err(WHAT);
    }
    items
        .chunks(2)
        .map(|pair| {
            let comparison = match pair[0].as_str() {
                Some("=") => Comparison::Equal,
                Some("<") => Comparison::Less,
                Some("<=") => Comparison::LessOrEqual,
                Some(">") => Comparison::Greater,
                Some(">=") => Comparison::GreaterOrEqual,
                _ => return Err(WHAT),
            };
            let bound = pair[1].as_f64().ok_or(WHAT)?;
            Ok((comparison, bound))
        })
        .collect()
}

fn exclusion(argument: &Value) -> Result<Exclusion, &'static str> {
    const WHAT: &str = "a value, a list of values, or {\"prefix\"|\"suffix\": STRING} or {\"equals-ignore-case\": STRING or [STRING, ...]}";
    match argument {
        Value::Array(items) if items.is_empty() => Err(WHAT),
        Value::Array(items) => {
            if items.iter().any(|i| i.is_array() || i.is_object()) {
                return Err(WHAT);
            }
            Ok(Exclusion::Values(items.clone()))
        }
        Value::Object(inner) => {
            let mut entries = inner.iter();
            let (Some((name, value)), None) = (entries.next(), entries.next()) else {
                return Err(WHAT);
            };
            match (name.as_str(), value) {
                ("prefix", Value::String(s)) => Ok(Exclusion::Prefix(s.clone())),
                ("suffix", Value::String(s)) => Ok(Exclusion::Suffix(s.clone())),
                ("equals-ignore-case", Value::String(s)) => {
                    Ok(Exclusion::EqualsIgnoreCase(vec![s.clone()]))
                }
                ("equals-ignore-case", Value::Array(items)) if !items.is_empty() => items
                    .iter()
                    .map(|i| i.as_str().map(str::to_owned).ok_or(WHAT))
                    .collect::<Result<_, _>>()
                    .map(Exclusion::EqualsIgnoreCase),
                _ => Err(WHAT),
            }
        }
        scalar => Ok(Exclusion::Values(vec![scalar.clone()])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(data: &str) -> StreamRecord {
        StreamRecord {
            shard_id: "shardId-000000000001".into(),
            sequence_number: "4960".into(),
            partition_key: "user-7".into(),
            data: data.as_bytes().to_vec(),
            arrival_ms: 1_764_000_000_250,
        }
    }

    fn criteria(patterns: &[&str]) -> FilterCriteria {
        FilterCriteria::parse(patterns).unwrap()
    }

    /// Whether one pattern admits each of `data`, in order.
    fn verdicts(pattern: &str, data: &[&str]) -> Vec<bool> {
        let criteria = criteria(&[pattern]);
        data.iter().map(|d| criteria.admits(&record(d))).collect()
    }

    fn error(pattern: &str) -> String {
        FilterCriteria::parse(&[pattern]).unwrap_err().to_string()
    }

    #[test]
    fn no_filters_admit_everything() {
        let none = criteria(&[]);
        assert!(none.is_empty());
        assert!(none.admits(&record("not json")));
    }

    #[test]
    fn exact_strings_match_character_by_character() {
        assert_eq!(
            verdicts(
                r#"{"data": {"eventType": ["purchase"]}}"#,
                &[
                    r#"{"eventType": "purchase"}"#,
                    r#"{"eventType": "Purchase"}"#,
                    r#"{"eventType": "purchases"}"#,
                    r#"{"other": "purchase"}"#,
                ]
            ),
            [true, false, false, false]
        );
    }

    #[test]
    fn a_list_of_values_is_an_or() {
        assert_eq!(
            verdicts(
                r#"{"data": {"eventType": ["purchase", "add_to_cart"]}}"#,
                &[
                    r#"{"eventType": "add_to_cart"}"#,
                    r#"{"eventType": "purchase"}"#,
                    r#"{"eventType": "page_view"}"#,
                ]
            ),
            [true, true, false]
        );
    }

    #[test]
    fn exact_numbers_compare_by_their_json_form() {
        assert_eq!(
            verdicts(
                r#"{"data": {"n": [300]}}"#,
                &[r#"{"n": 300}"#, r#"{"n": 300.0}"#, r#"{"n": "300"}"#],
            ),
            [true, false, false]
        );
    }

    #[test]
    fn null_matches_only_a_null_value() {
        assert_eq!(
            verdicts(
                r#"{"data": {"sessionId": [null]}}"#,
                &[r#"{"sessionId": null}"#, r#"{"sessionId": "s"}"#, r#"{}"#],
            ),
            [true, false, false]
        );
    }

    #[test]
    fn booleans_and_empty_strings_match_exactly() {
        assert_eq!(
            verdicts(
                r#"{"data": {"flag": [true], "name": [""]}}"#,
                &[
                    r#"{"flag": true, "name": ""}"#,
                    r#"{"flag": false, "name": ""}"#,
                    r#"{"flag": true, "name": "x"}"#,
                ],
            ),
            [true, false, false]
        );
    }

    #[test]
    fn every_field_of_a_filter_must_match() {
        assert_eq!(
            verdicts(
                r#"{"data": {"eventType": ["purchase"], "productId": ["p-1"]}}"#,
                &[
                    r#"{"eventType": "purchase", "productId": "p-1"}"#,
                    r#"{"eventType": "purchase", "productId": "p-2"}"#,
                    r#"{"eventType": "purchase"}"#,
                ],
            ),
            [true, false, false]
        );
    }

    #[test]
    fn any_filter_admits_the_record() {
        let criteria = criteria(&[
            r#"{"data": {"eventType": ["purchase"]}}"#,
            r#"{"data": {"eventScore": [{"numeric": [">=", 90]}]}}"#,
        ]);
        let admitted: Vec<bool> = [
            r#"{"eventType": "purchase", "eventScore": 1}"#,
            r#"{"eventType": "page_view", "eventScore": 95}"#,
            r#"{"eventType": "page_view", "eventScore": 50}"#,
        ]
        .iter()
        .map(|d| criteria.admits(&record(d)))
        .collect();
        assert_eq!(admitted, [true, true, false]);
        assert_eq!(criteria.len(), 2);
    }

    #[test]
    fn prefix_and_suffix_match_strings_only() {
        assert_eq!(
            verdicts(
                r#"{"data": {"productId": [{"prefix": "sku-"}]}}"#,
                &[
                    r#"{"productId": "sku-12"}"#,
                    r#"{"productId": "SKU-12"}"#,
                    r#"{"productId": 5}"#
                ],
            ),
            [true, false, false]
        );
        assert_eq!(
            verdicts(
                r#"{"data": {"file": [{"suffix": ".png"}]}}"#,
                &[r#"{"file": "a.png"}"#, r#"{"file": "a.png.gz"}"#],
            ),
            [true, false]
        );
    }

    #[test]
    fn prefix_suffix_and_equals_can_ignore_case() {
        assert_eq!(
            verdicts(
                r#"{"data": {"p": [{"prefix": {"equals-ignore-case": "SKU-"}}]}}"#,
                &[r#"{"p": "sku-1"}"#, r#"{"p": "ksu-1"}"#],
            ),
            [true, false]
        );
        assert_eq!(
            verdicts(
                r#"{"data": {"p": [{"suffix": {"equals-ignore-case": ".PNG"}}]}}"#,
                &[r#"{"p": "a.png"}"#, r#"{"p": "a.jpg"}"#],
            ),
            [true, false]
        );
        assert_eq!(
            verdicts(
                r#"{"data": {"eventType": [{"equals-ignore-case": "PURCHASE"}]}}"#,
                &[
                    r#"{"eventType": "Purchase"}"#,
                    r#"{"eventType": "purchased"}"#
                ],
            ),
            [true, false]
        );
    }

    #[test]
    fn numeric_ranges_compare_numbers_only() {
        let pattern = r#"{"data": {"eventScore": [{"numeric": [">", 10, "<=", 20]}]}}"#;
        assert_eq!(
            verdicts(
                pattern,
                &[
                    r#"{"eventScore": 10}"#,
                    r#"{"eventScore": 10.5}"#,
                    r#"{"eventScore": 20}"#,
                    r#"{"eventScore": 21}"#,
                    r#"{"eventScore": "15"}"#,
                ],
            ),
            [false, true, true, false, false]
        );
        assert_eq!(
            verdicts(
                r#"{"data": {"n": [{"numeric": ["=", 3]}]}}"#,
                &[r#"{"n": 3}"#, r#"{"n": 3.0}"#, r#"{"n": 4}"#],
            ),
            [true, true, false]
        );
        assert_eq!(
            verdicts(
                r#"{"data": {"n": [{"numeric": ["<", 0]}]}}"#,
                &[r#"{"n": -1}"#, r#"{"n": 0}"#],
            ),
            [true, false]
        );
        assert_eq!(
            verdicts(
                r#"{"data": {"n": [{"numeric": [">=", 5]}]}}"#,
                &[r#"{"n": 5}"#, r#"{"n": 4.99}"#],
            ),
            [true, false]
        );
    }

    #[test]
    fn exists_asks_for_a_leaf_value() {
        let present = r#"{"data": {"productId": [{"exists": true}]}}"#;
        let absent = r#"{"data": {"productId": [{"exists": false}]}}"#;
        let data = [
            r#"{"productId": "p"}"#,
            r#"{"productId": null}"#,
            r#"{}"#,
            r#"{"productId": {"inner": 1}}"#,
        ];
        assert_eq!(verdicts(present, &data), [true, true, false, false]);
        assert_eq!(verdicts(absent, &data), [false, false, true, true]);
    }

    #[test]
    fn anything_but_excludes_values() {
        assert_eq!(
            verdicts(
                r#"{"data": {"eventType": [{"anything-but": "page_view"}]}}"#,
                &[
                    r#"{"eventType": "purchase"}"#,
                    r#"{"eventType": "page_view"}"#,
                    r#"{}"#
                ],
            ),
            [true, false, false]
        );
        assert_eq!(
            verdicts(
                r#"{"data": {"eventType": [{"anything-but": ["page_view", "search"]}]}}"#,
                &[r#"{"eventType": "search"}"#, r#"{"eventType": "purchase"}"#],
            ),
            [false, true]
        );
        assert_eq!(
            verdicts(
                r#"{"data": {"n": [{"anything-but": [1, 2]}]}}"#,
                &[r#"{"n": 2}"#, r#"{"n": 3}"#, r#"{"n": "2"}"#],
            ),
            [false, true, true]
        );
    }

    #[test]
    fn anything_but_takes_prefix_suffix_and_ignore_case() {
        assert_eq!(
            verdicts(
                r#"{"data": {"p": [{"anything-but": {"prefix": "test-"}}]}}"#,
                &[r#"{"p": "test-1"}"#, r#"{"p": "prod-1"}"#, r#"{"p": 1}"#],
            ),
            [false, true, false]
        );
        assert_eq!(
            verdicts(
                r#"{"data": {"p": [{"anything-but": {"suffix": ".tmp"}}]}}"#,
                &[r#"{"p": "a.tmp"}"#, r#"{"p": "a.txt"}"#],
            ),
            [false, true]
        );
        assert_eq!(
            verdicts(
                r#"{"data": {"p": [{"anything-but": {"equals-ignore-case": ["A", "b"]}}]}}"#,
                &[r#"{"p": "a"}"#, r#"{"p": "B"}"#, r#"{"p": "c"}"#],
            ),
            [false, false, true]
        );
    }

    #[test]
    fn nested_objects_match_nested_fields() {
        assert_eq!(
            verdicts(
                r#"{"data": {"order": {"type": ["buy"], "qty": [{"numeric": [">", 0]}]}}}"#,
                &[
                    r#"{"order": {"type": "buy", "qty": 3}}"#,
                    r#"{"order": {"type": "sell", "qty": 3}}"#,
                    r#"{"order": "buy"}"#,
                    r#"{"type": "buy", "qty": 3}"#,
                ],
            ),
            [true, false, false, false]
        );
    }

    #[test]
    fn array_fields_match_when_any_element_does() {
        assert_eq!(
            verdicts(
                r#"{"data": {"tags": ["sale"]}}"#,
                &[
                    r#"{"tags": ["new", "sale"]}"#,
                    r#"{"tags": ["new"]}"#,
                    r#"{"tags": []}"#
                ],
            ),
            [true, false, false]
        );
        assert_eq!(
            verdicts(
                r#"{"data": {"items": {"sku": [{"prefix": "A"}]}}}"#,
                &[
                    r#"{"items": [{"sku": "B1"}, {"sku": "A2"}]}"#,
                    r#"{"items": [{"sku": "B1"}]}"#,
                ],
            ),
            [true, false]
        );
        assert_eq!(
            verdicts(
                r#"{"data": {"tags": [{"exists": false}]}}"#,
                &[r#"{"tags": []}"#, r#"{"tags": ["x"]}"#],
            ),
            [true, false]
        );
    }

    #[test]
    fn data_that_is_not_a_json_object_matches_no_data_filter() {
        let patterns = [
            r#"{"data": {"eventType": ["purchase"]}}"#,
            r#"{"data": {"eventType": [{"exists": false}]}}"#,
            r#"{"data": {"eventType": [{"anything-but": "x"}]}}"#,
        ];
        let aggregate =
            kinesis_codec::kpl::aggregate(&[("u", &br#"{"eventType":"purchase"}"#[..])]);
        for pattern in patterns {
            let criteria = criteria(&[pattern]);
            for data in ["not json", "\"purchase\"", "42", "[1]", ""] {
                assert!(
                    !criteria.admits(&record(data)),
                    "{pattern} admitted {data:?}"
                );
            }
            let mut kpl = record("");
            kpl.data = aggregate.clone();
            assert!(!criteria.admits(&kpl), "{pattern} admitted a KPL aggregate");
        }
        let invalid_utf8 = StreamRecord {
            data: vec![0xff, 0xfe, b'{'],
            ..record("")
        };
        assert!(!criteria(&patterns[..1]).admits(&invalid_utf8));
    }

    #[test]
    fn metadata_filters_need_no_json_data() {
        assert_eq!(
            verdicts(
                r#"{"partitionKey": [{"prefix": "user-"}]}"#,
                &["not json", r#"{"a": 1}"#],
            ),
            [true, true]
        );
        assert_eq!(verdicts(r#"{"partitionKey": ["user-8"]}"#, &["x"]), [false]);
        assert_eq!(
            verdicts(
                r#"{"approximateArrivalTimestamp": [{"numeric": [">=", 1764000000.25]}], "eventID": [{"suffix": ":4960"}]}"#,
                &["x"],
            ),
            [true]
        );
        assert_eq!(
            verdicts(
                r#"{"partitionKey": ["user-7"], "data": {"a": [1]}}"#,
                &[r#"{"a": 1}"#, r#"{"a": 2}"#, "x"],
            ),
            [true, false, false]
        );
    }

    #[test]
    fn apply_keeps_admitted_records_in_order_and_counts_the_rest() {
        let criteria = criteria(&[r#"{"data": {"k": [1, 3]}}"#]);
        let records: Vec<StreamRecord> = (0..5)
            .map(|i| {
                let mut r = record(&format!(r#"{{"k": {i}}}"#));
                r.sequence_number = i.to_string();
                r
            })
            .collect();
        let (kept, dropped) = criteria.apply(records);
        let kept: Vec<&str> = kept.iter().map(|r| r.sequence_number.as_str()).collect();
        assert_eq!((kept, dropped), (vec!["1", "3"], 3));
    }

    #[test]
    fn unknown_operators_are_refused_by_name() {
        let err = error(r#"{"data": {"a": [{"regex": "x.*"}]}}"#);
        assert_eq!(
            err,
            r#"filter 1 of the mapping's FilterCriteria ({"data": {"a": [{"regex": "x.*"}]}}): field data.a: unknown operator "regex"; Lambda event filtering supports prefix, suffix, equals-ignore-case, numeric, exists, anything-but"#
        );
        let err = error(r#"{"data": {"a": [{"wildcard": "x*"}]}}"#);
        assert!(err.contains("operator wildcard is EventBridge's"), "{err}");
        let err = FilterCriteria::parse(&[r#"{"a": ["x"]}"#, r#"{"b": [{"cidr": "10.0.0.0/8"}]}"#])
            .unwrap_err();
        assert_eq!(err.number, 2);
        assert!(err.reason.contains("field b: operator cidr"), "{err}");
    }

    #[test]
    fn malformed_patterns_are_refused_naming_what_is_wrong() {
        let cases = [
            ("{not json", "the pattern is not JSON"),
            (r#"["a"]"#, "the pattern must be a JSON object"),
            (r#"{"data": ["x"]}"#, "`data` must be an object"),
            (r#"{"data": {"a": "x"}}"#, "field data.a must be a list"),
            (r#"{"data": {"a": []}}"#, "field data.a has an empty list"),
            (r#"{"data": {"a": {}}}"#, "field data.a has an empty object"),
            (r#"{"data": {"a": [["x"]]}}"#, "has a list inside its list"),
            (
                r#"{"data": {"a": [{"prefix": "x", "suffix": "y"}]}}"#,
                "exactly one operator",
            ),
            (
                r#"{"data": {"a": [{"prefix": 1}]}}"#,
                "prefix takes a string",
            ),
            (
                r#"{"data": {"a": [{"numeric": [">", "ten"]}]}}"#,
                "numeric takes one or two pairs",
            ),
            (
                r#"{"data": {"a": [{"numeric": [">"]}]}}"#,
                "numeric takes one or two pairs",
            ),
            (
                r#"{"data": {"a": [{"numeric": ["!=", 1]}]}}"#,
                "numeric takes one or two pairs",
            ),
            (
                r#"{"data": {"a": [{"exists": "yes"}]}}"#,
                "exists takes true or false",
            ),
            (
                r#"{"data": {"a": [{"anything-but": []}]}}"#,
                "anything-but takes",
            ),
            (
                r#"{"data": {"a": [{"anything-but": {"numeric": [">", 1]}}]}}"#,
                "anything-but takes",
            ),
            (
                r#"{"data": {"a": [{"equals-ignore-case": 3}]}}"#,
                "equals-ignore-case takes a string",
            ),
        ];
        for (pattern, expected) in cases {
            let err = error(pattern);
            assert!(
                err.starts_with("filter 1 of the mapping's FilterCriteria"),
                "{err}"
            );
            assert!(err.contains(expected), "{pattern}: {err}");
        }
    }
}
