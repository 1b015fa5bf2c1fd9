//! `synth stack-facts kept TEMPLATE_BODY RESOURCES`: what deleting a stack leaves behind.

use std::collections::HashMap;
use std::path::PathBuf;

use clap::Args;
use serde_json::Value;

use super::Answer;

/// What deleting the stack leaves: one `policy<TAB>logical<TAB>type<TAB>physical` line each.
///
/// Lists the deployed stack's resources whose DeletionPolicy keeps them (Retain,
/// RetainExceptOnCreate) or snapshots them (Snapshot), in template order.
///
/// TEMPLATE_BODY is what `aws cloudformation get-template --query TemplateBody --output json`
/// printed: a JSON string holding the template's YAML (short-form tags like !Ref allowed) or
/// JSON, or the template as a JSON mapping (the whole get-template output is read too).
/// RESOURCES is what `aws cloudformation list-stack-resources --output json` printed; only
/// resources the stack has are listed, and `?` stands for a physical ID not known yet.
/// With --summary, says the same for people: what is kept and what is snapshotted.
#[derive(Debug, Args)]
pub struct KeptArgs {
    /// The deployed template as `get-template --query TemplateBody --output json` prints it.
    #[arg(value_name = "TEMPLATE_BODY")]
    pub template_body: PathBuf,

    /// The stack's resources as `list-stack-resources --output json` prints them.
    #[arg(value_name = "RESOURCES")]
    pub resources: PathBuf,

    /// Print what deleting the stack leaves, for people, instead of the lines.
    #[arg(long)]
    pub summary: bool,
}

/// The deletion policies that leave something behind.
pub const KEEPING_POLICIES: &[&str] = &["Retain", "RetainExceptOnCreate", "Snapshot"];

/// A resource the stack's deletion leaves behind (or snapshots).
#[derive(Debug, PartialEq)]
pub struct Kept {
    /// `Retain`, `RetainExceptOnCreate` or `Snapshot`.
    pub policy: String,
    /// The logical ID.
    pub logical: String,
    /// The resource type.
    pub kind: String,
    /// The physical ID, `?` when the stack does not know it.
    pub physical: String,
}

/// Reads both files and prints one line per kept resource.
pub fn run(args: &KeptArgs) -> Result<Answer, String> {
    if args.template_body.as_os_str() == "-" && args.resources.as_os_str() == "-" {
        return Err("only one of TEMPLATE_BODY and RESOURCES may be `-` (stdin)".into());
    }
    let (name, text) = super::read_input(&args.template_body)?;
    let template = template_from_body(&name, &text)?;
    let (name, text) = super::read_input(&args.resources)?;
    let physical = physical_ids(&name, &text)?;
    let kept = kept(&template, &physical);
    Ok(Answer::Print(if args.summary {
        summary(&kept)
    } else {
        kept.iter()
            .map(|k| super::tsv_line(&[&k.policy, &k.logical, &k.kind, &k.physical]))
            .collect()
    }))
}

/// What a stack's deletion left, for people: the resources kept (to delete by hand) and
/// those deleted after a final snapshot.
pub fn summary(kept: &[Kept]) -> String {
    let list = |snapshot: bool| -> String {
        kept.iter()
            .filter(|k| (k.policy == "Snapshot") == snapshot)
            .map(|k| format!("  {:<20} {:<24} {}\n", k.logical, k.kind, k.physical))
            .collect()
    };
    let (retained, snapshotted) = (list(false), list(true));
    let mut text = if retained.is_empty() {
        "No resource had DeletionPolicy Retain; nothing of the stack is left.\n".to_owned()
    } else {
        format!(
            "Kept by their DeletionPolicy (delete them by hand when no longer needed):\n{retained}"
        )
    };
    if !snapshotted.is_empty() {
        text +=
            &format!("Deleted after a final snapshot (DeletionPolicy Snapshot):\n{snapshotted}");
    }
    text
}

/// The template from get-template's TemplateBody: a JSON string holding YAML or JSON text,
/// or the template itself as a mapping. `name` labels errors.
pub fn template_from_body(name: &str, text: &str) -> Result<Value, String> {
    let body = super::parse_json(name, text, "get-template")?;
    // The whole get-template output, without --query TemplateBody.
    let body = match body {
        Value::Object(mut top)
            if !top.contains_key("Resources") && top.contains_key("TemplateBody") =>
        {
            top.remove("TemplateBody").unwrap_or_default()
        }
        other => other,
    };
    let parsed = match &body {
        Value::String(inner) => {
            review::diff::parse_template(&format!("{name} (TemplateBody)"), inner)
        }
        Value::Object(_) => review::diff::parse_template(name, &body.to_string()),
        other => {
            return Err(format!(
                "{name}: not get-template output: expected the TemplateBody as a string \
                 (the template's text) or a mapping, got {}",
                super::kind(other)
            ))
        }
    };
    parsed.map_err(|err| err.to_string())
}

/// Physical IDs by logical ID, from list-stack-resources JSON (`None`: not known yet).
pub fn physical_ids(name: &str, text: &str) -> Result<HashMap<String, Option<String>>, String> {
    let value = super::parse_json(name, text, "list-stack-resources")?;
    let bad = |reason: String| format!("{name}: not list-stack-resources output: {reason}");
    let Some(summaries) = value.get("StackResourceSummaries") else {
        return Err(bad(match &value {
            Value::Object(_) => "no StackResourceSummaries".into(),
            other => format!("expected a mapping, got {}", super::kind(other)),
        }));
    };
    let Some(summaries) = summaries.as_array() else {
        return Err(bad(format!(
            "StackResourceSummaries must be a list, got {}",
            super::kind(summaries)
        )));
    };
    Ok(summaries
        .iter()
        .filter_map(|summary| {
            let logical = summary.get("LogicalResourceId")?.as_str()?;
            let physical = summary
                .get("PhysicalResourceId")
                .and_then(Value::as_str)
                .filter(|id| !id.is_empty());
            Some((logical.to_owned(), physical.map(str::to_owned)))
        })
        .collect())
}

/// The template's resources whose DeletionPolicy keeps or snapshots them and which the
/// stack has, in template order.
pub fn kept(template: &Value, physical: &HashMap<String, Option<String>>) -> Vec<Kept> {
    let Some(resources) = template.get("Resources").and_then(Value::as_object) else {
        return Vec::new();
    };
    resources
        .iter()
        .filter_map(|(logical, resource)| {
            let policy = resource.get("DeletionPolicy")?.as_str()?;
            if !KEEPING_POLICIES.contains(&policy) {
                return None;
            }
            let id = physical.get(logical)?;
            Some(Kept {
                policy: policy.to_owned(),
                logical: logical.clone(),
                kind: resource
                    .get("Type")
                    .and_then(Value::as_str)
                    .unwrap_or("?")
                    .to_owned(),
                physical: id.clone().unwrap_or_else(|| "?".into()),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const YAML: &str = "Resources:\n  Table:\n    Type: AWS::DynamoDB::Table\n    \
                        DeletionPolicy: Retain\n    Properties:\n      TableName: !Sub '${AWS::StackName}-events'\n  \
                        Key:\n    Type: AWS::KMS::Key\n    DeletionPolicy: RetainExceptOnCreate\n  \
                        Queue:\n    Type: AWS::SQS::Queue\n    Properties:\n      KmsMasterKeyId: !GetAtt Key.Arn\n  \
                        Volume:\n    Type: AWS::EC2::Volume\n    DeletionPolicy: Snapshot\n  \
                        Gone:\n    Type: AWS::Logs::LogGroup\n    DeletionPolicy: Delete\n";

    const RESOURCES: &str = r#"{"StackResourceSummaries": [
        {"LogicalResourceId": "Table", "PhysicalResourceId": "s-events", "ResourceType": "AWS::DynamoDB::Table"},
        {"LogicalResourceId": "Key", "PhysicalResourceId": "1234-abcd"},
        {"LogicalResourceId": "Queue", "PhysicalResourceId": "https://sqs/q"},
        {"LogicalResourceId": "Volume"},
        {"LogicalResourceId": "Gone", "PhysicalResourceId": "/g"}
    ]}"#;

    fn lines(body: &str, resources: &str) -> Vec<String> {
        let template = template_from_body("t.json", body).expect("template");
        let physical = physical_ids("r.json", resources).expect("resources");
        kept(&template, &physical)
            .into_iter()
            .map(|k| format!("{} {} {} {}", k.policy, k.logical, k.kind, k.physical))
            .collect()
    }

    #[test]
    fn yaml_in_a_json_string_is_read_with_its_short_forms() {
        let body = serde_json::to_string(YAML).unwrap();
        assert_eq!(
            lines(&body, RESOURCES),
            [
                "Retain Table AWS::DynamoDB::Table s-events",
                "RetainExceptOnCreate Key AWS::KMS::Key 1234-abcd",
                "Snapshot Volume AWS::EC2::Volume ?",
            ]
        );
    }

    #[test]
    fn a_json_template_as_a_mapping_or_a_string_is_read_alike() {
        let template = r#"{"Resources": {"Table": {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain"}}}"#;
        let resources = r#"{"StackResourceSummaries": [{"LogicalResourceId": "Table", "PhysicalResourceId": "t"}]}"#;
        let expected = ["Retain Table AWS::DynamoDB::Table t"];
        assert_eq!(lines(template, resources), expected);
        assert_eq!(
            lines(&serde_json::to_string(template).unwrap(), resources),
            expected
        );
        let whole = format!(r#"{{"TemplateBody": {template}, "StagesAvailable": ["Original"]}}"#);
        assert_eq!(lines(&whole, resources), expected);
    }

    #[test]
    fn resources_the_stack_does_not_have_are_not_listed() {
        let body = serde_json::to_string(YAML).unwrap();
        let only_key = r#"{"StackResourceSummaries": [{"LogicalResourceId": "Key", "PhysicalResourceId": ""}]}"#;
        assert_eq!(
            lines(&body, only_key),
            ["RetainExceptOnCreate Key AWS::KMS::Key ?"]
        );
        assert!(lines(&body, r#"{"StackResourceSummaries": []}"#).is_empty());
    }

    #[test]
    fn the_summary_lists_kept_and_snapshotted_resources() {
        let template = template_from_body("t.json", &serde_json::to_string(YAML).unwrap()).unwrap();
        let all = kept(&template, &physical_ids("r.json", RESOURCES).unwrap());
        assert_eq!(
            summary(&all),
            "Kept by their DeletionPolicy (delete them by hand when no longer needed):\n  \
             Table                AWS::DynamoDB::Table     s-events\n  \
             Key                  AWS::KMS::Key            1234-abcd\n\
             Deleted after a final snapshot (DeletionPolicy Snapshot):\n  \
             Volume               AWS::EC2::Volume         ?\n"
        );
        assert_eq!(
            summary(&[]),
            "No resource had DeletionPolicy Retain; nothing of the stack is left.\n"
        );
    }

    /// What deleting a prod stack leaves: both tables, the buckets and their key.
    #[test]
    fn a_prod_stack_keeps_both_tables_the_buckets_and_the_key() {
        let config = synth::config::Config::from_preset("prod").expect("prod loads");
        let template = synth::stack::build(&config).to_document().expect("valid");
        let physical: HashMap<String, Option<String>> = template["Resources"]
            .as_object()
            .unwrap()
            .keys()
            .map(|id| (id.clone(), Some(format!("{id}-physical"))))
            .collect();
        let logical: Vec<String> = kept(&template, &physical)
            .into_iter()
            .map(|k| k.logical)
            .collect();
        assert_eq!(
            logical,
            [
                "DataKey",
                "EventTable",
                "AggregateTable",
                "FailureBucket",
                "ArchiveBucket"
            ]
        );
    }

    #[test]
    fn bad_bodies_say_what_is_wrong() {
        let cases = [
            ("{nope", "t.json: not get-template output: not valid JSON"),
            (
                "42",
                "t.json: not get-template output: expected the TemplateBody as a string",
            ),
            ("\"a: [b\"", "t.json (TemplateBody): not valid YAML"),
            (
                "\"Description: x\"",
                "t.json (TemplateBody): not a CloudFormation template: no Resources section",
            ),
            (
                "{\"Description\": \"x\"}",
                "t.json: not a CloudFormation template: no Resources section",
            ),
            (
                "\"Resources:\\n  A:\\n    Type: !Foo x\\n\"",
                "unsupported YAML tag !Foo",
            ),
        ];
        for (body, expected) in cases {
            let err = template_from_body("t.json", body).unwrap_err();
            assert!(err.contains(expected), "{body}: {err}");
        }
    }

    #[test]
    fn bad_resource_lists_say_what_is_wrong() {
        let cases = [
            ("[]", "r.json: not list-stack-resources output: expected a mapping, got a list"),
            ("{}", "r.json: not list-stack-resources output: no StackResourceSummaries"),
            (
                r#"{"StackResourceSummaries": 3}"#,
                "r.json: not list-stack-resources output: StackResourceSummaries must be a list, got a number",
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(physical_ids("r.json", text).unwrap_err(), expected);
        }
        // Entries without a logical ID are skipped rather than refused.
        let odd = r#"{"StackResourceSummaries": [3, {"PhysicalResourceId": "x"}, {"LogicalResourceId": "A"}]}"#;
        assert_eq!(physical_ids("r.json", odd).unwrap().len(), 1);
    }
}
