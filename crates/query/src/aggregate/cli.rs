//! `query aggregates`: its arguments and their checks (a bad one is exit 2 naming the flag).

use aws_edge::args;
use clap::error::ErrorKind;
use clap::{ArgGroup, CommandFactory};

use crate::cli::Cli;
use crate::output::Format;
use crate::time;

/// Print the per-minute business figures of a time range, summed into buckets, or rebuild
/// them exactly from the event table (--rebuild).
///
/// The processor writes, at each tumbling window's end, one item per event-time minute and
/// shard (and window part) to the aggregate table (stack output AggregateTableName).
/// query aggregates reads every day partition of [--from, --to) and sums the parts into
/// buckets of --every: counts and exact cents add up, distinct users' sketches merge.
/// --rebuild recomputes the range from the event table (a Scan of the whole table) and
/// replaces the range's items with one rebuilt item per minute, e.g. after a redrive or a
/// replay, whose events no window counted.
#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP)]
#[command(group(ArgGroup::new("where").required(true).args(["stack_name", "table_name"])))]
pub struct AggregatesCli {
    /// The pipeline's CloudFormation stack: its outputs name the aggregate table
    /// (AggregateTableName), the event table (TableName, for --rebuild) and the function
    /// whose mapping's TumblingWindowInSeconds says which minutes are still open.
    #[arg(long, value_name = "NAME", value_parser = args::stack_name)]
    pub stack_name: Option<String>,

    /// The aggregate table itself, instead of --stack-name.
    #[arg(long, value_name = "TABLE", value_parser = non_empty)]
    pub table_name: Option<String>,

    /// With --table-name and --rebuild: the event table to recount from.
    #[arg(long, value_name = "TABLE", value_parser = non_empty, requires = "rebuild")]
    pub event_table_name: Option<String>,

    /// Another endpoint than AWS's, e.g. moto's http://127.0.0.1:5000.
    #[arg(long, value_name = "URL", value_parser = args::endpoint_url)]
    pub endpoint_url: Option<String>,

    /// AWS region (default: AWS_REGION or the profile's, else us-east-1).
    #[arg(long, value_name = "REGION", value_parser = args::region)]
    pub region: Option<String>,

    /// The range's start, inclusive, taken down to its minute: epoch milliseconds or RFC
    /// 3339.
    #[arg(long, value_name = "TIME", value_parser = time::parse)]
    pub from: i64,

    /// The range's end, exclusive: epoch milliseconds or RFC 3339.
    #[arg(long, value_name = "TIME", value_parser = time::parse)]
    pub to: i64,

    /// The bucket: 1m, 5m, 15m, 1h or 1d (UTC, from the epoch).
    #[arg(long, value_name = "SPAN", default_value = "1m", value_parser = every, conflicts_with = "rebuild")]
    pub every: i64,

    /// Only this product's purchases and revenue per bucket.
    #[arg(long, value_name = "ID", value_parser = non_empty, conflicts_with = "rebuild")]
    pub product: Option<String>,

    /// text: a table for people; json: one JSON object per bucket and line.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Recompute the range's figures from the event table and replace its aggregate items.
    #[arg(long)]
    pub rebuild: bool,

    /// With --rebuild: parallel Scan segments of the event table (1 to 64).
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = segments, requires = "rebuild")]
    pub segments: u32,

    /// With --rebuild: also a range whose windows may still be open (their items written
    /// later are not replaced).
    #[arg(long, requires = "rebuild")]
    pub force: bool,

    /// With --rebuild: read and plan, print what would be written and deleted, change
    /// nothing.
    #[arg(long, requires = "rebuild")]
    pub dry_run: bool,
}

const AFTER_HELP: &str = "Examples:
  query aggregates --stack-name retail-events-dev --from 2026-12-07T00:00:00Z --to 2026-12-08T00:00:00Z --every 1h
  query aggregates --stack-name retail-events-dev --from 2026-12-07T20:00:00Z --to 2026-12-07T21:00:00Z --product prod_0042
  query aggregates --table-name retail-events-dev-aggregates --from 1765065600000 --to 1765152000000 --format json
  query aggregates --stack-name retail-events-dev --rebuild --from 2026-12-07T20:31:00Z --to 2026-12-07T20:46:00Z --dry-run

Last line on stderr:
  aggregates: items=N pages=P buckets=B
  rebuilt: minutes=M events=E items_written=W items_deleted=D      (--rebuild)

Permissions: the stack's EventReaderPolicy (dynamodb:Query on the aggregate table); for
--rebuild also Scan on the event table and BatchWriteItem (puts, deletes) on the aggregate
table (RedrivePolicy and ReplayPolicy grant them). See docs/query.md.

Exit status: 0 done (also when the range holds nothing), 1 an AWS call failed or an item
could not be read, 2 bad arguments or a --rebuild of minutes still open.";

/// What --rebuild does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rebuild {
    /// Scan segments.
    pub segments: u32,
    /// Rebuild minutes that may still be open.
    pub force: bool,
    /// Change nothing.
    pub dry_run: bool,
}

/// The checked arguments of `query aggregates`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AggregatesArgs {
    /// The stack, when given.
    pub stack_name: Option<String>,
    /// The aggregate table, when given instead.
    pub table_name: Option<String>,
    /// The event table, with `--table-name --rebuild`.
    pub event_table_name: Option<String>,
    /// The endpoint, when not AWS's.
    pub endpoint_url: Option<String>,
    /// The region, when given.
    pub region: Option<String>,
    /// The range's first minute, epoch ms (`--from` taken down to its minute).
    pub from_ms: i64,
    /// The range's end, exclusive, epoch ms (with `--rebuild`, taken up to a minute).
    pub to_ms: i64,
    /// The bucket, ms.
    pub every_ms: i64,
    /// `--product`.
    pub product: Option<String>,
    /// How to print.
    pub format: Format,
    /// `--rebuild` and its options.
    pub rebuild: Option<Rebuild>,
}

impl AggregatesCli {
    /// The arguments, once the checks across flags hold.
    pub fn args(self) -> Result<AggregatesArgs, clap::Error> {
        if self.from >= self.to {
            return Err(error(
                ErrorKind::ArgumentConflict,
                format!(
                    "--from {} is not before --to {}: the range [--from, --to) would be empty",
                    time::format(self.from),
                    time::format(self.to)
                ),
            ));
        }
        if self.rebuild && self.table_name.is_some() && self.event_table_name.is_none() {
            return Err(error(
                ErrorKind::MissingRequiredArgument,
                "--rebuild with --table-name needs --event-table-name: the event table to \
                 recount from (or give --stack-name, whose TableName output names it)"
                    .to_owned(),
            ));
        }
        let minute = 60_000;
        let from_ms = self.from.div_euclid(minute) * minute;
        // A rebuild replaces whole minutes: a minute it touches is recounted whole.
        let to_ms = if self.rebuild {
            self.to.div_euclid(minute) * minute + if self.to % minute == 0 { 0 } else { minute }
        } else {
            self.to
        };
        Ok(AggregatesArgs {
            stack_name: self.stack_name,
            table_name: self.table_name,
            event_table_name: self.event_table_name,
            endpoint_url: self.endpoint_url,
            region: self.region,
            from_ms,
            to_ms,
            every_ms: self.every,
            product: self.product,
            format: self.format,
            rebuild: self.rebuild.then_some(Rebuild {
                segments: self.segments,
                force: self.force,
                dry_run: self.dry_run,
            }),
        })
    }
}

/// An error of the `aggregates` subcommand (exit 2), with its usage.
fn error(kind: ErrorKind, message: String) -> clap::Error {
    let mut command = Cli::command();
    command.build();
    match command.find_subcommand_mut("aggregates") {
        Some(sub) => sub.error(kind, message),
        None => command.error(kind, message),
    }
}

/// `--every`: one of the bucket sizes, in ms.
pub fn every(text: &str) -> Result<i64, String> {
    match text.trim() {
        "1m" => Ok(60_000),
        "5m" => Ok(300_000),
        "15m" => Ok(900_000),
        "1h" => Ok(3_600_000),
        "1d" => Ok(86_400_000),
        _ => Err(format!("must be one of 1m, 5m, 15m, 1h, 1d, got {text:?}")),
    }
}

fn segments(text: &str) -> Result<u32, String> {
    match text.trim().parse::<u32>() {
        Ok(n) if (1..=64).contains(&n) => Ok(n),
        _ => Err(format!("must be a whole number from 1 to 64, got {text:?}")),
    }
}

fn non_empty(text: &str) -> Result<String, String> {
    if text.trim().is_empty() {
        Err(format!("must not be empty, got {text:?}"))
    } else {
        Ok(text.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Command;
    use clap::Parser;

    fn parse(args: &[&str]) -> Result<AggregatesArgs, clap::Error> {
        let argv = ["query", "aggregates"]
            .into_iter()
            .chain(args.iter().copied());
        match Cli::try_parse_from(argv)?.command {
            Some(Command::Aggregates(cli)) => cli.args(),
            None => panic!("no subcommand"),
        }
    }

    const RANGE: [&str; 4] = [
        "--from",
        "2025-12-07T20:31:30Z",
        "--to",
        "2025-12-07T20:45:10Z",
    ];

    #[test]
    fn a_full_command_line() {
        let args = parse(
            &[
                &["--stack-name", "s", "--every", "15m", "--product", "p1"][..],
                &RANGE,
                &["--format", "json"],
            ]
            .concat(),
        )
        .unwrap();
        assert_eq!(args.from_ms, 1_765_139_460_000, "down to its minute");
        assert_eq!(args.to_ms, 1_765_140_310_000);
        assert_eq!(args.every_ms, 900_000);
        assert_eq!(args.product.as_deref(), Some("p1"));
        assert_eq!((args.format, args.rebuild), (Format::Json, None));
        let default = parse(&[&["--table-name", "t"][..], &RANGE].concat()).unwrap();
        assert_eq!(default.every_ms, 60_000);
    }

    #[test]
    fn a_rebuild_covers_whole_minutes() {
        let args = parse(
            &[
                &[
                    "--stack-name",
                    "s",
                    "--rebuild",
                    "--segments",
                    "8",
                    "--dry-run",
                ][..],
                &RANGE,
            ]
            .concat(),
        )
        .unwrap();
        assert_eq!(args.from_ms, 1_765_139_460_000);
        assert_eq!(args.to_ms, 1_765_140_360_000, "up to 20:46");
        assert_eq!(
            args.rebuild,
            Some(Rebuild {
                segments: 8,
                force: false,
                dry_run: true
            })
        );
        let tables = parse(
            &[
                &["--table-name", "a", "--event-table-name", "e", "--rebuild"][..],
                &RANGE,
            ]
            .concat(),
        )
        .unwrap();
        assert_eq!(tables.event_table_name.as_deref(), Some("e"));
    }

    #[test]
    fn bad_arguments_are_exit_2_naming_the_flags() {
        let cases: [(&[&str], &str); 10] = [
            (&["--stack-name", "s", "--to", "1765139460000"], "--from"),
            (&["--stack-name", "s", "--from", "1765139460000"], "--to"),
            (&RANGE, "--stack-name"),
            (&["--stack-name", "s", "--every", "2m"], "--every <SPAN>"),
            (&["--stack-name", "s", "--force"], "--rebuild"),
            (&["--stack-name", "s", "--dry-run"], "--rebuild"),
            (
                &["--stack-name", "s", "--segments", "0", "--rebuild"],
                "--segments <N>",
            ),
            (
                &["--stack-name", "s", "--rebuild", "--product", "p"],
                "--product",
            ),
            (&["--stack-name", "s", "--table-name", "t"], "--table-name"),
            (&["--table-name", "t", "--rebuild"], "--event-table-name"),
        ];
        for (args, expected) in cases {
            let mut argv = args.to_vec();
            if !args.contains(&"--from") && !args.contains(&"--to") {
                argv.extend(RANGE);
            }
            let err = parse(&argv).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{argv:?}");
            let text = err.to_string();
            assert!(text.contains(expected), "{argv:?}: {text}");
        }
    }

    #[test]
    fn an_empty_range_is_refused_naming_both_flags() {
        for to in ["2025-12-07T20:31:30Z", "2025-12-07T20:31:00Z"] {
            let err = parse(&[
                "--stack-name",
                "s",
                "--from",
                "2025-12-07T20:31:30Z",
                "--to",
                to,
            ])
            .unwrap_err();
            assert_eq!(err.exit_code(), 2);
            let text = err.to_string();
            assert!(
                text.contains("--from 2025-12-07T20:31:30.000Z is not before --to"),
                "{text}"
            );
            assert!(
                text.contains("query aggregates"),
                "usage of the subcommand: {text}"
            );
        }
    }

    #[test]
    fn the_old_command_line_is_unchanged_and_excludes_the_subcommand() {
        let old = Cli::try_parse_from(["query", "--stack-name", "s", "--event-type", "v"]).unwrap();
        assert!(old.command.is_none());
        assert!(old.args().is_ok());
        let mixed = Cli::try_parse_from([
            "query",
            "--event-type",
            "v",
            "aggregates",
            "--stack-name",
            "s",
        ]);
        assert_eq!(mixed.unwrap_err().exit_code(), 2);
    }
}
