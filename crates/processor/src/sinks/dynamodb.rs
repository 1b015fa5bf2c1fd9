//! The table sink on the AWS SDK: one `BatchWriteItem` per call.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use aws_sdk_dynamodb::Client;
use events::{AttrRef, Item};

use super::{SinkError, TableWriter};

/// Writes to one table.
#[derive(Debug, Clone)]
pub struct DynamoTable {
    client: Client,
    table_name: String,
}

impl DynamoTable {
    /// A sink for `table_name` using a client built once at init.
    pub fn new(client: Client, table_name: String) -> DynamoTable {
        DynamoTable { client, table_name }
    }
}

impl TableWriter for DynamoTable {
    async fn batch_write(&self, items: &[&Item]) -> Result<Vec<usize>, SinkError> {
        let requests = items
            .iter()
            .map(|item| write_request(item))
            .collect::<Result<Vec<_>, _>>()?;
        let output = self
            .client
            .batch_write_item()
            .request_items(&self.table_name, requests)
            .send()
            .await
            .map_err(super::classify_sdk_error)?;
        let unprocessed = output
            .unprocessed_items
            .unwrap_or_default()
            .remove(&self.table_name)
            .unwrap_or_default();
        Ok(unprocessed_indices(items, &unprocessed))
    }
}

fn write_request(item: &Item) -> Result<WriteRequest, SinkError> {
    let attributes: HashMap<String, AttributeValue> = item
        .attributes()
        .map(|(name, value)| (name.to_owned(), attribute(value)))
        .collect();
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
