//! The `query` command line: its arguments, their checks (a bad one is exit 2 naming the
//! flag and the value) and the help text.

use aws_edge::args;
use clap::error::ErrorKind;
use clap::{ArgGroup, CommandFactory, Parser};

use crate::aggregate::cli::AggregatesCli;
use crate::fetch::{Window, PAGE_SIZE_MAX};
use crate::layout::By;
use crate::output::Format;
use crate::{shards, time};

/// The crate's version and the git commit it was built from (build.rs).
const VERSION: &str = aws_edge::version!();

/// Read the pipeline's processed events by event type or by product over a time window,
/// oldest first.
///
/// query finds the table from the stack's outputs (or takes --table-name), learns from the
/// table which index answers the question and whether its keys are write-sharded
/// (dynamodb_index_write_shards > 1), queries every shard in parallel, page by page, and
/// merges the answers by eventTimestamp (ties by userId, then eventKey, so the same query
/// prints the same lines). With one shard it reads the plain eventType / productId keys.
/// When the index copies less than every attribute (dynamodb_gsi_projection KEYS_ONLY or
/// INCLUDE), it reads the events it prints whole from the table (BatchGetItem).
///
/// Items go to stdout; notes and, last, a summary line go to stderr.
#[derive(Debug, Parser)]
#[command(name = "query", version = VERSION, about, long_about, after_help = AFTER_HELP)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
#[command(group(ArgGroup::new("by").required(true).args(["event_type", "product_id"])))]
#[command(group(ArgGroup::new("where").required(true).args(["stack_name", "table_name"])))]
pub struct Cli {
    /// The pipeline's CloudFormation stack: its outputs name the table (TableName) and the
    /// function whose INDEX_WRITE_SHARDS says how many shards to read (FunctionName).
    #[arg(long, value_name = "NAME", value_parser = args::stack_name)]
    pub stack_name: Option<String>,

    /// The table itself, instead of --stack-name: needs only EventReaderPolicy's
    /// permissions (no cloudformation:DescribeStacks).
    #[arg(long, value_name = "TABLE", value_parser = non_empty)]
    pub table_name: Option<String>,

    /// Another endpoint than AWS's, e.g. moto's http://127.0.0.1:5000 (the SDK also reads
    /// AWS_ENDPOINT_URL).
    #[arg(long, value_name = "URL", value_parser = args::endpoint_url)]
    pub endpoint_url: Option<String>,

    /// AWS region (default: AWS_REGION or the profile's, else us-east-1).
    #[arg(long, value_name = "REGION", value_parser = args::region)]
    pub region: Option<String>,

    /// Events of this type (view, add_to_cart, purchase, ...), from EventTypeIndex.
    #[arg(long, value_name = "TYPE", value_parser = non_empty)]
    pub event_type: Option<String>,

    /// Events of this product, from ProductIndex.
    #[arg(long, value_name = "ID", value_parser = non_empty)]
    pub product_id: Option<String>,

    /// The window's start, inclusive: epoch milliseconds or RFC 3339 (default: the
    /// beginning).
    #[arg(long, value_name = "TIME", value_parser = time::parse)]
    pub from: Option<i64>,

    /// The window's end, inclusive: epoch milliseconds or RFC 3339 (default: no end).
    #[arg(long, value_name = "TIME", value_parser = time::parse)]
    pub to: Option<i64>,

    /// At most this many events, the oldest of the window.
    #[arg(long, value_name = "N", value_parser = limit)]
    pub limit: Option<usize>,

    /// At most this many items per Query page (1 to 1000; default: DynamoDB's 1 MB pages):
    /// smaller pages spread a large read's capacity use over more requests.
    #[arg(long, value_name = "N", value_parser = page_size)]
    pub page_size: Option<usize>,

    /// text: a table for people; json: one JSON object per item and line, every attribute.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Shards to read when the index is write-sharded (default: the function's
    /// INDEX_WRITE_SHARDS, else all 100 possible). Fewer than the stack writes misses events.
    #[arg(long, value_name = "N", value_parser = shards::flag)]
    pub shards: Option<u32>,

    /// A subcommand instead of an event query.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// `query`'s subcommands; without one, `query` reads events (the flags above).
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// The per-minute figures of a time range, summed into buckets, or rebuilt from the
    /// event table (--rebuild).
    Aggregates(AggregatesCli),
}

const AFTER_HELP: &str = "Examples:
  query aggregates --stack-name retail-events-dev --from 2026-11-25T00:00:00Z --to 2026-11-26T00:00:00Z --every 1h
  query --stack-name retail-events-dev --event-type purchase --from 2026-11-25T08:00:00Z --to 2026-11-25T09:00:00Z
  query --stack-name retail-events-dev --product-id prod_0042 --limit 20 --format json | jq .userId
  query --table-name retail-events-dev-events --shards 8 --event-type view --limit 100
  query --endpoint-url http://127.0.0.1:5000 --stack-name retail-events-dev --event-type view

Last line on stderr, e.g.:
  query: shards=8 queried_pages=9 items=20
  query: shards=8 queried_pages=9 items=20 fetched=20 missing=0 batch_gets=1
(the second when the index is KEYS_ONLY or INCLUDE and the items were read from the table;
missing: listed by the index but gone from the table, e.g. expired by TTL, and skipped)

Permissions: the stack's EventReaderPolicy (dynamodb:Query and DescribeTable on the table and
its indexes, and dynamodb:BatchGetItem on the table when the indexes are KEYS_ONLY or
INCLUDE), plus cloudformation:DescribeStacks with --stack-name, plus, to learn the shard
count, lambda:GetFunctionConfiguration (without it query reads all 100 possible shards, or
pass --shards). See docs/query.md.

Exit status: 0 the query ran (even with no events found), 1 an AWS call failed, 2 bad arguments.";

/// The checked arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Args {
    /// The stack, when given.
    pub stack_name: Option<String>,
    /// The table, when given instead.
    pub table_name: Option<String>,
    /// The endpoint, when not AWS's.
    pub endpoint_url: Option<String>,
    /// The region, when given.
    pub region: Option<String>,
    /// What is asked for.
    pub by: By,
    /// The window.
    pub window: Window,
    /// At most this many items.
    pub limit: Option<usize>,
    /// Items per Query page.
    pub page_size: Option<usize>,
    /// How to print.
    pub format: Format,
    /// `--shards`.
    pub shards: Option<u32>,
}

impl Cli {
    /// The arguments, once the checks across flags hold (`--from` not after `--to`).
    pub fn args(self) -> Result<Args, clap::Error> {
        let window = Window {
            from_ms: self.from.unwrap_or(0),
            to_ms: self.to.unwrap_or(time::MAX_EPOCH_MS),
        };
        if window.from_ms > window.to_ms {
            return Err(Cli::command().error(
                ErrorKind::ArgumentConflict,
                format!(
                    "--from {} is after --to {}: the window would be empty",
                    time::format(window.from_ms),
                    time::format(window.to_ms)
                ),
            ));
        }
        let by = match (self.event_type, self.product_id) {
            (Some(t), _) => By::EventType(t),
            (None, Some(p)) => By::ProductId(p),
            // clap's group makes one of them required; say so rather than panic.
            (None, None) => {
                return Err(Cli::command().error(
                    ErrorKind::MissingRequiredArgument,
                    "one of --event-type or --product-id is required",
                ))
            }
        };
        Ok(Args {
            stack_name: self.stack_name,
            table_name: self.table_name,
            endpoint_url: self.endpoint_url,
            region: self.region,
            by,
            window,
            limit: self.limit,
            page_size: self.page_size,
            format: self.format,
            shards: self.shards,
        })
    }
}

fn non_empty(text: &str) -> Result<String, String> {
    if text.trim().is_empty() {
        Err(format!("must not be empty, got {text:?}"))
    } else {
        Ok(text.to_owned())
    }
}

fn limit(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!(
            "must be a whole number of at least 1, got {text:?}"
        )),
    }
}

fn page_size(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if (1..=PAGE_SIZE_MAX).contains(&n) => Ok(n),
        _ => Err(format!(
            "must be a whole number from 1 to {PAGE_SIZE_MAX}, got {text:?}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_names_the_commit_it_was_built_from() {
        use clap::CommandFactory;
        let version = Cli::command().render_version();
        assert!(version.contains(" (commit "), "{version}");
    }

    fn parse(args: &[&str]) -> Result<Args, clap::Error> {
        Cli::try_parse_from(std::iter::once("query").chain(args.iter().copied()))?.args()
    }

    #[test]
    fn a_full_command_line() {
        let args = parse(&[
            "--stack-name",
            "s",
            "--event-type",
            "purchase",
            "--from",
            "1764000000000",
            "--to",
            "2025-11-24T17:00:00Z",
            "--limit",
            "5",
            "--format",
            "json",
        ])
        .unwrap();
        assert_eq!(args.by, By::EventType("purchase".into()));
        assert_eq!(
            args.window,
            Window {
                from_ms: 1_764_000_000_000,
                to_ms: 1_764_003_600_000
            }
        );
        assert_eq!((args.limit, args.format), (Some(5), Format::Json));
        let open = parse(&["--table-name", "t", "--product-id", "p"]).unwrap();
        assert_eq!(open.window.from_ms, 0);
        assert_eq!(open.window.to_ms, time::MAX_EPOCH_MS);
    }

    #[test]
    fn bad_arguments_are_exit_2_naming_the_flag_and_value() {
        let cases: [(&[&str], &str); 7] = [
            (
                &[
                    "--stack-name",
                    "s",
                    "--event-type",
                    "v",
                    "--page-size",
                    "1001",
                ],
                "--page-size <N>",
            ),
            (
                &["--stack-name", "s", "--event-type", "v", "--from", "soon"],
                "--from <TIME>",
            ),
            (
                &[
                    "--stack-name",
                    "s",
                    "--event-type",
                    "v",
                    "--to",
                    "1764000000",
                ],
                "epoch seconds",
            ),
            (
                &["--stack-name", "s", "--event-type", "v", "--limit", "0"],
                "--limit <N>",
            ),
            (
                &["--stack-name", "s", "--event-type", "v", "--shards", "101"],
                "--shards <N>",
            ),
            (&["--stack-name", "s"], "--event-type"),
            (&["--event-type", "v"], "--stack-name"),
        ];
        for (args, expected) in cases {
            let err = parse(args).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{args:?}");
            let text = err.to_string();
            assert!(text.contains(expected), "{args:?}: {text}");
        }
        let err = parse(&["--stack-name", "s", "--event-type", "v", "--from", "soon"]).unwrap_err();
        assert!(err.to_string().contains("got \"soon\""), "{err}");
    }

    #[test]
    fn exclusive_flags_and_an_inverted_window_are_refused() {
        let both = parse(&[
            "--stack-name",
            "s",
            "--event-type",
            "v",
            "--product-id",
            "p",
        ]);
        assert_eq!(both.unwrap_err().exit_code(), 2);
        let places = parse(&[
            "--stack-name",
            "s",
            "--table-name",
            "t",
            "--event-type",
            "v",
        ]);
        assert_eq!(places.unwrap_err().exit_code(), 2);
        let inverted = parse(&[
            "--stack-name",
            "s",
            "--event-type",
            "v",
            "--from",
            "1764000000001",
            "--to",
            "1764000000000",
        ])
        .unwrap_err();
        assert_eq!(inverted.exit_code(), 2);
        assert!(
            inverted
                .to_string()
                .contains("--from 2025-11-24T16:00:00.001Z is after --to 2025-11-24T16:00:00.000Z"),
            "{inverted}"
        );
    }

    #[test]
    fn the_help_explains_sharding_permissions_and_exit_status() {
        let help = Cli::command().render_long_help().to_string();
        for needle in [
            "write-sharded",
            "EventReaderPolicy",
            "Exit status",
            "--shards",
            "BatchGetItem",
            "fetched=",
        ] {
            assert!(help.contains(needle), "{needle}");
        }
    }
}
