//! `query aggregates` and `query aggregates --rebuild` against moto: an event table and an
//! aggregate table created as the stack creates them (keys only), a few event items over
//! two minutes, and window parts that counted only some of them (as after a redrive, whose
//! records no window counts), with dead letters. Then:
//!
//! - `query aggregates` prints the parts' sums (distinct users merged, cents exact);
//! - `--rebuild --dry-run` changes nothing;
//! - `--rebuild` leaves one rebuilt item per minute, and `query aggregates` then prints
//!   exactly a recount of the event items (`aggregates::figures_by_minute`) plus the
//!   windows' dead letters; an event outside the range is not counted, and a minute with
//!   neither events nor dead letters loses its items.

use std::collections::{BTreeMap, HashMap};
use std::process::Command;

use aggregates::{figures_by_minute, AggregateItem, EventFacts, Figures, Source};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType,
};
use aws_sdk_dynamodb::Client;
use query::aggregate::attr::item_to_sdk;
use serde_json::Value;
use testkit::moto::Moto;

const EVENTS: &str = "events";
const AGGREGATES: &str = "aggregates";
/// 2025-12-07T20:31Z.
const M1: i64 = 1_765_139_460_000;
const M2: i64 = M1 + 60_000;
/// A minute with window parts but no events and no dead letters.
const M3: i64 = M1 + 120_000;

async fn create(client: &Client, name: &str, keys: [&str; 2]) {
    let mut create = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest);
    for (key, kind) in keys.iter().zip([KeyType::Hash, KeyType::Range]) {
        create = create
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name(*key)
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .unwrap(),
            )
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name(*key)
                    .key_type(kind)
                    .build()
                    .unwrap(),
            );
    }
    create.send().await.expect("create table");
}

/// (timestamp, type, user, product, price, quantity); the price as a number or a string.
type Event = (
    i64,
    &'static str,
    &'static str,
    &'static str,
    AttributeValue,
    &'static str,
);

fn events() -> Vec<Event> {
    let n = |s: &str| AttributeValue::N(s.into());
    let s = |s: &str| AttributeValue::S(s.into());
    vec![
        (M1 + 1_000, "view", "u1", "p1", n("19.99"), "1"),
        (M1 + 2_000, "view", "u2", "p2", n("5.00"), "1"),
        (M1 + 3_000, "add_to_cart", "u1", "p1", n("19.99"), "1"),
        (M1 + 4_000, "purchase", "u1", "p1", n("19.99"), "3"),
        (M1 + 5_000, "purchase", "u3", "p2", s("0.10"), "2"),
        (M2 + 1_000, "view", "u2", "p1", n("19.99"), "1"),
        (M2 + 2_000, "purchase", "u2", "p1", n("1234.26"), "1"),
        // Outside the range.
        (M1 + 10 * 60_000, "purchase", "u9", "p9", n("1.00"), "1"),
    ]
}

fn facts(event: &Event) -> EventFacts<'_> {
    EventFacts {
        timestamp_ms: event.0,
        event_type: event.1,
        user_id: event.2,
        product_id: Some(event.3),
        price: match &event.4 {
            AttributeValue::N(t) | AttributeValue::S(t) => Some(t),
            _ => None,
        },
        quantity: Some(event.5),
    }
}

async fn put_event(client: &Client, (i, event): (usize, &Event)) {
    let item = HashMap::from([
        ("userId".to_owned(), AttributeValue::S(event.2.into())),
        (
            "eventKey".to_owned(),
            AttributeValue::S(format!("{}#e{i}", event.0)),
        ),
        (
            "eventTimestamp".to_owned(),
            AttributeValue::N(event.0.to_string()),
        ),
        ("eventType".to_owned(), AttributeValue::S(event.1.into())),
        ("productId".to_owned(), AttributeValue::S(event.3.into())),
        (
            "originalEvent".to_owned(),
            AttributeValue::M(HashMap::from([
                ("price".to_owned(), event.4.clone()),
                ("quantity".to_owned(), AttributeValue::N(event.5.into())),
                ("userId".to_owned(), AttributeValue::S(event.2.into())),
            ])),
        ),
    ]);
    client
        .put_item()
        .table_name(EVENTS)
        .set_item(Some(item))
        .send()
        .await
        .expect("put event");
}

fn window(shard: &str, minute_ms: i64, figures: Figures) -> AggregateItem {
    AggregateItem {
        minute_ms,
        source: Source::Window {
            shard_id: shard.into(),
            window_start_ms: minute_ms - 30_000,
            first_sequence: "4959".into(),
        },
        figures,
        written_at_ms: minute_ms + 300_000,
        expires_at: Some(minute_ms / 1000 + 86_400),
    }
}

async fn put_aggregate(client: &Client, item: &AggregateItem) {
    client
        .put_item()
        .table_name(AGGREGATES)
        .set_item(Some(item_to_sdk(&item.attributes())))
        .send()
        .await
        .expect("put aggregate");
}

struct Run {
    stdout: String,
    stderr: String,
}

fn run(moto: &Moto, args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_query"))
        .arg("aggregates")
        .args(["--endpoint-url", &moto.endpoint, "--region", "us-east-1"])
        .args(["--table-name", AGGREGATES])
        .args([
            "--from",
            "2025-12-07T20:31:00Z",
            "--to",
            "2025-12-07T20:34:00Z",
        ])
        .args(args)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env_remove("AWS_PROFILE")
        .output()
        .expect("query runs");
    let run = Run {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert_eq!(out.status.code(), Some(0), "{args:?}: {}", run.stderr);
    run
}

/// The JSON lines of a run, by bucket start.
fn buckets(run: &Run) -> BTreeMap<i64, Value> {
    run.stdout
        .lines()
        .map(|line| {
            let value: Value = serde_json::from_str(line).expect("one JSON object per line");
            (value["fromMs"].as_i64().expect("fromMs"), value)
        })
        .collect()
}

/// What a bucket line must say for `figures`.
fn expected(minute_ms: i64, figures: &Figures) -> Value {
    query::aggregate::render::to_json(minute_ms, 60_000, figures)
}

async fn aggregate_parts(client: &Client) -> Vec<String> {
    let scanned = client
        .scan()
        .table_name(AGGREGATES)
        .consistent_read(true)
        .send()
        .await
        .expect("scan");
    let mut parts: Vec<String> = scanned
        .items()
        .iter()
        .map(|i| format!("{} {}", i["day"].as_s().unwrap(), i["part"].as_s().unwrap()))
        .collect();
    parts.sort();
    parts
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs moto from .venv (make venv); make test runs it with --include-ignored"]
async fn aggregates_sum_the_parts_and_a_rebuild_equals_a_recount() {
    let moto = Moto::start();
    let config = testkit::sdk_config(&moto.endpoint).await;
    let client = Client::new(&config);
    create(&client, EVENTS, ["userId", "eventKey"]).await;
    create(&client, AGGREGATES, ["day", "part"]).await;
    let events = events();
    for event in events.iter().enumerate() {
        put_event(&client, event).await;
    }

    // Two shards' windows counted the first minute's events but one (a redriven purchase)
    // and none of the second minute's (a replay); they dead-lettered 2 + 1 records of it.
    let counted = |range: std::ops::Range<usize>| {
        let mut f = Figures::default();
        for event in &events[range] {
            f.add(&facts(event));
        }
        f
    };
    let mut shard0 = counted(0..3);
    shard0.add_dead_lettered(2);
    let mut shard1 = counted(3..4);
    shard1.add_dead_lettered(1);
    let mut idle = Figures::default();
    idle.add(&facts(&(
        M3,
        "view",
        "ghost",
        "p1",
        AttributeValue::N("1".into()),
        "1",
    )));
    idle.events = 0;
    idle.by_type.clear();
    idle.users = Default::default();
    let parts = [
        window("shardId-000000000000", M1, shard0.clone()),
        window("shardId-000000000001", M1, shard1.clone()),
        window("shardId-000000000000", M3, idle),
    ];
    for part in &parts {
        put_aggregate(&client, part).await;
    }

    // What the windows wrote, summed: users merged (u1 is on both shards).
    let before = run(&moto, &["--format", "json"]);
    let mut windows = shard0.clone();
    windows.merge(&shard1);
    assert_eq!(windows.users.estimate(), 2);
    let lines = buckets(&before);
    assert_eq!(lines.len(), 2, "{}", before.stdout);
    assert_eq!(lines[&M1], expected(M1, &windows));
    assert_eq!(lines[&M1]["revenueCents"], 5_997);
    assert!(
        before
            .stderr
            .ends_with("aggregates: items=3 pages=1 buckets=2\n"),
        "{}",
        before.stderr
    );
    let text = run(&moto, &[]);
    assert!(text.stdout.starts_with("TIME (UTC)"), "{}", text.stdout);
    assert!(text.stdout.contains("2025-12-07T20:31Z"), "{}", text.stdout);

    // A dry run says what it would do and changes nothing.
    let rebuild = ["--rebuild", "--event-table-name", EVENTS, "--segments", "3"];
    let dry = run(&moto, &[&rebuild[..], &["--dry-run"]].concat());
    assert!(
        dry.stderr.lines().last().unwrap().starts_with(
            "would rebuild (dry run, nothing changed): minutes=2 events=7 items_to_write=2 \
             items_to_delete=3"
        ),
        "{}",
        dry.stderr
    );
    assert!(
        dry.stdout.contains("write  2025-12-07 20:31#rebuild"),
        "{}",
        dry.stdout
    );
    assert_eq!(aggregate_parts(&client).await.len(), 3);

    let rebuilt = run(&moto, &rebuild);
    assert!(
        rebuilt
            .stderr
            .ends_with("rebuilt: minutes=2 events=7 items_written=2 items_deleted=3\n"),
        "{}",
        rebuilt.stderr
    );
    assert!(
        rebuilt.stderr.contains("rebuild: scanning events"),
        "{}",
        rebuilt.stderr
    );
    assert_eq!(
        aggregate_parts(&client).await,
        ["2025-12-07 20:31#rebuild", "2025-12-07 20:32#rebuild"]
    );

    // The figures now equal a recount of the events of the range, with the windows' dead
    // letters carried over.
    let mut recount = figures_by_minute(events[..7].iter().map(facts));
    recount.get_mut(&M1).unwrap().add_dead_lettered(3);
    let after = buckets(&run(&moto, &["--format", "json"]));
    assert_eq!(after.len(), 2);
    for (minute, figures) in &recount {
        assert_eq!(after[minute], expected(*minute, figures), "minute {minute}");
    }
    assert_eq!(after[&M1]["revenueCents"], 5_997 + 20);
    assert_eq!(after[&M2]["revenue"], "1234.26");
    assert_eq!(after[&M1]["deadLettered"], 3);

    // Summed over the range, by product.
    let product = run(
        &moto,
        &["--every", "1h", "--product", "p1", "--format", "json"],
    );
    let lines = buckets(&product);
    let hour = M1 - M1 % 3_600_000;
    assert_eq!(lines[&hour]["purchases"], 2);
    assert_eq!(lines[&hour]["revenueCents"], 5_997 + 123_426);

    // Rebuilding again changes nothing but the items' writtenAt.
    let again = run(&moto, &rebuild);
    assert!(
        again
            .stderr
            .ends_with("rebuilt: minutes=2 events=7 items_written=2 items_deleted=0\n"),
        "{}",
        again.stderr
    );
    assert_eq!(buckets(&run(&moto, &["--format", "json"])), after);
}
