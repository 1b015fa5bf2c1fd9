//! Reading verify's items back: one Query on the run's `userId` (every event of a run has
//! it), which the stack's `EventReaderPolicy` allows. Consistent reads, so an item written
//! a moment ago is seen.

use std::collections::HashMap;

use aws_config::SdkConfig;
use aws_sdk_dynamodb::types::AttributeValue;

use crate::error::{self, Error};

/// An item of the run, as far as verify reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// Its sort key.
    pub event_key: String,
    /// Its `processedAt`, epoch ms, when it has a readable one.
    pub processed_at_ms: Option<i64>,
}

/// The stack's table.
pub struct Table {
    client: aws_sdk_dynamodb::Client,
    name: String,
}

impl Table {
    /// The table `name`.
    pub fn new(config: &SdkConfig, name: &str) -> Table {
        Table {
            client: aws_sdk_dynamodb::Client::new(config),
            name: name.to_owned(),
        }
    }

    /// Every item whose `userId` is `user_id`.
    pub async fn items_of(&self, user_id: &str) -> Result<Vec<Stored>, Error> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.name)
                .key_condition_expression("userId = :u")
                .expression_attribute_values(":u", AttributeValue::S(user_id.to_owned()))
                .projection_expression("eventKey, processedAt")
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| {
                    error::call(
                        "DynamoDB",
                        format!("Query({})", self.name),
                        &e,
                        error::policy_hint("dynamodb:Query", "EventReaderPolicy"),
                    )
                })?;
            items.extend(page.items().iter().map(stored));
            start = page.last_evaluated_key().cloned();
            if start.is_none() {
                return Ok(items);
            }
        }
    }
}

/// The parts of an item verify reads; `processedAt` is a number (N) as the processor
/// writes it, a string of digits accepted too.
pub fn stored(item: &HashMap<String, AttributeValue>) -> Stored {
    let text = |value: &AttributeValue| match value {
        AttributeValue::S(s) | AttributeValue::N(s) => Some(s.clone()),
        _ => None,
    };
    Stored {
        event_key: item.get("eventKey").and_then(text).unwrap_or_default(),
        processed_at_ms: item
            .get("processedAt")
            .and_then(text)
            .and_then(|t| t.parse().ok()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn processed_at_is_read_from_a_number_and_missing_values_are_none() {
        let item = HashMap::from([
            ("eventKey".to_owned(), AttributeValue::S("k".into())),
            (
                "processedAt".to_owned(),
                AttributeValue::N("1764000000999".into()),
            ),
        ]);
        assert_eq!(
            stored(&item),
            Stored {
                event_key: "k".into(),
                processed_at_ms: Some(1_764_000_000_999)
            }
        );
        let bare = HashMap::from([("eventKey".to_owned(), AttributeValue::S("k".into()))]);
        assert_eq!(stored(&bare).processed_at_ms, None);
    }
}
