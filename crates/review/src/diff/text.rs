//! The terminal rendering of a template diff, close to `cdk diff`'s: `[+]`, `[-]`, `[~]`
//! per resource, one line per property change, replacement spelled out, and a table of IAM
//! statement changes. Colour only when asked for (the caller decides: a terminal, and
//! `NO_COLOR` unset).

use std::fmt::Write;

use super::values::{brief_pair, line_diff, multiline_text, Line};
use super::{
    ChangeKind, EntryChange, PropertyChange, Replacement, ResourceChange, Statement, TemplateDiff,
};

/// Longest value shown on a property line before it is cut.
const MAX_VALUE_CHARS: usize = 160;
/// Most lines of a multi-line text's diff shown per property.
const MAX_TEXT_LINES: usize = 40;

/// ANSI colours, or none.
#[derive(Debug, Clone, Copy)]
struct Paint(bool);

impl Paint {
    fn code(self, code: &str, text: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
    fn kind(self, kind: ChangeKind, text: &str) -> String {
        match kind {
            ChangeKind::Added => self.code("32", text),
            ChangeKind::Removed => self.code("31", text),
            ChangeKind::Modified => self.code("33", text),
        }
    }
}

/// The diff of `old_name` → `new_name` as terminal text, ending with a newline.
pub fn render(diff: &TemplateDiff, old_name: &str, new_name: &str, colour: bool) -> String {
    let paint = Paint(colour);
    let mut out = String::new();
    let _ = writeln!(out, "Template diff: {old_name} → {new_name}");
    let _ = writeln!(out, "{}", diff.summary());
    if diff.is_empty() {
        return out;
    }
    data_loss(&mut out, diff, paint);
    out.push_str(&super::traffic::text(&diff.traffic));
    if !diff.template.is_empty() {
        let _ = writeln!(out, "\nTemplate");
        for change in &diff.template {
            property_line(&mut out, change, "", paint);
        }
    }
    for (name, entries) in diff.sections().into_iter().take(3) {
        section(&mut out, name, entries, paint);
    }
    if !diff.resources.is_empty() {
        let _ = writeln!(out, "\nResources");
        for resource in &diff.resources {
            resource_block(&mut out, resource, paint);
        }
    }
    if !diff.iam.is_empty() {
        let _ = writeln!(out, "\nIAM statement changes");
        iam_table(&mut out, diff, paint);
    }
    section(&mut out, "Outputs", &diff.outputs, paint);
    out
}

fn data_loss(out: &mut String, diff: &TemplateDiff, paint: Paint) {
    let losing: Vec<&ResourceChange> = diff.resources.iter().filter(|r| r.loses_data()).collect();
    if losing.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\n{}",
        paint.code(
            "1;31",
            "WARNING: these stateful resources are deleted or replaced, and their data with them:"
        )
    );
    for resource in losing {
        let what = if resource.kind == ChangeKind::Removed {
            "removed"
        } else {
            "replaced"
        };
        let _ = writeln!(
            out,
            "  {} {} ({what})",
            resource.type_name, resource.logical_id
        );
    }
}

fn section(out: &mut String, name: &str, entries: &[EntryChange], paint: Paint) {
    if entries.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n{name}");
    for entry in entries {
        let marker = format!("[{}]", entry.kind.marker());
        let _ = writeln!(out, "{} {}", paint.kind(entry.kind, &marker), entry.name);
        for change in &entry.changes {
            property_line(out, change, "", paint);
        }
    }
}

fn resource_block(out: &mut String, resource: &ResourceChange, paint: Paint) {
    let marker = format!("[{}]", resource.kind.marker());
    let verdict = match resource.replacement {
        Replacement::Will => format!(" {}", paint.code("1;31", "(replace)")),
        Replacement::May => format!(" {}", paint.code("1;33", "(may replace)")),
        Replacement::None => rebuild_verdict(resource)
            .map(|text| format!(" {}", paint.code("1;33", &text)))
            .unwrap_or_default(),
    };
    let _ = writeln!(
        out,
        "{} {} {}{verdict}",
        paint.kind(resource.kind, &marker),
        resource.type_name,
        resource.logical_id
    );
    for change in &resource.changes {
        let effect = match change.replacement {
            Replacement::Will => format!("  {}", paint.code("31", "[requires replacement]")),
            Replacement::May => format!("  {}", paint.code("33", "[may cause replacement]")),
            Replacement::None => String::new(),
        };
        property_line(out, &change.change, &effect, paint);
    }
    for reason in resource.reasons.iter().filter(|r| !r.why.eq("changed")) {
        let _ = writeln!(out, "    ! {}: {}", reason.property, reason.why);
    }
    for note in &resource.notes {
        let _ = writeln!(out, "    ! {note}");
    }
    if let Some(policy) = &resource.kept_by {
        let _ = writeln!(out, "    ! {policy}: the old resource is kept, not deleted");
    }
}

/// `(rebuilds EventTypeIndex, ProductIndex)` for a table updated in place whose indexes are
/// rebuilt.
fn rebuild_verdict(resource: &ResourceChange) -> Option<String> {
    let names: Vec<&str> = resource
        .rebuilt_indexes()
        .map(|i| i.index.as_str())
        .collect();
    (!names.is_empty()).then(|| format!("(rebuilds {})", names.join(", ")))
}

fn property_line(out: &mut String, change: &PropertyChange, effect: &str, paint: Paint) {
    let old = change.old.as_ref();
    let new = change.new.as_ref();
    if let (Some(a), Some(b)) = (old.and_then(multiline_text), new.and_then(multiline_text)) {
        let _ = writeln!(out, "    ~ {}: (multi-line text){effect}", change.path);
        let lines = line_diff(a, b);
        for line in lines.iter().take(MAX_TEXT_LINES) {
            let _ = match line {
                Line::Removed(text) => {
                    writeln!(out, "      {}", paint.code("31", &format!("- {text}")))
                }
                Line::Added(text) => {
                    writeln!(out, "      {}", paint.code("32", &format!("+ {text}")))
                }
            };
        }
        if lines.len() > MAX_TEXT_LINES {
            let _ = writeln!(
                out,
                "      … {} more changed lines",
                lines.len() - MAX_TEXT_LINES
            );
        }
        return;
    }
    let (marker, kind) = match (old, new) {
        (None, _) => ("+", ChangeKind::Added),
        (_, None) => ("-", ChangeKind::Removed),
        _ => ("~", ChangeKind::Modified),
    };
    let (before, after) = brief_pair(old, new, MAX_VALUE_CHARS);
    let _ = writeln!(
        out,
        "    {} {}: {before} → {after}{effect}",
        paint.kind(kind, marker),
        change.path,
    );
}

fn iam_table(out: &mut String, diff: &TemplateDiff, paint: Paint) {
    let rows: Vec<(ChangeKind, &Statement)> = diff
        .iam
        .added
        .iter()
        .map(|s| (ChangeKind::Added, s))
        .chain(diff.iam.removed.iter().map(|s| (ChangeKind::Removed, s)))
        .collect();
    let header = [
        "",
        "Resource",
        "Effect",
        "Actions",
        "Resources",
        "Principal",
        "Condition",
    ];
    let cells: Vec<[String; 7]> = rows
        .iter()
        .map(|(kind, s)| {
            [
                kind.marker().to_owned(),
                format!("{} {}", s.resource, s.document),
                s.effect.clone(),
                s.actions.join(", "),
                s.resources.join(", "),
                s.principals.join(", "),
                s.condition.clone().unwrap_or_default(),
            ]
        })
        .collect();
    let mut widths = header.map(|h| h.chars().count());
    for row in &cells {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| -> String {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        format!("  {}", padded.join("  ").trim_end())
    };
    let header: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    let _ = writeln!(out, "{}", line(&header));
    for ((kind, _), row) in rows.iter().zip(&cells) {
        let _ = writeln!(out, "{}", paint.kind(*kind, &line(row)));
    }
}

#[cfg(test)]
mod tests {
    use super::super::diff;
    use super::*;
    use serde_json::json;

    fn sample() -> TemplateDiff {
        let old = json!({"Resources": {
            "S": {"Type": "AWS::Kinesis::Stream", "Properties": {"Name": "a", "ShardCount": 1}},
            "R": {"Type": "AWS::IAM::Role", "Properties": {"Policies": [{"PolicyName": "p", "PolicyDocument": {"Statement": [{"Effect": "Allow", "Action": "a:B", "Resource": "*"}]}}]}},
        }});
        let mut new = old.clone();
        new["Resources"]["S"]["Properties"] = json!({"Name": "b", "ShardCount": 2});
        new["Resources"]["R"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"][0]
            ["Action"] = json!("a:*");
        diff(&old, &new)
    }

    #[test]
    fn resources_show_their_changes_and_replacement() {
        let text = render(&sample(), "old.yaml", "new.yaml", false);
        assert!(
            text.contains("Template diff: old.yaml → new.yaml"),
            "{text}"
        );
        assert!(
            text.contains("[~] AWS::Kinesis::Stream S (replace)"),
            "{text}"
        );
        assert!(
            text.contains("Properties.Name: \"a\" → \"b\"  [requires replacement]"),
            "{text}"
        );
        assert!(text.contains("Properties.ShardCount: 1 → 2\n"), "{text}");
        assert!(text.contains("WARNING"), "{text}");
    }

    #[test]
    fn iam_changes_are_a_table() {
        let text = render(&sample(), "a", "b", false);
        let table: Vec<&str> = text[text.find("IAM statement changes").expect("IAM section")..]
            .lines()
            .skip(1)
            .take_while(|l| !l.is_empty())
            .collect();
        assert_eq!(table.len(), 3, "a header and two rows: {table:?}");
        assert!(table[0].contains("Effect"), "{table:?}");
        assert!(
            table[1].trim_start().starts_with('+') && table[1].contains("a:*"),
            "{table:?}"
        );
        assert!(
            table[2].trim_start().starts_with('-') && table[2].contains("a:B"),
            "{table:?}"
        );
    }

    #[test]
    fn colour_is_off_unless_asked_for() {
        assert!(!render(&sample(), "a", "b", false).contains('\x1b'));
        assert!(render(&sample(), "a", "b", true).contains("\x1b[33m"));
    }
}
