//! The aggregate table's sink: a window's parts, one item per minute, written with
//! `BatchWriteItem` (a retried write of the same part overwrites the same items), and its
//! in-memory double.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use aggregates::AggregateItem;
use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use events::AttrValue;
use futures_util::future::BoxFuture;

use super::SinkError;

/// Items per `BatchWriteItem` request, DynamoDB's limit.
pub const ITEMS_PER_REQUEST: usize = 25;

/// Writes aggregate items. A trait object (`Arc<dyn AggregateStore>`), like the buckets:
/// called at a window's end, not per record.
pub trait AggregateStore: Send + Sync {
    /// The table's name, for logs.
    fn table(&self) -> &str;

    /// Writes up to [`ITEMS_PER_REQUEST`] items with distinct keys in one request; returns
    /// the indices (into `items`) DynamoDB left unprocessed.
    fn batch_put<'a>(
        &'a self,
        items: &'a [&'a AggregateItem],
    ) -> BoxFuture<'a, Result<Vec<usize>, SinkError>>;
}

/// The aggregate table on the AWS SDK.
#[derive(Debug, Clone)]
pub struct DynamoAggregates {
    client: aws_sdk_dynamodb::Client,
    table_name: String,
}

impl DynamoAggregates {
    /// A sink for `table_name` on a client built once at init.
    pub fn new(client: aws_sdk_dynamodb::Client, table_name: String) -> DynamoAggregates {
        DynamoAggregates { client, table_name }
    }
}

impl AggregateStore for DynamoAggregates {
    fn table(&self) -> &str {
        &self.table_name
    }

    fn batch_put<'a>(
        &'a self,
        items: &'a [&'a AggregateItem],
    ) -> BoxFuture<'a, Result<Vec<usize>, SinkError>> {
        Box::pin(async move {
            let requests = items
                .iter()
                .map(|item| put_request(item))
                .collect::<Result<Vec<_>, _>>()?;
            let output = self
                .client
                .batch_write_item()
                .request_items(&self.table_name, requests)
                .send()
                .await
                .map_err(super::classify_batch_write_error)?;
            let unprocessed = output
                .unprocessed_items
                .unwrap_or_default()
                .remove(&self.table_name)
                .unwrap_or_default();
            let parts: Vec<String> = unprocessed
                .iter()
                .filter_map(|r| {
                    r.put_request
                        .as_ref()?
                        .item
                        .get(contract::aggregate::PART)?
                        .as_s()
                        .ok()
                        .cloned()
                })
                .collect();
            Ok(items
                .iter()
                .enumerate()
                .filter(|(_, item)| parts.contains(&item.part()))
                .map(|(i, _)| i)
                .collect())
        })
    }
}

fn put_request(item: &AggregateItem) -> Result<WriteRequest, SinkError> {
    let attributes: HashMap<String, AttributeValue> = item
        .attributes()
        .into_iter()
        .map(|(name, value)| (name.to_owned(), attribute(&value)))
        .collect();
    let put = PutRequest::builder()
        .set_item(Some(attributes))
        .build()
        .map_err(|e| SinkError::Fatal(e.to_string()))?;
    Ok(WriteRequest::builder().put_request(put).build())
}

/// Converts an owned attribute value into the SDK's.
pub fn attribute(value: &AttrValue<'_>) -> AttributeValue {
    match value {
        AttrValue::S(s) => AttributeValue::S(s.to_string()),
        AttrValue::N(n) => AttributeValue::N(n.to_string()),
        AttrValue::Bool(b) => AttributeValue::Bool(*b),
        AttrValue::Null => AttributeValue::Null(true),
        AttrValue::M(map) => AttributeValue::M(
            map.iter()
                .map(|(k, v)| (k.to_string(), attribute(v)))
                .collect(),
        ),
        AttrValue::L(list) => AttributeValue::L(list.iter().map(attribute).collect()),
    }
}

/// An aggregate table in memory, keyed like the real one; can be taken down.
#[derive(Debug, Default)]
pub struct MemoryAggregates {
    items: Mutex<BTreeMap<(String, String), AggregateItem>>,
    requests: AtomicUsize,
    down: AtomicBool,
}

impl MemoryAggregates {
    /// While `down`, every request fails with a retryable `ServiceUnavailable`.
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::Relaxed);
    }

    /// The stored items by (day, part).
    pub fn items(&self) -> BTreeMap<(String, String), AggregateItem> {
        self.items.lock().map(|m| m.clone()).unwrap_or_default()
    }

    /// Requests received, failed ones included.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::Relaxed)
    }
}

impl AggregateStore for MemoryAggregates {
    fn table(&self) -> &str {
        "memory-aggregates"
    }

    fn batch_put<'a>(
        &'a self,
        items: &'a [&'a AggregateItem],
    ) -> BoxFuture<'a, Result<Vec<usize>, SinkError>> {
        Box::pin(async move {
            self.requests.fetch_add(1, Ordering::Relaxed);
            if self.down.load(Ordering::Relaxed) {
                return Err(SinkError::Retryable("ServiceUnavailable".into()));
            }
            let mut stored = self
                .items
                .lock()
                .map_err(|_| SinkError::Fatal("poisoned".into()))?;
            for item in items {
                stored.insert((item.day(), item.part()), (*item).clone());
            }
            Ok(Vec::new())
        })
    }
}
