//! Lambda's Kinesis event source mapping, played locally: read every shard of the stack's
//! stream from TRIM_HORIZON (or the mapping's AT_TIMESTAMP), drop the records its filters
//! drop, build events exactly as Lambda does, call the processor's handler in-process, and
//! apply the mapping's batching, ReportBatchItemFailures checkpointing, bisection, retry
//! and record-age limits and on-failure destination.
//!
//! [`discovery`] finds what to run from the stack, [`shards`] reads the stream,
//! [`filter`] applies the mapping's FilterCriteria as Lambda does, [`mapping`] holds the
//! delivery semantics (pure, tested without AWS), [`function`] wraps the processor and
//! [`runner`] is the poll loop; [`health`] notices a service that stopped answering. The
//! `local-runner` binary wires them.

pub mod aws;
pub mod discovery;
pub mod filter;
pub mod function;
pub mod health;
pub mod lambda_event;
pub mod mapping;
pub mod runner;
pub mod shards;
