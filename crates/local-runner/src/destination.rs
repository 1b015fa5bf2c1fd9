//! Where the emulated mapping sends the on-failure record of a batch it gave up on, chosen
//! by the destination's ARN as Lambda does ([`Choice`]): to an SQS queue the record alone
//! (where the records were); to an S3 bucket one object in Lambda's layout
//! (`aws/lambda/<ESM-UUID>/<shardId>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<uuid>`) holding the record
//! and, as `payload`, the event of the skipped records, so they outlive the stream
//! (docs/design.md, "On-failure records").

use aws_config::SdkConfig;
use aws_edge::error::CallError;
use aws_sdk_s3::primitives::ByteStream;
use kinesis_codec::event::event_json;
use kinesis_codec::on_failure::{object_key, OnFailure, PayloadForm};
use kinesis_codec::record::{EventSource, StreamRecord};
use processor::handler::local_request_id;

use crate::discovery::Target;
use crate::mapping::Destination;

/// The kind of destination a mapping's on-failure ARN names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    /// An SQS queue, by its URL.
    Queue(String),
    /// An S3 bucket, by its name.
    Bucket(String),
    /// No destination the runner writes to (none configured, or another kind): skipped
    /// records are only counted.
    None,
}

impl Choice {
    /// What the destination is, for the health watch's messages.
    pub fn describe(&self) -> String {
        match self {
            Choice::Queue(_) => "SQS on-failure destination".to_owned(),
            Choice::Bucket(bucket) => format!("S3 on-failure destination (bucket {bucket})"),
            Choice::None => "on-failure destination".to_owned(),
        }
    }
}

/// The destination the runner writes to for `target`'s mapping: its bucket when the ARN is
/// an S3 bucket's, its queue when it is an SQS queue's (and the queue's URL was found).
pub fn choose(target: &Target) -> Choice {
    if let Some(bucket) = &target.on_failure_bucket {
        return Choice::Bucket(bucket.clone());
    }
    match &target.on_failure_url {
        Some(url) => Choice::Queue(url.clone()),
        None => Choice::None,
    }
}

/// The bucket an S3 bucket ARN names (`arn:PARTITION:s3:::NAME`); `None` for anything
/// else (an object's ARN included).
pub fn bucket_name(arn: &str) -> Option<&str> {
    let rest = arn.strip_prefix("arn:")?;
    let mut parts = rest.splitn(5, ':');
    let (_partition, service, region, account, name) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    let plain = service == "s3" && region.is_empty() && account.is_empty();
    (plain && !name.is_empty() && !name.contains('/')).then_some(name)
}

/// An SQS queue as the on-failure destination.
pub struct QueueDestination {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl QueueDestination {
    /// The queue at `url`.
    pub fn new(config: &SdkConfig, url: String) -> QueueDestination {
        QueueDestination::with_client(aws_sdk_sqs::Client::new(config), url)
    }

    /// The queue at `url` through `client` (one with a health watch, say).
    pub fn with_client(client: aws_sdk_sqs::Client, url: String) -> QueueDestination {
        QueueDestination { client, url }
    }
}

impl Destination for QueueDestination {
    async fn send(&self, record: &OnFailure, _: &[StreamRecord]) -> Result<(), String> {
        self.client
            .send_message()
            .queue_url(&self.url)
            .message_body(record.to_json(PayloadForm::Object).to_string())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| CallError::new(format!("SQS SendMessage({})", self.url), &e).to_string())
    }
}

/// An S3 bucket as the on-failure destination: one object per skipped batch, with the
/// batch's records.
pub struct BucketDestination {
    client: aws_sdk_s3::Client,
    bucket: String,
    mapping_uuid: String,
    source: EventSource,
}

impl BucketDestination {
    /// Bucket `bucket` through `client`, for the mapping `mapping_uuid` whose records share
    /// `source` (the payload is the event the function was invoked with).
    pub fn new(
        client: aws_sdk_s3::Client,
        bucket: String,
        mapping_uuid: String,
        source: EventSource,
    ) -> BucketDestination {
        BucketDestination {
            client,
            bucket,
            mapping_uuid,
            source,
        }
    }

    /// The object Lambda writes for `record` about `records`: its key (with `uuid`) and
    /// its body, the record with the records' event as `payload` (an object, as AWS
    /// documents it).
    pub fn object(
        &self,
        record: &OnFailure,
        records: &[StreamRecord],
        uuid: &str,
    ) -> (String, Vec<u8>) {
        let key = object_key(
            &self.mapping_uuid,
            &record.batch.shard_id,
            record.timestamp_ms,
            uuid,
        );
        let mut with_payload = record.clone();
        with_payload.payload = Some(event_json(records, &self.source));
        let body = with_payload.to_json(PayloadForm::Object).to_string();
        (key, body.into_bytes())
    }
}

impl Destination for BucketDestination {
    async fn send(&self, record: &OnFailure, records: &[StreamRecord]) -> Result<(), String> {
        let (key, body) = self.object(record, records, &local_request_id());
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(&key)
            .content_type("application/json")
            .body(ByteStream::from(body))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                CallError::new(format!("S3 PutObject({}/{key})", self.bucket), &e).to_string()
            })
    }
}

/// No destination configured: skipped records are only counted.
pub struct NoDestination;

impl Destination for NoDestination {
    async fn send(&self, _: &OnFailure, _: &[StreamRecord]) -> Result<(), String> {
        Ok(())
    }
}

/// Whichever destination the mapping names ([`choose`]), as one type.
pub enum OnFailureDestination {
    /// An SQS queue.
    Queue(QueueDestination),
    /// An S3 bucket.
    Bucket(BucketDestination),
    /// None.
    None(NoDestination),
}

impl OnFailureDestination {
    /// The destination of `target`'s mapping through `sqs` or `s3` (clients with a health
    /// watch, say), its objects' payloads built with `source`.
    pub fn with_clients(
        target: &Target,
        sqs: aws_sdk_sqs::Client,
        s3: aws_sdk_s3::Client,
        source: EventSource,
    ) -> OnFailureDestination {
        match choose(target) {
            Choice::Queue(url) => {
                OnFailureDestination::Queue(QueueDestination::with_client(sqs, url))
            }
            Choice::Bucket(bucket) => OnFailureDestination::Bucket(BucketDestination::new(
                s3,
                bucket,
                target.mapping_uuid.clone(),
                source,
            )),
            Choice::None => OnFailureDestination::None(NoDestination),
        }
    }

    /// The destination of `target`'s mapping through clients on `config`.
    pub fn for_target(
        config: &SdkConfig,
        target: &Target,
        source: EventSource,
    ) -> OnFailureDestination {
        OnFailureDestination::with_clients(
            target,
            aws_sdk_sqs::Client::new(config),
            aws_sdk_s3::Client::new(config),
            source,
        )
    }
}

impl Destination for OnFailureDestination {
    async fn send(&self, record: &OnFailure, records: &[StreamRecord]) -> Result<(), String> {
        match self {
            OnFailureDestination::Queue(queue) => queue.send(record, records).await,
            OnFailureDestination::Bucket(bucket) => bucket.send(record, records).await,
            OnFailureDestination::None(none) => none.send(record, records).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kinesis_codec::event::fixture;
    use kinesis_codec::on_failure::BatchInfo;

    #[test]
    fn bucket_arns_name_their_bucket_and_nothing_else_does() {
        assert_eq!(bucket_name("arn:aws:s3:::failures-1"), Some("failures-1"));
        assert_eq!(bucket_name("arn:aws-cn:s3:::b"), Some("b"));
        for other in [
            "arn:aws:s3:::",
            "arn:aws:s3:::b/key",
            "arn:aws:sqs:us-east-1:123456789012:q",
            "arn:aws:s3:us-east-1:123456789012:accesspoint/a",
            "failures-1",
        ] {
            assert_eq!(bucket_name(other), None, "{other}");
        }
    }

    fn skipped() -> (OnFailure, Vec<StreamRecord>) {
        let records: Vec<StreamRecord> = (0..3)
            .map(|i| fixture::record(i, "user-1", b"{}"))
            .collect();
        let record = OnFailure {
            request_id: "r".into(),
            function_arn: "arn:aws:lambda:us-east-1:123456789012:function:f".into(),
            condition: "RetryAttemptsExhausted".into(),
            invoke_count: 4,
            timestamp_ms: 1_795_567_086_021,
            batch: BatchInfo::of(&records, &fixture::source().stream_arn).unwrap(),
            payload: None,
        };
        (record, records)
    }

    async fn bucket() -> BucketDestination {
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .load()
            .await;
        BucketDestination::new(
            aws_sdk_s3::Client::new(&config),
            "failures".into(),
            "e40edd69".into(),
            fixture::source(),
        )
    }

    #[tokio::test]
    async fn a_bucket_gets_lambdas_object_with_the_skipped_records_as_payload() {
        let (record, records) = skipped();
        let (key, body) = bucket().await.object(&record, &records, "a1b2");
        assert_eq!(
            key,
            "aws/lambda/e40edd69/shardId-000000000000/2026/11/25/2026-11-25T00.38.06-a1b2"
        );
        let written: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert!(
            written["payload"].is_object(),
            "the event itself, as AWS documents"
        );
        let read = OnFailure::parse(&written).unwrap();
        assert_eq!(read.batch, record.batch);
        assert_eq!(
            read.payload,
            Some(event_json(&records, &fixture::source())),
            "the payload is the event the function was invoked with"
        );
    }

    fn target(on_failure: &str) -> Target {
        Target {
            stream_name: "s".into(),
            stream_arn: "arn:aws:kinesis:us-east-1:123456789012:stream/s".into(),
            table_name: "t".into(),
            dlq_url: "https://sqs/q".into(),
            function_name: "f".into(),
            function_arn: "arn:aws:lambda:us-east-1:123456789012:function:f".into(),
            role_arn: "arn:aws:iam::123456789012:role/r".into(),
            timeout: std::time::Duration::from_secs(3),
            settings: crate::mapping::Settings {
                batch_size: 100,
                batching_window: std::time::Duration::ZERO,
                bisect_on_error: false,
                max_retries: None,
                max_record_age: None,
                report_item_failures: true,
                on_failure: Some(on_failure.into()),
                filter: crate::filter::FilterCriteria::default(),
                start: crate::shards::ShardStart::TrimHorizon,
                tumbling_window: None,
                faults: crate::mapping::Faults::default(),
            },
            on_failure_url: None,
            on_failure_bucket: bucket_name(on_failure).map(str::to_owned),
            mapping_uuid: "e40edd69".into(),
            consumer_arn: None,
            processor: processor::config::Config::from_lookup(|name| match name {
                contract::env::TABLE_NAME => Some("t".into()),
                contract::env::DLQ_URL => Some("https://sqs/q".into()),
                _ => None,
            })
            .unwrap(),
        }
    }

    #[test]
    fn the_destinations_arn_chooses_bucket_queue_or_none() {
        let to_bucket = target("arn:aws:s3:::failures");
        assert_eq!(choose(&to_bucket), Choice::Bucket("failures".into()));
        assert_eq!(
            choose(&to_bucket).describe(),
            "S3 on-failure destination (bucket failures)"
        );
        let mut to_queue = target("arn:aws:sqs:us-east-1:123456789012:q");
        assert_eq!(choose(&to_queue), Choice::None, "until its URL is found");
        to_queue.on_failure_url = Some("https://sqs/q".into());
        assert_eq!(choose(&to_queue), Choice::Queue("https://sqs/q".into()));
        assert_eq!(choose(&to_queue).describe(), "SQS on-failure destination");
        let to_topic = target("arn:aws:sns:us-east-1:123456789012:t");
        assert_eq!(choose(&to_topic), Choice::None);
    }
}
