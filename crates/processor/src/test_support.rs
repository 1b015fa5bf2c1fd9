//! What the crate's unit tests share.

use events::{Item, RecordContext};

/// The item the processor makes of the event `json`, which must be valid.
pub(crate) fn item(json: &str) -> Item {
    let ctx = RecordContext {
        event_id: "shardId-000000000000:1",
        arrival_ms: 1_700_000_000_000,
        processed_at_ms: 1_700_000_000_000,
    };
    events::process_record(json.as_bytes(), &ctx).expect("a valid event")
}
