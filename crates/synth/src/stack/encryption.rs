//! Customer-managed KMS keys: one for the pipeline's data (stream, table, queue, buckets,
//! logs, the function's environment) and, when alerts exist, one for the alert topic.
//!
//! The topic needs its own key because CloudWatch alarms cannot publish to a topic
//! encrypted with the AWS-managed `alias/aws/sns` key, and the key that admits CloudWatch
//! should not also guard the pipeline's data.

use cfn::resources::kms::{Alias, Key};
use cfn::{Expr, Handle, ResourceOptions, Template};
use serde_json::{json, Value};

use super::names::Names;
use super::{filter_key, producers, retention, tags};
use crate::config::Config;

/// The account root may administer the key; IAM policies then decide who uses it.
fn account_admin() -> Value {
    json!({
        "Sid": "AccountAdministers",
        "Effect": "Allow",
        "Principal": { "AWS": Expr::sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root").to_json() },
        "Action": "kms:*",
        "Resource": "*",
    })
}

/// The data key and its alias, for the resources it encrypts and the stack's outputs.
pub struct DataKey {
    /// The key.
    pub key: Handle<Key>,
    /// Its alias (`Ref` is the alias name, `alias/...`).
    pub alias: Handle<Alias>,
}

/// Adds the data key and its alias. The key's policy also admits producers of other
/// accounts when `producer_principals` names any (see `producers`), and Lambda to decrypt
/// the mapping's filters when they are encrypted with it (see `filter_key`).
pub fn data_key(template: &mut Template, config: &Config, names: &Names) -> DataKey {
    let logs_service = Expr::sub("logs.${AWS::Region}.amazonaws.com").to_json();
    let log_group_arn = Expr::sub(format!(
        "arn:${{AWS::Partition}}:logs:${{AWS::Region}}:${{AWS::AccountId}}:log-group:{}",
        names.log_group
    ));
    let mut statements = vec![
        account_admin(),
        json!({
            "Sid": "FunctionLogGroupEncrypts",
            "Effect": "Allow",
            "Principal": { "Service": logs_service },
            "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
            "Resource": "*",
            "Condition": { "ArnEquals": { "kms:EncryptionContext:aws:logs:arn": log_group_arn.to_json() } },
        }),
    ];
    statements.extend(producers::key_statement(config).map(|s| s.to_json()));
    statements.extend(filter_key::key_statement(config, names).map(|s| s.to_json()));
    let policy = json!({ "Version": "2012-10-17", "Statement": statements });
    let key = Key {
        description: Some(
            format!(
                "Encrypts the {} pipeline's stream, table, queue and logs",
                names.prefix
            )
            .into(),
        ),
        enable_key_rotation: Some(true.into()),
        pending_window_in_days: Some(pending_window(config).into()),
        key_policy: Some(policy),
        tags: tags::property(config),
        ..Key::default()
    };
    let handle = template.add_with("DataKey", key, retention::data(config));
    let alias = template.add(
        "DataKeyAlias",
        Alias::new(names.data_key_alias.as_str(), handle.to_ref()),
    );
    DataKey { key: handle, alias }
}

/// Adds the alert topic's key (under the alerting condition) and its alias.
pub fn alerts_key(
    template: &mut Template,
    config: &Config,
    names: &Names,
    condition: &str,
) -> Handle<Key> {
    let policy = json!({
        "Version": "2012-10-17",
        "Statement": [
            account_admin(),
            {
                "Sid": "CloudWatchAlarmsPublish",
                "Effect": "Allow",
                "Principal": { "Service": "cloudwatch.amazonaws.com" },
                "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                "Resource": "*",
                "Condition": { "StringEquals": { "aws:SourceAccount": Expr::Ref("AWS::AccountId".into()).to_json() } },
            },
        ],
    });
    let key = Key {
        description: Some(format!("Encrypts the {} pipeline's alert topic", names.prefix).into()),
        enable_key_rotation: Some(true.into()),
        pending_window_in_days: Some(pending_window(config).into()),
        key_policy: Some(policy),
        tags: tags::property(config),
        ..Key::default()
    };
    let options = ResourceOptions {
        condition: Some(condition.to_owned()),
        ..retention::with_the_stack()
    };
    let handle = template.add_with("AlertsKey", key, options);
    let alias = Alias::new(names.alerts_key_alias.as_str(), handle.to_ref());
    template.add_with(
        "AlertsKeyAlias",
        alias,
        ResourceOptions {
            condition: Some(condition.to_owned()),
            ..Default::default()
        },
    );
    handle
}

/// Days a deleted key waits before it is destroyed: the most in production, where a
/// mistaken deletion must stay recoverable; a week elsewhere, as the recipe had it.
fn pending_window(config: &Config) -> i64 {
    if config.retain_data_on_delete {
        30
    } else {
        7
    }
}
