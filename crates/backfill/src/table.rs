//! The two DynamoDB calls a backfill makes, behind a small trait so the run's rules
//! (segments, checkpoint, retries, counts) are tested without AWS: a page of a parallel
//! `Scan`, and one conditional `UpdateItem`.

use std::future::Future;

use aws_edge::error::{CallError, Failure};
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::ReturnConsumedCapacity;
use aws_sdk_dynamodb::Client;

use crate::plan::{Change, Item, Key, READ};

/// One segment of a parallel Scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    /// `Segment`, from 0.
    pub index: u32,
    /// `TotalSegments`.
    pub total: u32,
}

/// A page of a segment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Page {
    /// Its items (the attributes of [`READ`]).
    pub items: Vec<Item>,
    /// `LastEvaluatedKey`: where the next page starts; `None` at the segment's end.
    pub next: Option<Key>,
}

/// What became of one update.
#[derive(Debug, Clone, PartialEq)]
pub enum Written {
    /// Made; the write units DynamoDB says it consumed, when it says.
    Updated {
        /// `ConsumedCapacity.CapacityUnits`, table and indexes.
        units: Option<f64>,
    },
    /// The condition failed: the item changed (or went) since the scan, and is left as it is.
    ConditionFailed,
    /// DynamoDB refused this item's update (a `ValidationException`, e.g. the item would
    /// exceed 400 KB): the same request would fail again.
    Refused(String),
}

/// The table a backfill reads and updates.
pub trait Table: Sync {
    /// The page of `segment` starting after `start` (from the beginning when `None`).
    fn scan(
        &self,
        segment: Segment,
        start: Option<&Key>,
    ) -> impl Future<Output = Result<Page, CallError>> + Send;

    /// Makes `change` under its condition.
    fn update(&self, change: &Change) -> impl Future<Output = Result<Written, CallError>> + Send;
}

/// The table on the AWS SDK.
#[derive(Debug, Clone)]
pub struct DynamoTable {
    client: Client,
    name: String,
}

/// What to check when a call of the backfill is denied.
const DENIED: &str = "the caller needs dynamodb:Scan and dynamodb:UpdateItem on the table (the \
                      stack's BackfillPolicy grants them; docs/backfill.md)";

impl DynamoTable {
    /// The table `name` through `client`.
    pub fn new(client: Client, name: String) -> DynamoTable {
        DynamoTable { client, name }
    }

    fn error<E, R>(
        &self,
        operation: &str,
        err: &aws_sdk_dynamodb::error::SdkError<E, R>,
    ) -> CallError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug + 'static,
    {
        CallError::new(format!("DynamoDB {operation}({})", self.name), err)
            .when_denied(DENIED)
            .when_not_found("check the stack's TableName output and --region")
    }
}

impl Table for DynamoTable {
    async fn scan(&self, segment: Segment, start: Option<&Key>) -> Result<Page, CallError> {
        let projection: Vec<String> = READ.iter().map(|name| format!("#{name}")).collect();
        let mut request = self
            .client
            .scan()
            .table_name(&self.name)
            .segment(i32::try_from(segment.index).unwrap_or(i32::MAX))
            .total_segments(i32::try_from(segment.total).unwrap_or(i32::MAX))
            .projection_expression(projection.join(", "))
            .set_exclusive_start_key(start.map(Key::to_item));
        for name in READ {
            request = request.expression_attribute_names(format!("#{name}"), name);
        }
        let answer = request.send().await.map_err(|e| self.error("Scan", &e))?;
        let next = match answer.last_evaluated_key() {
            None => None,
            Some(last) => Some(Key::of(last).ok_or_else(|| {
                CallError::with_failure(
                    format!("DynamoDB Scan({})", self.name),
                    Failure::Service {
                        code: "UnexpectedKey".into(),
                        server_side: false,
                    },
                    format!("LastEvaluatedKey {last:?} is not a userId and eventKey of strings"),
                )
            })?),
        };
        Ok(Page {
            items: answer.items.unwrap_or_default(),
            next,
        })
    }

    async fn update(&self, change: &Change) -> Result<Written, CallError> {
        let mut request = self
            .client
            .update_item()
            .table_name(&self.name)
            .set_key(Some(change.key.to_item()))
            .update_expression(change.update_expression())
            .condition_expression(change.condition())
            .set_expression_attribute_names(Some(change.names()))
            .return_consumed_capacity(ReturnConsumedCapacity::Total);
        let values = change.values();
        if !values.is_empty() {
            request = request.set_expression_attribute_values(Some(values));
        }
        match request.send().await {
            Ok(answer) => Ok(Written::Updated {
                units: answer.consumed_capacity().and_then(|c| c.capacity_units()),
            }),
            Err(err) => {
                let service = err.as_service_error();
                if service.is_some_and(|e| e.is_conditional_check_failed_exception()) {
                    return Ok(Written::ConditionFailed);
                }
                if service.and_then(|e| e.code()) == Some("ValidationException") {
                    let message = service.and_then(|e| e.message()).unwrap_or_default();
                    return Ok(Written::Refused(format!("ValidationException: {message}")));
                }
                Err(self.error("UpdateItem", &err))
            }
        }
    }
}
