//! The machine-readable rendering of a template diff (`synth diff --format json`): the same
//! changes the text and markdown show, as one JSON document for scripts and bots.
//!
//! Values are the templates' own JSON (long-form intrinsics), never cut or abbreviated. A
//! side that does not exist is left out rather than written as `null`, which is a value a
//! template can hold. The shape is documented in docs/review.md ("JSON output"); a field is
//! only ever added to it.

use serde_json::{json, Map, Value};

use super::{
    ChangeKind, EntryChange, IndexChange, PropertyChange, Reason, Replacement, ResourceChange,
    Statement, TemplateDiff,
};

/// The version of the document's shape, written as `format_version`.
pub const FORMAT_VERSION: u32 = 1;

/// The diff of `old_name` → `new_name` as one JSON document.
pub fn render(diff: &TemplateDiff, old_name: &str, new_name: &str) -> Value {
    let sections: Map<String, Value> = diff
        .sections()
        .into_iter()
        .map(|(name, entries)| (name.to_lowercase(), entries.iter().map(entry).collect()))
        .collect();
    let mut document = json!({
        "format_version": FORMAT_VERSION,
        "old": old_name,
        "new": new_name,
        "equal": diff.is_empty(),
        "summary": diff.summary(),
        "data_loss": diff.resources.iter().any(ResourceChange::loses_data),
        "traffic": super::traffic::json(&diff.traffic),
        "template": diff.template.iter().map(property).collect::<Vec<_>>(),
        "resources": diff.resources.iter().map(resource).collect::<Vec<_>>(),
        "iam": {
            "added": diff.iam.added.iter().map(statement).collect::<Vec<_>>(),
            "removed": diff.iam.removed.iter().map(statement).collect::<Vec<_>>(),
        },
    });
    if let Some(object) = document.as_object_mut() {
        object.extend(sections);
    }
    document
}

fn kind(kind: ChangeKind) -> &'static str {
    match kind {
        ChangeKind::Added => "added",
        ChangeKind::Removed => "removed",
        ChangeKind::Modified => "modified",
    }
}

fn replacement(replacement: Replacement) -> &'static str {
    match replacement {
        Replacement::None => "none",
        Replacement::May => "may",
        Replacement::Will => "will",
    }
}

/// `{"path", "old"?, "new"?}`: a side is absent when the path did not exist on it.
fn property(change: &PropertyChange) -> Value {
    let mut out = Map::new();
    out.insert("path".into(), change.path.to_string().into());
    if let Some(old) = &change.old {
        out.insert("old".into(), old.clone());
    }
    if let Some(new) = &change.new {
        out.insert("new".into(), new.clone());
    }
    Value::Object(out)
}

fn entry(entry: &EntryChange) -> Value {
    json!({
        "name": entry.name,
        "change": kind(entry.kind),
        "changes": entry.changes.iter().map(property).collect::<Vec<_>>(),
    })
}

fn resource(resource: &ResourceChange) -> Value {
    let changes: Vec<Value> = resource
        .changes
        .iter()
        .map(|change| {
            let mut value = property(&change.change);
            value["replacement"] = replacement(change.replacement).into();
            value
        })
        .collect();
    json!({
        "logical_id": resource.logical_id,
        "type": resource.type_name,
        "change": kind(resource.kind),
        "replacement": replacement(resource.replacement),
        "loses_data": resource.loses_data(),
        "kept_by": resource.kept_by,
        "changes": changes,
        "reasons": resource.reasons.iter().map(reason).collect::<Vec<_>>(),
        "indexes": resource.indexes.iter().map(index).collect::<Vec<_>>(),
        "notes": resource.notes,
    })
}

fn reason(reason: &Reason) -> Value {
    json!({
        "property": reason.property,
        "replacement": replacement(reason.replacement),
        "why": reason.why,
    })
}

fn index(index: &IndexChange) -> Value {
    json!({
        "index": index.index,
        "change": if index.is_rebuild() { "rebuilt" } else { kind(index.kind) },
        "because": index.because,
    })
}

fn statement(statement: &Statement) -> Value {
    json!({
        "resource": statement.resource,
        "document": statement.document,
        "effect": statement.effect,
        "actions": statement.actions,
        "resources": statement.resources,
        "principals": statement.principals,
        "condition": statement.condition,
    })
}

#[cfg(test)]
mod tests {
    use super::super::diff;
    use super::*;

    #[test]
    fn every_change_is_in_the_document_with_its_values_whole() {
        let old = json!({"Resources": {
            "S": {"Type": "AWS::Kinesis::Stream", "Properties": {"Name": "a", "ShardCount": 1}},
            "Q": {"Type": "AWS::SQS::Queue"},
        }, "Outputs": {"O": {"Value": "x"}}});
        let mut new = old.clone();
        new["Resources"]["S"]["Properties"] = json!({"Name": "b", "RetentionPeriodHours": 48});
        new["Resources"]["Q"]["Properties"] = json!({"DelaySeconds": null});
        new["Outputs"] = json!({});
        let document = render(&diff(&old, &new), "old.yaml", "new.yaml");
        assert_eq!(document["format_version"], 1);
        assert_eq!(document["equal"], false);
        assert_eq!(document["data_loss"], true);
        let stream = &document["resources"][0];
        assert_eq!(stream["logical_id"], "S");
        assert_eq!(stream["type"], "AWS::Kinesis::Stream");
        assert_eq!(stream["replacement"], "will");
        assert_eq!(
            stream["changes"],
            json!([
                {"path": "Properties.Name", "old": "a", "new": "b", "replacement": "will"},
                {"path": "Properties.ShardCount", "old": 1, "replacement": "none"},
                {"path": "Properties.RetentionPeriodHours", "new": 48, "replacement": "none"},
            ])
        );
        // A null value is a value, told apart from an absent side.
        assert_eq!(
            document["resources"][1]["changes"][0],
            json!({"path": "Properties", "new": {"DelaySeconds": null}, "replacement": "none"})
        );
        assert_eq!(
            document["outputs"],
            json!([{"name": "O", "change": "removed", "changes": []}])
        );
        assert_eq!(document["parameters"], json!([]));
    }

    #[test]
    fn equal_templates_are_an_empty_document() {
        let template = json!({"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}});
        let document = render(&diff(&template, &template), "a", "b");
        assert_eq!(document["equal"], true);
        assert_eq!(document["summary"], "no changes");
        assert_eq!(document["resources"], json!([]));
        assert_eq!(document["iam"], json!({"added": [], "removed": []}));
    }
}
