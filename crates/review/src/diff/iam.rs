//! IAM statements of a template and the statements a change adds or removes, as `cdk diff`
//! calls them out: a broadened permission deserves a reviewer's eyes even when it hides in
//! a one-line change of a long policy.
//!
//! Statements come from identity policies (`AWS::IAM::Role` trust and inline policies,
//! `AWS::IAM::Policy`, `AWS::IAM::ManagedPolicy`) and resource policies (SQS queue, SNS
//! topic, S3 bucket and Kinesis stream policies, KMS key policies). Two statements are the same when effect,
//! principals, actions, resources and condition are; the `Sid` is a label and is ignored.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::intrinsic::{is_intrinsic, show, show_reference};

/// One policy statement, normalised for comparison and display.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Statement {
    /// The logical ID of the resource holding the policy.
    pub resource: String,
    /// Which document of it: `AssumeRolePolicyDocument`, `Policies[processor]`, `KeyPolicy`.
    pub document: String,
    /// `Allow` or `Deny`.
    pub effect: String,
    /// Actions, sorted; `NotAction` ones are prefixed `NOT `.
    pub actions: Vec<String>,
    /// Resources, sorted; `NotResource` ones are prefixed `NOT `.
    pub resources: Vec<String>,
    /// Principals (`AWS:...`, `Service:...`, `*`), sorted; empty for identity policies.
    pub principals: Vec<String>,
    /// The condition block as one line, if any.
    pub condition: Option<String>,
}

/// Statements only in the old template and only in the new one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatementChanges {
    /// In the new template only: permissions granted (or denials added).
    pub added: Vec<Statement>,
    /// In the old template only.
    pub removed: Vec<Statement>,
}

impl StatementChanges {
    /// Whether no statement changed.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty()
    }
}

/// The statements added and removed between two templates' `Resources`.
pub fn compare(old: &Map<String, Value>, new: &Map<String, Value>) -> StatementChanges {
    let before = statements(old);
    let after = statements(new);
    StatementChanges {
        added: difference(&after, &before),
        removed: difference(&before, &after),
    }
}

/// Items of `a` not matched one-for-one in `b`, in `a`'s order. Counted, not searched
/// for: templates with thousands of statements must not take quadratic time.
fn difference(a: &[Statement], b: &[Statement]) -> Vec<Statement> {
    let mut unmatched: BTreeMap<&Statement, usize> = BTreeMap::new();
    for statement in b {
        *unmatched.entry(statement).or_default() += 1;
    }
    let mut out = Vec::new();
    for statement in a {
        match unmatched.get_mut(statement) {
            Some(count) if *count > 0 => *count -= 1,
            _ => out.push(statement.clone()),
        }
    }
    out
}

/// Every statement of every policy document in a template's `Resources`.
pub fn statements(resources: &Map<String, Value>) -> Vec<Statement> {
    let mut out = Vec::new();
    for (id, resource) in resources {
        let type_name = resource.get("Type").and_then(Value::as_str).unwrap_or("");
        let Some(properties) = resource.get("Properties") else {
            continue;
        };
        for (document, policy) in documents(type_name, properties) {
            for statement in statement_list(policy) {
                out.push(normalise(id, &document, statement));
            }
        }
    }
    out
}

/// The policy documents of a resource, each with the label the report shows.
fn documents<'v>(type_name: &str, properties: &'v Value) -> Vec<(String, &'v Value)> {
    let field = |name: &str| properties.get(name).map(|doc| (name.to_owned(), doc));
    match type_name {
        "AWS::IAM::Role" => {
            let mut docs: Vec<(String, &Value)> =
                field("AssumeRolePolicyDocument").into_iter().collect();
            if let Some(Value::Array(policies)) = properties.get("Policies") {
                for policy in policies {
                    let name = policy
                        .get("PolicyName")
                        .map(show_reference)
                        .unwrap_or_default();
                    if let Some(doc) = policy.get("PolicyDocument") {
                        docs.push((format!("Policies[{name}]"), doc));
                    }
                }
            }
            docs
        }
        "AWS::IAM::Policy"
        | "AWS::IAM::ManagedPolicy"
        | "AWS::SQS::QueuePolicy"
        | "AWS::SNS::TopicPolicy"
        | "AWS::S3::BucketPolicy" => field("PolicyDocument").into_iter().collect(),
        "AWS::KMS::Key" => field("KeyPolicy").into_iter().collect(),
        "AWS::Kinesis::ResourcePolicy" => field("ResourcePolicy").into_iter().collect(),
        _ => Vec::new(),
    }
}

/// A document's statements: a list, a single statement, or (an intrinsic such as `Fn::If`
/// around the whole document) one opaque entry shown as is.
fn statement_list(policy: &Value) -> Vec<&Value> {
    if is_intrinsic(policy) {
        return vec![policy];
    }
    match policy.get("Statement") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(single) => vec![single],
        None => Vec::new(),
    }
}

fn normalise(resource: &str, document: &str, statement: &Value) -> Statement {
    let list = |key: &str, not_key: &str| {
        let mut items = strings(statement.get(key));
        items.extend(
            strings(statement.get(not_key))
                .into_iter()
                .map(|item| format!("NOT {item}")),
        );
        items.sort();
        items
    };
    let effect = match statement.get("Effect") {
        Some(effect) => show_reference(effect),
        None if is_intrinsic(statement) => show(statement),
        None => String::new(),
    };
    Statement {
        resource: resource.to_owned(),
        document: document.to_owned(),
        effect,
        actions: list("Action", "NotAction"),
        resources: list("Resource", "NotResource"),
        principals: {
            let mut items = principals(statement.get("Principal"));
            items.extend(
                principals(statement.get("NotPrincipal"))
                    .into_iter()
                    .map(|p| format!("NOT {p}")),
            );
            items.sort();
            items
        },
        condition: statement.get("Condition").map(show),
    }
}

/// A string or list of strings (intrinsics shown compactly).
fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        None => Vec::new(),
        Some(Value::Array(items)) => items.iter().map(show_reference).collect(),
        Some(other) => vec![show_reference(other)],
    }
}

/// `"*"`, or `{"AWS": [...], "Service": ...}` as `AWS:x`, `Service:y`.
fn principals(value: Option<&Value>) -> Vec<String> {
    match value {
        None => Vec::new(),
        Some(Value::Object(map)) if !is_intrinsic(value.unwrap_or(&Value::Null)) => map
            .iter()
            .flat_map(|(kind, ids)| {
                strings(Some(ids))
                    .into_iter()
                    .map(move |id| format!("{kind}:{id}"))
            })
            .collect(),
        Some(other) => vec![show_reference(other)],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn resources(statement: Value) -> Map<String, Value> {
        json!({
            "Role": {"Type": "AWS::IAM::Role", "Properties": {
                "AssumeRolePolicyDocument": {"Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
                "Policies": [{"PolicyName": "p", "PolicyDocument": {"Statement": [statement]}}],
            }},
            "Queue": {"Type": "AWS::SQS::Queue", "Properties": {}},
        })
        .as_object()
        .unwrap()
        .clone()
    }

    #[test]
    fn statements_are_read_from_trust_and_inline_policies() {
        let found = statements(&resources(json!({
            "Sid": "A", "Effect": "Allow", "Action": ["sqs:SendMessage"],
            "Resource": {"Fn::GetAtt": ["Queue", "Arn"]},
        })));
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].principals, ["Service:lambda.amazonaws.com"]);
        assert_eq!(found[1].document, "Policies[p]");
        assert_eq!(found[1].resources, ["${Queue.Arn}"]);
    }

    #[test]
    fn a_broadened_action_is_one_removed_and_one_added_statement() {
        let old =
            resources(json!({"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}));
        let new = resources(json!({"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}));
        let changes = compare(&old, &new);
        assert_eq!(changes.added.len(), 1);
        assert_eq!(changes.added[0].actions, ["sqs:*"]);
        assert_eq!(changes.removed[0].actions, ["sqs:SendMessage"]);
    }

    #[test]
    fn sid_and_order_do_not_count_as_changes() {
        let old = resources(
            json!({"Sid": "A", "Effect": "Allow", "Action": ["a:B", "a:C"], "Resource": "*"}),
        );
        let new = resources(
            json!({"Sid": "Z", "Effect": "Allow", "Action": ["a:C", "a:B"], "Resource": "*"}),
        );
        assert!(compare(&old, &new).is_empty());
    }

    #[test]
    fn repeated_statements_are_matched_one_for_one() {
        let statement =
            |action: &str| json!({"Effect": "Allow", "Action": action, "Resource": "*"});
        let role = |statements: Vec<Value>| {
            json!({"Role": {"Type": "AWS::IAM::Role", "Properties": {
                "Policies": [{"PolicyName": "p", "PolicyDocument": {"Statement": statements}}]}}})
            .as_object()
            .unwrap()
            .clone()
        };
        let old = role(vec![statement("a:B"), statement("a:B"), statement("a:C")]);
        let new = role(vec![statement("a:C"), statement("a:B"), statement("a:D")]);
        let changes = compare(&old, &new);
        let actions = |list: &[Statement]| -> Vec<Vec<String>> {
            list.iter().map(|s| s.actions.clone()).collect()
        };
        assert_eq!(actions(&changes.added), [["a:D"]]);
        assert_eq!(actions(&changes.removed), [["a:B"]]);
    }

    #[test]
    fn resource_policies_and_key_policies_are_read() {
        let resources = json!({
            "QP": {"Type": "AWS::SQS::QueuePolicy", "Properties": {"PolicyDocument": {"Statement": {"Effect": "Deny", "Principal": "*", "Action": "sqs:*", "Resource": "*"}}}},
            "Key": {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": {"Statement": [{"Effect": "Allow", "Principal": {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}, "Action": "kms:*", "Resource": "*"}]}}},
        });
        let found = statements(resources.as_object().unwrap());
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].effect, "Deny");
        assert_eq!(found[0].principals, ["*"]);
        assert_eq!(found[1].document, "KeyPolicy");
        assert_eq!(
            found[1].principals,
            ["AWS:arn:${AWS::Partition}:iam::${AWS::AccountId}:root"]
        );
    }

    #[test]
    fn a_producer_admitted_from_another_account_shows_in_the_stream_policy() {
        let resources = json!({
            "SP": {"Type": "AWS::Kinesis::ResourcePolicy", "Properties": {
                "ResourceArn": {"Fn::GetAtt": ["Stream", "Arn"]},
                "ResourcePolicy": {"Statement": [{"Effect": "Allow",
                    "Principal": {"AWS": ["arn:aws:iam::210987654321:role/ingest"]},
                    "Action": ["kinesis:PutRecords"], "Resource": {"Fn::GetAtt": ["Stream", "Arn"]}}]},
            }},
        });
        let found = statements(resources.as_object().unwrap());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].document, "ResourcePolicy");
        assert_eq!(
            found[0].principals,
            ["AWS:arn:aws:iam::210987654321:role/ingest"]
        );
    }
}
