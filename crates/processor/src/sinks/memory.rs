//! In-memory sinks: test doubles and the benchmark's stand-in for AWS. They behave like the
//! real services where it matters to the core (a write of an existing key overwrites it;
//! requests are counted) and can be told to fail.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use events::Item;

use super::{QueueSender, SinkError, TableWriter};
use crate::dead_letter::DeadLetter;
use crate::index_shards::IndexShards;

/// A table keyed like the real one.
#[derive(Debug, Default)]
pub struct MemoryTable {
    items: Mutex<HashMap<(String, String), Item>>,
    requests: AtomicUsize,
    unprocess_every: usize,
    index_shards: IndexShards,
}

impl MemoryTable {
    /// A table that answers every n-th request (1-based) with all its items unprocessed, as
    /// a throttled table would; 0 never.
    pub fn unprocessing_every(n: usize) -> MemoryTable {
        MemoryTable {
            unprocess_every: n,
            ..MemoryTable::default()
        }
    }

    /// The same table, saying it adds the index keys of `shards` (as the DynamoDB sink
    /// configured so does); it stores the items as they are.
    pub fn with_index_shards(self, shards: IndexShards) -> MemoryTable {
        MemoryTable {
            index_shards: shards,
            ..self
        }
    }

    /// The stored items, by (partition key, sort key).
    pub fn snapshot(&self) -> HashMap<(String, String), Item> {
        self.items.lock().map(|m| m.clone()).unwrap_or_default()
    }

    /// BatchWriteItem requests received.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::Relaxed)
    }
}

impl TableWriter for MemoryTable {
    async fn batch_write(&self, items: &[&Item]) -> Result<Vec<usize>, SinkError> {
        let n = self.requests.fetch_add(1, Ordering::Relaxed) + 1;
        if self.unprocess_every > 0 && n % self.unprocess_every == 0 {
            return Ok((0..items.len()).collect());
        }
        let mut table = self
            .items
            .lock()
            .map_err(|_| SinkError::Fatal("table lock poisoned".into()))?;
        for item in items {
            let key = (item.partition_key().to_owned(), item.sort_key().to_owned());
            table.insert(key, (*item).clone());
        }
        Ok(Vec::new())
    }

    fn index_shards(&self) -> IndexShards {
        self.index_shards
    }
}

/// A queue that keeps what it was sent.
#[derive(Debug, Default)]
pub struct MemoryQueue {
    messages: Mutex<Vec<DeadLetter>>,
    requests: AtomicUsize,
    fail_every: usize,
    entries: AtomicUsize,
}

impl MemoryQueue {
    /// A queue that fails every n-th entry (1-based, over all requests); 0 never.
    pub fn failing_every(n: usize) -> MemoryQueue {
        MemoryQueue {
            fail_every: n,
            ..MemoryQueue::default()
        }
    }

    /// The messages received.
    pub fn messages(&self) -> Vec<DeadLetter> {
        self.messages.lock().map(|m| m.clone()).unwrap_or_default()
    }

    /// SendMessageBatch requests received.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::Relaxed)
    }
}

impl QueueSender for MemoryQueue {
    async fn send_batch(&self, letters: &[&DeadLetter]) -> Result<Vec<usize>, SinkError> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let mut failed = Vec::new();
        let mut queue = self
            .messages
            .lock()
            .map_err(|_| SinkError::Fatal("queue lock poisoned".into()))?;
        for (i, letter) in letters.iter().enumerate() {
            let n = self.entries.fetch_add(1, Ordering::Relaxed) + 1;
            if self.fail_every > 0 && n % self.fail_every == 0 {
                failed.push(i);
            } else {
                queue.push((*letter).clone());
            }
        }
        Ok(failed)
    }
}
