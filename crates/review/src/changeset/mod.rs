//! The JSON that `aws cloudformation describe-change-set` prints, read leniently and
//! rendered as markdown for a pull request (see [`report`]; `synth changeset-report`).
//!
//! Every field is optional: moto and older CLI versions leave many out, and a report with
//! blanks is more useful than an error. Only a document that is not a change set at all
//! (not an object, or none of `ChangeSetName`, `ChangeSetId`, `StackName`, `Changes`) is
//! refused.

pub mod report;
pub mod traffic;

use std::io::Read;
use std::path::Path;

use serde::{Deserialize, Deserializer};

pub use report::{render, render_with_template, risks, Risk};

/// The output of `describe-change-set`, as far as the report uses it.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ChangeSet {
    /// The change set's name.
    pub change_set_name: Option<String>,
    /// Its ARN.
    pub change_set_id: Option<String>,
    /// The stack it changes.
    pub stack_name: Option<String>,
    /// The stack's ARN.
    pub stack_id: Option<String>,
    /// `CREATE_COMPLETE`, `FAILED`, ...
    pub status: Option<String>,
    /// Why the status is what it is (e.g. "The submitted information didn't contain
    /// changes").
    pub status_reason: Option<String>,
    /// `AVAILABLE` when it can be executed.
    pub execution_status: Option<String>,
    /// When it was created.
    pub creation_time: Option<String>,
    /// The description given at creation.
    pub description: Option<String>,
    /// Capabilities acknowledged (`CAPABILITY_IAM`, ...).
    #[serde(deserialize_with = "null_as_empty")]
    pub capabilities: Vec<String>,
    /// The changes, one per resource.
    #[serde(deserialize_with = "null_as_empty")]
    pub changes: Vec<Change>,
}

/// One entry of `Changes`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Change {
    /// Always `Resource` today.
    #[serde(rename = "Type")]
    pub kind: Option<String>,
    /// The resource and what happens to it.
    pub resource_change: Option<ResourceChange>,
}

/// What CloudFormation does to one resource.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ResourceChange {
    /// `Add`, `Modify`, `Remove`, `Import`, `Dynamic` or `SyncWithActual`.
    pub action: Option<String>,
    /// The logical ID.
    pub logical_resource_id: Option<String>,
    /// The physical ID (absent for additions).
    pub physical_resource_id: Option<String>,
    /// The resource type.
    pub resource_type: Option<String>,
    /// `True`, `False` or `Conditional` (Modify only).
    pub replacement: Option<String>,
    /// What is changed: `Properties`, `Metadata`, `Tags`, ...
    #[serde(deserialize_with = "null_as_empty")]
    pub scope: Vec<String>,
    /// One entry per changed attribute or property.
    #[serde(deserialize_with = "null_as_empty")]
    pub details: Vec<Detail>,
    /// What the deletion or update policy does with the old resource (newer API versions):
    /// `Delete`, `Retain`, `Snapshot`, `ReplaceAndDelete`, `ReplaceAndRetain`,
    /// `ReplaceAndSnapshot`.
    pub policy_action: Option<String>,
}

/// Why a resource changes: one property or attribute and what caused it.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Detail {
    /// The changed property or attribute.
    pub target: Option<Target>,
    /// `Static` or `Dynamic` (value known only at execution).
    pub evaluation: Option<String>,
    /// `DirectModification`, `ResourceReference`, `ParameterReference`,
    /// `ResourceAttribute`, `Automatic`.
    pub change_source: Option<String>,
    /// The resource, parameter or attribute that caused it.
    pub causing_entity: Option<String>,
}

/// The field that changes.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Target {
    /// `Properties`, `Metadata`, `Tags`, `DeletionPolicy`, ...
    pub attribute: Option<String>,
    /// The property's name, for `Properties`.
    pub name: Option<String>,
    /// `Never`, `Conditionally` or `Always`.
    pub requires_recreation: Option<String>,
    /// The property's path (with `--include-property-values`).
    pub path: Option<String>,
    /// The value before (with `--include-property-values`).
    pub before_value: Option<String>,
    /// The value after (with `--include-property-values`).
    pub after_value: Option<String>,
}

/// Why a change set could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ChangeSetError {
    /// The file (or stdin) could not be read.
    #[error("{name}: cannot read: {source}")]
    Read {
        /// The file's name, or `<stdin>`.
        name: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Not JSON, or JSON of the wrong shape.
    #[error("{name}: not describe-change-set output: {reason}")]
    NotChangeSet {
        /// The file's name, or `<stdin>`.
        name: String,
        /// What is wrong.
        reason: String,
    },
}

/// Reads a change set from a path, or from stdin when the path is `-`.
pub fn read(path: &Path) -> Result<ChangeSet, ChangeSetError> {
    let (name, text) = if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|source| ChangeSetError::Read {
                name: "<stdin>".into(),
                source,
            })?;
        ("<stdin>".to_owned(), text)
    } else {
        let name = path.display().to_string();
        match std::fs::read_to_string(path) {
            Ok(text) => (name, text),
            Err(source) => return Err(ChangeSetError::Read { name, source }),
        }
    };
    parse(&name, &text)
}

/// Parses `describe-change-set` JSON; `name` labels errors. A UTF-8 byte-order mark (what
/// PowerShell's `Out-File -Encoding utf8` writes first) is skipped, as templates' is.
pub fn parse(name: &str, text: &str) -> Result<ChangeSet, ChangeSetError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let bad = |reason: String| ChangeSetError::NotChangeSet {
        name: name.into(),
        reason,
    };
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| bad(format!("not valid JSON: {e}")))?;
    let Some(object) = value.as_object() else {
        return Err(bad("expected a JSON object".into()));
    };
    const KEYS: &[&str] = &["ChangeSetName", "ChangeSetId", "StackName", "Changes"];
    if !KEYS.iter().any(|key| object.contains_key(*key)) {
        return Err(bad(format!("expected at least one of {}", KEYS.join(", "))));
    }
    serde_json::from_value(value).map_err(|e| bad(e.to_string()))
}

/// A list that may also be `null`.
fn null_as_empty<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(deserializer)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sparse_change_set_reads_with_blanks() {
        let text = r#"{"ChangeSetName": "cs", "Changes": [{"ResourceChange": {"Action": "Add", "LogicalResourceId": "Q"}}], "Capabilities": null}"#;
        let cs = parse("x.json", text).expect("parses");
        let change = cs.changes[0].resource_change.as_ref().unwrap();
        assert_eq!(change.action.as_deref(), Some("Add"));
        assert_eq!(change.resource_type, None);
        assert!(change.details.is_empty());
        assert!(cs.capabilities.is_empty());
    }

    #[test]
    fn documents_that_are_not_change_sets_are_refused_by_name() {
        for (text, expected) in [
            ("nope", "not valid JSON"),
            ("[1]", "expected a JSON object"),
            (r#"{"Resources": {}}"#, "expected at least one of"),
            (r#"{"Changes": 3}"#, "invalid type"),
        ] {
            let message = parse("cs.json", text).unwrap_err().to_string();
            assert!(
                message.starts_with("cs.json: not describe-change-set output"),
                "{message}"
            );
            assert!(message.contains(expected), "{text}: {message}");
        }
    }
}
