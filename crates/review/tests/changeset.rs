//! The change-set report on describe-change-set output shaped like AWS's (fixtures in
//! tests/fixtures/): the header, a row per change, and a data-loss warning a reviewer cannot
//! miss when a stateful resource is replaced or removed.

use std::path::PathBuf;

use review::changeset::{self, ChangeSet};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn read(name: &str) -> ChangeSet {
    changeset::read(&fixture(name)).unwrap_or_else(|err| panic!("{name}: {err}"))
}

fn report(name: &str) -> String {
    changeset::render(&read(name))
}

fn row<'t>(report: &'t str, logical_id: &str) -> &'t str {
    report
        .lines()
        .find(|l| l.starts_with('|') && l.contains(&format!("| `{logical_id}` |")))
        .unwrap_or_else(|| panic!("no row for {logical_id}:\n{report}"))
}

/// The rows of the changes table, header and separator left out.
fn change_rows(report: &str) -> Vec<&str> {
    let table = &report[report.find("### Changes").expect("a changes table")..];
    table
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| Action |"))
        .collect()
}

#[test]
fn the_report_has_a_header_and_a_row_per_change() {
    let report = report("changeset-prod.json");
    assert!(
        report.starts_with("## Change set `synth-20261125-1027` on stack `retail-events-prod`"),
        "{report}"
    );
    assert!(report.contains("| Status | CREATE_COMPLETE |"));
    assert!(report.contains("| Execution status | AVAILABLE |"));
    assert!(report.contains("**Summary:** 7 changes: 1 Add, 5 Modify (2 replacements), 1 Remove"));
    assert!(report.contains("| Action | Logical ID | Type | Replacement | Scope | Details |"));
    assert_eq!(change_rows(&report).len(), 7, "{report}");
    let table = row(&report, "EventTable");
    for expected in [
        "| Modify |",
        "AWS::DynamoDB::Table",
        "**True**",
        "| Properties |",
        "`KeySchema` (Properties)",
        "recreation: **Always**",
        "DirectModification",
    ] {
        assert!(table.contains(expected), "{expected} missing from {table}");
    }
    let function = row(&report, "ProcessorFunction");
    assert!(
        function.contains("ParameterReference, caused by `CodeS3Key`"),
        "{function}"
    );
    assert!(row(&report, "TableThrottlesAlarm").contains("**Conditional**"));
    assert!(row(&report, "ArchiveQueue").starts_with("| Add |"));
    assert!(row(&report, "DeadLetterQueue").starts_with("| Remove |"));
}

#[test]
fn replaced_and_removed_stateful_resources_are_a_prominent_warning() {
    let report = report("changeset-prod.json");
    let warning_at = report.find("> [!CAUTION]").expect("a caution block");
    let table_at = report.find("### Changes").expect("the table");
    assert!(
        warning_at < table_at,
        "the warning must come before the table"
    );
    let warning: Vec<&str> = report[warning_at..table_at]
        .lines()
        .filter(|l| l.starts_with("> - "))
        .collect();
    assert_eq!(warning.len(), 2, "{warning:?}");
    assert!(warning[0].contains("**replaced** `EventTable`") && warning[0].contains("KeySchema"));
    assert!(warning[1].contains("**removed** `DeadLetterQueue`"));
    // Modified in place (stream), stateless (alarm, function) or added: no warning.
    for id in [
        "EventStream",
        "TableThrottlesAlarm",
        "ProcessorFunction",
        "ArchiveQueue",
    ] {
        assert!(
            !warning.iter().any(|l| l.contains(&format!("`{id}`"))),
            "{id} warned"
        );
    }
    let risks = changeset::risks(&read("changeset-prod.json"));
    let ids: Vec<&str> = risks.iter().map(|r| r.logical_id.as_str()).collect();
    assert_eq!(ids, ["EventTable", "DeadLetterQueue"]);
}

#[test]
fn an_empty_change_set_says_no_changes() {
    let report = report("changeset-empty.json");
    assert!(report.contains("**No changes.**"), "{report}");
    assert!(report.contains("didn't contain changes"), "{report}");
    assert!(!report.contains("CAUTION") && !report.contains("| Action |"));
}

#[test]
fn a_sparse_change_set_from_moto_renders_with_blanks() {
    let parsed = read("changeset-moto.json");
    let risks = changeset::risks(&parsed);
    assert_eq!(risks.len(), 1);
    assert_eq!(risks[0].logical_id, "EventTable");

    let report = changeset::render(&parsed);
    assert!(row(&report, "EventStream")
        .starts_with("| Add | `EventStream` | AWS::Kinesis::Stream | – |"));
    assert!(
        row(&report, "OldTopic").contains("| Remove | `OldTopic` | – |"),
        "{report}"
    );
    assert!(
        !report.contains("| Created |"),
        "absent fields are left out"
    );
}

#[test]
fn unreadable_and_wrong_documents_are_named() {
    let missing = changeset::read(&PathBuf::from("/nonexistent/cs.json")).unwrap_err();
    assert!(
        missing
            .to_string()
            .starts_with("/nonexistent/cs.json: cannot read"),
        "{missing}"
    );
    let template = "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n";
    let wrong = changeset::parse("dev.yaml", template).unwrap_err();
    assert!(
        wrong
            .to_string()
            .starts_with("dev.yaml: not describe-change-set output: not valid JSON"),
        "{wrong}"
    );
}

#[test]
fn a_byte_order_mark_is_accepted() {
    let text = std::fs::read_to_string(fixture("changeset-prod.json")).unwrap();
    let with_bom = format!("\u{feff}{text}");
    let parsed = changeset::parse("bom.json", &with_bom).expect("a BOM is not an error");
    assert_eq!(parsed, read("changeset-prod.json"));
}
