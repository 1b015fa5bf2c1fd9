//! The template diff on a hand-written template pair (tests/fixtures/template-*.yaml): what
//! a reviewer is told, resource by resource, and the exact text and markdown they read.
//!
//! The renderings are compared with tests/fixtures/template-old-new.{txt,md}. After a
//! deliberate change to the output, `REVIEW_BLESS=1 cargo test -p review --test diff`
//! rewrites them; review the fixtures' diff like any other change.

use std::path::{Path, PathBuf};

use review::diff::{self, ChangeKind, Replacement, TemplateDiff};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn read(name: &str) -> serde_json::Value {
    diff::read_template(&fixture(name)).unwrap_or_else(|err| panic!("{err}"))
}

fn old_to_new() -> TemplateDiff {
    diff::diff(&read("template-old.yaml"), &read("template-new.yaml"))
}

fn resource<'d>(diff: &'d TemplateDiff, id: &str) -> &'d diff::ResourceChange {
    diff.resources
        .iter()
        .find(|r| r.logical_id == id)
        .unwrap_or_else(|| panic!("{id} is not in the diff"))
}

/// Compares with a golden file, or rewrites it when `REVIEW_BLESS` is set.
fn golden(path: &Path, actual: &str) {
    if std::env::var_os("REVIEW_BLESS").is_some() {
        std::fs::write(path, actual).expect("writes the golden file");
    }
    let expected = std::fs::read_to_string(path).expect("the golden file");
    assert!(
        actual == expected,
        "{} differs; if the change is meant, rerun with REVIEW_BLESS=1.\n--- got ---\n{actual}",
        path.display()
    );
}

#[test]
fn every_change_is_listed_once_in_the_new_templates_order() {
    let d = old_to_new();
    let listed: Vec<(&str, ChangeKind, Replacement)> = d
        .resources
        .iter()
        .map(|r| (r.logical_id.as_str(), r.kind, r.replacement))
        .collect();
    assert_eq!(
        listed,
        [
            ("Orders", ChangeKind::Modified, Replacement::May),
            ("OrdersMapping", ChangeKind::Modified, Replacement::May),
            ("Handler", ChangeKind::Modified, Replacement::None),
            ("HandlerRole", ChangeKind::Modified, Replacement::None),
            ("Ledger", ChangeKind::Modified, Replacement::Will),
            ("Parked", ChangeKind::Removed, Replacement::None),
            ("Retries", ChangeKind::Removed, Replacement::None),
        ]
    );
    assert_eq!(
        d.summary(),
        "5 resources modified (1 replaced, 2 may be replaced), 2 removed; IAM: 1 statement \
         added, 1 removed; parameters: 1 modified; outputs: 1 modified"
    );
}

#[test]
fn replacement_data_loss_and_retention_are_told_apart() {
    let d = old_to_new();
    // `!Sub "${Env}-orders"` needs the stack to resolve: the stream may be replaced, and
    // the mapping's create-only EventSourceArn follows it, though its text is unchanged.
    let stream = resource(&d, "Orders");
    assert_eq!(stream.reasons.len(), 1);
    assert_eq!(stream.reasons[0].property, "Name");
    let mapping = resource(&d, "OrdersMapping");
    assert!(mapping.changes.is_empty());
    assert_eq!(mapping.reasons.len(), 1);
    assert!(
        mapping.reasons[0].why.starts_with(
            "references Orders, which may be replaced; Lambda refuses a second mapping"
        ),
        "{}",
        mapping.reasons[0].why
    );
    // The table's key changed: replaced, and nothing keeps the old one.
    let ledger = resource(&d, "Ledger");
    assert_eq!(ledger.reasons.len(), 1);
    assert_eq!(ledger.reasons[0].property, "KeySchema");
    assert!(ledger.loses_data());
    // Removed queues: one kept by its policy, one gone with its messages.
    assert_eq!(
        resource(&d, "Parked").kept_by.as_deref(),
        Some("DeletionPolicy Retain")
    );
    assert!(!resource(&d, "Parked").loses_data());
    assert!(resource(&d, "Retries").loses_data());
    let losing: Vec<&str> = d
        .resources
        .iter()
        .filter(|r| r.loses_data())
        .map(|r| r.logical_id.as_str())
        .collect();
    // A stream that may be replaced is warned about too: its records would go with it.
    assert_eq!(losing, ["Orders", "Ledger", "Retries"]);
    // The widened permission is one statement removed and one added.
    assert_eq!(d.iam.removed.len(), 1);
    assert_eq!(d.iam.added.len(), 1);
    assert_eq!(
        d.iam.added[0].actions,
        ["dynamodb:DeleteItem", "dynamodb:PutItem"]
    );
}

#[test]
fn the_text_and_markdown_renderings_are_exact() {
    let d = old_to_new();
    golden(
        &fixture("template-old-new.txt"),
        &diff::text::render(&d, "old.yaml", "new.yaml", false),
    );
    golden(
        &fixture("template-old-new.md"),
        &diff::markdown::render(&d, "old.yaml", "new.yaml"),
    );
}

#[test]
fn short_forms_and_long_forms_of_one_template_are_equal() {
    let short = read("short-forms.yaml");
    let long = read("long-forms.json");
    assert_eq!(short, long);
    let d = diff::diff(&short, &long);
    assert!(d.is_empty(), "{d:?}");
    assert_eq!(
        diff::text::render(&d, "short-forms.yaml", "long-forms.json", false),
        "Template diff: short-forms.yaml → long-forms.json\nno changes\n"
    );
}

#[test]
fn a_template_diffed_with_itself_has_no_changes() {
    for name in ["template-old.yaml", "template-new.yaml", "short-forms.yaml"] {
        let t = read(name);
        let d = diff::diff(&t, &t);
        assert_eq!(d, TemplateDiff::default(), "{name}");
        assert_eq!(
            diff::markdown::render(&d, "a", "b"),
            "## Template diff: `a` → `b`\n\n**Summary:** no changes\n"
        );
    }
}
