//! Lambda's Kinesis event: read from its JSON with arrival times to the millisecond, and
//! built from records for the emulator, redrive, replay, tests and benchmarks.

use aws_lambda_events::encodings::SecondTimestamp;
use aws_lambda_events::event::kinesis::{KinesisEvent, KinesisEventRecord};
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

/// [`from_json`] straight from the event's bytes, as the Lambda runtime hands them over,
/// without a `serde_json::Value` in between: each record is read once, its data decoded
/// from base64 into its own buffer, its arrival time taken to the millisecond as
/// [`from_json`] takes it. The processor's reader (docs/performance.md, "The processor").
///
/// It fills what the processor and the event archive read: `eventID`, `eventSourceARN`,
/// `awsRegion`, `invokeIdentityArn` and `kinesis`'s `partitionKey`, `sequenceNumber`,
/// `data` and `approximateArrivalTimestamp`. The fields nothing reads (`eventName`,
/// `eventSource`, `eventVersion`, `kinesisSchemaVersion`, `encryptionType`) are skipped and
/// keep their defaults. What the library refuses (a record without `kinesis`, data that
/// is not base64, a missing arrival time) is refused here too.
pub fn from_slice(bytes: &[u8]) -> Result<KinesisEvent, serde_json::Error> {
    let top: TopLevel = serde_json::from_slice(bytes)?;
    let mut event = KinesisEvent::default();
    event.records = top.records.0;
    Ok(event)
}

/// The top level of a plain Kinesis event: `Records`, the rest ignored.
#[derive(serde::Deserialize)]
struct TopLevel {
    #[serde(rename = "Records")]
    records: Records,
}

/// The `Records` array of Lambda's Kinesis event (plain or tumbling-window), read as
/// [`from_slice`] reads it: for a caller that deserializes the rest of the event itself.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Records(pub Vec<KinesisEventRecord>);

impl<'de> serde::Deserialize<'de> for Records {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Records, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Records;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an array of Kinesis records")
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Records, A::Error> {
                let mut records = Vec::with_capacity(seq.size_hint().unwrap_or(0));
                while let Some(RecordIn(record)) = seq.next_element()? {
                    records.push(record);
                }
                Ok(Records(records))
            }
        }
        deserializer.deserialize_seq(Visitor)
    }
}

/// One record of `Records`.
struct RecordIn(KinesisEventRecord);

/// The record's fields [`from_slice`] reads; `Other` is skipped.
enum Field {
    EventId,
    EventSourceArn,
    AwsRegion,
    InvokeIdentityArn,
    Kinesis,
    PartitionKey,
    SequenceNumber,
    Data,
    ApproximateArrivalTimestamp,
    Other,
}

impl<'de> serde::Deserialize<'de> for Field {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Field, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Field;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a field name")
            }

            fn visit_str<E: serde::de::Error>(self, name: &str) -> Result<Field, E> {
                Ok(match name {
                    "eventID" => Field::EventId,
                    "eventSourceARN" => Field::EventSourceArn,
                    "awsRegion" => Field::AwsRegion,
                    "invokeIdentityArn" => Field::InvokeIdentityArn,
                    "kinesis" => Field::Kinesis,
                    "partitionKey" => Field::PartitionKey,
                    "sequenceNumber" => Field::SequenceNumber,
                    "data" => Field::Data,
                    "approximateArrivalTimestamp" => Field::ApproximateArrivalTimestamp,
                    _ => Field::Other,
                })
            }
        }
        deserializer.deserialize_identifier(Visitor)
    }
}

impl<'de> serde::Deserialize<'de> for RecordIn {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<RecordIn, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = RecordIn;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a Kinesis record")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<RecordIn, A::Error> {
                let mut record = KinesisEventRecord::default();
                let mut kinesis = None;
                while let Some(field) = map.next_key::<Field>()? {
                    match field {
                        Field::EventId => record.event_id = map.next_value()?,
                        Field::EventSourceArn => record.event_source_arn = map.next_value()?,
                        Field::AwsRegion => record.aws_region = map.next_value()?,
                        Field::InvokeIdentityArn => {
                            record.invoke_identity_arn = map.next_value()?
                        }
                        Field::Kinesis => {
                            let KinesisIn(k) = map.next_value()?;
                            kinesis = Some(k);
                        }
                        _ => {
                            map.next_value::<serde::de::IgnoredAny>()?;
                        }
                    }
                }
                record.kinesis =
                    kinesis.ok_or_else(|| serde::de::Error::missing_field("kinesis"))?;
                Ok(RecordIn(record))
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

/// A record's `kinesis` object.
struct KinesisIn(aws_lambda_events::event::kinesis::KinesisRecord);

impl<'de> serde::Deserialize<'de> for KinesisIn {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<KinesisIn, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = KinesisIn;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a record's kinesis object")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<KinesisIn, A::Error> {
                use serde::de::Error;
                let mut kinesis = aws_lambda_events::event::kinesis::KinesisRecord::default();
                let (mut data, mut arrival) = (None, None);
                while let Some(field) = map.next_key::<Field>()? {
                    match field {
                        Field::PartitionKey => kinesis.partition_key = map.next_value()?,
                        Field::SequenceNumber => kinesis.sequence_number = map.next_value()?,
                        Field::Data => data = Some(map.next_value::<Base64In>()?.0),
                        Field::ApproximateArrivalTimestamp => {
                            arrival = Some(map.next_value::<SecondsIn>()?.0)
                        }
                        _ => {
                            map.next_value::<serde::de::IgnoredAny>()?;
                        }
                    }
                }
                kinesis.data.0 = data.ok_or_else(|| A::Error::missing_field("data"))?;
                let seconds = arrival
                    .ok_or_else(|| A::Error::missing_field("approximateArrivalTimestamp"))?;
                let millis = (seconds * 1000.0).round() as i64;
                let time = chrono::DateTime::from_timestamp_millis(millis)
                    .ok_or_else(|| A::Error::custom("invalid timestamp"))?;
                kinesis.approximate_arrival_timestamp = SecondTimestamp(time);
                Ok(KinesisIn(kinesis))
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

/// `data`: base64 decoded straight from the JSON's text into a buffer of its size.
struct Base64In(Vec<u8>);

impl<'de> serde::Deserialize<'de> for Base64In {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Base64In, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Base64In;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("base64 text")
            }

            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Base64In, E> {
                use base64::Engine;
                let mut data = Vec::with_capacity(base64::decoded_len_estimate(text.len()));
                base64::engine::general_purpose::STANDARD
                    .decode_vec(text, &mut data)
                    .map_err(E::custom)?;
                Ok(Base64In(data))
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

/// `approximateArrivalTimestamp`, epoch seconds: a number, or its text (as the library
/// also takes it).
struct SecondsIn(f64);

impl<'de> serde::Deserialize<'de> for SecondsIn {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<SecondsIn, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = SecondsIn;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("epoch seconds")
            }

            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<SecondsIn, E> {
                Ok(SecondsIn(v))
            }

            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<SecondsIn, E> {
                Ok(SecondsIn(v as f64))
            }

            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<SecondsIn, E> {
                Ok(SecondsIn(v as f64))
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<SecondsIn, E> {
                v.parse().map(SecondsIn).map_err(E::custom)
            }
        }
        deserializer.deserialize_any(Visitor)
    }
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

    /// The fast reader gives the processor the same records as [`from_json`]: every field
    /// it reads, arrival times to the millisecond, and the same refusals.
    #[test]
    fn from_slice_reads_what_from_json_reads() {
        let mut records: Vec<Value> = (0..30)
            .map(|i| {
                fixture::record_json(i, &format!("user-{i}"), format!("{{\"n\":{i}}}").as_bytes())
            })
            .collect();
        records[3]["kinesis"]["approximateArrivalTimestamp"] = json!(1_796_224_067.69);
        records[4]["kinesis"]["approximateArrivalTimestamp"] = json!(1_796_224_067u64);
        records[5]["kinesis"]["data"] = json!("");
        records[6]["eventID"] = Value::Null;
        records[7]["kinesis"]["data"] = json!("aGk/");
        let value = json!({ "Records": records, "other": {"x": [1, 2]} });
        let bytes = serde_json::to_vec(&value).unwrap();
        let slow = from_json(value).unwrap();
        let fast = from_slice(&bytes).unwrap();
        assert_eq!(fast.records.len(), slow.records.len());
        for (f, s) in fast.records.iter().zip(&slow.records) {
            assert_eq!(f.event_id, s.event_id);
            assert_eq!(f.event_source_arn, s.event_source_arn);
            assert_eq!(f.aws_region, s.aws_region);
            assert_eq!(f.invoke_identity_arn, s.invoke_identity_arn);
            assert_eq!(f.kinesis.partition_key, s.kinesis.partition_key);
            assert_eq!(f.kinesis.sequence_number, s.kinesis.sequence_number);
            assert_eq!(f.kinesis.data, s.kinesis.data);
            assert_eq!(
                f.kinesis.approximate_arrival_timestamp,
                s.kinesis.approximate_arrival_timestamp
            );
        }
        for broken in [
            json!({ "Records": [{ "eventID": "x" }] }),
            json!({ "Records": [{ "kinesis": { "data": "%%", "approximateArrivalTimestamp": 1.0 } }] }),
            json!({ "Records": [{ "kinesis": { "data": "eA==" } }] }),
            json!({ "Records": [{ "kinesis": { "approximateArrivalTimestamp": 1.0 } }] }),
            json!({ "records": [] }),
        ] {
            assert!(from_json(broken.clone()).is_err(), "{broken}");
            assert!(
                from_slice(&serde_json::to_vec(&broken).unwrap()).is_err(),
                "{broken}"
            );
        }
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
