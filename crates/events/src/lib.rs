//! The retail event contract shared by the producer and the processor.
//!
//! [`process_record`] is the processor's pure path: record bytes → UTF-8 → JSON object →
//! validated fields → enriched DynamoDB [`Item`] with the keys of DESIGN.md, or a
//! [`Rejection`] for the dead-letter queue. [`Generator`] makes realistic events for the
//! producer and the tests.

mod attr;
mod enrich;
mod event;
mod generator;
mod item;
pub mod json;
mod record;
mod time;

pub use attr::AttrValue;
pub use enrich::{engagement_level, insight, score};
pub use event::{Metadata, RetailEvent};
pub use generator::{Generator, EVENT_WEIGHTS, SESSION_MS};
pub use item::{event_key, Item, MAX_ITEM_BYTES};
pub use record::{
    process_record, RecordContext, Rejection, RejectionKind, ENRICHMENT_VERSION, MAX_TIMESTAMP_MS,
    MIN_TIMESTAMP_MS,
};
pub use time::iso8601;
