//! The retail event contract shared by the producer and the processor.
//!
//! - [`process_record`] is the processor's pure path: record bytes → UTF-8 → JSON object →
//!   validated fields → an [`Item`] keyed as docs/design.md, "Table items", says (`userId`, `eventKey`) and
//!   enriched as the recipe's Lambda does ([`score`], [`engagement_level`], [`insight`]),
//!   or a [`Rejection`] for the dead-letter queue. The item keeps the record's text and
//!   reads its values in place ([`AttrRef`]), so a record costs two allocations, not one
//!   per string.
//! - [`Generator`] makes the recipe's realistic [`RetailEvent`]s, deterministically for a
//!   seed, for the producer and for tests.
//!
//! Nothing here talks to AWS or reads a clock: the processor passes the time in
//! [`RecordContext`] and converts an item's values ([`AttrRef`]) to its SDK's type at the
//! edge.

mod attr;
mod enrich;
mod event;
mod generator;
mod item;
pub mod json;
mod record;
mod rejection;
mod tape;
mod validate;

pub use attr::AttrValue;
pub use enrich::{action, engagement_level, insight, score};
pub use event::{Metadata, RetailEvent};
pub use generator::{uuid, Generator, EVENT_WEIGHTS, PRODUCTS, SESSION_MS, USERS};
pub use item::{event_key, expires_at, Item, ITEM_ATTRIBUTES, MAX_ITEM_BYTES};
pub use record::{process_record, process_record_with_ttl, RecordContext, ENRICHMENT_VERSION};
pub use rejection::{Rejection, RejectionKind};
pub use tape::{AttrRef, ListRef, MapRef};
pub use validate::{
    MAX_EVENT_ID_BYTES, MAX_PARTITION_KEY_BYTES, MAX_TIMESTAMP_MS, MIN_TIMESTAMP_MS,
};
