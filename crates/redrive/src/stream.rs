//! Reading records back from the stream by sequence number: the ranges of on-failure
//! records and the records of dead letters too large to carry their bytes.

use std::cmp::Ordering;
use std::future::Future;

use aws_edge::error::CallError;
use aws_sdk_kinesis::error::ProvideErrorMetadata;
use aws_sdk_kinesis::types::ShardIteratorType;
use deployed_stack::stream::compare_sequence;
use kinesis_codec::record::StreamRecord;

/// Where records are read from; the Kinesis stream, or a fake in tests.
pub trait RecordSource {
    /// The records of `shard` from `start` to `end` (sequence numbers, both included), in
    /// order. Records the stream no longer holds are simply absent; a shard the stream no
    /// longer has yields none.
    fn range(
        &self,
        shard: &str,
        start: &str,
        end: &str,
    ) -> impl Future<Output = Result<Vec<StreamRecord>, String>>;
}

/// The stack's stream.
pub struct KinesisSource {
    client: aws_sdk_kinesis::Client,
    stream: String,
}

impl KinesisSource {
    /// Reads `stream` through `client`.
    pub fn new(client: aws_sdk_kinesis::Client, stream: String) -> KinesisSource {
        KinesisSource { client, stream }
    }
}

/// GetRecords' largest page.
const PAGE: i32 = 10_000;
/// Empty pages in a row after which an open shard is taken to hold nothing more in range.
const EMPTY_PAGES: usize = 3;

impl RecordSource for KinesisSource {
    async fn range(
        &self,
        shard: &str,
        start: &str,
        end: &str,
    ) -> Result<Vec<StreamRecord>, String> {
        let started = self
            .client
            .get_shard_iterator()
            .stream_name(&self.stream)
            .shard_id(shard)
            .shard_iterator_type(ShardIteratorType::AtSequenceNumber)
            .starting_sequence_number(start)
            .send()
            .await;
        let mut iterator = match started {
            Ok(out) => out.shard_iterator().map(str::to_owned),
            // The shard is gone (trimmed after a reshard), or the sequence number is older
            // than anything the shard still holds: every record of the range has expired.
            Err(err) if is_gone(err.as_service_error()) => return Ok(Vec::new()),
            Err(err) => {
                return Err(CallError::new(
                    format!("Kinesis GetShardIterator({shard} at {start})"),
                    &err,
                )
                .to_string())
            }
        };
        let mut found = Vec::new();
        let mut empty = 0;
        while let Some(current) = iterator.take() {
            let page = self
                .client
                .get_records()
                .shard_iterator(current)
                .limit(PAGE)
                .send()
                .await
                .map_err(|e| {
                    CallError::new(format!("Kinesis GetRecords({shard})"), &e).to_string()
                })?;
            for record in page.records() {
                if compare_sequence(record.sequence_number(), end) == Ordering::Greater {
                    return Ok(found);
                }
                if compare_sequence(record.sequence_number(), start) != Ordering::Less {
                    found.push(deployed_stack::stream::record_of(shard, record));
                }
            }
            empty = if page.records().is_empty() {
                empty + 1
            } else {
                0
            };
            let caught_up = page.millis_behind_latest() == Some(0) && page.records().is_empty();
            if caught_up || empty >= EMPTY_PAGES {
                break;
            }
            iterator = page.next_shard_iterator().map(str::to_owned);
        }
        Ok(found)
    }
}

fn is_gone<E: ProvideErrorMetadata>(err: Option<&E>) -> bool {
    let code = err.and_then(|e| e.code()).unwrap_or_default();
    // InvalidArgumentException is also what a malformed sequence number gets; the message
    // tells them apart, and either way the range cannot be read.
    code == "ResourceNotFoundException" || code == "InvalidArgumentException"
}
