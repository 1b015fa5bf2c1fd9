//! One 10,000-record invocation, for measuring its peak memory:
//! `/usr/bin/time -v target/release/examples/invoke_10k` (see tools/bench-processor.sh).
//!
//! The table sink counts and discards each request, as the DynamoDB sink does once a
//! request is sent, so the number is the processor's own memory; `--keep` uses the
//! in-memory table, which holds a copy of every item on top. `--archive` turns the event
//! archive on (a bucket that counts and discards the object, as S3's sink does once sent).

use std::time::{Duration, Instant};

use aws_edge::retry::{Backoff, Deadline};
use events::Generator;
use futures_util::future::BoxFuture;
use kinesis_codec::event::fixture::from_payloads;
use processor::handler::{Buckets, Handler, Invocation};
use processor::sinks::memory::{MemoryQueue, MemoryTable};
use processor::sinks::{ObjectStore, SinkError, TableWriter};

/// Counts heap bytes in use and their peak, so the invocation's own memory can be told
/// apart from what the process's allocator keeps from building the fixture. Underneath,
/// the Lambda binary's allocator (mimalloc, src/main.rs).
struct CountingAllocator;

static IN_USE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
static PEAK: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

unsafe impl std::alloc::GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        use std::sync::atomic::Ordering::Relaxed;
        let now = IN_USE.fetch_add(layout.size(), Relaxed) + layout.size();
        PEAK.fetch_max(now, Relaxed);
        unsafe { mimalloc::MiMalloc.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        IN_USE.fetch_sub(layout.size(), std::sync::atomic::Ordering::Relaxed);
        unsafe { mimalloc::MiMalloc.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Accepts every write and keeps nothing but the count.
#[derive(Default)]
struct DiscardingTable {
    requests: std::sync::atomic::AtomicUsize,
}

impl TableWriter for DiscardingTable {
    async fn batch_write(&self, _items: &[&events::Item]) -> Result<Vec<usize>, SinkError> {
        self.requests
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(Vec::new())
    }
}

/// Accepts every object and keeps only its size.
#[derive(Default)]
struct DiscardingBucket {
    bytes: std::sync::atomic::AtomicUsize,
}

impl ObjectStore for DiscardingBucket {
    fn bucket(&self) -> &str {
        "archive"
    }

    fn put<'a>(
        &'a self,
        _: &'a str,
        body: &'a [u8],
        _: &'a str,
    ) -> BoxFuture<'a, Result<(), SinkError>> {
        self.bytes
            .store(body.len(), std::sync::atomic::Ordering::Relaxed);
        Box::pin(async { Ok(()) })
    }

    fn put_new<'a>(
        &'a self,
        key: &'a str,
        body: &'a [u8],
        content_type: &'a str,
    ) -> BoxFuture<'a, Result<bool, SinkError>> {
        let put = self.put(key, body, content_type);
        Box::pin(async move { put.await.map(|()| true) })
    }
}

fn main() {
    let mut generator = Generator::new(42);
    let payloads: Vec<Vec<u8>> = (0..10_000)
        .map(|i| {
            serde_json::to_vec(&generator.next_event(1_700_000_000_000 + i)).unwrap_or_default()
        })
        .collect();
    // Lambda hands the runtime the event as JSON bytes; build it the same way so the
    // fixture's intermediate values are gone before measuring.
    let json = serde_json::to_vec(&from_payloads(&payloads)).unwrap_or_default();
    drop(payloads);
    // Read as the Lambda reads it (src/main.rs).
    let event = kinesis_codec::event::from_slice(&json).unwrap_or_default();
    drop(json);
    let archive = std::env::args()
        .any(|a| a == "--archive")
        .then(|| std::sync::Arc::new(DiscardingBucket::default()));
    if std::env::args().any(|a| a == "--keep") {
        run(&event, MemoryTable::default(), archive.clone(), |t| {
            t.requests()
        });
    } else {
        run(&event, DiscardingTable::default(), archive.clone(), |t| {
            t.requests.load(std::sync::atomic::Ordering::Relaxed)
        });
    }
    if let Some(archive) = archive {
        println!(
            "event archive: one object of {} bytes",
            archive.bytes.load(std::sync::atomic::Ordering::Relaxed)
        );
    }
}

fn run<W: TableWriter>(
    event: &aws_lambda_events::event::kinesis::KinesisEvent,
    table: W,
    archive: Option<std::sync::Arc<DiscardingBucket>>,
    requests: impl Fn(&W) -> usize,
) {
    let handler = Handler {
        table,
        queue: MemoryQueue::default(),
        function_name: "bench".to_owned(),
        concurrency: 8,
        backoff: Backoff::default(),
        item_ttl_days: 0,
        buckets: Buckets {
            failures: None,
            archive: archive.map(|a| a as std::sync::Arc<dyn ObjectStore>),
        },
        aggregates: None,
    };
    let baseline = IN_USE.load(std::sync::atomic::Ordering::Relaxed);
    PEAK.store(baseline, std::sync::atomic::Ordering::Relaxed);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a runtime");
    let invocation = Invocation {
        request_id: "bench",
        deadline: Deadline::after(Duration::from_secs(60), Duration::from_secs(1)),
        now_ms: 1_700_000_001_000,
        redrive_count: 0,
    };
    let started = Instant::now();
    let outcome = runtime.block_on(handler.handle(event, invocation));
    let peak = PEAK.load(std::sync::atomic::Ordering::Relaxed);
    println!(
        "heap: the event {:.1} MiB before the invocation, peak {:.1} MiB during it ({:.1} MiB added)",
        mib(baseline),
        mib(peak),
        mib(peak - baseline)
    );
    println!(
        "10,000 records: {} stored, {} failed, {} BatchWriteItem requests, {:.1} ms",
        outcome.stats.processed,
        outcome.stats.failed,
        requests(&handler.table),
        started.elapsed().as_secs_f64() * 1000.0
    );
}

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}
