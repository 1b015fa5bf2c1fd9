//! replay on moto: the stack with an event archive, events through the pipeline, the archive
//! holding every batch (one object per batch, as the processor writes it, plus an overlapping
//! object of a retried batch); then the table is emptied and `replay --local` of the whole
//! range restores exactly its items (keys and attributes but the processing time), a second
//! replay changes no count, and a replay from the stream (`AT_TIMESTAMP`) restores it too.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::types::{AttributeValue, DeleteRequest, WriteRequest};
use aws_sdk_kinesis::types::ShardIteratorType;
use kinesis_codec::archive::{encode, object_key};
use kinesis_codec::event::event_json;
use kinesis_codec::record::{EventSource, StreamRecord};
use pipeline_tests::{deploy, drain, produce, table_items, table_sink, Deployed};
use replay::run::{Options, Summary};
use replay::window::Window;
use replay::{Mode, Source};
use testkit::moto::Moto;

/// Every record of the stream, by shard, in order.
async fn stream_records(deployed: &Deployed) -> BTreeMap<String, Vec<StreamRecord>> {
    let kinesis = aws_sdk_kinesis::Client::new(&deployed.config);
    let stream = &deployed.target.stream_name;
    let shards = kinesis
        .list_shards()
        .stream_name(stream)
        .send()
        .await
        .expect("list-shards");
    let mut all = BTreeMap::new();
    for shard in shards.shards() {
        let id = shard.shard_id();
        let mut iterator = kinesis
            .get_shard_iterator()
            .stream_name(stream)
            .shard_id(id)
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .send()
            .await
            .expect("iterator")
            .shard_iterator()
            .map(str::to_owned);
        let mut records = Vec::new();
        while let Some(current) = iterator.take() {
            let page = kinesis
                .get_records()
                .shard_iterator(current)
                .send()
                .await
                .expect("get-records");
            records.extend(
                page.records()
                    .iter()
                    .map(|r| deployed_stack::stream::record_of(id, r)),
            );
            if page.records().is_empty() {
                break;
            }
            iterator = page.next_shard_iterator().map(str::to_owned);
        }
        all.insert(id.to_owned(), records);
    }
    all
}

/// Deletes every item of the table.
async fn empty_table(deployed: &Deployed) {
    let dynamodb = aws_sdk_dynamodb::Client::new(&deployed.config);
    let table = &deployed.target.table_name;
    let items = dynamodb
        .scan()
        .table_name(table)
        .send()
        .await
        .expect("scan");
    assert!(
        items.last_evaluated_key().is_none(),
        "one page in this test"
    );
    let deletes: Vec<WriteRequest> = items
        .items()
        .iter()
        .map(|item| {
            let key: std::collections::HashMap<String, AttributeValue> = ["userId", "eventKey"]
                .into_iter()
                .map(|k| (k.to_owned(), item[k].clone()))
                .collect();
            WriteRequest::builder()
                .delete_request(DeleteRequest::builder().set_key(Some(key)).build().unwrap())
                .build()
        })
        .collect();
    for chunk in deletes.chunks(25) {
        dynamodb
            .batch_write_item()
            .request_items(table, chunk.to_vec())
            .send()
            .await
            .expect("batch delete");
    }
    assert!(table_items(deployed).await.is_empty());
}

async fn replay(deployed: &Deployed, window: Window, source: Source) -> Summary {
    let options = Options {
        page_pause: std::time::Duration::ZERO,
        ..Options::new(window)
    };
    replay::replay(
        &deployed.config,
        &deployed.stack,
        &options,
        Some(source),
        Mode::Local,
        &mut |_| {},
    )
    .await
    .expect("replay runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto from .venv (make venv); make test runs it with --include-ignored"]
async fn a_replay_restores_the_items_of_its_range_and_adds_none() {
    let moto = Moto::start();
    let deployed = deploy(
        &moto,
        "replay",
        &["archive_events=true", "on_failure_destination=sqs"],
    )
    .await;
    let stack = deployed_stack::Stack::find(&deployed.config, &deployed.stack)
        .await
        .expect("the stack");
    let bucket = stack
        .archive_bucket_name()
        .expect("the stack archives events")
        .to_owned();
    produce(&deployed, 300).await;
    drain(
        &deployed,
        table_sink(&deployed, &deployed.config),
        &deployed.config,
    )
    .await;
    let stored = table_items(&deployed).await;
    assert!(stored.len() > 200, "{} items", stored.len());

    // The archive as the processor keeps it: one object per batch of 50, and one batch
    // archived twice (Lambda retried it from its tenth record).
    let s3 = reprocess::objects::s3_client(&deployed.config);
    let source = EventSource {
        stream_arn: deployed.target.stream_arn.clone(),
        region: "us-east-1".into(),
        role_arn: deployed.target.role_arn.clone(),
    };
    let shards = stream_records(&deployed).await;
    let mut batches: Vec<&[StreamRecord]> = shards.values().flat_map(|r| r.chunks(50)).collect();
    batches.push(&batches[0][10..]);
    for batch in &batches {
        s3.put_object()
            .bucket(&bucket)
            .key(object_key(&batch[0], batch.last().unwrap()))
            .body(encode(&event_json(batch, &source)).into())
            .send()
            .await
            .expect("archive a batch");
    }
    let arrivals = shards.values().flatten().map(|r| r.arrival_ms);
    let window = Window::new(arrivals.clone().min().unwrap(), arrivals.max().unwrap() + 1).unwrap();

    empty_table(&deployed).await;
    let restored = replay(&deployed, window, Source::Archive).await;
    assert_eq!(restored.failed, 0, "{restored} {:?}", restored.problems);
    assert!(
        restored.duplicates >= 40,
        "the retried batch is replayed once: {restored:?}"
    );
    assert_eq!(
        table_items(&deployed).await,
        stored,
        "the same items, attributes equal but the processing time"
    );
    let read = restored.read;

    let again = replay(&deployed, window, Source::Archive).await;
    assert_eq!(again.failed, 0, "{again}");
    assert!(again.read >= read, "{again}");
    assert_eq!(table_items(&deployed).await.len(), stored.len());

    empty_table(&deployed).await;
    let from_stream = replay(&deployed, window, Source::Stream).await;
    assert_eq!(
        from_stream.failed, 0,
        "{from_stream} {:?}",
        from_stream.problems
    );
    assert_eq!(from_stream.read, read, "{from_stream}");
    assert_eq!(table_items(&deployed).await, stored);
}
