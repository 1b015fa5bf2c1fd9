//! One Kinesis record as a shard holds it, and its JSON in Lambda's Kinesis event: base64
//! data, `eventID` = `shardId:sequenceNumber`, arrival time in epoch seconds with the
//! milliseconds as the fraction. [`record_json_with_id`] is the one place that JSON is built.

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

impl StreamRecord {
    /// Its eventID as Lambda gives it: `shardId:sequenceNumber`.
    pub fn event_id(&self) -> String {
        format!("{}:{}", self.shard_id, self.sequence_number)
    }
}

/// What every record of an event shares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventSource {
    /// The stream's ARN (`eventSourceARN`).
    pub stream_arn: String,
    /// The region (`awsRegion`).
    pub region: String,
    /// The function's execution role (`invokeIdentityArn`).
    pub role_arn: String,
}

/// The record's JSON in Lambda's Kinesis event, under its own eventID.
pub fn record_json(record: &StreamRecord, source: &EventSource) -> Value {
    record_json_with_id(record, source, &record.event_id())
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

/// The record a record JSON of Lambda's event stands for, and the eventID it carries: the
/// way back from [`record_json_with_id`], for records read from an on-failure object's
/// payload. `None` names the field that is missing or malformed.
pub fn from_record_json(value: &Value) -> Result<(StreamRecord, String), String> {
    let kinesis = value
        .get("kinesis")
        .ok_or("the record has no kinesis object")?;
    let text = |object: &Value, field: &str| {
        object
            .get(field)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| format!("{field} is missing or not a string"))
    };
    let sequence_number = text(kinesis, "sequenceNumber")?;
    let event_id = text(value, "eventID")?;
    let data = base64::engine::general_purpose::STANDARD
        .decode(text(kinesis, "data")?)
        .map_err(|e| format!("data is not base64 ({e})"))?;
    let arrival = kinesis
        .get("approximateArrivalTimestamp")
        .and_then(Value::as_f64)
        .ok_or("approximateArrivalTimestamp is missing or not a number")?;
    let shard_id = event_id
        .split_once(':')
        .map(|(shard, _)| shard.to_owned())
        .ok_or_else(|| format!("eventID {event_id:?} is not shardId:sequenceNumber"))?;
    let record = StreamRecord {
        shard_id,
        sequence_number,
        partition_key: text(kinesis, "partitionKey").unwrap_or_default(),
        data,
        arrival_ms: (arrival * 1000.0).round() as i64,
    };
    Ok((record, event_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample() -> (StreamRecord, EventSource) {
        let record = StreamRecord {
            shard_id: "shardId-000000000002".into(),
            sequence_number: "4960".into(),
            partition_key: "user-1".into(),
            data: b"{\"a\":1}".to_vec(),
            arrival_ms: 1_700_000_000_690,
        };
        let source = EventSource {
            stream_arn: "arn:aws:kinesis:us-east-1:123456789012:stream/s".into(),
            region: "us-east-1".into(),
            role_arn: "arn:aws:iam::123456789012:role/r".into(),
        };
        (record, source)
    }

    #[test]
    fn a_record_carries_lambdas_fields() {
        let (record, source) = sample();
        let json = record_json(&record, &source);
        assert_eq!(json["eventID"], "shardId-000000000002:4960");
        assert_eq!(json["kinesis"]["data"], "eyJhIjoxfQ==");
        assert_eq!(
            json["kinesis"]["approximateArrivalTimestamp"],
            1_700_000_000.69
        );
        assert_eq!(json["eventSourceARN"], source.stream_arn.as_str());
    }

    #[test]
    fn a_record_json_reads_back_with_its_id() {
        let (record, source) = sample();
        let json = record_json_with_id(&record, &source, "shardId-000000000002:4960:3");
        let (back, id) = from_record_json(&json).unwrap();
        assert_eq!(back, record);
        assert_eq!(id, "shardId-000000000002:4960:3");
        let mut broken = json.clone();
        broken["kinesis"]["data"] = "%%".into();
        assert!(from_record_json(&broken)
            .unwrap_err()
            .starts_with("data is not base64"));
        broken["eventID"] = Value::Null;
        assert_eq!(
            from_record_json(&broken).unwrap_err(),
            "eventID is missing or not a string"
        );
    }
}
