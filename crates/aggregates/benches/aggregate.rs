//! Throughput of the pure path with aggregation on, as a tumbling window's invocation runs
//! it per record: `process_record` (the record to its item), then the item's facts counted
//! into the window ([`Aggregator::count`]), beside `process_record` alone; records per
//! second (criterion's "thrpt"). The window is resumed from its state and the state written
//! back once per batch of 1,000, as an invocation does.
//!
//! `cargo bench -j2 -p aggregates --bench aggregate` (docs/aggregates.md, "Cost of
//! counting"; the target is at least 1M records/s per core).

#![allow(
    missing_docs,
    reason = "criterion_group! defines a public function the macro cannot document"
)]

use std::collections::HashMap;

use aggregates::{Aggregator, EventFacts, RecordFacts};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use events::{process_record, Generator, RecordContext};

const EVENTS: usize = 1_000;

/// Generated events as bytes, their sequence numbers and Kinesis eventIDs.
fn records() -> Vec<(Vec<u8>, String, String)> {
    let mut generator = Generator::new(42);
    (0..EVENTS)
        .map(|i| {
            let event = generator.next_event(1_700_000_000_000 + i as i64 * 37);
            let data = serde_json::to_vec(&event).expect("a generated event serializes");
            let sequence = format!("4959033827149025660855969253836157109592157598913{i:04}");
            let id = format!("shardId-000000000000:{sequence}");
            (data, sequence, id)
        })
        .collect()
}

fn pure_path_with_aggregation(c: &mut Criterion) {
    let records = records();
    let mut group = c.benchmark_group("pure_path_aggregated");
    group.throughput(Throughput::Elements(EVENTS as u64));
    let context = |id| RecordContext {
        event_id: id,
        arrival_ms: 1_700_000_000_000,
        processed_at_ms: 1_700_000_005_000,
    };
    group.bench_function("process_record", |b| {
        b.iter(|| {
            for (data, _, id) in &records {
                let item = process_record(std::hint::black_box(data), &context(id));
                std::hint::black_box(&item);
            }
        })
    });
    // A window that has seen earlier batches: its state holds their minutes.
    let mut warm = Aggregator::resume("shardId-000000000000", 0, &HashMap::new()).unwrap();
    for (n, (data, _, id)) in records.iter().enumerate() {
        let item = process_record(data, &context(id)).expect("a generated event is valid");
        let facts: Vec<EventFacts> = EventFacts::of_item(&item).into_iter().collect();
        let sequence = format!("{n:06}");
        warm.count(&RecordFacts {
            sequence: &sequence,
            arrival_ms: 1_700_000_000_000,
            events: &facts,
            dead_lettered: 0,
        });
    }
    let state = warm.state();
    group.bench_function("process_record+count", |b| {
        b.iter(|| {
            let mut window = Aggregator::resume("shardId-000000000000", 0, &state).unwrap();
            for (data, sequence, id) in &records {
                let item = process_record(std::hint::black_box(data), &context(id));
                if let Ok(item) = &item {
                    let facts = EventFacts::of_item(item);
                    window.count(&RecordFacts {
                        sequence,
                        arrival_ms: 1_700_000_000_000,
                        events: facts.as_slice(),
                        dead_lettered: 0,
                    });
                }
            }
            std::hint::black_box(window.state());
        })
    });
    group.finish();
}

criterion_group!(benches, pure_path_with_aggregation);
criterion_main!(benches);
