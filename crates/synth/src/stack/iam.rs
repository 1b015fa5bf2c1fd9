//! IAM policy documents built from grants.
//!
//! Constructs never write a policy by hand: they call a grant (`grant_read_stream`, ...)
//! naming the resource it is for, and the grant yields exactly the actions one kind of
//! caller needs on exactly that resource. The processor's role and the managed policies for
//! the people around the pipeline (see `access`) are unions of those grants, so they change
//! only when what the stack wires together changes.
//!
//! The key a resource is encrypted with is granted separately, with the actions the service
//! calls on the caller's behalf for that kind of access (`KEY_*`) and only through that
//! service (`grant_key_via`).

use cfn::Expr;
use serde_json::{json, Map, Value};

/// One statement of a policy document.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    sid: String,
    effect: &'static str,
    principal: Option<Value>,
    actions: Vec<&'static str>,
    resources: Vec<Value>,
    condition: Option<Value>,
}

impl Statement {
    /// An `Allow` of these actions on these resources.
    pub fn allow(sid: &str, actions: &[&'static str], resources: Vec<Value>) -> Statement {
        Statement {
            sid: sid.to_owned(),
            effect: "Allow",
            principal: None,
            actions: actions.to_vec(),
            resources,
            condition: None,
        }
    }

    /// Restricts the statement with an IAM `Condition` block.
    pub fn when(mut self, condition: Value) -> Statement {
        self.condition = Some(condition);
        self
    }

    /// Names who the statement is for, as resource policies (key, stream) require.
    pub fn for_principal(mut self, principal: Value) -> Statement {
        self.principal = Some(principal);
        self
    }

    /// The actions the statement allows, for tests and reviews.
    pub fn actions(&self) -> &[&'static str] {
        &self.actions
    }

    /// The statement as IAM JSON.
    pub fn to_json(&self) -> Value {
        let mut out = Map::new();
        out.insert("Sid".into(), json!(self.sid));
        out.insert("Effect".into(), json!(self.effect));
        if let Some(principal) = &self.principal {
            out.insert("Principal".into(), principal.clone());
        }
        out.insert(
            "Action".into(),
            one_or_many(self.actions.iter().map(|a| json!(a)).collect()),
        );
        out.insert("Resource".into(), one_or_many(self.resources.clone()));
        if let Some(condition) = &self.condition {
            out.insert("Condition".into(), condition.clone());
        }
        Value::Object(out)
    }
}

fn one_or_many(mut items: Vec<Value>) -> Value {
    if items.len() == 1 {
        items.remove(0)
    } else {
        Value::Array(items)
    }
}

/// A policy document: `Version` 2012-10-17 and its statements in grant order.
pub fn document(statements: &[Statement]) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": statements.iter().map(Statement::to_json).collect::<Vec<_>>(),
    })
}

/// The trust policy that lets one AWS service assume a role.
pub fn assume_role_by(service: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "Service": service },
            "Action": "sts:AssumeRole",
        }],
    })
}

/// Actions Lambda's event source mapping needs to read a stream (no enhanced fan-out).
pub const STREAM_READ_ACTIONS: &[&str] = &[
    "kinesis:DescribeStream",
    "kinesis:DescribeStreamSummary",
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
    "kinesis:ListShards",
];

/// The table actions the processor calls: it writes in batches and nothing else.
pub const TABLE_WRITE_ACTIONS: &[&str] = &["dynamodb:BatchWriteItem"];

/// `SendMessage` also authorizes `SendMessageBatch`, which the processor and the
/// mapping's on-failure destination use.
pub const QUEUE_SEND_ACTIONS: &[&str] = &["sqs:SendMessage"];

/// What a producer calls: the writes, and the describe/list calls producer libraries make
/// before writing (this project's producer: `DescribeStreamSummary`; the KPL and other
/// shard-aware producers: `DescribeStream` and `ListShards`). Kinesis resource policies
/// accept all five, so a producer in another account is granted the same set.
pub const STREAM_PUT_ACTIONS: &[&str] = &[
    "kinesis:PutRecord",
    "kinesis:PutRecords",
    "kinesis:DescribeStreamSummary",
    "kinesis:DescribeStream",
    "kinesis:ListShards",
];

/// Reading known records back by shard and sequence number (redrive of the event source
/// mapping's on-failure records): no listing, no consumer registration.
pub const STREAM_REPLAY_ACTIONS: &[&str] = &[
    "kinesis:DescribeStreamSummary",
    "kinesis:GetShardIterator",
    "kinesis:GetRecords",
];

/// Point reads, queries and scans of the table and its indexes, and its description
/// (key schema, index names) that query tools read first.
pub const TABLE_READ_ACTIONS: &[&str] = &[
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:DescribeTable",
];

/// Taking messages off a queue: receive, settle (delete or hide again), and the queue's
/// attributes and URL that SQS clients look up first.
pub const QUEUE_CONSUME_ACTIONS: &[&str] = &[
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",
];

/// Calling a function synchronously, and reading its configuration (to check it is the
/// stack's processor and how long it may run) before doing so.
pub const FUNCTION_INVOKE_ACTIONS: &[&str] =
    &["lambda:InvokeFunction", "lambda:GetFunctionConfiguration"];

/// Reading a stack's outputs (tools find the stack's resources through them).
pub const STACK_DESCRIBE_ACTIONS: &[&str] = &["cloudformation:DescribeStacks"];

/// Key use behind Kinesis reads: records are decrypted for the reader.
pub const KEY_STREAM_READ: &[&str] = &["kms:Decrypt"];
/// Key use behind Kinesis writes: Kinesis asks for a data key per batch.
pub const KEY_STREAM_WRITE: &[&str] = &["kms:GenerateDataKey"];
/// Key use behind DynamoDB reads of a table encrypted with the key.
pub const KEY_TABLE_READ: &[&str] = &["kms:Decrypt"];
/// Key use behind DynamoDB writes of a table encrypted with the key.
pub const KEY_TABLE_WRITE: &[&str] = &["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"];
/// Key use behind SQS receives of an encrypted queue.
pub const KEY_QUEUE_RECEIVE: &[&str] = &["kms:Decrypt"];
/// Key use behind SQS sends to an encrypted queue: SQS generates data keys and, when it
/// reuses a cached one, decrypts it.
pub const KEY_QUEUE_SEND: &[&str] = &["kms:Decrypt", "kms:GenerateDataKey"];

/// Reads the stream.
pub fn grant_read_stream(stream_arn: Expr) -> Statement {
    Statement::allow(
        "ReadEventStream",
        STREAM_READ_ACTIONS,
        vec![stream_arn.to_json()],
    )
}

/// Writes items to the table.
pub fn grant_write_table(table_arn: Expr) -> Statement {
    Statement::allow(
        "WriteEventTable",
        TABLE_WRITE_ACTIONS,
        vec![table_arn.to_json()],
    )
}

/// Sends dead-letter messages to the queue.
pub fn grant_send_queue(queue_arn: Expr) -> Statement {
    Statement::allow(
        "SendDeadLetters",
        QUEUE_SEND_ACTIONS,
        vec![queue_arn.to_json()],
    )
}

/// Puts records on the stream, as a producer does.
pub fn grant_put_stream(stream_arn: Expr) -> Statement {
    Statement::allow("PutEvents", STREAM_PUT_ACTIONS, vec![stream_arn.to_json()])
}

/// Reads given records back from the stream by shard and sequence number.
pub fn grant_replay_stream(stream_arn: Expr) -> Statement {
    Statement::allow(
        "ReplayEventStream",
        STREAM_REPLAY_ACTIONS,
        vec![stream_arn.to_json()],
    )
}

/// Reads the table and every index of it (`<table ARN>/index/*`: queries name an index,
/// and a wildcard over this table's indexes keeps the grant current when one is added).
pub fn grant_read_table(table_arn: Expr) -> Statement {
    let indexes = Expr::sub_with("${Table}/index/*", vec![("Table", table_arn.to_json())]);
    Statement::allow(
        "ReadEventTable",
        TABLE_READ_ACTIONS,
        vec![table_arn.to_json(), indexes.to_json()],
    )
}

/// Receives, deletes and re-hides the queue's messages.
pub fn grant_consume_queue(queue_arn: Expr) -> Statement {
    Statement::allow(
        "ReadDeadLetters",
        QUEUE_CONSUME_ACTIONS,
        vec![queue_arn.to_json()],
    )
}

/// Invokes the function synchronously.
pub fn grant_invoke_function(function_arn: Expr) -> Statement {
    Statement::allow(
        "InvokeProcessor",
        FUNCTION_INVOKE_ACTIONS,
        vec![function_arn.to_json()],
    )
}

/// Reads one stack's description and outputs; `stack_id` is its full ARN
/// (`Ref AWS::StackId`), so no other stack, nor a later stack of the same name, is readable.
pub fn grant_describe_stack(stack_id: Expr) -> Statement {
    Statement::allow(
        "DescribeOwnStack",
        STACK_DESCRIBE_ACTIONS,
        vec![stack_id.to_json()],
    )
}

/// Writes the function's log streams in its own log group.
pub fn grant_write_logs(log_group_arn: Expr) -> Statement {
    Statement::allow(
        "WriteOwnLogs",
        &["logs:CreateLogStream", "logs:PutLogEvents"],
        vec![log_group_arn.to_json()],
    )
}

/// X-Ray segment upload: these actions support no resource-level scoping, so `*` is the
/// only resource IAM accepts for them.
pub fn grant_xray() -> Statement {
    Statement::allow(
        "WriteTraces",
        &["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
        vec![json!("*")],
    )
}

/// Uses a KMS key only when the call comes through one AWS service (`kms:ViaService`),
/// so the role cannot use the key directly.
pub fn grant_key_via(
    sid: &str,
    key_arn: Expr,
    actions: &[&'static str],
    service: &str,
) -> Statement {
    Statement::allow(sid, actions, vec![key_arn.to_json()]).when(via_service(service))
}

/// The same grant as a statement of the key's own policy, for principals the key's account
/// does not control (producers in other accounts). In a key policy the resource is always
/// `*`, which there means "this key": a key policy cannot name its own ARN, and applies to
/// no other key.
pub fn key_policy_via(
    sid: &str,
    principal: Value,
    actions: &[&'static str],
    service: &str,
) -> Statement {
    Statement::allow(sid, actions, vec![json!("*")])
        .for_principal(principal)
        .when(via_service(service))
}

/// `kms:ViaService` for one AWS service in the stack's region.
fn via_service(service: &str) -> Value {
    let via = Expr::sub(format!("{service}.${{AWS::Region}}.amazonaws.com"));
    json!({ "StringEquals": { "kms:ViaService": via.to_json() } })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_single_action_and_resource_are_written_as_scalars() {
        let statement = grant_write_table(Expr::GetAtt("Table".into(), "Arn".into()));
        assert_eq!(
            statement.to_json(),
            json!({"Sid": "WriteEventTable", "Effect": "Allow", "Action": "dynamodb:BatchWriteItem",
                   "Resource": {"Fn::GetAtt": ["Table", "Arn"]}})
        );
    }

    #[test]
    fn key_grants_are_limited_to_one_service() {
        let statement = grant_key_via("K", Expr::Ref("Key".into()), &["kms:Decrypt"], "kinesis");
        let condition = &statement.to_json()["Condition"]["StringEquals"]["kms:ViaService"];
        assert_eq!(
            condition,
            &json!({"Fn::Sub": "kinesis.${AWS::Region}.amazonaws.com"})
        );
    }

    #[test]
    fn table_reads_cover_the_table_and_its_indexes_only() {
        let statement = grant_read_table(Expr::GetAtt("Table".into(), "Arn".into()));
        assert_eq!(
            statement.to_json()["Resource"],
            json!([
                {"Fn::GetAtt": ["Table", "Arn"]},
                {"Fn::Sub": ["${Table}/index/*", {"Table": {"Fn::GetAtt": ["Table", "Arn"]}}]}
            ])
        );
    }

    #[test]
    fn key_policy_statements_name_the_principal_and_the_service() {
        let principal = json!({"AWS": "arn:aws:iam::123456789012:root"});
        let statement =
            key_policy_via("P", principal.clone(), &["kms:GenerateDataKey"], "kinesis").to_json();
        assert_eq!(statement["Principal"], principal);
        assert_eq!(statement["Resource"], "*");
        assert_eq!(
            statement["Condition"]["StringEquals"]["kms:ViaService"],
            json!({"Fn::Sub": "kinesis.${AWS::Region}.amazonaws.com"})
        );
        let keys: Vec<&String> = statement.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            [
                "Sid",
                "Effect",
                "Principal",
                "Action",
                "Resource",
                "Condition"
            ]
        );
    }

    #[test]
    fn no_grant_allows_every_action() {
        let grants = [
            grant_read_stream(Expr::Ref("S".into())),
            grant_put_stream(Expr::Ref("S".into())),
            grant_replay_stream(Expr::Ref("S".into())),
            grant_write_table(Expr::Ref("T".into())),
            grant_read_table(Expr::Ref("T".into())),
            grant_send_queue(Expr::Ref("Q".into())),
            grant_consume_queue(Expr::Ref("Q".into())),
            grant_invoke_function(Expr::Ref("F".into())),
            grant_describe_stack(Expr::Ref("AWS::StackId".into())),
            grant_write_logs(Expr::Ref("L".into())),
            grant_xray(),
        ];
        for grant in grants {
            assert!(
                grant.actions().iter().all(|a| !a.contains('*')),
                "{grant:?}"
            );
        }
    }
}
