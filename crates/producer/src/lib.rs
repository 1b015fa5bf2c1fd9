//! The test data producer: realistic retail events (the recipe's test_data_producer, with
//! the `events` crate's generator) or a JSON-lines file, put on the pipeline's Kinesis
//! stream at a chosen pace, with a share of deliberately invalid records on request.
//!
//! [`run::run`] drives a run over any [`send::PutRecords`]; [`kinesis::Stream`] is the real
//! one. The `producer` binary is a thin CLI over them.

pub mod invalid;
pub mod kinesis;
pub mod pending;
pub mod progress;
pub mod run;
pub mod schedule;
pub mod send;
pub mod source;
