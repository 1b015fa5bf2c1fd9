//! Reading a stream as Lambda's poller does: every shard from TRIM_HORIZON (or from the
//! mapping's AT_TIMESTAMP), a child shard only after its parents are read to their end (so
//! a user's records stay in order across a split or merge).

use std::collections::{HashMap, HashSet};

use aws_sdk_kinesis::primitives::DateTime;
use aws_sdk_kinesis::types::ShardIteratorType;
use aws_sdk_kinesis::Client;

use aws_edge::error::CallError;
use kinesis_codec::record::StreamRecord;

/// A shard being read.
#[derive(Debug)]
struct Reader {
    /// The next GetRecords iterator; `None` once the shard is closed and read to its end.
    iterator: Option<String>,
}

/// Where each shard's reading starts.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub enum ShardStart {
    /// The oldest record kept (also what the runner does for a LATEST mapping: it runs
    /// after the records were put, and LATEST would skip them all).
    #[default]
    TrimHorizon,
    /// The first record that arrived at or after this time, epoch seconds (AT_TIMESTAMP).
    AtTimestamp(f64),
}

/// The stream's shards and where each is.
pub struct StreamReader {
    client: Client,
    stream: String,
    start: ShardStart,
    readers: HashMap<String, Reader>,
    parents: HashMap<String, Vec<String>>,
    finished: HashSet<String>,
}

impl StreamReader {
    /// A reader of `stream`; shards are listed by [`StreamReader::refresh`].
    pub fn new(client: Client, stream: String) -> StreamReader {
        StreamReader {
            client,
            stream,
            start: ShardStart::TrimHorizon,
            readers: HashMap::new(),
            parents: HashMap::new(),
            finished: HashSet::new(),
        }
    }

    /// Starts the shards not yet being read at `start` (TRIM_HORIZON unless told).
    pub fn start_at(&mut self, start: ShardStart) {
        self.start = start;
    }

    /// Shards in the order to read them.
    pub fn shard_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.readers.keys().cloned().collect();
        ids.sort();
        ids
    }

    /// Lists the shards (new ones appear after a reshard) and starts readers for those
    /// whose parents are done.
    pub async fn refresh(&mut self) -> Result<(), String> {
        let mut token: Option<String> = None;
        loop {
            let mut request = self.client.list_shards();
            request = match &token {
                Some(token) => request.next_token(token),
                None => request.stream_name(&self.stream),
            };
            let page = request.send().await.map_err(|e| {
                CallError::new(format!("Kinesis ListShards({})", self.stream), &e).to_string()
            })?;
            for shard in page.shards() {
                let parents = [shard.parent_shard_id(), shard.adjacent_parent_shard_id()]
                    .into_iter()
                    .flatten()
                    .map(str::to_owned)
                    .collect();
                self.parents.insert(shard.shard_id().to_owned(), parents);
            }
            token = page.next_token().map(str::to_owned);
            if token.is_none() {
                break;
            }
        }
        let known: HashSet<String> = self.parents.keys().cloned().collect();
        let ready: Vec<String> = self
            .parents
            .iter()
            .filter(|(id, _)| !self.readers.contains_key(*id) && !self.finished.contains(*id))
            .filter(|(_, parents)| {
                // A parent that is no longer listed was trimmed: nothing left to wait for.
                parents
                    .iter()
                    .all(|p| self.finished.contains(p) || !known.contains(p))
            })
            .map(|(id, _)| id.clone())
            .collect();
        for shard in ready {
            let request = self
                .client
                .get_shard_iterator()
                .stream_name(&self.stream)
                .shard_id(&shard);
            let request = match self.start {
                ShardStart::TrimHorizon => {
                    request.shard_iterator_type(ShardIteratorType::TrimHorizon)
                }
                ShardStart::AtTimestamp(epoch_secs) => request
                    .shard_iterator_type(ShardIteratorType::AtTimestamp)
                    .timestamp(DateTime::from_secs_f64(epoch_secs)),
            };
            let iterator = request
                .send()
                .await
                .map_err(|e| {
                    CallError::new(format!("Kinesis GetShardIterator({shard})"), &e).to_string()
                })?
                .shard_iterator()
                .map(str::to_owned);
            self.readers.insert(shard, Reader { iterator });
        }
        Ok(())
    }

    /// The next records of `shard` (up to `limit`); empty when there are none yet. A shard
    /// read to its end is marked finished, so its children start at the next refresh.
    pub async fn next_records(
        &mut self,
        shard: &str,
        limit: usize,
    ) -> Result<Vec<StreamRecord>, String> {
        let Some(iterator) = self.readers.get(shard).and_then(|r| r.iterator.clone()) else {
            return Ok(Vec::new());
        };
        let page = self
            .client
            .get_records()
            .shard_iterator(iterator)
            .limit(i32::try_from(limit.clamp(1, 10_000)).unwrap_or(10_000))
            .send()
            .await
            .map_err(|e| CallError::new(format!("Kinesis GetRecords({shard})"), &e).to_string())?;
        let records = page
            .records()
            .iter()
            .map(|r| deployed_stack::stream::record_of(shard, r))
            .collect();
        let next = page.next_shard_iterator().map(str::to_owned);
        if next.is_none() {
            self.readers.remove(shard);
            self.finished.insert(shard.to_owned());
        } else if let Some(reader) = self.readers.get_mut(shard) {
            reader.iterator = next;
        }
        Ok(records)
    }
}
