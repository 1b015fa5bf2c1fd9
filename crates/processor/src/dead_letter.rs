//! Dead-letter messages: one SQS message per rejected record, in the format of docs/design.md, "Dead letters",
//! so an operator can see what was wrong and where the record sits in the stream.
//!
//! A record too large to travel inside its letter is kept whole in the failure bucket when
//! there is one (a claim check: the letter names the object), else the letter keeps only its
//! place in the stream.

use std::borrow::Cow;

use base64::Engine;
use serde_json::{json, Map, Value};

/// SQS's largest message body, and its largest `SendMessageBatch` request: 1 MiB
/// (1,048,576 bytes) since AWS raised it from 256 KiB. The SQS API reference, SendMessage:
/// "The maximum size is 1 MiB or 1,048,576 bytes"; SendMessageBatch: "The maximum allowed
/// individual message size and the maximum total payload size (the sum of the individual
/// lengths of all of the batched messages) are both 1 MiB 1,048,576 bytes"; CreateQueue:
/// `MaximumMessageSize` "Default: 1,048,576 bytes (1 MiB)", which the stack's dead-letter
/// queue keeps (it does not set it). See also "More room to build: serverless services now
/// support payloads up to 1 MB", AWS Compute Blog, 2026-01-29.
pub const SQS_MAX_MESSAGE_BYTES: usize = 1_048_576;
/// Room kept for the `ErrorType` attribute and the JSON around the data.
const ATTRIBUTE_ALLOWANCE: usize = 1_024;

/// The `Content-Type` of a claim check's object: the record's bytes as they were.
pub const CLAIM_CHECK_CONTENT_TYPE: &str = "application/octet-stream";

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

    /// The user record's own eventID: the Kinesis record's, with `:n` for the n-th user
    /// record of a KPL aggregate (the id its item key is made of).
    pub fn user_event_id(&self) -> Cow<'_, str> {
        match self.sub_sequence_number {
            None => Cow::Borrowed(self.event_id),
            Some(sub) => Cow::Owned(format!("{}:{sub}", self.event_id)),
        }
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
    /// The object to store in the failure bucket before the letter may be sent: the letter
    /// points at it (`dataS3Bucket`, `dataS3Key`) instead of carrying the data.
    pub claim_check: Option<ClaimCheck>,
}

/// A record's bytes, kept in the failure bucket for a letter too large to carry them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimCheck {
    /// The object's key: `kinesis_codec::archive::dead_letter_key` of the user record's
    /// eventID, the same for every attempt at the same record.
    pub key: String,
    /// The record's bytes.
    pub data: Vec<u8>,
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
    build_with_claim_check(origin, writer, (error, error_type), data, None)
}

/// [`build`] with the failure bucket `claim_bucket`: a record too large for SQS is kept
/// there (the letter's [`DeadLetter::claim_check`]) and the letter says `dataTruncated`,
/// `dataS3Bucket` and `dataS3Key` instead of carrying `data`. `None` is [`build`].
pub fn build_with_claim_check(
    origin: &Origin,
    writer: Writer,
    (error, error_type): (&str, &'static str),
    data: &[u8],
    claim_bucket: Option<&str>,
) -> DeadLetter {
    let mut body = fields(origin, writer, error, error_type);
    let base_len = Value::Object(body.clone()).to_string().len();
    let mut claim_check = None;
    if fits_inline(base_len, data.len()) {
        let encoded = base64::engine::general_purpose::STANDARD.encode(data);
        body.insert("data".into(), Value::String(encoded));
    } else {
        body.insert("dataTruncated".into(), Value::Bool(true));
        body.insert("dataSize".into(), json!(data.len()));
        if let Some(bucket) = claim_bucket {
            let key = kinesis_codec::archive::dead_letter_key(&origin.user_event_id());
            body.insert("dataS3Bucket".into(), json!(bucket));
            body.insert("dataS3Key".into(), json!(key));
            claim_check = Some(ClaimCheck {
                key,
                data: data.to_vec(),
            });
        }
    }
    DeadLetter {
        body: Value::Object(body).to_string(),
        error_type,
        claim_check,
    }
}

/// Whether `data_len` bytes of data, base64-encoded, fit one SQS message beside the
/// `base_len` bytes of the letter's other fields (and its attribute).
fn fits_inline(base_len: usize, data_len: usize) -> bool {
    let encoded_len = data_len.div_ceil(3) * 4;
    base_len + encoded_len + ATTRIBUTE_ALLOWANCE <= SQS_MAX_MESSAGE_BYTES
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

    /// Past SQS's 1 MiB a record's base64 does not fit: 800,000 bytes are 1,066,668 in
    /// base64.
    const TOO_LARGE: usize = 800_000;

    #[test]
    fn a_record_too_large_for_sqs_keeps_its_location() {
        let big = vec![b'x'; TOO_LARGE];
        let letter = build(&origin(), WRITER, "too large", "ItemTooLarge", &big);
        assert!(letter.body.len() < SQS_MAX_MESSAGE_BYTES);
        let body: Value = serde_json::from_str(&letter.body).unwrap();
        assert_eq!(body["dataTruncated"], true);
        assert_eq!(body["dataSize"], TOO_LARGE);
        assert_eq!(body["sequenceNumber"], "4959");
        assert!(body.get("data").is_none());
        assert!(body.get("dataS3Key").is_none());
        assert_eq!(letter.claim_check, None);
    }

    /// SQS takes 1 MiB now (it took 256 KiB): a 300,000-byte record travels in its letter.
    #[test]
    fn a_record_under_a_mebibyte_of_base64_travels_in_its_letter() {
        let data = vec![b'x'; 300_000];
        let letter = build_with_claim_check(
            &origin(),
            WRITER,
            ("e", "ItemTooLarge"),
            &data,
            Some("failures"),
        );
        assert!(letter.body.len() <= SQS_MAX_MESSAGE_BYTES);
        let body: Value = serde_json::from_str(&letter.body).unwrap();
        assert_eq!(body["data"].as_str().map(str::len), Some(400_000));
        assert_eq!(letter.claim_check, None);
        // The largest record that still fits, and one byte more.
        let base_len = Value::Object(fields(&origin(), WRITER, "e", "ItemTooLarge"))
            .to_string()
            .len();
        let largest = (0..SQS_MAX_MESSAGE_BYTES)
            .rev()
            .find(|&n| fits_inline(base_len, n))
            .unwrap();
        let fits = build(&origin(), WRITER, "e", "ItemTooLarge", &vec![0; largest]);
        // SQS counts the body and the attribute's name, type and value.
        let attribute = "ErrorType".len() + "String".len() + "ItemTooLarge".len();
        assert!(fits.body.len() + attribute <= SQS_MAX_MESSAGE_BYTES);
        assert!(fits.body.contains("\"data\""));
        let over = build(
            &origin(),
            WRITER,
            "e",
            "ItemTooLarge",
            &vec![0; largest + 1],
        );
        assert!(over.body.contains("dataTruncated"));
    }

    #[test]
    fn with_a_failure_bucket_a_record_too_large_for_sqs_is_kept_whole_there() {
        let big: Vec<u8> = (0..TOO_LARGE).map(|i| (i % 251) as u8).collect();
        let letter = build_with_claim_check(
            &origin(),
            WRITER,
            ("too large", "ItemTooLarge"),
            &big,
            Some("retail-failures"),
        );
        let body: Value = serde_json::from_str(&letter.body).unwrap();
        assert_eq!(body["dataTruncated"], true);
        assert_eq!(body["dataS3Bucket"], "retail-failures");
        assert_eq!(body["dataS3Key"], "dead-letters/shardId-000000000003/4959");
        assert_eq!(body["dataSize"], TOO_LARGE);
        assert!(body.get("data").is_none());
        assert_eq!(body["eventId"], "shardId-000000000003:4959");
        let claim = letter.claim_check.expect("a claim check");
        assert_eq!(claim.key, "dead-letters/shardId-000000000003/4959");
        assert_eq!(claim.data, big);
    }

    /// The n-th user record of an aggregate has its own object: `.../<sequence>/<n>`.
    #[test]
    fn a_kpl_user_records_claim_check_is_keyed_by_its_own_event_id() {
        let mut o = origin();
        o.sub_sequence_number = Some(2);
        assert_eq!(o.user_event_id(), "shardId-000000000003:4959:2");
        let letter = build_with_claim_check(
            &o,
            WRITER,
            ("e", "ItemTooLarge"),
            &vec![b'x'; TOO_LARGE],
            Some("b"),
        );
        assert_eq!(
            letter.claim_check.map(|c| c.key).as_deref(),
            Some("dead-letters/shardId-000000000003/4959/2")
        );
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
