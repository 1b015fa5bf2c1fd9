//! What the producer's integration tests share: moto with a stream, the producer binary,
//! and reading the stream back event by event (KPL aggregates unpacked).

#![allow(dead_code)] // Each test file uses its part.

pub mod cut;

use std::collections::BTreeMap;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use aws_sdk_kinesis::types::ShardIteratorType;
use kinesis_codec::kpl::{self, Deaggregated};
use producer::source::{Generated, Record};

/// The events' clock: fixed, so a seed gives the same records in the test and the binary.
pub const START_MS: i64 = 1_700_000_000_000;

/// A Kinesis client for `endpoint` (moto, not the proxy).
pub async fn kinesis(endpoint: &str) -> aws_sdk_kinesis::Client {
    aws_sdk_kinesis::Client::new(&testkit::sdk_config(endpoint).await)
}

/// Creates stream `name` with `shards` shards.
pub async fn create_stream(client: &aws_sdk_kinesis::Client, name: &str, shards: i32) {
    client
        .create_stream()
        .stream_name(name)
        .shard_count(shards)
        .send()
        .await
        .expect("create the stream");
}

/// The producer binary with `args`, against `endpoint`, with dummy credentials and nothing
/// from the caller's AWS environment.
pub fn producer(endpoint: &str, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_producer"));
    command
        .args(args)
        .args(["--endpoint-url", endpoint, "--region", "us-east-1"])
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_ENDPOINT_URL_KINESIS")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Runs `command` to its end off the async runtime (the proxy lives on it).
pub async fn output(mut command: Command) -> Output {
    tokio::task::spawn_blocking(move || command.output().expect("run the producer"))
        .await
        .expect("the producer's thread")
}

/// The summary line's fields, from the last line of `stdout`, which must be the summary.
pub fn summary(stdout: &[u8]) -> BTreeMap<String, String> {
    let text = String::from_utf8_lossy(stdout);
    let last = text.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("summary: sent="),
        "the last stdout line is not the summary: {text:?}"
    );
    last.trim_start_matches("summary: ")
        .split(' ')
        .filter_map(|field| field.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// A count from the summary.
pub fn count(summary: &BTreeMap<String, String>, field: &str) -> u64 {
    summary[field].parse().expect("a count")
}

/// The records `producer --seed SEED --start-time START_MS --invalid-ratio RATIO COUNT 0`
/// makes, in production order.
pub fn expected(seed: u64, invalid_ratio: f64, count: usize) -> Vec<Record> {
    let mut source = Generated::new(seed, invalid_ratio);
    (0..count).map(|_| source.next_record(START_MS)).collect()
}

/// The same, for a paced run (`--rate`): event n is made at its due time.
pub fn expected_paced(seed: u64, invalid_ratio: f64, count: usize, rate: f64) -> Vec<Record> {
    let mut source = Generated::new(seed, invalid_ratio);
    (0..count)
        .map(|n| {
            let due = Duration::from_secs_f64(1.0 / rate).as_secs_f64() * n as f64;
            let due = Duration::try_from_secs_f64(due).unwrap_or(Duration::MAX);
            source.next_record(START_MS + due.as_millis() as i64)
        })
        .collect()
}

/// Every event in the stream, by partition key in stream order (shards read from
/// TRIM_HORIZON, aggregates unpacked), and how many Kinesis records held them.
pub async fn read_back(
    client: &aws_sdk_kinesis::Client,
    stream: &str,
) -> (BTreeMap<String, Vec<Vec<u8>>>, usize) {
    let shards = client
        .list_shards()
        .stream_name(stream)
        .send()
        .await
        .expect("list the shards");
    let mut events: BTreeMap<String, Vec<Vec<u8>>> = BTreeMap::new();
    let mut kinesis_records = 0;
    for shard in shards.shards() {
        let mut iterator = client
            .get_shard_iterator()
            .stream_name(stream)
            .shard_id(shard.shard_id())
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .send()
            .await
            .expect("a shard iterator")
            .shard_iterator()
            .map(str::to_owned);
        while let Some(current) = iterator {
            let page = client
                .get_records()
                .shard_iterator(current)
                .limit(10_000)
                .send()
                .await
                .expect("read the shard");
            if page.records().is_empty() {
                break;
            }
            for record in page.records() {
                kinesis_records += 1;
                let key = record.partition_key().unwrap_or_default().to_owned();
                match kpl::deaggregate(record.data().as_ref()).expect("a readable record") {
                    Deaggregated::Single(data) => {
                        events.entry(key).or_default().push(data.to_vec())
                    }
                    Deaggregated::Aggregate(users) => {
                        for user in users {
                            assert_eq!(user.partition_key, key, "an aggregate of one key");
                            events
                                .entry(key.clone())
                                .or_default()
                                .push(user.data.to_vec());
                        }
                    }
                }
            }
            iterator = page.next_shard_iterator().map(str::to_owned);
        }
    }
    (events, kinesis_records)
}

/// `records` by partition key, in production order.
pub fn by_key(records: &[Record]) -> BTreeMap<String, Vec<Vec<u8>>> {
    let mut keys: BTreeMap<String, Vec<Vec<u8>>> = BTreeMap::new();
    for record in records {
        keys.entry(record.partition_key.clone())
            .or_default()
            .push(record.data.clone());
    }
    keys
}

/// How many events `keys` holds.
pub fn total(keys: &BTreeMap<String, Vec<Vec<u8>>>) -> usize {
    keys.values().map(Vec::len).sum()
}
