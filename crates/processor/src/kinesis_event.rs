//! Kinesis events in exactly the JSON shape Lambda delivers, built from record payloads:
//! what tests, benchmarks and the local runner feed the handler.

use aws_lambda_events::encodings::SecondTimestamp;
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
    from_json(json!({ "Records": records })).unwrap_or_default()
}

/// Lambda's Kinesis event read from its JSON, each record's `approximateArrivalTimestamp`
/// to the millisecond.
///
/// aws_lambda_events reads that field by printing the number and taking the digits after
/// the point as milliseconds, so `1700000000.69` (690 ms, as JSON writes it) becomes 69 ms
/// and `1700000000.5` 5 ms: the records whose arrival millisecond ends in 0, one in ten,
/// would get an arrival time up to 0.9 s off, and with it the item key of an event without
/// a timestamp and the dead letter's arrival time. Read it here as the number it is.
pub fn from_json(value: Value) -> Result<KinesisEvent, serde_json::Error> {
    let arrivals: Vec<Option<f64>> = value
        .get("Records")
        .and_then(Value::as_array)
        .map(|records| {
            records
                .iter()
                .map(|r| r["kinesis"]["approximateArrivalTimestamp"].as_f64())
                .collect()
        })
        .unwrap_or_default();
    let mut event: KinesisEvent = serde_json::from_value(value)?;
    for (record, seconds) in event.records.iter_mut().zip(arrivals) {
        let Some(seconds) = seconds else { continue };
        let millis = (seconds * 1000.0).round() as i64;
        if let Some(time) = chrono::DateTime::from_timestamp_millis(millis) {
            record.kinesis.approximate_arrival_timestamp = SecondTimestamp(time);
        }
    }
    Ok(event)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 690 ms is written `.69` in JSON: read as 690, not as 69 (the library's reading).
    #[test]
    fn arrival_times_keep_their_milliseconds() {
        for (written, millis) in [
            (1_796_224_067.69, 1_796_224_067_690),
            (1_796_224_067.069, 1_796_224_067_069),
            (1_700_000_000.5, 1_700_000_000_500),
            (1_700_000_000.0, 1_700_000_000_000),
            (1_700_000_000.123, 1_700_000_000_123),
        ] {
            let mut record = record_json(0, "user-1", b"{}");
            record["kinesis"]["approximateArrivalTimestamp"] = json!(written);
            let event = from_json(json!({ "Records": [record] })).unwrap();
            let got = event.records[0]
                .kinesis
                .approximate_arrival_timestamp
                .timestamp_millis();
            assert_eq!(got, millis, "{written}");
        }
        // Why from_json exists: the library alone reads 690 ms as 69. When a fixed version
        // reads it right, this fails and from_json can go.
        let mut record = record_json(0, "user-1", b"{}");
        record["kinesis"]["approximateArrivalTimestamp"] = json!(1_796_224_067.69);
        let library: KinesisEvent = serde_json::from_value(json!({ "Records": [record] })).unwrap();
        assert_eq!(
            library.records[0]
                .kinesis
                .approximate_arrival_timestamp
                .timestamp_millis(),
            1_796_224_067_069
        );
    }
}
