//! The DynamoDB calls: the table's indexes (DescribeTable), and one paginated Query per
//! partition key value, several in flight at once.

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use futures_util::stream::{self, StreamExt, TryStreamExt};

use crate::error::{self, Error};
use crate::layout::{Index, IndexKeys, Projection, SORT_KEY};
use crate::merge::{self, Item};

/// Queries in flight at once: enough that 100 shards take a few round trips, few enough
/// not to trip a reader's own throttling.
pub const CONCURRENCY: usize = 16;

/// The largest `--page-size`, and the page limit a large `--limit` asks for.
pub const PAGE_SIZE_MAX: usize = 1_000;

/// The time window, inclusive, in epoch milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// The earliest `eventTimestamp` included.
    pub from_ms: i64,
    /// The latest `eventTimestamp` included.
    pub to_ms: i64,
}

/// What to read of each partition key value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reading {
    /// The time window.
    pub window: Window,
    /// `--limit`: at most this many items in all.
    pub limit: Option<usize>,
    /// `--page-size`: at most this many items per Query page (else DynamoDB's 1 MB pages,
    /// or one more than `limit`).
    pub page_size: Option<usize>,
}

impl Reading {
    /// The Query's `Limit`: the smaller of `--page-size` and one more than `--limit` (so a
    /// page can show that the `limit`-th's millisecond is over), none when neither is set.
    pub fn page_limit(&self) -> Option<i32> {
        let by_limit = self.limit.map(|l| l.saturating_add(1));
        let limit = match (self.page_size, by_limit) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        limit.map(|l| i32::try_from(l.clamp(1, PAGE_SIZE_MAX)).unwrap_or(1))
    }
}

/// What the queries brought back.
#[derive(Debug, Default)]
pub struct Fetched {
    /// Per partition key value, its items in time order.
    pub shards: Vec<Vec<Item>>,
    /// Query pages read, over all keys.
    pub pages: usize,
}

/// The global secondary indexes of `table`: their key attributes and projections.
pub async fn indexes(client: &Client, table: &str) -> Result<Vec<IndexKeys>, Error> {
    let described = client
        .describe_table()
        .table_name(table)
        .send()
        .await
        .map_err(|e| {
            error::call(
                "DynamoDB",
                format!("DescribeTable({table})"),
                &e,
                "dynamodb:DescribeTable on the table",
                "check the table's name (--stack-name or --table-name) and --region",
            )
        })?;
    let gsis = described
        .table()
        .map(|t| t.global_secondary_indexes())
        .unwrap_or_default();
    Ok(gsis
        .iter()
        .map(|gsi| {
            let key = |kind: &str| {
                gsi.key_schema()
                    .iter()
                    .find(|k| k.key_type().as_str() == kind)
                    .map(|k| k.attribute_name().to_owned())
            };
            IndexKeys {
                name: gsi.index_name().unwrap_or_default().to_owned(),
                partition: key("HASH").unwrap_or_default(),
                sort: key("RANGE"),
                projection: Projection::from_described(
                    gsi.projection()
                        .and_then(|p| p.projection_type())
                        .map(|t| t.as_str()),
                    gsi.projection()
                        .map(|p| p.non_key_attributes())
                        .unwrap_or_default(),
                ),
            }
        })
        .collect())
}

/// Queries `index` of `table` for each of `keys` as `reading` says, [`CONCURRENCY`] at a
/// time, each in time order and at most `limit` items (plus those of the `limit`-th's
/// millisecond, see [`merge::has_enough`]). The shards come back in `keys`' order.
pub async fn query(
    client: &Client,
    table: &str,
    index: &Index,
    keys: &[String],
    reading: Reading,
) -> Result<Fetched, Error> {
    let results: Vec<(Vec<Item>, usize)> = stream::iter(keys)
        .map(|key| query_key(client, table, index, key, reading))
        .buffered(CONCURRENCY)
        .try_collect()
        .await?;
    let pages = results.iter().map(|(_, pages)| pages).sum();
    Ok(Fetched {
        shards: results.into_iter().map(|(items, _)| items).collect(),
        pages,
    })
}

/// One partition key value, page by page, until its items end or [`merge::has_enough`].
async fn query_key(
    client: &Client,
    table: &str,
    index: &Index,
    key: &str,
    reading: Reading,
) -> Result<(Vec<Item>, usize), Error> {
    let Reading { window, limit, .. } = reading;
    let mut items = Vec::new();
    let mut pages = 0;
    let mut start = None;
    loop {
        let page = client
            .query()
            .table_name(table)
            .index_name(&index.name)
            .key_condition_expression("#pk = :pk AND #t BETWEEN :from AND :to")
            .expression_attribute_names("#pk", &index.partition)
            .expression_attribute_names("#t", SORT_KEY)
            .expression_attribute_values(":pk", AttributeValue::S(key.to_owned()))
            .expression_attribute_values(":from", AttributeValue::N(window.from_ms.to_string()))
            .expression_attribute_values(":to", AttributeValue::N(window.to_ms.to_string()))
            .scan_index_forward(true)
            .set_limit(reading.page_limit())
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| {
                error::call(
                    "DynamoDB",
                    format!(
                        "Query({table}, {}, {} = {key})",
                        index.name, index.partition
                    ),
                    &e,
                    "dynamodb:Query on the table's indexes",
                    "check the table and its index exist in --region",
                )
            })?;
        pages += 1;
        items.extend(page.items().iter().cloned());
        start = page.last_evaluated_key().cloned();
        if start.is_none() || merge::has_enough(&items, limit) {
            return Ok((items, pages));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_limit_is_the_smaller_ask() {
        let reading = |limit, page_size| Reading {
            window: Window {
                from_ms: 0,
                to_ms: 1,
            },
            limit,
            page_size,
        };
        assert_eq!(reading(None, None).page_limit(), None);
        assert_eq!(reading(Some(7), None).page_limit(), Some(8));
        assert_eq!(reading(Some(7), Some(3)).page_limit(), Some(3));
        assert_eq!(reading(None, Some(3)).page_limit(), Some(3));
        assert_eq!(reading(Some(5_000), None).page_limit(), Some(1_000));
    }
}
