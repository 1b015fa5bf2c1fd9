//! `synth changeset-report` as a script relies on it: the review crate's report printed as
//! is, from a file or stdin, and exit status 2 with the file named when the input is wrong.
//! What the report says is tested in crates/review/tests/changeset.rs.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use review::changeset;

/// The review crate's fixtures: describe-change-set output shaped like AWS's and moto's.
fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../review/tests/fixtures")
        .join(name)
}

fn report(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_synth"))
        .arg("changeset-report")
        .args(args)
        .output()
        .expect("synth runs")
}

fn report_stdin(input: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_synth"))
        .args(["changeset-report", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("synth runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input)
        .expect("writes stdin");
    child.wait_with_output().expect("synth finishes")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn the_report_is_the_libraries_from_a_file_or_stdin() {
    for name in [
        "changeset-prod.json",
        "changeset-empty.json",
        "changeset-moto.json",
    ] {
        let path = fixture(name);
        let expected = changeset::render(&changeset::read(&path).expect("fixture reads"));
        let output = report(&[path.to_str().unwrap()]);
        assert_eq!(output.status.code(), Some(0), "{name}: {}", stderr(&output));
        assert_eq!(String::from_utf8_lossy(&output.stdout), expected, "{name}");
        assert!(output.stderr.is_empty(), "{name}: {}", stderr(&output));

        let piped = report_stdin(&std::fs::read(&path).unwrap());
        assert_eq!(piped.status.code(), Some(0), "{name}: {}", stderr(&piped));
        assert_eq!(piped.stdout, output.stdout, "{name} from stdin");
    }
}

#[test]
fn bad_input_exits_2_naming_the_file() {
    let empty = report_stdin(b"");
    assert_eq!(empty.status.code(), Some(2));
    assert!(
        stderr(&empty).starts_with("error: <stdin>: not describe-change-set output"),
        "{}",
        stderr(&empty)
    );
    assert!(empty.stdout.is_empty());

    let missing = report(&["/nonexistent/cs.json"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("/nonexistent/cs.json: cannot read"));
    assert!(missing.stdout.is_empty());

    let template = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../templates/dev.yaml");
    let wrong = report(&[template.to_str().unwrap()]);
    assert_eq!(wrong.status.code(), Some(2));
    let message = stderr(&wrong);
    assert!(
        message.contains("dev.yaml: not describe-change-set output"),
        "{message}"
    );
    assert!(wrong.stdout.is_empty());
}

/// New code on a canary stack: with the template the change set was made from, the report
/// says the alias shifts gradually and names the alarms that roll it back; without it, what
/// to check; an unreadable template is exit status 2, named.
#[test]
fn new_code_on_a_canary_stack_names_what_rolls_it_back_given_the_template() {
    let change_set = fixture("changeset-new-code.json");
    let prod = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../templates/prod.yaml");
    let output = report(&[
        "--template",
        prod.to_str().unwrap(),
        change_set.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("**Traffic shifts (CodeDeploy):**"), "{text}");
    for named in [
        "`ProcessorAlias` (live) moves to a new `ProcessorVersion` gradually",
        "CodeDeployDefault.LambdaCanary10Percent5Minutes",
        "ErrorsAlarm (retail-events-prod-lambda-errors)",
        "FailedEventsAlarm (retail-events-prod-failed-events)",
        "FailedBatchesAlarm (retail-events-prod-failed-batches)",
    ] {
        assert!(text.contains(named), "{named}: {text}");
    }

    let without = report(&[change_set.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&without.stdout);
    assert!(text.contains("give the template (`--template`)"), "{text}");

    let missing = report(&["--template", "no-such.yaml", change_set.to_str().unwrap()]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("no-such.yaml"),
        "{}",
        stderr(&missing)
    );
}
