//! Kinesis records as Lambda hands them to a function: the JSON of a Kinesis event
//! (base64 data, `eventID` = `shardId:sequenceNumber`, arrival time in epoch seconds),
//! deserialized into the same type the Lambda runtime gives the processor.

use aws_lambda_events::event::kinesis::KinesisEvent;
use base64::Engine;
use serde_json::{json, Value};

/// One record read from a shard.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamRecord {
    /// The shard it came from.
    pub shard_id: String,
    /// Its sequence number.
    pub sequence_number: String,
    /// The producer's partition key.
    pub partition_key: String,
    /// The record's bytes.
    pub data: Vec<u8>,
    /// When Kinesis took it, epoch milliseconds.
    pub arrival_ms: i64,
}

/// What every record of an event shares.
#[derive(Debug, Clone)]
pub struct EventSource {
    /// The stream's ARN (`eventSourceARN`).
    pub stream_arn: String,
    /// The region (`awsRegion`).
    pub region: String,
    /// The function's execution role (`invokeIdentityArn`).
    pub role_arn: String,
}

/// The record's JSON in Lambda's Kinesis event.
pub fn record_json(record: &StreamRecord, source: &EventSource) -> Value {
    let event_id = format!("{}:{}", record.shard_id, record.sequence_number);
    record_json_with_id(record, source, &event_id)
}

/// The record's JSON with `event_id` as its `eventID`: a redriven user record of a KPL
/// aggregate keeps the id it had (`shardId:sequence:n`) although it travels alone.
pub fn record_json_with_id(record: &StreamRecord, source: &EventSource, event_id: &str) -> Value {
    json!({
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": record.partition_key,
            "sequenceNumber": record.sequence_number,
            "data": base64::engine::general_purpose::STANDARD.encode(&record.data),
            "approximateArrivalTimestamp": record.arrival_ms as f64 / 1000.0,
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": event_id,
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": source.role_arn,
        "awsRegion": source.region,
        "eventSourceARN": source.stream_arn,
    })
}

/// The event Lambda would send for `records`, as the runtime deserializes it.
pub fn kinesis_event(
    records: &[StreamRecord],
    source: &EventSource,
) -> Result<KinesisEvent, serde_json::Error> {
    let records: Vec<Value> = records.iter().map(|r| record_json(r, source)).collect();
    processor::kinesis_event::from_json(json!({ "Records": records }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_carry_lambdas_fields() {
        let record = StreamRecord {
            shard_id: "shardId-000000000002".into(),
            sequence_number: "4960".into(),
            partition_key: "user-1".into(),
            data: b"{\"a\":1}".to_vec(),
            arrival_ms: 1_700_000_000_123,
        };
        let source = EventSource {
            stream_arn: "arn:aws:kinesis:us-east-1:123456789012:stream/s".into(),
            region: "us-east-1".into(),
            role_arn: "arn:aws:iam::123456789012:role/r".into(),
        };
        let event = kinesis_event(std::slice::from_ref(&record), &source).unwrap();
        let got = &event.records[0];
        assert_eq!(got.event_id.as_deref(), Some("shardId-000000000002:4960"));
        assert_eq!(got.kinesis.data.0, record.data);
        assert_eq!(got.kinesis.sequence_number, "4960");
        assert_eq!(
            got.kinesis.approximate_arrival_timestamp.timestamp_millis(),
            1_700_000_000_123
        );
        assert_eq!(
            got.event_source_arn.as_deref(),
            Some(source.stream_arn.as_str())
        );
    }
}
