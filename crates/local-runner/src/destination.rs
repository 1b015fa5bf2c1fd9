//! Where the emulated mapping sends the on-failure record of a batch it gave up on.

use aws_config::SdkConfig;
use aws_edge::error::CallError;
use serde_json::Value;

use crate::mapping::Destination;

/// An SQS queue as the on-failure destination.
pub struct QueueDestination {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl QueueDestination {
    /// The queue at `url`.
    pub fn new(config: &SdkConfig, url: String) -> QueueDestination {
        QueueDestination::with_client(aws_sdk_sqs::Client::new(config), url)
    }

    /// The queue at `url` through `client` (one with a health watch, say).
    pub fn with_client(client: aws_sdk_sqs::Client, url: String) -> QueueDestination {
        QueueDestination { client, url }
    }
}

impl Destination for QueueDestination {
    async fn send(&self, record: &Value) -> Result<(), String> {
        self.client
            .send_message()
            .queue_url(&self.url)
            .message_body(record.to_string())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| CallError::new(format!("SQS SendMessage({})", self.url), &e).to_string())
    }
}

/// No destination configured: skipped records are only counted.
pub struct NoDestination;

impl Destination for NoDestination {
    async fn send(&self, _: &Value) -> Result<(), String> {
        Ok(())
    }
}
