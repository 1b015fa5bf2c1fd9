//! The S3 on-failure destination on moto: a batch the mapping gives up on becomes one
//! object in Lambda's layout, whose payload holds the skipped records with their identity,
//! so they can be redriven after the stream has forgotten them.

// testkit's moto starter, compiled in: local-runner has no dev-dependency on testkit.
#[path = "../../testkit/src/moto.rs"]
#[allow(dead_code)]
mod moto;

use std::time::Duration;

use aws_lambda_events::event::streams::KinesisEventResponse;
use kinesis_codec::event::{event_json, fixture};
use kinesis_codec::on_failure::OnFailure;
use kinesis_codec::record::StreamRecord;
use kinesis_codec::window::{WindowEvent, WindowResponse};
use local_runner::destination::BucketDestination;
use local_runner::filter::FilterCriteria;
use local_runner::mapping::{deliver, Context, Counts, Faults, Function, Settings};
use local_runner::shards::ShardStart;

/// A function that fails every invocation.
struct Failing;

impl Function for Failing {
    async fn invoke(&self, _: &[StreamRecord]) -> Result<KinesisEventResponse, String> {
        Err("the table is gone".into())
    }

    async fn invoke_window(
        &self,
        _: &WindowEvent,
        _: &[StreamRecord],
    ) -> Result<WindowResponse, String> {
        Err("the table is gone".into())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto from .venv (make venv); make test runs it with --include-ignored"]
async fn a_skipped_batch_lands_in_the_bucket_with_its_records() {
    let moto = moto::Moto::start();
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(&moto.endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_kinesis::config::Credentials::new(
            "test", "test", None, None, "tests",
        ))
        .load()
        .await;
    let s3 = reprocess::objects::s3_client(&config);
    s3.create_bucket()
        .bucket("failures")
        .send()
        .await
        .expect("bucket");
    let destination = BucketDestination::new(
        s3.clone(),
        "failures".into(),
        "e40edd69".into(),
        fixture::source(),
    );
    let records: Vec<StreamRecord> = (0..4)
        .map(|i| fixture::record(i, "user-1", br#"{"userId":"u","eventType":"view"}"#))
        .collect();
    let settings = Settings {
        batch_size: 100,
        batching_window: Duration::ZERO,
        bisect_on_error: false,
        max_retries: Some(1),
        max_record_age: None,
        report_item_failures: true,
        on_failure: Some("arn:aws:s3:::failures".into()),
        filter: FilterCriteria::default(),
        start: ShardStart::TrimHorizon,
        tumbling_window: None,
        faults: Faults::default(),
    };
    let context = Context {
        function_arn: "arn:aws:lambda:us-east-1:123456789012:function:f",
        stream_arn: &fixture::source().stream_arn,
        now_ms: &|| 1_795_567_086_021,
        retry_pause: Duration::ZERO,
    };
    let mut counts = Counts::default();
    deliver(
        records.clone(),
        &settings,
        &Failing,
        &destination,
        &context,
        &mut counts,
    )
    .await
    .expect("the destination takes the object");
    assert_eq!((counts.skipped_batches, counts.skipped_records), (1, 4));

    let listed = s3
        .list_objects_v2()
        .bucket("failures")
        .prefix("aws/lambda/e40edd69/shardId-000000000000/2026/11/25/2026-11-25T00.38.06-")
        .send()
        .await
        .expect("list");
    assert_eq!(listed.contents().len(), 1, "{listed:?}");
    let key = listed.contents()[0].key().unwrap();
    let body = s3
        .get_object()
        .bucket("failures")
        .key(key)
        .send()
        .await
        .expect("get")
        .body
        .collect()
        .await
        .expect("body")
        .into_bytes();
    let object: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
    let read = OnFailure::parse(&object).expect("an on-failure record");
    assert_eq!(read.condition, "RetryAttemptsExhausted");
    assert_eq!(read.invoke_count, 2);
    assert_eq!(read.batch.batch_size, 4);
    assert_eq!(read.payload, Some(event_json(&records, &fixture::source())));
}
