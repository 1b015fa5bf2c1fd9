//! The query tool against the whole pipeline on moto: the stack synthesized with 8 index
//! write shards (and with 1), 2,000 generated events produced onto its stream and drained
//! through the processor by local-runner's mapping, then:
//!
//! - every item carries the shard keys the processor promises (and `productIdShard` only
//!   with a `productId`), every shard value of "view" holds items and none more than 3× its
//!   fair share;
//! - `query` prints exactly the purchase events of a time window, in time order, equal to
//!   an oracle built from a scan of the table (filtered, then sorted the same way), with and
//!   without `--limit`, by product as well, and with the shard count learned from the
//!   function or taken as the 100-shard fallback (`--table-name`);
//! - every printed item is the table's item whole, attribute for attribute — also when the
//!   indexes copy only the keys (`dynamodb_gsi_projection = KEYS_ONLY`) and `query` reads the
//!   items from the table with BatchGetItem.

use std::collections::{BTreeMap, HashMap};
use std::process::Command;

use aws_sdk_dynamodb::types::AttributeValue;
use contract::index::{EVENT_TYPE_SHARD, PRODUCT_ID_SHARD};
use pipeline_tests::{deploy, drain, produce, table_items, table_sink, Deployed, Key};
use testkit::moto::Moto;

type Items = BTreeMap<Key, HashMap<String, AttributeValue>>;

const EVENTS: u64 = 2_000;

/// A scanned item's string attribute.
fn text<'a>(item: &'a HashMap<String, AttributeValue>, name: &str) -> Option<&'a str> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
}

fn timestamp(item: &HashMap<String, AttributeValue>) -> i64 {
    item.get("eventTimestamp")
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
        .expect("every item has a number eventTimestamp")
}

/// Deploys with `shards` write shards (and the settings `more`), produces [`EVENTS`] events
/// and drains them through the processor configured from the deployed function's
/// environment, as Lambda would run it.
async fn pipeline(moto: &Moto, project: &str, shards: u32, more: &[&str]) -> Deployed {
    let set = format!("dynamodb_index_write_shards={shards}");
    let sets: Vec<&str> = std::iter::once(set.as_str())
        .chain(more.iter().copied())
        .collect();
    let deployed = deploy(moto, project, &sets).await;
    // The processor's configuration from the deployed function's environment; the sink
    // writes the shard attributes it says.
    assert_eq!(deployed.target.processor.index_write_shards.count(), shards);
    produce(&deployed, EVENTS).await;
    let table = table_sink(&deployed, &deployed.config);
    let summary = drain(&deployed, table, &deployed.config).await;
    assert!(summary.records >= EVENTS as usize, "{summary:?}");
    deployed
}

/// What `query` printed: the items (JSON lines) and its summary's counts.
struct Printed {
    items: Vec<serde_json::Value>,
    summary: BTreeMap<String, usize>,
    stderr: String,
}

fn run_query(moto: &Moto, args: &[&str]) -> Printed {
    let out = Command::new(env!("CARGO_BIN_EXE_query"))
        .args(["--endpoint-url", &moto.endpoint, "--region", "us-east-1"])
        .args(["--format", "json"])
        .args(args)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env_remove("AWS_PROFILE")
        .output()
        .expect("query runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
    let last = stderr.lines().last().unwrap_or_default();
    let summary = last
        .strip_prefix("query: ")
        .unwrap_or_else(|| panic!("last line on stderr {last:?}"))
        .split(' ')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.parse().expect("a count")))
        .collect();
    let items = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON object per line"))
        .collect();
    Printed {
        items,
        summary,
        stderr,
    }
}

/// The printed items' keys, in the printed order.
fn printed_keys(printed: &Printed) -> Vec<(i64, String, String)> {
    printed
        .items
        .iter()
        .map(|item| {
            (
                item["eventTimestamp"].as_i64().expect("a number timestamp"),
                item["userId"].as_str().expect("userId").to_owned(),
                item["eventKey"].as_str().expect("eventKey").to_owned(),
            )
        })
        .collect()
}

/// Attributes the scan leaves out (see [`table_items`]); the printed items have them.
const NOT_SCANNED: [&str; 2] = ["processedAt", "processingLatency"];

/// Fails with what differs (counts, the first difference) rather than two long lists: the
/// printed items must be the `expected` ones, in order, each the scanned item whole.
fn assert_same(printed: &Printed, items: &Items, expected: &[(i64, String, String)], what: &str) {
    let got = printed_keys(printed);
    if got == expected {
        for (item, (_, user, key)) in printed.items.iter().zip(expected) {
            let mut item = item.clone();
            for name in NOT_SCANNED {
                let removed = item.as_object_mut().and_then(|o| o.remove(name));
                assert!(
                    removed.is_some(),
                    "{what}: {user}/{key} printed without {name}"
                );
            }
            let scanned = query::output::to_json(&items[&(user.clone(), key.clone())]);
            assert_eq!(
                item, scanned,
                "{what}: {user}/{key} printed otherwise than stored"
            );
        }
    } else {
        let first = got.iter().zip(expected).position(|(g, e)| g != e);
        panic!(
            "{what}: query printed {} events, the scan finds {}; first difference at {first:?}: \
             printed {:?}, expected {:?}; stderr: {}",
            got.len(),
            expected.len(),
            first.and_then(|i| got.get(i)),
            first.and_then(|i| expected.get(i)),
            printed.stderr
        );
    }
}

/// The oracle: the scanned items that `keep`, as (eventTimestamp, userId, eventKey) sorted.
fn oracle(
    items: &Items,
    keep: impl Fn(&HashMap<String, AttributeValue>) -> bool,
) -> Vec<(i64, String, String)> {
    let mut found: Vec<(i64, String, String)> = items
        .iter()
        .filter(|(_, item)| keep(item))
        .map(|((user, key), item)| (timestamp(item), user.clone(), key.clone()))
        .collect();
    found.sort();
    found
}

/// The middle half of the purchases' times: a window with purchases before and after it.
fn window(items: &Items) -> (i64, i64) {
    let mut times: Vec<i64> = items
        .values()
        .filter(|i| text(i, "eventType") == Some("purchase"))
        .map(timestamp)
        .collect();
    times.sort_unstable();
    assert!(times.len() >= 40, "{} purchases", times.len());
    (times[times.len() / 4], times[times.len() * 3 / 4])
}

/// The summary's counts of items read whole from the table: none with an ALL index, else
/// every printed item, none missing (nothing expires here), in calls of at most 100.
fn assert_fetched(printed: &Printed, from_table: bool) {
    let summary = &printed.summary;
    if !from_table {
        assert_eq!(summary.get("fetched"), None, "{}", printed.stderr);
        return;
    }
    assert_eq!(summary["fetched"], summary["items"], "{}", printed.stderr);
    assert_eq!(summary["missing"], 0, "{}", printed.stderr);
    assert_eq!(
        summary["batch_gets"],
        summary["items"].div_ceil(100),
        "{}",
        printed.stderr
    );
}

/// The checks of query all layouts share; `shards` is what the summary must say,
/// `from_table` whether the indexes copy less than ALL, so the items come from the table.
fn query_matches_the_oracle(
    moto: &Moto,
    deployed: &Deployed,
    items: &Items,
    shards: usize,
    from_table: bool,
) {
    let (from, to) = window(items);
    let in_window = |item: &HashMap<String, AttributeValue>| (from..=to).contains(&timestamp(item));
    let purchases = oracle(items, |i| {
        text(i, "eventType") == Some("purchase") && in_window(i)
    });
    let all_purchases = oracle(items, |i| text(i, "eventType") == Some("purchase"));
    assert!(purchases.len() < all_purchases.len());

    // The window's ends as epoch ms and as RFC 3339: both inclusive.
    let to_rfc3339 = query::time::format(to);
    let (from_arg, stack) = (from.to_string(), deployed.stack.as_str());
    let base = ["--stack-name", stack, "--event-type", "purchase"];
    let window_args = ["--from", from_arg.as_str(), "--to", to_rfc3339.as_str()];
    let printed = run_query(moto, &[&base[..], &window_args[..]].concat());
    assert_same(&printed, items, &purchases, "purchases in the window");
    assert_fetched(&printed, from_table);
    println!(
        "purchases {from}..={to}: {} of {} (summary {:?})",
        purchases.len(),
        all_purchases.len(),
        printed.summary
    );
    assert_eq!(printed.summary["items"], purchases.len());
    assert_eq!(printed.summary["shards"], shards);
    assert!(printed.summary["queried_pages"] >= shards);
    assert!(
        !printed.stderr.contains("possible shards"),
        "{}",
        printed.stderr
    );
    // Every attribute comes back, the processor's shard key among them when sharded.
    let first = &printed.items[0];
    assert_eq!(first["eventType"], "purchase");
    assert_eq!(first.get(EVENT_TYPE_SHARD).is_some(), shards > 1);

    // The first 7 of the window, and the same with the shard count unknown (--table-name:
    // the fallback reads all 100 possible shards).
    let limited = run_query(
        moto,
        &[
            &base[..],
            &window_args[..],
            &["--limit", "7", "--page-size", "2"],
        ]
        .concat(),
    );
    assert_same(
        &limited,
        items,
        &purchases[..7],
        "the window's first 7 purchases",
    );
    assert_fetched(&limited, from_table);
    let table = deployed.target.table_name.as_str();
    let by_table = [
        "--table-name",
        table,
        "--event-type",
        "purchase",
        "--from",
        &from_arg,
        "--to",
        &to_rfc3339,
        "--limit",
        "7",
    ];
    let fallback = run_query(moto, &by_table);
    assert_same(
        &fallback,
        items,
        &purchases[..7],
        "the same by --table-name",
    );
    assert_fetched(&fallback, from_table);
    let expected_shards = if shards > 1 { 100 } else { 1 };
    assert_eq!(
        fallback.summary["shards"], expected_shards,
        "{}",
        fallback.stderr
    );

    // By product, the whole time: the product with the most events.
    let mut per_product: BTreeMap<&str, usize> = BTreeMap::new();
    for item in items.values() {
        if let Some(p) = text(item, "productId") {
            *per_product.entry(p).or_default() += 1;
        }
    }
    let (product, count) = per_product
        .iter()
        .max_by_key(|(p, n)| (**n, std::cmp::Reverse(**p)))
        .map(|(p, n)| (*p, *n))
        .expect("events with products");
    // Pages of 2 items: every key takes several pages, and the pages still add up.
    let by_product = run_query(
        moto,
        &[
            "--stack-name",
            stack,
            "--product-id",
            product,
            "--page-size",
            "2",
        ],
    );
    let expected = oracle(items, |i| text(i, "productId") == Some(product));
    assert_eq!(expected.len(), count);
    assert_same(&by_product, items, &expected, "the events of one product");
    assert_fetched(&by_product, from_table);
    assert!(
        by_product.summary["queried_pages"] >= count / 2,
        "{:?}",
        by_product.summary
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto from .venv (make venv); make test runs it with --include-ignored"]
async fn eight_write_shards_spread_views_and_query_reads_them_all() {
    let moto = Moto::start();
    let deployed = pipeline(&moto, "qshard8", 8, &[]).await;
    let items = table_items(&deployed).await;
    assert!(items.len() > 1_500, "{} items", items.len());

    // Every item carries the keys the processor promises.
    for ((user, key), item) in &items {
        let event_type = text(item, "eventType").expect("eventType");
        let shard_key = contract::index::shard_key(event_type, user, key, 8);
        assert_eq!(text(item, EVENT_TYPE_SHARD), Some(shard_key.as_str()));
        let expected_product =
            text(item, "productId").map(|p| contract::index::shard_key(p, user, key, 8));
        assert_eq!(text(item, PRODUCT_ID_SHARD), expected_product.as_deref());
    }

    // Every shard of "view" holds items, none over 3× its fair share.
    let mut views: BTreeMap<&str, usize> = BTreeMap::new();
    for item in items.values() {
        if text(item, "eventType") == Some("view") {
            *views
                .entry(text(item, EVENT_TYPE_SHARD).unwrap_or("-"))
                .or_default() += 1;
        }
    }
    let expected: Vec<String> = contract::index::all_shard_keys("view", 8).collect();
    assert_eq!(
        views.keys().copied().collect::<Vec<_>>(),
        expected,
        "{views:?}"
    );
    let total: usize = views.values().sum();
    for (shard, &count) in &views {
        assert!(
            count > 0 && count * 8 <= 3 * total,
            "{shard} holds {count} of {total} views (fair share {}): {views:?}",
            total / 8
        );
    }
    println!("views per shard ({total} views): {views:?}");

    query_matches_the_oracle(&moto, &deployed, &items, 8, false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto from .venv (make venv); make test runs it with --include-ignored"]
async fn one_write_shard_keeps_the_plain_keys_and_query_reads_them() {
    let moto = Moto::start();
    let deployed = pipeline(&moto, "qshard1", 1, &[]).await;
    let items = table_items(&deployed).await;
    assert!(items.len() > 1_500, "{} items", items.len());
    assert!(items
        .values()
        .all(|i| !i.contains_key(EVENT_TYPE_SHARD) && !i.contains_key(PRODUCT_ID_SHARD)));
    query_matches_the_oracle(&moto, &deployed, &items, 1, false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto from .venv (make venv); make test runs it with --include-ignored"]
async fn keys_only_indexes_and_query_prints_the_items_whole_from_the_table() {
    let moto = Moto::start();
    let keys_only = "dynamodb_gsi_projection=KEYS_ONLY";
    let deployed = pipeline(&moto, "qkeys8", 8, &[keys_only]).await;
    let items = table_items(&deployed).await;
    assert!(items.len() > 1_500, "{} items", items.len());

    // The index really holds only keys here, so whole printed items prove the gets.
    let dynamodb = aws_sdk_dynamodb::Client::new(&deployed.config);
    let page = dynamodb
        .query()
        .table_name(&deployed.target.table_name)
        .index_name("EventTypeIndex")
        .key_condition_expression("#pk = :pk")
        .expression_attribute_names("#pk", EVENT_TYPE_SHARD)
        .expression_attribute_values(":pk", AttributeValue::S("purchase#0".into()))
        .limit(1)
        .send()
        .await
        .expect("query the index");
    let mut names: Vec<&str> = page.items()[0].keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        ["eventKey", "eventTimestamp", EVENT_TYPE_SHARD, "userId"]
    );

    query_matches_the_oracle(&moto, &deployed, &items, 8, true);
}

/// What `query` printed for a stack or table that does not exist: exit status 1, nothing on
/// stdout, and one line on stderr naming the call, what the service said and, once, what to
/// check.
fn refused(moto: &Moto, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_query"))
        .args(args)
        .args(["--endpoint-url", &moto.endpoint, "--region", "us-east-1"])
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL")
        .output()
        .expect("query runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
    assert!(out.stdout.is_empty(), "{args:?}: nothing on stdout");
    assert_eq!(stderr.lines().count(), 1, "{args:?}: one line: {stderr}");
    stderr
}

#[test]
#[ignore = "needs moto from .venv (make venv); make test runs it with --include-ignored"]
fn a_missing_stack_or_table_is_said_once_with_what_to_check() {
    let moto = Moto::start();
    let range = [
        "--from",
        "2026-01-01T00:00:00Z",
        "--to",
        "2026-01-01T01:00:00Z",
    ];
    let events = refused(&moto, &["--stack-name", "nope", "--event-type", "view"]);
    let figures = refused(
        &moto,
        &[&["aggregates", "--stack-name", "nope"][..], &range].concat(),
    );
    for stderr in [events, figures] {
        assert_eq!(
            stderr.trim_end(),
            "error: CloudFormation DescribeStacks(nope) failed: ValidationError: Stack with id \
             nope does not exist; check --stack-name and --region (make deploy creates the \
             stack, make outputs shows it)"
        );
        assert_eq!(stderr.matches("check --stack-name").count(), 1, "{stderr}");
    }
    // A table that does not exist is the service's answer, not a silent endpoint.
    let table = refused(&moto, &["--table-name", "nope", "--event-type", "view"]);
    assert_eq!(
        table.trim_end(),
        "error: DynamoDB DescribeTable(nope) failed: ResourceNotFoundException: Requested \
         resource not found: Table: nope not found; check the table's name (--stack-name or \
         --table-name) and --region"
    );
    let aggregates = refused(
        &moto,
        &[&["aggregates", "--table-name", "nope"][..], &range].concat(),
    );
    assert!(
        aggregates.trim_end().ends_with(
            "ResourceNotFoundException: Requested resource not found; check the aggregate \
             table exists in --region (AggregateTableName)"
        ),
        "{aggregates}"
    );
}
