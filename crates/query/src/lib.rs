//! `query`: the pipeline's events by event type or product over a time window, read from
//! the table's indexes however many write shards their keys are spread over.
//!
//! [`cli`] checks the arguments; [`run`] finds the table ([`stack`]), the index and whether
//! it is sharded ([`layout`], from DescribeTable), the shard count ([`shards`]), queries
//! every partition key value in parallel ([`fetch`]), merges the answers by time
//! ([`merge`]) and [`output`] prints them. docs/query.md is the user's reference.

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
}

impl Answer {
    /// The summary, the last line on stderr.
    pub fn summary(&self) -> String {
        format!(
            "query: shards={} queried_pages={} items={}",
            self.shards.count,
            self.pages,
            self.items.len()
        )
    }
}

/// Runs the query `args` describe.
pub async fn run(args: &Args) -> Result<Answer, Error> {
    let config =
        local_runner::aws::sdk_config(args.endpoint_url.as_deref(), args.region.as_deref(), 3)
            .await;
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
    Ok(Answer {
        items: merge::merge(fetched.shards, args.limit),
        shards,
        pages: fetched.pages,
        index,
    })
}
