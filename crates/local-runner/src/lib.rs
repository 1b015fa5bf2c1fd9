//! Lambda's Kinesis event source mapping, played locally: read every shard of the stack's
//! stream from TRIM_HORIZON (or the mapping's AT_TIMESTAMP), drop the records its filters
//! drop, build events exactly as Lambda does, call the processor's handler in-process, and
//! apply the mapping's batching, ReportBatchItemFailures checkpointing, bisection, retry
//! and record-age limits and on-failure destination.
//!
//! Only the emulator lives here (docs/design.md, "Layers"): the stack is read through
//! `deployed_stack`, Lambda's record formats are `kinesis_codec`'s, the SDK configuration,
//! errors and the health watch `aws_edge`'s.
//!
//! [`discovery`] decides what to run from the stack, [`shards`] reads the stream,
//! [`filter`] applies the mapping's FilterCriteria as Lambda does, [`mapping`] holds the
//! delivery semantics (pure, tested without AWS), [`function`] wraps the processor,
//! [`destination`] is the on-failure destination, [`clients`] the watched SDK clients and
//! [`runner`] the poll loop. The `local-runner` binary wires them.

pub mod clients;
pub mod destination;
pub mod discovery;
pub mod filter;
pub mod function;
pub mod mapping;
pub mod runner;
pub mod shards;
