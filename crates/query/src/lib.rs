//! `query`: the pipeline's events by event type or product over a time window, read from
//! the table's indexes however many write shards their keys are spread over.
//!
//! `query aggregates` ([`aggregate`]) reads the per-minute figures instead.
//!
//! [`cli`] checks the arguments; [`run`] finds the table ([`stack`]), the index and whether
//! it is sharded ([`layout`], from DescribeTable), the shard count ([`shards`]), queries
//! every partition key value in parallel ([`fetch`]), merges the answers by time
//! ([`merge`]), reads the items whole from the table when the index copies only part of
//! each ([`batch_get`]) and [`output`] prints them. docs/query.md is the user's reference.

pub mod aggregate;
pub mod batch_get;
pub mod cli;
pub mod error;
pub mod fetch;
pub mod layout;
pub mod merge;
pub mod output;
pub mod shards;
pub mod stack;
pub mod time;

pub use error::Error;

use cli::Args;
use merge::Item;

/// What a query found.
#[derive(Debug)]
pub struct Answer {
    /// The items, merged and limited, in time order.
    pub items: Vec<Item>,
    /// The shard count read and where it came from.
    pub shards: shards::Shards,
    /// Query pages read over all shards.
    pub pages: usize,
    /// The index read.
    pub index: layout::Index,
    /// When the index is not ALL: what was read from the table to make the items whole.
    pub whole: Option<Completed>,
}

/// What reading the items whole from the table took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Completed {
    /// Items read from the table (those printed).
    pub fetched: usize,
    /// Index items the table no longer held (TTL): skipped.
    pub missing: usize,
    /// BatchGetItem calls, retries included.
    pub calls: usize,
}

impl Answer {
    /// The summary, the last line on stderr.
    pub fn summary(&self) -> String {
        let mut line = format!(
            "query: shards={} queried_pages={} items={}",
            self.shards.count,
            self.pages,
            self.items.len()
        );
        if let Some(whole) = self.whole {
            line.push_str(&format!(
                " fetched={} missing={} batch_gets={}",
                whole.fetched, whole.missing, whole.calls
            ));
        }
        line
    }
}

/// Runs the query `args` describe.
pub async fn run(args: &Args) -> Result<Answer, Error> {
    let config =
        aws_edge::config::sdk_config(args.endpoint_url.as_deref(), args.region.as_deref(), 3).await;
    let target = stack::Target::resolve(&config, args).await?;
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    let indexes = fetch::indexes(&dynamodb, &target.table_name).await?;
    let index = layout::find(&target.table_name, &indexes, &args.by)?;
    let shards = shards::resolve(
        &config,
        index.sharded,
        args.shards,
        target.function_name.as_deref(),
    )
    .await;
    if let Some(note) = shards.note() {
        eprintln!("{note}");
    }
    let keys = layout::keys(&index, &args.by, shards.count);
    let fetched = fetch::query(
        &dynamodb,
        &target.table_name,
        &index,
        &keys,
        fetch::Reading {
            window: args.window,
            limit: args.limit,
            page_size: args.page_size,
        },
    )
    .await?;
    let merged = merge::merge(fetched.shards, args.limit);
    // Only what will be printed is read whole: after the merge and the limit.
    let (items, whole) = if index.projection.is_whole() {
        (merged, None)
    } else {
        let table = batch_get::Table {
            client: &dynamodb,
            name: &target.table_name,
        };
        let whole = batch_get::whole_items(&table, &merged, batch_get::Retry::default()).await?;
        let completed = Completed {
            fetched: whole.items.len(),
            missing: whole.missing,
            calls: whole.calls,
        };
        (whole.items, Some(completed))
    };
    Ok(Answer {
        items,
        shards,
        pages: fetched.pages,
        index,
        whole,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_says_what_was_read_whole_only_when_anything_was() {
        let mut answer = Answer {
            items: Vec::new(),
            shards: shards::Shards {
                count: 8,
                source: shards::Source::Flag,
            },
            pages: 9,
            index: layout::Index {
                name: "EventTypeIndex".into(),
                partition: "eventTypeShard".into(),
                sharded: true,
                projection: layout::Projection::All,
            },
            whole: None,
        };
        assert_eq!(answer.summary(), "query: shards=8 queried_pages=9 items=0");
        answer.whole = Some(Completed {
            fetched: 0,
            missing: 2,
            calls: 1,
        });
        assert_eq!(
            answer.summary(),
            "query: shards=8 queried_pages=9 items=0 fetched=0 missing=2 batch_gets=1"
        );
    }
}
