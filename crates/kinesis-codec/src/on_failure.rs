//! The event source mapping's on-failure records: what Lambda sends to the on-failure
//! destination when it gives up on a batch (docs/design.md, "On-failure records").
//!
//! To an SQS queue or SNS topic it sends where the batch was (`KinesisBatchInfo`: shard,
//! first and last sequence number), and the records stay in the stream only until its
//! retention ends. To an S3 bucket it writes one object per batch whose body is the same
//! record plus `payload`, the event the function was invoked with, so the records
//! themselves are kept:
//! <https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html>.
//! The object's key is `aws/lambda/<ESM-UUID>/<shardId>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<uuid>`
//! ([`object_key`]).
//!
//! Implementations differ on `payload`: AWS documents the event object itself, while other
//! implementations write a JSON string holding it. [`OnFailure::parse`] reads both, and
//! [`OnFailure::to_json`] writes either.

use serde_json::{json, Value};

use crate::record::StreamRecord;
use crate::time::{iso8601, parse_iso8601, utc};

/// Where the skipped batch was (`KinesisBatchInfo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchInfo {
    /// The shard.
    pub shard_id: String,
    /// The first record's sequence number.
    pub start_sequence_number: String,
    /// The last record's sequence number.
    pub end_sequence_number: String,
    /// When the first record arrived, epoch milliseconds (0 when not given).
    pub first_arrival_ms: i64,
    /// When the last record arrived, epoch milliseconds (0 when not given).
    pub last_arrival_ms: i64,
    /// How many records the batch holds.
    pub batch_size: u64,
    /// The stream's ARN.
    pub stream_arn: String,
}

impl BatchInfo {
    /// The range `records` (one shard's, in order) cover; `None` for no records.
    pub fn of(records: &[StreamRecord], stream_arn: &str) -> Option<BatchInfo> {
        let (first, last) = (records.first()?, records.last()?);
        Some(BatchInfo {
            shard_id: first.shard_id.clone(),
            start_sequence_number: first.sequence_number.clone(),
            end_sequence_number: last.sequence_number.clone(),
            first_arrival_ms: first.arrival_ms,
            last_arrival_ms: last.arrival_ms,
            batch_size: records.len() as u64,
            stream_arn: stream_arn.to_owned(),
        })
    }
}

/// One on-failure record, with the invocation's payload when it came from S3.
#[derive(Debug, Clone, PartialEq)]
pub struct OnFailure {
    /// `requestContext.requestId`.
    pub request_id: String,
    /// `requestContext.functionArn`.
    pub function_arn: String,
    /// Why Lambda gave up (`requestContext.condition`, e.g. `RetryAttemptsExhausted`).
    pub condition: String,
    /// `requestContext.approximateInvokeCount`.
    pub invoke_count: u64,
    /// `timestamp`, epoch milliseconds: when Lambda gave up.
    pub timestamp_ms: i64,
    /// `KinesisBatchInfo`.
    pub batch: BatchInfo,
    /// `payload`: the Kinesis event (`{"Records": [...]}`) the function was invoked with,
    /// as an object whichever form the body held it in; `None` in a queue's record.
    pub payload: Option<Value>,
}

/// How [`OnFailure::to_json`] writes `payload`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadForm {
    /// The event object itself, as AWS documents it.
    Object,
    /// A JSON string holding the event, as some implementations write it.
    String,
}

/// Why a body is not an on-failure record, naming the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an on-failure record: {0}")]
pub struct NotOnFailure(pub String);

impl OnFailure {
    /// Whether `value` is an on-failure record (it has `KinesisBatchInfo`).
    pub fn is_one(value: &Value) -> bool {
        value.get("KinesisBatchInfo").is_some()
    }

    /// Reads an on-failure record from its JSON (a queue's message or an S3 object's body).
    pub fn parse(value: &Value) -> Result<OnFailure, NotOnFailure> {
        let missing = |what: &str| NotOnFailure(format!("{what} is missing or malformed"));
        let info = value
            .get("KinesisBatchInfo")
            .ok_or_else(|| missing("KinesisBatchInfo"))?;
        let text = |object: &Value, field: &str, path: &str| {
            object
                .get(field)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .ok_or_else(|| missing(path))
        };
        let time = |field: &str| {
            info.get(field)
                .and_then(Value::as_str)
                .and_then(parse_iso8601)
                .unwrap_or(0)
        };
        let batch = BatchInfo {
            shard_id: text(info, "shardId", "KinesisBatchInfo.shardId")?,
            start_sequence_number: text(
                info,
                "startSequenceNumber",
                "KinesisBatchInfo.startSequenceNumber",
            )?,
            end_sequence_number: text(
                info,
                "endSequenceNumber",
                "KinesisBatchInfo.endSequenceNumber",
            )?,
            first_arrival_ms: time("approximateArrivalOfFirstRecord"),
            last_arrival_ms: time("approximateArrivalOfLastRecord"),
            batch_size: info
                .get("batchSize")
                .and_then(Value::as_u64)
                .ok_or_else(|| missing("KinesisBatchInfo.batchSize"))?,
            stream_arn: text(info, "streamArn", "").unwrap_or_default(),
        };
        let context = value.get("requestContext").cloned().unwrap_or(Value::Null);
        Ok(OnFailure {
            request_id: text(&context, "requestId", "").unwrap_or_default(),
            function_arn: text(&context, "functionArn", "").unwrap_or_default(),
            condition: text(&context, "condition", "").unwrap_or_else(|_| "Unknown".to_owned()),
            invoke_count: context
                .get("approximateInvokeCount")
                .and_then(Value::as_u64)
                .unwrap_or(0),
            timestamp_ms: value
                .get("timestamp")
                .and_then(Value::as_str)
                .and_then(parse_iso8601)
                .unwrap_or(0),
            batch,
            payload: payload(value)?,
        })
    }

    /// The record's JSON, with `payload` (when there is one) in `form`.
    pub fn to_json(&self, form: PayloadForm) -> Value {
        let mut value = json!({
            "requestContext": {
                "requestId": self.request_id,
                "functionArn": self.function_arn,
                "condition": self.condition,
                "approximateInvokeCount": self.invoke_count,
            },
            "responseContext": {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                "functionError": "Unhandled",
            },
            "version": "1.0",
            "timestamp": iso8601(self.timestamp_ms),
            "KinesisBatchInfo": {
                "shardId": self.batch.shard_id,
                "startSequenceNumber": self.batch.start_sequence_number,
                "endSequenceNumber": self.batch.end_sequence_number,
                "approximateArrivalOfFirstRecord": iso8601(self.batch.first_arrival_ms),
                "approximateArrivalOfLastRecord": iso8601(self.batch.last_arrival_ms),
                "batchSize": self.batch.batch_size,
                "streamArn": self.batch.stream_arn,
            },
        });
        if let Some(payload) = &self.payload {
            value["payload"] = match form {
                PayloadForm::Object => payload.clone(),
                PayloadForm::String => Value::String(payload.to_string()),
            };
        }
        value
    }
}

/// `payload` as an object, whether the body held the object or a string of it.
fn payload(value: &Value) -> Result<Option<Value>, NotOnFailure> {
    let event = match value.get("payload") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(text)) => serde_json::from_str(text).map_err(|e| {
            NotOnFailure(format!(
                "payload is a string but not the event's JSON ({e})"
            ))
        })?,
        Some(other) => other.clone(),
    };
    if event.get("Records").and_then(Value::as_array).is_none() {
        return Err(NotOnFailure(
            "payload is not a Kinesis event (no Records array)".into(),
        ));
    }
    Ok(Some(event))
}

/// The S3 key Lambda gives the object of a batch it gave up on at `timestamp_ms`:
/// `aws/lambda/<ESM-UUID>/<shardId>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<uuid>`.
pub fn object_key(mapping_uuid: &str, shard_id: &str, timestamp_ms: i64, uuid: &str) -> String {
    let time = utc(timestamp_ms);
    format!(
        "aws/lambda/{mapping_uuid}/{shard_id}/{}/{}-{uuid}",
        time.format("%Y/%m/%d"),
        time.format("%Y-%m-%dT%H.%M.%S")
    )
}

/// The prefix of every on-failure object of mapping `mapping_uuid`, and of all mappings
/// when it is `None`.
pub fn object_prefix(mapping_uuid: Option<&str>) -> String {
    match mapping_uuid {
        Some(uuid) => format!("aws/lambda/{uuid}/"),
        None => "aws/lambda/".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lambda's on-failure record, as AWS's guide shows it.
    const ON_FAILURE: &str = r#"{"requestContext": {"requestId": "c9b8", "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:f",
        "condition": "RetryAttemptsExhausted", "approximateInvokeCount": 4},
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "version": "1.0", "timestamp": "2026-11-25T00:38:06.021Z",
        "KinesisBatchInfo": {"shardId": "shardId-000000000001", "startSequenceNumber": "49601",
            "endSequenceNumber": "49650", "approximateArrivalOfFirstRecord": "2026-11-25T00:37:00.000Z",
            "approximateArrivalOfLastRecord": "2026-11-25T00:37:01.000Z", "batchSize": 50,
            "streamArn": "arn:aws:kinesis:us-east-1:123456789012:stream/s"}}"#;

    fn queue_record() -> OnFailure {
        OnFailure::parse(&serde_json::from_str(ON_FAILURE).unwrap()).unwrap()
    }

    #[test]
    fn a_queue_record_is_a_range_of_one_shard() {
        let record = queue_record();
        assert_eq!(record.condition, "RetryAttemptsExhausted");
        assert_eq!(record.batch.batch_size, 50);
        assert_eq!(record.batch.shard_id, "shardId-000000000001");
        assert_eq!(record.batch.first_arrival_ms, 1_795_567_020_000);
        assert_eq!(record.payload, None);
    }

    #[test]
    fn the_payload_is_read_as_object_or_as_string_alike() {
        let mut with_payload = queue_record();
        with_payload.payload =
            Some(json!({"Records": [{"eventID": "shardId-000000000001:49601"}]}));
        for form in [PayloadForm::Object, PayloadForm::String] {
            let written = with_payload.to_json(form);
            assert_eq!(written["payload"].is_string(), form == PayloadForm::String);
            assert_eq!(
                OnFailure::parse(&written).unwrap(),
                with_payload,
                "{form:?}"
            );
        }
    }

    #[test]
    fn what_is_wrong_is_named() {
        let mut value: Value = serde_json::from_str(ON_FAILURE).unwrap();
        value["KinesisBatchInfo"]["batchSize"] = "x".into();
        assert_eq!(
            OnFailure::parse(&value).unwrap_err().to_string(),
            "not an on-failure record: KinesisBatchInfo.batchSize is missing or malformed"
        );
        let mut value: Value = serde_json::from_str(ON_FAILURE).unwrap();
        value["payload"] = "{not json".into();
        assert!(OnFailure::parse(&value)
            .unwrap_err()
            .0
            .starts_with("payload is a string but not the event's JSON"));
        value["payload"] = json!({"records": []});
        assert!(OnFailure::parse(&value)
            .unwrap_err()
            .0
            .contains("no Records array"));
        assert!(!OnFailure::is_one(&json!({"eventId": "x"})));
    }

    #[test]
    fn object_keys_follow_lambdas_layout() {
        assert_eq!(
            object_key(
                "e40edd69",
                "shardId-000000000001",
                1_795_567_086_021,
                "a1b2"
            ),
            "aws/lambda/e40edd69/shardId-000000000001/2026/11/25/2026-11-25T00.38.06-a1b2"
        );
        assert!(object_key("u", "s", 0, "x").starts_with(&object_prefix(Some("u"))));
    }

    #[test]
    fn a_batch_info_covers_its_records() {
        let records: Vec<StreamRecord> = (0..3)
            .map(|i| crate::event::fixture::record(i, "k", b"{}"))
            .collect();
        let info = BatchInfo::of(&records, "arn:s").unwrap();
        assert_eq!(info.batch_size, 3);
        assert_eq!(info.end_sequence_number, records[2].sequence_number);
        assert_eq!(BatchInfo::of(&[], "arn:s"), None);
    }
}
