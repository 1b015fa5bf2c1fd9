//! Dead letters are not a one-way door: `redrive` reads the pipeline's dead-letter queue and
//! processes what it holds again, after a fix, with each record's original identity.
//!
//! The queue holds two kinds of message ([`letter`]): the processor's dead letters (one
//! rejected record, its bytes inside) and the event source mapping's on-failure records (a
//! shard's sequence range, whose records [`stream`] reads back by sequence number). The
//! records go through the deployed function or the processor in this process
//! ([`reprocess`]) under their first eventID and arrival time, so they get the item keys a
//! first successful attempt would have given them: redriving twice never stores an event
//! twice. [`run`] deletes a message only when all its records are durably handled, and
//! [`stack`] finds the queue, stream and function from the stack's outputs.

pub mod letter;
pub mod queue;
pub mod reprocess;
pub mod run;
pub mod stack;
pub mod stream;
