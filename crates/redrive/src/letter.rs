//! The two kinds of message in the dead-letter queue, read from their JSON bodies:
//! the processor's dead letters (one rejected record, its bytes inside unless too large, then
//! in the failure archive or only in the stream) and the event source mapping's on-failure
//! records (a shard's sequence range whose records Lambda gave up on).

use base64::Engine;
use kinesis_codec::on_failure::OnFailure;
use serde_json::Value;

/// A message of the dead-letter queue.
#[derive(Debug, Clone, PartialEq)]
pub enum Letter {
    /// One record the processor rejected.
    Rejected(Rejected),
    /// A range of records the event source mapping skipped.
    Skipped(SkippedRange),
}

/// A processor dead letter (docs/design.md, "Dead letters").
#[derive(Debug, Clone, PartialEq)]
pub struct Rejected {
    /// The Kinesis record's eventID (`shardId:sequence`).
    pub event_id: String,
    /// For a user record of a KPL aggregate, its index in the aggregate.
    pub sub_sequence_number: Option<u64>,
    /// The shard the record is in.
    pub shard_id: String,
    /// The record's partition key.
    pub partition_key: String,
    /// The record's sequence number.
    pub sequence_number: String,
    /// When Kinesis took the record, epoch milliseconds.
    pub arrival_ms: i64,
    /// The record's bytes; `None` when the letter says `dataTruncated`.
    pub data: Option<Vec<u8>>,
    /// Where the failure archive keeps the bytes of a record too large for the letter
    /// (`dataS3Bucket`, `dataS3Key`); `None` when the letter holds them, or when it only
    /// says `dataTruncated` (the record is then read back from the stream).
    pub claim_check: Option<ClaimCheck>,
    /// Why it was rejected (`errorType`).
    pub error_type: String,
    /// How often it had been redriven when it was rejected (`redriveCount`, 0 when absent).
    pub redrive_count: u32,
    /// The invocation that wrote it.
    pub request_id: String,
}

impl Rejected {
    /// The record's identity as the processor saw it: its eventID, with `:n` for the n-th
    /// user record of an aggregate. Sent again under this id, it gets the same item key.
    pub fn identity(&self) -> String {
        match self.sub_sequence_number {
            Some(sub) => format!("{}:{sub}", self.event_id),
            None => self.event_id.clone(),
        }
    }
}

/// The S3 object holding a dead-lettered record's bytes (a claim check): the record's data
/// (a user record's own bytes for a KPL aggregate's), as `data` would have held it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimCheck {
    /// `dataS3Bucket`.
    pub bucket: String,
    /// `dataS3Key`.
    pub key: String,
}

/// An event source mapping's on-failure record (`KinesisBatchInfo`).
#[derive(Debug, Clone, PartialEq)]
pub struct SkippedRange {
    /// The shard.
    pub shard_id: String,
    /// The first record's sequence number.
    pub start_sequence_number: String,
    /// The last record's sequence number.
    pub end_sequence_number: String,
    /// How many records the range holds.
    pub batch_size: u64,
    /// Why Lambda gave up (`requestContext.condition`, e.g. `RetryAttemptsExhausted`).
    pub condition: String,
}

impl Letter {
    /// `dead-letter` or `on-failure`, for counts by kind.
    pub fn kind(&self) -> &'static str {
        match self {
            Letter::Rejected(_) => "dead-letter",
            Letter::Skipped(_) => "on-failure",
        }
    }

    /// The processor's `errorType`, or the mapping's condition for an on-failure record:
    /// what `--error-type` matches.
    pub fn error_type(&self) -> &str {
        match self {
            Letter::Rejected(r) => &r.error_type,
            Letter::Skipped(s) => &s.condition,
        }
    }

    /// The records the message stands for.
    pub fn record_count(&self) -> u64 {
        match self {
            Letter::Rejected(_) => 1,
            Letter::Skipped(s) => s.batch_size,
        }
    }
}

/// Why a message is neither kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a dead letter or an on-failure record: {0}")]
pub struct UnknownMessage(pub String);

/// Reads a message body.
pub fn parse(body: &str) -> Result<Letter, UnknownMessage> {
    let value: Value = serde_json::from_str(body)
        .map_err(|e| UnknownMessage(format!("the body is not JSON ({e})")))?;
    if OnFailure::is_one(&value) {
        return skipped_range(&value).map(Letter::Skipped);
    }
    rejected(&value).map(Letter::Rejected)
}

fn text(value: &Value, field: &str) -> Result<String, UnknownMessage> {
    match value.get(field) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        _ => Err(UnknownMessage(format!(
            "{field} is missing or not a string"
        ))),
    }
}

fn rejected(value: &Value) -> Result<Rejected, UnknownMessage> {
    let event_id = text(value, "eventId")?;
    let sequence_number = text(value, "sequenceNumber")?;
    let shard_id = match value.get("shardId").and_then(Value::as_str) {
        Some(shard) => shard.to_owned(),
        None => event_id.split(':').next().unwrap_or_default().to_owned(),
    };
    let arrival_secs = value
        .get("approximateArrivalTimestamp")
        .and_then(Value::as_f64)
        .ok_or_else(|| UnknownMessage("approximateArrivalTimestamp is not a number".into()))?;
    let truncated = value.get("dataTruncated").and_then(Value::as_bool) == Some(true);
    let claim_check = match (value.get("dataS3Bucket"), value.get("dataS3Key")) {
        _ if !truncated => None,
        (None, None) => None,
        (Some(Value::String(bucket)), Some(Value::String(key)))
            if !bucket.is_empty() && !key.is_empty() =>
        {
            Some(ClaimCheck {
                bucket: bucket.clone(),
                key: key.clone(),
            })
        }
        _ => {
            return Err(UnknownMessage(
                "dataS3Bucket and dataS3Key must both be non-empty strings".into(),
            ))
        }
    };
    let data = if truncated {
        None
    } else {
        let encoded = text(value, "data").or_else(|_| match value.get("data") {
            Some(Value::String(_)) => Ok(String::new()),
            _ => Err(UnknownMessage(
                "data is missing and dataTruncated is not set".into(),
            )),
        })?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|e| UnknownMessage(format!("data is not base64 ({e})")))?;
        Some(bytes)
    };
    Ok(Rejected {
        event_id,
        sub_sequence_number: value.get("subSequenceNumber").and_then(Value::as_u64),
        shard_id,
        partition_key: value
            .get("partitionKey")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        sequence_number,
        arrival_ms: (arrival_secs * 1000.0).round() as i64,
        data,
        claim_check,
        error_type: value
            .get("errorType")
            .and_then(Value::as_str)
            .unwrap_or("Unknown")
            .to_owned(),
        redrive_count: value
            .get("redriveCount")
            .and_then(Value::as_u64)
            .map_or(0, |n| u32::try_from(n).unwrap_or(u32::MAX)),
        request_id: value
            .get("requestId")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
    })
}

/// The range an on-failure record names, read by the codec (`kinesis_codec::on_failure`).
fn skipped_range(value: &Value) -> Result<SkippedRange, UnknownMessage> {
    let record = OnFailure::parse(value).map_err(|e| UnknownMessage(e.0))?;
    Ok(SkippedRange {
        shard_id: record.batch.shard_id,
        start_sequence_number: record.batch.start_sequence_number,
        end_sequence_number: record.batch.end_sequence_number,
        batch_size: record.batch.batch_size,
        condition: record.condition,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEAD_LETTER: &str = r#"{"error":"userId is missing","errorType":"MissingField",
        "eventId":"shardId-000000000001:4960","shardId":"shardId-000000000001",
        "partitionKey":"user-7","sequenceNumber":"4960",
        "approximateArrivalTimestamp":1764000000.123,"data":"eyJhIjoxfQ==",
        "functionName":"fn","requestId":"req-1"}"#;

    /// Lambda's on-failure record, as docs/design.md quotes it.
    const ON_FAILURE: &str = r#"{"requestContext": {"requestId": "c9b8", "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:f",
        "condition": "RetryAttemptsExhausted", "approximateInvokeCount": 4},
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "version": "1.0", "timestamp": "2026-11-25T00:38:06.021Z",
        "KinesisBatchInfo": {"shardId": "shardId-000000000001", "startSequenceNumber": "49601",
            "endSequenceNumber": "49650", "approximateArrivalOfFirstRecord": "2026-11-25T00:37:00.000Z",
            "approximateArrivalOfLastRecord": "2026-11-25T00:37:01.000Z", "batchSize": 50,
            "streamArn": "arn:aws:kinesis:us-east-1:123456789012:stream/s"}}"#;

    #[test]
    fn a_dead_letter_keeps_the_records_identity_and_bytes() {
        let Letter::Rejected(r) = parse(DEAD_LETTER).unwrap() else {
            panic!("a dead letter")
        };
        assert_eq!(r.identity(), "shardId-000000000001:4960");
        assert_eq!(r.arrival_ms, 1_764_000_000_123);
        assert_eq!(r.data.as_deref(), Some(&b"{\"a\":1}"[..]));
        assert_eq!(r.redrive_count, 0);
        assert_eq!(
            (r.error_type.as_str(), r.request_id.as_str()),
            ("MissingField", "req-1")
        );
    }

    #[test]
    fn an_aggregated_user_record_adds_its_index_and_counts_redrives() {
        let body = DEAD_LETTER.replace(
            r#""requestId":"req-1""#,
            r#""requestId":"req-1","subSequenceNumber":3,"redriveCount":2"#,
        );
        let Letter::Rejected(r) = parse(&body).unwrap() else {
            panic!("a dead letter")
        };
        assert_eq!(r.identity(), "shardId-000000000001:4960:3");
        assert_eq!(r.redrive_count, 2);
    }

    #[test]
    fn a_truncated_dead_letter_has_no_data_but_its_location() {
        let body = DEAD_LETTER.replace(
            r#""data":"eyJhIjoxfQ==""#,
            r#""dataTruncated":true,"dataSize":300000"#,
        );
        let Letter::Rejected(r) = parse(&body).unwrap() else {
            panic!("a dead letter")
        };
        assert_eq!(r.data, None);
        assert_eq!(r.claim_check, None);
        assert_eq!(r.sequence_number, "4960");
    }

    #[test]
    fn a_claim_checked_dead_letter_names_the_object_with_its_bytes() {
        let body = DEAD_LETTER.replace(
            r#""data":"eyJhIjoxfQ==""#,
            r#""dataTruncated":true,"dataSize":2000000,"dataS3Bucket":"failures",
               "dataS3Key":"dead-letters/shardId-000000000001/4960""#,
        );
        let Letter::Rejected(r) = parse(&body).unwrap() else {
            panic!("a dead letter")
        };
        assert_eq!(r.data, None);
        assert_eq!(
            r.claim_check,
            Some(ClaimCheck {
                bucket: "failures".into(),
                key: "dead-letters/shardId-000000000001/4960".into()
            })
        );
        let half = DEAD_LETTER.replace(
            r#""data":"eyJhIjoxfQ==""#,
            r#""dataTruncated":true,"dataS3Bucket":"failures""#,
        );
        assert!(parse(&half).unwrap_err().0.contains("dataS3Key"));
    }

    #[test]
    fn an_on_failure_record_is_a_range_of_one_shard() {
        let letter = parse(ON_FAILURE).unwrap();
        assert_eq!(letter.kind(), "on-failure");
        assert_eq!(letter.error_type(), "RetryAttemptsExhausted");
        assert_eq!(letter.record_count(), 50);
        let Letter::Skipped(range) = letter else {
            panic!("a range")
        };
        assert_eq!(range.shard_id, "shardId-000000000001");
        assert_eq!(
            (
                range.start_sequence_number.as_str(),
                range.end_sequence_number.as_str()
            ),
            ("49601", "49650")
        );
    }

    #[test]
    fn other_messages_are_named_for_what_they_lack() {
        assert!(parse("hello").unwrap_err().0.contains("not JSON"));
        assert!(parse("{}").unwrap_err().0.contains("eventId"));
        let no_data = DEAD_LETTER.replace(r#""data":"eyJhIjoxfQ==","#, "");
        assert!(parse(&no_data).unwrap_err().0.contains("dataTruncated"));
        let bad_range = ON_FAILURE.replace(r#""batchSize": 50"#, r#""batchSize": "x""#);
        assert!(parse(&bad_range).unwrap_err().0.contains("batchSize"));
    }
}
