//! The dead-letter queue: records the processor rejects and batches the event source
//! mapping gives up on. It refuses any request not made over TLS. Its grants: send dead
//! letters, take them off.

use cfn::resources::kms::Key;
use cfn::resources::sqs::{Queue, QueuePolicy};
use cfn::{Handle, Template};

use super::iam::{self, Grants, Statement};
use super::names::Names;
use super::{retention, tags};
use crate::config::Config;

/// The dead-letter queue and the key its messages are encrypted with.
pub struct DeadLetterQueue {
    /// The queue (`Ref` is its URL).
    pub resource: Handle<Queue>,
    /// The key SQS encrypts messages with: its grants carry this key's statement.
    pub key: Handle<Key>,
}

impl DeadLetterQueue {
    /// Sends dead letters (`SendMessage` also authorizes `SendMessageBatch`), with SQS
    /// generating data keys and, when it reuses a cached one, decrypting it.
    pub fn grant_send(&self, grants: &mut Grants) {
        grants.add(
            self.allow("SendDeadLetters", iam::QUEUE_SEND_ACTIONS),
            Some(self.key_use("EncryptDeadLetters", iam::KEY_QUEUE_SEND)),
        );
    }

    /// Receives, re-hides and deletes dead letters, decrypted through SQS.
    pub fn grant_consume(&self, grants: &mut Grants) {
        grants.add(
            self.allow("ReadDeadLetters", iam::QUEUE_CONSUME_ACTIONS),
            Some(self.key_use("DecryptDeadLetters", iam::KEY_QUEUE_RECEIVE)),
        );
    }

    fn allow(&self, sid: &str, actions: &[&'static str]) -> Statement {
        Statement::allow(sid, actions, vec![self.resource.attr_arn().to_json()])
    }

    fn key_use(&self, sid: &str, actions: &[&'static str]) -> Statement {
        iam::key_via(sid, &self.key, actions, "sqs")
    }
}

/// Adds the queue and its TLS-only policy.
pub fn add(
    template: &mut Template,
    config: &Config,
    names: &Names,
    key: &Handle<Key>,
) -> DeadLetterQueue {
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
    let handle = template.add_with("DeadLetterQueue", queue, retention::with_the_stack());
    let policy = iam::document(&[iam::deny_insecure_transport(
        &["sqs:*"],
        vec![handle.attr_arn()],
    )]);
    template.add(
        "DeadLetterQueuePolicy",
        QueuePolicy::new(policy, vec![handle.to_ref()]),
    );
    DeadLetterQueue {
        resource: handle,
        key: key.clone(),
    }
}
