//! Producers in other AWS accounts (`producer_principals`): the stream's resource policy
//! that lets them put records, and the data key's policy statement that lets Kinesis
//! encrypt those records for them.
//!
//! Both are needed because the stream is encrypted with the stack's own key: a principal of
//! another account is admitted only when the resource (stream, key) names it *and* its own
//! account's IAM policy grants it the same actions. This module writes our half; the other
//! half is described in docs/access.md.

use cfn::resources::kinesis::{ResourcePolicy, Stream};
use cfn::{Expr, Handle, Template};
use serde_json::{json, Value};

use super::iam::{self, Statement};
use crate::config::Config;

/// The principals as IAM names them: an account ID becomes that account's root
/// (`arn:${AWS::Partition}:iam::ID:root`, i.e. "whoever the account's own policies allow"),
/// an ARN stays as given. `None` when no producer is configured.
pub fn principal(config: &Config) -> Option<Value> {
    if config.producer_principals.is_empty() {
        return None;
    }
    let entries: Vec<Value> = config
        .producer_principals
        .iter()
        .map(|entry| {
            if entry.contains(':') {
                json!(entry)
            } else {
                Expr::sub(format!("arn:${{AWS::Partition}}:iam::{entry}:root")).to_json()
            }
        })
        .collect();
    Some(json!({ "AWS": entries }))
}

/// The statement of the data key's policy for the configured producers: a data key for
/// their records, and only when Kinesis asks for it on their behalf.
pub fn key_statement(config: &Config) -> Option<Statement> {
    principal(config).map(|principal| {
        iam::key_policy_via(
            "ProducersInOtherAccountsEncryptRecords",
            principal,
            iam::KEY_STREAM_WRITE,
            "kinesis",
        )
    })
}

/// The stream's resource policy statement: the producer actions of `ProducerPolicy`, on
/// this stream only.
pub fn stream_statement(config: &Config, stream: &Handle<Stream>) -> Option<Statement> {
    principal(config).map(|principal| {
        Statement::allow(
            "ProducersInOtherAccountsPutRecords",
            iam::STREAM_PUT_ACTIONS,
            vec![stream.attr_arn().to_json()],
        )
        .for_principal(principal)
    })
}

/// Adds the stream's resource policy when producers in other accounts are configured.
pub fn add(template: &mut Template, config: &Config, stream: &Handle<Stream>) {
    let Some(statement) = stream_statement(config, stream) else {
        return;
    };
    let policy = ResourcePolicy::new(stream.attr_arn(), iam::document(&[statement]));
    template.add("EventStreamResourcePolicy", policy);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_producers(entries: &[&str]) -> Config {
        Config {
            producer_principals: entries.iter().map(|e| e.to_string()).collect(),
            ..Config::default()
        }
    }

    #[test]
    fn no_producers_means_no_policy_and_no_key_statement() {
        let config = Config::default();
        assert!(principal(&config).is_none());
        assert!(key_statement(&config).is_none());
        let doc = crate::stack::build(&config).to_document().unwrap();
        let types: Vec<&Value> = doc["Resources"]
            .as_object()
            .unwrap()
            .values()
            .map(|r| &r["Type"])
            .collect();
        assert!(!types.contains(&&json!("AWS::Kinesis::ResourcePolicy")));
    }

    #[test]
    fn account_ids_become_the_account_root_in_the_stack_partition_and_arns_stay() {
        let config = with_producers(&["123456789012", "arn:aws:iam::210987654321:role/ingest"]);
        assert_eq!(
            principal(&config),
            Some(json!({"AWS": [
                {"Fn::Sub": "arn:${AWS::Partition}:iam::123456789012:root"},
                "arn:aws:iam::210987654321:role/ingest"
            ]}))
        );
    }

    #[test]
    fn the_stream_policy_allows_the_producer_actions_on_this_stream_only() {
        let config = with_producers(&["123456789012"]);
        let doc = crate::stack::build(&config).to_document().unwrap();
        let policy = &doc["Resources"]["EventStreamResourcePolicy"];
        assert_eq!(policy["Type"], "AWS::Kinesis::ResourcePolicy");
        let stream_arn = json!({"Fn::GetAtt": ["EventStream", "Arn"]});
        assert_eq!(policy["Properties"]["ResourceArn"], stream_arn);
        let statements = policy["Properties"]["ResourcePolicy"]["Statement"]
            .as_array()
            .unwrap();
        assert_eq!(statements.len(), 1);
        let statement = &statements[0];
        assert_eq!(statement["Effect"], "Allow");
        assert_eq!(statement["Resource"], stream_arn);
        assert_eq!(
            statement["Action"],
            json!([
                "kinesis:PutRecord",
                "kinesis:PutRecords",
                "kinesis:DescribeStreamSummary",
                "kinesis:DescribeStream",
                "kinesis:ListShards"
            ])
        );
        assert_eq!(statement["Principal"], principal(&config).unwrap());
    }

    #[test]
    fn the_key_lets_the_producers_generate_data_keys_through_kinesis_only() {
        let config = with_producers(&["arn:aws:iam::210987654321:user/ingest"]);
        let doc = crate::stack::build(&config).to_document().unwrap();
        let statements = doc["Resources"]["DataKey"]["Properties"]["KeyPolicy"]["Statement"]
            .as_array()
            .unwrap();
        let producers = statements
            .iter()
            .find(|s| s["Sid"] == "ProducersInOtherAccountsEncryptRecords")
            .expect("producer statement");
        assert_eq!(producers["Action"], "kms:GenerateDataKey");
        assert_eq!(
            producers["Principal"],
            json!({"AWS": ["arn:aws:iam::210987654321:user/ingest"]})
        );
        assert_eq!(
            producers["Condition"]["StringEquals"]["kms:ViaService"],
            json!({"Fn::Sub": "kinesis.${AWS::Region}.amazonaws.com"})
        );
        let without = crate::stack::build(&Config::default())
            .to_document()
            .unwrap();
        let before = without["Resources"]["DataKey"]["Properties"]["KeyPolicy"]["Statement"]
            .as_array()
            .unwrap()
            .len();
        assert_eq!(statements.len(), before + 1);
    }
}
