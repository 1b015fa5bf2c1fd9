//! Per-minute figures from tumbling windows (docs/aggregates.md), end to end on moto: a
//! stack with 2 shards and 5-second windows, 5,000 generated events (10 % invalid; every 10th
//! timestamped 3 to 6 minutes before its neighbours, a late event) put on the stream, and
//! local-runner playing the windows with a forced function error after two invocations (the
//! batch comes again with the state from before) and two batches delivered twice (with the
//! state they returned). Then:
//!
//! - `query aggregates` equals, per event-time minute, what a scan of the event table counts
//!   (events by type, purchases, revenue to the cent), distinct users within the sketch's
//!   stated error, and the dead letters are every invalid record once;
//! - consuming the whole stream again from TRIM_HORIZON changes no aggregate item;
//! - events that the mapping gave up on (the table down) and `redrive` then stored are in
//!   the table but in no window's figures, until `query aggregates --rebuild` over the
//!   minutes redrive names counts each exactly once.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use aggregates::sketch::RELATIVE_STANDARD_ERROR;
use aggregates::Figures;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::PutRecordsRequestEntry;
use local_runner::shards::ShardStart;
use pipeline_tests::{
    deploy, drain_with, table_items, table_sink, Deployed, TableDown, SEED, START_MS,
};
use producer::source::{Generated, Record};
use query::aggregate::cli::{AggregatesArgs, Rebuild};
use query::output::Format;
use testkit::moto::Moto;

/// Events produced in the first part.
const EVENTS: usize = 5_000;
/// Events the mapping gives up on and redrive stores.
const REDRIVEN: usize = 200;

/// `count` generated records over ten minutes from `start_ms`; every 10th is a late event,
/// timestamped 3 to 6 minutes before its neighbours.
fn generated(seed: u64, count: usize, start_ms: i64) -> Vec<Record> {
    let mut source = Generated::new(seed, 0.1);
    (0..count)
        .map(|i| {
            let mut at = start_ms + i as i64 * 600_000 / count as i64;
            if i % 10 == 9 {
                at -= (3 + i as i64 % 4) * 60_000;
            }
            source.next_record(at)
        })
        .collect()
}

/// Puts `records` on the stack's stream, at most 500 and 4 MB a request (PutRecords takes
/// 5 MB), every one accepted.
async fn put(deployed: &Deployed, records: &[Record]) {
    let kinesis = aws_sdk_kinesis::Client::new(&deployed.config);
    let mut requests: Vec<Vec<&Record>> = vec![Vec::new()];
    let mut bytes = 0;
    for record in records {
        let full = requests.last().is_some_and(|r| r.len() == 500);
        if full || bytes + record.size() > 4_000_000 {
            requests.push(Vec::new());
            bytes = 0;
        }
        bytes += record.size();
        requests.last_mut().expect("a request").push(record);
    }
    for request in requests {
        let entries = request
            .iter()
            .map(|r| {
                PutRecordsRequestEntry::builder()
                    .partition_key(&r.partition_key)
                    .data(Blob::new(r.data.clone()))
                    .build()
                    .expect("an entry")
            })
            .collect();
        let put = kinesis
            .put_records()
            .stream_name(&deployed.target.stream_name)
            .set_records(Some(entries))
            .send()
            .await
            .expect("put-records");
        assert_eq!(put.failed_record_count(), Some(0));
    }
}

/// What a scan of the event table counts per minute: events by type, purchases, revenue
/// (cents from the price's decimal text, times the quantity) and the exact set of users.
#[derive(Debug, Default, PartialEq, Eq)]
struct Counted {
    by_type: BTreeMap<String, u64>,
    purchases: u64,
    revenue_cents: i64,
    users: BTreeSet<String>,
}

fn scan_counts(
    items: &BTreeMap<(String, String), HashMap<String, AttributeValue>>,
) -> BTreeMap<i64, Counted> {
    let mut minutes: BTreeMap<i64, Counted> = BTreeMap::new();
    for item in items.values() {
        let text = |name: &str| match item.get(name) {
            Some(AttributeValue::S(s) | AttributeValue::N(s)) => s.clone(),
            other => panic!("{name}: {other:?}"),
        };
        let timestamp: i64 = text("eventTimestamp").parse().expect("a timestamp");
        let counted = minutes
            .entry(timestamp.div_euclid(60_000) * 60_000)
            .or_default();
        let kind = text("eventType");
        *counted.by_type.entry(kind.clone()).or_default() += 1;
        counted.users.insert(text("userId"));
        if kind == "purchase" {
            counted.purchases += 1;
            let original = item["originalEvent"].as_m().expect("the event");
            let price = original["price"].as_n().expect("a generated price");
            let (whole, fraction) = price.split_once('.').unwrap_or((price, ""));
            let cents: i64 = whole.parse::<i64>().unwrap() * 100
                + format!("{fraction:0<2}").parse::<i64>().unwrap();
            let quantity: i64 = original
                .get("quantity")
                .map_or(1, |q| q.as_n().unwrap().parse().unwrap());
            counted.revenue_cents += cents * quantity;
        }
    }
    minutes
}

fn args(moto: &Moto, stack: &str, (from_ms, to_ms): (i64, i64)) -> AggregatesArgs {
    AggregatesArgs {
        stack_name: Some(stack.to_owned()),
        table_name: None,
        event_table_name: None,
        endpoint_url: Some(moto.endpoint.clone()),
        region: Some("us-east-1".into()),
        from_ms,
        to_ms,
        every_ms: 60_000,
        product: None,
        format: Format::Json,
        rebuild: None,
    }
}

/// `query aggregates` over `range`, per minute.
async fn shown(moto: &Moto, stack: &str, range: (i64, i64)) -> BTreeMap<i64, Figures> {
    let shown = query::aggregate::show_on(&moto_config(moto).await, &args(moto, stack, range))
        .await
        .expect("query aggregates");
    shown.buckets
}

async fn moto_config(moto: &Moto) -> aws_config::SdkConfig {
    testkit::sdk_config(&moto.endpoint).await
}

/// The events' minutes (dead letters count in their arrival minutes, today).
const EVENT_RANGE: (i64, i64) = (START_MS - 4 * 3_600_000, START_MS + 3_600_000);

/// Asserts the figures equal the scan's counts, minute by minute.
fn assert_figures_equal_the_scan(figures: &BTreeMap<i64, Figures>, scan: &BTreeMap<i64, Counted>) {
    let with_events: BTreeSet<i64> = figures
        .iter()
        .filter(|(_, f)| f.events > 0)
        .map(|(m, _)| *m)
        .collect();
    assert_eq!(
        with_events,
        scan.keys().copied().collect(),
        "the same minutes"
    );
    for (minute, counted) in scan {
        let f = &figures[minute];
        assert_eq!(
            f.by_type, counted.by_type,
            "events by type of minute {minute}"
        );
        assert_eq!(
            f.events,
            counted.by_type.values().sum::<u64>(),
            "minute {minute}"
        );
        assert_eq!(
            f.purchases, counted.purchases,
            "purchases of minute {minute}"
        );
        assert_eq!(
            f.revenue_cents, counted.revenue_cents,
            "revenue of minute {minute}"
        );
        let (estimate, exact) = (f.users.estimate() as f64, counted.users.len() as f64);
        let bound = 3.0 * RELATIVE_STANDARD_ERROR * exact + 1.0;
        assert!(
            (estimate - exact).abs() <= bound,
            "minute {minute}: {estimate} users for {exact}"
        );
    }
}

/// Dead letters counted in the minutes from `since_ms` to a minute from now.
async fn dead_letters_since(moto: &Moto, stack: &str, since_ms: i64) -> u64 {
    let now_ms = kinesis_codec::time::now_ms();
    let figures = shown(moto, stack, (since_ms - 60_000, now_ms + 60_000)).await;
    figures.values().map(|f| f.dead_lettered).sum()
}

/// Every item of the aggregate table by key, without `writtenAt`.
async fn aggregate_items(
    deployed: &Deployed,
    table: &str,
) -> BTreeMap<String, HashMap<String, AttributeValue>> {
    let dynamodb = aws_sdk_dynamodb::Client::new(&deployed.config);
    let mut items = BTreeMap::new();
    let mut start = None;
    loop {
        let page = dynamodb
            .scan()
            .table_name(table)
            .set_exclusive_start_key(start)
            .send()
            .await
            .expect("scan");
        for item in page.items() {
            let mut item = item.clone();
            item.remove(contract::aggregate::WRITTEN_AT);
            let key = format!(
                "{}#{}",
                item["day"].as_s().unwrap(),
                item["part"].as_s().unwrap()
            );
            items.insert(key, item);
        }
        start = page.last_evaluated_key().cloned();
        if start.is_none() {
            return items;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto from .venv (make venv); make test runs it with --include-ignored"]
async fn per_minute_figures_equal_a_recount_of_the_table_however_records_arrive() {
    let moto = Moto::start();
    let deployed = deploy(
        &moto,
        "aggregates",
        &["kinesis_shard_count=2", "aggregate_window_seconds=5"],
    )
    .await;
    let aggregate_table = deployed
        .target
        .processor
        .aggregate_table
        .clone()
        .expect("the function names the aggregate table");
    assert_eq!(
        deployed.target.settings.tumbling_window,
        Some(Duration::from_secs(5))
    );

    let started_ms = kinesis_codec::time::now_ms();
    let stack = deployed.stack.clone();
    let records = generated(SEED, EVENTS, START_MS);
    let invalid = records.iter().filter(|r| r.invalid.is_some()).count() as u64;
    assert!(invalid > 300, "{invalid} invalid records");
    put(&deployed, &records).await;

    let sinks = deployed.config.clone();
    let first = drain_with(
        &deployed,
        table_sink(&deployed, &sinks),
        &sinks,
        Duration::from_secs(3),
        |s| {
            s.faults.fail_invocations.extend([3, 11]);
            s.faults.redeliver_invocations.extend([6, 14]);
        },
    )
    .await;
    assert!(first.records >= EVENTS, "{first:?}");
    assert_eq!(
        (first.counts.forced_errors, first.counts.redeliveries),
        (2, 2),
        "{first:?}"
    );
    assert!(
        first.counts.window_finals >= 2,
        "a window's end on each shard: {first:?}"
    );

    let scan = scan_counts(&table_items(&deployed).await);
    assert_eq!(
        scan.values()
            .map(|c| c.by_type.values().sum::<u64>())
            .sum::<u64>(),
        EVENTS as u64 - invalid,
        "every valid event stored once"
    );
    let late_minutes = scan.keys().filter(|m| **m < START_MS).count();
    assert!(late_minutes >= 3, "late events count in their own minutes");
    let figures = shown(&moto, &stack, EVENT_RANGE).await;
    assert_figures_equal_the_scan(&figures, &scan);
    let dead = dead_letters_since(&moto, &stack, started_ms).await;
    assert_eq!(
        dead, invalid,
        "each invalid record dead-lettered and counted once"
    );

    // The whole stream again, from TRIM_HORIZON: the same windows count the same parts.
    let before = aggregate_items(&deployed, &aggregate_table).await;
    let again = drain_with(
        &deployed,
        table_sink(&deployed, &sinks),
        &sinks,
        Duration::from_secs(3),
        |_| {},
    )
    .await;
    assert!(again.records >= EVENTS, "{again:?}");
    assert_eq!(
        aggregate_items(&deployed, &aggregate_table).await,
        before,
        "no aggregate changed"
    );

    // Events the mapping gives up on (the table is down), stored later by redrive.
    let late_start_ms = kinesis_codec::time::now_ms();
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let lost = generated(SEED + 1, REDRIVEN, START_MS + 120_000);
    let lost_invalid = lost.iter().filter(|r| r.invalid.is_some()).count() as u64;
    put(&deployed, &lost).await;
    let given_up = drain_with(&deployed, TableDown, &sinks, Duration::from_secs(3), |s| {
        s.start = ShardStart::AtTimestamp(late_start_ms as f64 / 1000.0);
    })
    .await;
    assert!(given_up.counts.skipped_batches > 0, "{given_up:?}");
    // The invalid records' dead letters would only be refused again: redrive the batches.
    aws_sdk_sqs::Client::new(&deployed.config)
        .purge_queue()
        .queue_url(&deployed.target.dlq_url)
        .send()
        .await
        .expect("purge the dead-letter queue");
    let redriven = redrive::redrive(
        &deployed.config,
        &deployed.stack,
        &redrive::run::Options::default(),
        redrive::Mode::Local,
        &mut |_| {},
    )
    .await
    .expect("redrive runs");
    assert_eq!(redriven.failed, 0, "{redriven:?}");
    let (from_ms, to_ms) = redriven.touched.range().expect("redrive stored events");
    let note = redriven
        .touched
        .note("redriven", &deployed.stack, true)
        .expect("a note");
    assert!(note.contains("--rebuild"), "{note}");

    let scan = scan_counts(&table_items(&deployed).await);
    assert_eq!(
        scan.values()
            .map(|c| c.by_type.values().sum::<u64>())
            .sum::<u64>(),
        (EVENTS + REDRIVEN) as u64 - invalid - lost_invalid
    );
    let stale = shown(&moto, &stack, EVENT_RANGE).await;
    let stale_events: u64 = stale.values().map(|f| f.events).sum();
    assert_eq!(
        stale_events,
        EVENTS as u64 - invalid,
        "no window counted the redriven events"
    );

    let rebuild = Rebuild {
        segments: 4,
        force: false,
        dry_run: false,
    };
    let config = moto_config(&moto).await;
    let rebuilt =
        query::aggregate::rebuild_on(&config, &args(&moto, &stack, (from_ms, to_ms)), rebuild)
            .await
            .expect("the rebuild runs");
    assert!(rebuilt.plan.writes.len() > 1, "{}", rebuilt.summary());
    let figures = shown(&moto, &stack, EVENT_RANGE).await;
    assert_figures_equal_the_scan(&figures, &scan);
    // A second rebuild of the same range changes no figure.
    query::aggregate::rebuild_on(&config, &args(&moto, &stack, (from_ms, to_ms)), rebuild)
        .await
        .expect("the rebuild runs again");
    assert_eq!(shown(&moto, &stack, EVENT_RANGE).await, figures);
}
