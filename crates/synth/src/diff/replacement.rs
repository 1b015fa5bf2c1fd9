//! Predicting replacement from the resource provider schemas' create-only properties, as
//! `cdk diff` does: changing one of them makes CloudFormation create a new resource and
//! delete the old one.
//!
//! A create-only property whose old and new values are both known offline and differ means
//! replacement. When either side is an intrinsic that only a stack can resolve (`!Ref` of a
//! parameter, `!Sub` with `${AWS::StackName}`), the resource *may* be replaced. And a
//! create-only property that references a resource being replaced changes at deploy time
//! even though its text does not (a mapping's `EventSourceArn` of a replaced stream), so
//! replacement spreads along such references.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::intrinsic::{references, resolve};
use super::values::Path;

/// How a change affects the resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Replacement {
    /// Updated in place.
    #[default]
    None,
    /// Replaced if the unresolvable value turns out different at deploy time.
    May,
    /// Replaced: a new resource is created and the old one deleted.
    Will,
}

/// Why a resource is (or may be) replaced: one create-only property.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    /// The create-only property, as the schema names it (`KeySchema`, `A/B`).
    pub property: String,
    /// Replaced or may be replaced.
    pub replacement: Replacement,
    /// Why, for the report: "changed", "references EventStream, which is replaced", ...
    pub why: String,
}

/// The create-only property paths of a resource type, from the generated schema facts.
/// `None` for types the model does not generate: their replacement cannot be predicted.
pub fn create_only(type_name: &str) -> Option<&'static [&'static str]> {
    cfn::resources::type_info(type_name).map(|info| info.create_only)
}

/// The values at a schema path below `Properties` (`A/B`, `A/*/B`); lists on the way are
/// walked into, so `KeySchema/AttributeName` finds every key's name.
fn values_at<'v>(properties: &'v Value, path: &str) -> Vec<&'v Value> {
    let mut current = vec![properties];
    for segment in path.split('/').filter(|s| !s.is_empty() && *s != "*") {
        let mut next = Vec::new();
        for value in current {
            collect_key(value, segment, &mut next);
        }
        current = next;
    }
    current
}

fn collect_key<'v>(value: &'v Value, key: &str, out: &mut Vec<&'v Value>) {
    match value {
        Value::Object(map) => out.extend(map.get(key)),
        Value::Array(items) => items.iter().for_each(|item| collect_key(item, key, out)),
        _ => {}
    }
}

/// Whether a changed path (below the resource, starting `Properties`) falls under a
/// create-only property path, or contains it.
pub fn path_matches(change: &Path, create_only: &str) -> bool {
    let mut keys = change.keys();
    if keys.next() != Some("Properties") {
        return false;
    }
    let schema = create_only
        .split('/')
        .filter(|s| !s.is_empty() && *s != "*");
    keys.zip(schema).all(|(a, b)| a == b)
}

/// The replacement reasons of one resource whose text changed (`old` and `new` are the
/// resource bodies, same type), before references to replaced resources are considered.
pub fn direct_reasons(type_name: &str, old: &Value, new: &Value) -> Vec<Reason> {
    let Some(paths) = create_only(type_name) else {
        return Vec::new();
    };
    let empty = Value::Object(Map::new());
    let old_props = old.get("Properties").unwrap_or(&empty);
    let new_props = new.get("Properties").unwrap_or(&empty);
    let mut reasons = Vec::new();
    for path in paths {
        let before = values_at(old_props, path);
        let after = values_at(new_props, path);
        if before == after {
            continue;
        }
        let known = |vs: &[&Value]| vs.iter().all(|v| resolve(v).is_some());
        let resolved = |vs: &[&Value]| vs.iter().map(|v| resolve(v)).collect::<Vec<_>>();
        let (replacement, why) = if known(&before) && known(&after) {
            if resolved(&before) == resolved(&after) {
                continue;
            }
            (Replacement::Will, "changed".to_owned())
        } else {
            (
                Replacement::May,
                "changed to or from a value only known at deploy time".to_owned(),
            )
        };
        reasons.push(Reason {
            property: (*path).to_owned(),
            replacement,
            why,
        });
    }
    reasons
}

/// Spreads replacement along references: a resource whose create-only property (unchanged
/// in text) references a replaced resource is replaced too; one referencing a resource that
/// may be replaced may be. `levels` holds every resource's current prediction and gains the
/// new ones; the returned map gives each newly affected resource its reasons.
pub fn spread(
    new_resources: &Map<String, Value>,
    levels: &mut BTreeMap<String, Replacement>,
) -> BTreeMap<String, Vec<Reason>> {
    let mut added: BTreeMap<String, Vec<Reason>> = BTreeMap::new();
    // Each pass can only raise a level, and there are two levels to raise to.
    for _ in 0..=2 * new_resources.len() {
        let mut changed = false;
        for (id, resource) in new_resources {
            let type_name = resource.get("Type").and_then(Value::as_str).unwrap_or("");
            let Some(paths) = create_only(type_name) else {
                continue;
            };
            let Some(properties) = resource.get("Properties") else {
                continue;
            };
            for path in paths {
                for target in values_at(properties, path).into_iter().flat_map(references) {
                    let target_level = levels.get(&target).copied().unwrap_or_default();
                    let current = levels.get(id).copied().unwrap_or_default();
                    if target_level == Replacement::None || target_level <= current {
                        continue;
                    }
                    levels.insert(id.clone(), target_level);
                    changed = true;
                    let verb = if target_level == Replacement::Will {
                        "is replaced"
                    } else {
                        "may be replaced"
                    };
                    added.entry(id.clone()).or_default().push(Reason {
                        property: (*path).to_owned(),
                        replacement: target_level,
                        why: format!("references {target}, which {verb}"),
                    });
                }
            }
        }
        if !changed {
            break;
        }
    }
    added
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn table(keys: Value) -> Value {
        json!({"Type": "AWS::DynamoDB::Table", "Properties": {"KeySchema": keys, "BillingMode": "PAY_PER_REQUEST"}})
    }

    #[test]
    fn a_changed_key_schema_replaces_the_table() {
        let old = table(json!([{"AttributeName": "a", "KeyType": "HASH"}]));
        let new = table(json!([{"AttributeName": "b", "KeyType": "HASH"}]));
        let reasons = direct_reasons("AWS::DynamoDB::Table", &old, &new);
        assert_eq!(reasons.len(), 1);
        assert_eq!(reasons[0].property, "KeySchema");
        assert_eq!(reasons[0].replacement, Replacement::Will);
    }

    #[test]
    fn an_unresolvable_new_name_may_replace() {
        let old = json!({"Properties": {"Name": "s"}});
        let new = json!({"Properties": {"Name": {"Ref": "StreamName"}}});
        let reasons = direct_reasons("AWS::Kinesis::Stream", &old, &new);
        assert_eq!(reasons[0].replacement, Replacement::May);
    }

    #[test]
    fn equal_resolved_values_do_not_replace() {
        let old = json!({"Properties": {"Name": "a-b"}});
        let new = json!({"Properties": {"Name": {"Fn::Join": ["-", ["a", "b"]]}}});
        assert!(direct_reasons("AWS::Kinesis::Stream", &old, &new).is_empty());
    }

    #[test]
    fn other_properties_update_in_place() {
        let old = json!({"Properties": {"Name": "s", "ShardCount": 1}});
        let new = json!({"Properties": {"Name": "s", "ShardCount": 3}});
        assert!(direct_reasons("AWS::Kinesis::Stream", &old, &new).is_empty());
    }

    #[test]
    fn paths_match_create_only_properties_at_any_depth() {
        use super::super::values::Segment::{Index, Key};
        let path = Path(vec![
            Key("Properties".into()),
            Key("KeySchema".into()),
            Index(0),
            Key("AttributeName".into()),
        ]);
        assert!(path_matches(&path, "KeySchema"));
        assert!(!path_matches(&path, "TableName"));
        let shallow = Path(vec![
            Key("Properties".into()),
            Key("StreamModeDetails".into()),
        ]);
        assert!(path_matches(&shallow, "StreamModeDetails/StreamMode"));
        assert!(!path_matches(
            &Path(vec![Key("Metadata".into())]),
            "KeySchema"
        ));
    }

    #[test]
    fn replacement_spreads_through_create_only_references() {
        let resources = json!({
            "Stream": {"Type": "AWS::Kinesis::Stream", "Properties": {"Name": "s"}},
            "Mapping": {"Type": "AWS::Lambda::EventSourceMapping",
                        "Properties": {"EventSourceArn": {"Fn::GetAtt": ["Stream", "Arn"]}, "FunctionName": "f"}},
            "Role": {"Type": "AWS::IAM::Role", "Properties": {"Description": {"Fn::GetAtt": ["Stream", "Arn"]}}},
        });
        let mut levels = BTreeMap::from([("Stream".to_owned(), Replacement::Will)]);
        let added = spread(resources.as_object().unwrap(), &mut levels);
        assert_eq!(levels.get("Mapping"), Some(&Replacement::Will));
        assert_eq!(added["Mapping"][0].property, "EventSourceArn");
        assert!(added["Mapping"][0].why.contains("Stream"));
        // The role's reference is not create-only: updated in place.
        assert!(!added.contains_key("Role"));
    }
}
