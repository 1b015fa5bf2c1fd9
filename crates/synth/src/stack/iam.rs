//! IAM policy documents built from grants.
//!
//! Constructs never write a policy by hand: they call a grant (`grant_read_stream`, ...)
//! naming the resource it is for, and the grant yields exactly the actions the processor
//! needs on exactly that resource. The role's policy is the union of those grants, so it
//! changes only when what the stack wires together changes.

use cfn::Expr;
use serde_json::{json, Map, Value};

/// One statement of a policy document.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    sid: String,
    effect: &'static str,
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

    /// The actions the statement allows, for tests and reviews.
    pub fn actions(&self) -> &[&'static str] {
        &self.actions
    }

    /// The statement as IAM JSON.
    pub fn to_json(&self) -> Value {
        let mut out = Map::new();
        out.insert("Sid".into(), json!(self.sid));
        out.insert("Effect".into(), json!(self.effect));
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
    let via = Expr::sub(format!("{service}.${{AWS::Region}}.amazonaws.com"));
    Statement::allow(sid, actions, vec![key_arn.to_json()]).when(json!({
        "StringEquals": { "kms:ViaService": via.to_json() }
    }))
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
    fn no_grant_allows_every_action() {
        let grants = [
            grant_read_stream(Expr::Ref("S".into())),
            grant_write_table(Expr::Ref("T".into())),
            grant_send_queue(Expr::Ref("Q".into())),
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
