//! The processor Lambda: Kinesis records in, DynamoDB items and dead letters out.
//!
//! A thin handler over a pure core. [`plan`] turns a batch into the items to write and the
//! dead letters to send (decoding, KPL de-aggregation, validation and enrichment from the
//! `events` crate); [`store`] delivers them through the [`sinks`] with retries inside the
//! invocation's time; [`handler`] answers Lambda with the first record not durably handled.
//! With buckets configured, a dead letter too large for SQS keeps its record in the failure
//! bucket (a claim check, [`dead_letter`]) and every batch is stored in the event archive
//! ([`archive`]).
//! The record formats (KPL aggregates, Lambda's Kinesis event) are the `kinesis_codec`
//! crate's; the retry and deadline helpers and the SDK error classifier `aws_edge`'s.

/// How often an invocation's records have been redriven, from the `custom` map of its
/// client context ([`contract::REDRIVE_COUNT_CONTEXT_KEY`], set by the redrive tool): 0 when
/// the key is absent (the event source mapping sends none) or not a number.
pub fn redrive_count(custom: &std::collections::HashMap<String, String>) -> u32 {
    custom
        .get(contract::REDRIVE_COUNT_CONTEXT_KEY)
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

pub mod archive;
pub mod concurrency;
pub mod config;
pub mod dead_letter;
pub mod handler;
pub mod index_shards;
pub mod metrics;
pub mod plan;
pub mod sinks;
pub mod store;
#[cfg(test)]
mod test_support;
pub mod window;
