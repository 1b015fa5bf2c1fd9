//! Properties of the review tools over input nobody wrote by hand. Both read untrusted text
//! (a pull request's template, whatever `describe-change-set` printed), so whatever they are
//! given they answer with a result or an error, never a panic; a template compared with
//! itself reports nothing, and one compared with a different one reports something; JSON
//! and YAML spellings of one template read alike; every change is one row of its table.

use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::prelude::*;
use review::changeset;
use review::diff::{self, TemplateDiff};
use serde_json::{json, Map, Number, Value};

/// Renders a diff every way the CLI can, so a panic anywhere in rendering shows.
fn render_all(d: &TemplateDiff) -> (String, String) {
    let _ = diff::text::render(d, "old", "new", true);
    (
        diff::text::render(d, "old", "new", false),
        diff::markdown::render(d, "old", "new"),
    )
}

/// The diff of a template with itself, checked to be empty and to say so.
fn assert_no_changes(template: &Value) -> Result<(), TestCaseError> {
    let d = diff::diff(template, template);
    prop_assert_eq!(&d, &TemplateDiff::default());
    let (text, markdown) = render_all(&d);
    prop_assert_eq!(text, "Template diff: old → new\nno changes\n");
    prop_assert_eq!(
        markdown,
        "## Template diff: `old` → `new`\n\n**Summary:** no changes\n"
    );
    Ok(())
}

/// Writes bytes to a fresh file in the temporary directory, for the readers' file path.
fn temp_file(bytes: &[u8]) -> std::path::PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let path = std::env::temp_dir().join(format!(
        "review-properties-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&path, bytes).expect("writes a temporary file");
    path
}

// ---------------------------------------------------------------------------------------
// Strategies

/// Text a template or change set might hold: plain, empty, markdown's and YAML's special
/// characters, line breaks of every kind, non-ASCII, long.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[A-Za-z0-9:/._-]{0,24}",
        2 => any::<String>(),
        1 => Just(String::new()),
        1 => Just("a|b`c\nd\re\r\nf".to_owned()),
        1 => Just("line one\nline two\nline three".to_owned()),
        1 => Just("!Ref x".to_owned()),
        1 => Just("${AWS::StackName}-${Thing.Arn}-${!Literal}".to_owned()),
        1 => "[a-z ]{150,400}",
    ]
}

/// Any JSON value, up to a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| Number::from_f64(f).map(Value::Number)),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((text(), inner), 0..6)
                .prop_map(|entries| Value::Object(entries.into_iter().collect())),
        ]
    })
}

/// Logical IDs from a small pool, so references and both sides of a diff meet.
fn logical_id() -> impl Strategy<Value = String> {
    prop_oneof![
        (0..6usize).prop_map(|i| format!("R{i}")),
        Just("Param".to_owned()),
        Just("AWS::Region".to_owned()),
    ]
}

/// Property names: every create-only property the schemas name (so replacement is
/// predicted), the policy documents' keys (so IAM statements are read), and a few others.
fn property_name() -> impl Strategy<Value = String> {
    let mut names: Vec<String> = cfn::resources::ALL
        .iter()
        .flat_map(|info| info.create_only.iter())
        .flat_map(|path| path.split('/').filter(|s| !s.is_empty() && *s != "*"))
        .map(str::to_owned)
        .collect();
    names.extend(
        [
            "Policies",
            "PolicyName",
            "PolicyDocument",
            "AssumeRolePolicyDocument",
            "KeyPolicy",
            "ResourcePolicy",
            "Statement",
            "Effect",
            "Action",
            "NotAction",
            "Resource",
            "Principal",
            "Condition",
            "Tags",
            "Key",
            "Value",
            "ShardCount",
        ]
        .map(str::to_owned),
    );
    names.sort();
    names.dedup();
    prop::sample::select(names)
}

/// A scalar, or one of the intrinsics the diff resolves, follows or shows.
fn template_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => text().prop_map(Value::String),
        1 => any::<i32>().prop_map(Value::from),
        1 => prop::sample::select(vec![0.5, -2.25, 1e20, 3.0]).prop_map(Value::from),
        1 => any::<bool>().prop_map(Value::Bool),
        1 => Just(Value::Null),
        2 => logical_id().prop_map(|id| json!({"Ref": id})),
        2 => (logical_id(), "[A-Za-z.]{0,12}")
            .prop_map(|(id, attr)| json!({"Fn::GetAtt": [id, attr]})),
        1 => (logical_id(), "[A-Za-z]{1,8}")
            .prop_map(|(id, attr)| json!({"Fn::GetAtt": format!("{id}.{attr}")})),
        1 => (logical_id(), text())
            .prop_map(|(id, rest)| json!({"Fn::Sub": format!("${{{id}}}-{rest}")})),
        1 => text().prop_map(|t| json!({"Fn::Sub": [t, {}]})),
        1 => (text(), text()).prop_map(|(a, b)| json!({"Fn::Join": ["-", [a, b]]})),
        1 => (any::<u8>(), text()).prop_map(|(i, a)| json!({"Fn::Select": [i % 3, [a, "b"]]})),
        1 => (text(), text()).prop_map(|(a, b)| json!({"Fn::If": ["Cond", a, b]})),
        1 => text().prop_map(|a| json!({"Fn::Unknown": a})),
    ]
}

/// Property values: leaves, lists and mappings keyed by property names.
fn property_value() -> impl Strategy<Value = Value> {
    template_leaf().prop_recursive(4, 40, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((property_name(), inner), 0..5)
                .prop_map(|entries| Value::Object(entries.into_iter().collect())),
        ]
    })
}

/// A policy statement with fields of any shape the readers must cope with.
fn statement() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(vec!["Allow", "Deny"]),
        property_value(),
        property_value(),
        prop::option::of(property_value()),
        prop::option::of(property_value()),
    )
        .prop_map(|(effect, action, resource, principal, condition)| {
            let mut s = json!({"Effect": effect, "Action": action, "Resource": resource});
            if let Some(principal) = principal {
                s["Principal"] = principal;
            }
            if let Some(condition) = condition {
                s["Condition"] = condition;
            }
            s
        })
}

fn resource_type() -> impl Strategy<Value = String> {
    let mut types: Vec<String> = cfn::resources::ALL
        .iter()
        .map(|info| info.type_name.to_owned())
        .collect();
    types.extend(["AWS::S3::Bucket", "Custom::Thing", ""].map(str::to_owned));
    prop_oneof![
        8 => prop::sample::select(types),
        1 => text(),
    ]
}

fn resource() -> impl Strategy<Value = Value> {
    let policy = prop::sample::select(vec!["Retain", "Delete", "Snapshot", "RetainExceptOnCreate"]);
    (
        resource_type(),
        prop::collection::vec((property_name(), property_value()), 0..6),
        prop::collection::vec(statement(), 0..3),
        prop::option::of(policy.clone()),
        prop::option::of(policy),
    )
        .prop_map(|(type_name, properties, statements, deletion, replace)| {
            let mut properties: Map<String, Value> = properties.into_iter().collect();
            if !statements.is_empty() {
                let document = json!({"Statement": statements});
                properties.insert(
                    "Policies".into(),
                    json!([{"PolicyName": "p", "PolicyDocument": document.clone()}]),
                );
                properties.insert("PolicyDocument".into(), document.clone());
                properties.insert("KeyPolicy".into(), document);
            }
            let mut resource = json!({"Type": type_name, "Properties": properties});
            if let Some(policy) = deletion {
                resource["DeletionPolicy"] = policy.into();
            }
            if let Some(policy) = replace {
                resource["UpdateReplacePolicy"] = policy.into();
            }
            resource
        })
}

fn entries() -> impl Strategy<Value = Value> {
    prop::collection::vec((logical_id(), property_value()), 0..4)
        .prop_map(|entries| Value::Object(entries.into_iter().collect()))
}

/// A document that passes the reader's shape check: top-level sections that are mappings,
/// and a `Type` on every resource.
fn template() -> impl Strategy<Value = Value> {
    (
        prop::collection::vec((logical_id(), resource()), 0..7),
        entries(),
        entries(),
        entries(),
        prop::option::of(text()),
    )
        .prop_map(
            |(resources, parameters, conditions, outputs, description)| {
                let mut t = json!({
                    "AWSTemplateFormatVersion": "2010-09-09",
                    "Parameters": parameters,
                    "Conditions": conditions,
                    "Outputs": outputs,
                    "Resources": Value::Object(resources.into_iter().collect()),
                });
                if let Some(description) = description {
                    t["Description"] = description.into();
                }
                t
            },
        )
}

/// A `describe-change-set` document: every field optional, any text in them.
fn change_set() -> impl Strategy<Value = Value> {
    let word = |words: Vec<&'static str>| {
        prop_oneof![
            4 => prop::sample::select(words).prop_map(str::to_owned),
            1 => text(),
        ]
    };
    let target = (
        prop::option::of(word(vec!["Properties", "Tags", "Metadata"])),
        prop::option::of(text()),
        prop::option::of(word(vec!["Never", "Conditionally", "Always"])),
        prop::option::of(text()),
        prop::option::of(text()),
    )
        .prop_map(|(attribute, name, recreation, before, after)| {
            object([
                ("Attribute", attribute),
                ("Name", name),
                ("RequiresRecreation", recreation),
                ("BeforeValue", before),
                ("AfterValue", after),
            ])
        });
    let detail = (
        prop::option::of(target),
        prop::option::of(word(vec!["Static", "Dynamic"])),
        prop::option::of(word(vec!["DirectModification", "ParameterReference"])),
        prop::option::of(text()),
    )
        .prop_map(|(target, evaluation, source, entity)| {
            let mut detail = object([
                ("Evaluation", evaluation),
                ("ChangeSource", source),
                ("CausingEntity", entity),
            ]);
            if let Some(target) = target {
                detail["Target"] = target;
            }
            detail
        });
    let change = (
        prop::option::of(word(vec![
            "Add",
            "Modify",
            "Remove",
            "Import",
            "Dynamic",
            "SyncWithActual",
        ])),
        prop::option::of(text()),
        prop::option::of(resource_type()),
        prop::option::of(word(vec!["True", "False", "Conditional"])),
        prop::option::of(word(vec!["Delete", "Retain", "ReplaceAndSnapshot"])),
        prop::collection::vec(text(), 0..3),
        prop::collection::vec(detail, 0..3),
    )
        .prop_map(
            |(action, id, type_name, replacement, policy, scope, details)| {
                let mut change = object([
                    ("Action", action),
                    ("LogicalResourceId", id),
                    ("ResourceType", type_name),
                    ("Replacement", replacement),
                    ("PolicyAction", policy),
                ]);
                change["Scope"] = json!(scope);
                change["Details"] = json!(details);
                json!({"Type": "Resource", "ResourceChange": change})
            },
        );
    (
        prop::option::of(text()),
        prop::option::of(text()),
        prop::option::of(word(vec!["CREATE_COMPLETE", "FAILED"])),
        prop::option::of(text()),
        prop::collection::vec(text(), 0..3),
        prop::collection::vec(change, 0..6),
    )
        .prop_map(|(name, stack, status, reason, capabilities, changes)| {
            let mut cs = object([
                ("ChangeSetName", name),
                ("StackName", stack),
                ("Status", status),
                ("StatusReason", reason),
            ]);
            cs["Capabilities"] = json!(capabilities);
            cs["Changes"] = json!(changes);
            cs
        })
}

/// A JSON object of the fields that are present.
fn object<const N: usize>(fields: [(&str, Option<String>); N]) -> Value {
    Value::Object(
        fields
            .into_iter()
            .filter_map(|(key, value)| Some((key.to_owned(), Value::String(value?))))
            .collect(),
    )
}

/// The rows of a markdown table that starts after `heading`, header and rule left out.
fn table_rows<'r>(report: &'r str, heading: &str) -> Vec<&'r str> {
    let Some(at) = report.find(heading) else {
        return Vec::new();
    };
    report[at..]
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2)
        .collect()
}

/// Whether no table row holds a carriage return, which markdown reads as a line break.
fn one_line_rows(markdown: &str) -> bool {
    markdown
        .split('\n')
        .filter(|l| l.starts_with('|'))
        .all(|row| !row.contains('\r'))
}

// ---------------------------------------------------------------------------------------
// Properties

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_are_read_or_refused(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let path = temp_file(&bytes);
        let template = diff::read_template(&path);
        let change_set = changeset::read(&path);
        std::fs::remove_file(&path).ok();
        if let Ok(template) = template {
            assert_no_changes(&template)?;
        }
        if let Ok(change_set) = change_set {
            let _ = changeset::render(&change_set);
        }
        let text = String::from_utf8_lossy(&bytes);
        if let Ok(template) = diff::parse_template("t", &text) {
            assert_no_changes(&template)?;
        }
        if let Ok(change_set) = changeset::parse("c", &text) {
            let _ = changeset::render(&change_set);
        }
    }

    #[test]
    fn arbitrary_json_values_are_read_or_refused(old in json_value(), new in json_value()) {
        // Not templates, given to the library directly: still no panic.
        assert_no_changes(&old)?;
        render_all(&diff::diff(&old, &new));
        for text in [
            serde_json::to_string(&old).unwrap(),
            serde_yaml::to_string(&old).unwrap(),
        ] {
            if let Ok(template) = diff::parse_template("t", &text) {
                assert_no_changes(&template)?;
            }
            if let Ok(change_set) = changeset::parse("c", &text) {
                let _ = changeset::render(&change_set);
            }
        }
    }

    #[test]
    fn a_template_compared_with_itself_reports_nothing(t in template()) {
        assert_no_changes(&t)?;
        let json = diff::parse_template("t.json", &serde_json::to_string_pretty(&t).unwrap());
        let yaml = diff::parse_template("t.yaml", &serde_yaml::to_string(&t).unwrap());
        let (json, yaml) = (json.expect("JSON reads"), yaml.expect("YAML reads"));
        prop_assert_eq!(&json, &yaml, "JSON and YAML of one template read differently");
        assert_no_changes(&json)?;
    }

    #[test]
    fn different_templates_report_something_in_every_rendering(
        old in template(),
        new in template(),
    ) {
        let old = diff::parse_template("old.json", &old.to_string()).expect("reads");
        let new = diff::parse_template("new.json", &new.to_string()).expect("reads");
        let d = diff::diff(&old, &new);
        prop_assert_eq!(d.is_empty(), old == new);
        let (text, markdown) = render_all(&d);
        prop_assert!(text.lines().nth(1) == Some(d.summary().as_str()), "{}", text);
        prop_assert!(one_line_rows(&markdown), "a line break inside a row: {:?}", markdown);
        prop_assert_eq!(table_rows(&markdown, "### Resources").len(), d.resources.len());
        let statements = d.iam.added.len() + d.iam.removed.len();
        prop_assert_eq!(table_rows(&markdown, "### IAM statement changes").len(), statements);
    }

    #[test]
    fn a_change_set_report_has_one_row_per_change(document in change_set()) {
        // Every generated document has `Changes`, so it is a change set, however sparse.
        let change_set = changeset::parse("c.json", &document.to_string());
        prop_assert!(change_set.is_ok(), "{:?}", change_set);
        let change_set = change_set.unwrap();
        let report = changeset::render(&change_set);
        prop_assert!(one_line_rows(&report), "a line break inside a row: {:?}", report);
        prop_assert_eq!(table_rows(&report, "### Changes").len(), change_set.changes.len());
        if change_set.changes.is_empty() {
            prop_assert!(report.ends_with("\n**No changes.**\n"), "{}", report);
            prop_assert!(!report.contains("CAUTION"));
        }
        prop_assert_eq!(changeset::render(&change_set), report, "rendering is deterministic");
    }
}
