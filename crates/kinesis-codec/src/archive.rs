//! The event archive's objects and the failure archive's claim checks (docs/design.md,
//! "Event archive").
//!
//! The processor writes every batch it is invoked with as one object: the Kinesis event
//! JSON Lambda sent (`{"Records": [...]}`, each record with its eventID, sequence number,
//! partition key, base64 data and arrival time), gzip-compressed, under
//! `events/YYYY/MM/DD/HH/<shardId>/<first sequence>-<last sequence>.json.gz` by the first
//! record's arrival time. The key follows from the batch alone, so Lambda's retry of the
//! batch overwrites the same object. Replay reads it back through [`decode`] and the same
//! record reader as an on-failure object's payload, so a replayed record keeps its identity.
//!
//! A dead letter whose record is too large for SQS keeps the record's bytes at
//! [`dead_letter_key`] in the failure bucket.

use std::io::{Read, Write};

use serde_json::Value;

use crate::record::StreamRecord;
use crate::time::utc;

/// The prefix of every event-archive object (`contract::archive::EVENTS_PREFIX`).
pub const EVENTS_PREFIX: &str = "events/";

/// The prefix of every claim check (`contract::archive::DEAD_LETTER_PREFIX`).
pub const DEAD_LETTER_PREFIX: &str = "dead-letters/";

/// Why an archived object cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// Not gzip, or cut short.
    #[error("the object is not gzip-compressed JSON: {0}")]
    Gzip(#[from] std::io::Error),
    /// Not the JSON of a Kinesis event.
    #[error("the object's JSON is not a Kinesis event: {0}")]
    Json(String),
}

/// The key of the batch whose first record is `first` and last is `last` (one shard's,
/// in order).
pub fn object_key(first: &StreamRecord, last: &StreamRecord) -> String {
    format!(
        "{}{}{}/{}-{}.json.gz",
        EVENTS_PREFIX,
        utc(first.arrival_ms).format("%Y/%m/%d/%H/"),
        first.shard_id,
        first.sequence_number,
        last.sequence_number
    )
}

/// The hour prefixes (`events/YYYY/MM/DD/HH/`) whose objects may hold records that arrived
/// in `[from_ms, to_ms)`: from the hour before `from_ms` (a batch's first record may arrive
/// up to its batching window before a later one) to the hour of `to_ms`.
pub fn hour_prefixes(from_ms: i64, to_ms: i64) -> Vec<String> {
    const HOUR_MS: i64 = 3_600_000;
    if to_ms <= from_ms {
        return Vec::new();
    }
    let first = from_ms.div_euclid(HOUR_MS) - 1;
    let last = (to_ms - 1).div_euclid(HOUR_MS);
    (first..=last)
        .map(|hour| {
            format!(
                "{EVENTS_PREFIX}{}",
                utc(hour * HOUR_MS).format("%Y/%m/%d/%H/")
            )
        })
        .collect()
}

/// The event JSON, gzip-compressed: an archive object's body.
pub fn encode(event: &Value) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(event.to_string().as_bytes());
    encoder.finish().unwrap_or_default()
}

/// An archive object's body read back: the event JSON (`{"Records": [...]}`).
pub fn decode(body: &[u8]) -> Result<Value, ArchiveError> {
    let mut text = String::new();
    flate2::read::GzDecoder::new(body).read_to_string(&mut text)?;
    let event: Value =
        serde_json::from_str(&text).map_err(|e| ArchiveError::Json(e.to_string()))?;
    if event.get("Records").and_then(Value::as_array).is_none() {
        return Err(ArchiveError::Json("no Records array".into()));
    }
    Ok(event)
}

/// Where the failure bucket keeps the bytes of the record with eventID `event_id`
/// (`shardId:sequence`, or `shardId:sequence:n` for a KPL user record):
/// `dead-letters/<shardId>/<sequence>[/<n>]`. The same record always gets the same key, so
/// a retried invocation overwrites its own claim check.
pub fn dead_letter_key(event_id: &str) -> String {
    format!("{DEAD_LETTER_PREFIX}{}", event_id.replace(':', "/"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{event_json, fixture};

    #[test]
    fn a_batch_is_keyed_by_its_first_arrival_shard_and_range() {
        let first = fixture::record(0, "k", b"{}");
        let last = fixture::record(9, "k", b"{}");
        assert_eq!(
            object_key(&first, &last),
            format!(
                "events/2023/11/14/22/shardId-000000000000/{}-{}.json.gz",
                first.sequence_number, last.sequence_number
            )
        );
    }

    #[test]
    fn an_encoded_batch_decodes_to_the_same_records() {
        let records: Vec<_> = (0..50)
            .map(|i| fixture::record(i, "k", b"{\"a\":1}"))
            .collect();
        let event = event_json(&records, &fixture::source());
        let body = encode(&event);
        assert!(
            body.len() < event.to_string().len() / 3,
            "compressed: {}",
            body.len()
        );
        assert_eq!(decode(&body).unwrap(), event);
        assert!(matches!(decode(b"plain"), Err(ArchiveError::Gzip(_))));
        let not_event = encode(&serde_json::json!({"records": []}));
        assert!(matches!(decode(&not_event), Err(ArchiveError::Json(_))));
    }

    #[test]
    fn the_hours_of_a_range_start_one_early() {
        // 2023-11-14T22:13:20Z to 23:00:00Z.
        assert_eq!(
            hour_prefixes(1_700_000_000_000, 1_700_002_800_000),
            ["events/2023/11/14/21/", "events/2023/11/14/22/"]
        );
        assert!(hour_prefixes(5, 5).is_empty());
    }

    #[test]
    fn claim_checks_are_keyed_by_the_records_identity() {
        assert_eq!(
            dead_letter_key("shardId-000000000001:4960:3"),
            "dead-letters/shardId-000000000001/4960/3"
        );
    }
}
