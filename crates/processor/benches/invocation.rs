//! Throughput of the processor: the pure path (record bytes → item), a whole
//! 10,000-record invocation with in-memory sinks, without and with the event archive, and
//! the archive object's encoding alone (JSON + gzip, which the invocation runs on a blocking
//! thread beside the table's writes).
//!
//! `cargo bench -p processor` prints records/s (criterion's "thrpt"); see docs/performance.md.

#![allow(
    missing_docs,
    reason = "criterion_group! defines a public function the macro cannot document"
)]

use std::sync::Arc;
use std::time::Duration;

use aws_edge::retry::{Backoff, Deadline};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use events::{Generator, RecordContext};
use processor::handler::{Buckets, Handler, Invocation};
use processor::sinks::memory::{MemoryBucket, MemoryQueue, MemoryTable};

/// Realistic events as the producer sends them (JSON bytes), deterministic.
fn payloads(count: usize) -> Vec<Vec<u8>> {
    let mut generator = Generator::new(42);
    (0..count)
        .map(|i| {
            serde_json::to_vec(&generator.next_event(1_700_000_000_000 + i as i64))
                .expect("serializes")
        })
        .collect()
}

/// `events::process_record` as `plan` calls it per record. The Kinesis event ids are made
/// up front: the processor borrows them from the event (it formats one only for a user
/// record of a KPL aggregate), so formatting them here would time work it does not do.
fn pure_path(c: &mut Criterion) {
    let payloads = payloads(1_000);
    let ids: Vec<String> = (0..payloads.len())
        .map(|i| format!("shardId-000000000000:{i}"))
        .collect();
    let average = payloads.iter().map(Vec::len).sum::<usize>() / payloads.len();
    let mut group = c.benchmark_group(format!("pure path ({average}-byte events)"));
    group.throughput(Throughput::Elements(payloads.len() as u64));
    group.bench_function("process_record", |b| {
        b.iter(|| {
            for (data, id) in payloads.iter().zip(&ids) {
                let ctx = RecordContext {
                    event_id: id,
                    arrival_ms: 1_700_000_000_000,
                    processed_at_ms: 1_700_000_001_000,
                };
                let _ = std::hint::black_box(events::process_record(data, &ctx));
            }
        })
    });
    group.finish();
}

fn invocation(c: &mut Criterion) {
    let event = support_event(&payloads(10_000));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime");
    let mut group = c.benchmark_group("invocation");
    group.throughput(Throughput::Elements(10_000));
    group.sample_size(20);
    for (name, archive) in [
        ("10,000 records, in-memory sinks", false),
        ("10,000 records, in-memory sinks, event archive", true),
    ] {
        group.bench_function(name, |b| {
            b.iter_batched(
                || handler(archive),
                |handler| {
                    let invocation = Invocation {
                        request_id: "bench",
                        deadline: Deadline::after(Duration::from_secs(60), Duration::from_secs(1)),
                        now_ms: 1_700_000_001_000,
                        redrive_count: 0,
                    };
                    runtime.block_on(handler.handle(&event, invocation))
                },
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();

    let mut group = c.benchmark_group("event archive");
    group.throughput(Throughput::Elements(10_000));
    group.sample_size(20);
    let batch = processor::archive::Batch::of(&event.records).expect("records");
    println!(
        "event archive: 10,000 records, {} bytes of event JSON, {} bytes gzip",
        batch.event_json().to_string().len(),
        batch.encode().len()
    );
    group.bench_function("Batch::of + encode (JSON + gzip), 10,000 records", |b| {
        b.iter(|| {
            processor::archive::Batch::of(&event.records)
                .map(|batch| std::hint::black_box(batch.encode()))
        })
    });
    group.bench_function("Batch::of alone (the copy of the records)", |b| {
        b.iter(|| std::hint::black_box(processor::archive::Batch::of(&event.records)))
    });
    // For comparison: the batch as one JSON value, serialized (what
    // `kinesis_codec::archive::encode(&event_json)` would do before its gzip).
    group.bench_function("the JSON as one value (event_json().to_string())", |b| {
        b.iter(|| std::hint::black_box(batch.event_json().to_string()))
    });
    let text = batch.event_json().to_string();
    group.bench_function("the gzip alone (flate2 level 1)", |b| {
        b.iter(|| {
            use std::io::Write;
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            let _ = encoder.write_all(text.as_bytes());
            std::hint::black_box(encoder.finish().unwrap_or_default())
        })
    });
    group.finish();
}

fn handler(archive: bool) -> Handler<MemoryTable, MemoryQueue> {
    let buckets = Buckets {
        failures: None,
        archive: archive.then(|| {
            Arc::new(MemoryBucket::new("archive")) as Arc<dyn processor::sinks::ObjectStore>
        }),
    };
    Handler {
        table: MemoryTable::default(),
        queue: MemoryQueue::default(),
        function_name: "bench".to_owned(),
        concurrency: 8,
        backoff: Backoff::default(),
        item_ttl_days: 0,
        buckets,
        aggregates: None,
    }
}

fn support_event(payloads: &[Vec<u8>]) -> aws_lambda_events::event::kinesis::KinesisEvent {
    kinesis_codec::event::fixture::from_payloads(payloads)
}

criterion_group!(benches, pure_path, invocation);
criterion_main!(benches);
