//! Nothing lost after the stream forgets (docs/archive.md): on moto, a stack with the S3
//! failure archive and the event archive; the function fails for every batch, so the
//! mapping (local-runner) gives each up to the failure bucket with its payload; the stream
//! is then deleted and created again, so its records are gone as after its retention;
//! `redrive` stores every valid event exactly once under the keys a first delivery would
//! have written, from the objects' payloads (some written with `payload` as a JSON string,
//! as other implementations do), reads nothing from the stream (`expired=0`) and leaves no
//! unhandled object. A dead letter too large for SQS is kept whole in the failure bucket and
//! redriven from there. Then the table is emptied and `replay` restores exactly the items of
//! the range from the event archive; a second replay adds nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use aws_sdk_s3::primitives::ByteStream;
use kinesis_codec::on_failure::{OnFailure, PayloadForm};
use pipeline_tests::{
    dead_letters, deploy, drain, expected_key, produce, table_items, Deployed, Key, TableDown,
};
use testkit::moto::Moto;

/// Events produced: at least 2,000 over 2 shards.
const EVENTS: u64 = 2_000;

fn s3(deployed: &Deployed) -> aws_sdk_s3::Client {
    reprocess::objects::s3_client(&deployed.config)
}

/// The keys under `prefix` in `bucket`, with whether each is tagged handled.
async fn objects(deployed: &Deployed, bucket: &str, prefix: &str) -> BTreeMap<String, bool> {
    let s3 = s3(deployed);
    let mut found = BTreeMap::new();
    let mut token = None;
    loop {
        let page = s3
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .set_continuation_token(token)
            .send()
            .await
            .expect("list");
        for object in page.contents() {
            let key = object.key().unwrap_or_default().to_owned();
            let tags = s3
                .get_object_tagging()
                .bucket(bucket)
                .key(&key)
                .send()
                .await
                .expect("tagging");
            let handled = tags.tag_set().iter().any(|t| {
                t.key() == contract::archive::HANDLED_TAG_KEY
                    && t.value() == contract::archive::HANDLED_TAG_VALUE
            });
            found.insert(key, handled);
        }
        token = page.next_continuation_token().map(str::to_owned);
        if token.is_none() {
            return found;
        }
    }
}

/// Rewrites every other on-failure object with `payload` as a JSON string, as some
/// implementations write it; returns how many were rewritten.
async fn stringify_every_other_payload(deployed: &Deployed, bucket: &str) -> usize {
    let s3 = s3(deployed);
    let keys: Vec<String> = objects(deployed, bucket, contract::archive::ON_FAILURE_PREFIX)
        .await
        .into_keys()
        .collect();
    let mut rewritten = 0;
    for key in keys.iter().step_by(2) {
        let body = s3
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .expect("get")
            .body
            .collect()
            .await
            .expect("read")
            .into_bytes();
        let value: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
        let record = OnFailure::parse(&value).expect("an on-failure object");
        assert!(record.payload.is_some(), "{key} carries its payload");
        let written = record.to_json(PayloadForm::String).to_string();
        s3.put_object()
            .bucket(bucket)
            .key(key)
            .body(ByteStream::from(written.into_bytes()))
            .send()
            .await
            .expect("put");
        rewritten += 1;
    }
    rewritten
}

/// Deletes the stream and creates it again under the same name: its records are gone.
async fn recreate_stream(deployed: &Deployed) {
    let kinesis = aws_sdk_kinesis::Client::new(&deployed.config);
    let name = &deployed.target.stream_name;
    kinesis
        .delete_stream()
        .stream_name(name)
        .enforce_consumer_deletion(true)
        .send()
        .await
        .expect("delete the stream");
    for _ in 0..100 {
        let gone = kinesis
            .describe_stream_summary()
            .stream_name(name)
            .send()
            .await
            .is_err();
        if gone {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    kinesis
        .create_stream()
        .stream_name(name)
        .shard_count(2)
        .send()
        .await
        .expect("create the stream again");
}

/// Deletes every item of the table.
async fn empty_table(deployed: &Deployed) {
    let dynamodb = aws_sdk_dynamodb::Client::new(&deployed.config);
    for (user, key) in table_items(deployed).await.into_keys() {
        dynamodb
            .delete_item()
            .table_name(&deployed.target.table_name)
            .key("userId", aws_sdk_dynamodb::types::AttributeValue::S(user))
            .key("eventKey", aws_sdk_dynamodb::types::AttributeValue::S(key))
            .send()
            .await
            .expect("delete");
    }
}

fn now_ms() -> i64 {
    kinesis_codec::time::now_ms()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto from .venv (make venv); make test runs it with --include-ignored"]
async fn failed_batches_are_redriven_from_the_archive_after_the_stream_is_gone_and_replay_restores_a_range(
) {
    let moto = Moto::start();
    let deployed = deploy(
        &moto,
        "archive",
        &[
            "kinesis_shard_count=2",
            "archive_events=true",
            "on_failure_destination=s3",
        ],
    )
    .await;
    let failure_bucket = deployed
        .target
        .on_failure_bucket
        .clone()
        .expect("the mapping's on-failure destination is the failure bucket");
    let from_ms = now_ms() - 60_000;
    let sent = produce(&deployed, EVENTS).await;
    let shards: BTreeSet<&str> = sent
        .records
        .iter()
        .map(|(_, p)| p.shard_id.as_str())
        .collect();
    assert_eq!(shards.len(), 2, "the events went to both shards");
    let expected: BTreeSet<Key> = sent
        .records
        .iter()
        .filter(|(r, _)| r.invalid.is_none())
        .map(|(r, _)| expected_key(r))
        .collect();

    // A record too large for an SQS message once base64-encoded (SQS takes 1 MiB): its dead
    // letter keeps the bytes in the failure bucket.
    let big = vec![b'x'; 800_000];
    let put = aws_sdk_kinesis::Client::new(&deployed.config)
        .put_record()
        .stream_name(&deployed.target.stream_name)
        .partition_key("big-invalid")
        .data(aws_sdk_kinesis::primitives::Blob::new(big.clone()))
        .send()
        .await
        .expect("the stream takes an 800 KB record");
    let big_id = format!("{}:{}", put.shard_id(), put.sequence_number());

    // The table is down for every batch: the mapping retries, then gives each batch up to
    // the failure bucket, with the records themselves.
    let summary = drain(&deployed, TableDown, &deployed.config).await;
    assert!(summary.records >= EVENTS as usize, "{summary:?}");
    assert!(summary.counts.skipped_batches > 0, "{summary:?}");
    assert!(table_items(&deployed).await.is_empty());
    let archived = objects(
        &deployed,
        &failure_bucket,
        contract::archive::ON_FAILURE_PREFIX,
    )
    .await;
    assert_eq!(
        archived.len(),
        summary.counts.skipped_batches,
        "one object per batch given up"
    );
    assert!(archived.values().all(|handled| !handled));
    let as_strings = stringify_every_other_payload(&deployed, &failure_bucket).await;
    assert!(as_strings > 0);

    // The stream forgets.
    recreate_stream(&deployed).await;

    let redriven = redrive::redrive(
        &deployed.config,
        &deployed.stack,
        &redrive::run::Options::default(),
        redrive::Mode::Local,
        &mut |_| {},
    )
    .await
    .expect("redrive runs");
    assert_eq!(redriven.expired, 0, "{redriven:?}");
    assert_eq!(redriven.failed, 0, "{redriven:?}");
    assert_eq!(
        redriven.archive_objects as usize,
        archived.len(),
        "{redriven:?}"
    );
    let stored = table_items(&deployed).await;
    let keys: BTreeSet<Key> = stored.keys().cloned().collect();
    assert_eq!(keys.len(), expected.len());
    assert_eq!(
        keys, expected,
        "every valid event once, under its first-delivery key"
    );
    let after = objects(
        &deployed,
        &failure_bucket,
        contract::archive::ON_FAILURE_PREFIX,
    )
    .await;
    assert!(
        after.values().all(|handled| *handled),
        "unhandled objects left: {:?}",
        after.iter().filter(|(_, h)| !**h).collect::<Vec<_>>()
    );

    // A second redrive finds nothing to do and changes nothing.
    let again = redrive::redrive(
        &deployed.config,
        &deployed.stack,
        &redrive::run::Options::default(),
        redrive::Mode::Local,
        &mut |_| {},
    )
    .await
    .expect("redrive runs again");
    assert_eq!((again.stored, again.archive_objects), (0, 0), "{again:?}");
    assert_eq!(table_items(&deployed).await, stored);
    let letters = dead_letters(&deployed).await;
    assert!(
        letters.iter().all(|l| l["redriveCount"] == 1),
        "the invalid records are dead-lettered again, counting the redrive"
    );
    // The large record was read from its claim check (the stream no longer has it) and,
    // still invalid, dead-lettered again pointing at the same whole bytes.
    let claim = letters
        .iter()
        .find(|l| l["eventId"] == big_id.as_str())
        .unwrap_or_else(|| {
            panic!(
                "the large record's letter: {redriven:?}; letters: {:?}",
                letters
                    .iter()
                    .map(|l| (&l["eventId"], &l["errorType"], &l["dataS3Key"]))
                    .collect::<Vec<_>>()
            )
        });
    assert_eq!(claim["dataTruncated"], true);
    assert_eq!(claim["dataS3Bucket"], failure_bucket.as_str());
    let key = claim["dataS3Key"].as_str().expect("a claim check key");
    let kept = s3(&deployed)
        .get_object()
        .bucket(&failure_bucket)
        .key(key)
        .send()
        .await
        .expect("the claim check")
        .body
        .collect()
        .await
        .expect("read")
        .into_bytes();
    assert_eq!(kept.as_ref(), big.as_slice(), "stored whole");

    // The event archive holds every batch the function was invoked with: empty the table
    // and replay the range.
    let to_ms = now_ms() + 60_000;
    empty_table(&deployed).await;
    let window = replay::window::Window::new(from_ms, to_ms).expect("a window");
    let replayed = replay::replay(
        &deployed.config,
        &deployed.stack,
        &replay::run::Options::new(window),
        Some(replay::Source::Archive),
        replay::Mode::Local,
        &mut |_| {},
    )
    .await
    .expect("replay runs");
    assert_eq!(replayed.failed, 0, "{replayed:?}");
    assert!(replayed.read >= EVENTS, "{replayed:?}");
    let restored = table_items(&deployed).await;
    assert_eq!(
        restored, stored,
        "the range's items, attributes equal but processing time"
    );

    let twice = replay::replay(
        &deployed.config,
        &deployed.stack,
        &replay::run::Options::new(window),
        Some(replay::Source::Archive),
        replay::Mode::Local,
        &mut |_| {},
    )
    .await
    .expect("replay runs again");
    assert_eq!(twice.failed, 0, "{twice:?}");
    assert_eq!(table_items(&deployed).await.len(), stored.len());
}
