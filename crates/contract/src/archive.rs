//! The S3 layout of the failure archive and the event archive (docs/design.md, "On-failure
//! records" and "Event archive"): the prefixes the stack's lifecycle rules and policies
//! name, and the tag by which redrive marks an object handled, which the failure archive's
//! lifecycle rule alone may expire. The keys themselves are built by `kinesis_codec`.

/// Where Lambda writes the on-failure objects of the mapping's S3 destination
/// (`aws/lambda/<ESM-UUID>/<shardId>/YYYY/MM/DD/...`), in the failure bucket.
pub const ON_FAILURE_PREFIX: &str = "aws/lambda/";

/// Where the processor keeps the bytes of a dead letter too large for SQS, in the failure
/// bucket (`dead-letters/<shardId>/<sequenceNumber>[/<n>]`).
pub const DEAD_LETTER_PREFIX: &str = "dead-letters/";

/// Where the processor writes each batch it was invoked with, in the archive bucket
/// (`events/YYYY/MM/DD/HH/...`, by the first record's arrival time).
pub const EVENTS_PREFIX: &str = "events/";

/// The tag redrive sets on a failure-archive object once every record in it is handled.
pub const HANDLED_TAG_KEY: &str = "redrive";

/// The value of [`HANDLED_TAG_KEY`] on a handled object.
pub const HANDLED_TAG_VALUE: &str = "handled";
