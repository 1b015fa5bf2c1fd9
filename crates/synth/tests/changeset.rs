//! `synth changeset-report` on describe-change-set output shaped like AWS's (fixtures in
//! tests/fixtures/): the header, a row per change, and a data-loss warning a reviewer cannot
//! miss when a stateful resource is replaced or removed.

use std::path::PathBuf;
use std::process::{Command, Output};

use synth::changeset;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn report(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_synth"))
        .arg("changeset-report")
        .args(args)
        .output()
        .expect("synth runs")
}

fn text(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn row<'t>(report: &'t str, logical_id: &str) -> &'t str {
    report
        .lines()
        .find(|l| l.starts_with('|') && l.contains(&format!("| `{logical_id}` |")))
        .unwrap_or_else(|| panic!("no row for {logical_id}:\n{report}"))
}

#[test]
fn the_report_has_a_header_and_a_row_per_change() {
    let output = report(&[fixture("changeset-prod.json").to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0));
    let report = text(&output);
    assert!(
        report.starts_with("## Change set `synth-20261125-1027` on stack `retail-events-prod`"),
        "{report}"
    );
    assert!(report.contains("| Status | CREATE_COMPLETE |"));
    assert!(report.contains("| Execution status | AVAILABLE |"));
    assert!(report.contains("**Summary:** 7 changes: 1 Add, 5 Modify (2 replacements), 1 Remove"));
    assert!(report.contains("| Action | Logical ID | Type | Replacement | Scope | Details |"));
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
    let report = text(&report(&[fixture("changeset-prod.json").to_str().unwrap()]));
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
}

#[test]
fn an_empty_change_set_says_no_changes() {
    let output = report(&[fixture("changeset-empty.json").to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0));
    let report = text(&output);
    assert!(report.contains("**No changes.**"), "{report}");
    assert!(report.contains("didn't contain changes"), "{report}");
    assert!(!report.contains("CAUTION") && !report.contains("| Action |"));
}

#[test]
fn a_sparse_change_set_from_moto_renders_with_blanks() {
    let output = report(&["-"]);
    // No stdin given: an empty document is not a change set.
    assert_eq!(output.status.code(), Some(2));

    let path = fixture("changeset-moto.json");
    let parsed = changeset::read(&path).expect("moto's output reads");
    let risks = changeset::risks(&parsed);
    assert_eq!(risks.len(), 1);
    assert_eq!(risks[0].logical_id, "EventTable");

    let report = text(&report(&[path.to_str().unwrap()]));
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
fn bad_input_exits_2_naming_the_file() {
    let missing = report(&["/nonexistent/cs.json"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("/nonexistent/cs.json: cannot read"));

    let template = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../templates/dev.yaml");
    let wrong = report(&[template.to_str().unwrap()]);
    assert_eq!(wrong.status.code(), Some(2));
    let message = String::from_utf8_lossy(&wrong.stderr);
    assert!(
        message.contains("dev.yaml: not describe-change-set output"),
        "{message}"
    );
    assert!(wrong.stdout.is_empty());
}
