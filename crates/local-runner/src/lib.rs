//! Lambda's Kinesis event source mapping, played locally: read every shard of the stack's
//! stream from TRIM_HORIZON (or the mapping's AT_TIMESTAMP), drop the records its filters
//! drop, build events exactly as Lambda does, call the processor's handler in-process, and
//! apply the mapping's batching, ReportBatchItemFailures checkpointing, bisection, retry
//! and record-age limits and on-failure destination, and its tumbling windows
//! (`TumblingWindowInSeconds`: per-shard state carried between invocations, early
//! termination past 1 MB, a final invocation at each window's end).
//!
//! For tests, [`mapping::Faults`] (`--fail-invocation N`, `--redeliver-invocation N`) turn
//! chosen invocations into function errors after the function ran, or deliver their records
//! once more, as Lambda may.
//!
//! Only the emulator lives here (docs/design.md, "Layers"): the stack is read through
//! `deployed_stack`, Lambda's record formats are `kinesis_codec`'s, the SDK configuration,
//! errors and the health watch `aws_edge`'s.
//!
//! [`discovery`] decides what to run from the stack, [`shards`] reads the stream,
//! [`filter`] applies the mapping's FilterCriteria as Lambda does, [`mapping`] holds the
//! delivery semantics (pure, tested without AWS), [`window`] each shard's open tumbling
//! window and when it ends (pure too), [`function`] wraps the processor,
//! [`destination`] is the on-failure destination, [`clients`] the watched SDK clients,
//! [`metrics`] the mapping's IteratorAge, published as Lambda publishes it, and [`runner`]
//! the poll loop. The `local-runner` binary wires them; it stops, as Lambda does, when the
//! mapping it plays is deleted, and refuses a second mapping of the same stream and function
//! ([`discovery::refuse_second_mapping`]), as Lambda does.

pub mod clients;
pub mod destination;
pub mod discovery;
pub mod filter;
pub mod function;
pub mod mapping;
pub mod metrics;
pub mod runner;
pub mod shards;
pub mod window;
