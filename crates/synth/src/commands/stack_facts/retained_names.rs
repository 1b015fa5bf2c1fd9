//! `synth stack-facts retained-names TEMPLATE`: the fixed names a new stack would need free;
//! `taken-names`: the refusal when some of them are taken.

use std::path::PathBuf;

use clap::Args;
use serde_json::Value;

use super::Answer;

/// Retained resources with a fixed name: one `logical<TAB>type<TAB>name` line each.
///
/// Lists the resources that DeletionPolicy Retain keeps and that have a fixed name. When a
/// stack of this name was deleted, these may still exist, and CloudFormation cannot create a
/// resource whose name is taken: a new stack's creation would fail after the upload. The
/// types read are AWS::DynamoDB::Table (TableName), AWS::Kinesis::Stream (Name),
/// AWS::SQS::Queue (QueueName) and AWS::Logs::LogGroup (LogGroupName); a name that is not a
/// literal string (`!Sub ...`) is not listed.
#[derive(Debug, Args)]
pub struct RetainedNamesArgs {
    /// The template, YAML or JSON (`-` reads stdin), e.g. cfn-out/stack.json.
    #[arg(value_name = "TEMPLATE")]
    pub template: PathBuf,
}

/// Refuse to create a new stack over named resources a deleted one kept.
///
/// LOGICAL_ID... are resources of `retained-names` that were found to exist. With none,
/// prints nothing (exit 0); otherwise exit 1 with a message naming them, saying why
/// CloudFormation cannot create the stack over them and the ways forward, with the commands
/// that delete each (a table's deletion protection first, when the template sets it).
#[derive(Debug, Args)]
pub struct TakenNamesArgs {
    /// The stack's name, for the message.
    #[arg(long, value_name = "NAME")]
    pub stack_name: String,

    /// The template the stack would be created from, YAML or JSON (`-` reads stdin).
    #[arg(value_name = "TEMPLATE")]
    pub template: PathBuf,

    /// The logical IDs of the retained, named resources that exist already.
    #[arg(value_name = "LOGICAL_ID")]
    pub taken: Vec<String>,
}

/// A retained resource with a fixed name.
#[derive(Debug, PartialEq)]
pub struct RetainedName {
    /// The logical ID.
    pub logical: String,
    /// The resource type.
    pub kind: String,
    /// The name it takes.
    pub name: String,
    /// Whether deletion protection is on (a table's DeletionProtectionEnabled).
    pub protected: bool,
}

/// The property holding the name of a resource type whose name can be taken, by type.
pub const NAME_PROPERTIES: &[(&str, &str)] = &[
    ("AWS::DynamoDB::Table", "TableName"),
    ("AWS::Kinesis::Stream", "Name"),
    ("AWS::SQS::Queue", "QueueName"),
    ("AWS::Logs::LogGroup", "LogGroupName"),
];

/// Reads the template and prints one line per retained, named resource.
pub fn run(args: &RetainedNamesArgs) -> Result<Answer, String> {
    let template = super::read_template(&args.template)?;
    Ok(Answer::Print(
        retained_names(&template)
            .iter()
            .map(|r| super::tsv_line(&[&r.logical, &r.kind, &r.name]))
            .collect(),
    ))
}

/// Reads the template and refuses when any resource is taken.
pub fn run_taken(args: &TakenNamesArgs) -> Result<Answer, String> {
    if args.taken.is_empty() {
        return Ok(Answer::Print(String::new()));
    }
    let template = super::read_template(&args.template)?;
    let retained = retained_names(&template);
    let taken = args
        .taken
        .iter()
        .map(|logical| {
            retained
                .iter()
                .find(|r| &r.logical == logical)
                .ok_or_else(|| {
                    format!(
                        "{logical} is not a retained resource with a fixed name in {} (see \
                         synth stack-facts retained-names)",
                        super::input_name(&args.template)
                    )
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Answer::No(Some(taken_refusal(&args.stack_name, &taken))))
}

/// Why a new stack cannot be created over resources that exist already, and the ways
/// forward (without the leading `error: `).
pub fn taken_refusal(stack: &str, taken: &[&RetainedName]) -> String {
    let mut text = format!(
        "stack {stack} does not exist, but resources it would create do: an earlier stack\n\
         of this name kept them when it was deleted (retain_data_on_delete):\n"
    );
    for r in taken {
        text += &format!("  {:<14} {:<22} {}\n", r.logical, r.kind, r.name);
    }
    text += "CloudFormation cannot create a resource whose name is taken. Nothing was uploaded or\n\
             deployed. Either:\n  \
             - keep that data and deploy under another name: SET=environment=<new> (or project_name);\n  \
             - put the kept resources back under a stack with a resource import, then make deploy\n    \
             (docs/deploy.md, \"Re-creating a stack whose data was kept\");\n  \
             - or, when the data is no longer needed, delete it:";
    for command in taken.iter().flat_map(|r| delete_commands(r)) {
        text += &format!("\n      {command}");
    }
    text
}

/// The aws CLI commands that delete a kept resource.
pub fn delete_commands(resource: &RetainedName) -> Vec<String> {
    let name = &resource.name;
    match resource.kind.as_str() {
        "AWS::DynamoDB::Table" if resource.protected => vec![
            format!(
                "aws dynamodb update-table --table-name {name} --no-deletion-protection-enabled"
            ),
            format!("aws dynamodb delete-table --table-name {name}"),
        ],
        "AWS::DynamoDB::Table" => vec![format!("aws dynamodb delete-table --table-name {name}")],
        "AWS::Kinesis::Stream" => vec![format!("aws kinesis delete-stream --stream-name {name}")],
        "AWS::SQS::Queue" => vec![format!(
            "aws sqs delete-queue --queue-url \"$(aws sqs get-queue-url --queue-name {name} \
             --query QueueUrl --output text)\""
        )],
        "AWS::Logs::LogGroup" => vec![format!("aws logs delete-log-group --log-group-name {name}")],
        _ => Vec::new(),
    }
}

/// The template's resources with DeletionPolicy Retain and a literal name, in template
/// order.
pub fn retained_names(template: &Value) -> Vec<RetainedName> {
    let Some(resources) = template.get("Resources").and_then(Value::as_object) else {
        return Vec::new();
    };
    resources
        .iter()
        .filter(|(_, resource)| resource.get("DeletionPolicy") == Some(&"Retain".into()))
        .filter_map(|(logical, resource)| {
            let kind = resource.get("Type")?.as_str()?;
            let (_, property) = NAME_PROPERTIES.iter().find(|(k, _)| *k == kind)?;
            let properties = resource.get("Properties")?;
            let name = properties.get(*property)?.as_str()?;
            let protected = match properties.get("DeletionProtectionEnabled") {
                Some(Value::Bool(on)) => *on,
                Some(Value::String(text)) => text == "true",
                _ => false,
            };
            Some(RetainedName {
                logical: logical.clone(),
                kind: kind.to_owned(),
                name: name.to_owned(),
                protected,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn names(template: &Value) -> Vec<(String, String, String)> {
        retained_names(template)
            .into_iter()
            .map(|r| (r.logical, r.kind, r.name))
            .collect()
    }

    #[test]
    fn retained_resources_with_literal_names_are_listed_in_template_order() {
        let template = json!({"Resources": {
            "Table": {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain",
                      "Properties": {"TableName": "t"}},
            "Stream": {"Type": "AWS::Kinesis::Stream", "DeletionPolicy": "Retain",
                       "Properties": {"Name": "s"}},
            "Queue": {"Type": "AWS::SQS::Queue", "DeletionPolicy": "Retain",
                      "Properties": {"QueueName": "q"}},
            "Logs": {"Type": "AWS::Logs::LogGroup", "DeletionPolicy": "Retain",
                     "Properties": {"LogGroupName": "/aws/lambda/f"}},
        }});
        let expected = [
            ("Table", "AWS::DynamoDB::Table", "t"),
            ("Stream", "AWS::Kinesis::Stream", "s"),
            ("Queue", "AWS::SQS::Queue", "q"),
            ("Logs", "AWS::Logs::LogGroup", "/aws/lambda/f"),
        ]
        .map(|(a, b, c)| (a.to_owned(), b.to_owned(), c.to_owned()));
        assert_eq!(names(&template), expected);
    }

    #[test]
    fn deleted_unnamed_computed_and_other_types_are_not() {
        let template = json!({"Resources": {
            "Deleted": {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Delete",
                        "Properties": {"TableName": "a"}},
            "Snapshot": {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Snapshot",
                         "Properties": {"TableName": "b"}},
            "NoPolicy": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "c"}},
            "Unnamed": {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain"},
            "Computed": {"Type": "AWS::SQS::Queue", "DeletionPolicy": "Retain",
                         "Properties": {"QueueName": {"Fn::Sub": "${AWS::StackName}-q"}}},
            "Key": {"Type": "AWS::KMS::Key", "DeletionPolicy": "Retain",
                    "Properties": {"Name": "k"}},
            "Odd": {"Type": "AWS::SQS::Queue", "DeletionPolicy": {"Fn::If": ["C", "Retain", "Delete"]},
                    "Properties": {"QueueName": "d"}},
        }});
        assert!(names(&template).is_empty(), "{:?}", names(&template));
        assert!(names(&json!({"Resources": {}})).is_empty());
    }

    fn retained(kind: &str, name: &str, protected: bool) -> RetainedName {
        RetainedName {
            logical: "R".into(),
            kind: kind.into(),
            name: name.into(),
            protected,
        }
    }

    #[test]
    fn the_refusal_names_what_is_taken_and_how_to_delete_it() {
        let table = RetainedName {
            logical: "EventTable".into(),
            ..retained("AWS::DynamoDB::Table", "retail-events-prod-events", false)
        };
        let text = taken_refusal("retail-events-prod", &[&table]);
        assert_eq!(
            text,
            "stack retail-events-prod does not exist, but resources it would create do: an \
             earlier stack\nof this name kept them when it was deleted (retain_data_on_delete):\n  \
             EventTable     AWS::DynamoDB::Table   retail-events-prod-events\n\
             CloudFormation cannot create a resource whose name is taken. Nothing was uploaded \
             or\ndeployed. Either:\n  \
             - keep that data and deploy under another name: SET=environment=<new> (or \
             project_name);\n  \
             - put the kept resources back under a stack with a resource import, then make \
             deploy\n    (docs/deploy.md, \"Re-creating a stack whose data was kept\");\n  \
             - or, when the data is no longer needed, delete it:\n      \
             aws dynamodb delete-table --table-name retail-events-prod-events"
        );
    }

    #[test]
    fn each_kind_has_its_delete_commands() {
        let cases = [
            (
                retained("AWS::DynamoDB::Table", "t", true),
                vec![
                    "aws dynamodb update-table --table-name t --no-deletion-protection-enabled",
                    "aws dynamodb delete-table --table-name t",
                ],
            ),
            (
                retained("AWS::Kinesis::Stream", "s", false),
                vec!["aws kinesis delete-stream --stream-name s"],
            ),
            (
                retained("AWS::SQS::Queue", "q", false),
                vec![
                    "aws sqs delete-queue --queue-url \"$(aws sqs get-queue-url --queue-name q \
                      --query QueueUrl --output text)\"",
                ],
            ),
            (
                retained("AWS::Logs::LogGroup", "/g", false),
                vec!["aws logs delete-log-group --log-group-name /g"],
            ),
            (retained("AWS::Other::Thing", "x", false), vec![]),
        ];
        for (resource, expected) in cases {
            assert_eq!(delete_commands(&resource), expected, "{}", resource.kind);
        }
    }

    #[test]
    fn deletion_protection_is_read_from_the_template() {
        let template = json!({"Resources": {
            "A": {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain",
                  "Properties": {"TableName": "a", "DeletionProtectionEnabled": true}},
            "B": {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain",
                  "Properties": {"TableName": "b", "DeletionProtectionEnabled": "true"}},
            "C": {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain",
                  "Properties": {"TableName": "c", "DeletionProtectionEnabled": false}},
        }});
        let protected: Vec<bool> = retained_names(&template)
            .iter()
            .map(|r| r.protected)
            .collect();
        assert_eq!(protected, [true, true, false]);
    }

    /// prod keeps both tables, each under its fixed name and deletion protection: a new
    /// stack of the same name finds both taken, and the refusal says how to delete each.
    #[test]
    fn the_prod_stack_names_its_retained_tables_and_refuses_over_both() {
        let config = synth::config::Config::load(Some("prod"), None, &[]).expect("prod loads");
        let template = synth::stack::build(&config).to_document().expect("valid");
        let retained = retained_names(&template);
        let tables: Vec<(&str, &str, bool)> = retained
            .iter()
            .filter(|r| r.kind == "AWS::DynamoDB::Table")
            .map(|r| (r.logical.as_str(), r.name.as_str(), r.protected))
            .collect();
        assert_eq!(
            tables,
            [
                ("EventTable", "retail-events-prod-events", true),
                ("AggregateTable", "retail-events-prod-aggregates", true),
            ]
        );
        let taken: Vec<&RetainedName> = retained
            .iter()
            .filter(|r| r.kind == "AWS::DynamoDB::Table")
            .collect();
        let text = taken_refusal("retail-events-prod", &taken);
        assert!(text
            .contains("\n  AggregateTable AWS::DynamoDB::Table   retail-events-prod-aggregates\n"));
        assert!(text.ends_with(
            "aws dynamodb update-table --table-name retail-events-prod-aggregates \
             --no-deletion-protection-enabled\n      \
             aws dynamodb delete-table --table-name retail-events-prod-aggregates"
        ));
        // Without windows there is no aggregate table to keep.
        let sets = ["aggregate_window_seconds=0".to_owned()];
        let config = synth::config::Config::load(Some("prod"), None, &sets).unwrap();
        let template = synth::stack::build(&config).to_document().unwrap();
        assert!(retained_names(&template)
            .iter()
            .all(|r| r.logical != "AggregateTable"));
    }

    #[test]
    fn the_prod_stack_names_its_retained_table() {
        let config = synth::config::Config::load(Some("prod"), None, &[]).expect("prod loads");
        let rendered = synth::stack::build(&config)
            .render(cfn::Format::Json)
            .expect("renders");
        let template: Value = serde_json::from_str(&rendered.body).expect("JSON");
        let table = retained_names(&template)
            .into_iter()
            .find(|r| r.logical == "EventTable")
            .expect("EventTable is retained and named");
        assert!(table.protected, "prod's table has deletion protection");
        let found = names(&template);
        assert!(
            found
                .iter()
                .any(|(logical, kind, name)| logical == "EventTable"
                    && kind == "AWS::DynamoDB::Table"
                    && name == "retail-events-prod-events"),
            "{found:?}"
        );
    }
}
