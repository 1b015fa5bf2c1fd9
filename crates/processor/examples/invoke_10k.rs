//! One 10,000-record invocation with in-memory sinks, for measuring its peak memory:
//! `/usr/bin/time -v target/release/examples/invoke_10k` (see tools/bench-processor.sh).

use std::time::{Duration, Instant};

use events::Generator;
use processor::handler::{Handler, Invocation};
use processor::kinesis_event::from_payloads;
use processor::retry::{Backoff, Deadline};
use processor::sinks::memory::{MemoryQueue, MemoryTable};

fn main() {
    let mut generator = Generator::new(42);
    let payloads: Vec<Vec<u8>> = (0..10_000)
        .map(|i| {
            serde_json::to_vec(&generator.next_event(1_700_000_000_000 + i)).unwrap_or_default()
        })
        .collect();
    let event = from_payloads(&payloads);
    drop(payloads);
    let handler = Handler {
        table: MemoryTable::default(),
        queue: MemoryQueue::default(),
        function_name: "bench".to_owned(),
        concurrency: 8,
        backoff: Backoff::default(),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a runtime");
    let invocation = Invocation {
        request_id: "bench",
        deadline: Deadline::after(Duration::from_secs(60), Duration::from_secs(1)),
        now_ms: 1_700_000_001_000,
    };
    let started = Instant::now();
    let outcome = runtime.block_on(handler.handle(&event, invocation));
    println!(
        "10,000 records: {} stored, {} failed, {} BatchWriteItem requests, {:.1} ms",
        outcome.stats.processed,
        outcome.stats.failed,
        handler.table.requests(),
        started.elapsed().as_secs_f64() * 1000.0
    );
}
