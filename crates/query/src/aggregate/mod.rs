//! `query aggregates`: the per-minute figures the processor writes to the aggregate table
//! at each tumbling window's end, read back and summed into buckets, or rebuilt from the
//! event table (`--rebuild`).
//!
//! [`cli`] checks the arguments; [`read`] Queries each day partition of the range;
//! `aggregates::sum_by` adds the parts (shards, windows, window parts, rebuilt minutes) up,
//! distinct users' sketches merged; [`render`] prints them. [`rebuild()`] recounts a range
//! from the event table and replaces its items. [`attr`] converts between the SDK's
//! attribute values and the `aggregates` crate's. docs/query.md is the user's reference.

pub mod attr;
pub mod cli;
pub mod read;
pub mod rebuild;
pub mod render;

use aws_config::SdkConfig;
use aws_sdk_dynamodb::Client;
use contract::outputs::AGGREGATE_TABLE_NAME;
use deployed_stack::Stack;

use crate::error::Error;
use cli::{AggregatesArgs, Rebuild};
use render::Buckets;

/// The tables (and stack) a run works with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tables {
    /// The aggregate table.
    pub aggregate: String,
    /// The event table, when known (the stack's `TableName`, or `--event-table-name`).
    pub events: Option<String>,
    /// The stack, with `--stack-name` (its mapping says how long windows stay open).
    pub stack: Option<Stack>,
}

impl Tables {
    /// `--table-name` (and `--event-table-name`), or the outputs of `--stack-name`.
    pub async fn resolve(config: &SdkConfig, args: &AggregatesArgs) -> Result<Tables, Error> {
        let Some(stack) = args.stack_name.as_deref() else {
            return Ok(Tables {
                aggregate: args.table_name.clone().unwrap_or_default(),
                events: args.event_table_name.clone(),
                stack: None,
            });
        };
        let stack = Stack::find(config, stack).await?;
        let Some(aggregate) = stack.optional(AGGREGATE_TABLE_NAME) else {
            return Err(Error::Refused(format!(
                "stack {} has no output {AGGREGATE_TABLE_NAME}: it was synthesized without \
                 tumbling windows (aggregate_window_seconds = 0), so there are no per-minute \
                 figures to read",
                stack.name()
            )));
        };
        Ok(Tables {
            aggregate: aggregate.to_owned(),
            events: args
                .event_table_name
                .clone()
                .or_else(|| stack.table_name().ok().map(str::to_owned)),
            stack: Some(stack),
        })
    }
}

/// What `query aggregates` read.
#[derive(Debug, Default)]
pub struct Shown {
    /// The buckets, by start.
    pub buckets: Buckets,
    /// Items read.
    pub items: usize,
    /// Query pages read.
    pub pages: usize,
}

impl Shown {
    /// The summary, the last line on stderr.
    pub fn summary(&self) -> String {
        format!(
            "aggregates: items={} pages={} buckets={}",
            self.items,
            self.pages,
            self.buckets.len()
        )
    }

    /// The lines for stdout: nothing for an empty range, else the table or JSON lines.
    pub fn lines(&self, args: &AggregatesArgs) -> Vec<String> {
        if self.buckets.is_empty() {
            return Vec::new();
        }
        match (args.format, args.product.as_deref()) {
            (crate::output::Format::Text, None) => render::table(&self.buckets),
            (crate::output::Format::Text, Some(p)) => render::product_table(&self.buckets, p),
            (crate::output::Format::Json, product) => self
                .buckets
                .iter()
                .map(|(&start, f)| {
                    match product {
                        Some(p) => render::product_json(start, args.every_ms, f, p),
                        None => render::to_json(start, args.every_ms, f),
                    }
                    .to_string()
                })
                .collect(),
        }
    }
}

/// The SDK configuration of `args`.
pub async fn sdk_config(args: &AggregatesArgs) -> SdkConfig {
    aws_edge::config::sdk_config(args.endpoint_url.as_deref(), args.region.as_deref(), 3).await
}

/// Reads and sums the range `args` names.
pub async fn show(args: &AggregatesArgs) -> Result<Shown, Error> {
    show_on(&sdk_config(args).await, args).await
}

/// [`show`] through `config` (its endpoint and credentials) instead of `args`' endpoint.
pub async fn show_on(config: &SdkConfig, args: &AggregatesArgs) -> Result<Shown, Error> {
    let tables = Tables::resolve(config, args).await?;
    let client = Client::new(config);
    let read = read::range(&client, &tables.aggregate, args.from_ms, args.to_ms, false).await?;
    let buckets = aggregates::sum_by(read.items.iter().map(|s| &s.item), args.every_ms);
    Ok(Shown {
        buckets,
        items: read.items.len(),
        pages: read.pages,
    })
}

/// What a rebuild did (or, in a dry run, would do).
#[derive(Debug, Default)]
pub struct Rebuilt {
    /// The plan.
    pub plan: rebuild::Plan,
    /// Items the Scan read.
    pub scanned: u64,
    /// Event items of the range without what every event item has (not counted).
    pub unreadable: u64,
    /// Whether nothing was changed.
    pub dry_run: bool,
}

impl Rebuilt {
    /// The summary, the last line on stderr.
    pub fn summary(&self) -> String {
        let (minutes, events) = (self.plan.writes.len(), self.plan.events());
        let (written, deleted) = (self.plan.writes.len(), self.plan.deletes.len());
        if self.dry_run {
            format!(
                "would rebuild (dry run, nothing changed): minutes={minutes} events={events} \
                 items_to_write={written} items_to_delete={deleted}"
            )
        } else {
            format!(
                "rebuilt: minutes={minutes} events={events} items_written={written} \
                 items_deleted={deleted}"
            )
        }
    }
}

/// Rebuilds the range `args` names.
pub async fn rebuild(args: &AggregatesArgs, options: Rebuild) -> Result<Rebuilt, Error> {
    rebuild_on(&sdk_config(args).await, args, options).await
}

/// [`rebuild()`] through `config` (its endpoint and credentials) instead of `args`' endpoint.
pub async fn rebuild_on(
    config: &SdkConfig,
    args: &AggregatesArgs,
    options: Rebuild,
) -> Result<Rebuilt, Error> {
    let tables = Tables::resolve(config, args).await?;
    let Some(events_table) = tables.events.as_deref() else {
        return Err(Error::Refused(
            "the stack has no TableName output: no event table to rebuild from".into(),
        ));
    };
    let now_ms = now_ms();
    if !options.force {
        let (window, source) = rebuild::window_secs(config, tables.stack.as_ref()).await;
        if let Some(refusal) = rebuild::refusal(args.to_ms, now_ms, window, &source) {
            return Err(Error::Refused(refusal));
        }
    }
    eprintln!(
        "rebuild{}: minutes {}..{} of {} from the events of {}",
        if options.dry_run { " (dry run)" } else { "" },
        render::minute(args.from_ms),
        render::minute(args.to_ms - 60_000),
        tables.aggregate,
        events_table
    );
    let client = Client::new(config);
    // The rebuilt items' writtenAt: before the read of what they replace, so a window part
    // written after that read is told apart by a later rebuild (rebuild::dead_letters).
    let written_at_ms = now_ms;
    let scanned = rebuild::scan(
        &client,
        events_table,
        args.from_ms,
        args.to_ms,
        options.segments,
    )
    .await?;
    let existing = read::range(&client, &tables.aggregate, args.from_ms, args.to_ms, true).await?;
    let plan = rebuild::plan(&scanned.minutes, &existing.items, written_at_ms);
    if !options.dry_run {
        rebuild::apply(&client, &tables.aggregate, &plan).await?;
    }
    Ok(Rebuilt {
        plan,
        scanned: scanned.scanned,
        unreadable: scanned.unreadable,
        dry_run: options.dry_run,
    })
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::Format;

    #[test]
    fn an_empty_range_prints_nothing_but_the_summary() {
        let shown = Shown::default();
        let args = AggregatesArgs {
            stack_name: None,
            table_name: Some("t".into()),
            event_table_name: None,
            endpoint_url: None,
            region: None,
            from_ms: 0,
            to_ms: 60_000,
            every_ms: 60_000,
            product: None,
            format: Format::Text,
            rebuild: None,
        };
        assert!(shown.lines(&args).is_empty());
        assert_eq!(shown.summary(), "aggregates: items=0 pages=0 buckets=0");
    }

    #[test]
    fn the_rebuild_summary_counts_minutes_events_and_items() {
        let rebuilt = Rebuilt::default();
        assert_eq!(
            rebuilt.summary(),
            "rebuilt: minutes=0 events=0 items_written=0 items_deleted=0"
        );
    }
}
