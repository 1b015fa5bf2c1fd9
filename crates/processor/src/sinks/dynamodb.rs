//! The table sink on the AWS SDK: one `BatchWriteItem` per call.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use aws_sdk_dynamodb::Client;
use events::{AttrRef, Item};

use super::{SinkError, TableWriter};
use crate::index_shards::IndexShards;

/// Writes to one table.
#[derive(Debug, Clone)]
pub struct DynamoTable {
    client: Client,
    table_name: String,
    index_shards: IndexShards,
}

impl DynamoTable {
    /// A sink for `table_name` using a client built once at init, writing items as they
    /// are (the indexes keyed on plain `eventType` and `productId`).
    pub fn new(client: Client, table_name: String) -> DynamoTable {
        DynamoTable {
            client,
            table_name,
            index_shards: IndexShards::NONE,
        }
    }

    /// The same sink adding the write-sharded index keys of `shards` to every item (the
    /// function's `INDEX_WRITE_SHARDS`; [`IndexShards::NONE`] adds nothing).
    pub fn with_index_shards(self, shards: IndexShards) -> DynamoTable {
        DynamoTable {
            index_shards: shards,
            ..self
        }
    }
}

impl TableWriter for DynamoTable {
    async fn batch_write(&self, items: &[&Item]) -> Result<Vec<usize>, SinkError> {
        let requests = items
            .iter()
            .map(|item| write_request(item, self.index_shards))
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
        Ok(unprocessed_indices(items, &unprocessed))
    }

    fn index_shards(&self) -> IndexShards {
        self.index_shards
    }
}

fn write_request(item: &Item, shards: IndexShards) -> Result<WriteRequest, SinkError> {
    let mut attributes: HashMap<String, AttributeValue> = item
        .attributes()
        .map(|(name, value)| (name.to_owned(), attribute(value)))
        .collect();
    for (name, value) in shards.attributes(item) {
        attributes.insert(name.to_owned(), AttributeValue::S(value));
    }
    let put = PutRequest::builder()
        .set_item(Some(attributes))
        .build()
        .map_err(|e| SinkError::Fatal(e.to_string()))?;
    Ok(WriteRequest::builder().put_request(put).build())
}

/// Converts an item's value, read in place, into the SDK's: the one copy of each string,
/// from the item's text into the request.
pub fn attribute(value: AttrRef<'_>) -> AttributeValue {
    match value {
        AttrRef::S(s) => AttributeValue::S(s.to_owned()),
        AttrRef::N(n) => AttributeValue::N(n.to_owned()),
        AttrRef::Bool(b) => AttributeValue::Bool(b),
        AttrRef::Null => AttributeValue::Null(true),
        AttrRef::M(map) => AttributeValue::M(
            map.iter()
                .map(|(k, v)| (k.to_owned(), attribute(v)))
                .collect(),
        ),
        AttrRef::L(list) => AttributeValue::L(list.iter().map(attribute).collect()),
    }
}

/// Maps DynamoDB's unprocessed requests back to our indices by their keys.
fn unprocessed_indices(items: &[&Item], unprocessed: &[WriteRequest]) -> Vec<usize> {
    let key_of = |request: &WriteRequest| -> Option<(String, String)> {
        let item = &request.put_request.as_ref()?.item;
        let pk = item.get("userId")?.as_s().ok()?.clone();
        let sk = item.get("eventKey")?.as_s().ok()?.clone();
        Some((pk, sk))
    };
    let keys: Vec<(String, String)> = unprocessed.iter().filter_map(key_of).collect();
    items
        .iter()
        .enumerate()
        .filter(|(_, item)| {
            keys.iter()
                .any(|(pk, sk)| pk == item.partition_key() && sk == item.sort_key())
        })
        .map(|(i, _)| i)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::item;
    use contract::index::{EVENT_TYPE_SHARD, PRODUCT_ID_SHARD};

    fn put(item: &Item, shards: IndexShards) -> HashMap<String, AttributeValue> {
        let request = write_request(item, shards).expect("a request");
        request.put_request.expect("a put").item
    }

    #[test]
    fn sharded_writes_add_the_index_keys_and_keep_the_plain_attributes() {
        let item = item(
            r#"{"userId":"u1","eventType":"view","productId":"p9","eventId":"e","timestamp":1764000000000}"#,
        );
        let shard = contract::index::shard_of("u1", "1764000000000#e", 8);
        let written = put(&item, IndexShards::new(8).unwrap());
        assert_eq!(written.len(), item.attributes().count() + 2);
        let s = |v: &str| Some(AttributeValue::S(v.to_owned()));
        assert_eq!(
            written.get(EVENT_TYPE_SHARD).cloned(),
            s(&format!("view#{shard}"))
        );
        assert_eq!(
            written.get(PRODUCT_ID_SHARD).cloned(),
            s(&format!("p9#{shard}"))
        );
        assert_eq!(written.get("eventType").cloned(), s("view"));
        assert_eq!(written.get("productId").cloned(), s("p9"));
    }

    #[test]
    fn unsharded_writes_and_items_without_product_add_no_product_key() {
        let item = item(r#"{"userId":"u1","eventType":"view","eventId":"e"}"#);
        let plain = put(&item, IndexShards::NONE);
        assert_eq!(plain.len(), item.attributes().count());
        assert!(!plain.contains_key(EVENT_TYPE_SHARD));
        let sharded = put(&item, IndexShards::new(3).unwrap());
        assert!(sharded.contains_key(EVENT_TYPE_SHARD));
        assert!(!sharded.contains_key(PRODUCT_ID_SHARD));
        assert!(!sharded.contains_key("productId"));
    }
}
