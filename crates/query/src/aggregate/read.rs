//! Reading a range of minutes from the aggregate table: one Query per day partition
//! (`day = D AND part BETWEEN 'HH:MM' AND 'HH:MM~'`, from `aggregates::item::key_ranges`),
//! each paginated to its end, several days in flight.

use aggregates::item::{key_ranges, KeyRange};
use aggregates::AggregateItem;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use contract::aggregate::{DAY, PART};
use futures_util::stream::{self, StreamExt, TryStreamExt};

use super::attr::{self, SdkItem};
use crate::error::{self, Error};

/// Day partitions queried at once.
pub const CONCURRENCY: usize = 8;

/// An item read back: its key (day, part) and what it says.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    /// The partition key's value.
    pub day: String,
    /// The sort key's value.
    pub part: String,
    /// The item.
    pub item: AggregateItem,
}

/// What a read of a range found.
#[derive(Debug, Default)]
pub struct Read {
    /// The items, day by day in key order.
    pub items: Vec<Stored>,
    /// Query pages read.
    pub pages: usize,
}

/// Reads an SDK item of the aggregate table; the error names the table and the part key.
pub fn parse(table: &str, raw: &SdkItem) -> Result<Stored, Error> {
    let day = attr::text(raw, DAY).unwrap_or_default().to_owned();
    let part = attr::text(raw, PART).unwrap_or_default().to_owned();
    let bad = |reason: String| Error::BadAggregate {
        table: table.to_owned(),
        day: day.clone(),
        part: part.clone(),
        reason,
    };
    let values = attr::item_from_sdk(raw).map_err(&bad)?;
    let item = AggregateItem::from_attributes(&values)
        .map_err(|e| bad(format!("{} {}", e.attribute, e.reason)))?;
    Ok(Stored { day, part, item })
}

/// Every item of the minutes in [`from_ms`, `to_ms`) of `table`; `consistent` for a
/// strongly consistent read (a rebuild reads what it replaces).
pub async fn range(
    client: &Client,
    table: &str,
    from_ms: i64,
    to_ms: i64,
    consistent: bool,
) -> Result<Read, Error> {
    let days: Vec<(Vec<Stored>, usize)> = stream::iter(key_ranges(from_ms, to_ms))
        .map(|range| day(client, table, range, consistent))
        .buffered(CONCURRENCY)
        .try_collect()
        .await?;
    let pages = days.iter().map(|(_, p)| p).sum();
    Ok(Read {
        items: days.into_iter().flat_map(|(items, _)| items).collect(),
        pages,
    })
}

async fn day(
    client: &Client,
    table: &str,
    range: KeyRange,
    consistent: bool,
) -> Result<(Vec<Stored>, usize), Error> {
    let mut items = Vec::new();
    let mut pages = 0;
    let mut start = None;
    loop {
        let page = client
            .query()
            .table_name(table)
            .key_condition_expression("#d = :d AND #p BETWEEN :from AND :to")
            .expression_attribute_names("#d", DAY)
            .expression_attribute_names("#p", PART)
            .expression_attribute_values(":d", AttributeValue::S(range.day.clone()))
            .expression_attribute_values(":from", AttributeValue::S(range.from_part.clone()))
            .expression_attribute_values(":to", AttributeValue::S(range.to_part.clone()))
            .consistent_read(consistent)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| {
                error::call(
                    "DynamoDB",
                    format!("Query({table}, {DAY} = {})", range.day),
                    &e,
                    "dynamodb:Query on the aggregate table",
                    "check the aggregate table exists in --region (AggregateTableName)",
                )
            })?;
        pages += 1;
        for raw in page.items() {
            items.push(parse(table, raw)?);
        }
        start = page.last_evaluated_key().cloned();
        if start.is_none() {
            return Ok((items, pages));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aggregates::{Figures, Source};

    #[test]
    fn a_damaged_item_is_an_error_naming_its_part_key() {
        let item = AggregateItem {
            minute_ms: 1_765_139_460_000,
            source: Source::Rebuild,
            figures: Figures::default(),
            written_at_ms: 0,
            expires_at: None,
        };
        let mut raw = attr::item_to_sdk(&item.attributes());
        let good = parse("aggs", &raw).unwrap();
        assert_eq!(
            (good.day.as_str(), good.part.as_str()),
            ("2025-12-07", "20:31#rebuild")
        );
        raw.insert("purchases".into(), AttributeValue::S("lots".into()));
        let text = parse("aggs", &raw).unwrap_err().to_string();
        assert_eq!(
            text,
            "aggregate table aggs: item day=2025-12-07 part=20:31#rebuild cannot be read: \
             purchases is not a number"
        );
        raw.insert("users".into(), AttributeValue::Ns(vec!["1".into()]));
        let text = parse("aggs", &raw).unwrap_err().to_string();
        assert!(text.contains("part=20:31#rebuild"), "{text}");
        assert!(text.contains("users is a number set (NS)"), "{text}");
    }
}
