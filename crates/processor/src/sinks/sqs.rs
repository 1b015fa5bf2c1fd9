//! The dead-letter sink on the AWS SDK: one `SendMessageBatch` per call.

use aws_sdk_sqs::types::{MessageAttributeValue, SendMessageBatchRequestEntry};
use aws_sdk_sqs::Client;

use super::{QueueSender, SinkError};
use crate::dead_letter::DeadLetter;

/// Sends to one queue.
#[derive(Debug, Clone)]
pub struct SqsQueue {
    client: Client,
    queue_url: String,
}

impl SqsQueue {
    /// A sink for `queue_url` using a client built once at init.
    pub fn new(client: Client, queue_url: String) -> SqsQueue {
        SqsQueue { client, queue_url }
    }
}

impl QueueSender for SqsQueue {
    async fn send_batch(&self, letters: &[&DeadLetter]) -> Result<Vec<usize>, SinkError> {
        let entries = entries(letters)?;
        let output = self
            .client
            .send_message_batch()
            .queue_url(&self.queue_url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(super::classify_sdk_error_throttling)?;
        // Entry IDs are our indices, so a failed entry names the letter to retry.
        Ok(output
            .failed
            .iter()
            .filter_map(|failure| failure.id.parse::<usize>().ok())
            .collect())
    }
}

/// The `SendMessageBatch` request's entries for `letters`, as [`SqsQueue`] sends them
/// (entry IDs are the letters' indices): what a benchmark builds to count the request's
/// cost without a network.
pub fn entries(letters: &[&DeadLetter]) -> Result<Vec<SendMessageBatchRequestEntry>, SinkError> {
    letters
        .iter()
        .enumerate()
        .map(|(i, letter)| entry(i, letter))
        .collect()
}

fn entry(index: usize, letter: &DeadLetter) -> Result<SendMessageBatchRequestEntry, SinkError> {
    let error_type = MessageAttributeValue::builder()
        .data_type("String")
        .string_value(letter.error_type)
        .build()
        .map_err(|e| SinkError::Fatal(e.to_string()))?;
    SendMessageBatchRequestEntry::builder()
        .id(index.to_string())
        .message_body(&letter.body)
        .message_attributes("ErrorType", error_type)
        .build()
        .map_err(|e| SinkError::Fatal(e.to_string()))
}
