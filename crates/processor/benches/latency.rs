//! The 10,000-record invocation against sinks that take time: the in-memory table and queue
//! behind an injected latency (10 ms a call, a tokio sleep, so calls overlap as they do
//! over the network), with 0 % and 30 % of the table's calls throttled (a seeded draw,
//! the same calls every run). For each: wall time, calls, retries, throttled calls, the
//! most calls in flight at once, and the physical floor of the same calls (calls ÷ the
//! window's cap × latency) beside it.
//!
//! `cargo bench -j2 -p processor --bench latency` (no criterion: it prints one table; see
//! docs/performance.md, "Invocation against services that take time"). `RUNS=n` sets the
//! runs per case (default 7; the median is shown).

#![allow(missing_docs, reason = "a benchmark binary")]

use std::time::{Duration, Instant};

use aws_edge::retry::{Backoff, Deadline};
use events::Generator;
use processor::concurrency;
use processor::handler::{Buckets, Handler, Invocation};
use processor::sinks::memory::{MemoryQueue, MemoryTable, Throttle};
use processor::store::MAX_BATCH_WRITE;

/// The Lambda's allocator (src/main.rs), so the CPU between the calls is the function's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const RECORDS: usize = 10_000;
const START: usize = 8;

fn payloads(count: usize) -> Vec<Vec<u8>> {
    let mut generator = Generator::new(42);
    (0..count)
        .map(|i| {
            serde_json::to_vec(&generator.next_event(1_700_000_000_000 + i as i64))
                .expect("serializes")
        })
        .collect()
}

struct Case {
    name: &'static str,
    latency: Duration,
    throttled: f64,
}

#[derive(Debug, Clone, Copy)]
struct Run {
    wall: Duration,
    calls: usize,
    throttled: usize,
    peak: usize,
    stored: usize,
    dead_letters: usize,
    failures: usize,
}

fn run(
    runtime: &tokio::runtime::Runtime,
    event: &aws_lambda_events::event::kinesis::KinesisEvent,
    case: &Case,
    seed: u64,
) -> Run {
    let throttle = if case.throttled > 0.0 {
        Throttle::Rate {
            share: case.throttled,
            seed,
        }
    } else {
        Throttle::Never
    };
    let handler = Handler {
        table: MemoryTable::default()
            .with_latency(case.latency)
            .throttling(throttle),
        queue: MemoryQueue::default().with_latency(case.latency),
        function_name: "bench".to_owned(),
        concurrency: START,
        backoff: Backoff::default(),
        item_ttl_days: 0,
        buckets: Buckets::default(),
        aggregates: None,
    };
    let invocation = Invocation {
        request_id: "bench",
        deadline: Deadline::after(Duration::from_secs(60), Duration::from_secs(1)),
        now_ms: 1_700_000_001_000,
        redrive_count: 0,
    };
    let started = Instant::now();
    let outcome = runtime.block_on(handler.handle(event, invocation));
    let wall = started.elapsed();
    let stats = handler.table.call_stats();
    Run {
        wall,
        calls: stats.calls,
        throttled: stats.throttled,
        peak: stats.peak_in_flight,
        stored: handler.table.snapshot().len(),
        dead_letters: handler.queue.messages().len(),
        failures: outcome.response.batch_item_failures.len(),
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(7)
        .max(1);
    let event = kinesis_codec::event::fixture::from_payloads(&payloads(RECORDS));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime");
    let cap = concurrency::cap_for(START, concurrency::function_memory_mb());
    let first_calls = RECORDS.div_ceil(MAX_BATCH_WRITE);
    let cases = [
        Case {
            name: "no latency (the CPU alone)",
            latency: Duration::ZERO,
            throttled: 0.0,
        },
        Case {
            name: "10 ms a call, 0 % throttled",
            latency: Duration::from_millis(10),
            throttled: 0.0,
        },
        Case {
            name: "10 ms a call, 30 % throttled",
            latency: Duration::from_millis(10),
            throttled: 0.3,
        },
    ];
    println!(
        "{RECORDS} records ({first_calls} BatchWriteItem calls without retries), window from \
         {START}, cap {cap}; median of {runs} runs"
    );
    println!(
        "{:<30} {:>10} {:>6} {:>8} {:>10} {:>5} {:>11} {:>15} {:>7} {:>6}",
        "case",
        "wall",
        "calls",
        "retries",
        "throttled",
        "peak",
        "floor",
        "floor + CPU",
        "stored",
        "DLQ"
    );
    let mut cpu = Duration::ZERO;
    let mut unthrottled = Duration::ZERO;
    for case in &cases {
        let mut results: Vec<Run> = (0..runs)
            .map(|i| run(&runtime, &event, case, 7 + i as u64))
            .collect();
        results.sort_by_key(|r| r.wall);
        let median = results[results.len() / 2];
        assert!(results
            .iter()
            .all(|r| r.stored == RECORDS && r.dead_letters == 0 && r.failures == 0));
        let floor = case.latency.mul_f64(median.calls as f64 / cap as f64);
        if case.latency.is_zero() {
            cpu = median.wall;
        } else if case.throttled == 0.0 {
            unthrottled = median.wall;
        }
        println!(
            "{:<30} {:>10} {:>6} {:>8} {:>10} {:>5} {:>11} {:>15} {:>7} {:>6}",
            case.name,
            ms(median.wall),
            median.calls,
            median.calls - first_calls,
            median.throttled,
            median.peak,
            ms(floor),
            ms(floor + cpu),
            median.stored,
            median.dead_letters
        );
        if case.throttled > 0.0 && !unthrottled.is_zero() {
            println!(
                "  throttled / unthrottled wall: {:.2}× (runs: {})",
                median.wall.as_secs_f64() / unthrottled.as_secs_f64(),
                results
                    .iter()
                    .map(|r| ms(r.wall))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    println!(
        "fixed window of {START} (before): {} calls ÷ {START} × 10 ms = {} of waiting alone",
        first_calls,
        ms(Duration::from_millis(10).mul_f64(first_calls as f64 / START as f64))
    );
}
