//! Running records through the processor again: by default the deployed function, invoked
//! synchronously with Lambda's Kinesis event (the code and role that run in production);
//! with `--local` the processor's handler in this process with the caller's credentials.
//!
//! Either way each record travels with its original identity (eventID, sequence number,
//! arrival time), so its item gets the key the first attempt would have given it, and the
//! invocation says how often the records were redriven, so a record that fails again is
//! dead-lettered with that count.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

use aws_edge::error::CallError;
use aws_edge::retry::Deadline;
use aws_lambda_events::event::kinesis::KinesisEvent;
use aws_lambda_events::event::streams::KinesisEventResponse;
use aws_sdk_lambda::operation::RequestId;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;
use base64::Engine;
use futures_util::FutureExt;
use kinesis_codec::event::event_json_with_ids;
use kinesis_codec::record::{EventSource, StreamRecord};
use kinesis_codec::time::now_ms;
use processor::handler::{local_request_id, Handler, Invocation, IN_PROCESS_SAFETY_MARGIN};
use processor::sinks::{QueueSender, TableWriter};
use serde_json::{json, Value};

/// A record to process again, under the id it had.
#[derive(Debug, Clone, PartialEq)]
pub struct Redriven {
    /// The record as the stream holds it (for a user record of an aggregate: its own bytes).
    pub record: StreamRecord,
    /// Its eventID the first time (`shardId:sequence`, or `shardId:sequence:n`).
    pub event_id: String,
}

/// What one invocation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// The first record not durably handled; it and those after it are to be tried again.
    pub first_unhandled: Option<usize>,
    /// The invocation's request ID: the `requestId` of any dead letter it wrote.
    pub request_id: String,
    /// Why the invocation failed as a whole (then `first_unhandled` is the first record).
    pub error: Option<String>,
}

impl Attempt {
    /// An invocation that failed as a whole.
    fn failed(request_id: String, error: String) -> Attempt {
        Attempt {
            first_unhandled: Some(0),
            request_id,
            error: Some(error),
        }
    }
}

/// Something that processes records as the pipeline's function does.
pub trait Reprocessor {
    /// Processes `records` as one invocation whose records were redriven `redrive_count`
    /// times. `Err` when the invocation could not be made at all.
    fn process(
        &self,
        records: &[Redriven],
        redrive_count: u32,
    ) -> impl Future<Output = Result<Attempt, String>>;
}

/// Lambda's Kinesis event for `records`, as JSON.
pub fn event_json(records: &[Redriven], source: &EventSource) -> Value {
    event_json_with_ids(
        records.iter().map(|r| (&r.record, r.event_id.as_str())),
        source,
    )
}

/// The first record the function's `batchItemFailures` names; Lambda treats an identifier
/// that names no record of the batch as a failure of the whole batch, and so does this.
pub fn first_unhandled(records: &[Redriven], response: &KinesisEventResponse) -> Option<usize> {
    let named: Vec<&str> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_deref().unwrap_or_default())
        .collect();
    if named.is_empty() {
        return None;
    }
    records
        .iter()
        .position(|r| named.contains(&r.record.sequence_number.as_str()))
        .or(Some(0))
}

/// The processor's handler in this process (`--local`).
pub struct InProcess<W, Q> {
    /// The handler with its sinks.
    pub handler: Handler<W, Q>,
    /// The event fields every record shares.
    pub source: EventSource,
    /// The function's timeout.
    pub timeout: Duration,
}

impl<W: TableWriter, Q: QueueSender> Reprocessor for InProcess<W, Q> {
    async fn process(&self, records: &[Redriven], redrive_count: u32) -> Result<Attempt, String> {
        let event: KinesisEvent =
            kinesis_codec::event::from_json(event_json(records, &self.source))
                .map_err(|e| format!("cannot build the Kinesis event: {e}"))?;
        let request_id = format!("redrive-{}", local_request_id());
        let invocation = Invocation {
            request_id: &request_id,
            deadline: Deadline::after(self.timeout, IN_PROCESS_SAFETY_MARGIN),
            now_ms: now_ms(),
            redrive_count,
        };
        let run = AssertUnwindSafe(self.handler.handle(&event, invocation)).catch_unwind();
        let outcome = match tokio::time::timeout(self.timeout, run).await {
            Err(_) => return Ok(Attempt::failed(request_id, "the handler timed out".into())),
            Ok(Err(_)) => return Ok(Attempt::failed(request_id, "the handler panicked".into())),
            Ok(Ok(outcome)) => outcome,
        };
        Ok(Attempt {
            first_unhandled: first_unhandled(records, &outcome.response),
            request_id,
            error: None,
        })
    }
}

/// The deployed function, invoked synchronously (the default).
pub struct Deployed {
    /// A Lambda client.
    pub client: aws_sdk_lambda::Client,
    /// The function's name or ARN.
    pub function: String,
    /// The event fields every record shares.
    pub source: EventSource,
}

/// The client context of a redrive invocation: the processor reads `custom.redriveCount`.
pub fn client_context(redrive_count: u32) -> String {
    let context =
        json!({ "custom": { contract::REDRIVE_COUNT_CONTEXT_KEY: redrive_count.to_string() } });
    base64::engine::general_purpose::STANDARD.encode(context.to_string())
}

impl Reprocessor for Deployed {
    async fn process(&self, records: &[Redriven], redrive_count: u32) -> Result<Attempt, String> {
        let payload = event_json(records, &self.source).to_string();
        let out = self
            .client
            .invoke()
            .function_name(&self.function)
            .invocation_type(InvocationType::RequestResponse)
            .client_context(client_context(redrive_count))
            .payload(Blob::new(payload))
            .send()
            .await
            .map_err(|e| {
                let hint = "check that the function exists and that you may invoke it \
                            (RedrivePolicyArn)";
                CallError::new(format!("Lambda Invoke({})", self.function), &e)
                    .when_not_found(hint)
                    .when_denied(hint)
                    .to_string()
            })?;
        let request_id = out.request_id().unwrap_or_default().to_owned();
        let body = out
            .payload()
            .map(|p| p.as_ref().to_vec())
            .unwrap_or_default();
        if let Some(kind) = out.function_error() {
            let error = format!(
                "the function failed ({kind}): {}",
                String::from_utf8_lossy(&body)
            );
            return Ok(Attempt::failed(request_id, error));
        }
        match serde_json::from_slice::<KinesisEventResponse>(&body) {
            Ok(response) => Ok(Attempt {
                first_unhandled: first_unhandled(records, &response),
                request_id,
                error: None,
            }),
            Err(e) => {
                let error = format!(
                    "the function's response is not a Kinesis batch response ({e}): {}",
                    String::from_utf8_lossy(&body)
                );
                Ok(Attempt::failed(request_id, error))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redriven(sequence: &str, event_id: &str) -> Redriven {
        Redriven {
            record: StreamRecord {
                shard_id: "shardId-000000000000".into(),
                sequence_number: sequence.into(),
                partition_key: "user-1".into(),
                data: br#"{"userId":"u"}"#.to_vec(),
                arrival_ms: 1_764_000_000_123,
            },
            event_id: event_id.into(),
        }
    }

    fn source() -> EventSource {
        EventSource {
            stream_arn: "arn:aws:kinesis:us-east-1:123456789012:stream/s".into(),
            region: "us-east-1".into(),
            role_arn: "arn:aws:iam::123456789012:role/r".into(),
        }
    }

    #[test]
    fn the_event_carries_each_records_original_identity() {
        let records = [
            redriven("11", "shardId-000000000000:11"),
            redriven("12", "shardId-000000000000:12:3"),
        ];
        let event: KinesisEvent =
            kinesis_codec::event::from_json(event_json(&records, &source())).unwrap();
        let ids: Vec<_> = event
            .records
            .iter()
            .map(|r| r.event_id.clone().unwrap())
            .collect();
        assert_eq!(
            ids,
            ["shardId-000000000000:11", "shardId-000000000000:12:3"]
        );
        let arrival = &event.records[1].kinesis.approximate_arrival_timestamp;
        assert_eq!(arrival.timestamp_millis(), 1_764_000_000_123);
    }

    #[test]
    fn the_first_named_record_is_where_handling_stopped() {
        let records = [
            redriven("11", "a"),
            redriven("12", "b"),
            redriven("13", "c"),
        ];
        let mut response = KinesisEventResponse::default();
        assert_eq!(first_unhandled(&records, &response), None);
        response.add_failure("13".to_owned());
        response.add_failure("12".to_owned());
        assert_eq!(first_unhandled(&records, &response), Some(1));
        let mut unknown = KinesisEventResponse::default();
        unknown.add_failure("99".to_owned());
        assert_eq!(first_unhandled(&records, &unknown), Some(0));
    }

    #[test]
    fn the_client_context_names_the_redrive_count_as_the_runtime_reads_it() {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(client_context(2))
            .unwrap();
        // lambda_runtime's ClientContext: `custom` is a map of strings to strings.
        let context: Value = serde_json::from_slice(&decoded).unwrap();
        assert_eq!(context["custom"][contract::REDRIVE_COUNT_CONTEXT_KEY], "2");
    }
}
