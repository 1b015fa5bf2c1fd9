//! The event archive, read back (docs/design.md, "Event archive"): the processor writes
//! every batch it is invoked with as one gzip object,
//! `events/YYYY/MM/DD/HH/<shardId>/<firstSequence>-<lastSequence>.json.gz` by its first
//! record's arrival hour, holding the batch as Lambda's event JSON, each record with its
//! eventID and arrival time. A window's records are in the objects of its hours and of the
//! hour before (`kinesis_codec::archive::hour_prefixes`); within an hour they are replayed
//! shard by shard in sequence order ([`order`]).
//!
//! A batch Lambda retried from a record, or split in two, was archived once per attempt, so
//! objects overlap: [`Seen`] remembers the records already replayed so each is sent once.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

use deployed_stack::stream::compare_sequence;
use kinesis_codec::archive::decode;
use reprocess::{records_of_event, Identified};

/// The records of an archive object's body (gzip of the event JSON), each under the
/// eventID it carries.
pub fn records_of(body: &[u8]) -> Result<Vec<Identified>, String> {
    let event = decode(body).map_err(|e| e.to_string())?;
    records_of_event(&event)
}

/// The shard and first sequence number an object's key names
/// (`.../<shardId>/<first>-<last>.json.gz`); `None` for a key of another shape.
pub fn key_parts(key: &str) -> Option<(&str, &str)> {
    let name = key.strip_suffix(".json.gz")?;
    let (rest, range) = name.rsplit_once('/')?;
    let shard = rest.rsplit('/').next()?;
    let (first, _) = range.split_once('-')?;
    Some((shard, first))
}

/// Sorts one hour's keys into replay order: by shard, then by first sequence number (as a
/// number); keys of another shape last, by name.
pub fn order(keys: &mut [String]) {
    keys.sort_by(|a, b| match (key_parts(a), key_parts(b)) {
        (Some((shard_a, first_a)), Some((shard_b, first_b))) => shard_a
            .cmp(shard_b)
            .then_with(|| compare_sequence(first_a, first_b)),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => a.cmp(b),
    });
}

/// The Kinesis records replayed lately, by shard and sequence number, kept for the current
/// and the previous hour of objects: the objects holding a record are its own hour's and at
/// most the one before (a batch is keyed by its first record's arrival), so a record sent
/// once is not sent again, with memory bounded by two hours of records. It only ever skips
/// a record it has seen.
#[derive(Debug, Default)]
pub struct Seen {
    shards: HashMap<String, u32>,
    current: HashSet<SeenKey>,
    previous: HashSet<SeenKey>,
}

/// A record as [`Seen`] keeps it: its shard's number in the run, its sequence number split
/// into two halves of at most 38 digits (a Kinesis sequence number has 56), and the `n` of
/// an eventID `shardId:sequence:n` (a KPL user record archived alone, as a redriven or
/// replayed one is), `u64::MAX` for a whole record.
type SeenKey = (u32, u128, u128, u64);

/// A decimal sequence number of up to 76 digits as two exact halves; `None` otherwise.
fn halves(sequence: &str) -> Option<(u128, u128)> {
    let digits = sequence.trim_start_matches('0');
    if !digits.bytes().all(|b| b.is_ascii_digit()) || digits.len() > 76 {
        return None;
    }
    let split = digits.len().saturating_sub(38);
    let high = if split == 0 {
        0
    } else {
        digits[..split].parse().ok()?
    };
    let low = if digits.len() == split {
        0
    } else {
        digits[split..].parse().ok()?
    };
    Some((high, low))
}

impl Seen {
    /// Moves on to the next hour's objects: what was seen two hours ago is forgotten.
    pub fn next_hour(&mut self) {
        self.previous = std::mem::take(&mut self.current);
    }

    /// Whether `record` (a whole Kinesis record) was seen before; remembers it.
    pub fn again(&mut self, record: &Identified) -> bool {
        let Some((high, low)) = halves(&record.record.sequence_number) else {
            // Not a Kinesis sequence number: nothing to recognise it by.
            return false;
        };
        let next = self.shards.len() as u32;
        let shard = *self
            .shards
            .entry(record.record.shard_id.clone())
            .or_insert(next);
        let mut parts = record.event_id.splitn(3, ':');
        let sub = match (parts.next(), parts.next(), parts.next()) {
            (_, _, Some(n)) => match n.parse() {
                Ok(n) => n,
                Err(_) => return false,
            },
            _ => u64::MAX,
        };
        let key = (shard, high, low, sub);
        self.previous.contains(&key) || !self.current.insert(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kinesis_codec::archive::{encode, object_key};
    use kinesis_codec::event::{event_json, fixture};

    #[test]
    fn an_archive_object_gives_back_its_records_with_their_ids() {
        let records: Vec<_> = (0..3).map(|i| fixture::record(i, "k", b"{}")).collect();
        let body = encode(&event_json(&records, &fixture::source()));
        let back = records_of(&body).unwrap();
        assert_eq!(back.len(), 3);
        assert_eq!(back[1].record, records[1]);
        assert_eq!(back[1].event_id, records[1].event_id());
        assert!(records_of(b"plain").unwrap_err().contains("gzip"));
    }

    #[test]
    fn keys_sort_by_shard_then_sequence_as_a_number() {
        let key = |shard: &str, first: &str| {
            format!("events/2026/11/25/00/{shard}/{first}-999999.json.gz")
        };
        let mut keys = vec![
            key("shardId-000000000001", "5"),
            "events/2026/11/25/00/stray.txt".to_owned(),
            key("shardId-000000000000", "10"),
            key("shardId-000000000000", "9"),
        ];
        order(&mut keys);
        assert_eq!(
            keys,
            [
                key("shardId-000000000000", "9"),
                key("shardId-000000000000", "10"),
                key("shardId-000000000001", "5"),
                "events/2026/11/25/00/stray.txt".to_owned(),
            ]
        );
        let (first, last) = (fixture::record(0, "k", b""), fixture::record(9, "k", b""));
        assert_eq!(
            key_parts(&object_key(&first, &last)),
            Some(("shardId-000000000000", first.sequence_number.as_str()))
        );
    }

    #[test]
    fn sequence_numbers_split_exactly() {
        let long = "49590338271490256608559692538361571095921575989136588898";
        let (high, low) = halves(long).unwrap();
        assert_eq!(format!("{high}{low:038}"), long);
        assert_eq!(halves("0007"), Some((0, 7)));
        assert_eq!(halves("0"), Some((0, 0)));
        assert_eq!(halves("12x"), None);
        assert_eq!(halves(&"9".repeat(77)), None);
        assert_ne!(halves("10"), halves("100"));
    }

    #[test]
    fn a_record_is_recognised_for_two_hours_of_objects() {
        let record = Identified::whole(fixture::record(1, "k", b"{}"));
        let other_shard = Identified {
            record: kinesis_codec::record::StreamRecord {
                shard_id: "shardId-000000000001".into(),
                ..record.record.clone()
            },
            event_id: "shardId-000000000001:1".into(),
        };
        let mut seen = Seen::default();
        assert!(!seen.again(&record));
        assert!(seen.again(&record));
        assert!(!seen.again(&other_shard), "another shard's record");
        let user = |n: u32| Identified {
            event_id: format!("{}:{n}", record.event_id),
            ..record.clone()
        };
        assert!(
            !seen.again(&user(0)),
            "a user record alone is not the whole record"
        );
        assert!(!seen.again(&user(1)), "nor another user record");
        assert!(seen.again(&user(1)));
        seen.next_hour();
        assert!(seen.again(&record), "the previous hour's");
        seen.next_hour();
        seen.next_hour();
        assert!(!seen.again(&record), "forgotten after two hours");
    }
}
