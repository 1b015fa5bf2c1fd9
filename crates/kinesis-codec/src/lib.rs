//! Kinesis records in every shape the pipeline reads or writes, written once (docs/design.md,
//! "Record identity" and "On-failure records"). Pure functions over bytes and JSON: no AWS
//! SDK and no async runtime, so the processor, the emulator, redrive, replay and the producer
//! share one reading of each format.
//!
//! - [`kpl`]: the Kinesis Producer Library's aggregate records, packed and unpacked.
//! - [`record`]: one record as a shard holds it ([`record::StreamRecord`]) and its JSON in
//!   Lambda's Kinesis event, built by one function.
//! - [`event`]: Lambda's Kinesis event read from its JSON, arrival times to the millisecond.
//! - [`on_failure`]: the event source mapping's on-failure record (SQS) and object (S3, with
//!   the invocation's payload), and the S3 object's key.
//! - [`window`]: the tumbling-window event and the response that carries the state on.
//! - [`archive`]: the event archive's objects and the failure archive's claim checks.
//! - [`time`]: epoch milliseconds as the ISO 8601 text Lambda writes.

pub mod archive;
pub mod event;
pub mod kpl;
pub mod on_failure;
pub mod payload;
pub mod record;
pub mod time;
pub mod window;
