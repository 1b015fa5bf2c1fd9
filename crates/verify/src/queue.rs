//! Reading the dead-letter queue without disturbing it: messages are received with a short
//! visibility timeout, and every one that is not verify's is made visible again at once
//! (ChangeMessageVisibility 0) when the sweep ends. verify's own dead letters are deleted
//! once found, unless the caller keeps them. Only the actions of the stack's
//! `DeadLetterReaderPolicy` are used (the batch calls authorize as their single actions).

use std::collections::HashMap;

use aws_config::SdkConfig;
use aws_sdk_sqs::types::{
    ChangeMessageVisibilityBatchRequestEntry, DeleteMessageBatchRequestEntry,
};

use crate::error::{self, Error};
use crate::letters::{classify, Letter, Wanted};

/// Seconds a message verify reads stays hidden from other readers if verify cannot put it
/// back (it crashed, the network went away): short, so nothing is held for long.
pub const VISIBILITY_SECS: i32 = 30;

/// Messages one sweep reads at most: with more in the queue, verify's may be found only by
/// a later sweep (or not in time; docs/verify.md says so).
pub const MAX_MESSAGES_PER_SWEEP: usize = 1_000;

/// A message of verify's (its own dead letter, or an on-failure record over its records).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The SQS message id: a message read again is the same message.
    pub message_id: String,
    /// What it is.
    pub letter: Letter,
}

/// What one sweep saw and did.
#[derive(Debug, Default)]
pub struct Sweep {
    /// verify's messages.
    pub found: Vec<Found>,
    /// Distinct messages read.
    pub read: usize,
    /// verify's dead letters deleted.
    pub deleted: usize,
}

/// The dead-letter queue.
pub struct Queue {
    client: aws_sdk_sqs::Client,
    url: String,
}

struct Held {
    receipt: String,
    delete: bool,
}

impl Queue {
    /// The queue at `url`.
    pub fn new(config: &SdkConfig, url: &str) -> Queue {
        Queue {
            client: aws_sdk_sqs::Client::new(config),
            url: url.to_owned(),
        }
    }

    /// Reads the queue until it answers empty (after a long poll of `wait_secs`), until
    /// [`MAX_MESSAGES_PER_SWEEP`], or until `enough` says the messages found so far suffice.
    /// Then deletes verify's dead letters (unless `keep`) and puts every other message
    /// back. On-failure records are never deleted: they cover others' records too.
    pub async fn sweep(
        &self,
        wanted: &Wanted,
        keep: bool,
        wait_secs: i32,
        enough: &dyn Fn(&[Found]) -> bool,
    ) -> Result<Sweep, Error> {
        let mut sweep = Sweep::default();
        let mut held: HashMap<String, Held> = HashMap::new();
        let read = self
            .read(wanted, keep, wait_secs, enough, &mut sweep, &mut held)
            .await;
        // What was hidden goes back even when reading failed half-way.
        let (delete, put_back): (Vec<_>, Vec<_>) = held.into_iter().partition(|(_, h)| h.delete);
        let returned = self.put_back(put_back).await;
        read?;
        returned?;
        sweep.deleted = self.delete(delete).await?;
        Ok(sweep)
    }

    async fn read(
        &self,
        wanted: &Wanted,
        keep: bool,
        wait_secs: i32,
        enough: &dyn Fn(&[Found]) -> bool,
        sweep: &mut Sweep,
        held: &mut HashMap<String, Held>,
    ) -> Result<(), Error> {
        while held.len() < MAX_MESSAGES_PER_SWEEP && !enough(&sweep.found) {
            let received = self
                .client
                .receive_message()
                .queue_url(&self.url)
                .max_number_of_messages(10)
                .visibility_timeout(VISIBILITY_SECS)
                .wait_time_seconds(wait_secs)
                .send()
                .await
                .map_err(|e| self.error("ReceiveMessage", "sqs:ReceiveMessage", &e))?;
            if received.messages().is_empty() {
                return Ok(());
            }
            for message in received.messages() {
                let (Some(id), Some(receipt)) = (message.message_id(), message.receipt_handle())
                else {
                    continue;
                };
                let letter = classify(message.body().unwrap_or_default(), wanted);
                let delete = !keep && matches!(letter, Letter::Record { .. });
                let first_time = held
                    .insert(
                        id.to_owned(),
                        Held {
                            receipt: receipt.to_owned(),
                            delete,
                        },
                    )
                    .is_none();
                if first_time {
                    sweep.read += 1;
                    if letter != Letter::Other {
                        sweep.found.push(Found {
                            message_id: id.to_owned(),
                            letter,
                        });
                    }
                }
            }
        }
        Ok(())
    }

    async fn put_back(&self, held: Vec<(String, Held)>) -> Result<(), Error> {
        for chunk in held.chunks(10) {
            let entries = chunk
                .iter()
                .enumerate()
                .filter_map(|(i, (_, h))| {
                    ChangeMessageVisibilityBatchRequestEntry::builder()
                        .id(format!("m{i}"))
                        .receipt_handle(&h.receipt)
                        .visibility_timeout(0)
                        .build()
                        .ok()
                })
                .collect();
            // An entry that fails (its receipt expired) is visible again anyway.
            self.client
                .change_message_visibility_batch()
                .queue_url(&self.url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| {
                    self.error(
                        "ChangeMessageVisibilityBatch",
                        "sqs:ChangeMessageVisibility",
                        &e,
                    )
                })?;
        }
        Ok(())
    }

    async fn delete(&self, held: Vec<(String, Held)>) -> Result<usize, Error> {
        let mut deleted = 0;
        for chunk in held.chunks(10) {
            let entries = chunk
                .iter()
                .enumerate()
                .filter_map(|(i, (_, h))| {
                    DeleteMessageBatchRequestEntry::builder()
                        .id(format!("m{i}"))
                        .receipt_handle(&h.receipt)
                        .build()
                        .ok()
                })
                .collect();
            let answer = self
                .client
                .delete_message_batch()
                .queue_url(&self.url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| self.error("DeleteMessageBatch", "sqs:DeleteMessage", &e))?;
            deleted += answer.successful().len();
        }
        Ok(deleted)
    }

    fn error<E, R>(
        &self,
        operation: &str,
        action: &str,
        err: &aws_sdk_sqs::error::SdkError<E, R>,
    ) -> Error
    where
        E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug + 'static,
    {
        error::call(
            "SQS",
            format!("{operation}({})", self.url),
            err,
            error::policy_hint(action, "DeadLetterReaderPolicy"),
        )
    }
}
