//! Kinesis events in exactly the JSON shape Lambda delivers, built from record payloads:
//! what tests, benchmarks and the local runner feed the handler.

use aws_lambda_events::event::kinesis::KinesisEvent;
use base64::Engine;
use serde_json::{json, Value};

/// One record's JSON as Lambda sends it. Sequence numbers grow with `index`.
pub fn record_json(index: usize, partition_key: &str, data: &[u8]) -> Value {
    let sequence = format!("4959{index:052}");
    json!({
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": partition_key,
            "sequenceNumber": sequence,
            "data": base64::engine::general_purpose::STANDARD.encode(data),
            "approximateArrivalTimestamp": 1_700_000_000.0 + index as f64 / 1000.0,
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": format!("shardId-000000000000:{sequence}"),
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": "arn:aws:iam::123456789012:role/processor",
        "awsRegion": "us-east-1",
        "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/retail-events-dev-events",
    })
}

/// An event of these payloads, partition key `user-<i % 100>`.
pub fn from_payloads(payloads: &[Vec<u8>]) -> KinesisEvent {
    let records: Vec<Value> = payloads
        .iter()
        .enumerate()
        .map(|(i, data)| record_json(i, &format!("user-{}", i % 100), data))
        .collect();
    serde_json::from_value(json!({ "Records": records })).unwrap_or_default()
}
