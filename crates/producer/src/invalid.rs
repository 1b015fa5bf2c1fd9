//! Deliberately bad records, so a run exercises the dead-letter path: each kind breaks one
//! rule of the event contract (docs/design.md, "Invalid records") in the way real producers do.

use events::RetailEvent;

/// How a record is broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvalidKind {
    /// Bytes that are not JSON: a cut-off event, as a crashed producer leaves it.
    NotJson,
    /// A JSON event without `userId`.
    MissingField,
    /// `timestamp` as a date string instead of epoch milliseconds.
    WrongType,
    /// A valid event padded to more than DynamoDB's 400 KB item limit (but under Kinesis's
    /// 1 MiB record limit, so the stream accepts it).
    Oversized,
}

impl InvalidKind {
    /// Every kind, in the order they take turns.
    pub const ALL: [InvalidKind; 4] = [
        InvalidKind::NotJson,
        InvalidKind::MissingField,
        InvalidKind::WrongType,
        InvalidKind::Oversized,
    ];

    /// The kind's name in summaries.
    pub fn as_str(self) -> &'static str {
        match self {
            InvalidKind::NotJson => "not-json",
            InvalidKind::MissingField => "missing-field",
            InvalidKind::WrongType => "wrong-type",
            InvalidKind::Oversized => "oversized",
        }
    }

    /// `event` broken this way, as record bytes.
    pub fn corrupt(self, event: &RetailEvent) -> Vec<u8> {
        let json = to_object(event);
        match self {
            InvalidKind::NotJson => {
                let text = serde_json::Value::Object(json).to_string();
                text.as_bytes()[..text.len() / 2].to_vec()
            }
            InvalidKind::MissingField => {
                let mut json = json;
                json.remove("userId");
                serde_json::Value::Object(json).to_string().into_bytes()
            }
            InvalidKind::WrongType => {
                let mut json = json;
                json.insert("timestamp".into(), "2024-01-15 10:30:00".into());
                serde_json::Value::Object(json).to_string().into_bytes()
            }
            InvalidKind::Oversized => {
                let mut json = json;
                json.insert("notes".into(), "x".repeat(OVERSIZED_PADDING).into());
                serde_json::Value::Object(json).to_string().into_bytes()
            }
        }
    }
}

/// Padding of an oversized event: over DynamoDB's 400 KB item limit once stored (the item
/// keeps the original event), under Kinesis's 1 MiB record limit.
pub const OVERSIZED_PADDING: usize = 420 * 1024;

fn to_object(event: &RetailEvent) -> serde_json::Map<String, serde_json::Value> {
    match serde_json::to_value(event) {
        Ok(serde_json::Value::Object(map)) => map,
        // A RetailEvent is a struct of plain fields: it always serializes to an object.
        _ => serde_json::Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use events::{Generator, RecordContext, RejectionKind};

    fn processed(bytes: &[u8]) -> Result<(), RejectionKind> {
        let ctx = RecordContext {
            event_id: "shardId-000000000000:1",
            arrival_ms: 1_700_000_000_000,
            processed_at_ms: 1_700_000_000_500,
        };
        events::process_record(bytes, &ctx)
            .map(|_| ())
            .map_err(|r| r.kind)
    }

    #[test]
    fn every_kind_is_rejected_by_the_processor_for_its_own_reason() {
        let event = Generator::new(1).next_event(1_700_000_000_000);
        assert_eq!(processed(&serde_json::to_vec(&event).unwrap()), Ok(()));
        let reasons: Vec<String> = InvalidKind::ALL
            .iter()
            .map(|kind| {
                processed(&kind.corrupt(&event))
                    .expect_err(kind.as_str())
                    .as_str()
                    .to_owned()
            })
            .collect();
        let mut distinct = reasons.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(
            distinct.len(),
            4,
            "each kind fails differently: {reasons:?}"
        );
    }

    #[test]
    fn oversized_records_still_fit_a_kinesis_record() {
        let event = Generator::new(2).next_event(1_700_000_000_000);
        let bytes = InvalidKind::Oversized.corrupt(&event);
        assert!(bytes.len() > 400 * 1024 && bytes.len() < 1024 * 1024);
    }
}
