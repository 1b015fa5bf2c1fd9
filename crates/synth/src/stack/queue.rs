//! The dead-letter queue: records the processor rejects and batches the event source
//! mapping gives up on. It refuses any request not made over TLS.

use cfn::resources::kms::Key;
use cfn::resources::sqs::{Queue, QueuePolicy};
use cfn::{Handle, Template};
use serde_json::json;

use super::names::Names;
use super::{retention, tags};
use crate::config::Config;

/// Adds the queue and its TLS-only policy.
pub fn add(
    template: &mut Template,
    config: &Config,
    names: &Names,
    key: &Handle<Key>,
) -> Handle<Queue> {
    let queue = Queue {
        queue_name: Some(names.queue.as_str().into()),
        message_retention_period: Some(i64::from(config.sqs_message_retention_seconds).into()),
        visibility_timeout: Some(i64::from(config.sqs_visibility_timeout_seconds).into()),
        kms_master_key_id: Some(key.attr_arn().into()),
        // One data key per five minutes keeps KMS calls (and their cost) low under bursts.
        kms_data_key_reuse_period_seconds: Some(300.into()),
        tags: tags::property(config),
        ..Queue::default()
    };
    let handle = template.add_with("DeadLetterQueue", queue, retention::options(config));
    let policy = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": { "AWS": "*" },
            "Action": "sqs:*",
            "Resource": handle.attr_arn().to_json(),
            "Condition": { "Bool": { "aws:SecureTransport": "false" } },
        }],
    });
    template.add(
        "DeadLetterQueuePolicy",
        QueuePolicy::new(policy, vec![handle.to_ref()]),
    );
    handle
}
