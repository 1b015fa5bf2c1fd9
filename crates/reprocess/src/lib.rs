//! Processing records again as the pipeline's function does, with their original identity:
//! what redrive (dead letters, on-failure records and objects) and replay (the event archive,
//! the stream) share (docs/design.md, "Layers").
//!
//! Records travel as [`Identified`]: the record as the stream held it plus the eventID it
//! had the first time (`shardId:sequence`, or `shardId:sequence:n` for the n-th user record
//! of a KPL aggregate), so its item gets the key the first delivery would have given it
//! (docs/design.md, "Record identity"). A [`Reprocessor`] runs them through the processor:
//!
//! - [`Deployed`]: the deployed function, invoked synchronously with Lambda's Kinesis event
//!   and the redrive count in the client context (the code and role of production);
//! - [`InProcess`]: the processor's handler in this process with the caller's credentials
//!   (for moto, or to try a fix before deploying it), a panic or a run past the function's
//!   timeout counting as a function error, as on Lambda ([`call_handler`], which the
//!   emulator uses too).
//!
//! [`batches::process`] sends records in invocations, tries what was not handled again and
//! says what became of each record; [`objects`] reads (and tags) the S3 objects the failure
//! and event archives keep; [`target`] reads the deployed function both tools process through;
//! [`touched`] names the event-time minutes a run stored, which no tumbling window counted.

pub mod batches;
pub mod objects;
pub mod target;
pub mod touched;

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
use kinesis_codec::kpl::{self, Deaggregated};
use kinesis_codec::record::{from_record_json, EventSource, StreamRecord};
use kinesis_codec::time::now_ms;
use kinesis_codec::window::WindowEvent;
use processor::config::Config;
use processor::handler::SinkClients;
use processor::handler::{
    local_request_id, Handler, Invocation, Outcome, IN_PROCESS_SAFETY_MARGIN,
};
use processor::sinks::dynamodb::DynamoTable;
use processor::sinks::sqs::SqsQueue;
use processor::sinks::{QueueSender, TableWriter};
use processor::window::{WindowError, WindowOutcome};
use serde_json::{json, Value};

/// A record to process again, under the id it had.
#[derive(Debug, Clone, PartialEq)]
pub struct Identified {
    /// The record as the stream holds it (for a user record of an aggregate: its own bytes).
    pub record: StreamRecord,
    /// Its eventID the first time (`shardId:sequence`, or `shardId:sequence:n`).
    pub event_id: String,
}

impl Identified {
    /// A whole Kinesis record under its own eventID.
    pub fn whole(record: StreamRecord) -> Identified {
        Identified {
            event_id: record.event_id(),
            record,
        }
    }

    /// The user records of a KPL aggregate, each alone under its own id
    /// (`eventID:n`, its partition key, the aggregate's sequence number and arrival time);
    /// any other record (and an aggregate that cannot be read, which the processor
    /// dead-letters whole) as it is. An aggregate of no user records holds nothing to process.
    pub fn user_records(self) -> Vec<Identified> {
        let users: Option<Vec<Identified>> = match kpl::deaggregate(&self.record.data) {
            Ok(Deaggregated::Aggregate(users)) => Some(
                users
                    .iter()
                    .map(|user| Identified {
                        record: StreamRecord {
                            shard_id: self.record.shard_id.clone(),
                            sequence_number: self.record.sequence_number.clone(),
                            partition_key: user.partition_key.to_owned(),
                            data: user.data.to_vec(),
                            arrival_ms: self.record.arrival_ms,
                        },
                        event_id: format!("{}:{}", self.event_id, user.sub_sequence_number),
                    })
                    .collect(),
            ),
            Ok(Deaggregated::Single(_)) | Err(_) => None,
        };
        users.unwrap_or_else(|| vec![self])
    }
}

/// The records of a Lambda Kinesis event's JSON (`{"Records": [...]}`: an on-failure
/// object's payload, an event-archive object), each with the eventID it carries.
pub fn records_of_event(event: &Value) -> Result<Vec<Identified>, String> {
    let records = event
        .get("Records")
        .and_then(Value::as_array)
        .ok_or("the event has no Records array")?;
    records
        .iter()
        .enumerate()
        .map(|(i, value)| {
            from_record_json(value)
                .map(|(record, event_id)| Identified { record, event_id })
                .map_err(|e| format!("record {i} of the event: {e}"))
        })
        .collect()
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
    pub fn failed(request_id: String, error: String) -> Attempt {
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
    /// times (0 for a replay). `Err` when the invocation could not be made at all.
    fn process(
        &self,
        records: &[Identified],
        redrive_count: u32,
    ) -> impl Future<Output = Result<Attempt, String>>;
}

/// Lambda's Kinesis event for `records`, as JSON, each record under its original id.
pub fn event_json(records: &[Identified], source: &EventSource) -> Value {
    event_json_with_ids(
        records.iter().map(|r| (&r.record, r.event_id.as_str())),
        source,
    )
}

/// The first record the function's `batchItemFailures` names; Lambda treats an identifier
/// that names no record of the batch as a failure of the whole batch, and so does this.
pub fn first_unhandled(records: &[Identified], response: &KinesisEventResponse) -> Option<usize> {
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

/// Why the handler gave no answer: what Lambda reports as a function error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoAnswer {
    /// It ran past the function's timeout.
    TimedOut,
    /// It panicked.
    Panicked,
}

/// Runs `handler` on `event` as the Lambda runtime does in a function with `timeout`: a
/// deadline of the timeout less [`IN_PROCESS_SAFETY_MARGIN`], the processing time now,
/// request ID `request_id`; a panic or a run past the timeout is [`NoAnswer`].
pub async fn call_handler<W: TableWriter, Q: QueueSender>(
    handler: &Handler<W, Q>,
    event: &KinesisEvent,
    request_id: &str,
    redrive_count: u32,
    timeout: Duration,
) -> Result<Outcome, NoAnswer> {
    let invocation = Invocation {
        request_id,
        deadline: Deadline::after(timeout, IN_PROCESS_SAFETY_MARGIN),
        now_ms: now_ms(),
        redrive_count,
    };
    let run = AssertUnwindSafe(handler.handle(event, invocation)).catch_unwind();
    match tokio::time::timeout(timeout, run).await {
        Err(_) => Err(NoAnswer::TimedOut),
        Ok(Err(_)) => Err(NoAnswer::Panicked),
        Ok(Ok(outcome)) => Ok(outcome),
    }
}

/// [`call_handler`] for a tumbling window's invocation (`Handler::handle_window`): the
/// same deadline, processing time and request ID, a panic or a run past the timeout is
/// [`NoAnswer`]; the inner `Err` is the handler's function error (the window's end could
/// not be written).
pub async fn call_window_handler<W: TableWriter, Q: QueueSender>(
    handler: &Handler<W, Q>,
    window: &WindowEvent,
    request_id: &str,
    timeout: Duration,
) -> Result<Result<WindowOutcome, WindowError>, NoAnswer> {
    let invocation = Invocation {
        request_id,
        deadline: Deadline::after(timeout, IN_PROCESS_SAFETY_MARGIN),
        now_ms: now_ms(),
        redrive_count: 0,
    };
    let run = AssertUnwindSafe(handler.handle_window(window, invocation)).catch_unwind();
    match tokio::time::timeout(timeout, run).await {
        Err(_) => Err(NoAnswer::TimedOut),
        Ok(Err(_)) => Err(NoAnswer::Panicked),
        Ok(Ok(outcome)) => Ok(outcome),
    }
}

/// The processor's handler in this process (`--local`).
pub struct InProcess<W, Q> {
    /// The handler with its sinks.
    pub handler: Handler<W, Q>,
    /// The event fields every record shares.
    pub source: EventSource,
    /// The function's timeout.
    pub timeout: Duration,
    /// What the request IDs start with (`redrive`, `replay`), so the dead letters an
    /// invocation writes say which tool wrote them.
    pub request_prefix: &'static str,
}

impl InProcess<DynamoTable, SqsQueue> {
    /// The processor configured as the deployed function (`processor`), on AWS through
    /// `config`, whose own calls make one attempt each (the handler retries within its
    /// deadline itself); `prefix` starts its request IDs.
    pub fn on_aws(
        config: &aws_config::SdkConfig,
        processor: &Config,
        source: EventSource,
        timeout: Duration,
        prefix: &'static str,
    ) -> InProcess<DynamoTable, SqsQueue> {
        let sinks = config
            .clone()
            .into_builder()
            .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(1))
            .build();
        InProcess {
            handler: Handler::on_aws(processor, SinkClients::new(&sinks)),
            source,
            timeout,
            request_prefix: prefix,
        }
    }
}

impl<W: TableWriter, Q: QueueSender> Reprocessor for InProcess<W, Q> {
    async fn process(&self, records: &[Identified], redrive_count: u32) -> Result<Attempt, String> {
        let event: KinesisEvent =
            kinesis_codec::event::from_json(event_json(records, &self.source))
                .map_err(|e| format!("cannot build the Kinesis event: {e}"))?;
        let request_id = format!("{}-{}", self.request_prefix, local_request_id());
        let outcome = match call_handler(
            &self.handler,
            &event,
            &request_id,
            redrive_count,
            self.timeout,
        )
        .await
        {
            Err(NoAnswer::TimedOut) => {
                return Ok(Attempt::failed(request_id, "the handler timed out".into()))
            }
            Err(NoAnswer::Panicked) => {
                return Ok(Attempt::failed(request_id, "the handler panicked".into()))
            }
            Ok(outcome) => outcome,
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
    /// The managed policy that allows the invocation, named when it is denied
    /// (`RedrivePolicyArn`, `ReplayPolicyArn`).
    pub policy_output: &'static str,
}

/// The client context of an invocation: the processor reads `custom.redriveCount`.
pub fn client_context(redrive_count: u32) -> String {
    let context =
        json!({ "custom": { contract::REDRIVE_COUNT_CONTEXT_KEY: redrive_count.to_string() } });
    base64::engine::general_purpose::STANDARD.encode(context.to_string())
}

impl Reprocessor for Deployed {
    async fn process(&self, records: &[Identified], redrive_count: u32) -> Result<Attempt, String> {
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
                let hint = format!(
                    "check that the function exists and that you may invoke it ({})",
                    self.policy_output
                );
                CallError::new(format!("Lambda Invoke({})", self.function), &e)
                    .when_not_found(hint.clone())
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
pub(crate) mod tests {
    use super::*;

    pub(crate) fn identified(sequence: &str, event_id: &str) -> Identified {
        Identified {
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

    pub(crate) fn source() -> EventSource {
        EventSource {
            stream_arn: "arn:aws:kinesis:us-east-1:123456789012:stream/s".into(),
            region: "us-east-1".into(),
            role_arn: "arn:aws:iam::123456789012:role/r".into(),
        }
    }

    #[test]
    fn the_event_carries_each_records_original_identity() {
        let records = [
            identified("11", "shardId-000000000000:11"),
            identified("12", "shardId-000000000000:12:3"),
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
    fn an_events_records_read_back_with_the_ids_they_carry() {
        let records = [
            identified("11", "shardId-000000000000:11"),
            identified("12", "shardId-000000000000:12:3"),
        ];
        assert_eq!(
            records_of_event(&event_json(&records, &source())).unwrap(),
            records
        );
        assert_eq!(
            records_of_event(&json!({"records": []})).unwrap_err(),
            "the event has no Records array"
        );
        let broken = json!({"Records": [{"kinesis": {}}]});
        assert!(records_of_event(&broken)
            .unwrap_err()
            .starts_with("record 0 of the event: "));
    }

    #[test]
    fn an_aggregate_travels_as_its_user_records_under_their_own_ids() {
        let mut whole = identified("12", "shardId-000000000000:12");
        whole.record.data = kpl::aggregate(&[("user-a", b"{\"a\":1}"), ("user-b", b"{\"b\":2}")]);
        let users = whole.clone().user_records();
        assert_eq!(users.len(), 2);
        assert_eq!(users[1].event_id, "shardId-000000000000:12:1");
        assert_eq!(users[1].record.partition_key, "user-b");
        assert_eq!(users[1].record.data, b"{\"b\":2}");
        assert_eq!(users[1].record.sequence_number, "12");
        assert_eq!(users[1].record.arrival_ms, whole.record.arrival_ms);
        let plain = identified("13", "shardId-000000000000:13");
        assert_eq!(plain.clone().user_records(), [plain]);
        let mut corrupt = whole;
        corrupt.record.data.pop();
        assert_eq!(corrupt.clone().user_records(), [corrupt]);
    }

    #[test]
    fn the_first_named_record_is_where_handling_stopped() {
        let records = [
            identified("11", "a"),
            identified("12", "b"),
            identified("13", "c"),
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

    /// A table that panics, or never answers.
    enum Broken {
        Panics,
        Hangs,
    }

    impl TableWriter for Broken {
        async fn batch_write(
            &self,
            _: &[&events::Item],
        ) -> Result<Vec<usize>, processor::sinks::SinkError> {
            match self {
                Broken::Panics => panic!("the table sink panicked (on purpose)"),
                Broken::Hangs => std::future::pending().await,
            }
        }
    }

    fn in_process(table: Broken) -> InProcess<Broken, processor::sinks::memory::MemoryQueue> {
        let config = processor::config::Config::from_lookup(|name| match name {
            contract::env::TABLE_NAME => Some("t".into()),
            contract::env::DLQ_URL => Some("https://sqs/q".into()),
            _ => None,
        })
        .unwrap();
        InProcess {
            handler: Handler::from_config(&config, table, Default::default()),
            source: source(),
            timeout: Duration::from_millis(200),
            request_prefix: "test",
        }
    }

    #[tokio::test]
    async fn a_panic_or_a_run_past_the_timeout_is_a_function_error() {
        let mut valid = identified("11", "shardId-000000000000:11");
        valid.record.data = br#"{"userId":"u","eventType":"view"}"#.to_vec();
        let records = [valid];
        for (table, error) in [
            (Broken::Panics, "the handler panicked"),
            (Broken::Hangs, "the handler timed out"),
        ] {
            let attempt = in_process(table).process(&records, 0).await.unwrap();
            assert_eq!(attempt.first_unhandled, Some(0));
            assert_eq!(attempt.error.as_deref(), Some(error));
            assert!(attempt.request_id.starts_with("test-"), "{attempt:?}");
        }
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
