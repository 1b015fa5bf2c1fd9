//! The `synth` binary as a user runs it: output on stdout only on success, exit 2 and a
//! message naming the key on bad input, byte-identical output across runs.

mod common;

use common::{stderr, synth};

#[test]
fn no_arguments_prints_the_dev_template_as_yaml() {
    let output = synth(&[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = String::from_utf8(output.stdout).expect("utf-8");
    assert!(
        text.starts_with("AWSTemplateFormatVersion: \"2010-09-09\"\n"),
        "{}",
        &text[..80]
    );
    assert!(text.contains("AWS::Lambda::EventSourceMapping"));
}

#[test]
fn two_runs_are_byte_identical() {
    for args in [&[][..], &["--preset", "prod", "--format", "json"][..]] {
        let first = synth(args).stdout;
        let second = synth(args).stdout;
        assert!(!first.is_empty());
        assert_eq!(first, second, "args {args:?}");
    }
}

#[test]
fn json_output_is_the_same_document_as_yaml() {
    let yaml: serde_json::Value =
        serde_yaml::from_slice(&synth(&["--preset", "staging"]).stdout).expect("yaml");
    let json: serde_json::Value =
        serde_json::from_slice(&synth(&["--preset", "staging", "--format", "json"]).stdout)
            .expect("json");
    assert_eq!(yaml, json);
}

#[test]
fn a_bad_value_exits_2_names_the_key_and_range_and_prints_nothing() {
    let output = synth(&["--set", "kinesis_shard_count=0"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty(), "stdout must stay empty");
    let message = stderr(&output);
    assert!(message.contains("kinesis_shard_count"), "{message}");
    assert!(
        message.contains('1') && message.contains("1000"),
        "{message}"
    );
}

#[test]
fn item_ttl_days_outside_0_to_3650_exits_2_and_30_sets_table_and_function() {
    for bad in ["-1", "3651"] {
        let output = synth(&["--set", &format!("dynamodb_ttl_days={bad}")]);
        assert_eq!(output.status.code(), Some(2), "{bad}");
        assert!(output.stdout.is_empty(), "{bad} printed a template");
        let message = stderr(&output);
        assert!(
            message.contains("dynamodb_ttl_days") && message.contains("3650"),
            "{message}"
        );
    }
    let on = synth(&["--set", "dynamodb_ttl_days=30", "--format", "json"]);
    assert!(on.status.success(), "{}", stderr(&on));
    let doc: serde_json::Value = serde_json::from_slice(&on.stdout).expect("json");
    let table = &doc["Resources"]["EventTable"]["Properties"];
    assert_eq!(
        table["TimeToLiveSpecification"]["AttributeName"],
        "expiresAt"
    );
    assert_eq!(table["TimeToLiveSpecification"]["Enabled"], true);
    let env = &doc["Resources"]["ProcessorFunction"]["Properties"]["Environment"]["Variables"];
    assert_eq!(env["ITEM_TTL_DAYS"], "30");

    let off = synth(&["--format", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&off.stdout).expect("json");
    assert!(doc["Resources"]["EventTable"]["Properties"]
        .get("TimeToLiveSpecification")
        .is_none());
    let env = &doc["Resources"]["ProcessorFunction"]["Properties"]["Environment"]["Variables"];
    assert!(env.get("ITEM_TTL_DAYS").is_none());
}

#[test]
fn index_write_shards_outside_1_to_100_exit_2_and_8_sets_indexes_and_function() {
    for bad in ["0", "101"] {
        let output = synth(&["--set", &format!("dynamodb_index_write_shards={bad}")]);
        assert_eq!(output.status.code(), Some(2), "{bad}");
        assert!(output.stdout.is_empty(), "{bad} printed a template");
        let message = stderr(&output);
        assert!(
            message.starts_with(&format!(
                "error: dynamodb_index_write_shards must be between 1 and 100, got {bad}"
            )),
            "{message}"
        );
    }
    let on = synth(&["--set", "dynamodb_index_write_shards=8", "--format", "json"]);
    assert!(on.status.success(), "{}", stderr(&on));
    let doc: serde_json::Value = serde_json::from_slice(&on.stdout).expect("json");
    let indexes = &doc["Resources"]["EventTable"]["Properties"]["GlobalSecondaryIndexes"];
    assert_eq!(
        indexes[0]["KeySchema"][0]["AttributeName"],
        "eventTypeShard"
    );
    assert_eq!(
        indexes[1]["KeySchema"][0]["AttributeName"],
        "productIdShard"
    );
    let env = &doc["Resources"]["ProcessorFunction"]["Properties"]["Environment"]["Variables"];
    assert_eq!(env[contract::env::INDEX_WRITE_SHARDS], "8");

    let off = synth(&["--format", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&off.stdout).expect("json");
    let env = &doc["Resources"]["ProcessorFunction"]["Properties"]["Environment"]["Variables"];
    assert!(env.get(contract::env::INDEX_WRITE_SHARDS).is_none());
}

#[test]
fn a_malformed_producer_principal_exits_2_naming_the_key_and_the_entry() {
    let output = synth(&[
        "--set",
        r#"producer_principals=["123456789012","arn:aws:iam::21098765432:role/ingest"]"#,
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty(), "stdout must stay empty");
    let message = stderr(&output);
    assert!(message.contains("producer_principals"), "{message}");
    assert!(
        message.contains(r#""arn:aws:iam::21098765432:role/ingest""#),
        "{message}"
    );
    assert!(!message.contains(r#"got "123456789012""#), "{message}");
}

#[test]
fn producer_principals_add_the_stream_policy() {
    let output = synth(&[
        "--set",
        r#"producer_principals=["123456789012","arn:aws:iam::210987654321:role/ingest"]"#,
        "--format",
        "json",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(
        doc["Resources"]["EventStreamResourcePolicy"]["Type"],
        "AWS::Kinesis::ResourcePolicy"
    );
}

#[test]
fn an_unknown_key_or_preset_exits_2_with_a_message() {
    for args in [
        &["--set", "lambda_memory=512"][..],
        &["--preset", "qa"][..],
        &["--set", "novalue"][..],
    ] {
        let output = synth(args);
        assert_eq!(output.status.code(), Some(2), "args {args:?}");
        assert!(output.stdout.is_empty());
        assert!(!stderr(&output).is_empty());
    }
    assert!(stderr(&synth(&["--preset", "qa"])).contains("qa"));
    assert!(stderr(&synth(&["--set", "lambda_memory=512"])).contains("lambda_memory"));
}

#[test]
fn a_missing_config_file_is_named() {
    let output = synth(&["--config", "/nonexistent/pipeline.toml"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("/nonexistent/pipeline.toml"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn bad_arguments_exit_2() {
    let output = synth(&["--format", "xml"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("xml"));
}

#[test]
fn a_set_without_an_equals_sign_is_named_not_taken_for_a_subcommand() {
    let out = synth(&["--set", "lambda_memory_size", "1024"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("--set takes KEY=VALUE as one word, e.g. --set lambda_memory_size=1024"),
        "{err}"
    );
    assert!(!err.contains("subcommand"), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn out_dir_writes_yaml_and_json() {
    let dir = std::env::temp_dir().join(format!("synth-out-{}", std::process::id()));
    let output = synth(&["--preset", "dev", "--out-dir", dir.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(output.stdout.is_empty());
    let yaml = std::fs::read_to_string(dir.join("stack.yaml")).expect("stack.yaml");
    let json = std::fs::read_to_string(dir.join("stack.json")).expect("stack.json");
    let a: serde_json::Value = serde_yaml::from_str(&yaml).unwrap();
    let b: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(a, b);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn help_explains_the_options() {
    let text = String::from_utf8(synth(&["--help"]).stdout).unwrap();
    for flag in [
        "--config",
        "--preset",
        "--set",
        "--format",
        "--out-dir",
        "Exit status",
    ] {
        assert!(text.contains(flag), "--help lacks {flag}");
    }
}

/// The bounds of a key whose allowed values end in a range `LOW–HIGH`.
fn range_of(allowed: &str) -> Option<(i64, i64)> {
    let tail = allowed.rsplit(' ').next()?;
    let (low, high) = tail.split_once('–')?;
    Some((low.parse().ok()?, high.parse().ok()?))
}

#[test]
fn every_ranged_key_refuses_values_outside_its_range_with_exit_2() {
    let mut checked = 0;
    for doc in synth::config::reference() {
        let Some((low, high)) = range_of(&doc.allowed) else {
            continue;
        };
        let mut outside = vec![high + 1];
        // Some keys document the value just below their range as special: -1 (unreserved,
        // infinite, no limit) or 0 (not set).
        if !doc.allowed.starts_with(&format!("{} (", low - 1)) {
            outside.push(low - 1);
        }
        for value in outside {
            let output = synth(&["--set", &format!("{}={value}", doc.key)]);
            let message = stderr(&output);
            assert_eq!(
                output.status.code(),
                Some(2),
                "{}={value}: {message}",
                doc.key
            );
            assert!(
                output.stdout.is_empty(),
                "{}={value} printed a template",
                doc.key
            );
            assert!(message.contains(doc.key), "{}={value}: {message}", doc.key);
            assert!(
                message.contains(&low.to_string()) && message.contains(&high.to_string()),
                "{}={value} does not name the range {low}–{high}: {message}",
                doc.key
            );
        }
        checked += 1;
    }
    assert!(
        checked >= 15,
        "only {checked} ranged keys found in the reference"
    );
}

#[test]
fn get_prints_one_resolved_value() {
    let output = synth(&[
        "--preset",
        "prod",
        "--set",
        "lambda_architecture=x86_64",
        "--get",
        "lambda_architecture",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(String::from_utf8_lossy(&output.stdout), "x86_64\n");
    let shards = synth(&["--preset", "prod", "--get", "kinesis_shard_count"]);
    assert_eq!(String::from_utf8_lossy(&shards.stdout), "3\n");
    let unknown = synth(&["--get", "nope"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(stderr(&unknown).contains("nope"));
}

#[test]
fn help_mentions_the_subcommands_and_their_flags() {
    let text = String::from_utf8(synth(&["--help"]).stdout).unwrap();
    for name in ["diff", "changeset-report", "cost"] {
        assert!(text.contains(name), "--help lacks {name}");
    }
    let cost = String::from_utf8(synth(&["cost", "--help"]).stdout).unwrap();
    for flag in [
        "--events-per-second",
        "--avg-event-bytes",
        "--invalid-ratio",
        "--preset",
        "--set",
        "--format",
    ] {
        assert!(cost.contains(flag), "cost --help lacks {flag}");
    }
    let diff = String::from_utf8(synth(&["diff", "--help"]).stdout).unwrap();
    assert!(
        diff.contains("--format") && diff.contains("Exit status"),
        "{diff}"
    );
}

#[test]
fn top_level_flags_do_not_mix_with_subcommands() {
    let output = synth(&["--preset", "prod", "cost"]);
    assert_eq!(output.status.code(), Some(2));
}

/// Tumbling windows with a setting whose behaviour with them AWS does not document: the
/// template is printed all the same, and stderr says so once per combination, with the
/// template (and `--out-dir`), never with a script's `--get`.
#[test]
fn undocumented_window_combinations_are_warned_about_not_refused() {
    let lines = |output: &std::process::Output| -> Vec<String> {
        stderr(output)
            .lines()
            .filter(|l| l.starts_with("warning: aggregate_window_seconds"))
            .map(str::to_owned)
            .collect()
    };
    let high = synth(&[
        "--preset",
        "high-throughput",
        "--set",
        "kinesis_consumer=enhanced-fan-out",
    ]);
    assert!(high.status.success(), "{}", stderr(&high));
    assert!(!high.stdout.is_empty());
    let found = lines(&high);
    assert_eq!(found.len(), 3, "{found:#?}");
    for (line, with) in found.iter().zip([
        "lambda_parallelization_factor = 2",
        "lambda_bisect_batch_on_function_error = true",
        "kinesis_consumer = enhanced-fan-out",
    ]) {
        assert!(
            line.starts_with(&format!(
                "warning: aggregate_window_seconds = 60 with {with}: AWS documents no \
                 behaviour for the two together"
            )),
            "{line}"
        );
    }
    // Windows off, or nothing to combine them with: no warning.
    for args in [
        &["--preset", "cost-optimized"][..],
        &[
            "--preset",
            "high-throughput",
            "--set",
            "aggregate_window_seconds=0",
        ][..],
        &["--set", "lambda_bisect_batch_on_function_error=false"][..],
    ] {
        let output = synth(args);
        assert!(output.status.success(), "{args:?}");
        assert!(lines(&output).is_empty(), "{args:?}: {}", stderr(&output));
    }
    let get = synth(&[
        "--preset",
        "high-throughput",
        "--get",
        "aggregate_window_seconds",
    ]);
    assert_eq!(String::from_utf8_lossy(&get.stdout), "60\n");
    assert!(stderr(&get).is_empty(), "{}", stderr(&get));
}
