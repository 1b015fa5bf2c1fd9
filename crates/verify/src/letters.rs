//! Recognising verify's own messages in the dead-letter queue, which may hold any number of
//! other messages (real dead letters, on-failure records) that verify must leave alone.
//!
//! A processor dead letter (`crates/processor/src/dead_letter.rs`) names the record's
//! `partitionKey`, `shardId` and `sequenceNumber`: it is verify's when the partition key is
//! the run's mark and the position is one verify's records landed on. An event source
//! mapping's on-failure record (`KinesisBatchInfo`) names a shard and a sequence range: it
//! concerns verify when the range covers some of its records, which the mapping then gave
//! up on. Anything else is not verify's.

use std::cmp::Ordering;
use std::collections::HashMap;

use serde_json::Value;

use crate::send::Sent;

/// What verify looks for: its records by position in the stream.
#[derive(Debug, Clone)]
pub struct Wanted {
    marker: String,
    /// (shard, sequence number) → index into [`Sent::records`].
    positions: HashMap<(String, String), usize>,
}

impl Wanted {
    /// The records of `sent`.
    pub fn new(sent: &Sent) -> Wanted {
        Wanted {
            marker: sent.run_id.marker(),
            positions: sent
                .records
                .iter()
                .enumerate()
                .map(|(i, r)| ((r.shard_id.clone(), r.sequence_number.clone()), i))
                .collect(),
        }
    }
}

/// One message of the queue, as verify sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Letter {
    /// The processor's dead letter of a record verify sent.
    Record {
        /// Index into [`Sent::records`].
        index: usize,
        /// Its `errorType`.
        error_type: String,
        /// Its `error`.
        error: String,
    },
    /// The event source mapping gave up on a range of the stream holding records verify
    /// sent.
    GaveUp {
        /// The shard.
        shard_id: String,
        /// The range's first sequence number.
        start: String,
        /// The range's last sequence number.
        end: String,
        /// Indexes into [`Sent::records`] of verify's records in the range.
        indexes: Vec<usize>,
    },
    /// Not verify's.
    Other,
}

/// What the message `body` is to verify.
pub fn classify(body: &str, wanted: &Wanted) -> Letter {
    let Ok(Value::Object(json)) = serde_json::from_str::<Value>(body) else {
        return Letter::Other;
    };
    if let Some(info) = json.get("KinesisBatchInfo") {
        return gave_up(
            text(info.get("shardId")),
            text(info.get("startSequenceNumber")),
            text(info.get("endSequenceNumber")),
            wanted,
        );
    }
    if text(json.get("partitionKey")) != wanted.marker {
        return Letter::Other;
    }
    let sequence = text(json.get("sequenceNumber"));
    let shard = match text(json.get("shardId")) {
        "" => text(json.get("eventId"))
            .split_once(':')
            .map_or("", |(shard, _)| shard),
        shard => shard,
    };
    match wanted
        .positions
        .get(&(shard.to_owned(), sequence.to_owned()))
    {
        Some(&index) => Letter::Record {
            index,
            error_type: text(json.get("errorType")).to_owned(),
            error: text(json.get("error")).to_owned(),
        },
        None => Letter::Other,
    }
}

/// A field's text; empty when it is missing or not a string.
fn text(value: Option<&Value>) -> &str {
    value.and_then(Value::as_str).unwrap_or_default()
}

fn gave_up(shard: &str, start: &str, end: &str, wanted: &Wanted) -> Letter {
    let mut indexes: Vec<usize> = wanted
        .positions
        .iter()
        .filter(|((s, sequence), _)| {
            s == shard
                && compare_sequences(start, sequence) != Ordering::Greater
                && compare_sequences(sequence, end) != Ordering::Greater
        })
        .map(|(_, &index)| index)
        .collect();
    if indexes.is_empty() {
        return Letter::Other;
    }
    indexes.sort_unstable();
    Letter::GaveUp {
        shard_id: shard.to_owned(),
        start: start.to_owned(),
        end: end.to_owned(),
        indexes,
    }
}

/// Kinesis sequence numbers are decimal integers too large for u128 at times: compared by
/// length, then digit by digit.
pub fn compare_sequences(a: &str, b: &str) -> Ordering {
    let a = a.trim_start_matches('0');
    let b = b.trim_start_matches('0');
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::batch::{Expect, RunId};
    use crate::send::SentRecord;
    use producer::invalid::InvalidKind;

    const SHARD: &str = "shardId-000000000000";

    fn sent() -> Sent {
        let record = |i: usize, sequence: &str, expect: Expect| SentRecord {
            event_id: format!("e{i}"),
            timestamp_ms: 1,
            expect,
            shard_id: SHARD.into(),
            sequence_number: sequence.into(),
        };
        Sent {
            run_id: RunId::from_parts(0, 0xabcd),
            stream_name: "s".into(),
            started_ms: 1,
            records: vec![
                record(
                    0,
                    "49650",
                    Expect::Stored {
                        event_key: "k0".into(),
                    },
                ),
                record(1, "49660", Expect::DeadLettered(InvalidKind::NotJson)),
                record(
                    2,
                    "49670",
                    Expect::Stored {
                        event_key: "k2".into(),
                    },
                ),
            ],
        }
    }

    fn letter(partition_key: &str, sequence: &str) -> String {
        json!({
            "error": "record is not JSON", "errorType": "InvalidJson",
            "eventId": format!("{SHARD}:{sequence}"), "shardId": SHARD,
            "partitionKey": partition_key, "sequenceNumber": sequence,
            "approximateArrivalTimestamp": 1.5, "data": "e29vcHM=",
            "functionName": "f", "requestId": "r"
        })
        .to_string()
    }

    #[test]
    fn a_dead_letter_of_a_sent_record_is_recognised_by_mark_and_position() {
        let wanted = Wanted::new(&sent());
        let marker = "verify-19700101T000000Z-abcd";
        assert_eq!(
            classify(&letter(marker, "49660"), &wanted),
            Letter::Record {
                index: 1,
                error_type: "InvalidJson".into(),
                error: "record is not JSON".into()
            }
        );
        // A valid record dead-lettered is verify's too: the report says it was misplaced.
        assert!(matches!(
            classify(&letter(marker, "49650"), &wanted),
            Letter::Record { index: 0, .. }
        ));
    }

    #[test]
    fn other_traffic_is_not_verifys() {
        let wanted = Wanted::new(&sent());
        for body in [
            letter("user-1", "49660"),
            letter("verify-19700101T000000Z-abcd", "12345"),
            letter("verify-19700101T000000Z-0000", "49660"),
            "not json".to_owned(),
            "[1, 2]".to_owned(),
            json!({"partitionKey": "verify-19700101T000000Z-abcd"}).to_string(),
        ] {
            assert_eq!(classify(&body, &wanted), Letter::Other, "{body}");
        }
    }

    #[test]
    fn the_shard_may_come_from_the_event_id() {
        let mut body: Value =
            serde_json::from_str(&letter("verify-19700101T000000Z-abcd", "49670")).unwrap();
        body.as_object_mut().unwrap().remove("shardId");
        assert!(matches!(
            classify(&body.to_string(), &Wanted::new(&sent())),
            Letter::Record { index: 2, .. }
        ));
    }

    #[test]
    fn an_on_failure_record_over_sent_records_names_them() {
        let body = |start: &str, end: &str| {
            json!({
                "requestContext": {"condition": "RetryAttemptsExhausted"},
                "KinesisBatchInfo": {"shardId": SHARD, "startSequenceNumber": start,
                                     "endSequenceNumber": end, "batchSize": 2}
            })
            .to_string()
        };
        let wanted = Wanted::new(&sent());
        assert_eq!(
            classify(&body("49655", "49670"), &wanted),
            Letter::GaveUp {
                shard_id: SHARD.into(),
                start: "49655".into(),
                end: "49670".into(),
                indexes: vec![1, 2]
            }
        );
        assert_eq!(classify(&body("1", "49649"), &wanted), Letter::Other);
    }

    #[test]
    fn sequence_numbers_compare_as_numbers() {
        let long = "49654796515237593853024816158364672906913428327393951746";
        assert_eq!(compare_sequences("9", "10"), Ordering::Less);
        assert_eq!(compare_sequences(long, "9"), Ordering::Greater);
        assert_eq!(compare_sequences("010", "10"), Ordering::Equal);
    }
}
