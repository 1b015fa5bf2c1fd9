//! The stream as a replay source (`--source stream`): every shard it still has (open or
//! closed, as ListShards reports them within the retention), each read from the window's
//! start (GetShardIterator `AT_TIMESTAMP`) with GetRecords until a record arrived at or
//! after its end, the shard ends, or the reader has caught up with the shard's tip.
//!
//! The reads share each shard's 5 GetRecords calls and 2 MB per second with the event
//! source mapping, so a replay from the stream pauses between pages.

use std::future::Future;

use aws_edge::error::CallError;
use aws_sdk_kinesis::primitives::DateTime;
use aws_sdk_kinesis::types::ShardIteratorType;
use contract::outputs::REPLAY_POLICY_ARN;
use kinesis_codec::record::StreamRecord;

/// One GetRecords answer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Page {
    /// Its records, in sequence order.
    pub records: Vec<StreamRecord>,
    /// The iterator of the next page; `None` once a closed shard is read to its end.
    pub next: Option<String>,
    /// Whether the page reached the shard's tip (`MillisBehindLatest` 0).
    pub caught_up: bool,
}

/// A stream read page by page; Kinesis, or a fake in tests.
pub trait Pages {
    /// The stream's shards.
    fn shards(&self) -> impl Future<Output = Result<Vec<String>, String>>;

    /// An iterator at the first record of `shard` that arrived at or after `from_ms`.
    fn start(&self, shard: &str, from_ms: i64) -> impl Future<Output = Result<String, String>>;

    /// The page at `iterator`.
    fn page(&self, shard: &str, iterator: &str) -> impl Future<Output = Result<Page, String>>;
}

/// The stack's stream.
pub struct KinesisPages {
    client: aws_sdk_kinesis::Client,
    stream: String,
}

impl KinesisPages {
    /// Reads `stream` through `client`.
    pub fn new(client: aws_sdk_kinesis::Client, stream: String) -> KinesisPages {
        KinesisPages { client, stream }
    }

    fn error<E, R>(&self, call: String, err: &aws_sdk_kinesis::error::SdkError<E, R>) -> String
    where
        E: aws_sdk_kinesis::error::ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug + 'static,
    {
        CallError::new(call, err)
            .when_denied(format!(
                "the caller needs kinesis:ListShards, GetShardIterator and GetRecords on the \
                 stream and kms:Decrypt on the stack's data key through Kinesis \
                 ({REPLAY_POLICY_ARN} grants them; docs/access.md)"
            ))
            .to_string()
    }
}

/// GetRecords' largest page.
const PAGE: i32 = 10_000;

impl Pages for KinesisPages {
    async fn shards(&self) -> Result<Vec<String>, String> {
        let mut shards = Vec::new();
        let mut token: Option<String> = None;
        loop {
            // With a NextToken, ListShards takes no stream name.
            let request = match token.take() {
                Some(next) => self.client.list_shards().next_token(next),
                None => self.client.list_shards().stream_name(&self.stream),
            };
            let page = request
                .send()
                .await
                .map_err(|e| self.error(format!("Kinesis ListShards({})", self.stream), &e))?;
            shards.extend(page.shards().iter().map(|s| s.shard_id().to_owned()));
            match page.next_token() {
                Some(next) => token = Some(next.to_owned()),
                None => return Ok(shards),
            }
        }
    }

    async fn start(&self, shard: &str, from_ms: i64) -> Result<String, String> {
        let started = self
            .client
            .get_shard_iterator()
            .stream_name(&self.stream)
            .shard_id(shard)
            .shard_iterator_type(ShardIteratorType::AtTimestamp)
            .timestamp(DateTime::from_millis(from_ms))
            .send()
            .await
            .map_err(|e| {
                self.error(
                    format!("Kinesis GetShardIterator({shard} AT_TIMESTAMP)"),
                    &e,
                )
            })?;
        started
            .shard_iterator()
            .map(str::to_owned)
            .ok_or_else(|| format!("Kinesis GetShardIterator({shard}) returned no iterator"))
    }

    async fn page(&self, shard: &str, iterator: &str) -> Result<Page, String> {
        let got = self
            .client
            .get_records()
            .shard_iterator(iterator)
            .limit(PAGE)
            .send()
            .await
            .map_err(|e| self.error(format!("Kinesis GetRecords({shard})"), &e))?;
        Ok(Page {
            records: got
                .records()
                .iter()
                .map(|r| deployed_stack::stream::record_of(shard, r))
                .collect(),
            next: got.next_shard_iterator().map(str::to_owned),
            caught_up: got.millis_behind_latest() == Some(0),
        })
    }
}
