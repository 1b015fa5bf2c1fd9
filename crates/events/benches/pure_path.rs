//! Throughput of the pure path, `process_record`, exactly as the processor calls it per
//! record: realistic generated events (serialized once, up front) to items borrowing from
//! the records, in records per second (criterion's "thrpt"). Each item is dropped inside
//! the timed loop, as the processor drops it after writing, so freeing counts too.
//!
//! `cargo bench -j2 -p events --bench pure_path`; add `--features mimalloc` to measure
//! under mimalloc (what a processor built with that global allocator would get).

#![allow(
    missing_docs,
    reason = "criterion_group! defines a public function the macro cannot document"
)]

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use events::{process_record, Generator, RecordContext};

#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const EVENTS: usize = 1_000;

/// The producer's events as bytes, and Kinesis eventIDs of realistic length to pass along
/// (generated events carry their own `eventId`, so these are only the fallback).
fn records() -> (Vec<Vec<u8>>, Vec<String>) {
    let mut generator = Generator::new(42);
    let data = (0..EVENTS)
        .map(|i| {
            let event = generator.next_event(1_700_000_000_000 + i as i64 * 37);
            serde_json::to_vec(&event).expect("a generated event serializes")
        })
        .collect();
    let ids = (0..EVENTS)
        .map(|i| {
            format!("shardId-000000000000:4959033827149025660855969253836157109592157598913{i:04}")
        })
        .collect();
    (data, ids)
}

fn pure_path(c: &mut Criterion) {
    let (data, ids) = records();
    let average = data.iter().map(Vec::len).sum::<usize>() / data.len();
    let mut group = c.benchmark_group(format!("pure_path ({average}-byte events)"));
    group.throughput(Throughput::Elements(EVENTS as u64));
    group.bench_function("process_record", |b| {
        b.iter(|| {
            for (bytes, id) in data.iter().zip(&ids) {
                let ctx = RecordContext {
                    event_id: id,
                    arrival_ms: 1_700_000_000_000,
                    processed_at_ms: 1_700_000_005_000,
                };
                let item = process_record(std::hint::black_box(bytes), &ctx);
                std::hint::black_box(&item);
            }
        })
    });
    group.finish();
}

criterion_group!(benches, pure_path);
criterion_main!(benches);
