//! The event source mapping's filters encrypted with the data key
//! (`lambda_filter_encryption`; docs/access.md, "Encrypted filters").
//!
//! Lambda encrypts a mapping's FilterCriteria with the key its `KmsKeyArn` names and
//! decrypts them itself to filter, as its regional service principal. AWS's Lambda guide
//! ("Encryption of filter criteria", invocation-eventfiltering.html) requires the key policy
//! to allow that principal `kms:Decrypt`, with `aws:SourceArn` naming the mapping and the
//! encryption context Lambda sends (`aws:lambda:FunctionArn`, `aws:lambda:EventSourceArn`)
//! matched against the function and the source: [`key_statement`].
//!
//! The mapping's ARN holds its UUID, which exists only once the mapping does, and the mapping
//! needs the key first; so `aws:SourceArn` matches any mapping of this account and region,
//! and the encryption context narrows it to this function reading this stream (or this
//! stream's consumer). Both are known before anything is created, from the names.
//!
//! Principals of the account (whoever deploys, the tools reading the mapping back) use the
//! key through Lambda with their own IAM policies, which the key's `AccountAdministers`
//! statement lets IAM grant (`Processor::grant_read_mapping`).

use cfn::Expr;
use serde_json::{json, Value};

use super::iam::{self, Statement};
use super::names::Names;
use crate::config::{Config, ConsumerMode};

/// The data key's policy statement that lets Lambda decrypt the filters of this function's
/// mapping from this stream; `None` when the filters are not encrypted with the data key.
pub fn key_statement(config: &Config, names: &Names) -> Option<Statement> {
    if !config.filters_encrypted() {
        return None;
    }
    let lambda = Expr::sub("lambda.${AWS::Region}.amazonaws.com").to_json();
    let arn =
        |rest: String| -> Value { Expr::sub(format!("arn:${{AWS::Partition}}:{rest}")).to_json() };
    let mappings = arn("lambda:${AWS::Region}:${AWS::AccountId}:event-source-mapping:*".into());
    let function = arn(format!(
        "lambda:${{AWS::Region}}:${{AWS::AccountId}}:function:{}",
        names.function
    ));
    let stream = format!(
        "kinesis:${{AWS::Region}}:${{AWS::AccountId}}:stream/{}",
        names.stream
    );
    let (source_test, source) = match config.kinesis_consumer {
        ConsumerMode::Shared => ("StringEquals", arn(stream)),
        // A consumer's ARN ends in its creation time, unknown until it exists.
        ConsumerMode::EnhancedFanOut => (
            "StringLike",
            arn(format!("{stream}/consumer/{}:*", names.consumer)),
        ),
    };
    let mut condition = json!({
        "ArnLike": { "aws:SourceArn": mappings },
        "StringEquals": { FUNCTION_CONTEXT: function },
    });
    condition[source_test][SOURCE_CONTEXT] = source;
    Some(
        Statement::allow(SID, iam::KEY_MAPPING_FILTERS_READ, vec![json!("*")])
            .for_principal(json!({ "Service": lambda }))
            .when(condition),
    )
}

/// The key policy statement's Sid.
pub const SID: &str = "LambdaDecryptsMappingFilters";

/// The encryption context key Lambda sends with the function's ARN.
const FUNCTION_CONTEXT: &str = "kms:EncryptionContext:aws:lambda:FunctionArn";

/// The encryption context key Lambda sends with the mapping's source (stream or consumer).
const SOURCE_CONTEXT: &str = "kms:EncryptionContext:aws:lambda:EventSourceArn";

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use crate::config::Config;

    fn filtered(sets: &[&str]) -> Config {
        let mut sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        sets.insert(0, r#"lambda_filter_event_types=["purchase"]"#.into());
        Config::load(None, None, &sets).expect("valid")
    }

    fn template(config: &Config) -> Value {
        crate::stack::build(config).to_document().expect("valid")
    }

    fn key_statement(doc: &Value) -> Option<Value> {
        doc["Resources"]["DataKey"]["Properties"]["KeyPolicy"]["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["Sid"] == super::SID)
            .cloned()
    }

    fn sub(text: &str) -> Value {
        json!({ "Fn::Sub": text })
    }

    /// AWS's guide: kms:Decrypt for the regional Lambda service principal, for mappings of
    /// this account whose encryption context names this function and this stream.
    #[test]
    fn lambda_may_decrypt_the_filters_of_this_functions_mapping_only() {
        let doc = template(&filtered(&[]));
        let statement = key_statement(&doc).expect("the key policy admits Lambda");
        assert_eq!(
            statement,
            json!({
                "Sid": "LambdaDecryptsMappingFilters",
                "Effect": "Allow",
                "Principal": { "Service": sub("lambda.${AWS::Region}.amazonaws.com") },
                "Action": "kms:Decrypt",
                "Resource": "*",
                "Condition": {
                    "ArnLike": { "aws:SourceArn": sub(
                        "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:event-source-mapping:*"
                    ) },
                    "StringEquals": {
                        "kms:EncryptionContext:aws:lambda:FunctionArn": sub(
                            "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:retail-events-dev-processor"
                        ),
                        "kms:EncryptionContext:aws:lambda:EventSourceArn": sub(
                            "arn:${AWS::Partition}:kinesis:${AWS::Region}:${AWS::AccountId}:stream/retail-events-dev-events"
                        ),
                    },
                },
            })
        );
        // The names in the conditions are the ones the resources get.
        let resources = &doc["Resources"];
        assert_eq!(
            resources["ProcessorFunction"]["Properties"]["FunctionName"],
            "retail-events-dev-processor"
        );
        assert_eq!(
            resources["EventStream"]["Properties"]["Name"],
            "retail-events-dev-events"
        );
    }

    /// Through an enhanced fan-out consumer the source is the consumer, whose ARN ends in
    /// its creation time.
    #[test]
    fn through_a_consumer_the_context_names_the_consumer() {
        let doc = template(&filtered(&["kinesis_consumer=enhanced-fan-out"]));
        let condition = &key_statement(&doc).unwrap()["Condition"];
        assert_eq!(
            condition["StringLike"]["kms:EncryptionContext:aws:lambda:EventSourceArn"],
            sub("arn:${AWS::Partition}:kinesis:${AWS::Region}:${AWS::AccountId}:stream/retail-events-dev-events/consumer/retail-events-dev-processor:*")
        );
        assert!(condition["StringEquals"]
            .get("kms:EncryptionContext:aws:lambda:EventSourceArn")
            .is_none());
        assert_eq!(
            doc["Resources"]["ProcessorConsumer"]["Properties"]["ConsumerName"],
            "retail-events-dev-processor"
        );
    }

    /// Unencrypted filters, or none, leave the key policy as it was.
    #[test]
    fn without_encrypted_filters_the_key_policy_admits_no_lambda() {
        for config in [
            Config::default(),
            filtered(&["lambda_filter_encryption=false"]),
        ] {
            assert_eq!(key_statement(&template(&config)), None);
        }
    }
}
