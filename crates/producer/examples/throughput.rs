//! Throughput of the producer without faults: generated events (the `events` crate's 100
//! users) put on a fresh two-shard stream of a local moto server, back to back, at most 500
//! Kinesis records a call. Each round uses a new stream per mode, so moto's cost of a
//! stream's size is the same for every run, and the modes take turns so a busy machine
//! slows them alike; the median of the rounds is printed per mode.
//!
//! Modes: `aggregate` (the binary's default: a user's waiting events share a KPL
//! aggregate), `single` (`--no-aggregate`: one Kinesis record per event, one per user per
//! call), and `unordered`, the producer before per-key ordering without faults: the next
//! 500 events in each call, whatever their keys.
//!
//! `cargo run --release -p producer --example throughput [EVENTS] [ROUNDS] [MODES]`
//! (defaults 20000, 7 and `unordered,aggregate,single`). Needs moto in the project's .venv
//! (`make venv`). A number, not a test: moto shares the machine with everything else.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use producer::kinesis::Stream;
use producer::progress::Silent;
use producer::run::{self, Input, Options, Packing, Stop};
use producer::schedule::Schedule;
use producer::send::{EntryResult, PutError, PutRecords, RetryPolicy};
use producer::source::{Generated, Record};
use testkit::moto::Moto;

/// The stream, counting calls and the time spent waiting for their answers.
struct Counted {
    stream: Stream,
    calls: AtomicUsize,
    waiting: Mutex<Duration>,
}

impl PutRecords for Counted {
    async fn put_records(&self, records: &[&Record]) -> Result<Vec<EntryResult>, PutError> {
        let started = Instant::now();
        let answer = self.stream.put_records(records).await;
        self.calls.fetch_add(1, Ordering::Relaxed);
        *self.waiting.lock().expect("not poisoned") += started.elapsed();
        answer
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let events: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(7);
    let modes: Vec<String> = args
        .next()
        .unwrap_or_else(|| "unordered,aggregate,single".into())
        .split(',')
        .map(str::to_owned)
        .collect();
    let moto = Moto::start();
    let config = testkit::sdk_config(&moto.endpoint).await;
    let kinesis = aws_sdk_kinesis::Client::new(&config);
    let mut rates: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for round in 0..rounds {
        for mode in &modes {
            let name = format!("throughput-{mode}-{round}");
            kinesis
                .create_stream()
                .stream_name(&name)
                .shard_count(2)
                .send()
                .await
                .expect("create the stream");
            let stream = Counted {
                stream: Stream::with_config(&config, &name, moto.endpoint.clone()),
                calls: AtomicUsize::new(0),
                waiting: Mutex::new(Duration::ZERO),
            };
            stream.stream.check().await.expect("the stream is active");
            let seed = round as u64 + 1;
            let (sent, elapsed) = match mode.as_str() {
                "unordered" => unordered(&stream, seed, events).await,
                "aggregate" => ordered(&stream, seed, events, Packing::Aggregate).await,
                "single" => ordered(&stream, seed, events, Packing::Single).await,
                other => panic!("unknown mode {other}: unordered, aggregate or single"),
            };
            assert_eq!(sent, events);
            let rate = events as f64 / elapsed.as_secs_f64();
            let calls = stream.calls.load(Ordering::Relaxed);
            let waiting = *stream.waiting.lock().expect("not poisoned");
            println!(
                "round {round} {mode:>9}: {rate:>6.0} events/s, {calls} calls, {:.0} events \
                 and {:.1} ms a call",
                events as f64 / calls as f64,
                waiting.as_secs_f64() * 1000.0 / calls as f64
            );
            rates.entry(mode).or_default().push(rate);
            let _ = kinesis.delete_stream().stream_name(&name).send().await;
        }
    }
    for (mode, mut rates) in rates {
        rates.sort_by(f64::total_cmp);
        println!(
            "{mode:>9}: median {:.0} events/s over {rounds} rounds of {events} events \
             (min {:.0}, max {:.0})",
            rates[rates.len() / 2],
            rates[0],
            rates[rates.len() - 1]
        );
    }
}

/// The producer as it is: [`run::run_until`] with `packing`.
async fn ordered(api: &Counted, seed: u64, events: u64, packing: Packing) -> (u64, Duration) {
    let mut input = Input::Generated {
        source: Generated::new(seed, 0.0),
        clock_start_ms: 1_700_000_000_000,
    };
    let options = Options {
        schedule: Schedule::count(events, Duration::ZERO),
        batch: 500,
        retry: RetryPolicy::default(),
    };
    let summary = run::run_until(
        api,
        &mut input,
        options,
        packing,
        &mut Silent,
        &mut |_, _| {},
        Stop::never(),
    )
    .await
    .expect("the run ends");
    (summary.sent, summary.elapsed)
}

/// What the producer did before per-key ordering when nothing fails: make the next 500
/// events, put them in one call, repeat.
async fn unordered(api: &Counted, seed: u64, events: u64) -> (u64, Duration) {
    let started = Instant::now();
    let mut source = Generated::new(seed, 0.0);
    let mut sent = 0;
    while sent < events {
        let records: Vec<Record> = (0..(events - sent).min(500))
            .map(|_| source.next_record(1_700_000_000_000))
            .collect();
        let refs: Vec<&Record> = records.iter().collect();
        let answers = api.put_records(&refs).await.expect("the call succeeds");
        assert!(answers.iter().all(Result::is_ok));
        sent += records.len() as u64;
    }
    (sent, started.elapsed())
}
