//! Throughput of the processor: the pure path (record bytes → item), a whole
//! 10,000-record invocation with in-memory sinks, without and with the event archive, and
//! the archive object's encoding alone (JSON + gzip, which the invocation runs on a blocking
//! thread beside the table's writes).
//!
//! `cargo bench -p processor` prints records/s (criterion's "thrpt"); see docs/performance.md.
//!
//! "invocation/10,000 records from the event's JSON, SDK requests built" is what the Lambda
//! does with one batch, on one core: the event's bytes as the runtime hands them over, read
//! by `kinesis_codec::event::from_slice`, `Handler::handle`, every BatchWriteItem and
//! SendMessageBatch request built as the DynamoDB and SQS sinks build it (and kept in
//! memory instead of sent), and everything dropped.
//!
//! The benchmark allocates with mimalloc, as the Lambda binary does (src/main.rs), so it
//! counts what the function does; `BENCH_ALLOCATOR=system cargo bench ...` rebuilds it on
//! the system allocator for comparison.

#![allow(
    missing_docs,
    reason = "criterion_group! defines a public function the macro cannot document"
)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_edge::retry::{Backoff, Deadline};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use events::{Generator, RecordContext};
use processor::handler::{Buckets, Handler, Invocation};
use processor::sinks::memory::{MemoryBucket, MemoryQueue, MemoryTable};
use processor::sinks::write_body::batch_write_item_body;
use processor::sinks::{QueueSender, SinkError, TableWriter};

/// The Lambda's allocator (mimalloc), or the system's when built with
/// `BENCH_ALLOCATOR=system`.
struct BenchAllocator;

const SYSTEM_ALLOCATOR: bool = matches!(option_env!("BENCH_ALLOCATOR"), Some(a) if a.len() == 6);

unsafe impl GlobalAlloc for BenchAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if SYSTEM_ALLOCATOR {
            unsafe { System.alloc(layout) }
        } else {
            unsafe { mimalloc::MiMalloc.alloc(layout) }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if SYSTEM_ALLOCATOR {
            unsafe { System.dealloc(ptr, layout) }
        } else {
            unsafe { mimalloc::MiMalloc.dealloc(ptr, layout) }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if SYSTEM_ALLOCATOR {
            unsafe { System.realloc(ptr, layout, new_size) }
        } else {
            unsafe { mimalloc::MiMalloc.realloc(ptr, layout, new_size) }
        }
    }
}

#[global_allocator]
static ALLOCATOR: BenchAllocator = BenchAllocator;

/// The DynamoDB sink without the network: each call writes the BatchWriteItem request's
/// body as `DynamoTable` does (`sinks::write_body`) and drops it, as the SDK does once it
/// is sent.
#[derive(Default)]
struct RequestTable {
    requests: Mutex<usize>,
}

impl TableWriter for RequestTable {
    async fn batch_write(&self, items: &[&events::Item]) -> Result<Vec<usize>, SinkError> {
        let body = batch_write_item_body("events", items, self.index_shards());
        drop(std::hint::black_box(body));
        if let Ok(mut requests) = self.requests.lock() {
            *requests += 1;
        }
        Ok(Vec::new())
    }
}

/// The SQS sink without the network: each call builds the SendMessageBatch entries as
/// `SqsQueue` does and drops them, as the SDK does once they are sent.
#[derive(Default)]
struct RequestQueue {
    requests: Mutex<usize>,
}

impl QueueSender for RequestQueue {
    async fn send_batch(
        &self,
        letters: &[&processor::dead_letter::DeadLetter],
    ) -> Result<Vec<usize>, SinkError> {
        let request = processor::sinks::sqs::entries(letters)?;
        drop(std::hint::black_box(request));
        if let Ok(mut requests) = self.requests.lock() {
            *requests += 1;
        }
        Ok(Vec::new())
    }
}

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
    // The items' share of the BatchWriteItem bodies (40 requests of 25), as the DynamoDB
    // sink writes them (`sinks::write_body`).
    let items: Vec<events::Item> = payloads
        .iter()
        .zip(&ids)
        .filter_map(|(data, id)| {
            let ctx = RecordContext {
                event_id: id,
                arrival_ms: 1_700_000_000_000,
                processed_at_ms: 1_700_000_001_000,
            };
            events::process_record(data, &ctx).ok()
        })
        .collect();
    let items: Vec<&events::Item> = items.iter().collect();
    group.bench_function("BatchWriteItem bodies (write_body)", |b| {
        b.iter(|| {
            for batch in items.chunks(25) {
                let body = batch_write_item_body("events", batch, Default::default());
                std::hint::black_box(body);
            }
        })
    });
    // What the sink built before `write_body`: the SDK's attribute maps, one owned copy of
    // every name and value (the SDK then serialized them to the same JSON).
    group.bench_function("BatchWriteItem as the SDK's attribute maps (before)", |b| {
        use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
        /// The sink's conversion before `write_body`, as it was.
        fn attribute(value: events::AttrRef<'_>) -> AttributeValue {
            use events::AttrRef;
            match value {
                AttrRef::S(s) => AttributeValue::S(s.to_owned()),
                AttrRef::N(n) => AttributeValue::N(n.to_owned()),
                AttrRef::Bool(b) => AttributeValue::Bool(b),
                AttrRef::Null => AttributeValue::Null(true),
                AttrRef::M(map) => AttributeValue::M(
                    map.iter()
                        .map(|(k, v)| (k.to_owned(), attribute(v)))
                        .collect(),
                ),
                AttrRef::L(list) => AttributeValue::L(list.iter().map(attribute).collect()),
            }
        }
        b.iter(|| {
            for batch in items.chunks(25) {
                let requests: Vec<WriteRequest> = batch
                    .iter()
                    .filter_map(|item| {
                        let map: std::collections::HashMap<String, AttributeValue> = item
                            .attributes()
                            .map(|(name, value)| (name.to_owned(), attribute(value)))
                            .collect();
                        let put = PutRequest::builder().set_item(Some(map)).build().ok()?;
                        Some(WriteRequest::builder().put_request(put).build())
                    })
                    .collect();
                std::hint::black_box(requests);
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
    // Lambda's bytes: the event as the runtime receives it.
    let json = &serde_json::to_vec(&event).expect("serializes");
    let runtime = &runtime;
    let invocation = || Invocation {
        request_id: "bench",
        deadline: Deadline::after(Duration::from_secs(60), Duration::from_secs(1)),
        now_ms: 1_700_000_001_000,
        redrive_count: 0,
    };
    let whole = |read: fn(&[u8]) -> aws_lambda_events::event::kinesis::KinesisEvent| {
        move || {
            let event = read(json);
            let handler = Handler::from_config(
                &bench_config(),
                RequestTable::default(),
                RequestQueue::default(),
            );
            std::hint::black_box(runtime.block_on(handler.handle(&event, invocation())));
        }
    };
    group.bench_function(
        "10,000 records from the event's JSON, SDK requests built",
        |b| {
            b.iter(whole(|json| {
                kinesis_codec::event::from_slice(json).expect("an event")
            }))
        },
    );
    group.bench_function(
        "the same, the event read through a serde_json::Value (event::from_json)",
        |b| {
            b.iter(whole(|json| {
                let value = serde_json::from_slice(json).expect("JSON");
                kinesis_codec::event::from_json(value).expect("an event")
            }))
        },
    );
    group.bench_function("reading the event alone (event::from_slice)", |b| {
        b.iter(|| kinesis_codec::event::from_slice(json).map(|e| e.records.len()))
    });
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

/// The function's configuration as the stack sets it, for `Handler::from_config`.
fn bench_config() -> processor::config::Config {
    let env = std::collections::HashMap::from([
        ("TABLE_NAME", "events"),
        (
            "DLQ_URL",
            "https://sqs.us-east-1.amazonaws.com/123456789012/dlq",
        ),
        ("AWS_LAMBDA_FUNCTION_NAME", "bench"),
    ]);
    processor::config::Config::from_lookup(|name| env.get(name).map(|v| (*v).to_owned()))
        .expect("a configuration")
}

fn support_event(payloads: &[Vec<u8>]) -> aws_lambda_events::event::kinesis::KinesisEvent {
    kinesis_codec::event::fixture::from_payloads(payloads)
}

criterion_group!(benches, pure_path, invocation);
criterion_main!(benches);
