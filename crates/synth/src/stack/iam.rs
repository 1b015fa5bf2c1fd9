//! IAM policy documents built from grants.
//!
//! Constructs never write a policy by hand. A construct that can be accessed (the stream,
//! the table, the queue, the function) has `grant_*` methods that add to a [`Grants`] exactly
//! the actions one kind of caller needs on exactly that resource, *and* the statement for
//! the key the resource is encrypted with: the key's actions the service calls on the
//! caller's behalf for that kind of access (`KEY_*`), usable only through that service
//! ([`key_via`]). So the processor's role and the managed policies for the people around
//! the pipeline (see `access`) are the union of what the wiring grants, and change only
//! when what the stack wires together changes.
//!
//! This module is the bottom of the constructs: it imports none of them.

use cfn::resources::kms::Key;
use cfn::{Expr, Handle};
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

    /// A `Deny` of these actions on these resources, for everyone; resource policies use it
    /// to refuse what no grant may allow (see [`deny_insecure_transport`]).
    pub fn deny(sid: &str, actions: &[&'static str], resources: Vec<Value>) -> Statement {
        Statement {
            effect: "Deny",
            principal: Some(json!({ "AWS": "*" })),
            ..Statement::allow(sid, actions, resources)
        }
    }

    /// A `Deny` in the grantee's own (identity) policy: no principal, it binds whoever holds
    /// the role. It takes back, under its condition, what an `Allow` of the policy grants.
    pub fn deny_grantee(sid: &str, actions: &[&'static str], resources: Vec<Value>) -> Statement {
        Statement {
            effect: "Deny",
            ..Statement::allow(sid, actions, resources)
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

    /// Whether this statement already allows (or denies) everything `other` does: the same
    /// effect, principal and condition, at least its actions, and each of its resources
    /// matched by one of this statement's ([`resource_covers`]: a bucket's `/*` covers its
    /// `/dead-letters/*`). The Sid does not matter: it names a statement, it grants nothing.
    pub fn covers(&self, other: &Statement) -> bool {
        self.effect == other.effect
            && self.principal == other.principal
            && self.condition == other.condition
            && other.actions.iter().all(|a| self.actions.contains(a))
            && other.resources.iter().all(|theirs| {
                self.resources
                    .iter()
                    .any(|mine| resource_covers(mine, theirs))
            })
    }

    /// The statement's Sid.
    pub fn sid(&self) -> &str {
        &self.sid
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

/// Whether the resource `mine` matches every resource `theirs` matches: the same value, or
/// `mine` ending in IAM's `*` after a literal prefix with which the literal part of `theirs`
/// (up to its first wildcard) begins. Both must be plain strings, or both the string of an
/// `Fn::Sub`, whose `${...}` references are then part of the compared text.
pub fn resource_covers(mine: &Value, theirs: &Value) -> bool {
    if mine == theirs {
        return true;
    }
    fn text(value: &Value) -> Option<(bool, &str)> {
        match value {
            Value::String(text) => Some((false, text.as_str())),
            other => other.get("Fn::Sub")?.as_str().map(|text| (true, text)),
        }
    }
    let (Some((sub_mine, mine)), Some((sub_theirs, theirs))) = (text(mine), text(theirs)) else {
        return false;
    };
    let Some(prefix) = mine.strip_suffix('*') else {
        return false;
    };
    let literal = theirs.split(['*', '?']).next().unwrap_or_default();
    sub_mine == sub_theirs && !prefix.contains(['*', '?']) && literal.starts_with(prefix)
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

/// What Lambda's event source mapping calls on an enhanced fan-out consumer: it looks the
/// consumer up and subscribes to each shard through it. Both take the consumer's ARN as
/// their resource.
pub const CONSUMER_SUBSCRIBE_ACTIONS: &[&str] =
    &["kinesis:DescribeStreamConsumer", "kinesis:SubscribeToShard"];

/// The processor's execution role's logical ID: the stack's own security group depends on
/// it by name (`vpc::add`), so that the role outlives the group.
pub const PROCESSOR_ROLE_ID: &str = "ProcessorRole";

/// What Lambda calls with the execution role to attach a function to a VPC and detach it
/// again: AWS's Lambda guide (configuration-vpc, "Required IAM permissions") lists these six
/// actions on all resources, the AWSLambdaVPCAccessExecutionRole managed policy less its logs
/// actions. Lambda makes these calls outside the function's execution environment, so they
/// carry no `lambda:SourceFunctionArn`; the role's least-privilege measure is a Deny of the
/// same actions when that key names the function (see `vpc::Placement`).
pub const NETWORK_INTERFACE_ACTIONS: &[&str] = &[
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
];

/// The table actions the processor calls: it writes in batches and nothing else.
pub const TABLE_WRITE_ACTIONS: &[&str] = &["dynamodb:BatchWriteItem"];

/// The aggregate table actions the processor calls at a window's end: one item per minute
/// and window part, put alone or in batches.
pub const AGGREGATE_WRITE_ACTIONS: &[&str] = &["dynamodb:PutItem", "dynamodb:BatchWriteItem"];

/// Reading the aggregate table (`query aggregates`): a day is one partition, so a Query;
/// an item by key; a scan over days; and the table's description.
pub const AGGREGATE_READ_ACTIONS: &[&str] = &[
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:DescribeTable",
];

/// Rebuilding aggregates (`query aggregates --rebuild`): read a day's parts, put the rebuilt
/// minutes, delete the window parts they replace.
pub const AGGREGATE_REBUILD_ACTIONS: &[&str] = &[
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
];

/// Reading the events a rebuild counts: queries of the table and its indexes over a time
/// range, or a scan.
pub const TABLE_REBUILD_READ_ACTIONS: &[&str] = &["dynamodb:Query", "dynamodb:Scan"];

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

/// Reading the records of a time range (replay with `--source stream`): the shards, then
/// each shard from an AT_TIMESTAMP iterator on.
pub const STREAM_RANGE_READ_ACTIONS: &[&str] = &[
    "kinesis:ListShards",
    "kinesis:GetShardIterator",
    "kinesis:GetRecords",
];

/// S3 operations on the bucket itself: listing keys (Lambda's S3 destination checks the
/// bucket with it; redrive and replay find objects with it).
pub const BUCKET_LIST_ACTIONS: &[&str] = &["s3:ListBucket"];
/// Writing an object (one PutObject request; no multipart upload).
pub const OBJECT_WRITE_ACTIONS: &[&str] = &["s3:PutObject"];
/// Reading an object.
pub const OBJECT_READ_ACTIONS: &[&str] = &["s3:GetObject"];
/// What redrive does with a failure-bucket object: reads it and its tags, and tags it
/// handled once every record in it is.
pub const OBJECT_SETTLE_ACTIONS: &[&str] =
    &["s3:GetObject", "s3:GetObjectTagging", "s3:PutObjectTagging"];
/// Key use behind a PutObject to an SSE-KMS bucket: S3 asks for a data key (with a Bucket
/// Key, a bucket-level one it reuses). kms:Decrypt is needed only to complete a multipart
/// upload, which none of the writers makes.
pub const KEY_OBJECT_WRITE: &[&str] = &["kms:GenerateDataKey"];
/// Key use behind a GetObject from an SSE-KMS bucket.
pub const KEY_OBJECT_READ: &[&str] = &["kms:Decrypt"];

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

/// Reading a function's configuration alone (its environment: `backfill` reads the shard
/// count, `INDEX_WRITE_SHARDS`, from it), without invoking it.
pub const FUNCTION_CONFIGURATION_READ_ACTIONS: &[&str] = &["lambda:GetFunctionConfiguration"];

/// What `backfill` calls on the events table: a parallel Scan of the table itself (never an
/// index) and one conditional UpdateItem per item that lacks its index keys.
pub const TABLE_BACKFILL_ACTIONS: &[&str] = &["dynamodb:Scan", "dynamodb:UpdateItem"];

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
/// Reading an event source mapping back: its settings and, when the caller may decrypt
/// them, its filters. GetEventSourceMapping takes the mapping's ARN as its resource;
/// ListEventSourceMappings takes none and returns encrypted filters as null.
pub const MAPPING_READ_ACTIONS: &[&str] = &["lambda:GetEventSourceMapping"];
/// Key use behind a mapping's filters encrypted with the key: Lambda decrypts them, for
/// itself to filter and for a caller reading the mapping back.
pub const KEY_MAPPING_FILTERS_READ: &[&str] = &["kms:Decrypt"];

/// Reads one stack's description and outputs: this stack's, by its full ARN
/// (`Ref AWS::StackId`), so no other stack, nor a later stack of the same name, is readable.
/// Tools find the stack's resources through its outputs.
pub fn describe_own_stack() -> Statement {
    Statement::allow(
        "DescribeOwnStack",
        STACK_DESCRIBE_ACTIONS,
        vec![cfn::pseudo::stack_id().to_json()],
    )
}

/// X-Ray segment upload: these actions support no resource-level scoping, so `*` is the
/// only resource IAM accepts for them.
pub fn write_traces() -> Statement {
    Statement::allow(
        "WriteTraces",
        &["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
        vec![json!("*")],
    )
}

/// Uses `key` only when the call comes through one AWS service (`kms:ViaService`), so the
/// grantee cannot use the key directly. Constructs add it with the grant it serves.
pub fn key_via(sid: &str, key: &Handle<Key>, actions: &[&'static str], service: &str) -> Statement {
    Statement::allow(sid, actions, vec![key.attr_arn().to_json()]).when(via_service(service))
}

/// The statement of a resource policy (queue, topic, bucket) that refuses every request not
/// made over TLS, whoever makes it: `actions` are the resource's own (`sqs:*`, `sns:Publish`,
/// `s3:*`) on `resources` (a bucket's policy names the bucket and its objects).
pub fn deny_insecure_transport(actions: &[&'static str], resources: Vec<Expr>) -> Statement {
    let resources = resources.iter().map(Expr::to_json).collect();
    Statement::deny("DenyInsecureTransport", actions, resources)
        .when(json!({ "Bool": { "aws:SecureTransport": "false" } }))
}

/// How a policy lays out the key statements of its grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Each key statement right after the grant that needs it: a reader sees each access
    /// with the key use behind it.
    Paired,
    /// The grants' statements in order, then the key statements sorted by Sid. For a
    /// policy whose grants share key uses (reading and sending one queue: one SQS key
    /// statement covers both), where no single grant owns the statement that remains.
    KeysLast,
}

/// The grants made to one grantee (a role, a managed policy): its policy is their union.
///
/// A statement that another statement of the policy covers (same effect, principal,
/// resources and condition, a superset of the actions) is left out, so granting twice, or
/// granting a read and a write whose key uses overlap, yields each permission once.
#[derive(Debug, Clone, Default)]
pub struct Grants {
    granted: Vec<(Statement, Option<Statement>)>,
}

impl Grants {
    /// No grants yet.
    pub fn new() -> Grants {
        Grants::default()
    }

    /// Adds a grant: the access to a resource and, when the resource is encrypted with a
    /// customer-managed key, the statement for that key (see [`key_via`]). Constructs call
    /// this from their `grant_*` methods.
    pub fn add(&mut self, access: Statement, key: Option<Statement>) -> &mut Grants {
        self.granted.push((access, key));
        self
    }

    /// Adds a grant that involves no key (logs, traces, the stack's description).
    pub fn allow(&mut self, access: Statement) -> &mut Grants {
        self.add(access, None)
    }

    /// The statements of the union, laid out as `layout` says.
    pub fn statements(&self, layout: Layout) -> Vec<Statement> {
        let accesses = union(
            self.granted
                .iter()
                .map(|(access, _)| Some(access))
                .collect(),
        );
        let keys = union(self.granted.iter().map(|(_, key)| key.as_ref()).collect());
        match layout {
            Layout::Paired => accesses
                .into_iter()
                .zip(keys)
                .flat_map(|(access, key)| access.into_iter().chain(key))
                .cloned()
                .collect(),
            Layout::KeysLast => {
                let mut keys: Vec<&Statement> = keys.into_iter().flatten().collect();
                keys.sort_by(|a, b| a.sid.cmp(&b.sid));
                accesses
                    .into_iter()
                    .flatten()
                    .chain(keys)
                    .cloned()
                    .collect()
            }
        }
    }

    /// The policy document of the union.
    pub fn document(&self, layout: Layout) -> Value {
        document(&self.statements(layout))
    }
}

/// The statements in their places, each one left out (`None`) that another covers: a
/// statement covering more, or an earlier one covering exactly as much.
fn union(statements: Vec<Option<&Statement>>) -> Vec<Option<&Statement>> {
    let covered = |i: usize, statement: &Statement| {
        statements.iter().enumerate().any(|(j, other)| {
            other.is_some_and(|other| {
                j != i && other.covers(statement) && (j < i || !statement.covers(other))
            })
        })
    };
    statements
        .iter()
        .enumerate()
        .map(|(i, statement)| statement.filter(|s| !covered(i, s)))
        .collect()
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
    use cfn::Template;

    fn key() -> Handle<Key> {
        Template::new("test").add("Key", Key::default())
    }

    fn on(sid: &str, actions: &[&'static str], resource: &str) -> Statement {
        Statement::allow(sid, actions, vec![Expr::Ref(resource.into()).to_json()])
    }

    fn sids(statements: &[Statement]) -> Vec<&str> {
        statements.iter().map(Statement::sid).collect()
    }

    #[test]
    fn a_single_action_and_resource_are_written_as_scalars() {
        let statement = Statement::allow(
            "WriteEventTable",
            TABLE_WRITE_ACTIONS,
            vec![Expr::GetAtt("Table".into(), "Arn".into()).to_json()],
        );
        assert_eq!(
            statement.to_json(),
            json!({"Sid": "WriteEventTable", "Effect": "Allow", "Action": "dynamodb:BatchWriteItem",
                   "Resource": {"Fn::GetAtt": ["Table", "Arn"]}})
        );
    }

    #[test]
    fn key_statements_are_limited_to_one_service() {
        let statement = key_via("K", &key(), &["kms:Decrypt"], "kinesis");
        let json = statement.to_json();
        assert_eq!(json["Resource"], json!({"Fn::GetAtt": ["Key", "Arn"]}));
        assert_eq!(
            json["Condition"]["StringEquals"]["kms:ViaService"],
            json!({"Fn::Sub": "kinesis.${AWS::Region}.amazonaws.com"})
        );
    }

    #[test]
    fn insecure_transport_is_denied_to_everyone_in_one_shape() {
        let statement = deny_insecure_transport(&["sqs:*"], vec![Expr::Ref("Q".into())]).to_json();
        assert_eq!(
            statement,
            json!({"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": {"AWS": "*"},
                   "Action": "sqs:*", "Resource": {"Ref": "Q"},
                   "Condition": {"Bool": {"aws:SecureTransport": "false"}}})
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
    fn paired_grants_put_each_key_statement_after_its_access() {
        let key = key();
        let mut grants = Grants::new();
        grants
            .add(
                on("ReadS", &["kinesis:GetRecords"], "S"),
                Some(key_via("DecryptS", &key, &["kms:Decrypt"], "kinesis")),
            )
            .allow(on("WriteL", &["logs:PutLogEvents"], "L"))
            .add(
                on("WriteT", &["dynamodb:BatchWriteItem"], "T"),
                Some(key_via("EncryptT", &key, KEY_TABLE_WRITE, "dynamodb")),
            );
        assert_eq!(
            sids(&grants.statements(Layout::Paired)),
            ["ReadS", "DecryptS", "WriteL", "WriteT", "EncryptT"]
        );
        assert_eq!(
            sids(&grants.statements(Layout::KeysLast)),
            ["ReadS", "WriteL", "WriteT", "DecryptS", "EncryptT"]
        );
    }

    #[test]
    fn the_union_keeps_each_permission_once() {
        let key = key();
        let mut grants = Grants::new();
        grants
            .add(
                on("ReadQ", &["sqs:ReceiveMessage"], "Q"),
                Some(key_via("DecryptQ", &key, KEY_QUEUE_RECEIVE, "sqs")),
            )
            .add(
                on("SendQ", &["sqs:SendMessage"], "Q"),
                Some(key_via("EncryptQ", &key, KEY_QUEUE_SEND, "sqs")),
            )
            .add(
                on("SendQAgain", &["sqs:SendMessage"], "Q"),
                Some(key_via("EncryptQAgain", &key, KEY_QUEUE_SEND, "sqs")),
            )
            .add(
                on("ReadS", &["kinesis:GetRecords"], "S"),
                Some(key_via("DecryptS", &key, KEY_STREAM_READ, "kinesis")),
            );
        // The receive's key use is part of the send's; the second send adds nothing; the
        // stream's Decrypt is through another service, so it stays.
        assert_eq!(
            sids(&grants.statements(Layout::KeysLast)),
            ["ReadQ", "SendQ", "ReadS", "DecryptS", "EncryptQ"]
        );
        assert_eq!(
            sids(&grants.statements(Layout::Paired)),
            ["ReadQ", "SendQ", "EncryptQ", "ReadS", "DecryptS"]
        );
    }

    #[test]
    fn a_statement_covers_only_the_same_resources_and_condition() {
        let key = key();
        let write = key_via("W", &key, KEY_TABLE_WRITE, "dynamodb");
        let read = key_via("R", &key, KEY_TABLE_READ, "dynamodb");
        assert!(write.covers(&read));
        assert!(!read.covers(&write));
        assert!(!write.covers(&key_via("R", &key, KEY_TABLE_READ, "sqs")));
        assert!(!on("A", &["s3:GetObject"], "X").covers(&on("A", &["s3:GetObject"], "Y")));
    }

    #[test]
    fn a_wildcard_covers_the_resources_it_matches_and_nothing_else() {
        let sub = |text: &str| json!({ "Fn::Sub": text });
        let all = sub("${B.Arn}/*");
        assert!(resource_covers(&all, &sub("${B.Arn}/dead-letters/*")));
        assert!(resource_covers(&all, &sub("${B.Arn}/x")));
        assert!(!resource_covers(&all, &sub("${C.Arn}/dead-letters/*")));
        assert!(!resource_covers(&sub("${B.Arn}/events/*"), &all));
        assert!(
            !resource_covers(&all, &json!("${B.Arn}/x")),
            "a string is not a Sub"
        );
        assert!(resource_covers(
            &json!("arn:aws:s3:::b/*"),
            &json!("arn:aws:s3:::b/k")
        ));
        assert!(!resource_covers(
            &json!("arn:aws:s3:::b*/x"),
            &json!("arn:aws:s3:::b1/x")
        ));
        let statement =
            |sid: &str, resource: Value| Statement::allow(sid, &["s3:PutObject"], vec![resource]);
        let mut grants = Grants::new();
        grants
            .allow(statement("Everything", all.clone()))
            .allow(statement("Prefix", sub("${B.Arn}/dead-letters/*")))
            .allow(statement("Other", sub("${C.Arn}/dead-letters/*")));
        assert_eq!(
            sids(&grants.statements(Layout::Paired)),
            ["Everything", "Other"]
        );
    }
}
