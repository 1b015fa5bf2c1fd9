//! Dead-letter messages: one SQS message per rejected record, in the format of docs/design.md, "Dead letters",
//! so an operator can see what was wrong and where the record sits in the stream.

use base64::Engine;
use serde_json::{json, Map, Value};

/// SQS's largest message, attributes included.
pub const SQS_MAX_MESSAGE_BYTES: usize = 262_144;
/// Room kept for the `ErrorType` attribute and the JSON around the data.
const ATTRIBUTE_ALLOWANCE: usize = 1_024;

/// Where a record came from: enough to find it in the stream again.
#[derive(Debug, Clone, PartialEq)]
pub struct Origin<'a> {
    /// The Kinesis record's eventID (`shardId-…:sequence`).
    pub event_id: &'a str,
    /// The record's partition key.
    pub partition_key: &'a str,
    /// The record's sequence number.
    pub sequence_number: &'a str,
    /// For a user record of a KPL aggregate, its index in the aggregate.
    pub sub_sequence_number: Option<u64>,
    /// The record's approximate arrival time, epoch seconds as Kinesis gives it.
    pub approximate_arrival_timestamp: f64,
}

impl Origin<'_> {
    /// The shard, from the eventID's prefix (`shardId-000000000000:…`).
    pub fn shard_id(&self) -> &str {
        self.event_id
            .split_once(':')
            .map_or(self.event_id, |(shard, _)| shard)
    }
}

/// Who is writing the dead letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Writer<'a> {
    /// The function's name.
    pub function_name: &'a str,
    /// The invocation's request ID.
    pub request_id: &'a str,
    /// How often the records of this invocation have been redriven (0: first delivery).
    /// A dead letter written during a redrive says so, so the next redrive can tell a
    /// record that failed again from one that never had another chance.
    pub redrive_count: u32,
}

/// One message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// The JSON body.
    pub body: String,
    /// The `ErrorType` message attribute (and the body's `errorType`).
    pub error_type: &'static str,
}

/// Builds the message. A record too large for SQS keeps its location and says so with
/// `dataTruncated` (and its size) instead of vanishing; it can be read again from the stream
/// while the stream retains it.
pub fn build(
    origin: &Origin,
    writer: Writer,
    error: &str,
    error_type: &'static str,
    data: &[u8],
) -> DeadLetter {
    let mut body = fields(origin, writer, error, error_type);
    let encoded = base64::engine::general_purpose::STANDARD.encode(data);
    let base_len = Value::Object(body.clone()).to_string().len();
    if base_len + encoded.len() + ATTRIBUTE_ALLOWANCE <= SQS_MAX_MESSAGE_BYTES {
        body.insert("data".into(), Value::String(encoded));
    } else {
        body.insert("dataTruncated".into(), Value::Bool(true));
        body.insert("dataSize".into(), json!(data.len()));
    }
    DeadLetter {
        body: Value::Object(body).to_string(),
        error_type,
    }
}

fn fields(origin: &Origin, writer: Writer, error: &str, error_type: &str) -> Map<String, Value> {
    // A message that is mostly error text would crowd out the data; the first 4 KiB say enough.
    let error = truncate(error, 4_096);
    let mut body = Map::new();
    body.insert("error".into(), json!(error));
    body.insert("errorType".into(), json!(error_type));
    body.insert("eventId".into(), json!(origin.event_id));
    body.insert("shardId".into(), json!(origin.shard_id()));
    body.insert("partitionKey".into(), json!(origin.partition_key));
    body.insert("sequenceNumber".into(), json!(origin.sequence_number));
    if let Some(sub) = origin.sub_sequence_number {
        body.insert("subSequenceNumber".into(), json!(sub));
    }
    body.insert(
        "approximateArrivalTimestamp".into(),
        json!(origin.approximate_arrival_timestamp),
    );
    body.insert("functionName".into(), json!(writer.function_name));
    body.insert("requestId".into(), json!(writer.request_id));
    if writer.redrive_count > 0 {
        body.insert("redriveCount".into(), json!(writer.redrive_count));
    }
    body
}

fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin() -> Origin<'static> {
        Origin {
            event_id: "shardId-000000000003:4959",
            partition_key: "user-1",
            sequence_number: "4959",
            sub_sequence_number: None,
            approximate_arrival_timestamp: 1_700_000_000.5,
        }
    }

    const WRITER: Writer<'static> = Writer {
        function_name: "fn",
        request_id: "req-1",
        redrive_count: 0,
    };

    #[test]
    fn the_body_carries_every_field_of_the_contract() {
        let letter = build(&origin(), WRITER, "not JSON", "InvalidJson", b"{oops");
        let body: Value = serde_json::from_str(&letter.body).unwrap();
        for field in [
            "error",
            "errorType",
            "eventId",
            "shardId",
            "partitionKey",
            "sequenceNumber",
            "approximateArrivalTimestamp",
            "data",
            "functionName",
            "requestId",
        ] {
            assert!(body.get(field).is_some(), "missing {field}");
        }
        assert_eq!(body["shardId"], "shardId-000000000003");
        assert_eq!(body["errorType"], "InvalidJson");
        let data = base64::engine::general_purpose::STANDARD
            .decode(body["data"].as_str().unwrap())
            .unwrap();
        assert_eq!(data, b"{oops");
        assert_eq!(letter.error_type, "InvalidJson");
    }

    #[test]
    fn a_record_too_large_for_sqs_keeps_its_location() {
        let big = vec![b'x'; 300_000];
        let letter = build(&origin(), WRITER, "too large", "ItemTooLarge", &big);
        assert!(letter.body.len() < SQS_MAX_MESSAGE_BYTES);
        let body: Value = serde_json::from_str(&letter.body).unwrap();
        assert_eq!(body["dataTruncated"], true);
        assert_eq!(body["dataSize"], 300_000);
        assert_eq!(body["sequenceNumber"], "4959");
        assert!(body.get("data").is_none());
    }

    #[test]
    fn a_redriven_record_says_how_often_it_was_redriven() {
        let first: Value =
            serde_json::from_str(&build(&origin(), WRITER, "e", "MissingField", b"{}").body)
                .unwrap();
        assert!(first.get("redriveCount").is_none());
        let again = Writer {
            redrive_count: 2,
            ..WRITER
        };
        let body: Value =
            serde_json::from_str(&build(&origin(), again, "e", "MissingField", b"{}").body)
                .unwrap();
        assert_eq!(body["redriveCount"], 2);
    }

    #[test]
    fn aggregated_user_records_name_their_index() {
        let mut o = origin();
        o.sub_sequence_number = Some(7);
        let body: Value =
            serde_json::from_str(&build(&o, WRITER, "e", "MissingField", b"{}").body).unwrap();
        assert_eq!(body["subSequenceNumber"], 7);
    }

    #[test]
    fn long_errors_are_cut_at_a_character_boundary() {
        let error = "é".repeat(5_000);
        let body: Value =
            serde_json::from_str(&build(&origin(), WRITER, &error, "InvalidField", b"").body)
                .unwrap();
        assert!(body["error"].as_str().unwrap().len() <= 4_096);
    }
}
