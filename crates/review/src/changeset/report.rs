//! The markdown report of a change set: a header naming the change set, its stack and
//! status; a prominent warning when stateful resources are replaced or removed; a note when
//! an event source mapping is replaced, saying how `make deploy` does it
//! (docs/mapping-replacement.md); and one table row per resource change.

use std::fmt::Write;

use super::{ChangeSet, Detail, ResourceChange};
use crate::stateful::is_stateful;

/// A change that may lose data: a stateful resource replaced (`True` or `Conditional`) or
/// removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Risk {
    /// The logical ID.
    pub logical_id: String,
    /// The resource type.
    pub resource_type: String,
    /// What happens: "removed", "replaced", "may be replaced (Replacement: Conditional)".
    pub what: String,
    /// The properties that force it, and the policy action when CloudFormation says it.
    pub because: String,
}

/// The data-loss risks of a change set, in its order.
pub fn risks(change_set: &ChangeSet) -> Vec<Risk> {
    resource_changes(change_set)
        .filter_map(|change| {
            let resource_type = change.resource_type.as_deref()?;
            if !is_stateful(resource_type) {
                return None;
            }
            let what = match (change.action.as_deref(), change.replacement.as_deref()) {
                (Some("Remove"), _) => "removed".to_owned(),
                (_, Some("True")) => "replaced".to_owned(),
                (_, Some("Conditional")) => "may be replaced (Replacement: Conditional)".to_owned(),
                _ => return None,
            };
            let mut because: Vec<String> = change
                .details
                .iter()
                .filter(|d| recreates(d))
                .map(|d| {
                    let target = d.target.as_ref();
                    format!(
                        "{} requires recreation ({})",
                        target
                            .and_then(|t| t.name.as_deref())
                            .unwrap_or("a property"),
                        target
                            .and_then(|t| t.requires_recreation.as_deref())
                            .unwrap_or("?")
                    )
                })
                .collect();
            if let Some(policy) = &change.policy_action {
                because.push(format!("policy action {policy}"));
            }
            Some(Risk {
                logical_id: change.logical_resource_id.clone().unwrap_or_default(),
                resource_type: resource_type.to_owned(),
                what,
                because: because.join("; "),
            })
        })
        .collect()
}

/// An event source mapping the change set replaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplacedMapping {
    /// The logical ID.
    pub logical_id: String,
    /// Whether it keeps its event source: no detail says `EventSourceArn` requires
    /// recreation (only `StartingPosition`, `StartingPositionTimestamp`). Lambda refuses a
    /// second mapping of the same source and function, so executing such a change fails.
    pub same_source: bool,
    /// `True` or `Conditional`.
    pub replacement: String,
}

/// The event source mappings the change set replaces (`Replacement` `True` or
/// `Conditional`), in its order.
pub fn replaced_mappings(change_set: &ChangeSet) -> Vec<ReplacedMapping> {
    resource_changes(change_set)
        .filter(|c| c.resource_type.as_deref() == Some("AWS::Lambda::EventSourceMapping"))
        .filter_map(|c| {
            let replacement = c.replacement.as_deref()?;
            matches!(replacement, "True" | "Conditional").then(|| ReplacedMapping {
                logical_id: c.logical_resource_id.clone().unwrap_or_default(),
                same_source: !c.details.iter().any(|d| {
                    recreates(d)
                        && d.target.as_ref().and_then(|t| t.name.as_deref())
                            == Some("EventSourceArn")
                }),
                replacement: replacement.to_owned(),
            })
        })
        .collect()
}

fn mapping_note(out: &mut String, mappings: &[ReplacedMapping]) {
    for mapping in mappings {
        let id = code(&mapping.logical_id);
        let may = if mapping.replacement == "Conditional" {
            " (Replacement: Conditional)"
        } else {
            ""
        };
        let _ = if mapping.same_source {
            writeln!(
                out,
                "\n> [!WARNING]\n> **Event source mapping replaced in one update{may}:** {id} \
                 keeps its stream, and Lambda refuses a second mapping of the same stream and \
                 function (ResourceConflictException), so executing this change set fails when \
                 CloudFormation creates the new one. `make deploy` removes the mapping in one \
                 stack update and creates it in a second, AT_TIMESTAMP where the old one was \
                 reading less a safety margin (docs/mapping-replacement.md)."
            )
        } else {
            writeln!(
                out,
                "\n> [!NOTE]\n> **Event source mapping replaced{may}:** {id} reads another \
                 source: CloudFormation creates the new mapping before deleting the old one, \
                 which Lambda allows, and both read meanwhile (the items' keys absorb the \
                 overlap). `make deploy` starts the new one AT_TIMESTAMP where the old one was \
                 reading less a safety margin, so nothing is skipped \
                 (docs/mapping-replacement.md)."
            )
        };
    }
}

fn recreates(detail: &Detail) -> bool {
    detail
        .target
        .as_ref()
        .and_then(|t| t.requires_recreation.as_deref())
        .is_some_and(|r| r != "Never")
}

fn resource_changes(change_set: &ChangeSet) -> impl Iterator<Item = &ResourceChange> {
    change_set
        .changes
        .iter()
        .filter_map(|c| c.resource_change.as_ref())
}

/// The change set as GitHub-flavoured markdown.
pub fn render(change_set: &ChangeSet) -> String {
    render_with_template(change_set, None)
}

/// The change set as markdown, with the template it was made from when known: the report
/// then names what rolls a gradual traffic shift back (see [`super::traffic`]).
pub fn render_with_template(
    change_set: &ChangeSet,
    template: Option<&serde_json::Value>,
) -> String {
    let mut out = String::new();
    header(&mut out, change_set);
    let changes: Vec<&ResourceChange> = resource_changes(change_set).collect();
    if changes.is_empty() {
        let _ = writeln!(out, "\n**No changes.**");
        return out;
    }
    let _ = writeln!(out, "\n**Summary:** {}", summary(&changes));
    warning(&mut out, &risks(change_set));
    out.push_str(&super::traffic::markdown(change_set, template));
    mapping_note(&mut out, &replaced_mappings(change_set));
    let _ = writeln!(out, "\n### Changes\n");
    let _ = writeln!(
        out,
        "| Action | Logical ID | Type | Replacement | Scope | Details |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|");
    for change in changes {
        let _ = writeln!(out, "{}", row(change));
    }
    out
}

fn header(out: &mut String, cs: &ChangeSet) {
    let name = cs.change_set_name.as_deref().unwrap_or("(unnamed)");
    let stack = cs.stack_name.as_deref().unwrap_or("(unknown stack)");
    let _ = writeln!(
        out,
        "## Change set {} on stack {}\n",
        code(name),
        code(stack)
    );
    let _ = writeln!(out, "| | |\n|---|---|");
    let fields = [
        (
            "Status",
            Some(cs.status.as_deref().unwrap_or("(not given)")),
        ),
        ("Status reason", cs.status_reason.as_deref()),
        ("Execution status", cs.execution_status.as_deref()),
        ("Created", cs.creation_time.as_deref()),
        ("Description", cs.description.as_deref()),
        ("Change set ID", cs.change_set_id.as_deref()),
    ];
    // Sparse change sets (moto's) leave most of these out: show what is there.
    for (label, value) in fields {
        if let Some(value) = value {
            let _ = writeln!(out, "| {label} | {} |", cell(value));
        }
    }
    if !cs.capabilities.is_empty() {
        let _ = writeln!(
            out,
            "| Capabilities | {} |",
            cell(&cs.capabilities.join(", "))
        );
    }
}

/// `5 changes: 1 Add, 3 Modify (2 replacements), 1 Remove`.
fn summary(changes: &[&ResourceChange]) -> String {
    let mut parts = Vec::new();
    for action in [
        "Add",
        "Modify",
        "Remove",
        "Import",
        "Dynamic",
        "SyncWithActual",
    ] {
        let of_action: Vec<&&ResourceChange> = changes
            .iter()
            .filter(|c| c.action.as_deref() == Some(action))
            .collect();
        if of_action.is_empty() {
            continue;
        }
        let replaced = of_action
            .iter()
            .filter(|c| matches!(c.replacement.as_deref(), Some("True" | "Conditional")))
            .count();
        let extra = match replaced {
            0 => String::new(),
            1 => " (1 replacement)".into(),
            n => format!(" ({n} replacements)"),
        };
        parts.push(format!("{} {action}{extra}", of_action.len()));
    }
    let unknown = changes.iter().filter(|c| c.action.is_none()).count();
    if unknown > 0 {
        parts.push(format!("{unknown} without an action"));
    }
    let noun = if changes.len() == 1 {
        "change"
    } else {
        "changes"
    };
    format!("{} {noun}: {}", changes.len(), parts.join(", "))
}

fn warning(out: &mut String, risks: &[Risk]) {
    if risks.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\n> [!CAUTION]\n> ### ⚠️ Data-loss risk\n> Executing this change set removes or \
         replaces stateful resources; unless a retain policy keeps them, their data is deleted:\n>"
    );
    for risk in risks {
        let because = if risk.because.is_empty() {
            String::new()
        } else {
            format!(" — {}", risk.because)
        };
        let _ = writeln!(
            out,
            "> - **{}** {} ({}){because}",
            risk.what,
            code(&risk.logical_id),
            risk.resource_type
        );
    }
}

fn row(change: &ResourceChange) -> String {
    let replacement = match change.replacement.as_deref() {
        Some(r @ ("True" | "Conditional")) => format!("**{r}**"),
        Some(r) => cell(r),
        None => "–".into(),
    };
    let details: Vec<String> = change.details.iter().map(detail).collect();
    let mut details = details.join("<br>");
    if let Some(policy) = &change.policy_action {
        if !details.is_empty() {
            details.push_str("<br>");
        }
        details.push_str(&format!("policy action: {}", cell(policy)));
    }
    format!(
        "| {} | {} | {} | {replacement} | {} | {} |",
        cell(change.action.as_deref().unwrap_or("–")),
        change
            .logical_resource_id
            .as_deref()
            .map(code)
            .unwrap_or_else(|| "–".into()),
        cell(change.resource_type.as_deref().unwrap_or("–")),
        cell(&change.scope.join(", ")),
        details
    )
}

/// `` `KeySchema` (Properties), recreation: Always, DirectModification ``.
fn detail(detail: &Detail) -> String {
    let mut parts = Vec::new();
    if let Some(target) = &detail.target {
        let what = match (&target.name, &target.attribute) {
            (Some(name), Some(attribute)) => format!("{} ({})", code(name), cell(attribute)),
            (Some(name), None) => code(name),
            (None, Some(attribute)) => cell(attribute),
            (None, None) => "?".into(),
        };
        parts.push(what);
        if let Some(recreation) = &target.requires_recreation {
            let recreation = if recreation == "Never" {
                cell(recreation)
            } else {
                format!("**{}**", cell(recreation))
            };
            parts.push(format!("recreation: {recreation}"));
        }
        if let (Some(before), Some(after)) = (&target.before_value, &target.after_value) {
            parts.push(format!(
                "{} → {}",
                code(&short(before)),
                code(&short(after))
            ));
        }
    }
    if let Some(source) = &detail.change_source {
        parts.push(cell(source));
    }
    if let Some(entity) = &detail.causing_entity {
        parts.push(format!("caused by {}", code(entity)));
    }
    if detail.evaluation.as_deref() == Some("Dynamic") {
        parts.push("evaluated at execution".into());
    }
    parts.join(", ")
}

fn short(text: &str) -> String {
    const MAX: usize = 60;
    if text.chars().count() <= MAX {
        return text.to_owned();
    }
    let cut: String = text.chars().take(MAX - 1).collect();
    format!("{cut}…")
}

/// Text safe inside a table cell: no pipe ends the cell, no line break (markdown reads a
/// carriage return as one) ends the row.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\r', '\n'], " ")
}

fn code(text: &str) -> String {
    let text = cell(text);
    if text.contains('`') {
        format!("`` {text} ``")
    } else {
        format!("`{text}`")
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;

    #[test]
    fn an_empty_change_set_says_no_changes() {
        let cs = parse(
            "x",
            r#"{"ChangeSetName": "cs", "StackName": "s", "Status": "FAILED",
                "StatusReason": "The submitted information didn't contain changes.", "Changes": []}"#,
        )
        .unwrap();
        let text = render(&cs);
        assert!(text.contains("**No changes.**"), "{text}");
        assert!(text.contains("didn't contain changes"), "{text}");
        assert!(!text.contains("CAUTION"));
    }

    #[test]
    fn replaced_and_removed_stateful_resources_are_risks_and_others_are_not() {
        let cs = parse(
            "x",
            r#"{"Changes": [
                {"ResourceChange": {"Action": "Modify", "LogicalResourceId": "T", "ResourceType": "AWS::DynamoDB::Table", "Replacement": "True",
                  "Details": [{"Target": {"Attribute": "Properties", "Name": "KeySchema", "RequiresRecreation": "Always"}}]}},
                {"ResourceChange": {"Action": "Modify", "LogicalResourceId": "S", "ResourceType": "AWS::Kinesis::Stream", "Replacement": "Conditional"}},
                {"ResourceChange": {"Action": "Remove", "LogicalResourceId": "Q", "ResourceType": "AWS::SQS::Queue"}},
                {"ResourceChange": {"Action": "Modify", "LogicalResourceId": "F", "ResourceType": "AWS::Lambda::Function", "Replacement": "True"}},
                {"ResourceChange": {"Action": "Modify", "LogicalResourceId": "K", "ResourceType": "AWS::KMS::Key", "Replacement": "False"}}
            ]}"#,
        )
        .unwrap();
        let found = risks(&cs);
        let ids: Vec<&str> = found.iter().map(|r| r.logical_id.as_str()).collect();
        assert_eq!(ids, ["T", "S", "Q"]);
        assert_eq!(found[0].because, "KeySchema requires recreation (Always)");
        assert!(found[1].what.contains("Conditional"));
        assert_eq!(found[2].what, "removed");
    }

    /// A replaced mapping that keeps its stream cannot be replaced by executing the change
    /// set; one of another source can. The report says which, and how make deploy does it.
    #[test]
    fn replaced_mappings_say_how_make_deploy_replaces_them() {
        let cs = parse(
            "x",
            r#"{"Changes": [
                {"ResourceChange": {"Action": "Modify", "LogicalResourceId": "StreamMapping", "ResourceType": "AWS::Lambda::EventSourceMapping", "Replacement": "True",
                  "Details": [{"Target": {"Attribute": "Properties", "Name": "StartingPosition", "RequiresRecreation": "Always"}}]}},
                {"ResourceChange": {"Action": "Modify", "LogicalResourceId": "Fanned", "ResourceType": "AWS::Lambda::EventSourceMapping", "Replacement": "Conditional",
                  "Details": [{"Target": {"Attribute": "Properties", "Name": "EventSourceArn", "RequiresRecreation": "Always"}}]}},
                {"ResourceChange": {"Action": "Modify", "LogicalResourceId": "Tuned", "ResourceType": "AWS::Lambda::EventSourceMapping", "Replacement": "False"}}
            ]}"#,
        )
        .unwrap();
        let found = replaced_mappings(&cs);
        let summary: Vec<(&str, bool)> = found
            .iter()
            .map(|m| (m.logical_id.as_str(), m.same_source))
            .collect();
        assert_eq!(summary, [("StreamMapping", true), ("Fanned", false)]);
        let text = render(&cs);
        assert!(
            text.contains(
                "**Event source mapping replaced in one update:** `StreamMapping` keeps its stream"
            ),
            "{text}"
        );
        assert!(text.contains("executing this change set fails"), "{text}");
        assert!(
            text.contains("**Event source mapping replaced (Replacement: Conditional):** `Fanned` reads another source"),
            "{text}"
        );
        assert_eq!(text.matches("docs/mapping-replacement.md").count(), 2);
        assert!(risks(&cs).is_empty(), "a mapping holds no data");
    }

    #[test]
    fn summary_counts_actions_and_replacements() {
        let a = ResourceChange {
            action: Some("Modify".into()),
            replacement: Some("True".into()),
            ..Default::default()
        };
        let b = ResourceChange {
            action: Some("Add".into()),
            ..Default::default()
        };
        assert_eq!(
            summary(&[&a, &b, &a]),
            "3 changes: 1 Add, 2 Modify (2 replacements)"
        );
    }
}
