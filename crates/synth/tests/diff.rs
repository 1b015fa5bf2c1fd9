//! `synth diff` as a reviewer relies on it: every changed resource named, replacement
//! predicted from the schemas' create-only properties (and not predicted for in-place
//! updates), and the exit status scripts branch on.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::{Command, Output};

use review::diff::{self, ChangeKind, Replacement, TemplateDiff};
use serde_json::Value;
use synth::config::Config;

fn synth(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_synth"))
        .args(args)
        .current_dir(repo_root())
        .output()
        .expect("synth runs")
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A committed template parsed independently of synth's loader.
fn committed(preset: &str) -> Value {
    let text = std::fs::read_to_string(repo_root().join(format!("templates/{preset}.yaml")))
        .expect("committed template");
    serde_yaml::from_str(&text).expect("YAML")
}

/// The template synth builds for a configuration, as a generic document.
fn synthesized(config: &Config) -> Value {
    config.validate().expect("valid config");
    synth::stack::build(config)
        .to_document()
        .expect("synthesizes")
}

fn with(edit: impl FnOnce(&mut Config)) -> Config {
    let mut config = Config::default();
    edit(&mut config);
    config
}

fn resource<'d>(diff: &'d TemplateDiff, id: &str) -> &'d diff::ResourceChange {
    diff.resources
        .iter()
        .find(|r| r.logical_id == id)
        .unwrap_or_else(|| panic!("{id} is not in the diff: {:?}", ids(diff)))
}

fn ids(diff: &TemplateDiff) -> Vec<&str> {
    diff.resources
        .iter()
        .map(|r| r.logical_id.as_str())
        .collect()
}

/// Resource IDs whose definitions differ, or that exist on one side only.
fn changed_ids(old: &Value, new: &Value) -> BTreeSet<String> {
    let old = old["Resources"].as_object().expect("old resources");
    let new = new["Resources"].as_object().expect("new resources");
    old.keys()
        .chain(new.keys())
        .filter(|id| old.get(*id) != new.get(*id))
        .cloned()
        .collect()
}

#[test]
fn dev_to_prod_names_every_changed_resource() {
    let (dev, prod) = (committed("dev"), committed("prod"));
    let expected = changed_ids(&dev, &prod);
    let all: BTreeSet<String> = dev["Resources"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    // Exact, so a change to the stack that widens or narrows the gap between the presets is
    // looked at: update the numbers when the stack changes on purpose.
    assert_eq!(all.len(), 38, "resources in dev: {all:?}");
    // prod's canary deploys (deploy_strategy) add the version, the alias and CodeDeploy's
    // application, group and role.
    assert_eq!(expected.len(), 41, "resources differing: {expected:?}");

    let output = synth(&["diff", "templates/dev.yaml", "templates/prod.yaml"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let text = stdout(&output);
    let listed: BTreeSet<String> = text
        .lines()
        .filter(|l| {
            l.starts_with("[~] AWS::") || l.starts_with("[+] AWS::") || l.starts_with("[-] AWS::")
        })
        .filter_map(|l| l.split_whitespace().nth(2))
        .map(str::to_owned)
        .collect();
    let missing: Vec<&String> = expected.difference(&listed).collect();
    assert!(missing.is_empty(), "not named: {missing:?}\n{text}");

    // Anything else listed must be a dependent replaced through a reference, never an
    // unchanged resource listed by mistake.
    let library = diff::diff(&dev, &prod);
    for id in listed.difference(&expected) {
        let change = resource(&library, id);
        assert_ne!(
            change.replacement,
            Replacement::None,
            "{id} listed without a change"
        );
        assert!(change.changes.is_empty(), "{id}");
        assert!(
            change
                .reasons
                .iter()
                .all(|r| r.why.starts_with("references ")),
            "{id}"
        );
    }
    // The one dependent: the e-mail subscription's create-only TopicArn names the renamed
    // topic.
    let dependents: Vec<&String> = listed.difference(&expected).collect();
    assert_eq!(dependents, ["AlertEmailSubscription"]);
    // The policies did not change, so not every resource is listed.
    let untouched: Vec<&String> = all.difference(&listed).collect();
    assert_eq!(untouched.len(), 3, "{untouched:?}");
    assert_eq!(library.resources.len(), listed.len());

    let markdown = stdout(&synth(&[
        "diff",
        "templates/dev.yaml",
        "templates/prod.yaml",
        "--format",
        "markdown",
    ]));
    for id in &expected {
        assert!(
            markdown.contains(&format!("| `{id}` |")),
            "markdown lacks {id}"
        );
    }
    assert!(markdown.contains("**Summary:** "), "{markdown}");
}

#[test]
fn dev_to_prod_calls_out_the_iam_statement_changes() {
    let d = diff::diff(&committed("dev"), &committed("prod"));
    // The function name sits in the key policy's log group condition: that statement is
    // removed with dev's name and added with prod's. (The role names no function since it
    // lost the environment-decrypt statement Lambda never used.) prod's event archive adds
    // its bucket's TLS rule, the role's and the --local tools' writes to it, and replay's
    // reads of it; its canary deploys, CodeDeploy's role (trust and three statements).
    let documents = |statements: &[diff::Statement]| -> Vec<(String, String)> {
        statements
            .iter()
            .map(|s| (s.resource.clone(), s.document.clone()))
            .collect()
    };
    let pair = |resource: &str, document: &str| (resource.to_owned(), document.to_owned());
    let key_policy = pair("DataKey", "KeyPolicy");
    assert_eq!(
        documents(&d.iam.added),
        [
            key_policy.clone(),
            pair("ArchiveBucketPolicy", "PolicyDocument"),
            pair("ProcessorRole", "Policies[processor]"),
            pair("ProcessorDeployRole", "AssumeRolePolicyDocument"),
            pair("ProcessorDeployRole", "Policies[shift-live-alias]"),
            pair("ProcessorDeployRole", "Policies[shift-live-alias]"),
            pair("ProcessorDeployRole", "Policies[shift-live-alias]"),
            pair("RedrivePolicy", "PolicyDocument"),
            pair("ReplayPolicy", "PolicyDocument"),
            pair("ReplayPolicy", "PolicyDocument"),
            pair("ReplayPolicy", "PolicyDocument"),
        ],
        "{:?}",
        d.iam.added
    );
    assert_eq!(
        documents(&d.iam.removed),
        [key_policy],
        "{:?}",
        d.iam.removed
    );
    let condition = |s: &diff::Statement| s.condition.clone().unwrap_or_default();
    assert!(
        condition(&d.iam.added[0]).contains("retail-events-prod-processor"),
        "{:?}",
        d.iam.added[0]
    );
    assert!(
        condition(&d.iam.removed[0]).contains("retail-events-dev-processor"),
        "{:?}",
        d.iam.removed[0]
    );
    let text = stdout(&synth(&[
        "diff",
        "templates/dev.yaml",
        "templates/prod.yaml",
    ]));
    assert!(text.contains("IAM statement changes"), "{text}");
}

#[test]
fn renamed_stream_queue_and_function_are_replaced() {
    let old = synthesized(&Config::default());
    let new = synthesized(&with(|c| c.project_name = "orders".into()));
    let d = diff::diff(&old, &new);
    for (id, property) in [
        ("EventStream", "Name"),
        ("DeadLetterQueue", "QueueName"),
        ("ProcessorFunction", "FunctionName"),
        ("EventTable", "TableName"),
    ] {
        let change = resource(&d, id);
        assert_eq!(change.replacement, Replacement::Will, "{id}");
        assert!(
            change.reasons.iter().any(|r| r.property == property),
            "{id}: {:?}",
            change.reasons
        );
        let path = format!("Properties.{property}");
        let property_change = change
            .changes
            .iter()
            .find(|c| c.change.path.to_string() == path)
            .unwrap_or_else(|| panic!("{id} lacks a change of {path}"));
        assert_eq!(property_change.replacement, Replacement::Will, "{id}");
    }
    // The mapping's EventSourceArn is unchanged text but points at the new stream.
    assert_eq!(resource(&d, "StreamMapping").replacement, Replacement::Will);
}

#[test]
fn a_changed_key_schema_replaces_the_table() {
    let old = synthesized(&Config::default());
    let mut new = old.clone();
    let keys = &mut new["Resources"]["EventTable"]["Properties"]["KeySchema"];
    assert_eq!(
        keys[1]["AttributeName"], "eventKey",
        "the sort key moved: fix the test"
    );
    keys[1]["AttributeName"] = "eventTimestamp".into();
    let d = diff::diff(&old, &new);
    assert_eq!(ids(&d), ["EventTable"]);
    let table = resource(&d, "EventTable");
    assert_eq!(table.replacement, Replacement::Will);
    assert_eq!(table.reasons[0].property, "KeySchema");
    assert_eq!(
        table.changes[0].change.path.to_string(),
        "Properties.KeySchema[1].AttributeName"
    );
    assert_eq!(table.changes[0].replacement, Replacement::Will);
    assert!(table.loses_data(), "dev deletes a replaced table");
    let text = diff::text::render(&d, "a", "b", false);
    assert!(
        text.contains("[~] AWS::DynamoDB::Table EventTable (replace)"),
        "{text}"
    );
    assert!(text.contains("WARNING"), "{text}");
}

#[test]
fn index_write_shards_rebuild_both_indexes_and_keep_the_table() {
    let base = template_file("default", &[]);
    let sharded = template_file("sharded", &["--set", "dynamodb_index_write_shards=8"]);
    let output = synth(&["diff", &base, &sharded]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.contains("2 resources modified (2 indexes rebuilt)"),
        "{text}"
    );
    assert!(
        text.contains(
            "[~] AWS::DynamoDB::Table EventTable (rebuilds EventTypeIndex, ProductIndex)"
        ),
        "{text}"
    );
    for (index, old, new) in [
        ("EventTypeIndex", "eventType", "eventTypeShard"),
        ("ProductIndex", "productId", "productIdShard"),
    ] {
        let note = format!(
            "    ! index {index} is rebuilt (KeySchema HASH {old} → {new}): it is deleted and \
             built again from the table, and queries on it fail until it is backfilled\n"
        );
        assert!(text.contains(&note), "{note}\n{text}");
    }
    assert!(text.contains("so this takes 4 deployments"), "{text}");
    // The indexes' new keys are on the items the processor writes from now on; the
    // rollout ends with the tool that gives them to the items stored before.
    assert!(
        text.contains("after the last deployment run `backfill --stack-name STACK`"),
        "{text}"
    );
    // Not replaced, so no data-loss warning; the function only gains a variable.
    assert!(!text.contains("WARNING"), "{text}");
    assert!(!text.contains("(replace)"), "{text}");
    assert!(
        text.contains(
            "    + Properties.Environment.Variables.INDEX_WRITE_SHARDS: (absent) → \"8\"\n"
        ),
        "{text}"
    );

    let d = diff::diff(
        &synthesized(&Config::default()),
        &synthesized(&with(|c| c.dynamodb_index_write_shards = 8)),
    );
    assert_eq!(ids(&d), ["EventTable", "ProcessorFunction"]);
    let table = resource(&d, "EventTable");
    assert_eq!(table.replacement, Replacement::None);
    let rebuilt: Vec<&str> = table.rebuilt_indexes().map(|i| i.index.as_str()).collect();
    assert_eq!(rebuilt, ["EventTypeIndex", "ProductIndex"]);
    assert!(!table.loses_data());
    assert_eq!(d.summary(), "2 resources modified (2 indexes rebuilt)");
    let markdown = stdout(&synth(&["diff", &base, &sharded, "--format", "markdown"]));
    assert!(
        markdown.contains("| no; **rebuilds EventTypeIndex, ProductIndex** |"),
        "{markdown}"
    );
    std::fs::remove_file(&base).ok();
    std::fs::remove_file(&sharded).ok();
}

/// dev → prod renames the table, which replaces it: the new table is created with the new
/// indexes, so the index rollout (and its backfill) cannot apply and is not printed.
#[test]
fn a_replaced_table_gets_no_index_rollout() {
    let output = synth(&["diff", "templates/dev.yaml", "templates/prod.yaml"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.contains("[~] AWS::DynamoDB::Table EventTable (replace)\n"),
        "{text}"
    );
    for rollout in [
        "deployments",
        "is rebuilt (",
        "`backfill",
        "indexes rebuilt",
    ] {
        assert!(!text.contains(rollout), "{rollout:?} printed:\n{text}");
    }
    assert!(
        text.contains(
            "    ! the table is replaced, so its indexes (EventTypeIndex, ProductIndex) are \
             created with the new table: no index is rebuilt and no index rollout applies\n"
        ),
        "{text}"
    );
    let d = diff::diff(&committed("dev"), &committed("prod"));
    let table = resource(&d, "EventTable");
    assert_eq!(table.replacement, Replacement::Will);
    assert!(table.indexes.is_empty(), "{:?}", table.indexes);
    assert!(!d.summary().contains("rebuilt"), "{}", d.summary());
}

#[test]
fn a_new_projection_rebuilds_the_indexes_and_a_new_table_class_updates_in_place() {
    let base = synthesized(&Config::default());
    let projected = synthesized(&with(|c| {
        c.dynamodb_gsi_projection = synth::config::GsiProjection::KeysOnly
    }));
    let d = diff::diff(&base, &projected);
    assert_eq!(ids(&d), ["EventTable"]);
    let table = resource(&d, "EventTable");
    assert_eq!(table.replacement, Replacement::None);
    let because: Vec<(&str, &[String])> = table
        .rebuilt_indexes()
        .map(|i| (i.index.as_str(), i.because.as_slice()))
        .collect();
    let projection = ["Projection ALL → KEYS_ONLY".to_string()];
    assert_eq!(
        because,
        [
            ("EventTypeIndex", &projection[..]),
            ("ProductIndex", &projection[..])
        ]
    );
    assert_eq!(d.summary(), "1 resource modified (2 indexes rebuilt)");

    let class = synthesized(&with(|c| {
        c.dynamodb_table_class = synth::config::TableClass::StandardInfrequentAccess
    }));
    let d = diff::diff(&base, &class);
    assert_eq!(ids(&d), ["EventTable"]);
    let table = resource(&d, "EventTable");
    assert_eq!(table.replacement, Replacement::None);
    assert_eq!(table.rebuilt_indexes().count(), 0);
    assert_eq!(
        table.changes[0].change.path.to_string(),
        "Properties.TableClass"
    );
    assert_eq!(d.summary(), "1 resource modified");
}

/// Writes the template synth prints for `args` to a temporary file; returns its path.
fn template_file(name: &str, args: &[&str]) -> String {
    let output = synth(args);
    assert!(output.status.success(), "{}", stderr(&output));
    let path = std::env::temp_dir().join(format!("synth-diff-{name}-{}.yaml", std::process::id()));
    std::fs::write(&path, output.stdout).unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn capacity_memory_and_batch_size_update_in_place() {
    let base = synthesized(&Config::default());
    let cases: [(Config, &str, &str); 3] = [
        (
            with(|c| c.kinesis_shard_count = 4),
            "EventStream",
            "Properties.ShardCount",
        ),
        (
            with(|c| c.lambda_memory_size = 1024),
            "ProcessorFunction",
            "Properties.MemorySize",
        ),
        (
            with(|c| c.lambda_batch_size = 500),
            "StreamMapping",
            "Properties.BatchSize",
        ),
    ];
    for (config, id, path) in cases {
        let d = diff::diff(&base, &synthesized(&config));
        let change = resource(&d, id);
        assert_eq!(change.kind, ChangeKind::Modified);
        assert_eq!(
            change.replacement,
            Replacement::None,
            "{id}: {:?}",
            change.reasons
        );
        assert!(
            change
                .changes
                .iter()
                .any(|c| c.change.path.to_string() == path),
            "{id} lacks {path}"
        );
        assert!(
            d.resources
                .iter()
                .all(|r| r.replacement == Replacement::None),
            "{id}: something is replaced: {:?}",
            d.resources
        );
        assert_eq!(ids(&d), [id], "only {id} changes");
        assert_eq!(d.summary(), "1 resource modified");
    }
}

#[test]
fn an_unresolvable_name_may_replace() {
    let old = synthesized(&Config::default());
    let mut new = old.clone();
    new["Resources"]["DeadLetterQueue"]["Properties"]["QueueName"] =
        serde_json::json!({"Fn::Sub": "${AWS::StackName}-dlq"});
    let d = diff::diff(&old, &new);
    assert_eq!(
        resource(&d, "DeadLetterQueue").replacement,
        Replacement::May
    );
}

#[test]
fn equal_templates_exit_0() {
    let d = diff::diff(&committed("dev"), &committed("dev"));
    assert!(d.is_empty());
    let output = synth(&["diff", "templates/dev.yaml", "templates/dev.yaml"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).contains("no changes"));
}

#[test]
fn yaml_and_json_of_one_template_are_equal_and_stdin_works() {
    let json = synth(&["--format", "json"]).stdout;
    let path = std::env::temp_dir().join(format!("synth-diff-{}.json", std::process::id()));
    std::fs::write(&path, json).unwrap();
    let output = synth(&["diff", "templates/dev.yaml", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    std::fs::remove_file(&path).ok();

    let mut child = Command::new(env!("CARGO_BIN_EXE_synth"))
        .args(["diff", "-", "templates/prod.yaml"])
        .current_dir(repo_root())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let dev = std::fs::read(repo_root().join("templates/dev.yaml")).unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), &dev).unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).starts_with("Template diff: <stdin> → templates/prod.yaml"));
}

#[test]
fn bad_input_exits_2_naming_the_file_and_the_problem() {
    let cases: [(&[&str], &str); 4] = [
        (
            &["diff", "templates/dev.yaml", "/nonexistent/new.yaml"],
            "/nonexistent/new.yaml: cannot read",
        ),
        (
            &[
                "diff",
                "crates/synth/presets/prod.toml",
                "templates/dev.yaml",
            ],
            "crates/synth/presets/prod.toml: not",
        ),
        (
            &[
                "diff",
                "crates/review/tests/fixtures/changeset-prod.json",
                "templates/dev.yaml",
            ],
            "changeset-prod.json: not a CloudFormation template: no Resources section",
        ),
        (&["diff", "-", "-"], "only one of OLD and NEW"),
    ];
    for (args, expected) in cases {
        let output = synth(args);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains(expected),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(output.stdout.is_empty(), "{args:?} printed a diff");
    }
}

/// The buckets hold data: switching the on-failure destination back to the queue, or the
/// archive off, removes a bucket, which the diff warns loses data unless a retain policy
/// keeps it (prod's `retain_data_on_delete`).
#[test]
fn removing_a_bucket_is_a_data_loss_unless_it_is_retained() {
    let old = synthesized(&Config::default());
    let new = synthesized(&with(|c| {
        c.on_failure_destination = synth::config::OnFailureDestination::Sqs
    }));
    let d = diff::diff(&old, &new);
    assert!(resource(&d, "FailureBucket").loses_data());
    assert!(!resource(&d, "StreamMapping").loses_data());

    let prod = Config::from_preset("prod").unwrap();
    let old = synthesized(&prod);
    let new = synthesized(&Config {
        archive_events: false,
        ..prod
    });
    let d = diff::diff(&old, &new);
    let archive = resource(&d, "ArchiveBucket");
    assert!(archive.kept_by.is_some(), "prod retains its archive");
    assert!(!archive.loses_data());
}

/// A template that brings tumbling windows together with a setting whose behaviour with them
/// AWS does not document gets a warning on stderr; one that already had it does not.
#[test]
fn a_new_undocumented_window_combination_is_warned_about() {
    let plain = template_file("windowless", &["--set", "aggregate_window_seconds=0"]);
    let windowed = template_file("windowed", &[]);
    let output = synth(&["diff", &plain, &windowed]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let message = stderr(&output);
    assert!(
        message.starts_with(
            "warning: aggregate_window_seconds = 60 with \
             lambda_bisect_batch_on_function_error = true: AWS documents no behaviour"
        ),
        "{message}"
    );
    assert_eq!(message.lines().count(), 1, "{message}");
    let again = synth(&["diff", &windowed, &windowed]);
    assert_eq!(again.status.code(), Some(0));
    assert!(stderr(&again).is_empty(), "{}", stderr(&again));
    let back = synth(&["diff", &windowed, &plain]);
    assert!(stderr(&back).is_empty(), "{}", stderr(&back));
    for path in [plain, windowed] {
        let _ = std::fs::remove_file(path);
    }
}

/// A key given twice is refused at its second occurrence, with its name, however far it
/// is from the mapping's first key (serde_yaml alone names that first key's line).
#[test]
fn a_duplicate_key_is_reported_at_its_own_line() {
    let dev = std::fs::read_to_string(repo_root().join("templates/dev.yaml")).unwrap();
    let duplicated = dev.replacen(
        "  DeadLetterQueue:\n",
        "  EventStream:\n    Type: AWS::SQS::Queue\n  DeadLetterQueue:\n",
        1,
    );
    let line = duplicated
        .lines()
        .position(|l| l == "  EventStream:")
        .map(|first| {
            first
                + 2
                + duplicated
                    .lines()
                    .skip(first + 1)
                    .position(|l| l == "  EventStream:")
                    .unwrap()
        })
        .unwrap();
    assert!(line > 100, "the duplicate is far down: line {line}");
    let path = std::env::temp_dir().join(format!("synth-diff-dup-{}.yaml", std::process::id()));
    std::fs::write(&path, duplicated).unwrap();
    let output = synth(&["diff", "templates/dev.yaml", path.to_str().unwrap()]);
    std::fs::remove_file(&path).ok();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert_eq!(
        stderr(&output),
        format!(
            "error: {}: not valid YAML: Resources: duplicate entry with key \"EventStream\" at \
             line {line} column 3\n",
            path.display()
        )
    );
}

/// 200 KB of nested brackets used to take serde_yaml tens of seconds to refuse; now the
/// nesting is measured first and refused at the first bracket past 128 levels.
#[test]
fn a_file_of_deeply_nested_brackets_is_refused_naming_the_depth() {
    let dir = std::env::temp_dir();
    let lists = dir.join(format!("synth-diff-lists-{}.yaml", std::process::id()));
    let objects = dir.join(format!("synth-diff-objects-{}.json", std::process::id()));
    std::fs::write(&lists, "[".repeat(100_000) + &"]".repeat(100_000)).unwrap();
    std::fs::write(
        &objects,
        r#"{"a":"#.repeat(33_000) + "1" + &"}".repeat(33_000),
    )
    .unwrap();
    for (path, column) in [(&lists, 129), (&objects, 641)] {
        let output = synth(&["diff", path.to_str().unwrap(), "templates/dev.yaml"]);
        assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
        assert_eq!(
            stderr(&output),
            format!(
                "error: {}: nested more than 128 levels deep at line 1 column {column}; a \
                 CloudFormation template never is\n",
                path.display()
            )
        );
        std::fs::remove_file(path).ok();
    }
}

/// The JSON form holds the same changes as the text a reviewer reads: every resource with
/// its marker, every property path, the summary, the IAM rows, and the same exit status.
#[test]
fn the_json_form_parses_and_holds_the_text_forms_changes() {
    let args = ["diff", "templates/dev.yaml", "templates/prod.yaml"];
    let text = synth(&args);
    let json = synth(&[&args[..], &["--format", "json"]].concat());
    assert_eq!(json.status.code(), Some(1), "{}", stderr(&json));
    assert_eq!(json.status.code(), text.status.code());
    let document: Value = serde_json::from_slice(&json.stdout).expect("one JSON document");
    let text = stdout(&text);
    assert_eq!(document["format_version"], 1);
    assert_eq!(document["old"], "templates/dev.yaml");
    assert_eq!(document["new"], "templates/prod.yaml");
    assert_eq!(document["equal"], false);
    assert_eq!(
        text.lines().nth(1),
        document["summary"].as_str(),
        "the summary line"
    );
    let resources = document["resources"].as_array().expect("resources");
    // `[~] AWS::Kinesis::Stream EventStream (replace)`; entries are `[~] Name`.
    let listed: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with('[') && l.contains(" AWS::"))
        .collect();
    let marker = |change: &Value| match change.as_str() {
        Some("added") => "+",
        Some("removed") => "-",
        _ => "~",
    };
    for resource in resources {
        let line = format!(
            "[{}] {} {}",
            marker(&resource["change"]),
            resource["type"].as_str().unwrap(),
            resource["logical_id"].as_str().unwrap()
        );
        assert!(
            listed
                .iter()
                .any(|l| *l == line || l.starts_with(&format!("{line} "))),
            "{line} is not in the text"
        );
        for change in resource["changes"].as_array().unwrap() {
            let path = change["path"].as_str().unwrap();
            assert!(
                text.contains(&format!(" {path}: ")),
                "{line}: {path} is not in the text"
            );
        }
    }
    assert_eq!(listed.len(), resources.len(), "{listed:#?}");
    let iam = &document["iam"];
    let rows = iam["added"].as_array().unwrap().len() + iam["removed"].as_array().unwrap().len();
    let table = text.split("IAM statement changes\n").nth(1).map_or(0, |t| {
        t.lines().skip(1).take_while(|l| !l.is_empty()).count()
    });
    assert_eq!(rows, table, "one IAM row each");
    for (name, section) in [("Outputs", "outputs"), ("Parameters", "parameters")] {
        for entry in document[section].as_array().unwrap() {
            let line = format!(
                "[{}] {}",
                marker(&entry["change"]),
                entry["name"].as_str().unwrap()
            );
            assert!(text.contains(&line), "{name}: {line} is not in the text");
        }
    }
    // Equal templates: an empty document and exit 0.
    let same = synth(&[
        "diff",
        "templates/dev.yaml",
        "templates/dev.yaml",
        "--format",
        "json",
    ]);
    assert_eq!(same.status.code(), Some(0));
    let document: Value = serde_json::from_slice(&same.stdout).unwrap();
    assert_eq!(document["equal"], true);
    assert_eq!(document["resources"], serde_json::json!([]));
}

/// A gradual deploy_strategy: a configuration change publishes a new version, which the diff
/// says CodeDeploy shifts to gradually, naming what rolls it back; a change elsewhere shifts
/// nothing; switching the strategy on says this deploy moves traffic at once.
#[test]
fn a_new_version_under_codedeploys_alias_is_called_out_with_its_rollback_alarms() {
    let canary = |edit: fn(&mut Config)| {
        synthesized(&with(|c| {
            c.deploy_strategy = synth::config::DeployStrategy::Canary10Percent5Minutes;
            edit(c);
        }))
    };
    let before = canary(|_| {});
    let bigger = diff::diff(&before, &canary(|c| c.lambda_memory_size = 512));
    assert_eq!(bigger.traffic.len(), 1, "{:?}", bigger.traffic);
    assert_eq!(
        bigger.traffic[0].shift,
        diff::traffic::Shift::Gradual(Replacement::Will)
    );
    let sentence = bigger.traffic[0].sentence();
    for named in [
        "`ProcessorAlias` (live) moves to a new `ProcessorVersion` gradually",
        "CodeDeployDefault.LambdaCanary10Percent5Minutes",
        "ErrorsAlarm (retail-events-dev-lambda-errors)",
        "FailedEventsAlarm (retail-events-dev-failed-events)",
        "FailedBatchesAlarm (retail-events-dev-failed-batches)",
    ] {
        assert!(sentence.contains(named), "{named}: {sentence}");
    }
    let text = review::diff::text::render(&bigger, "old", "new", false);
    assert!(
        text.contains("\nTraffic shifts (CodeDeploy)\n  ProcessorAlias (live) moves"),
        "{text}"
    );

    let elsewhere = diff::diff(&before, &canary(|c| c.kinesis_shard_count = 2));
    assert!(elsewhere.traffic.is_empty(), "{:?}", elsewhere.traffic);

    let switched = diff::diff(&synthesized(&Config::default()), &before);
    assert_eq!(switched.traffic.len(), 1);
    assert_eq!(switched.traffic[0].shift, diff::traffic::Shift::Starts);
}
