//! Access for the people and applications around the pipeline: six customer managed
//! policies, attached to nothing, five of whose ARNs are stack outputs so their owners attach
//! them to their own roles (docs/access.md says who attaches which). The sixth,
//! `BackfillPolicy`, is for the rare run of `backfill` after `dynamodb_index_write_shards`
//! changed (output `BackfillPolicyArn`).
//!
//! Each policy is the union of grants on this stack's resources, made on their constructs,
//! so each carries the data key's statement for the service in between (Kinesis, SQS,
//! DynamoDB, S3), usable only through that service. Nothing is granted on `*`: every action
//! here has a resource type IAM can scope to.

use cfn::resources::iam::ManagedPolicy;
use cfn::{Handle, Template};

use super::aggregates::AggregateTable;
use super::buckets::Buckets;
use super::function::{self, Processor};
use super::iam::{self, Grants, Layout, Statement};
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
    /// The aggregate table, with tumbling windows.
    pub aggregates: Option<&'a AggregateTable>,
    /// The dead-letter queue.
    pub queue: &'a DeadLetterQueue,
    /// The processor function.
    pub function: &'a Processor,
    /// The failure bucket and the event archive, when configured.
    pub buckets: &'a Buckets,
}

/// The five managed policies, for the outputs.
pub struct Policies {
    /// `ProducerPolicy`: put records on the stream.
    pub producer: Handle<ManagedPolicy>,
    /// `DeadLetterReaderPolicy`: read and settle dead letters.
    pub dead_letter_reader: Handle<ManagedPolicy>,
    /// `EventReaderPolicy`: read the processed events.
    pub event_reader: Handle<ManagedPolicy>,
    /// `RedrivePolicy`: what the `redrive` tool calls.
    pub redrive: Handle<ManagedPolicy>,
    /// `ReplayPolicy`: what the `replay` tool calls.
    pub replay: Handle<ManagedPolicy>,
    /// `BackfillPolicy`: what the `backfill` tool calls.
    pub backfill: Handle<ManagedPolicy>,
}

/// Adds the six policies. They get no name (CloudFormation generates one, so stacks in two
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
        replay: policy(
            "ReplayPolicy",
            format!(
                "What replay needs to process a time range of the {prefix} pipeline's events again"
            ),
            replay(granted).document(Layout::KeysLast),
        ),
        backfill: policy(
            "BackfillPolicy",
            format!(
                "What backfill needs to give the {prefix} events table's items their index keys"
            ),
            backfill(granted).document(Layout::KeysLast),
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

/// An analytics or query application: reads of the table and its indexes, and of the
/// aggregate table when there is one (`query aggregates`), decrypted through DynamoDB.
pub fn event_reader(granted: &Granted) -> Grants {
    let mut grants = Grants::new();
    granted.table.grant_read(&mut grants);
    if let Some(aggregates) = granted.aggregates {
        aggregates.grant_read(&mut grants);
    }
    grants
}

/// Whoever replaces aggregates after a redrive or a replay (`query aggregates --rebuild`),
/// when the stack has them: the events of a time range from the event table (and its
/// indexes), the aggregate table's reads, puts and deletes, and the event source mapping,
/// whose tumbling window tells which minutes windows may still be counting (read with
/// GetEventSourceMapping on the mapping, and its encrypted filters decrypted with it).
fn grant_rebuild(grants: &mut Grants, granted: &Granted) {
    if let Some(aggregates) = granted.aggregates {
        granted.table.grant_rebuild_read(grants);
        aggregates.grant_rebuild(grants);
        granted.function.grant_read_mapping(grants);
    }
}

/// The `redrive` tool: find the stack's resources through its outputs, take messages off
/// the queue (and put still-invalid records back), read on-failure ranges back from the
/// stream, read the failure bucket's on-failure objects and claim checks and tag them
/// handled, then either invoke the processor or (`--local`) write where the processor
/// writes itself ([`function::grant_sinks`]); then, with aggregates, rebuild the minutes it
/// changed (`grant_rebuild`). Its sends and writes are the processor role's own grants,
/// so its key statements are too; the key use of reading the queue is part of sending to
/// it, so one SQS statement remains.
pub fn redrive(granted: &Granted) -> Grants {
    let mut grants = Grants::new();
    grants.allow(iam::describe_own_stack());
    granted.queue.grant_consume(&mut grants);
    granted.stream.grant_replay(&mut grants);
    if let Some(failure) = &granted.buckets.failure {
        failure.grant_settle(&mut grants);
    }
    granted.function.grant_invoke(&mut grants);
    function::grant_sinks(&mut grants, granted.table, granted.queue, granted.buckets);
    grant_rebuild(&mut grants, granted);
    grants
}

/// The `replay` tool: find the stack's resources through its outputs, read a time range's
/// batches from the event archive (when the stack has one) or the stream (`--source
/// stream`: its shards from a timestamp on), then either invoke the processor or
/// (`--local`) write where the processor writes itself, as redrive does, and rebuild the
/// aggregates of the range.
pub fn replay(granted: &Granted) -> Grants {
    let mut grants = Grants::new();
    grants.allow(iam::describe_own_stack());
    if let Some(archive) = &granted.buckets.archive {
        archive.grant_read(&mut grants);
    }
    granted.stream.grant_range_read(&mut grants);
    granted.function.grant_invoke(&mut grants);
    function::grant_sinks(&mut grants, granted.table, granted.queue, granted.buckets);
    grant_rebuild(&mut grants, granted);
    grants
}

/// The `backfill` tool: find the table and the function through the stack's outputs, read
/// the shard count from the function's environment (its configuration only: no invoke),
/// scan the table and update its items in place, through DynamoDB with the table's key.
pub fn backfill(granted: &Granted) -> Grants {
    let mut grants = Grants::new();
    grants.allow(iam::describe_own_stack());
    grants.allow(Statement::allow(
        "ReadProcessorConfiguration",
        iam::FUNCTION_CONFIGURATION_READ_ACTIONS,
        vec![granted.function.function.attr_arn().to_json()],
    ));
    granted.table.grant_backfill(&mut grants);
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

    /// Every managed policy the stack creates.
    const POLICIES: [&str; 6] = [
        "ProducerPolicy",
        "DeadLetterReaderPolicy",
        "EventReaderPolicy",
        "RedrivePolicy",
        "ReplayPolicy",
        "BackfillPolicy",
    ];

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
        let indexes = indexes();
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
                (
                    "ReadAggregateTable".to_owned(),
                    strings(&[
                        "dynamodb:GetItem",
                        "dynamodb:Query",
                        "dynamodb:Scan",
                        "dynamodb:DescribeTable",
                    ]),
                    vec![arn_of("AggregateTable")],
                ),
            ]
        );
        // Without windows, the events table alone, as before the aggregates.
        let config = Config {
            aggregate_window_seconds: 0,
            ..Config::default()
        };
        let doc = crate::stack::build(&config).to_document().unwrap();
        let sids: Vec<String> = summary(&doc, "EventReaderPolicy")
            .into_iter()
            .map(|(sid, _, _)| sid)
            .collect();
        assert_eq!(sids, ["ReadEventTable", "DecryptEventTable"]);
    }

    fn indexes() -> Value {
        json!({"Fn::Sub": ["${Table}/index/*", {"Table": arn_of("EventTable")}]})
    }

    /// What redrive and replay may do to rebuild the aggregates they change: read the
    /// events of a range, and replace the aggregate table's minutes.
    fn rebuild() -> Vec<(String, Vec<Value>, Vec<Value>)> {
        vec![
            (
                "ReadEventTableForRebuild".to_owned(),
                strings(&["dynamodb:Query", "dynamodb:Scan"]),
                vec![arn_of("EventTable"), indexes()],
            ),
            (
                "RebuildAggregates".to_owned(),
                strings(&[
                    "dynamodb:Query",
                    "dynamodb:PutItem",
                    "dynamodb:DeleteItem",
                    "dynamodb:BatchWriteItem",
                ]),
                vec![arn_of("AggregateTable")],
            ),
            (
                "ReadEventSourceMapping".to_owned(),
                strings(&["lambda:GetEventSourceMapping"]),
                vec![mapping_arn()],
            ),
        ]
    }

    /// The event source mapping's ARN, from its UUID.
    fn mapping_arn() -> Value {
        json!({"Fn::Sub": [
            "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:event-source-mapping:${Mapping}",
            {"Mapping": {"Ref": "StreamMapping"}}
        ]})
    }

    fn sub(text: &str) -> Value {
        json!({ "Fn::Sub": text })
    }

    /// The statement every S3 grant carries: this account's buckets only.
    fn own_account() -> Value {
        json!({"StringEquals": {"s3:ResourceAccount": {"Ref": "AWS::AccountId"}}})
    }

    fn condition(doc: &Value, policy: &str, sid: &str) -> Value {
        statements(doc, policy)
            .iter()
            .find(|s| s["Sid"] == sid)
            .map(|s| s["Condition"].clone())
            .unwrap_or_else(|| panic!("{policy} has no {sid}"))
    }

    /// The key statements of the managed policies' KeysLast layout, as (Sid, actions).
    fn key_statements(doc: &Value, policy: &str) -> Vec<(String, Vec<Value>)> {
        summary(doc, policy)
            .into_iter()
            .filter(|(_, _, resources)| resources == &[arn_of("DataKey")])
            .map(|(sid, actions, _)| (sid, actions))
            .collect()
    }

    /// The stack's writes, as the processor makes them, for `redrive --local` and
    /// `replay --local`: the table, the queue and the failure bucket's claim checks.
    fn sinks() -> Vec<(String, Vec<Value>, Vec<Value>)> {
        vec![
            (
                "WriteEventTable".to_owned(),
                strings(&["dynamodb:BatchWriteItem"]),
                vec![arn_of("EventTable")],
            ),
            (
                "SendDeadLetters".to_owned(),
                strings(&["sqs:SendMessage"]),
                vec![arn_of("DeadLetterQueue")],
            ),
            (
                "WriteClaimChecks".to_owned(),
                strings(&["s3:PutObject"]),
                vec![sub("${FailureBucket.Arn}/dead-letters/*")],
            ),
        ]
    }

    fn key(sid: &str, actions: &[&str]) -> (String, Vec<Value>, Vec<Value>) {
        (sid.to_owned(), strings(actions), vec![arn_of("DataKey")])
    }

    #[test]
    fn the_redrive_policy_is_exactly_what_redrive_calls() {
        let doc = document();
        let mut expected = vec![
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
                "ReplayEventStream".to_owned(),
                strings(&[
                    "kinesis:DescribeStreamSummary",
                    "kinesis:GetShardIterator",
                    "kinesis:GetRecords",
                ]),
                vec![arn_of("EventStream")],
            ),
            (
                "SettleFailedBatches".to_owned(),
                strings(&[
                    "s3:ListBucket",
                    "s3:GetObject",
                    "s3:GetObjectTagging",
                    "s3:PutObjectTagging",
                ]),
                vec![
                    arn_of("FailureBucket"),
                    sub("${FailureBucket.Arn}/aws/lambda/*"),
                    sub("${FailureBucket.Arn}/dead-letters/*"),
                ],
            ),
            (
                "InvokeProcessor".to_owned(),
                strings(&["lambda:InvokeFunction", "lambda:GetFunctionConfiguration"]),
                vec![arn_of("ProcessorFunction")],
            ),
        ];
        expected.extend(sinks());
        expected.extend(rebuild());
        expected.extend([
            key("DecryptArchiveObjects", &["kms:Decrypt"]),
            key("DecryptEventStream", &["kms:Decrypt"]),
            key("EncryptArchiveObjects", &["kms:GenerateDataKey"]),
            key(
                "EncryptDeadLetters",
                &["kms:Decrypt", "kms:GenerateDataKey"],
            ),
            key(
                "EncryptEventTable",
                &["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"],
            ),
        ]);
        assert_eq!(summary(&doc, "RedrivePolicy"), expected);
        for sid in ["SettleFailedBatches", "WriteClaimChecks"] {
            assert_eq!(
                condition(&doc, "RedrivePolicy", sid),
                own_account(),
                "{sid}"
            );
        }
    }

    /// With the dead-letter queue as the on-failure destination there is no failure bucket:
    /// redrive reads the queue and the stream only, as before the bucket existed.
    #[test]
    fn without_the_failure_bucket_redrive_touches_no_bucket() {
        let config = Config {
            on_failure_destination: crate::config::OnFailureDestination::Sqs,
            ..Config::default()
        };
        let doc = crate::stack::build(&config).to_document().unwrap();
        let sids: Vec<String> = summary(&doc, "RedrivePolicy")
            .into_iter()
            .map(|(sid, _, _)| sid)
            .collect();
        assert_eq!(
            sids,
            [
                "DescribeOwnStack",
                "ReadDeadLetters",
                "ReplayEventStream",
                "InvokeProcessor",
                "WriteEventTable",
                "SendDeadLetters",
                "ReadEventTableForRebuild",
                "RebuildAggregates",
                "ReadEventSourceMapping",
                "DecryptEventStream",
                "EncryptDeadLetters",
                "EncryptEventTable",
            ]
        );
    }

    #[test]
    fn the_replay_policy_is_exactly_what_replay_calls() {
        let read_stream = (
            "ReadEventStreamRange".to_owned(),
            strings(&[
                "kinesis:ListShards",
                "kinesis:GetShardIterator",
                "kinesis:GetRecords",
            ]),
            vec![arn_of("EventStream")],
        );
        let describe = (
            "DescribeOwnStack".to_owned(),
            strings(&["cloudformation:DescribeStacks"]),
            vec![json!({"Ref": "AWS::StackId"})],
        );
        let invoke = (
            "InvokeProcessor".to_owned(),
            strings(&["lambda:InvokeFunction", "lambda:GetFunctionConfiguration"]),
            vec![arn_of("ProcessorFunction")],
        );
        // dev: no archive, so replay reads the stream.
        let doc = document();
        let mut expected = vec![describe.clone(), read_stream.clone(), invoke.clone()];
        expected.extend(sinks());
        expected.extend(rebuild());
        expected.extend([
            key("DecryptEventStream", &["kms:Decrypt"]),
            key("EncryptArchiveObjects", &["kms:GenerateDataKey"]),
            key(
                "EncryptDeadLetters",
                &["kms:Decrypt", "kms:GenerateDataKey"],
            ),
            key(
                "EncryptEventTable",
                &["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"],
            ),
        ]);
        assert_eq!(summary(&doc, "ReplayPolicy"), expected);

        // prod: the archive too, and its --local writes include the archive's.
        let prod = crate::stack::build(&Config::from_preset("prod").unwrap())
            .to_document()
            .unwrap();
        let mut expected = vec![
            describe,
            (
                "ReadEventArchive".to_owned(),
                strings(&["s3:ListBucket", "s3:GetObject"]),
                vec![
                    arn_of("ArchiveBucket"),
                    sub("${ArchiveBucket.Arn}/events/*"),
                ],
            ),
            read_stream,
            invoke,
        ];
        expected.extend(sinks());
        expected.extend([(
            "WriteEventArchive".to_owned(),
            strings(&["s3:PutObject"]),
            vec![sub("${ArchiveBucket.Arn}/events/*")],
        )]);
        expected.extend(rebuild());
        expected.extend([
            key("DecryptArchiveObjects", &["kms:Decrypt"]),
            key("DecryptEventStream", &["kms:Decrypt"]),
            key("EncryptArchiveObjects", &["kms:GenerateDataKey"]),
            key(
                "EncryptDeadLetters",
                &["kms:Decrypt", "kms:GenerateDataKey"],
            ),
            key(
                "EncryptEventTable",
                &["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"],
            ),
        ]);
        assert_eq!(summary(&prod, "ReplayPolicy"), expected);
        for sid in ["ReadEventArchive", "WriteEventArchive", "WriteClaimChecks"] {
            assert_eq!(
                condition(&prod, "ReplayPolicy", sid),
                own_account(),
                "{sid}"
            );
        }
        assert!(key_statements(&prod, "ReplayPolicy").len() == 5);
    }

    /// The processor's role gets what AWS documents for an S3 on-failure destination
    /// (docs/access.md): ListBucket on the bucket, PutObject on its objects, both in this
    /// account only, and the key's data keys through S3. Its claim checks are part of that
    /// PutObject; with the archive, PutObject under `events/` there.
    #[test]
    fn the_role_can_deliver_failed_batches_and_write_the_archive() {
        let prod = crate::stack::build(&Config::from_preset("prod").unwrap())
            .to_document()
            .unwrap();
        let role = &prod["Resources"]["ProcessorRole"]["Properties"]["Policies"][0]
            ["PolicyDocument"]["Statement"];
        let find = |sid: &str| {
            role.as_array()
                .unwrap()
                .iter()
                .find(|s| s["Sid"] == sid)
                .cloned()
                .unwrap_or_else(|| panic!("the role has no {sid}"))
        };
        let deliver = find("DeliverFailedBatches");
        assert_eq!(deliver["Action"], json!(["s3:ListBucket", "s3:PutObject"]));
        assert_eq!(
            deliver["Resource"],
            json!([arn_of("FailureBucket"), sub("${FailureBucket.Arn}/*")])
        );
        assert_eq!(deliver["Condition"], own_account());
        let archive = find("WriteEventArchive");
        assert_eq!(archive["Resource"], sub("${ArchiveBucket.Arn}/events/*"));
        assert_eq!(archive["Condition"], own_account());
        let key = find("EncryptArchiveObjects");
        assert_eq!(key["Action"], "kms:GenerateDataKey");
        assert_eq!(
            key["Condition"]["StringEquals"]["kms:ViaService"],
            json!({"Fn::Sub": "s3.${AWS::Region}.amazonaws.com"})
        );
        let sids: Vec<&str> = role
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["Sid"].as_str().unwrap())
            .collect();
        assert!(
            !sids.contains(&"WriteClaimChecks"),
            "DeliverFailedBatches covers it: {sids:?}"
        );
        let environment =
            &prod["Resources"]["ProcessorFunction"]["Properties"]["Environment"]["Variables"];
        assert_eq!(
            environment[contract::env::FAILURE_BUCKET],
            json!({"Ref": "FailureBucket"})
        );
        assert_eq!(
            environment[contract::env::ARCHIVE_BUCKET],
            json!({"Ref": "ArchiveBucket"})
        );
    }

    /// The resources of every statement are this stack's own: its stream, table (and that
    /// table's indexes), queue, function, key, or the stack itself.
    #[test]
    fn every_policy_names_only_this_stacks_resources() {
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
            indexes(),
            arn_of("AggregateTable"),
            mapping_arn(),
            arn_of("FailureBucket"),
            arn_of("ArchiveBucket"),
            sub("${FailureBucket.Arn}/aws/lambda/*"),
            sub("${FailureBucket.Arn}/dead-letters/*"),
            sub("${ArchiveBucket.Arn}/events/*"),
        ])
        .collect();
        let doc = crate::stack::build(&Config::from_preset("prod").unwrap())
            .to_document()
            .unwrap();
        for policy in POLICIES {
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
        let mut expected = vec![
            ("ProducerPolicy", "EncryptEventStream", "kinesis"),
            ("DeadLetterReaderPolicy", "DecryptDeadLetters", "sqs"),
            ("EventReaderPolicy", "DecryptEventTable", "dynamodb"),
        ];
        for policy in ["RedrivePolicy", "ReplayPolicy"] {
            expected.extend([
                (policy, "DecryptEventStream", "kinesis"),
                (policy, "EncryptDeadLetters", "sqs"),
                (policy, "EncryptEventTable", "dynamodb"),
                (policy, "EncryptArchiveObjects", "s3"),
            ]);
        }
        expected.push(("RedrivePolicy", "DecryptArchiveObjects", "s3"));
        expected.push(("BackfillPolicy", "EncryptEventTable", "dynamodb"));
        let mut seen = 0;
        for policy in POLICIES {
            for statement in statements(&doc, policy) {
                let uses_key = list(&statement["Action"])
                    .iter()
                    .any(|a| a.as_str().unwrap().starts_with("kms:"));
                if !uses_key {
                    // Only S3's statements have a condition: this account's buckets.
                    let s3 = list(&statement["Action"])
                        .iter()
                        .all(|a| a.as_str().unwrap().starts_with("s3:"));
                    let expected = if s3 { own_account() } else { Value::Null };
                    assert_eq!(statement["Condition"], expected, "{statement}");
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
            "EncryptArchiveObjects",
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

    /// With filters encrypted with the data key, whoever reads the mapping back (the
    /// rebuild of redrive and replay) may have Lambda decrypt them: kms:Decrypt on the key
    /// through Lambda only. Without the rebuild nothing reads the mapping.
    #[test]
    fn readers_of_an_encrypted_mapping_decrypt_its_filters_through_lambda() {
        let filtered = |sets: &[&str]| {
            let mut sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
            sets.push(r#"lambda_filter_event_types=["purchase"]"#.into());
            let config = Config::load(None, None, &sets).expect("valid");
            crate::stack::build(&config).to_document().unwrap()
        };
        let doc = filtered(&[]);
        assert_eq!(
            doc["Resources"]["StreamMapping"]["Properties"]["KmsKeyArn"],
            arn_of("DataKey")
        );
        for policy in ["RedrivePolicy", "ReplayPolicy"] {
            let decrypt = statements(&doc, policy)
                .iter()
                .find(|s| s["Sid"] == "DecryptMappingFilters")
                .unwrap_or_else(|| panic!("{policy} cannot decrypt the filters"))
                .clone();
            assert_eq!(
                decrypt,
                json!({
                    "Sid": "DecryptMappingFilters",
                    "Effect": "Allow",
                    "Action": "kms:Decrypt",
                    "Resource": arn_of("DataKey"),
                    "Condition": {"StringEquals": {"kms:ViaService":
                        sub("lambda.${AWS::Region}.amazonaws.com")}},
                }),
                "{policy}"
            );
            assert!(
                summary(&doc, policy).contains(&(
                    "ReadEventSourceMapping".to_owned(),
                    strings(&["lambda:GetEventSourceMapping"]),
                    vec![mapping_arn()],
                )),
                "{policy}"
            );
        }
        // Filters in plain text: the mapping is read, nothing is decrypted.
        let plain = filtered(&["lambda_filter_encryption=false"]);
        assert_eq!(
            plain["Resources"]["StreamMapping"]["Properties"].get("KmsKeyArn"),
            None
        );
        // No aggregates, no rebuild: nothing reads the mapping.
        let unwindowed = filtered(&["aggregate_window_seconds=0"]);
        for (doc, policy) in [
            (&plain, "RedrivePolicy"),
            (&plain, "ReplayPolicy"),
            (&unwindowed, "RedrivePolicy"),
            (&unwindowed, "ReplayPolicy"),
        ] {
            let sids: Vec<String> = summary(doc, policy)
                .into_iter()
                .map(|(sid, _, _)| sid)
                .collect();
            assert!(
                !sids.contains(&"DecryptMappingFilters".to_owned()),
                "{policy}"
            );
            assert_eq!(
                sids.contains(&"ReadEventSourceMapping".to_owned()),
                std::ptr::eq(doc, &plain),
                "{policy}: {sids:?}"
            );
        }
        // The default stack has no filters: its mapping has no key.
        assert_eq!(
            document()["Resources"]["StreamMapping"]["Properties"].get("KmsKeyArn"),
            None
        );
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
        for policy in [
            "EventReaderPolicy",
            "RedrivePolicy",
            "ReplayPolicy",
            "BackfillPolicy",
        ] {
            all.extend(statements(&doc, policy));
        }
        for statement in all {
            let via = &statement["Condition"]["StringEquals"]["kms:ViaService"]["Fn::Sub"];
            assert_ne!(via, "dynamodb.${AWS::Region}.amazonaws.com", "{statement}");
        }
        assert!(role.iter().any(|s| s["Sid"] == "WriteEventTable"));
        assert!(role.iter().any(|s| s["Sid"] == "EncryptDeadLetters"));
    }

    /// Exactly what backfill calls: the stack's outputs, the function's environment (not an
    /// invoke), a Scan and UpdateItem of the table itself (not its indexes), and the table's
    /// key through DynamoDB.
    #[test]
    fn the_backfill_policy_is_exactly_what_backfill_calls() {
        let doc = document();
        assert_eq!(
            summary(&doc, "BackfillPolicy"),
            [
                (
                    "DescribeOwnStack".to_owned(),
                    strings(&["cloudformation:DescribeStacks"]),
                    vec![json!({"Ref": "AWS::StackId"})],
                ),
                (
                    "ReadProcessorConfiguration".to_owned(),
                    strings(&["lambda:GetFunctionConfiguration"]),
                    vec![arn_of("ProcessorFunction")],
                ),
                (
                    "BackfillEventTable".to_owned(),
                    strings(&["dynamodb:Scan", "dynamodb:UpdateItem"]),
                    vec![arn_of("EventTable")],
                ),
                key(
                    "EncryptEventTable",
                    &["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"]
                ),
            ]
        );
        assert_eq!(
            doc["Resources"]["BackfillPolicy"]["Properties"]["Description"],
            "What backfill needs to give the retail-events-dev events table's items their index keys"
        );
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
            ("ReplayPolicyArn", "ReplayPolicy"),
            ("BackfillPolicyArn", "BackfillPolicy"),
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
