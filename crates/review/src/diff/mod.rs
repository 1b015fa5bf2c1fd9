//! What changes between two CloudFormation templates, for a reviewer (`synth diff`).
//!
//! Resources added, removed and modified with their property changes; whether a modified
//! resource is replaced (from the schemas' create-only properties, see [`replacement`]);
//! the IAM statements added and removed (see [`iam`]); and changes to parameters,
//! conditions, mappings, outputs and the template's other top-level keys. Rendering is in
//! [`text`] (terminal), [`markdown`] (pull request comments) and [`json`] (scripts).

pub mod iam;
pub mod indexes;
pub mod intrinsic;
pub mod json;
pub mod load;
pub mod markdown;
mod nesting;
pub mod replacement;
pub mod text;
pub mod traffic;
pub mod values;

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value};

pub use iam::{Statement, StatementChanges};
pub use indexes::IndexChange;
pub use load::{parse_template, read_template, LoadError};
pub use replacement::{Reason, Replacement};
pub use values::{Path, PropertyChange};

use crate::stateful::is_stateful;

/// Whether an entry was added, removed or modified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ChangeKind {
    /// Only in the new template.
    Added,
    /// Only in the old template.
    Removed,
    /// In both, different.
    Modified,
}

impl ChangeKind {
    /// `+`, `-` or `~`, as `cdk diff` marks them.
    pub fn marker(self) -> &'static str {
        match self {
            ChangeKind::Added => "+",
            ChangeKind::Removed => "-",
            ChangeKind::Modified => "~",
        }
    }
}

/// A parameter, condition, mapping or output that changed.
#[derive(Debug, Clone, PartialEq)]
pub struct EntryChange {
    /// Its name.
    pub name: String,
    /// Added, removed or modified.
    pub kind: ChangeKind,
    /// For a modified entry, what changed inside it.
    pub changes: Vec<PropertyChange>,
}

/// One property change of a resource with its effect on the resource.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourcePropertyChange {
    /// The change; the path starts at the resource (`Properties.Name`, `DeletionPolicy`).
    pub change: PropertyChange,
    /// Whether this change replaces the resource.
    pub replacement: Replacement,
}

/// A resource that was added, removed or modified.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceChange {
    /// The logical ID.
    pub logical_id: String,
    /// The resource type (the new one for an added resource, else the old one).
    pub type_name: String,
    /// Added, removed or modified. A changed `Type` is a removal plus an addition.
    pub kind: ChangeKind,
    /// For a modified resource, its property changes.
    pub changes: Vec<ResourcePropertyChange>,
    /// Whether the resource is replaced, and why.
    pub replacement: Replacement,
    /// The create-only properties behind [`Self::replacement`].
    pub reasons: Vec<Reason>,
    /// For a modified DynamoDB table, the global secondary indexes added, removed or
    /// rebuilt (see [`indexes`]); the table itself may still be updated in place.
    pub indexes: Vec<IndexChange>,
    /// Anything else a reviewer should know (type changed, text unchanged, indexes).
    pub notes: Vec<String>,
    /// For a replaced or removed resource, the policy that keeps the old one
    /// (`UpdateReplacePolicy` or `DeletionPolicy`: Retain, RetainExceptOnCreate, Snapshot).
    pub kept_by: Option<String>,
}

impl ResourceChange {
    /// The indexes this change deletes and builds again.
    pub fn rebuilt_indexes(&self) -> impl Iterator<Item = &IndexChange> {
        self.indexes.iter().filter(|i| i.is_rebuild())
    }

    /// Whether this change deletes data: a stateful resource removed or replaced while
    /// its policy does not retain the old one.
    pub fn loses_data(&self) -> bool {
        let deletes = match self.kind {
            ChangeKind::Removed => true,
            ChangeKind::Modified => self.replacement != Replacement::None,
            ChangeKind::Added => false,
        };
        deletes && is_stateful(&self.type_name) && self.kept_by.is_none()
    }
}

/// Everything that differs between two templates.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TemplateDiff {
    /// Top-level keys other than the sections below (Description, Metadata, Transform).
    pub template: Vec<PropertyChange>,
    /// Parameters.
    pub parameters: Vec<EntryChange>,
    /// Conditions.
    pub conditions: Vec<EntryChange>,
    /// Mappings.
    pub mappings: Vec<EntryChange>,
    /// Resources, in the new template's order, then removed ones in the old's.
    pub resources: Vec<ResourceChange>,
    /// Outputs.
    pub outputs: Vec<EntryChange>,
    /// IAM statements added and removed.
    pub iam: StatementChanges,
    /// Aliases a deploy moves to a new version gradually through CodeDeploy, or that start
    /// or stop doing so (see [`traffic`]); derived from the changes above, not a change.
    pub traffic: Vec<traffic::TrafficShift>,
}

/// Sections compared entry by entry, besides Resources.
const SECTIONS: &[&str] = &["Parameters", "Conditions", "Mappings", "Outputs"];

impl TemplateDiff {
    /// Whether the templates are the same document.
    pub fn is_empty(&self) -> bool {
        self.template.is_empty()
            && self.parameters.is_empty()
            && self.conditions.is_empty()
            && self.mappings.is_empty()
            && self.resources.is_empty()
            && self.outputs.is_empty()
            && self.iam.is_empty()
    }

    /// The one-line summary: `3 resources modified (1 replaced), 1 added; IAM: 2
    /// statements added; outputs: 1 modified`.
    pub fn summary(&self) -> String {
        if self.is_empty() {
            return "no changes".into();
        }
        let mut parts = Vec::new();
        let count = |kind| self.resources.iter().filter(|r| r.kind == kind).count();
        let (modified, added, removed) = (
            count(ChangeKind::Modified),
            count(ChangeKind::Added),
            count(ChangeKind::Removed),
        );
        let mut resources = Vec::new();
        if modified > 0 {
            let level = |level| {
                self.resources
                    .iter()
                    .filter(|r| r.kind == ChangeKind::Modified && r.replacement == level)
                    .count()
            };
            let mut detail = Vec::new();
            if level(Replacement::Will) > 0 {
                detail.push(format!("{} replaced", level(Replacement::Will)));
            }
            if level(Replacement::May) > 0 {
                detail.push(format!("{} may be replaced", level(Replacement::May)));
            }
            let rebuilt: usize = self
                .resources
                .iter()
                .map(|r| r.rebuilt_indexes().count())
                .sum();
            if rebuilt > 0 {
                let noun = if rebuilt == 1 { "index" } else { "indexes" };
                detail.push(format!("{rebuilt} {noun} rebuilt"));
            }
            let detail = if detail.is_empty() {
                String::new()
            } else {
                format!(" ({})", detail.join(", "))
            };
            resources.push(format!("{} modified{detail}", plural(modified, "resource")));
        }
        for (n, what) in [(added, "added"), (removed, "removed")] {
            if n > 0 {
                resources.push(if resources.is_empty() {
                    format!("{} {what}", plural(n, "resource"))
                } else {
                    format!("{n} {what}")
                });
            }
        }
        if !resources.is_empty() {
            parts.push(resources.join(", "));
        }
        if !self.iam.is_empty() {
            parts.push(format!(
                "IAM: {} added, {} removed",
                plural(self.iam.added.len(), "statement"),
                self.iam.removed.len()
            ));
        }
        for (name, entries) in self.sections() {
            if !entries.is_empty() {
                parts.push(format!(
                    "{}: {}",
                    name.to_lowercase(),
                    entry_counts(entries)
                ));
            }
        }
        if !self.template.is_empty() {
            parts.push(format!(
                "template: {} changed",
                plural(self.template.len(), "top-level key")
            ));
        }
        parts.join("; ")
    }

    /// The entry sections with their names, in template order.
    pub fn sections(&self) -> [(&'static str, &[EntryChange]); 4] {
        [
            ("Parameters", &self.parameters),
            ("Conditions", &self.conditions),
            ("Mappings", &self.mappings),
            ("Outputs", &self.outputs),
        ]
    }
}

fn entry_counts(entries: &[EntryChange]) -> String {
    let mut parts = Vec::new();
    for (kind, word) in [
        (ChangeKind::Modified, "modified"),
        (ChangeKind::Added, "added"),
        (ChangeKind::Removed, "removed"),
    ] {
        let n = entries.iter().filter(|e| e.kind == kind).count();
        if n > 0 {
            parts.push(format!("{n} {word}"));
        }
    }
    parts.join(", ")
}

/// `1 resource`, `2 resources`.
pub fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("{n} {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// Compares two parsed templates (see [`parse_template`]).
pub fn diff(old: &Value, new: &Value) -> TemplateDiff {
    let empty = Map::new();
    let section = |doc: &'_ Value, name: &str| -> Map<String, Value> {
        doc.get(name)
            .and_then(Value::as_object)
            .unwrap_or(&empty)
            .clone()
    };
    let old_resources = section(old, "Resources");
    let new_resources = section(new, "Resources");
    let entries = |name: &str| compare_entries(&section(old, name), &section(new, name));
    let resources = compare_resources(&old_resources, &new_resources);
    TemplateDiff {
        template: top_level(old, new),
        parameters: entries(SECTIONS[0]),
        conditions: entries(SECTIONS[1]),
        mappings: entries(SECTIONS[2]),
        traffic: traffic::shifts(old, new, &resources),
        resources,
        outputs: entries(SECTIONS[3]),
        iam: iam::compare(&old_resources, &new_resources),
    }
}

/// Changes of top-level keys other than the compared sections.
fn top_level(old: &Value, new: &Value) -> Vec<PropertyChange> {
    let strip = |doc: &Value| -> Value {
        let mut map = doc.as_object().cloned().unwrap_or_default();
        map.remove("Resources");
        for name in SECTIONS {
            map.remove(*name);
        }
        Value::Object(map)
    };
    values::changes(&strip(old), &strip(new))
}

fn compare_entries(old: &Map<String, Value>, new: &Map<String, Value>) -> Vec<EntryChange> {
    let mut out = Vec::new();
    for (name, value) in new {
        match old.get(name) {
            None => out.push(EntryChange {
                name: name.clone(),
                kind: ChangeKind::Added,
                changes: Vec::new(),
            }),
            Some(before) if before != value => out.push(EntryChange {
                name: name.clone(),
                kind: ChangeKind::Modified,
                changes: values::changes(before, value),
            }),
            Some(_) => {}
        }
    }
    for name in old.keys().filter(|name| !new.contains_key(*name)) {
        out.push(EntryChange {
            name: name.clone(),
            kind: ChangeKind::Removed,
            changes: Vec::new(),
        });
    }
    out
}

fn type_of(resource: &Value) -> String {
    resource
        .get("Type")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn compare_resources(old: &Map<String, Value>, new: &Map<String, Value>) -> Vec<ResourceChange> {
    let mut changes: Vec<ResourceChange> = Vec::new();
    let mut levels: BTreeMap<String, Replacement> = BTreeMap::new();
    let mut removed = Vec::new();
    for (id, resource) in new {
        let type_name = type_of(resource);
        let Some(before) = old.get(id) else {
            changes.push(simple(id, type_name, ChangeKind::Added));
            continue;
        };
        let old_type = type_of(before);
        if old_type != type_name {
            let note = format!(
                "Type changed from {old_type} to {type_name}: a new resource replaces the old one"
            );
            let mut added = simple(id, type_name, ChangeKind::Added);
            added.notes.push(note.clone());
            changes.push(added);
            let mut gone = simple(id, old_type, ChangeKind::Removed);
            gone.notes.push(note);
            removed.push(gone);
            continue;
        }
        if before == resource {
            continue;
        }
        let change = modified(id, type_name, before, resource);
        levels.insert(id.clone(), change.replacement);
        changes.push(change);
    }
    for (id, resource) in old.iter().filter(|(id, _)| !new.contains_key(*id)) {
        removed.push(simple(id, type_of(resource), ChangeKind::Removed));
    }
    // Replaced and removed resources both get new physical IDs (or none) at deploy time.
    for change in &removed {
        levels.insert(change.logical_id.clone(), Replacement::Will);
    }
    apply_spread(&mut changes, old, new, &mut levels);
    for change in &mut changes {
        let index_notes = indexes::settle(&mut change.indexes, change.replacement);
        change.notes.splice(0..0, index_notes);
        if change.kind == ChangeKind::Modified && change.replacement != Replacement::None {
            change.kept_by = keeping_policy(new.get(&change.logical_id), "UpdateReplacePolicy");
        }
    }
    for change in &mut removed {
        change.kept_by = keeping_policy(old.get(&change.logical_id), "DeletionPolicy");
    }
    changes.extend(removed);
    changes
}

/// `UpdateReplacePolicy: Retain` (or `DeletionPolicy`), as `"UpdateReplacePolicy: Retain"`,
/// when the policy keeps the old resource or a snapshot of it.
fn keeping_policy(resource: Option<&Value>, attribute: &str) -> Option<String> {
    let policy = resource?.get(attribute)?.as_str()?;
    matches!(policy, "Retain" | "RetainExceptOnCreate" | "Snapshot")
        .then(|| format!("{attribute} {policy}"))
}

/// A resource of the same type in both templates whose definition changed.
fn modified(id: &str, type_name: String, before: &Value, after: &Value) -> ResourceChange {
    let reasons = replacement::direct_reasons(&type_name, before, after);
    let level = reasons
        .iter()
        .map(|r| r.replacement)
        .max()
        .unwrap_or_default();
    let changes = values::changes(before, after)
        .into_iter()
        .map(|change| ResourcePropertyChange {
            replacement: reasons
                .iter()
                .filter(|r| replacement::path_matches(&change.path, &r.property))
                .map(|r| r.replacement)
                .max()
                .unwrap_or_default(),
            change,
        })
        .collect();
    // Their notes wait for the replacement to be final (`compare_resources`): a replaced
    // table has none of an index rollout.
    let indexes = indexes::changes(&type_name, before, after);
    ResourceChange {
        changes,
        replacement: level,
        reasons,
        indexes,
        ..simple(id, type_name, ChangeKind::Modified)
    }
}

/// Adds the replacements that spread along references to replaced resources. Only
/// resources that exist in both templates with the same type can be replaced; new ones are
/// created whatever they reference.
fn apply_spread(
    changes: &mut Vec<ResourceChange>,
    old: &Map<String, Value>,
    new: &Map<String, Value>,
    levels: &mut BTreeMap<String, Replacement>,
) {
    let existing: Map<String, Value> = new
        .iter()
        .filter(|(id, resource)| {
            old.get(*id)
                .is_some_and(|before| type_of(before) == type_of(resource))
        })
        .map(|(id, resource)| (id.clone(), resource.clone()))
        .collect();
    let mut spread = replacement::spread(&existing, levels);
    for change in changes.iter_mut() {
        if let Some(reasons) = spread.remove(&change.logical_id) {
            let level = levels.get(&change.logical_id).copied().unwrap_or_default();
            change.replacement = change.replacement.max(level);
            change.reasons.extend(reasons);
        }
    }
    for (id, reasons) in spread {
        let level = levels.get(&id).copied().unwrap_or_default();
        let type_name = new.get(&id).map(type_of).unwrap_or_default();
        let mut change = simple(&id, type_name, ChangeKind::Modified);
        change.replacement = level;
        change.reasons = reasons;
        change.notes.push(
            "its text is unchanged, but a create-only property references a replaced resource"
                .into(),
        );
        changes.push(change);
    }
    // Keep the new template's order for resources added by the spread (removed ones are
    // appended after this). The positions are looked up, not searched for: a search per
    // comparison made 40,000 added resources take seconds.
    let order: HashMap<&str, usize> = new
        .keys()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i))
        .collect();
    changes.sort_by_key(|c| order.get(c.logical_id.as_str()).copied());
}

fn simple(id: &str, type_name: String, kind: ChangeKind) -> ResourceChange {
    ResourceChange {
        logical_id: id.to_owned(),
        type_name,
        kind,
        changes: Vec::new(),
        replacement: Replacement::None,
        reasons: Vec::new(),
        indexes: Vec::new(),
        notes: Vec::new(),
        kept_by: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn template(resources: Value) -> Value {
        json!({"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources})
    }

    #[test]
    fn equal_templates_have_an_empty_diff() {
        let t = template(json!({"Q": {"Type": "AWS::SQS::Queue"}}));
        let d = diff(&t, &t);
        assert!(d.is_empty());
        assert_eq!(d.summary(), "no changes");
    }

    #[test]
    fn added_removed_and_modified_resources_are_found() {
        let old = template(json!({
            "Q": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "a"}},
            "Gone": {"Type": "AWS::SNS::Topic"},
        }));
        let new = template(json!({
            "Q": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "b"}},
            "New": {"Type": "AWS::SNS::Topic"},
        }));
        let d = diff(&old, &new);
        let kinds: Vec<(&str, ChangeKind)> = d
            .resources
            .iter()
            .map(|r| (r.logical_id.as_str(), r.kind))
            .collect();
        assert_eq!(
            kinds,
            [
                ("Q", ChangeKind::Modified),
                ("New", ChangeKind::Added),
                ("Gone", ChangeKind::Removed)
            ]
        );
        assert_eq!(d.resources[0].replacement, Replacement::Will);
        assert_eq!(
            d.summary(),
            "1 resource modified (1 replaced), 1 added, 1 removed"
        );
    }

    #[test]
    fn a_changed_type_is_a_removal_and_an_addition() {
        let old = template(json!({"X": {"Type": "AWS::SQS::Queue"}}));
        let new = template(json!({"X": {"Type": "AWS::SNS::Topic"}}));
        let d = diff(&old, &new);
        assert_eq!(d.resources.len(), 2);
        assert_eq!(d.resources[0].kind, ChangeKind::Added);
        assert_eq!(d.resources[1].kind, ChangeKind::Removed);
        assert!(d.resources[1].notes[0].contains("Type changed"));
    }

    #[test]
    fn parameters_outputs_and_description_are_compared() {
        let mut old = template(json!({"Q": {"Type": "AWS::SQS::Queue"}}));
        let mut new = old.clone();
        old["Parameters"] = json!({"P": {"Type": "String"}, "Gone": {"Type": "String"}});
        new["Parameters"] = json!({"P": {"Type": "String", "Default": "x"}});
        new["Outputs"] = json!({"O": {"Value": "v"}});
        new["Description"] = json!("new");
        let d = diff(&old, &new);
        assert_eq!(d.parameters.len(), 2);
        assert_eq!(d.parameters[0].changes[0].path.to_string(), "Default");
        assert_eq!(d.outputs[0].kind, ChangeKind::Added);
        assert_eq!(d.template[0].path.to_string(), "Description");
        assert_eq!(
            d.summary(),
            "parameters: 1 modified, 1 removed; outputs: 1 added; template: 1 top-level key changed"
        );
    }

    #[test]
    fn a_retained_replacement_is_noted_and_does_not_lose_data() {
        let old = template(
            json!({"T": {"Type": "AWS::DynamoDB::Table", "UpdateReplacePolicy": "Retain", "Properties": {"TableName": "a"}}}),
        );
        let new = template(
            json!({"T": {"Type": "AWS::DynamoDB::Table", "UpdateReplacePolicy": "Retain", "Properties": {"TableName": "b"}}}),
        );
        let d = diff(&old, &new);
        assert_eq!(d.resources[0].replacement, Replacement::Will);
        assert_eq!(
            d.resources[0].kept_by.as_deref(),
            Some("UpdateReplacePolicy Retain")
        );
        assert!(!d.resources[0].loses_data());
        let plain = template(
            json!({"T": {"Type": "AWS::DynamoDB::Table", "Properties": {"TableName": "b"}}}),
        );
        let old_plain = template(
            json!({"T": {"Type": "AWS::DynamoDB::Table", "Properties": {"TableName": "a"}}}),
        );
        assert!(diff(&old_plain, &plain).resources[0].loses_data());
    }

    #[test]
    fn a_new_resource_referencing_a_replaced_one_is_only_added() {
        let old =
            template(json!({"S": {"Type": "AWS::Kinesis::Stream", "Properties": {"Name": "a"}}}));
        let mut new = old.clone();
        new["Resources"]["S"]["Properties"]["Name"] = json!("b");
        new["Resources"]["M"] = json!({"Type": "AWS::Lambda::EventSourceMapping",
            "Properties": {"EventSourceArn": {"Fn::GetAtt": ["S", "Arn"]}}});
        let d = diff(&old, &new);
        let m = d.resources.iter().find(|r| r.logical_id == "M").unwrap();
        assert_eq!(m.kind, ChangeKind::Added);
        assert_eq!(m.replacement, Replacement::None);
        assert!(m.reasons.is_empty());
    }

    #[test]
    fn a_textually_unchanged_dependent_of_a_replaced_resource_is_reported() {
        let old = template(json!({
            "S": {"Type": "AWS::Kinesis::Stream", "Properties": {"Name": "a"}},
            "M": {"Type": "AWS::Lambda::EventSourceMapping", "Properties": {"EventSourceArn": {"Fn::GetAtt": ["S", "Arn"]}}},
        }));
        let mut new = old.clone();
        new["Resources"]["S"]["Properties"]["Name"] = json!("b");
        let d = diff(&old, &new);
        let ids: Vec<&str> = d.resources.iter().map(|r| r.logical_id.as_str()).collect();
        assert_eq!(ids, ["S", "M"]);
        assert_eq!(d.resources[1].replacement, Replacement::Will);
        assert!(d.resources[1].changes.is_empty());
    }
}
