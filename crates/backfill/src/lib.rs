//! `backfill`: gives every stored event the write-sharded index keys the processor writes
//! today, so that after `dynamodb_index_write_shards` changes the rebuilt indexes hold the
//! older events too and `query` finds them (docs/design.md, "Write-sharded index keys";
//! docs/backfill.md is the user's reference).
//!
//! [`run()`] finds the table and the function through the stack ([`deployed_stack`]), reads
//! the shard count from the function's `INDEX_WRITE_SHARDS` by the processor's own rule
//! (`contract::index::write_shards_of`), continues or starts the [`checkpoint`], and runs
//! the parallel Scan ([`run::backfill`]): each item is planned ([`plan`], pure: which
//! attributes to set or remove, and the condition that keeps a concurrent write) and
//! updated at the rate [`rate`] allows, through [`table`] (the two DynamoDB calls behind a
//! trait). [`progress`] shows it; [`cli`] is the command line.

pub mod checkpoint;
pub mod cli;
pub mod error;
pub mod plan;
pub mod progress;
pub mod rate;
pub mod run;
pub mod table;

use std::path::PathBuf;
use std::time::Duration;

use aws_edge::args::StackArgs;
use aws_edge::retry::Backoff;
use deployed_stack::function::Function;
use deployed_stack::Stack;

pub use error::Error;

use checkpoint::{Start, Store};
use progress::Observer;
use run::{Counts, Examples, Job};

/// What to backfill and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The stack and where to reach AWS.
    pub stack: StackArgs,
    /// Count only.
    pub dry_run: bool,
    /// Parallel Scan segments for a fresh run.
    pub segments: u32,
    /// Write units per second at most.
    pub max_write_units: u32,
    /// The checkpoint file; `None`: [`checkpoint::default_path`].
    pub checkpoint: Option<PathBuf>,
    /// Ignore (and overwrite) an existing checkpoint.
    pub restart: bool,
}

/// Attempts of one call (each of them the SDK's own 3) before the run stops.
const ATTEMPTS: u32 = 8;

/// What a run did.
#[derive(Debug)]
pub struct Report {
    /// The table.
    pub table: String,
    /// The shard count the items were brought to.
    pub shards: u32,
    /// Whether it only counted.
    pub dry_run: bool,
    /// How it started (fresh, continued, or over a set-aside checkpoint).
    pub start: Start,
    /// The checkpoint file (none in a dry run).
    pub checkpoint: Option<PathBuf>,
    /// The counts.
    pub counts: Counts,
    /// The first invalid items and refused updates.
    pub examples: Examples,
    /// The function's shard count read again at the end, when it could be.
    pub shards_after: Option<u32>,
    /// Why the run stopped before the end, if it did.
    pub stopped: Option<Error>,
}

impl Report {
    /// The last line: the counts, and how the run ended.
    pub fn summary(&self) -> String {
        let c = &self.counts;
        if self.dry_run {
            return format!(
                "backfill (dry run, nothing written): scanned={} would_update={} already={} \
                 invalid={} shards={} segments={} pages={}",
                c.scanned, c.updated, c.already, c.invalid, self.shards, c.segments, c.pages
            );
        }
        let head = if self.stopped.is_some() {
            "backfill (stopped)"
        } else {
            "backfill"
        };
        format!(
            "{head}: scanned={} updated={} already={} skipped_conditional={} invalid={} \
             failed={} shards={} segments={} pages={} write_units={}",
            c.scanned,
            c.updated,
            c.already,
            c.skipped_conditional,
            c.invalid,
            c.failed,
            self.shards,
            c.segments,
            c.pages,
            c.write_units
        )
    }

    /// Lines for stderr before the summary: what was left alone, what changed underneath,
    /// why the run stopped and how to continue it.
    pub fn warnings(&self) -> Vec<String> {
        let mut lines = Vec::new();
        let c = &self.counts;
        if c.invalid > 0 {
            lines.push(format!(
                "backfill: {} item(s) cannot take the shard keys and were left as they are, \
                 e.g. {}",
                c.invalid,
                self.examples.invalid.join("; ")
            ));
        }
        if c.failed > 0 {
            lines.push(format!(
                "backfill: DynamoDB refused {} update(s), e.g. {}",
                c.failed,
                self.examples.refused.join("; ")
            ));
        }
        if let Some(after) = self.shards_after.filter(|n| *n != self.shards) {
            lines.push(format!(
                "backfill: the function's INDEX_WRITE_SHARDS changed from {} to {after} \
                 during the run: the items updated carry keys for {} shards; run backfill again",
                self.shards, self.shards
            ));
        }
        if let Some(err) = &self.stopped {
            lines.push(format!("error: {err}"));
            if let Some(path) = &self.checkpoint {
                lines.push(format!(
                    "backfill: {} keeps where each segment got to; run the same command again \
                     to continue",
                    path.display()
                ));
            }
        }
        lines
    }

    /// The exit status: the error's when stopped; 1 when updates were refused or the shard
    /// count changed underneath; else 0.
    pub fn exit_code(&self) -> u8 {
        match &self.stopped {
            Some(err) => err.exit_code(),
            None if self.counts.failed > 0 => 1,
            None if self.shards_after.is_some_and(|n| n != self.shards) => 1,
            None => 0,
        }
    }
}

/// Runs the backfill `options` describe, telling `observer` as it goes. An error before
/// the scan began is `Err`; one during it is the report's `stopped`, with the counts so far.
pub async fn run(options: &Options, observer: &dyn Observer) -> Result<Report, Error> {
    let aws = &options.stack.aws;
    let config =
        aws_edge::config::sdk_config(aws.endpoint_url.as_deref(), aws.region.as_deref(), 3).await;
    let stack = Stack::find(&config, &options.stack.stack_name).await?;
    let table_name = stack.table_name()?.to_owned();
    let shards = shards_of(&stack.function(&config).await?)?;
    let path = options
        .checkpoint
        .clone()
        .unwrap_or_else(|| checkpoint::default_path(&options.stack.stack_name));
    let (state, start) = if options.dry_run {
        let fresh = checkpoint::State::fresh(&table_name, shards, options.segments);
        (fresh, Start::Fresh)
    } else {
        let found = checkpoint::load(&path)?;
        checkpoint::start(
            found,
            &table_name,
            shards,
            options.segments,
            options.restart,
        )
        .map_err(|why| Error::Refused(format!("checkpoint {}: {why}", path.display())))?
    };
    if let Some(note) = start.note(&path, options.segments) {
        observer.note(&note);
    }
    let store = Store::new((!options.dry_run).then(|| path.clone()), state);
    let rate = rate::RateLimit::new(options.max_write_units);
    let job = Job {
        shards,
        dry_run: options.dry_run,
        rate: &rate,
        backoff: Backoff {
            base: Duration::from_millis(100),
            max: Duration::from_secs(5),
        },
        attempts: ATTEMPTS,
    };
    let table = table::DynamoTable::new(aws_sdk_dynamodb::Client::new(&config), table_name.clone());
    let (counts, examples, result) = run::backfill(&table, &job, &store, observer).await;
    let stopped = match result {
        Ok(()) => store.finish().err().map(Error::from),
        Err(err) => Some(err),
    };
    observer.finish();
    let shards_after = match stack.function(&config).await {
        Ok(function) => shards_of(&function).ok(),
        Err(_) => None,
    };
    Ok(Report {
        table: table_name,
        shards,
        dry_run: options.dry_run,
        start,
        checkpoint: store.path().map(PathBuf::from),
        counts,
        examples,
        shards_after,
        stopped,
    })
}

/// The shard count `function` writes: its `INDEX_WRITE_SHARDS` by the processor's rule
/// (unset is 1).
pub fn shards_of(function: &Function) -> Result<u32, Error> {
    let value = function.env(contract::env::INDEX_WRITE_SHARDS);
    contract::index::write_shards_of(value).ok_or_else(|| Error::Shards {
        function: function.name.clone(),
        value: value.unwrap_or_default().to_owned(),
        max: contract::index::MAX_SHARDS,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(counts: Counts) -> Report {
        Report {
            table: "t".into(),
            shards: 4,
            dry_run: false,
            start: Start::Fresh,
            checkpoint: Some(PathBuf::from("cfn-out/backfill-s.json")),
            counts,
            examples: Examples::default(),
            shards_after: Some(4),
            stopped: None,
        }
    }

    #[test]
    fn the_summary_counts_everything_and_the_exit_status_follows_the_outcome() {
        let counts = Counts {
            scanned: 5000,
            updated: 4999,
            skipped_conditional: 1,
            pages: 8,
            write_units: 9998.0,
            segments: 4,
            segments_done: 4,
            ..Counts::default()
        };
        let done = report(counts);
        assert_eq!(
            done.summary(),
            "backfill: scanned=5000 updated=4999 already=0 skipped_conditional=1 invalid=0 \
             failed=0 shards=4 segments=4 pages=8 write_units=9998"
        );
        assert_eq!(done.exit_code(), 0);
        assert!(done.warnings().is_empty());

        let dry = Report {
            dry_run: true,
            ..report(counts)
        };
        assert_eq!(
            dry.summary(),
            "backfill (dry run, nothing written): scanned=5000 would_update=4999 already=0 \
             invalid=0 shards=4 segments=4 pages=8"
        );

        let moved = Report {
            shards_after: Some(8),
            ..report(counts)
        };
        assert_eq!(moved.exit_code(), 1);
        assert!(moved.warnings()[0].contains("changed from 4 to 8"));

        let stopped = Report {
            stopped: Some(Error::Refused("x".into())),
            ..report(counts)
        };
        assert!(stopped
            .summary()
            .starts_with("backfill (stopped): scanned=5000"));
        assert_eq!(stopped.exit_code(), 2);
        let warnings = stopped.warnings();
        assert_eq!(warnings[0], "error: x");
        assert!(
            warnings[1].starts_with("backfill: cfn-out/backfill-s.json keeps where"),
            "{warnings:?}"
        );
    }

    #[test]
    fn the_shard_count_is_read_by_the_processors_rule() {
        let mut function = Function {
            name: "f".into(),
            ..Function::default()
        };
        assert_eq!(shards_of(&function).unwrap(), 1, "unset is one shard");
        function
            .environment
            .insert(contract::env::INDEX_WRITE_SHARDS.into(), "4".into());
        assert_eq!(shards_of(&function).unwrap(), 4);
        function
            .environment
            .insert(contract::env::INDEX_WRITE_SHARDS.into(), "0".into());
        assert!(matches!(shards_of(&function), Err(Error::Shards { .. })));
    }
}
