//! The `backfill` command line: its arguments, their checks (a bad one is exit 2 naming
//! the flag and the value) and the help text.

use std::path::PathBuf;

use aws_edge::args::StackArgs;
use clap::Parser;

use crate::Options;

/// The crate's version and the git commit it was built from (build.rs).
const VERSION: &str = aws_edge::version!();

/// Give every stored event the index keys the processor writes today, after
/// dynamodb_index_write_shards changed.
///
/// With dynamodb_index_write_shards = N > 1 the indexes EventTypeIndex and ProductIndex are
/// keyed on eventTypeShard and productIdShard (value#shard), which the processor adds to the
/// items it writes. Items written before the shard count changed lack them (or carry them
/// for another count), so the rebuilt indexes do not hold them and `query` silently misses
/// them. backfill reads the count from the deployed function (INDEX_WRITE_SHARDS), scans the
/// whole table in parallel segments and adds the attributes, computed by the processor's own
/// function, to every item that needs them (with N = 1 it removes them). Each update is
/// conditional on the item being as scanned, so an item the processor rewrote meanwhile
/// keeps what the processor wrote, and one deleted meanwhile stays deleted.
///
/// Progress is saved after every page in a checkpoint file: run the same command again after
/// an interruption and it continues; the file is removed when the backfill completes, so a
/// later run checks every item again (and, with nothing to do, changes nothing).
#[derive(Debug, Parser)]
#[command(name = "backfill", version = VERSION, about, long_about, after_help = AFTER_HELP)]
pub struct Cli {
    /// The pipeline's stack: its outputs name the table (TableName) and the function whose
    /// INDEX_WRITE_SHARDS is the shard count (FunctionName).
    #[command(flatten)]
    pub stack: StackArgs,

    /// Count what would change and write nothing (no checkpoint either).
    #[arg(long)]
    pub dry_run: bool,

    /// Parallel Scan segments, read concurrently (1 to 64). A run continued from a
    /// checkpoint keeps the checkpoint's count.
    #[arg(long, value_name = "N", default_value_t = 4,
          value_parser = clap::value_parser!(u32).range(1..=64))]
    pub segments: u32,

    /// At most R write capacity units per second, over all segments (1 to 1000000), as
    /// DynamoDB reports them consumed (table and indexes). The default, 500, leaves half of
    /// one partition's 1,000 units a second to the processor; raise it for a large
    /// on-demand table, keep it under a provisioned table's spare write capacity.
    #[arg(long, value_name = "R", default_value_t = 500,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_write_units: u32,

    /// The checkpoint file (default: `cfn-out/backfill-<stack>.json`).
    #[arg(long, value_name = "PATH")]
    pub checkpoint: Option<PathBuf>,

    /// Start from the beginning, overwriting the checkpoint instead of continuing it.
    #[arg(long, conflicts_with = "dry_run")]
    pub restart: bool,
}

const AFTER_HELP: &str = "Examples:
  backfill --stack-name retail-events-prod --dry-run
  backfill --stack-name retail-events-prod --segments 8 --max-write-units 2000
  backfill --endpoint-url http://127.0.0.1:5000 --stack-name retail-events-dev
  make backfill STACK=retail-events-prod BACKFILL_ARGS='--dry-run'

Last line on stdout, e.g.:
  backfill: scanned=5000 updated=4999 already=0 skipped_conditional=1 invalid=0 failed=0 shards=4 segments=4 pages=8 write_units=9998
  backfill (dry run, nothing written): scanned=5000 would_update=5000 already=0 invalid=0 shards=4 segments=4 pages=8
(skipped_conditional: changed or deleted since the scan and left as written; invalid: not
event items, or a sharded key over DynamoDB's 2,048 bytes; failed: updates DynamoDB refused)

Permissions: the stack's BackfillPolicy (cloudformation:DescribeStacks on the stack,
lambda:GetFunctionConfiguration on the processor, dynamodb:Scan and dynamodb:UpdateItem on
the table, the table's key through DynamoDB). See docs/backfill.md.

Exit status: 0 done (also with nothing to do), 1 an AWS call failed, DynamoDB refused
updates or the shard count changed during the run (progress is kept: run it again), 2 bad
arguments.";

impl Cli {
    /// The options the run takes.
    pub fn options(self) -> Options {
        Options {
            stack: self.stack,
            dry_run: self.dry_run,
            segments: self.segments,
            max_write_units: self.max_write_units,
            checkpoint: self.checkpoint,
            restart: self.restart,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Result<Options, clap::Error> {
        Cli::try_parse_from(std::iter::once("backfill").chain(args.iter().copied()))
            .map(Cli::options)
    }

    #[test]
    fn defaults_and_flags() {
        let options = parse(&["--stack-name", "s"]).unwrap();
        assert_eq!(options.stack.stack_name, "s");
        assert_eq!((options.segments, options.max_write_units), (4, 500));
        assert!(!options.dry_run && !options.restart);
        assert_eq!(options.checkpoint, None);
        let options = parse(&[
            "--stack-name",
            "s",
            "--endpoint-url",
            "http://127.0.0.1:5000",
            "--region",
            "eu-west-1",
            "--segments",
            "8",
            "--max-write-units",
            "2000",
            "--checkpoint",
            "cp.json",
            "--restart",
        ])
        .unwrap();
        assert_eq!(options.segments, 8);
        assert_eq!(options.max_write_units, 2000);
        assert_eq!(options.checkpoint, Some(PathBuf::from("cp.json")));
        assert_eq!(options.stack.aws.region.as_deref(), Some("eu-west-1"));
    }

    #[test]
    fn bad_arguments_are_exit_2_naming_the_flag() {
        for (args, flag) in [
            (&["--stack-name", "s", "--segments", "0"][..], "--segments"),
            (&["--stack-name", "s", "--segments", "65"][..], "--segments"),
            (
                &["--stack-name", "s", "--max-write-units", "0"][..],
                "--max-write-units",
            ),
            (&["--stack-name", "s", "--region", "moon"][..], "--region"),
            (
                &["--stack-name", "s", "--dry-run", "--restart"][..],
                "--restart",
            ),
            (&[][..], "--stack-name"),
        ] {
            let err = parse(args).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{args:?}");
            assert!(err.to_string().contains(flag), "{args:?}: {err}");
        }
    }

    #[test]
    fn the_help_explains_and_the_command_is_well_formed() {
        Cli::command().debug_assert();
        let help = Cli::command().render_long_help().to_string();
        for needle in [
            "INDEX_WRITE_SHARDS",
            "conditional",
            "checkpoint",
            "BackfillPolicy",
            "Exit status: 0",
        ] {
            assert!(help.contains(needle), "{needle}: {help}");
        }
    }
}
