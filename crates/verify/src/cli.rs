//! The `verify` command line: arguments, their checks (each bad one is exit 2 naming it),
//! and the help text.

use std::time::Duration;

use aws_edge::args;
use clap::error::ErrorKind;
use clap::{CommandFactory, Parser};

use crate::check;

/// Most events one run sends: enough for a latency percentile, few enough to stay cheap.
pub const MAX_COUNT: usize = 1_000;

/// The crate's version and the git commit it was built from (build.rs).
const VERSION: &str = aws_edge::version!();

/// Verify a deployed pipeline end to end: send a small marked batch of events (some
/// deliberately invalid) to the stack's stream, then check that each valid event is stored
/// in the table under the key docs/design.md defines, each invalid one is a dead letter in the
/// queue, and the function logged no error; print the end-to-end latency (p50/p99, event
/// timestamp to processedAt).
///
/// The events' userId and partition key are `verify-<run id>`, their eventIds follow from
/// it, so they never mix with real traffic. verify's dead letters are deleted once found
/// (unless --keep); other messages in the queue are put back at once. Progress goes to
/// stderr; the report, with the summary as its last line, to stdout.
#[derive(Debug, Parser)]
#[command(name = "verify", version = VERSION, about, long_about, after_help = AFTER_HELP)]
pub struct Cli {
    /// The CloudFormation stack to verify (its outputs name the stream, table, queue and
    /// log group).
    #[arg(long, value_name = "NAME", value_parser = args::stack_name)]
    pub stack_name: String,

    /// Another endpoint than AWS's, e.g. moto's http://127.0.0.1:5000 (the SDK also reads
    /// AWS_ENDPOINT_URL).
    #[arg(long, value_name = "URL", value_parser = args::endpoint_url)]
    pub endpoint_url: Option<String>,

    /// AWS region (default: AWS_REGION or the profile's, else us-east-1).
    #[arg(long, value_name = "REGION", value_parser = args::region)]
    pub region: Option<String>,

    /// Events to send, valid and invalid together.
    #[arg(long, value_name = "N", default_value_t = 20, value_parser = count, allow_negative_numbers = true)]
    pub count: usize,

    /// Share of the events to break on purpose, 0 to 1 (default 0.2).
    #[arg(long, value_name = "R", value_parser = ratio, conflicts_with = "invalid", allow_negative_numbers = true)]
    pub invalid_ratio: Option<f64>,

    /// Number of events to break on purpose (at most --count), instead of --invalid-ratio.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub invalid: Option<usize>,

    /// Seconds to wait for the events to arrive before failing.
    #[arg(long, value_name = "SECS", default_value = "120", value_parser = timeout, allow_negative_numbers = true)]
    pub timeout: f64,

    /// Leave verify's dead letters in the queue (they are deleted once found otherwise).
    #[arg(long)]
    pub keep: bool,
}

const AFTER_HELP: &str = "Examples:
  verify --stack-name retail-events-dev
  make verify STACK=retail-events-dev
  # On moto no Lambda runs: start local-runner as the consumer first.
  local-runner --endpoint-url http://127.0.0.1:5000 --stack-name retail-events-dev --idle-exit 30 &
  verify --endpoint-url http://127.0.0.1:5000 --stack-name retail-events-dev --timeout 60

Last line, e.g.:
  verify: sent=20 stored=16/16 dead_lettered=4/4 function_errors=0 latency_p50_ms=850 latency_p99_ms=1400 result=PASS

Permissions: the stack's ProducerPolicy, EventReaderPolicy and DeadLetterReaderPolicy (their ARNs
are stack outputs), cloudformation:DescribeStacks and logs:FilterLogEvents. See docs/verify.md.

Exit status: 0 every check held, 1 a check failed or an AWS call failed, 2 bad arguments.";

/// The share of invalid events when neither --invalid nor --invalid-ratio is given.
pub const DEFAULT_INVALID_RATIO: f64 = 0.2;

/// What to do, from checked arguments.
#[derive(Debug, Clone)]
pub struct Args {
    /// The stack.
    pub stack_name: String,
    /// The endpoint, if not AWS's.
    pub endpoint_url: Option<String>,
    /// The region, if given.
    pub region: Option<String>,
    /// Events to send.
    pub count: usize,
    /// Of those, invalid.
    pub invalid: usize,
    /// How to wait.
    pub wait: check::Options,
}

impl Cli {
    /// The arguments, with the checks that involve two of them.
    pub fn args(self) -> Result<Args, clap::Error> {
        let invalid = match (self.invalid, self.invalid_ratio) {
            (Some(n), _) if n > self.count => {
                return Err(Cli::command().error(
                    ErrorKind::ValueValidation,
                    format!(
                        "--invalid must be at most --count ({}), got {n}",
                        self.count
                    ),
                ))
            }
            (Some(n), _) => n,
            (None, ratio) => {
                let ratio = ratio.unwrap_or(DEFAULT_INVALID_RATIO);
                (self.count as f64 * ratio).round() as usize
            }
        };
        Ok(Args {
            stack_name: self.stack_name,
            endpoint_url: self.endpoint_url,
            region: self.region,
            count: self.count,
            invalid,
            wait: check::Options {
                timeout: Duration::from_secs_f64(self.timeout),
                keep: self.keep,
                ..check::Options::default()
            },
        })
    }
}

fn count(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if (1..=MAX_COUNT).contains(&n) => Ok(n),
        _ => Err(format!(
            "must be a whole number from 1 to {MAX_COUNT}, got {text:?}"
        )),
    }
}

fn ratio(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(r) if (0.0..=1.0).contains(&r) => Ok(r),
        _ => Err(format!("must be a number from 0 to 1, got {text:?}")),
    }
}

fn timeout(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 && s <= 3_600.0 => Ok(s),
        _ => Err(format!(
            "must be seconds above 0 and up to 3600, got {text:?}"
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
        let mut argv = vec!["verify"];
        argv.extend_from_slice(args);
        Cli::try_parse_from(argv).and_then(Cli::args)
    }

    #[test]
    fn the_defaults_send_20_events_4_invalid_and_wait_120_s() {
        let args = parse(&["--stack-name", "retail-events-dev"]).unwrap();
        assert_eq!((args.count, args.invalid), (20, 4));
        assert_eq!(args.wait.timeout, Duration::from_secs(120));
        assert!(!args.wait.keep);
        assert_eq!(args.endpoint_url, None);
    }

    #[test]
    fn invalid_events_by_number_or_by_share() {
        let args = parse(&["--stack-name", "s", "--count", "7", "--invalid", "7"]).unwrap();
        assert_eq!(args.invalid, 7);
        let args = parse(&[
            "--stack-name",
            "s",
            "--count",
            "10",
            "--invalid-ratio",
            "0.25",
        ])
        .unwrap();
        assert_eq!(args.invalid, 3);
        let args = parse(&["--stack-name", "s", "--invalid-ratio", "0", "--keep"]).unwrap();
        assert_eq!(args.invalid, 0);
        assert!(args.wait.keep);
    }

    /// Every bad argument is refused with exit status 2 and a message naming it.
    #[test]
    fn bad_arguments_are_exit_2_naming_the_argument() {
        for (args, named) in [
            (vec![], "--stack-name"),
            (vec!["--stack-name", "1abc"], "--stack-name"),
            (
                vec!["--stack-name", "s", "--endpoint-url", "127.0.0.1:5000"],
                "--endpoint-url",
            ),
            (
                vec!["--stack-name", "s", "--region", "not a region"],
                "--region",
            ),
            (vec!["--stack-name", "s", "--count", "0"], "--count"),
            (vec!["--stack-name", "s", "--count", "1001"], "--count"),
            (vec!["--stack-name", "s", "--count", "x"], "--count"),
            (
                vec!["--stack-name", "s", "--invalid-ratio", "1.5"],
                "--invalid-ratio",
            ),
            (vec!["--stack-name", "s", "--invalid", "-1"], "--invalid"),
            (
                vec!["--stack-name", "s", "--count", "5", "--invalid", "6"],
                "--invalid",
            ),
            (
                vec![
                    "--stack-name",
                    "s",
                    "--invalid",
                    "1",
                    "--invalid-ratio",
                    "0.1",
                ],
                "--invalid",
            ),
            (vec!["--stack-name", "s", "--timeout", "0"], "--timeout"),
            (vec!["--stack-name", "s", "--timeout", "3601"], "--timeout"),
            (vec!["--stack-name", "s", "--timeout", "NaN"], "--timeout"),
            (vec!["--stack-name", "s", "--timeout", "-5"], "--timeout"),
            (vec!["--stack-name", "s", "--bogus"], "--bogus"),
        ] {
            let err = parse(&args).expect_err(&format!("{args:?} is refused"));
            assert_eq!(err.exit_code(), 2, "{args:?}");
            let text = err.to_string();
            assert!(text.contains(named), "{args:?}: {text}");
        }
    }

    #[test]
    fn the_help_has_an_example_and_the_exit_statuses() {
        let help = Cli::command().render_long_help().to_string();
        assert!(help.contains("verify --stack-name retail-events-dev"));
        assert!(help.contains("Exit status: 0 every check held, 1 a check failed"));
        Cli::command().debug_assert();
    }
}
