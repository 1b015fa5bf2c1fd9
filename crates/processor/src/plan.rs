//! The pure core of an invocation: Kinesis records in, the items to write and the dead
//! letters to send out, plus which of them each record depends on. No I/O here, so every
//! branch is unit-tested and benchmarked without AWS.

use std::collections::HashMap;

use aws_lambda_events::event::kinesis::KinesisEventRecord;
use events::{Item, RecordContext};

use crate::dead_letter::{self, DeadLetter, Origin, Writer};
use crate::kpl::{self, Deaggregated};

/// The error type of a KPL aggregate that cannot be read (its user records are unknown).
pub const CORRUPT_AGGREGATE: &str = "CorruptAggregate";

/// What one invocation must deliver.
#[derive(Debug, Default)]
pub struct Plan {
    /// Items with distinct keys, in first-seen order.
    pub items: Vec<Item>,
    /// Dead letters, in record order.
    pub letters: Vec<DeadLetter>,
    /// Per Kinesis record (same order as the event): the items and letters it needs.
    pub needs: Vec<Needs>,
    /// User records seen (a KPL aggregate counts its user records).
    pub user_records: usize,
}

/// What must be delivered for one Kinesis record to count as handled.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Needs {
    /// Indices into [`Plan::items`].
    pub items: Vec<usize>,
    /// Indices into [`Plan::letters`].
    pub letters: Vec<usize>,
}

/// Builds the plan. `processed_at_ms` stamps every item's processing time.
pub fn plan(records: &[KinesisEventRecord], writer: Writer, processed_at_ms: i64) -> Plan {
    let mut plan = Plan {
        needs: Vec::with_capacity(records.len()),
        ..Plan::default()
    };
    plan.items.reserve(records.len());
    // Two records with one key (a producer retry, a replay inside one batch) become one
    // write: BatchWriteItem refuses duplicate keys, and the later record wins as it would
    // have if written one by one.
    let mut by_key: HashMap<(String, String), usize> = HashMap::with_capacity(records.len());
    for record in records {
        let mut needs = Needs::default();
        add_record(
            &mut plan,
            &mut by_key,
            &mut needs,
            record,
            writer,
            processed_at_ms,
        );
        plan.needs.push(needs);
    }
    plan
}

fn add_record(
    plan: &mut Plan,
    by_key: &mut HashMap<(String, String), usize>,
    needs: &mut Needs,
    record: &KinesisEventRecord,
    writer: Writer,
    processed_at_ms: i64,
) {
    let kinesis = &record.kinesis;
    let event_id = record
        .event_id
        .as_deref()
        .unwrap_or(kinesis.sequence_number.as_str());
    let arrival = kinesis.approximate_arrival_timestamp.0;
    let origin = |sub: Option<u64>| Origin {
        event_id,
        partition_key: &kinesis.partition_key,
        sequence_number: &kinesis.sequence_number,
        sub_sequence_number: sub,
        approximate_arrival_timestamp: arrival.timestamp_millis() as f64 / 1000.0,
    };
    let mut add_unit = |plan: &mut Plan, data: &[u8], id: &str, sub: Option<u64>| {
        plan.user_records += 1;
        let ctx = RecordContext {
            event_id: id,
            arrival_ms: arrival.timestamp_millis(),
            processed_at_ms,
        };
        match events::process_record(data, &ctx) {
            Ok(item) => {
                let key = (item.partition_key().to_owned(), item.sort_key().to_owned());
                let index = match by_key.get(&key) {
                    Some(&existing) => {
                        plan.items[existing] = item;
                        existing
                    }
                    None => {
                        plan.items.push(item);
                        by_key.insert(key, plan.items.len() - 1);
                        plan.items.len() - 1
                    }
                };
                needs.items.push(index);
            }
            Err(rejection) => {
                let letter = dead_letter::build(
                    &origin(sub),
                    writer,
                    &rejection.message,
                    rejection.kind.as_str(),
                    data,
                );
                plan.letters.push(letter);
                needs.letters.push(plan.letters.len() - 1);
            }
        }
    };
    match kpl::deaggregate(&kinesis.data.0) {
        Ok(Deaggregated::Single(data)) => add_unit(plan, data, event_id, None),
        Ok(Deaggregated::Aggregate(users)) => {
            for user in users {
                let id = format!("{event_id}:{}", user.sub_sequence_number);
                add_unit(plan, user.data, &id, Some(user.sub_sequence_number));
            }
        }
        Err(err) => {
            plan.user_records += 1;
            let message = err.to_string();
            plan.letters.push(dead_letter::build(
                &origin(None),
                writer,
                &message,
                CORRUPT_AGGREGATE,
                &kinesis.data.0,
            ));
            needs.letters.push(plan.letters.len() - 1);
        }
    }
}
