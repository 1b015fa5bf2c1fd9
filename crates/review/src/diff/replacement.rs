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
//!
//! A replaced event source mapping's reason also says how `make deploy` does it
//! (docs/mapping-replacement.md): CloudFormation creates a replacement before it deletes the
//! old resource, and Lambda refuses a second mapping of the same source and function, so a
//! mapping that keeps its stream is removed in one stack update and created in a second;
//! one of another source (an enhanced fan-out consumer for the stream, a replaced stream) is
//! created beside the old one. Either way the new mapping starts where the old one was
//! reading, less a margin, not at its configured starting position.

use std::collections::{BTreeMap, BTreeSet, HashMap};

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

/// The event source mapping's type.
const MAPPING_TYPE: &str = "AWS::Lambda::EventSourceMapping";

/// How make deploy replaces a mapping that keeps its event source.
const SAME_SOURCE_STEPS: &str = "Lambda refuses a second mapping of the same stream and \
    function, so as one update this fails; make deploy removes the mapping, then creates it \
    AT_TIMESTAMP where the old one was reading, less a margin, in two stack updates \
    (docs/mapping-replacement.md)";

/// How make deploy replaces a mapping of another event source.
const OTHER_SOURCE_STEPS: &str = "Lambda allows a mapping of another source beside the old \
    one, so CloudFormation creates the new mapping before deleting the old; make deploy starts \
    it AT_TIMESTAMP where the old one was reading, less a margin, so nothing is skipped \
    (docs/mapping-replacement.md)";

/// What a mapping's replacement reason adds on how make deploy does it: another source when
/// its `EventSourceArn` is replaced for sure, or names another resource or attribute than
/// before (a consumer's ARN for the stream's); the same source otherwise. `None` for other
/// types and properties.
fn mapping_steps(
    type_name: &str,
    property: &str,
    level: Replacement,
    names_another: bool,
) -> Option<&'static str> {
    if type_name != MAPPING_TYPE {
        return None;
    }
    match property {
        "EventSourceArn" if level == Replacement::Will || names_another => Some(OTHER_SOURCE_STEPS),
        "EventSourceArn" | "StartingPosition" | "StartingPositionTimestamp" => {
            Some(SAME_SOURCE_STEPS)
        }
        _ => None,
    }
}

/// The resource and attribute a `Ref` or `Fn::GetAtt` names, as `(id, attribute)`.
fn named(value: &Value) -> Option<(String, String)> {
    if let Some(id) = value.get("Ref").and_then(Value::as_str) {
        return Some((id.to_owned(), String::new()));
    }
    match value.get("Fn::GetAtt")? {
        Value::Array(parts) => Some((
            parts.first()?.as_str()?.to_owned(),
            parts.get(1)?.as_str()?.to_owned(),
        )),
        Value::String(dotted) => dotted
            .split_once('.')
            .map(|(id, attribute)| (id.to_owned(), attribute.to_owned())),
        _ => None,
    }
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
        let names_another = match (before.as_slice(), after.as_slice()) {
            ([a], [b]) => named(a).zip(named(b)).is_some_and(|(a, b)| a != b),
            _ => false,
        };
        let why = match mapping_steps(type_name, path, replacement, names_another) {
            Some(steps) => format!("{why}; {steps}"),
            None => why,
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
///
/// Resources are visited in document order, pass after pass, until a pass raises nothing,
/// and a resource's reasons are the raises in the order they happened. A visit can only
/// raise a resource when one of its targets was raised since its previous visit, so only
/// those are visited again: each resource is read a bounded number of times, where visiting
/// all of them on every pass was quadratic in a long chain of references.
pub fn spread(
    new_resources: &Map<String, Value>,
    levels: &mut BTreeMap<String, Replacement>,
) -> BTreeMap<String, Vec<Reason>> {
    let nodes: Vec<Node> = new_resources
        .iter()
        .map(|(id, resource)| Node {
            id,
            type_name: resource.get("Type").and_then(Value::as_str).unwrap_or(""),
            edges: create_only_references(resource),
        })
        .collect();
    let mut dependents: HashMap<&str, Vec<usize>> = HashMap::new();
    for (index, node) in nodes.iter().enumerate() {
        for target in node.edges.iter().flat_map(|(_, targets)| targets) {
            dependents.entry(target.as_str()).or_default().push(index);
        }
    }
    let mut added: BTreeMap<String, Vec<Reason>> = BTreeMap::new();
    let mut this_pass: BTreeSet<usize> = (0..nodes.len()).collect();
    // Each pass that changes anything raises a level, and there are two levels to raise to.
    for _ in 0..=2 * nodes.len() {
        let mut next_pass = BTreeSet::new();
        let mut changed = false;
        while let Some(index) = this_pass.pop_first() {
            if !visit(&nodes[index], levels, &mut added) {
                continue;
            }
            changed = true;
            let raised = dependents.get(nodes[index].id.as_str());
            for &dependent in raised.into_iter().flatten() {
                // Later in document order: still to come in this pass.
                if dependent > index {
                    this_pass.insert(dependent);
                } else {
                    next_pass.insert(dependent);
                }
            }
        }
        if !changed {
            break;
        }
        this_pass = next_pass;
    }
    added
}

/// A resource and the logical IDs its create-only properties reference, per property.
struct Node<'a> {
    id: &'a String,
    type_name: &'a str,
    edges: Vec<(&'static str, Vec<String>)>,
}

fn create_only_references(resource: &Value) -> Vec<(&'static str, Vec<String>)> {
    let type_name = resource.get("Type").and_then(Value::as_str).unwrap_or("");
    let (Some(paths), Some(properties)) = (create_only(type_name), resource.get("Properties"))
    else {
        return Vec::new();
    };
    paths
        .iter()
        .map(|path| {
            let targets = values_at(properties, path)
                .into_iter()
                .flat_map(references)
                .collect();
            (*path, targets)
        })
        .collect()
}

/// Raises a resource to the level of each target above it, recording why; whether it rose.
fn visit(
    node: &Node,
    levels: &mut BTreeMap<String, Replacement>,
    added: &mut BTreeMap<String, Vec<Reason>>,
) -> bool {
    let mut raised = false;
    for (path, targets) in &node.edges {
        for target in targets {
            let target_level = levels.get(target).copied().unwrap_or_default();
            let current = levels.get(node.id).copied().unwrap_or_default();
            if target_level == Replacement::None || target_level <= current {
                continue;
            }
            levels.insert(node.id.clone(), target_level);
            raised = true;
            let verb = if target_level == Replacement::Will {
                "is replaced"
            } else {
                "may be replaced"
            };
            let mut why = format!("references {target}, which {verb}");
            if let Some(steps) = mapping_steps(node.type_name, path, target_level, false) {
                why = format!("{why}; {steps}");
            }
            added.entry(node.id.clone()).or_default().push(Reason {
                property: (*path).to_owned(),
                replacement: target_level,
                why,
            });
        }
    }
    raised
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// [`spread`] as it was first written: every resource visited on every pass, quadratic in
    /// the worst case. Kept to prove the worklist gives exactly its levels and reasons.
    fn spread_by_passes(
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

    /// A replaced mapping's reason says how make deploy does it: in two updates when it
    /// keeps its source, beside the old one when its source is another.
    #[test]
    fn a_replaced_mapping_says_how_make_deploy_replaces_it() {
        let mapping = |props: Value| json!({"Type": MAPPING_TYPE, "Properties": props});
        let stream = json!({"Fn::GetAtt": ["Stream", "Arn"]});
        let old = mapping(json!({"EventSourceArn": stream, "StartingPosition": "LATEST"}));
        let moved = mapping(json!({"EventSourceArn": stream, "StartingPosition": "TRIM_HORIZON"}));
        let reasons = direct_reasons(MAPPING_TYPE, &old, &moved);
        assert_eq!(reasons[0].property, "StartingPosition");
        assert_eq!(reasons[0].why, format!("changed; {SAME_SOURCE_STEPS}"));
        let consumer = mapping(
            json!({"EventSourceArn": {"Fn::GetAtt": ["Consumer", "ConsumerARN"]},
                                      "StartingPosition": "LATEST"}),
        );
        let reasons = direct_reasons(MAPPING_TYPE, &old, &consumer);
        assert_eq!(reasons[0].replacement, Replacement::May);
        assert!(
            reasons[0].why.ends_with(OTHER_SOURCE_STEPS),
            "{}",
            reasons[0].why
        );
        let resources = json!({"Stream": {"Type": "AWS::Kinesis::Stream", "Properties": {"Name": "s"}},
                               "M": old});
        let mut levels = BTreeMap::from([("Stream".to_owned(), Replacement::Will)]);
        let added = spread(resources.as_object().unwrap(), &mut levels);
        assert_eq!(
            added["M"][0].why,
            format!("references Stream, which is replaced; {OTHER_SOURCE_STEPS}")
        );
        let mut levels = BTreeMap::from([("Stream".to_owned(), Replacement::May)]);
        let added = spread(resources.as_object().unwrap(), &mut levels);
        assert!(added["M"][0].why.ends_with(SAME_SOURCE_STEPS));
        // Other types and properties say nothing more.
        let queue = |name: &str| json!({"Properties": {"QueueName": name}});
        let reasons = direct_reasons("AWS::SQS::Queue", &queue("a"), &queue("b"));
        assert_eq!(reasons[0].why, "changed");
    }

    #[test]
    fn a_long_chain_written_backwards_spreads_to_its_end() {
        // Each queue's name references the next one down, so every pass of the old
        // algorithm raised one queue; the worklist must give the same result.
        let n = 300;
        let resources: Map<String, Value> = (0..n)
            .rev()
            .map(|i| {
                let name = if i == 0 {
                    json!("first")
                } else {
                    json!({"Fn::GetAtt": [format!("Q{}", i - 1), "QueueName"]})
                };
                let queue = json!({"Type": "AWS::SQS::Queue", "Properties": {"QueueName": name}});
                (format!("Q{i}"), queue)
            })
            .collect();
        let start = BTreeMap::from([("Q0".to_owned(), Replacement::Will)]);
        let (mut levels, mut expected_levels) = (start.clone(), start);
        let added = spread(&resources, &mut levels);
        assert_eq!(added.len(), n - 1);
        assert!(levels.values().all(|level| *level == Replacement::Will));
        assert_eq!(added, spread_by_passes(&resources, &mut expected_levels));
        assert_eq!(levels, expected_levels);
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        const IDS: usize = 8;

        fn id() -> impl Strategy<Value = String> {
            (0..IDS).prop_map(|i| format!("R{i}"))
        }

        fn level() -> impl Strategy<Value = Replacement> {
            prop_oneof![
                Just(Replacement::None),
                Just(Replacement::May),
                Just(Replacement::Will)
            ]
        }

        /// A property value that references nothing, one resource, or two.
        fn value() -> impl Strategy<Value = Value> {
            prop_oneof![
                Just(json!("literal")),
                id().prop_map(|id| json!({"Ref": id})),
                id().prop_map(|id| json!({"Fn::GetAtt": [id, "Arn"]})),
                (id(), id())
                    .prop_map(|(a, b)| json!({"Fn::Join": ["-", [{"Ref": a}, {"Ref": b}]]})),
                (id(), id())
                    .prop_map(|(a, b)| json!({"Fn::Sub": format!("${{{a}}}-${{{b}.Arn}}")})),
            ]
        }

        /// Types with one, two, three and no create-only properties; every property a
        /// create-only one of some type.
        fn resource() -> impl Strategy<Value = Value> {
            let types = prop::sample::select(vec![
                "AWS::Kinesis::Stream",
                "AWS::SQS::Queue",
                "AWS::SNS::Subscription",
                "Custom::Thing",
            ]);
            let names = [
                "Name",
                "QueueName",
                "FifoQueue",
                "Endpoint",
                "Protocol",
                "TopicArn",
            ];
            (types, prop::collection::vec(value(), names.len())).prop_map(move |(t, values)| {
                let properties: Map<String, Value> = names
                    .iter()
                    .map(|name| name.to_string())
                    .zip(values)
                    .collect();
                json!({"Type": t, "Properties": properties})
            })
        }

        /// Resources `R0..Rn` in a shuffled document order (the order passes visit them).
        fn resources() -> impl Strategy<Value = Map<String, Value>> {
            prop::collection::vec(resource(), 1..IDS)
                .prop_flat_map(|bodies| {
                    let order: Vec<usize> = (0..bodies.len()).collect();
                    (Just(bodies), Just(order).prop_shuffle())
                })
                .prop_map(|(bodies, order)| {
                    order
                        .into_iter()
                        .map(|i| (format!("R{i}"), bodies[i].clone()))
                        .collect()
                })
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(512))]

            #[test]
            fn the_worklist_gives_what_every_pass_gave(
                resources in resources(),
                start in prop::collection::btree_map(id(), level(), 0..IDS),
            ) {
                let (mut levels, mut expected_levels) = (start.clone(), start);
                let added = spread(&resources, &mut levels);
                let expected = spread_by_passes(&resources, &mut expected_levels);
                prop_assert_eq!(added, expected);
                prop_assert_eq!(levels, expected_levels);
            }
        }
    }
}
