//! The dead-letter queue: receiving messages (hidden from other readers while redrive works
//! on them), deleting the handled ones and making the rest visible again.

use std::future::Future;

use aws_edge::error::CallError;

/// A received message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// SQS's message ID.
    pub id: String,
    /// The handle that deletes it or changes its visibility.
    pub receipt: String,
    /// The JSON body.
    pub body: String,
}

/// The queue redrive reads; SQS, or a fake in tests.
pub trait Queue {
    /// Up to 10 messages, hidden from other receivers while redrive works; none when the
    /// queue has no visible message.
    fn receive(&self) -> impl Future<Output = Result<Vec<Message>, String>>;
    /// Deletes a handled message.
    fn delete(&self, message: &Message) -> impl Future<Output = Result<(), String>>;
    /// Makes a message visible again at once (left for a later run or another reader).
    fn release(&self, message: &Message) -> impl Future<Output = Result<(), String>>;
}

/// How long a received message stays hidden while redrive works on it. Messages left alone
/// are released explicitly at the end; this only matters if redrive dies midway.
const HIDDEN_SECONDS: i32 = 300;

/// The stack's dead-letter queue.
pub struct SqsQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl SqsQueue {
    /// The queue at `url`.
    pub fn new(client: aws_sdk_sqs::Client, url: String) -> SqsQueue {
        SqsQueue { client, url }
    }
}

impl Queue for SqsQueue {
    async fn receive(&self) -> Result<Vec<Message>, String> {
        let received = self
            .client
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(10)
            .visibility_timeout(HIDDEN_SECONDS)
            // A short long-poll asks every SQS server, so an empty answer means empty.
            .wait_time_seconds(1)
            .send()
            .await
            .map_err(|e| {
                CallError::new(format!("SQS ReceiveMessage({})", self.url), &e).to_string()
            })?;
        Ok(received
            .messages()
            .iter()
            .map(|m| Message {
                id: m.message_id().unwrap_or_default().to_owned(),
                receipt: m.receipt_handle().unwrap_or_default().to_owned(),
                body: m.body().unwrap_or_default().to_owned(),
            })
            .collect())
    }

    async fn delete(&self, message: &Message) -> Result<(), String> {
        self.client
            .delete_message()
            .queue_url(&self.url)
            .receipt_handle(&message.receipt)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                CallError::new(format!("SQS DeleteMessage({})", message.id), &e).to_string()
            })
    }

    async fn release(&self, message: &Message) -> Result<(), String> {
        self.client
            .change_message_visibility()
            .queue_url(&self.url)
            .receipt_handle(&message.receipt)
            .visibility_timeout(0)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                CallError::new(format!("SQS ChangeMessageVisibility({})", message.id), &e)
                    .to_string()
            })
    }
}
