//! The markdown rendering of a template diff, for pull request comments: a summary line, a
//! data-loss warning when stateful resources go, a table of resources, one table of
//! property changes per modified resource, and the IAM statement changes.

use std::fmt::Write;

use super::values::{brief_pair, line_diff, multiline_text, Line};
use super::{
    ChangeKind, EntryChange, PropertyChange, Replacement, ResourceChange, Statement, TemplateDiff,
};

/// Longest value shown in a table cell before it is cut.
const MAX_CELL_CHARS: usize = 100;
/// Most lines of a multi-line text's diff shown per property.
const MAX_TEXT_LINES: usize = 60;

/// The diff of `old_name` → `new_name` as GitHub-flavoured markdown.
pub fn render(diff: &TemplateDiff, old_name: &str, new_name: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "## Template diff: {} → {}\n",
        code(old_name),
        code(new_name)
    );
    let _ = writeln!(out, "**Summary:** {}", diff.summary());
    if diff.is_empty() {
        return out;
    }
    data_loss(&mut out, diff);
    out.push_str(&super::traffic::markdown(&diff.traffic));
    if !diff.resources.is_empty() {
        resources(&mut out, &diff.resources);
    }
    if !diff.iam.is_empty() {
        iam(&mut out, diff);
    }
    for (name, entries) in diff.sections() {
        entries_table(&mut out, name, entries);
    }
    if !diff.template.is_empty() {
        let _ = writeln!(out, "\n### Template\n");
        changes_table(
            &mut out,
            diff.template.iter().map(|c| (c, Replacement::None)),
        );
    }
    out
}

fn data_loss(out: &mut String, diff: &TemplateDiff) {
    let losing: Vec<&ResourceChange> = diff.resources.iter().filter(|r| r.loses_data()).collect();
    if losing.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\n> [!CAUTION]\n> **Data loss:** these stateful resources are deleted or replaced, and \
         their data with them:"
    );
    for resource in losing {
        let what = if resource.kind == ChangeKind::Removed {
            "removed".to_owned()
        } else {
            format!("replaced ({})", why(resource))
        };
        let _ = writeln!(
            out,
            "> - {} ({}): {what}",
            code(&resource.logical_id),
            resource.type_name
        );
    }
}

/// The create-only properties behind a replacement, for one cell.
fn why(resource: &ResourceChange) -> String {
    let reasons: Vec<String> = resource
        .reasons
        .iter()
        .map(|r| format!("{} {}", r.property, r.why))
        .collect();
    reasons.join("; ")
}

fn resources(out: &mut String, resources: &[ResourceChange]) {
    let _ = writeln!(out, "\n### Resources\n");
    let _ = writeln!(out, "| | Logical ID | Type | Replacement | Why |");
    let _ = writeln!(out, "|---|---|---|---|---|");
    for resource in resources {
        let rebuilt: Vec<&str> = resource
            .rebuilt_indexes()
            .map(|i| i.index.as_str())
            .collect();
        let verdict = match resource.replacement {
            Replacement::Will => "**replace**".to_owned(),
            Replacement::May => "**may replace**".to_owned(),
            Replacement::None if !rebuilt.is_empty() => {
                format!("no; **rebuilds {}**", rebuilt.join(", "))
            }
            Replacement::None if resource.kind == ChangeKind::Modified => "no".to_owned(),
            Replacement::None => String::new(),
        };
        let mut notes: Vec<String> = resource.notes.clone();
        if let Some(policy) = &resource.kept_by {
            notes.push(format!("{policy}: the old resource is kept"));
        }
        let reasons = why(resource);
        if !reasons.is_empty() {
            notes.insert(0, reasons);
        }
        let _ = writeln!(
            out,
            "| {} | {} | {} | {verdict} | {} |",
            resource.kind.marker(),
            code(&resource.logical_id),
            cell(&resource.type_name),
            cell(&notes.join("; "))
        );
    }
    for resource in resources.iter().filter(|r| !r.changes.is_empty()) {
        let _ = writeln!(
            out,
            "\n#### {} ({})\n",
            code(&resource.logical_id),
            resource.type_name
        );
        changes_table(
            out,
            resource.changes.iter().map(|c| (&c.change, c.replacement)),
        );
    }
}

/// A table of property changes, then a `diff` block for each multi-line text among them.
fn changes_table<'a>(
    out: &mut String,
    changes: impl Iterator<Item = (&'a PropertyChange, Replacement)>,
) {
    let _ = writeln!(out, "| Property | Old | New | Effect |");
    let _ = writeln!(out, "|---|---|---|---|");
    let mut texts = Vec::new();
    for (change, replacement) in changes {
        let effect = match replacement {
            Replacement::Will => "**requires replacement**",
            Replacement::May => "**may cause replacement**",
            Replacement::None => "",
        };
        let multiline = change
            .old
            .as_ref()
            .and_then(multiline_text)
            .zip(change.new.as_ref().and_then(multiline_text));
        let (old, new) = match multiline {
            Some(pair) => {
                texts.push((change.path.to_string(), pair));
                ("(multi-line text, see below)".into(), "".into())
            }
            None => {
                let (old, new) =
                    brief_pair(change.old.as_ref(), change.new.as_ref(), MAX_CELL_CHARS);
                (code(&old), code(&new))
            }
        };
        let _ = writeln!(
            out,
            "| {} | {old} | {new} | {effect} |",
            code(&change.path.to_string())
        );
    }
    for (path, (old, new)) in texts {
        let _ = writeln!(out, "\n{}:\n\n```diff", code(&path));
        let lines = line_diff(old, new);
        for line in lines.iter().take(MAX_TEXT_LINES) {
            let _ = match line {
                Line::Removed(text) => writeln!(out, "- {text}"),
                Line::Added(text) => writeln!(out, "+ {text}"),
            };
        }
        if lines.len() > MAX_TEXT_LINES {
            let _ = writeln!(out, "… {} more changed lines", lines.len() - MAX_TEXT_LINES);
        }
        let _ = writeln!(out, "```");
    }
}

fn iam(out: &mut String, diff: &TemplateDiff) {
    let _ = writeln!(out, "\n### IAM statement changes\n");
    let _ = writeln!(
        out,
        "| | Resource | Effect | Actions | Resources | Principal | Condition |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|");
    let rows = diff
        .iam
        .added
        .iter()
        .map(|s| ("+", s))
        .chain(diff.iam.removed.iter().map(|s| ("-", s)));
    for (marker, statement) in rows {
        let _ = writeln!(out, "{}", statement_row(marker, statement));
    }
}

fn statement_row(marker: &str, s: &Statement) -> String {
    let list = |items: &[String]| -> String {
        items
            .iter()
            .map(|item| code(item))
            .collect::<Vec<_>>()
            .join("<br>")
    };
    format!(
        "| {marker} | {} {} | {} | {} | {} | {} | {} |",
        code(&s.resource),
        cell(&s.document),
        cell(&s.effect),
        list(&s.actions),
        list(&s.resources),
        list(&s.principals),
        s.condition.as_deref().map(code).unwrap_or_default()
    )
}

fn entries_table(out: &mut String, name: &str, entries: &[EntryChange]) {
    if entries.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n### {name}\n");
    let _ = writeln!(out, "| | Name | Changes |");
    let _ = writeln!(out, "|---|---|---|");
    for entry in entries {
        let changes: Vec<String> = entry
            .changes
            .iter()
            .map(|c| {
                let (old, new) = brief_pair(c.old.as_ref(), c.new.as_ref(), MAX_CELL_CHARS);
                format!(
                    "{}: {} → {}",
                    code(&c.path.to_string()),
                    code(&old),
                    code(&new)
                )
            })
            .collect();
        let _ = writeln!(
            out,
            "| {} | {} | {} |",
            entry.kind.marker(),
            code(&entry.name),
            changes.join("<br>")
        );
    }
}

/// Text safe inside a table cell: no pipe ends the cell, no line break (markdown reads a
/// carriage return as one) ends the row.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\r', '\n'], " ")
}

/// A code span safe inside a table cell, whatever backticks the text holds.
fn code(text: &str) -> String {
    if text.is_empty() {
        return String::new();
    }
    let text = cell(text);
    let fence = if text.contains('`') { "``" } else { "`" };
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

#[cfg(test)]
mod tests {
    use super::super::diff;
    use super::*;
    use serde_json::json;

    #[test]
    fn the_summary_and_replacement_are_in_the_comment() {
        let old = json!({"Resources": {
            "T": {"Type": "AWS::DynamoDB::Table", "Properties": {"TableName": "a", "Dash": "x\ny\nz"}},
        }});
        let mut new = old.clone();
        new["Resources"]["T"]["Properties"] = json!({"TableName": "b", "Dash": "x\nY\nz"});
        let text = render(&diff(&old, &new), "dev.yaml", "prod.yaml");
        assert!(
            text.starts_with("## Template diff: `dev.yaml` → `prod.yaml`"),
            "{text}"
        );
        assert!(
            text.contains("**Summary:** 1 resource modified (1 replaced)"),
            "{text}"
        );
        assert!(
            text.contains("| ~ | `T` | AWS::DynamoDB::Table | **replace** | TableName changed |"),
            "{text}"
        );
        assert!(
            text.contains(
                "| `Properties.TableName` | `\"a\"` | `\"b\"` | **requires replacement** |"
            ),
            "{text}"
        );
        assert!(text.contains("> [!CAUTION]"), "{text}");
        assert!(text.contains("```diff\n- y\n+ Y\n```"), "{text}");
    }

    #[test]
    fn pipes_and_backticks_stay_inside_cells() {
        assert_eq!(code("a|b"), "`a\\|b`");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`a"), "`` `a ``");
    }

    #[test]
    fn equal_templates_say_so() {
        let t = json!({"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}});
        let text = render(&diff(&t, &t), "a", "b");
        assert!(text.contains("**Summary:** no changes"));
        assert!(!text.contains("### Resources"));
    }
}
