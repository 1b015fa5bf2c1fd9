//! backfill against a dev stack on moto, switched from 1 index write shard to 4:
//!
//! - 5,000 generated events are stored by the processor's table sink as the deployed
//!   function (one shard) writes them;
//! - the switch is applied as CloudFormation's rollout makes it: the function gets
//!   `INDEX_WRITE_SHARDS=4`, and both indexes are deleted and created again on
//!   `eventTypeShard` / `productIdShard`, one index per UpdateTable call, with the
//!   definitions of the 4-shard template (moto's CloudFormation does not update a table's
//!   indexes, so the test makes the calls CloudFormation would);
//! - `query --event-type purchase` over the whole time range then finds none of the
//!   purchases a scan of the table finds;
//! - `backfill` updates them, while the processor writes one of the purchases again between
//!   the scan of its page and the page's updates: that write is kept (the update's condition
//!   fails; the item is the processor's, `processedAt` included);
//! - `query` then prints exactly the purchases a scan of the table finds, in order, every
//!   item carries the keys the processor computes for 4 shards, and a second `backfill`
//!   (the binary) writes nothing.
//!
//! `--dry-run`, the checkpoint and retries are tested without AWS, beside the code. Most of
//! the time here is moto's: one UpdateItem per item (37–52 s for 5,000 on a 2-core machine
//! shared with a CI run; 69–79 s for the whole test).

use std::collections::{BTreeMap, HashMap};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use aws_edge::args::{AwsArgs, StackArgs};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, CreateGlobalSecondaryIndexAction, DeleteGlobalSecondaryIndexAction,
    GlobalSecondaryIndexUpdate, KeySchemaElement, Projection, ScalarAttributeType,
};
use aws_sdk_dynamodb::types::{KeyType, ProjectionType};
use aws_sdk_lambda::types::Environment;
use backfill::plan::Key;
use backfill::progress::Observer;
use clap::Parser;
use contract::index::{EVENT_TYPE_SHARD, PRODUCT_ID_SHARD};
use pipeline_tests::{deploy, table_items, table_sink, Deployed};
use processor::sinks::dynamodb::DynamoTable;
use processor::sinks::TableWriter;
use testkit::moto::Moto;

const EVENTS: usize = 5_000;
const SHARDS: u32 = 4;
const PROJECT: &str = "backfill";

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The record of each stored event, by item key: what the processor would be handed again.
type Records = BTreeMap<Key, (usize, Vec<u8>)>;

/// Stores `count` generated events through `sink`, 25 to a BatchWriteItem as the
/// processor writes them; returns their records.
async fn store(sink: &DynamoTable, count: usize) -> Records {
    let mut generator = events::Generator::new(pipeline_tests::SEED);
    let mut records = Records::new();
    let mut items = Vec::new();
    for i in 0..count {
        let event = generator.next_event(pipeline_tests::START_MS + i as i64 * 50);
        let data = serde_json::to_vec(&event).expect("an event serializes");
        let item = process(&data, i);
        records.insert(
            Key {
                user_id: item.partition_key().to_owned(),
                event_key: item.sort_key().to_owned(),
            },
            (i, data),
        );
        items.push(item);
    }
    assert_eq!(
        records.len(),
        count,
        "every generated event has its own key"
    );
    for chunk in items.chunks(25) {
        let refs: Vec<&events::Item> = chunk.iter().collect();
        let unprocessed = sink.batch_write(&refs).await.expect("BatchWriteItem");
        assert!(unprocessed.is_empty(), "moto leaves nothing unprocessed");
    }
    records
}

/// The processor's pure path: a record's bytes to the item it stores.
fn process(data: &[u8], n: usize) -> events::Item {
    let event_id = format!("shardId-000000000000:{:056}", n);
    let ctx = events::RecordContext {
        event_id: &event_id,
        arrival_ms: pipeline_tests::START_MS,
        processed_at_ms: now_ms(),
    };
    events::process_record(data, &ctx).expect("generated events are valid")
}

/// What the rollout of `dynamodb_index_write_shards = 4` changes on AWS, made with the
/// calls CloudFormation makes: the function's environment, then each index deleted and
/// created again (one index per update) with the 4-shard template's definition.
async fn switch_to_sharded(deployed: &Deployed) {
    let lambda = aws_sdk_lambda::Client::new(&deployed.config);
    let function = &deployed.target.function_name;
    let configuration = lambda
        .get_function_configuration()
        .function_name(function)
        .send()
        .await
        .expect("GetFunctionConfiguration");
    let mut variables = configuration
        .environment()
        .and_then(|e| e.variables())
        .cloned()
        .unwrap_or_default();
    variables.insert(contract::env::INDEX_WRITE_SHARDS.into(), SHARDS.to_string());
    lambda
        .update_function_configuration()
        .function_name(function)
        .environment(
            Environment::builder()
                .set_variables(Some(variables))
                .build(),
        )
        .send()
        .await
        .expect("UpdateFunctionConfiguration");

    let settings = synth::config::Config::load(
        None,
        None,
        &[
            format!("project_name={PROJECT}"),
            format!("dynamodb_index_write_shards={SHARDS}"),
        ],
    )
    .expect("a valid configuration");
    let template = synth::stack::build(&settings)
        .to_document()
        .expect("the template synthesizes");
    let table = &template["Resources"]["EventTable"]["Properties"];
    let definitions: Vec<AttributeDefinition> = table["AttributeDefinitions"]
        .as_array()
        .expect("attribute definitions")
        .iter()
        .map(|d| {
            AttributeDefinition::builder()
                .attribute_name(d["AttributeName"].as_str().unwrap())
                .attribute_type(ScalarAttributeType::from(
                    d["AttributeType"].as_str().unwrap(),
                ))
                .build()
                .unwrap()
        })
        .collect();
    let indexes = table["GlobalSecondaryIndexes"].as_array().expect("indexes");
    let dynamodb = aws_sdk_dynamodb::Client::new(&deployed.config);
    let update = |change: GlobalSecondaryIndexUpdate| {
        dynamodb
            .update_table()
            .table_name(&deployed.target.table_name)
            .set_attribute_definitions(Some(definitions.clone()))
            .global_secondary_index_updates(change)
            .send()
    };
    for index in indexes {
        let name = index["IndexName"].as_str().unwrap();
        let delete = DeleteGlobalSecondaryIndexAction::builder()
            .index_name(name)
            .build()
            .unwrap();
        update(GlobalSecondaryIndexUpdate::builder().delete(delete).build())
            .await
            .expect("UpdateTable: delete an index");
    }
    for index in indexes {
        let keys = index["KeySchema"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| {
                KeySchemaElement::builder()
                    .attribute_name(k["AttributeName"].as_str().unwrap())
                    .key_type(KeyType::from(k["KeyType"].as_str().unwrap()))
                    .build()
                    .unwrap()
            })
            .collect();
        let projection = Projection::builder()
            .projection_type(ProjectionType::from(
                index["Projection"]["ProjectionType"].as_str().unwrap(),
            ))
            .build();
        let create = CreateGlobalSecondaryIndexAction::builder()
            .index_name(index["IndexName"].as_str().unwrap())
            .set_key_schema(Some(keys))
            .projection(projection)
            .build()
            .unwrap();
        update(GlobalSecondaryIndexUpdate::builder().create(create).build())
            .await
            .expect("UpdateTable: create an index");
    }
}

/// `query --stack-name S --event-type purchase` over all time: the printed items' keys, in
/// the printed order.
async fn query_purchases(moto: &Moto, stack: &str) -> (Vec<(i64, Key)>, String) {
    let args = query::cli::Cli::try_parse_from([
        "query",
        "--endpoint-url",
        &moto.endpoint,
        "--region",
        "us-east-1",
        "--stack-name",
        stack,
        "--event-type",
        "purchase",
    ])
    .expect("query's arguments")
    .args()
    .expect("checked");
    let answer = query::run(&args).await.expect("query runs");
    let keys = answer
        .items
        .iter()
        .map(|item| {
            let number = item["eventTimestamp"].as_n().expect("a number timestamp");
            (
                number.parse().expect("epoch ms"),
                Key::of(item).expect("a key"),
            )
        })
        .collect();
    (keys, answer.summary())
}

/// The oracle: the scanned items of type purchase, as query orders them.
fn scanned_purchases(items: &BTreeMap<(String, String), backfill::plan::Item>) -> Vec<(i64, Key)> {
    let mut found: Vec<(i64, Key)> = items
        .values()
        .filter(|item| item["eventType"].as_s().is_ok_and(|t| t == "purchase"))
        .map(|item| {
            let number = item["eventTimestamp"].as_n().unwrap();
            (number.parse().unwrap(), Key::of(item).unwrap())
        })
        .collect();
    found.sort();
    found
}

/// Writes one stored purchase again through the processor's sink (4 shards, a later
/// `processedAt`) when the first page holding one has been scanned and before its updates.
struct ProcessorWritesDuringTheBackfill {
    sink: DynamoTable,
    records: Arc<Records>,
    purchases: Vec<Key>,
    written: Mutex<Option<(Key, i64)>>,
    done: AtomicBool,
}

impl Observer for ProcessorWritesDuringTheBackfill {
    fn page_read(&self, _segment: u32, keys: &[Key]) {
        if self.done.load(Ordering::SeqCst) {
            return;
        }
        let Some(key) = keys.iter().find(|k| self.purchases.contains(k)) else {
            return;
        };
        if self.done.swap(true, Ordering::SeqCst) {
            return;
        }
        let (n, data) = &self.records[key];
        let item = process(data, *n);
        let processed_at = match item.get("processedAt") {
            Some(events::AttrRef::N(n)) => n.parse().unwrap(),
            other => panic!("processedAt is {other:?}"),
        };
        // The observer is called inside the backfill's task: wait for the write there, on a
        // worker of the multi-threaded runtime.
        tokio::task::block_in_place(|| {
            tokio::runtime::Handle::current().block_on(async {
                let left = self.sink.batch_write(&[&item]).await.expect("the write");
                assert!(left.is_empty());
            })
        });
        *self.written.lock().unwrap() = Some((key.clone(), processed_at));
    }

    fn note(&self, text: &str) {
        eprintln!("{text}");
    }
}

/// Runs the backfill binary; returns its exit status, stdout's last line and stderr.
fn backfill_binary(moto: &Moto, stack: &str, args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_backfill"))
        .args(["--endpoint-url", &moto.endpoint, "--region", "us-east-1"])
        .args(["--stack-name", stack])
        .args(args)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env_remove("AWS_PROFILE")
        .output()
        .expect("backfill runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.lines().last().unwrap_or_default().to_owned();
    (
        out.status.code(),
        last,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `key=value` pairs of a summary line.
fn counts(line: &str) -> HashMap<String, String> {
    line.split(' ')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto from .venv (make venv); make test runs it"]
async fn a_stack_switched_to_4_shards_is_backfilled_and_query_finds_every_purchase() {
    let started = Instant::now();
    // query and backfill, run here as libraries, read credentials the SDK's way; moto takes
    // any. Set before any thread of the test reads the environment.
    std::env::set_var("AWS_ACCESS_KEY_ID", "test");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "test");
    std::env::remove_var("AWS_PROFILE");
    let moto = Moto::start();
    let deployed = deploy(&moto, PROJECT, &[]).await;
    assert_eq!(deployed.target.processor.index_write_shards.count(), 1);
    let records = Arc::new(store(&table_sink(&deployed, &deployed.config), EVENTS).await);
    let stored = started.elapsed();

    switch_to_sharded(&deployed).await;
    let target = local_runner::discovery::discover(
        &deployed.config,
        &deployed.stack,
        &local_runner::discovery::Overrides::default(),
    )
    .await
    .expect("the stack again");
    assert_eq!(target.processor.index_write_shards.count(), SHARDS);
    let deployed = Deployed { target, ..deployed };
    eprintln!(
        "stored and switched ({:.1} s in)",
        started.elapsed().as_secs_f64()
    );

    let (before, before_summary) = query_purchases(&moto, &deployed.stack).await;
    assert!(
        before.is_empty(),
        "before the backfill the sharded index holds no older event: {} printed \
         ({before_summary})",
        before.len()
    );

    let checkpoint =
        std::env::temp_dir().join(format!("backfill-moto-{}.json", std::process::id()));
    let options = backfill::Options {
        stack: StackArgs {
            stack_name: deployed.stack.clone(),
            aws: AwsArgs {
                endpoint_url: Some(moto.endpoint.clone()),
                region: Some("us-east-1".into()),
            },
        },
        dry_run: false,
        segments: 4,
        max_write_units: 1_000_000,
        checkpoint: Some(checkpoint.clone()),
        restart: false,
    };
    let observer = Arc::new(ProcessorWritesDuringTheBackfill {
        sink: table_sink(&deployed, &deployed.config),
        records: Arc::clone(&records),
        purchases: records
            .iter()
            .filter(|(_, (_, data))| {
                let event: serde_json::Value = serde_json::from_slice(data).unwrap();
                event["eventType"] == "purchase"
            })
            .map(|(key, _)| key.clone())
            .collect(),
        written: Mutex::new(None),
        done: AtomicBool::new(false),
    });
    let watching = Arc::clone(&observer);
    let backfilling = Instant::now();
    let report = tokio::spawn(async move { backfill::run(&options, watching.as_ref()).await })
        .await
        .expect("the backfill's task")
        .expect("the backfill starts");
    let took = backfilling.elapsed();
    assert!(report.stopped.is_none(), "{:?}", report.warnings());
    let c = report.counts;
    eprintln!("{} ({:.1} s)", report.summary(), took.as_secs_f64());
    assert_eq!(c.scanned, EVENTS as u64);
    assert_eq!(c.updated, EVENTS as u64 - 1);
    assert_eq!(c.skipped_conditional, 1, "the processor's write came first");
    assert_eq!((c.already, c.invalid, c.failed), (0, 0, 0));
    assert_eq!(report.shards, SHARDS);
    assert_eq!(report.exit_code(), 0);
    assert!(
        !checkpoint.exists(),
        "a finished backfill leaves no checkpoint"
    );

    // The processor's write is the item, whole.
    let (key, processed_at) = observer.written.lock().unwrap().clone().expect("a write");
    let after = table_items(&deployed).await;
    assert_eq!(after.len(), EVENTS);
    let purchases = scanned_purchases(&after);
    assert!(purchases.len() > 100, "{} purchases", purchases.len());
    eprintln!(
        "before: query printed {} of the {} purchases the scan finds ({before_summary})",
        before.len(),
        purchases.len()
    );
    let dynamodb = aws_sdk_dynamodb::Client::new(&deployed.config);
    let rewritten = dynamodb
        .get_item()
        .table_name(&deployed.target.table_name)
        .set_key(Some(key.to_item()))
        .consistent_read(true)
        .send()
        .await
        .expect("GetItem")
        .item
        .expect("the rewritten item");
    assert_eq!(
        rewritten["processedAt"].as_n().unwrap(),
        &processed_at.to_string(),
        "the processor's write is kept"
    );
    for (user, event_key) in after.keys() {
        let item = &after[&(user.clone(), event_key.clone())];
        let event_type = item["eventType"].as_s().unwrap();
        let want = contract::index::shard_key(event_type, user, event_key, SHARDS);
        assert_eq!(item[EVENT_TYPE_SHARD].as_s().unwrap(), &want);
        match item.get("productId") {
            Some(product) => {
                let want =
                    contract::index::shard_key(product.as_s().unwrap(), user, event_key, SHARDS);
                assert_eq!(item[PRODUCT_ID_SHARD].as_s().unwrap(), &want);
            }
            None => assert!(!item.contains_key(PRODUCT_ID_SHARD)),
        }
    }

    let (printed, summary) = query_purchases(&moto, &deployed.stack).await;
    eprintln!(
        "after: query printed {} of the {} purchases the scan finds ({summary})",
        printed.len(),
        purchases.len()
    );
    assert_eq!(printed.len(), purchases.len(), "{summary}");
    assert!(
        printed == purchases,
        "query prints the scan's purchases, in order"
    );

    let (status, line, stderr) = backfill_binary(
        &moto,
        &deployed.stack,
        &["--checkpoint", checkpoint.to_str().unwrap()],
    );
    assert_eq!(status, Some(0), "{stderr}");
    let again = counts(&line);
    assert!(line.starts_with("backfill: "), "{line}");
    assert_eq!(again["scanned"], EVENTS.to_string(), "{line}");
    assert_eq!(again["updated"], "0", "{line}");
    assert_eq!(again["already"], EVENTS.to_string(), "{line}");
    assert_eq!(again["write_units"], "0", "no write at all: {line}");
    eprintln!(
        "second: {line}; stored in {:.1} s, whole test {:.1} s",
        stored.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
}
