//! In-memory sinks: test doubles and the benchmark's stand-in for AWS. They behave like the
//! real services where it matters to the core (a write of an existing key overwrites it;
//! requests are counted) and can be told to fail.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use events::Item;
use futures_util::future::BoxFuture;

use super::{ObjectStore, QueueSender, SinkError, TableWriter};
use crate::dead_letter::DeadLetter;
use crate::index_shards::IndexShards;

/// Which calls a throttling sink refuses with [`SinkError::Throttled`]. Deterministic: the
/// same calls, by their 1-based number, on every run.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub enum Throttle {
    /// None.
    #[default]
    Never,
    /// Every n-th call.
    Every(usize),
    /// A share of the calls (0 to 1), drawn from `seed` by the call's number.
    Rate {
        /// The share throttled.
        share: f64,
        /// The seed of the draw.
        seed: u64,
    },
    /// Every call that would make more than this many calls in flight at once, as a service
    /// with a fixed capacity throttles.
    Above(usize),
}

impl Throttle {
    /// Whether call `n` (1-based), made with `in_flight` calls in flight including it, is
    /// throttled.
    fn applies(&self, n: usize, in_flight: usize) -> bool {
        match *self {
            Throttle::Never => false,
            Throttle::Every(every) => every > 0 && n % every == 0,
            Throttle::Rate { share, seed } => {
                let draw = splitmix64(seed ^ (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
                (draw >> 11) as f64 / (1u64 << 53) as f64 <= share
            }
            Throttle::Above(limit) => in_flight > limit,
        }
    }
}

/// SplitMix64: a well-spread 64-bit hash of `x`, for [`Throttle::Rate`].
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// What a sink that takes time and throttles does to each call, and what it counted.
#[derive(Debug, Default)]
struct Service {
    /// How long each call takes (a tokio sleep), throttled ones included.
    latency: Duration,
    throttle: Throttle,
    calls: AtomicUsize,
    throttled: AtomicUsize,
    in_flight: AtomicUsize,
    peak: AtomicUsize,
}

impl Service {
    /// Makes one call: waits the latency with the call counted in flight, then says whether
    /// it was throttled.
    async fn call(&self) -> bool {
        let n = self.calls.fetch_add(1, Ordering::Relaxed) + 1;
        let in_flight = self.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
        self.peak.fetch_max(in_flight, Ordering::Relaxed);
        let throttled = self.throttle.applies(n, in_flight);
        if !self.latency.is_zero() {
            tokio::time::sleep(self.latency).await;
        }
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
        if throttled {
            self.throttled.fetch_add(1, Ordering::Relaxed);
        }
        throttled
    }
}

/// What a sink with latency or throttling counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallStats {
    /// Calls received, throttled ones included.
    pub calls: usize,
    /// Calls refused with throttling.
    pub throttled: usize,
    /// The most calls in flight at once.
    pub peak_in_flight: usize,
}

impl Service {
    fn stats(&self) -> CallStats {
        CallStats {
            calls: self.calls.load(Ordering::Relaxed),
            throttled: self.throttled.load(Ordering::Relaxed),
            peak_in_flight: self.peak.load(Ordering::Relaxed),
        }
    }
}

/// A table keyed like the real one.
#[derive(Debug, Default)]
pub struct MemoryTable {
    items: Mutex<HashMap<(String, String), Item>>,
    requests: AtomicUsize,
    unprocess_every: usize,
    index_shards: IndexShards,
    service: Service,
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

    /// The same table taking `latency` to answer each call (a tokio sleep, so calls overlap
    /// as they do over the network).
    pub fn with_latency(self, latency: Duration) -> MemoryTable {
        MemoryTable {
            service: Service {
                latency,
                ..self.service
            },
            ..self
        }
    }

    /// The same table answering the calls `throttle` picks with a throttling error
    /// (`ProvisionedThroughputExceededException`), writing nothing of them.
    pub fn throttling(self, throttle: Throttle) -> MemoryTable {
        MemoryTable {
            service: Service {
                throttle,
                ..self.service
            },
            ..self
        }
    }

    /// Calls, throttled calls and the most in flight at once.
    pub fn call_stats(&self) -> CallStats {
        self.service.stats()
    }

    /// The stored items, by (partition key, sort key).
    pub fn snapshot(&self) -> HashMap<(String, String), Item> {
        self.items.lock().map(|m| m.clone()).unwrap_or_default()
    }

    /// BatchWriteItem requests received, throttled ones included.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::Relaxed)
    }
}

impl TableWriter for MemoryTable {
    async fn batch_write(&self, items: &[&Item]) -> Result<Vec<usize>, SinkError> {
        let n = self.requests.fetch_add(1, Ordering::Relaxed) + 1;
        if self.service.call().await {
            return Err(SinkError::Throttled(
                "ProvisionedThroughputExceededException: injected by the test".into(),
            ));
        }
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
    service: Service,
}

impl MemoryQueue {
    /// A queue that fails every n-th entry (1-based, over all requests); 0 never.
    pub fn failing_every(n: usize) -> MemoryQueue {
        MemoryQueue {
            fail_every: n,
            ..MemoryQueue::default()
        }
    }

    /// The same queue taking `latency` to answer each call.
    pub fn with_latency(self, latency: Duration) -> MemoryQueue {
        MemoryQueue {
            service: Service {
                latency,
                ..self.service
            },
            ..self
        }
    }

    /// The same queue answering the calls `throttle` picks with a throttling error
    /// (`RequestThrottled`), sending nothing of them.
    pub fn throttling(self, throttle: Throttle) -> MemoryQueue {
        MemoryQueue {
            service: Service {
                throttle,
                ..self.service
            },
            ..self
        }
    }

    /// Calls, throttled calls and the most in flight at once.
    pub fn call_stats(&self) -> CallStats {
        self.service.stats()
    }

    /// The messages received.
    pub fn messages(&self) -> Vec<DeadLetter> {
        self.messages.lock().map(|m| m.clone()).unwrap_or_default()
    }

    /// SendMessageBatch requests received, throttled ones included.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::Relaxed)
    }
}

impl QueueSender for MemoryQueue {
    async fn send_batch(&self, letters: &[&DeadLetter]) -> Result<Vec<usize>, SinkError> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        if self.service.call().await {
            return Err(SinkError::Throttled(
                "AWS.SimpleQueueService.RequestThrottled: injected by the test".into(),
            ));
        }
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

/// An object as a [`MemoryBucket`] holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    /// Its bytes.
    pub body: Vec<u8>,
    /// Its `Content-Type`.
    pub content_type: String,
}

/// A bucket that keeps what it was given: a `PutObject` of an existing key replaces the
/// object, as S3's does. It can fail every n-th request (a throttled S3), be down for a
/// while (an outage, retryable) or refuse everything (a denied role: fatal).
#[derive(Debug, Default)]
pub struct MemoryBucket {
    name: String,
    objects: Mutex<BTreeMap<String, StoredObject>>,
    puts: AtomicUsize,
    fail_every: usize,
    refuse: bool,
    down: AtomicBool,
}

impl MemoryBucket {
    /// An empty bucket called `name` that stores every object it is given.
    pub fn new(name: &str) -> MemoryBucket {
        MemoryBucket {
            name: name.to_owned(),
            ..MemoryBucket::default()
        }
    }

    /// The same bucket answering every n-th request (1-based) with a retryable `SlowDown`
    /// instead of storing; 0 never.
    pub fn failing_every(self, n: usize) -> MemoryBucket {
        MemoryBucket {
            fail_every: n,
            ..self
        }
    }

    /// The same bucket refusing every request with a fatal `AccessDenied`.
    pub fn refusing(self) -> MemoryBucket {
        MemoryBucket {
            refuse: true,
            ..self
        }
    }

    /// While `down`, every request fails with a retryable `ServiceUnavailable`.
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::Relaxed);
    }

    /// The stored objects by key.
    pub fn objects(&self) -> BTreeMap<String, StoredObject> {
        self.objects.lock().map(|m| m.clone()).unwrap_or_default()
    }

    /// `PutObject` requests received, failed ones included.
    pub fn puts(&self) -> usize {
        self.puts.load(Ordering::Relaxed)
    }
}

impl ObjectStore for MemoryBucket {
    fn bucket(&self) -> &str {
        &self.name
    }

    fn put<'a>(
        &'a self,
        key: &'a str,
        body: &'a [u8],
        content_type: &'a str,
    ) -> BoxFuture<'a, Result<(), SinkError>> {
        Box::pin(async move { self.store(key, body, content_type, false).map(|_| ()) })
    }

    fn put_new<'a>(
        &'a self,
        key: &'a str,
        body: &'a [u8],
        content_type: &'a str,
    ) -> BoxFuture<'a, Result<bool, SinkError>> {
        Box::pin(async move { self.store(key, body, content_type, true) })
    }
}

impl MemoryBucket {
    /// One `PutObject`: whether it stored the object (not when `if_absent` and one is there).
    fn store(
        &self,
        key: &str,
        body: &[u8],
        content_type: &str,
        if_absent: bool,
    ) -> Result<bool, SinkError> {
        let n = self.puts.fetch_add(1, Ordering::Relaxed) + 1;
        if self.refuse {
            return Err(SinkError::Fatal(format!("AccessDenied: PutObject {key}")));
        }
        if self.down.load(Ordering::Relaxed) {
            return Err(SinkError::Retryable(format!(
                "ServiceUnavailable: PutObject {key}"
            )));
        }
        if self.fail_every > 0 && n % self.fail_every == 0 {
            return Err(SinkError::Retryable(format!("SlowDown: PutObject {key}")));
        }
        let mut objects = self
            .objects
            .lock()
            .map_err(|_| SinkError::Fatal("bucket lock poisoned".into()))?;
        if if_absent && objects.contains_key(key) {
            return Ok(false);
        }
        let object = StoredObject {
            body: body.to_vec(),
            content_type: content_type.to_owned(),
        };
        objects.insert(key.to_owned(), object);
        Ok(true)
    }
}
