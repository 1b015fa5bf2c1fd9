//! Global secondary indexes a DynamoDB table change adds, removes or rebuilds.
//!
//! A table's `GlobalSecondaryIndexes` is not create-only, so the table itself is updated in
//! place; but an index is not. CloudFormation updates an existing index only in its
//! throughput and contributor insights: a new key schema or projection means the index is
//! deleted and built again from the table, and queries on it fail until the new one has
//! been backfilled. CloudFormation also adds or deletes at most one index per stack update
//! (the AWS::DynamoDB::Table reference, `GlobalSecondaryIndexes`), so a change touching
//! more than one index, or rebuilding one, has to be deployed in steps. A reviewer sees that
//! here rather than in a failed deployment.
//!
//! All of that is about a table updated in place. A table that is replaced (a create-only
//! property changed, such as its name) is created new, its indexes with it, so no index is
//! rebuilt and no rollout applies: [`settle`] decides which notes a change gets once its
//! replacement is known.
//!
//! An index keyed on a new attribute holds only the items that carry it: DynamoDB leaves an
//! item without the index's key attributes out of the index. For this pipeline's
//! write-sharded keys (`dynamodb_index_write_shards`), the processor writes them from the
//! deployment on, and the `backfill` tool gives them to the items stored before
//! (docs/backfill.md); the rollout names it.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{ChangeKind, Replacement};

/// The properties of an index that CloudFormation cannot update in place.
const REBUILT_BY: &[&str] = &["KeySchema", "Projection"];

/// One index of a table that is added, removed or rebuilt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexChange {
    /// The index's name (`IndexName`).
    pub index: String,
    /// Added, removed, or modified (= rebuilt: deleted and built again).
    pub kind: ChangeKind,
    /// For a rebuilt index, what changed: `KeySchema`, `Projection`, each with old → new
    /// in brief (`KeySchema HASH eventType → eventTypeShard`).
    pub because: Vec<String>,
}

impl IndexChange {
    /// Whether the index is deleted and built again under the same name.
    pub fn is_rebuild(&self) -> bool {
        self.kind == ChangeKind::Modified
    }

    /// Whether the index is rebuilt on another key: it then holds only the items that
    /// carry the new key's attributes.
    pub fn is_rekey(&self) -> bool {
        self.is_rebuild() && self.because.iter().any(|b| b.starts_with("KeySchema"))
    }

    /// The sentence a reviewer reads.
    pub fn note(&self) -> String {
        match self.kind {
            ChangeKind::Added => format!(
                "index {} is added: built from the table's items, it answers queries \
                 completely once backfilled",
                self.index
            ),
            ChangeKind::Removed => format!("index {} is removed", self.index),
            ChangeKind::Modified => format!(
                "index {} is rebuilt ({}): it is deleted and built again from the table, and \
                 queries on it fail until it is backfilled",
                self.index,
                self.because.join("; ")
            ),
        }
    }
}

/// The indexes a change of a resource of `type_name` adds, removes or rebuilds, in the new
/// template's order, then removed ones in the old's. Empty for anything but a DynamoDB
/// table, and for index changes CloudFormation makes in place (throughput).
pub fn changes(type_name: &str, before: &Value, after: &Value) -> Vec<IndexChange> {
    if type_name != "AWS::DynamoDB::Table" {
        return Vec::new();
    }
    let old = by_name(before);
    let new = by_name(after);
    let mut out = Vec::new();
    for (name, index) in &new {
        let Some(previous) = old.iter().find(|(n, _)| n == name).map(|(_, i)| i) else {
            out.push(simple(name, ChangeKind::Added));
            continue;
        };
        let because: Vec<String> = REBUILT_BY
            .iter()
            .filter(|property| previous.get(**property) != index.get(**property))
            .map(|property| describe(property, previous.get(*property), index.get(*property)))
            .collect();
        if !because.is_empty() {
            out.push(IndexChange {
                because,
                ..simple(name, ChangeKind::Modified)
            });
        }
    }
    for (name, _) in old.iter().filter(|(n, _)| !new.iter().any(|(m, _)| m == n)) {
        out.push(simple(name, ChangeKind::Removed));
    }
    out
}

/// The note for a change of several indexes or a rebuild: what CloudFormation refuses to
/// do in one update, and the steps that work, ending with `backfill` when an index gets a
/// new key. `None` when one deployment can do it.
pub fn steps_note(changes: &[IndexChange]) -> Option<String> {
    let operations: usize = changes
        .iter()
        .map(|c| if c.is_rebuild() { 2 } else { 1 })
        .sum();
    (operations > 1).then(|| {
        let mut note = format!(
            "CloudFormation adds or deletes one index per stack update and cannot change an \
             index's keys or projection in place, so this takes {operations} deployments: \
             first remove each index to rebuild (one per update), then add them back with \
             their new definition (one per update)"
        );
        if changes.iter().any(IndexChange::is_rekey) {
            note.push_str(BACKFILL_STEP);
        }
        note
    })
}

/// The rollout's last step when an index gets a new key.
const BACKFILL_STEP: &str = "; an index on a new key holds only the items that carry it, \
                             so after the last deployment run `backfill --stack-name STACK` \
                             to give the items stored before it their new keys \
                             (docs/backfill.md)";

/// The notes of a table whose indexes change as `changes` say, now that its `replacement`
/// is known (after replacements spread along references). Updated in place, or perhaps:
/// a note per index and the rollout ([`steps_note`]). Replaced: the new table is created
/// with its indexes, so none is rebuilt: `changes` is emptied (no index counts as
/// rebuilt) and one note says why there is no rollout.
pub fn settle(changes: &mut Vec<IndexChange>, replacement: Replacement) -> Vec<String> {
    if changes.is_empty() {
        return Vec::new();
    }
    if replacement == Replacement::Will {
        let names: Vec<&str> = changes.iter().map(|c| c.index.as_str()).collect();
        let note = format!(
            "the table is replaced, so its indexes ({}) are created with the new table: no \
             index is rebuilt and no index rollout applies",
            names.join(", ")
        );
        changes.clear();
        return vec![note];
    }
    let mut notes: Vec<String> = changes.iter().map(IndexChange::note).collect();
    notes.extend(steps_note(changes).map(|steps| match replacement {
        Replacement::May => format!("if the table is updated in place: {steps}"),
        _ => steps,
    }));
    notes
}

fn simple(name: &str, kind: ChangeKind) -> IndexChange {
    IndexChange {
        index: name.to_owned(),
        kind,
        because: Vec::new(),
    }
}

/// The table's indexes by name, in template order.
fn by_name(resource: &Value) -> Vec<(String, &Value)> {
    let list = resource
        .pointer("/Properties/GlobalSecondaryIndexes")
        .and_then(Value::as_array);
    list.into_iter()
        .flatten()
        .filter_map(|index| {
            let name = index.get("IndexName")?.as_str()?;
            Some((name.to_owned(), index))
        })
        .collect()
}

/// `KeySchema HASH eventType → eventTypeShard`, `Projection ALL → KEYS_ONLY`; anything
/// else as the property's name and "changes".
fn describe(property: &str, old: Option<&Value>, new: Option<&Value>) -> String {
    let brief = |value: Option<&Value>| -> Option<BTreeMap<String, String>> {
        match property {
            "KeySchema" => value?
                .as_array()?
                .iter()
                .map(|key| {
                    let kind = key.get("KeyType")?.as_str()?.to_owned();
                    let name = key.get("AttributeName")?.as_str()?.to_owned();
                    Some((kind, name))
                })
                .collect(),
            _ => {
                let kind = value?.get("ProjectionType")?.as_str()?.to_owned();
                Some(BTreeMap::from([(String::new(), kind)]))
            }
        }
    };
    let (Some(before), Some(after)) = (brief(old), brief(new)) else {
        return format!("{property} changes");
    };
    let mut parts = Vec::new();
    let missing = String::from("none");
    for key in before
        .keys()
        .chain(after.keys().filter(|k| !before.contains_key(*k)))
    {
        let (a, b) = (
            before.get(key).unwrap_or(&missing),
            after.get(key).unwrap_or(&missing),
        );
        if a != b {
            let label = if key.is_empty() {
                String::new()
            } else {
                format!("{key} ")
            };
            parts.push(format!("{label}{a} → {b}"));
        }
    }
    if parts.is_empty() {
        // Same keys and types, other details (e.g. NonKeyAttributes) changed.
        return format!("{property} changes");
    }
    format!("{property} {}", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn table(indexes: Value) -> Value {
        json!({"Type": "AWS::DynamoDB::Table", "Properties": {"GlobalSecondaryIndexes": indexes}})
    }

    fn index(name: &str, hash: &str, projection: &str, units: i64) -> Value {
        json!({"IndexName": name,
               "KeySchema": [{"AttributeName": hash, "KeyType": "HASH"},
                             {"AttributeName": "eventTimestamp", "KeyType": "RANGE"}],
               "Projection": {"ProjectionType": projection},
               "ProvisionedThroughput": {"ReadCapacityUnits": units, "WriteCapacityUnits": units}})
    }

    #[test]
    fn a_new_partition_key_rebuilds_the_index_and_takes_two_deployments() {
        let old = table(json!([index("EventTypeIndex", "eventType", "ALL", 5)]));
        let new = table(json!([index("EventTypeIndex", "eventTypeShard", "ALL", 5)]));
        let found = changes("AWS::DynamoDB::Table", &old, &new);
        assert_eq!(found.len(), 1);
        assert!(found[0].is_rebuild());
        assert_eq!(
            found[0].note(),
            "index EventTypeIndex is rebuilt (KeySchema HASH eventType → eventTypeShard): it is \
             deleted and built again from the table, and queries on it fail until it is \
             backfilled"
        );
        let steps = steps_note(&found).expect("a rebuild takes steps");
        assert!(steps.contains("takes 2 deployments"), "{steps}");
        assert!(
            steps.ends_with(
                "; an index on a new key holds only the items that carry it, so after the last \
                 deployment run `backfill --stack-name STACK` to give the items stored before \
                 it their new keys (docs/backfill.md)"
            ),
            "{steps}"
        );
    }

    #[test]
    fn a_new_projection_needs_no_backfill() {
        let old = table(json!([index("I", "a", "ALL", 5)]));
        let new = table(json!([index("I", "a", "KEYS_ONLY", 5)]));
        let found = changes("AWS::DynamoDB::Table", &old, &new);
        assert!(found[0].is_rebuild() && !found[0].is_rekey());
        let steps = steps_note(&found).unwrap();
        assert!(!steps.contains("backfill"), "{steps}");
    }

    #[test]
    fn the_rollout_is_for_a_table_updated_in_place_only() {
        let old = table(json!([
            index("EventTypeIndex", "eventType", "ALL", 5),
            index("ProductIndex", "productId", "ALL", 5)
        ]));
        let new = table(json!([
            index("EventTypeIndex", "eventTypeShard", "ALL", 5),
            index("ProductIndex", "productIdShard", "ALL", 5)
        ]));
        let found = changes("AWS::DynamoDB::Table", &old, &new);

        let mut in_place = found.clone();
        let notes = settle(&mut in_place, Replacement::None);
        assert_eq!(in_place, found);
        assert_eq!(notes.len(), 3, "{notes:?}");
        assert!(notes[0].starts_with("index EventTypeIndex is rebuilt"));
        assert!(notes[2].starts_with("CloudFormation adds or deletes one index"));
        assert!(notes[2].contains("takes 4 deployments") && notes[2].contains("`backfill"));

        let mut perhaps = found.clone();
        let notes = settle(&mut perhaps, Replacement::May);
        assert!(
            notes[2].starts_with("if the table is updated in place: CloudFormation adds"),
            "{notes:?}"
        );

        let mut replaced = found.clone();
        let notes = settle(&mut replaced, Replacement::Will);
        assert!(replaced.is_empty(), "a new table rebuilds no index");
        assert_eq!(
            notes,
            [
                "the table is replaced, so its indexes (EventTypeIndex, ProductIndex) are \
                 created with the new table: no index is rebuilt and no index rollout applies"
            ]
        );

        assert!(settle(&mut Vec::new(), Replacement::Will).is_empty());
    }

    #[test]
    fn a_new_projection_rebuilds_and_new_throughput_does_not() {
        let old = table(json!([index("I", "a", "ALL", 5)]));
        let projection = table(json!([index("I", "a", "KEYS_ONLY", 5)]));
        let found = changes("AWS::DynamoDB::Table", &old, &projection);
        assert_eq!(found[0].because, ["Projection ALL → KEYS_ONLY"]);
        let throughput = table(json!([index("I", "a", "ALL", 50)]));
        assert!(changes("AWS::DynamoDB::Table", &old, &throughput).is_empty());
    }

    #[test]
    fn added_and_removed_indexes_are_named_and_one_alone_needs_no_steps() {
        let old = table(json!([index("A", "a", "ALL", 5)]));
        let new = table(json!([
            index("A", "a", "ALL", 5),
            index("B", "b", "ALL", 5)
        ]));
        let added = changes("AWS::DynamoDB::Table", &old, &new);
        assert_eq!(added, [simple("B", ChangeKind::Added)]);
        assert_eq!(steps_note(&added), None);
        let removed = changes("AWS::DynamoDB::Table", &new, &table(json!([])));
        let kinds: Vec<(&str, ChangeKind)> =
            removed.iter().map(|c| (c.index.as_str(), c.kind)).collect();
        assert_eq!(
            kinds,
            [("A", ChangeKind::Removed), ("B", ChangeKind::Removed)]
        );
        assert!(steps_note(&removed)
            .unwrap()
            .contains("takes 2 deployments"));
    }

    #[test]
    fn other_types_have_no_indexes() {
        let queue = json!({"Type": "AWS::SQS::Queue"});
        assert!(changes("AWS::SQS::Queue", &queue, &queue).is_empty());
    }
}
