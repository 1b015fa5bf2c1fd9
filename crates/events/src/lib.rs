//! The retail event contract shared by the producer and the processor.
//!
//! - [`process_record`] is the processor's pure path: record bytes → UTF-8 → JSON object →
//!   validated fields → an [`Item`] keyed as DESIGN.md says (`userId`, `eventKey`) and
//!   enriched as the recipe's Lambda does ([`score`], [`engagement_level`], [`insight`]),
//!   or a [`Rejection`] for the dead-letter queue. [`process_record_ref`] is the same path
//!   producing an [`ItemRef`] that borrows from the record's bytes: the same item without
//!   ~40 small allocations, for a caller that converts attributes to its SDK's values at once.
//! - [`Generator`] makes the recipe's realistic [`RetailEvent`]s, deterministically for a
//!   seed, for the producer and for tests.
//!
//! Nothing here talks to AWS or reads a clock: the processor passes the time in
//! [`RecordContext`] and converts [`AttrValue`]s to its SDK's type at the edge.

mod attr;
mod enrich;
mod event;
mod generator;
mod item;
pub mod json;
mod record;
mod rejection;
mod validate;

pub use attr::{AttrRef, AttrValue};
pub use enrich::{action, engagement_level, insight, score};
pub use event::{Metadata, RetailEvent};
pub use generator::{Generator, EVENT_WEIGHTS, SESSION_MS};
pub use item::{event_key, Item, ItemRef, MAX_ITEM_BYTES};
pub use record::{process_record, process_record_ref, RecordContext, ENRICHMENT_VERSION};
pub use rejection::{Rejection, RejectionKind};
pub use validate::{
    MAX_EVENT_ID_BYTES, MAX_PARTITION_KEY_BYTES, MAX_TIMESTAMP_MS, MIN_TIMESTAMP_MS,
};
