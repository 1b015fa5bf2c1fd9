//! Access for the people and applications around the pipeline: four customer managed
//! policies, attached to nothing, whose ARNs are stack outputs so their owners attach them
//! to their own roles (docs/access.md says who attaches which).
//!
//! Each policy is the union of grants on this stack's resources, made on their constructs,
//! so each carries the data key's statement for the service in between (Kinesis, SQS,
//! DynamoDB), usable only through that service. Nothing is granted on `*`: every action
//! here has a resource type IAM can scope to.

use cfn::resources::iam::ManagedPolicy;
use cfn::{Handle, Template};

use super::function::Processor;
use super::iam::{self, Grants, Layout};
use super::names::Names;
use super::queue::DeadLetterQueue;
use super::stream::EventStream;
use super::table::EventTable;

/// The resources the policies grant access to.
pub struct Granted<'a> {
    /// The event stream.
    pub stream: &'a EventStream,
    /// The events table.
    pub table: &'a EventTable,
    /// The dead-letter queue.
    pub queue: &'a DeadLetterQueue,
    /// The processor function.
    pub function: &'a Processor,
}

/// The four managed policies, for the outputs.
pub struct Policies {
    /// `ProducerPolicy`: put records on the stream.
    pub producer: Handle<ManagedPolicy>,
    /// `DeadLetterReaderPolicy`: read and settle dead letters.
    pub dead_letter_reader: Handle<ManagedPolicy>,
    /// `EventReaderPolicy`: read the processed events.
    pub event_reader: Handle<ManagedPolicy>,
    /// `RedrivePolicy`: what the `redrive` tool calls.
    pub redrive: Handle<ManagedPolicy>,
}

/// Adds the four policies. They get no name (CloudFormation generates one, so stacks in two
/// regions of one account do not collide in IAM's global namespace) and a description naming
/// the stack; a description is create-only, so rewording one replaces the policy and changes
/// its ARN: roles that had the old one attached lose it.
pub fn add(template: &mut Template, names: &Names, granted: &Granted) -> Policies {
    let prefix = &names.prefix;
    let mut policy = |id: &str, description: String, document: serde_json::Value| {
        let policy = ManagedPolicy {
            description: Some(description.into()),
            ..ManagedPolicy::new(document)
        };
        template.add(id, policy)
    };
    Policies {
        producer: policy(
            "ProducerPolicy",
            format!("Puts records on the {prefix} event stream"),
            producer(granted).document(Layout::Paired),
        ),
        dead_letter_reader: policy(
            "DeadLetterReaderPolicy",
            format!("Reads, re-hides and deletes the {prefix} dead-letter queue's messages"),
            dead_letter_reader(granted).document(Layout::Paired),
        ),
        event_reader: policy(
            "EventReaderPolicy",
            format!("Reads the {prefix} events table and its indexes"),
            event_reader(granted).document(Layout::Paired),
        ),
        redrive: policy(
            "RedrivePolicy",
            format!("What redrive needs to process the {prefix} pipeline's dead letters again"),
            redrive(granted).document(Layout::KeysLast),
        ),
    }
}

/// A producer application: put records (and the describe/list calls producer libraries
/// make), with the key's data keys through Kinesis.
pub fn producer(granted: &Granted) -> Grants {
    let mut grants = Grants::new();
    granted.stream.grant_put(&mut grants);
    grants
}

/// An operator inspecting dead letters: receive, re-hide, delete, decrypt through SQS.
pub fn dead_letter_reader(granted: &Granted) -> Grants {
    let mut grants = Grants::new();
    granted.queue.grant_consume(&mut grants);
    grants
}

/// An analytics or query application: reads of the table and its indexes, decrypted
/// through DynamoDB.
pub fn event_reader(granted: &Granted) -> Grants {
    let mut grants = Grants::new();
    granted.table.grant_read(&mut grants);
    grants
}

/// The `redrive` tool: find the stack's resources through its outputs, take messages off
/// the queue (and put still-invalid records back), read on-failure ranges back from the
/// stream, then either invoke the processor or (`--local`) write the table itself. Its
/// sends and writes are the processor role's own grants, so its key statements are too;
/// the key use of reading the queue is part of sending to it, so one SQS statement remains.
pub fn redrive(granted: &Granted) -> Grants {
    let mut grants = Grants::new();
    grants.allow(iam::describe_own_stack());
    granted.queue.grant_consume(&mut grants);
    granted.queue.grant_send(&mut grants);
    granted.stream.grant_replay(&mut grants);
    granted.function.grant_invoke(&mut grants);
    granted.table.grant_write(&mut grants);
    grants
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use crate::config::Config;

    /// The synthesized default stack.
    fn document() -> Value {
        crate::stack::build(&Config::default())
            .to_document()
            .expect("valid")
    }

    fn statements<'d>(doc: &'d Value, policy: &str) -> &'d Vec<Value> {
        let resource = &doc["Resources"][policy];
        assert_eq!(resource["Type"], "AWS::IAM::ManagedPolicy", "{policy}");
        resource["Properties"]["PolicyDocument"]["Statement"]
            .as_array()
            .expect("statements")
    }

    fn list(value: &Value) -> Vec<Value> {
        match value {
            Value::Array(items) => items.clone(),
            one => vec![one.clone()],
        }
    }

    fn arn_of(logical_id: &str) -> Value {
        json!({"Fn::GetAtt": [logical_id, "Arn"]})
    }

    /// Every statement of a policy as (Sid, actions, resources), in order.
    fn summary(doc: &Value, policy: &str) -> Vec<(String, Vec<Value>, Vec<Value>)> {
        statements(doc, policy)
            .iter()
            .map(|s| {
                (
                    s["Sid"].as_str().unwrap().to_owned(),
                    list(&s["Action"]),
                    list(&s["Resource"]),
                )
            })
            .collect()
    }

    fn strings(items: &[&str]) -> Vec<Value> {
        items.iter().map(|s| json!(s)).collect()
    }

    #[test]
    fn the_producer_policy_puts_on_this_stream_and_encrypts_through_kinesis() {
        let doc = document();
        assert_eq!(
            summary(&doc, "ProducerPolicy"),
            [
                (
                    "PutEvents".to_owned(),
                    strings(&[
                        "kinesis:PutRecord",
                        "kinesis:PutRecords",
                        "kinesis:DescribeStreamSummary",
                        "kinesis:DescribeStream",
                        "kinesis:ListShards",
                    ]),
                    vec![arn_of("EventStream")],
                ),
                (
                    "EncryptEventStream".to_owned(),
                    strings(&["kms:GenerateDataKey"]),
                    vec![arn_of("DataKey")],
                ),
            ]
        );
    }

    #[test]
    fn the_dead_letter_reader_policy_reads_this_queue_and_decrypts_through_sqs() {
        let doc = document();
        assert_eq!(
            summary(&doc, "DeadLetterReaderPolicy"),
            [
                (
                    "ReadDeadLetters".to_owned(),
                    strings(&[
                        "sqs:ReceiveMessage",
                        "sqs:DeleteMessage",
                        "sqs:ChangeMessageVisibility",
                        "sqs:GetQueueAttributes",
                        "sqs:GetQueueUrl",
                    ]),
                    vec![arn_of("DeadLetterQueue")],
                ),
                (
                    "DecryptDeadLetters".to_owned(),
                    strings(&["kms:Decrypt"]),
                    vec![arn_of("DataKey")],
                ),
            ]
        );
    }

    #[test]
    fn the_event_reader_policy_reads_this_table_and_its_indexes_only() {
        let doc = document();
        let indexes = json!({"Fn::Sub": ["${Table}/index/*", {"Table": arn_of("EventTable")}]});
        assert_eq!(
            summary(&doc, "EventReaderPolicy"),
            [
                (
                    "ReadEventTable".to_owned(),
                    strings(&[
                        "dynamodb:GetItem",
                        "dynamodb:BatchGetItem",
                        "dynamodb:Query",
                        "dynamodb:Scan",
                        "dynamodb:DescribeTable",
                    ]),
                    vec![arn_of("EventTable"), indexes],
                ),
                (
                    "DecryptEventTable".to_owned(),
                    strings(&["kms:Decrypt"]),
                    vec![arn_of("DataKey")],
                ),
            ]
        );
    }

    #[test]
    fn the_redrive_policy_is_exactly_what_redrive_calls() {
        let doc = document();
        assert_eq!(
            summary(&doc, "RedrivePolicy"),
            [
                (
                    "DescribeOwnStack".to_owned(),
                    strings(&["cloudformation:DescribeStacks"]),
                    vec![json!({"Ref": "AWS::StackId"})],
                ),
                (
                    "ReadDeadLetters".to_owned(),
                    strings(&[
                        "sqs:ReceiveMessage",
                        "sqs:DeleteMessage",
                        "sqs:ChangeMessageVisibility",
                        "sqs:GetQueueAttributes",
                        "sqs:GetQueueUrl",
                    ]),
                    vec![arn_of("DeadLetterQueue")],
                ),
                (
                    "SendDeadLetters".to_owned(),
                    strings(&["sqs:SendMessage"]),
                    vec![arn_of("DeadLetterQueue")],
                ),
                (
                    "ReplayEventStream".to_owned(),
                    strings(&[
                        "kinesis:DescribeStreamSummary",
                        "kinesis:GetShardIterator",
                        "kinesis:GetRecords",
                    ]),
                    vec![arn_of("EventStream")],
                ),
                (
                    "InvokeProcessor".to_owned(),
                    strings(&["lambda:InvokeFunction", "lambda:GetFunctionConfiguration"]),
                    vec![arn_of("ProcessorFunction")],
                ),
                (
                    "WriteEventTable".to_owned(),
                    strings(&["dynamodb:BatchWriteItem"]),
                    vec![arn_of("EventTable")],
                ),
                (
                    "DecryptEventStream".to_owned(),
                    strings(&["kms:Decrypt"]),
                    vec![arn_of("DataKey")],
                ),
                (
                    "EncryptDeadLetters".to_owned(),
                    strings(&["kms:Decrypt", "kms:GenerateDataKey"]),
                    vec![arn_of("DataKey")],
                ),
                (
                    "EncryptEventTable".to_owned(),
                    strings(&["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"]),
                    vec![arn_of("DataKey")],
                ),
            ]
        );
    }

    /// The resources of every statement are this stack's own: its stream, table (and that
    /// table's indexes), queue, function, key, or the stack itself.
    #[test]
    fn every_policy_names_only_this_stacks_resources() {
        let doc = document();
        let own: Vec<Value> = [
            "EventStream",
            "EventTable",
            "DeadLetterQueue",
            "ProcessorFunction",
            "DataKey",
        ]
        .iter()
        .map(|id| arn_of(id))
        .chain([
            json!({"Ref": "AWS::StackId"}),
            json!({"Fn::Sub": ["${Table}/index/*", {"Table": arn_of("EventTable")}]}),
        ])
        .collect();
        for policy in [
            "ProducerPolicy",
            "DeadLetterReaderPolicy",
            "EventReaderPolicy",
            "RedrivePolicy",
        ] {
            let resource = &doc["Resources"][policy]["Properties"];
            for key in ["Roles", "Users", "Groups", "ManagedPolicyName"] {
                assert!(resource.get(key).is_none(), "{policy} sets {key}");
            }
            for statement in statements(&doc, policy) {
                assert_eq!(statement["Effect"], "Allow");
                for target in list(&statement["Resource"]) {
                    assert!(own.contains(&target), "{policy}: {target} is not ours");
                }
                for action in list(&statement["Action"]) {
                    assert!(
                        !action.as_str().unwrap().contains('*'),
                        "{policy}: {action}"
                    );
                }
            }
        }
    }

    /// A key statement is usable only through the service that holds the data it guards.
    #[test]
    fn each_key_statement_is_limited_to_the_right_service() {
        let doc = document();
        let expected = [
            ("ProducerPolicy", "EncryptEventStream", "kinesis"),
            ("DeadLetterReaderPolicy", "DecryptDeadLetters", "sqs"),
            ("EventReaderPolicy", "DecryptEventTable", "dynamodb"),
            ("RedrivePolicy", "DecryptEventStream", "kinesis"),
            ("RedrivePolicy", "EncryptDeadLetters", "sqs"),
            ("RedrivePolicy", "EncryptEventTable", "dynamodb"),
        ];
        let mut seen = 0;
        for policy in [
            "ProducerPolicy",
            "DeadLetterReaderPolicy",
            "EventReaderPolicy",
            "RedrivePolicy",
        ] {
            for statement in statements(&doc, policy) {
                let uses_key = list(&statement["Action"])
                    .iter()
                    .any(|a| a.as_str().unwrap().starts_with("kms:"));
                if !uses_key {
                    assert!(statement.get("Condition").is_none(), "{statement}");
                    continue;
                }
                let sid = statement["Sid"].as_str().unwrap();
                let (_, _, service) = expected
                    .iter()
                    .find(|(p, s, _)| *p == policy && *s == sid)
                    .unwrap_or_else(|| panic!("unexpected key statement {policy}/{sid}"));
                assert_eq!(
                    statement["Condition"],
                    json!({"StringEquals": {"kms:ViaService": {
                        "Fn::Sub": format!("{service}.${{AWS::Region}}.amazonaws.com")
                    }}}),
                    "{policy}/{sid}"
                );
                seen += 1;
            }
        }
        assert_eq!(seen, expected.len());
    }

    /// redrive --local sends and writes with the caller's credentials what the processor
    /// sends and writes with its role, so the key grants must be the same.
    #[test]
    fn redrive_key_grants_mirror_the_processor_role() {
        let doc = document();
        let role = &doc["Resources"]["ProcessorRole"]["Properties"]["Policies"][0]
            ["PolicyDocument"]["Statement"];
        let redrive = statements(&doc, "RedrivePolicy");
        for sid in [
            "DecryptEventStream",
            "EncryptDeadLetters",
            "EncryptEventTable",
        ] {
            let find = |list: &Value| {
                list.as_array()
                    .unwrap()
                    .iter()
                    .find(|s| s["Sid"] == sid)
                    .cloned()
                    .unwrap_or_else(|| panic!("{sid} missing"))
            };
            assert_eq!(find(role), find(&json!(redrive)), "{sid}");
        }
    }

    /// A table on DynamoDB's own key needs no grant on ours: the table's grants carry its
    /// key's statement only when it has one.
    #[test]
    fn a_table_without_the_data_key_brings_no_key_statement() {
        let config = Config {
            dynamodb_server_side_encryption_enabled: false,
            ..Config::default()
        };
        let doc = crate::stack::build(&config).to_document().unwrap();
        let role = doc["Resources"]["ProcessorRole"]["Properties"]["Policies"][0]["PolicyDocument"]
            ["Statement"]
            .as_array()
            .unwrap();
        let mut all: Vec<&Value> = role.iter().collect();
        for policy in ["EventReaderPolicy", "RedrivePolicy"] {
            all.extend(statements(&doc, policy));
        }
        for statement in all {
            let via = &statement["Condition"]["StringEquals"]["kms:ViaService"]["Fn::Sub"];
            assert_ne!(via, "dynamodb.${AWS::Region}.amazonaws.com", "{statement}");
        }
        assert!(role.iter().any(|s| s["Sid"] == "WriteEventTable"));
        assert!(role.iter().any(|s| s["Sid"] == "EncryptDeadLetters"));
    }

    #[test]
    fn the_policy_arns_and_the_key_are_outputs() {
        let doc = document();
        let outputs = &doc["Outputs"];
        for (output, policy) in [
            ("ProducerPolicyArn", "ProducerPolicy"),
            ("DeadLetterReaderPolicyArn", "DeadLetterReaderPolicy"),
            ("EventReaderPolicyArn", "EventReaderPolicy"),
            ("RedrivePolicyArn", "RedrivePolicy"),
        ] {
            assert_eq!(outputs[output]["Value"], json!({"Ref": policy}), "{output}");
        }
        assert_eq!(outputs["DataKeyArn"]["Value"], arn_of("DataKey"));
        assert_eq!(
            outputs["DataKeyAlias"]["Value"],
            json!({"Ref": "DataKeyAlias"})
        );
    }
}
