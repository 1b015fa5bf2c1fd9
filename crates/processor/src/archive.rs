//! The event archive's object of one invocation (docs/design.md, "Event archive"): the
//! batch the function was invoked with, as the Kinesis event JSON Lambda sent, gzip-compressed,
//! under `kinesis_codec::archive::object_key` of its first and last record.
//!
//! Each record keeps its identity: the eventID Lambda gave it (with a redriven KPL user
//! record's `:n`), its sequence number, partition key, bytes and arrival time to the
//! millisecond, so a replay of the object lands every event on the item its first delivery
//! wrote. The JSON of each record is `kinesis_codec::record::record_json_with_id`'s, the one
//! place it is built, and the object reads back through `kinesis_codec::archive::decode`.
//!
//! [`Batch::of`] copies what it needs out of the event (one copy of the bytes), so the JSON
//! and the gzip, the expensive part, run on a blocking thread while the handler writes the
//! table. The JSON is written into the compressor a few records at a time: the whole
//! batch's JSON tree, or its text, never exists at once. Each record's JSON is written
//! straight from its fields, byte for byte what `record_json_with_id` builds and serializes
//! (a test holds them equal over arbitrary records): the value tree of 10,000 records costs
//! more than their gzip.

use std::io::Write;
use std::ops::Range;

use aws_lambda_events::event::kinesis::KinesisEventRecord;
use base64::Engine;
use kinesis_codec::record::{record_json_with_id, EventSource, StreamRecord};
use serde_json::Value;

/// The `Content-Type` of an archive object: gzip bytes (no `Content-Encoding`, so no client
/// unpacks them on the way; the key ends in `.json.gz`).
pub const CONTENT_TYPE: &str = "application/gzip";

/// One invocation's records, owned, with their identities.
///
/// The copy is two buffers, not five strings per record: every record's bytes back to back,
/// and every partition key, sequence number and eventID back to back.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    data: Vec<u8>,
    text: String,
    records: Vec<Entry>,
    /// The distinct sources (stream, region, role) of the records: one for every batch
    /// Lambda sends.
    sources: Vec<EventSource>,
}

/// Where one record's fields are in the batch's buffers.
#[derive(Debug, Clone, PartialEq)]
struct Entry {
    partition_key: Range<usize>,
    sequence_number: Range<usize>,
    event_id: Range<usize>,
    data: Range<usize>,
    arrival_ms: i64,
    source: usize,
}

/// One record's fields, borrowed: what its JSON is written from.
struct Fields<'a> {
    partition_key: &'a str,
    sequence_number: &'a str,
    event_id: &'a str,
    data: &'a [u8],
    arrival_ms: i64,
}

impl Batch {
    /// The batch of `records`; `None` when there are none (an empty batch writes nothing).
    ///
    /// A record without an eventID (Lambda always sends one) goes under its sequence
    /// number, as the plan keys it.
    pub fn of(records: &[KinesisEventRecord]) -> Option<Batch> {
        if records.is_empty() {
            return None;
        }
        let event_id = |r: &'_ KinesisEventRecord| -> usize {
            r.event_id
                .as_ref()
                .map_or(r.kinesis.sequence_number.len(), String::len)
        };
        let data_len = records.iter().map(|r| r.kinesis.data.0.len()).sum();
        let text_len = records
            .iter()
            .map(|r| r.kinesis.partition_key.len() + r.kinesis.sequence_number.len() + event_id(r))
            .sum();
        let mut batch = Batch {
            data: Vec::with_capacity(data_len),
            text: String::with_capacity(text_len),
            records: Vec::with_capacity(records.len()),
            sources: Vec::with_capacity(1),
        };
        for record in records {
            let source = batch.source_index(record);
            let kinesis = &record.kinesis;
            let id = record
                .event_id
                .as_deref()
                .unwrap_or(&kinesis.sequence_number);
            let entry = Entry {
                partition_key: push_text(&mut batch.text, &kinesis.partition_key),
                sequence_number: push_text(&mut batch.text, &kinesis.sequence_number),
                event_id: push_text(&mut batch.text, id),
                data: {
                    let start = batch.data.len();
                    batch.data.extend_from_slice(&kinesis.data.0);
                    start..batch.data.len()
                },
                arrival_ms: kinesis.approximate_arrival_timestamp.0.timestamp_millis(),
                source,
            };
            batch.records.push(entry);
        }
        Some(batch)
    }

    fn source_index(&mut self, record: &KinesisEventRecord) -> usize {
        fn text(value: &Option<String>) -> &str {
            value.as_deref().unwrap_or_default()
        }
        let same = |s: &EventSource| {
            s.stream_arn == text(&record.event_source_arn)
                && s.region == text(&record.aws_region)
                && s.role_arn == text(&record.invoke_identity_arn)
        };
        if let Some(index) = self.sources.iter().position(same) {
            return index;
        }
        self.sources.push(EventSource {
            stream_arn: text(&record.event_source_arn).to_owned(),
            region: text(&record.aws_region).to_owned(),
            role_arn: text(&record.invoke_identity_arn).to_owned(),
        });
        self.sources.len() - 1
    }

    fn fields(&self, entry: &Entry) -> Fields<'_> {
        Fields {
            partition_key: &self.text[entry.partition_key.clone()],
            sequence_number: &self.text[entry.sequence_number.clone()],
            event_id: &self.text[entry.event_id.clone()],
            data: &self.data[entry.data.clone()],
            arrival_ms: entry.arrival_ms,
        }
    }

    /// Records in the batch.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether it has no record (never, for a batch [`Batch::of`] made).
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Record `index` as the shard holds it (its shard from its eventID), and its eventID.
    pub fn record(&self, index: usize) -> Option<(StreamRecord, String)> {
        let fields = self.fields(self.records.get(index)?);
        let shard_id = fields
            .event_id
            .split_once(':')
            .map_or("", |(shard, _)| shard);
        let record = StreamRecord {
            shard_id: shard_id.to_owned(),
            sequence_number: fields.sequence_number.to_owned(),
            partition_key: fields.partition_key.to_owned(),
            data: fields.data.to_vec(),
            arrival_ms: fields.arrival_ms,
        };
        Some((record, fields.event_id.to_owned()))
    }

    /// The object's key: `events/YYYY/MM/DD/HH/<shardId>/<first seq>-<last seq>.json.gz` by
    /// the first record's arrival hour. The same records make the same key, so Lambda's
    /// retry of the batch finds its own object.
    pub fn key(&self) -> String {
        match (self.record(0), self.record(self.len().saturating_sub(1))) {
            (Some((first, _)), Some((last, _))) => {
                kinesis_codec::archive::object_key(&first, &last)
            }
            _ => String::new(),
        }
    }

    /// The event JSON Lambda sent (`{"Records": [...]}`), as a value (for tests and tools;
    /// [`Batch::encode`] writes the same text without it).
    pub fn event_json(&self) -> Value {
        let records: Vec<Value> = (0..self.len())
            .filter_map(|i| {
                let (record, event_id) = self.record(i)?;
                let source = &self.sources[self.records[i].source];
                Some(record_json_with_id(&record, source, &event_id))
            })
            .collect();
        serde_json::json!({ "Records": records })
    }

    /// The object's body: [`Batch::event_json`]'s text, gzip-compressed as
    /// `kinesis_codec::archive::encode` compresses it, written a few records at a time.
    pub fn encode(&self) -> Vec<u8> {
        // Room for the object at once: it comes to about half the records' bytes for JSON
        // events (their base64 and the fields around it compress to less than that).
        let mut encoder = flate2::write::GzEncoder::new(
            Vec::with_capacity(self.data.len() * 3 / 4 + 4_096),
            flate2::Compression::fast(),
        );
        let mut text = Vec::with_capacity(80 * 1024);
        text.extend_from_slice(b"{\"Records\":[");
        for (i, entry) in self.records.iter().enumerate() {
            if i > 0 {
                text.push(b',');
            }
            write_record_json(&mut text, &self.fields(entry), &self.sources[entry.source]);
            if text.len() >= 64 * 1024 {
                // Writing to a Vec cannot fail.
                let _ = encoder.write_all(&text);
                text.clear();
            }
        }
        text.extend_from_slice(b"]}");
        let _ = encoder.write_all(&text);
        encoder.finish().unwrap_or_default()
    }
}

/// Appends `text` to `buffer`; where it is.
fn push_text(buffer: &mut String, text: &str) -> Range<usize> {
    let start = buffer.len();
    buffer.push_str(text);
    start..buffer.len()
}

/// Appends `record_json_with_id` of the record `fields` describe, serialized, without
/// building it.
fn write_record_json(out: &mut Vec<u8>, fields: &Fields, source: &EventSource) {
    out.extend_from_slice(b"{\"kinesis\":{\"kinesisSchemaVersion\":\"1.0\",\"partitionKey\":");
    write_string(out, fields.partition_key);
    out.extend_from_slice(b",\"sequenceNumber\":");
    write_string(out, fields.sequence_number);
    out.extend_from_slice(b",\"data\":\"");
    let start = out.len();
    out.resize(start + base64_len(fields.data.len()), 0);
    let written = base64::engine::general_purpose::STANDARD
        .encode_slice(fields.data, &mut out[start..])
        .unwrap_or(0);
    out.truncate(start + written);
    out.extend_from_slice(b"\",\"approximateArrivalTimestamp\":");
    // The same number, printed as serde_json prints it in a value.
    let _ = serde_json::to_writer(&mut *out, &(fields.arrival_ms as f64 / 1000.0));
    out.extend_from_slice(
        b"},\"eventSource\":\"aws:kinesis\",\"eventVersion\":\"1.0\",\"eventID\":",
    );
    write_string(out, fields.event_id);
    out.extend_from_slice(b",\"eventName\":\"aws:kinesis:record\",\"invokeIdentityArn\":");
    write_string(out, &source.role_arn);
    out.extend_from_slice(b",\"awsRegion\":");
    write_string(out, &source.region);
    out.extend_from_slice(b",\"eventSourceARN\":");
    write_string(out, &source.stream_arn);
    out.push(b'}');
}

/// `text` as a JSON string, escaped as serde_json escapes it.
fn write_string(out: &mut Vec<u8>, text: &str) {
    // Serializing a string into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, text);
}

/// The length of `n` bytes in padded base64.
fn base64_len(n: usize) -> usize {
    n.div_ceil(3) * 4
}

#[cfg(test)]
mod tests {
    use super::*;
    use kinesis_codec::archive::{decode, encode};
    use kinesis_codec::event::{event_json_with_ids, fixture, from_json};
    use kinesis_codec::record::from_record_json;
    use serde_json::json;

    /// Records as Lambda sends them, with arrival times whose milliseconds JSON writes
    /// short (`.69`, `.5`) and a redriven KPL user record's `:n` eventID.
    fn lambdas_event() -> (Value, Vec<(StreamRecord, String)>) {
        let mut records: Vec<(StreamRecord, String)> = (0..5)
            .map(|i| {
                let r =
                    fixture::record(i, &format!("user-{i}"), format!("{{\"n\":{i}}}").as_bytes());
                let id = r.event_id();
                (r, id)
            })
            .collect();
        records[1].0.arrival_ms = 1_700_000_000_690;
        records[2].0.arrival_ms = 1_700_000_000_500;
        records[3].1 = format!("{}:3", records[3].1);
        records[4].0.data = vec![0xff, 0x00, 0xfe];
        let json = event_json_with_ids(
            records.iter().map(|(r, id)| (r, id.as_str())),
            &fixture::source(),
        );
        (json, records)
    }

    #[test]
    fn the_object_is_the_event_lambda_sent_and_reads_back_with_every_identity() {
        let (json, records) = lambdas_event();
        let event = from_json(json.clone()).unwrap();
        let batch = Batch::of(&event.records).unwrap();
        assert_eq!(batch.len(), 5);
        assert_eq!(batch.event_json(), json);
        let body = batch.encode();
        assert_eq!(&body[..2], &[0x1f, 0x8b], "gzip");
        let back = decode(&body).unwrap();
        assert_eq!(back, json);
        // Byte for byte the text of the value Lambda's event is.
        let mut text = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&body[..]), &mut text)
            .unwrap();
        assert_eq!(text, json.to_string());
        // The same bytes as the codec's own encoding of the whole value, once unpacked.
        assert_eq!(decode(&encode(&json)).unwrap(), back);
        let read: Vec<(StreamRecord, String)> = back["Records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| from_record_json(r).unwrap())
            .collect();
        assert_eq!(read, records);
    }

    #[test]
    fn the_key_names_the_first_records_hour_shard_and_the_range() {
        let (json, records) = lambdas_event();
        let event = from_json(json).unwrap();
        let batch = Batch::of(&event.records).unwrap();
        assert_eq!(
            batch.key(),
            kinesis_codec::archive::object_key(&records[0].0, &records[4].0)
        );
        assert!(batch
            .key()
            .starts_with("events/2023/11/14/22/shardId-000000000000/"));
        let one = Batch::of(&event.records[2..3]).unwrap();
        let seq = &records[2].0.sequence_number;
        assert!(
            one.key().ends_with(&format!("/{seq}-{seq}.json.gz")),
            "{}",
            one.key()
        );
    }

    #[test]
    fn an_empty_batch_has_no_object() {
        assert!(Batch::of(&[]).is_none());
    }

    /// Large batches cross the 64 KiB flush of the encoder; records still come back in order.
    #[test]
    fn a_large_batch_is_written_in_pieces_and_reads_back_whole() {
        let payloads: Vec<Vec<u8>> = (0..2_000)
            .map(|i| format!("{{\"i\":{i},\"pad\":\"{}\"}}", "x".repeat(i % 300)).into_bytes())
            .collect();
        let event = fixture::from_payloads(&payloads);
        let batch = Batch::of(&event.records).unwrap();
        let back = decode(&batch.encode()).unwrap();
        let records = back["Records"].as_array().unwrap();
        assert_eq!(records.len(), 2_000);
        for (i, record) in records.iter().enumerate() {
            let (r, id) = from_record_json(record).unwrap();
            assert_eq!(r.data, payloads[i]);
            assert_eq!(Some(id), event.records[i].event_id.clone());
        }
    }

    proptest::proptest! {
        /// The JSON written straight from the fields is, byte for byte, the codec's record
        /// JSON serialized: any partition key, bytes, arrival time and eventID.
        #[test]
        fn each_records_json_is_the_codecs_byte_for_byte(
            partition_key in "\\PC{0,40}",
            sequence in "[0-9]{1,60}",
            data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
            arrival_ms in -10_000_000_000_000i64..10_000_000_000_000,
            sub in proptest::option::of(0u32..100),
            region in "[a-z0-9\"\\\\-]{0,12}",
        ) {
            let record = StreamRecord {
                shard_id: "shardId-000000000001".into(),
                sequence_number: sequence.clone(),
                partition_key,
                data,
                arrival_ms,
            };
            let event_id = match sub {
                None => record.event_id(),
                Some(n) => format!("{}:{n}", record.event_id()),
            };
            let source = EventSource { region, ..fixture::source() };
            let expected = serde_json::to_vec(&record_json_with_id(&record, &source, &event_id)).unwrap();
            let fields = Fields {
                partition_key: &record.partition_key,
                sequence_number: &record.sequence_number,
                event_id: &event_id,
                data: &record.data,
                arrival_ms: record.arrival_ms,
            };
            let mut written = Vec::new();
            write_record_json(&mut written, &fields, &source);
            proptest::prop_assert_eq!(String::from_utf8(written).unwrap(), String::from_utf8(expected).unwrap());
        }
    }

    /// Lambda's batches come from one stream; should one not, each record keeps its own.
    #[test]
    fn each_record_keeps_its_own_source() {
        let (mut json, _) = lambdas_event();
        json["Records"][2]["awsRegion"] = json!("eu-west-1");
        let event = from_json(json.clone()).unwrap();
        let batch = Batch::of(&event.records).unwrap();
        assert_eq!(batch.sources.len(), 2);
        assert_eq!(decode(&batch.encode()).unwrap(), json);
    }
}
