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

/// `synth --preset prod cost` used to be refused though `synth cost --preset prod` worked:
/// the configuration options are the same before and after `cost` and `capacity`, and the
/// `--set`s apply in command-line order.
#[test]
fn configuration_options_work_before_and_after_cost_and_capacity() {
    for command in ["cost", "capacity"] {
        let before = synth(&[
            "--preset",
            "prod",
            "--set",
            "lambda_memory_size=512",
            command,
        ]);
        let after = synth(&[
            command,
            "--preset",
            "prod",
            "--set",
            "lambda_memory_size=512",
        ]);
        let split = synth(&[
            "--preset",
            "prod",
            command,
            "--set",
            "lambda_memory_size=512",
        ]);
        assert!(before.status.success(), "{command}: {}", stderr(&before));
        assert!(!before.stdout.is_empty());
        assert_eq!(before.stdout, after.stdout, "{command}");
        assert_eq!(before.stdout, split.stdout, "{command}");
        let default = synth(&[command]);
        assert_ne!(
            before.stdout, default.stdout,
            "{command}: the options were ignored"
        );
    }
    let shards = |args: &[&str]| -> serde_json::Value {
        let output = synth(args);
        assert!(output.status.success(), "{args:?}: {}", stderr(&output));
        let estimate: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        estimate["load"]["shards"].clone()
    };
    let order = [
        "--set",
        "kinesis_shard_count=2",
        "cost",
        "--set",
        "kinesis_shard_count=3",
        "--format",
        "json",
    ];
    assert_eq!(shards(&order), 3, "the later --set wins");
    // The same preset on both sides is one preset; two different ones are refused.
    let same = synth(&["--preset", "prod", "cost", "--preset", "prod"]);
    assert!(same.status.success(), "{}", stderr(&same));
    let twice = synth(&["--preset", "prod", "cost", "--preset", "dev"]);
    assert_eq!(twice.status.code(), Some(2));
    assert_eq!(
        stderr(&twice),
        "error: --preset is given twice, \"prod\" before the subcommand and \"dev\" after \
         it; give it once\n"
    );
}

/// Options that only printing the template reads, or the configuration before a subcommand
/// that takes none, are refused rather than ignored.
#[test]
fn template_options_before_a_subcommand_are_refused_naming_them() {
    for (args, expected) in [
        (
            &["--format", "json", "cost"][..],
            "error: --format is for printing the template and goes without a subcommand; \
             `synth cost` takes its own options after its name",
        ),
        (
            &["--out-dir", "cfn-out", "capacity"][..],
            "error: --out-dir is for printing the template",
        ),
        (
            &["--preset", "prod", "diff", "a.yaml", "b.yaml"][..],
            "error: --preset, --config and --set configure the stack (the template, cost and \
             capacity); `synth diff` takes none of them",
        ),
        (
            &["--set", "lambda_memory_size=512", "completions", "bash"][..],
            "`synth completions` takes none of them",
        ),
    ] {
        let output = synth(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(output.stdout.is_empty(), "{args:?}");
        assert!(
            stderr(&output).contains(expected),
            "{args:?}: {}",
            stderr(&output)
        );
    }
}

/// `--set =5` used to suggest `--set =5=1024`.
#[test]
fn a_set_with_an_empty_key_says_the_key_is_missing() {
    for (arg, example) in [
        ("=5", "lambda_memory_size=5"),
        ("=", "lambda_memory_size=1024"),
    ] {
        for args in [&["--set", arg][..], &["cost", "--set", arg][..]] {
            let output = synth(args);
            assert_eq!(output.status.code(), Some(2), "{args:?}");
            assert!(output.stdout.is_empty());
            assert_eq!(
                stderr(&output),
                format!(
                    "error: --set {arg:?} has an empty key before the `=`; name the key, e.g. \
                     --set {example}\n"
                ),
                "{args:?}"
            );
        }
    }
}

/// The help reserves exit 1 for a template that fails validation; a directory that cannot
/// be written is a bad argument (2), named in the message, and nothing is half written.
#[test]
fn an_out_dir_that_cannot_be_written_exits_2_naming_it() {
    let file = std::env::temp_dir().join(format!("synth-out-file-{}", std::process::id()));
    std::fs::write(&file, "not a directory").unwrap();
    let inside = file.join("cfn-out");
    for dir in [&file, &inside] {
        let output = synth(&["--out-dir", dir.to_str().unwrap()]);
        assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
        let message = stderr(&output);
        assert!(
            message.contains(&format!(
                "error: --out-dir {}: cannot create the directory",
                dir.display()
            )),
            "{message}"
        );
        assert!(!message.contains("wrote "), "{message}");
    }
    std::fs::remove_file(&file).ok();
    let help = String::from_utf8(synth(&["--help"]).stdout).unwrap();
    assert!(
        help.contains("2 bad arguments or configuration\n(an --out-dir that cannot be written"),
        "{help}"
    );
}

/// `us-east-9` looks like a region but is none: exit 2 naming the key, the value and the
/// regions it may have meant.
#[test]
fn a_region_aws_does_not_have_exits_2_naming_key_and_value() {
    let output = synth(&["--set", "region=us-east-9"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    assert_eq!(
        stderr(&output),
        "error: region must be one of the aws partition's regions, such as us-east-1, \
         us-east-2, got \"us-east-9\" (from --set region=us-east-9)\n"
    );
    for region in ["cn-north-1", "us-gov-west-1", "ap-southeast-7"] {
        let output = synth(&["--set", &format!("region={region}"), "--get", "region"]);
        assert!(output.status.success(), "{region}: {}", stderr(&output));
    }
}

/// `--version` names the crate's version and the commit it was built from (build.rs), or
/// `unknown` when the source is no git checkout.
#[test]
fn version_names_the_crate_version_and_the_commit() {
    let output = synth(&["--version"]);
    assert!(output.status.success());
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "unknown".to_owned());
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        format!("synth {} (commit {commit})\n", env!("CARGO_PKG_VERSION"))
    );
}

/// `synth completions SHELL` prints a script that knows the subcommands and their options.
#[test]
fn completions_are_printed_for_every_shell() {
    for (shell, marker) in [
        ("bash", "complete -F _synth"),
        ("zsh", "#compdef synth"),
        ("fish", "complete -c synth"),
        ("elvish", "edit:completion:arg-completer[synth]"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let output = synth(&["completions", shell]);
        assert!(output.status.success(), "{shell}: {}", stderr(&output));
        let script = String::from_utf8(output.stdout).unwrap();
        assert!(script.contains(marker), "{shell} lacks {marker:?}");
        for word in ["changeset-report", "events-per-second", "completions"] {
            assert!(script.contains(word), "{shell} lacks {word}");
        }
    }
    let unknown = synth(&["completions", "tcsh"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(stderr(&unknown).contains("tcsh"), "{}", stderr(&unknown));
    let help = String::from_utf8(synth(&["--help"]).stdout).unwrap();
    assert!(help.contains("completions"), "{help}");
    assert!(help.contains("synth completions bash"), "{help}");
}

/// Every stack has alarms; without sns_email_endpoint they notify no one, which synth says
/// for a production stack once with the template (as its other warnings), naming the key, and never with `--get`.
#[test]
fn alarms_without_an_address_are_warned_about_naming_the_key() {
    let unheard = |output: &std::process::Output| -> Vec<String> {
        stderr(output)
            .lines()
            .filter(|l| l.contains("alarms notify no one"))
            .map(str::to_owned)
            .collect()
    };
    // dev's alarms feed its dashboard; only production says where its alarms should go.
    let dev = synth(&[]);
    assert!(dev.status.success(), "{}", stderr(&dev));
    assert!(unheard(&dev).is_empty(), "{}", stderr(&dev));
    for args in [
        &["--preset", "prod"][..],
        &["--preset", "prod", "--format", "json"][..],
    ] {
        let output = synth(args);
        assert!(output.status.success(), "{args:?}: {}", stderr(&output));
        assert_eq!(
            unheard(&output),
            [
                "warning: the stack's alarms notify no one: sns_email_endpoint is empty, so no \
              alert topic is created; set sns_email_endpoint = \"ops@example.com\" (or pass \
              the address at deploy time: make deploy ALERT_EMAIL=...)"
            ],
            "{args:?}"
        );
    }
    let heard = synth(&[
        "--preset",
        "prod",
        "--set",
        "sns_email_endpoint=ops@example.com",
    ]);
    assert!(heard.status.success());
    assert!(unheard(&heard).is_empty(), "{}", stderr(&heard));
    let get = synth(&["--preset", "prod", "--get", "region"]);
    assert!(stderr(&get).is_empty(), "{}", stderr(&get));
}

/// CloudFormation takes 51,200 bytes inline; `make deploy` uploads the YAML and sends a
/// larger one through S3. The warning measures that YAML, whatever --format prints, once
/// (also with --out-dir, which writes both), and says `make deploy` takes care of it.
#[test]
fn the_size_warning_measures_the_yaml_that_is_deployed() {
    let size_lines = |output: &std::process::Output| -> Vec<String> {
        stderr(output)
            .lines()
            .filter(|l| l.contains("51200") || l.contains("51,200"))
            .map(str::to_owned)
            .collect()
    };
    let yaml = synth(&[]);
    let size = yaml.stdout.len();
    assert!(size > 51_200, "the dev template is over the limit: {size}");
    let expected = format!(
        "warning: the template is {size} bytes as YAML, over CloudFormation's 51200-byte limit \
         for a template sent inline, so it is deployed through S3 (--template-url): `make \
         deploy` uploads it to the artifact bucket for you"
    );
    let json = synth(&["--format", "json"]);
    assert!(json.stdout.len() > size, "pretty JSON is the larger body");
    let dir = std::env::temp_dir().join(format!("synth-size-{}", std::process::id()));
    let written = synth(&["--out-dir", dir.to_str().unwrap()]);
    std::fs::remove_dir_all(&dir).ok();
    for output in [&yaml, &json, &written] {
        assert!(output.status.success(), "{}", stderr(output));
        assert_eq!(size_lines(output), std::slice::from_ref(&expected));
    }
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
