//! Lambda's Kinesis event: read from its JSON with arrival times to the millisecond, and
//! built from records for the emulator, redrive, replay, tests and benchmarks.

use aws_lambda_events::encodings::SecondTimestamp;
use aws_lambda_events::event::kinesis::KinesisEvent;
use serde_json::{json, Value};

use crate::record::{record_json, record_json_with_id, EventSource, StreamRecord};

/// Lambda's Kinesis event read from its JSON, each record's `approximateArrivalTimestamp`
/// to the millisecond.
///
/// aws_lambda_events reads that field by printing the number and taking the digits after
/// the point as milliseconds, so `1700000000.69` (690 ms, as JSON writes it) becomes 69 ms
/// and `1700000000.5` 5 ms: the records whose arrival millisecond ends in 0, one in ten,
/// would get an arrival time up to 0.9 s off, and with it the item key of an event without
/// a timestamp and the dead letter's arrival time. Read it here as the number it is.
pub fn from_json(value: Value) -> Result<KinesisEvent, serde_json::Error> {
    let arrivals = arrival_times(&value);
    let mut event: KinesisEvent = serde_json::from_value(value)?;
    fix_arrival_times(&mut event, &arrivals);
    Ok(event)
}

/// Each record's arrival time as the number the JSON holds, in record order.
pub(crate) fn arrival_times(value: &Value) -> Vec<Option<f64>> {
    value
        .get("Records")
        .and_then(Value::as_array)
        .map(|records| {
            records
                .iter()
                .map(|r| r["kinesis"]["approximateArrivalTimestamp"].as_f64())
                .collect()
        })
        .unwrap_or_default()
}

/// Sets each record's arrival time from `arrivals` (see [`from_json`]).
pub(crate) fn fix_arrival_times(event: &mut KinesisEvent, arrivals: &[Option<f64>]) {
    for (record, seconds) in event.records.iter_mut().zip(arrivals) {
        let Some(seconds) = seconds else { continue };
        let millis = (seconds * 1000.0).round() as i64;
        if let Some(time) = chrono::DateTime::from_timestamp_millis(millis) {
            record.kinesis.approximate_arrival_timestamp = SecondTimestamp(time);
        }
    }
}

/// The event JSON Lambda would send for `records`, each under its own eventID.
pub fn event_json(records: &[StreamRecord], source: &EventSource) -> Value {
    let records: Vec<Value> = records.iter().map(|r| record_json(r, source)).collect();
    json!({ "Records": records })
}

/// The event JSON for records that keep the eventIDs they had (redrive, replay).
pub fn event_json_with_ids<'a>(
    records: impl IntoIterator<Item = (&'a StreamRecord, &'a str)>,
    source: &EventSource,
) -> Value {
    let records: Vec<Value> = records
        .into_iter()
        .map(|(record, id)| record_json_with_id(record, source, id))
        .collect();
    json!({ "Records": records })
}

/// The event Lambda would send for `records`, as the runtime deserializes it.
pub fn kinesis_event(
    records: &[StreamRecord],
    source: &EventSource,
) -> Result<KinesisEvent, serde_json::Error> {
    from_json(event_json(records, source))
}

/// Synthetic events for tests and benchmarks: record `index` of shard 0, sequence numbers
/// growing with it, arrival one millisecond apart from 2023-11-14T22:13:20Z.
pub mod fixture {
    use super::*;

    /// Record `index` with `partition_key` and `data`.
    pub fn record(index: usize, partition_key: &str, data: &[u8]) -> StreamRecord {
        StreamRecord {
            shard_id: "shardId-000000000000".into(),
            sequence_number: format!("4959{index:052}"),
            partition_key: partition_key.to_owned(),
            data: data.to_vec(),
            arrival_ms: 1_700_000_000_000 + index as i64,
        }
    }

    /// The source every fixture record shares.
    pub fn source() -> EventSource {
        EventSource {
            stream_arn: "arn:aws:kinesis:us-east-1:123456789012:stream/retail-events-dev-events"
                .into(),
            region: "us-east-1".into(),
            role_arn: "arn:aws:iam::123456789012:role/processor".into(),
        }
    }

    /// Record `index`'s JSON as Lambda sends it.
    pub fn record_json(index: usize, partition_key: &str, data: &[u8]) -> Value {
        crate::record::record_json(&record(index, partition_key, data), &source())
    }

    /// An event of these payloads, partition key `user-<i % 100>`.
    pub fn from_payloads(payloads: &[Vec<u8>]) -> KinesisEvent {
        let records: Vec<StreamRecord> = payloads
            .iter()
            .enumerate()
            .map(|(i, data)| record(i, &format!("user-{}", i % 100), data))
            .collect();
        kinesis_event(&records, &source()).unwrap_or_default()
    }
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
            let mut record = fixture::record_json(0, "user-1", b"{}");
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
        let mut record = fixture::record_json(0, "user-1", b"{}");
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

    #[test]
    fn built_events_carry_each_records_identity() {
        let records = [fixture::record(0, "a", b"x"), fixture::record(1, "b", b"y")];
        let event = kinesis_event(&records, &fixture::source()).unwrap();
        assert_eq!(event.records.len(), 2);
        assert_eq!(
            event.records[1].event_id.as_deref(),
            Some(records[1].event_id().as_str())
        );
        assert_eq!(event.records[1].kinesis.data.0, b"y");
        let kept = event_json_with_ids(
            [(&records[0], "shardId-000000000000:1:4")],
            &fixture::source(),
        );
        assert_eq!(kept["Records"][0]["eventID"], "shardId-000000000000:1:4");
    }
}
