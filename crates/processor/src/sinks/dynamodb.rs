//! The table sink on the AWS SDK: one `BatchWriteItem` per call, its body written by
//! [`super::write_body`].

use aws_sdk_dynamodb::types::WriteRequest;
use aws_sdk_dynamodb::Client;
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_types::body::SdkBody;
use events::Item;

use super::write_body::batch_write_item_body;
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
        // The request's items go as the body written by `write_body`, not as the SDK's
        // attribute maps (that module says why). The input names the table with no items;
        // the interceptor swaps in the body before the request is signed, so the signature
        // covers what is sent.
        let body = SdkBody::from(batch_write_item_body(
            &self.table_name,
            items,
            self.index_shards,
        ));
        let output = self
            .client
            .batch_write_item()
            .request_items(&self.table_name, Vec::new())
            .customize()
            .mutate_request(move |request| replace_body(request, &body))
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

/// Makes `body` the request's body, with its length (the SDK set `Content-Length` for the
/// body it serialized). Called before signing, once per attempt.
fn replace_body(request: &mut HttpRequest, body: &SdkBody) {
    let Some(body) = body.try_clone() else {
        return;
    };
    if let Some(length) = body.content_length() {
        request
            .headers_mut()
            .insert("content-length", length.to_string());
    }
    *request.body_mut() = body;
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
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};

    use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
    use aws_sdk_dynamodb::types::{AttributeValue, PutRequest};
    use aws_smithy_runtime_api::client::http::{
        HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
    };
    use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
    use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
    use aws_smithy_runtime_api::http::StatusCode;
    use contract::index::{EVENT_TYPE_SHARD, PRODUCT_ID_SHARD};
    use events::{Generator, RecordContext};
    use serde_json::{json, Value};

    use super::*;
    use crate::sinks::aggregates::attribute;
    use crate::test_support::item;

    const TABLE: &str = "events-dev";

    /// The wire: keeps every request body the SDK sends (after its interceptors, as signed)
    /// and answers `{}`, a BatchWriteItem with nothing unprocessed.
    #[derive(Debug, Clone, Default)]
    struct Wire(Arc<Mutex<Vec<Value>>>);

    impl HttpConnector for Wire {
        fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
            let body = request.body().bytes().unwrap_or_default();
            let length = request.headers().get("content-length");
            assert_eq!(length, Some(body.len().to_string().as_str()));
            let json = serde_json::from_slice(body).expect("the request body is JSON");
            self.0.lock().expect("not poisoned").push(json);
            let status = StatusCode::try_from(200).expect("a status");
            HttpConnectorFuture::ready(Ok(HttpResponse::new(status, SdkBody::from("{}"))))
        }
    }

    impl HttpClient for Wire {
        fn http_connector(
            &self,
            _: &HttpConnectorSettings,
            _: &RuntimeComponents,
        ) -> SharedHttpConnector {
            SharedHttpConnector::new(self.clone())
        }
    }

    impl Wire {
        fn client(&self) -> Client {
            let config = aws_sdk_dynamodb::Config::builder()
                .behavior_version(BehaviorVersion::latest())
                .region(Region::new("eu-west-1"))
                .credentials_provider(Credentials::new("AKID", "secret", None, None, "test"))
                .http_client(self.clone())
                .build();
            Client::from_conf(config)
        }

        fn bodies(&self) -> Vec<Value> {
            self.0.lock().expect("not poisoned").clone()
        }
    }

    /// The SDK's own request for `items`: its attribute maps (by the conversion the
    /// aggregate sink uses), as this sink built them before it wrote the body itself.
    fn sdk_request(items: &[&Item], shards: IndexShards) -> Vec<WriteRequest> {
        items
            .iter()
            .map(|item| {
                let mut map: HashMap<String, AttributeValue> = item
                    .attributes()
                    .map(|(name, value)| (name.to_owned(), attribute(&value.to_value())))
                    .collect();
                for (name, value) in shards.attributes(item) {
                    map.insert(name.to_owned(), AttributeValue::S(value));
                }
                let put = PutRequest::builder().set_item(Some(map)).build();
                WriteRequest::builder()
                    .put_request(put.expect("an item"))
                    .build()
            })
            .collect()
    }

    /// Items of generated events, and one with every kind of value and strings to escape.
    fn items() -> Vec<Item> {
        let mut generator = Generator::new(7);
        let jsons: Vec<String> = (0..120)
            .map(|i| {
                let event = generator.next_event(1_764_000_000_000 + i);
                serde_json::to_string(&event).expect("serializes")
            })
            .collect();
        let special = String::from(
            r#"{"userId":"u\"1\\","eventType":"view","productId":"p\u00e9","eventId":"e\n\u0001","timestamp":1764000000000,"note":"tab\there ☃","nested":{"a":[1,-2.5e3,{"b":null},[]],"t":true,"f":false,"empty":{}}}"#,
        );
        let ctx = RecordContext {
            event_id: "shardId-000000000000:1",
            arrival_ms: 1_764_000_000_000,
            processed_at_ms: 1_764_000_001_000,
        };
        let mut items: Vec<Item> = jsons
            .iter()
            .filter_map(|json| events::process_record(json.as_bytes(), &ctx).ok())
            .collect();
        items.push(events::process_record(special.as_bytes(), &ctx).expect("valid"));
        items
    }

    #[tokio::test]
    async fn the_body_is_what_the_sdk_sends_for_its_own_attribute_maps() {
        let items = items();
        assert!(items.len() > 100, "most generated events are valid");
        for shards in [IndexShards::NONE, IndexShards::new(8).expect("shards")] {
            for batch in items.chunks(25) {
                let batch: Vec<&Item> = batch.iter().collect();
                let ours = Wire::default();
                let sink =
                    DynamoTable::new(ours.client(), TABLE.to_owned()).with_index_shards(shards);
                assert_eq!(sink.batch_write(&batch).await, Ok(Vec::new()));
                let sdk = Wire::default();
                sdk.client()
                    .batch_write_item()
                    .request_items(TABLE, sdk_request(&batch, shards))
                    .send()
                    .await
                    .expect("answered");
                assert_eq!(ours.bodies(), sdk.bodies());
                assert_eq!(ours.bodies().len(), 1);
            }
        }
    }

    /// The attributes the sink sends for `item`, as JSON.
    async fn put(item: &Item, shards: IndexShards) -> serde_json::Map<String, Value> {
        let wire = Wire::default();
        let sink = DynamoTable::new(wire.client(), TABLE.to_owned()).with_index_shards(shards);
        sink.batch_write(&[item]).await.expect("written");
        let body = wire.bodies().pop().expect("one request");
        body["RequestItems"][TABLE][0]["PutRequest"]["Item"]
            .as_object()
            .cloned()
            .expect("an item")
    }

    #[tokio::test]
    async fn sharded_writes_add_the_index_keys_and_keep_the_plain_attributes() {
        let item = item(
            r#"{"userId":"u1","eventType":"view","productId":"p9","eventId":"e","timestamp":1764000000000}"#,
        );
        let shard = contract::index::shard_of("u1", "1764000000000#e", 8);
        let written = put(&item, IndexShards::new(8).unwrap()).await;
        assert_eq!(written.len(), item.attributes().count() + 2);
        let s = |v: &str| Some(json!({ "S": v }));
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

    #[tokio::test]
    async fn unsharded_writes_and_items_without_product_add_no_product_key() {
        let item = item(r#"{"userId":"u1","eventType":"view","eventId":"e"}"#);
        let plain = put(&item, IndexShards::NONE).await;
        assert_eq!(plain.len(), item.attributes().count());
        assert!(!plain.contains_key(EVENT_TYPE_SHARD));
        let sharded = put(&item, IndexShards::new(3).unwrap()).await;
        assert!(sharded.contains_key(EVENT_TYPE_SHARD));
        assert!(!sharded.contains_key(PRODUCT_ID_SHARD));
        assert!(!sharded.contains_key("productId"));
    }
}
