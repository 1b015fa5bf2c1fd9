//! `synth cost`.

use std::process::ExitCode;

use clap::{Args, ValueEnum};

use synth::cost::{self, Load, DEFAULT_LOAD};

use super::ConfigArgs;

/// Estimate the stack's monthly cost at a given load.
///
/// A 730-hour month of the configured stack, per service and line item, from the us-east-1
/// list prices in crates/synth/src/cost/prices.rs, free tier not applied. See docs/cost.md
/// for the formulas and assumptions.
///
/// Exit status: 0 ok, 1 the template failed validation, 2 bad arguments or configuration.
#[derive(Debug, Args)]
pub struct CostArgs {
    /// The stack's configuration, as for printing the template.
    #[command(flatten)]
    pub config: ConfigArgs,

    /// Average events written to the stream per second over the month, 0 to 10,000,000.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_LOAD.events_per_second, allow_negative_numbers = true)]
    pub events_per_second: f64,

    /// Average size of one event (one Kinesis record), in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_LOAD.avg_event_bytes, allow_negative_numbers = true)]
    pub avg_event_bytes: f64,

    /// Share of events the processor rejects to the dead-letter queue, 0 to 1.
    #[arg(long, value_name = "RATIO", default_value_t = DEFAULT_LOAD.invalid_ratio, allow_negative_numbers = true)]
    pub invalid_ratio: f64,

    /// Output format: an aligned table, or JSON for scripts.
    #[arg(long, value_enum, default_value_t = CostFormat::Table)]
    pub format: CostFormat,
}

/// How the estimate is printed.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum CostFormat {
    /// Line items, subtotals, the total, assumptions and warnings.
    Table,
    /// The same as one JSON document.
    Json,
}

/// Estimates and prints.
pub fn run(args: &CostArgs) -> ExitCode {
    let load = match Load::new(
        args.events_per_second,
        args.avg_event_bytes,
        args.invalid_ratio,
    ) {
        Ok(load) => load,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(2);
        }
    };
    let config = match args.config.load() {
        Ok(config) => config,
        Err(code) => return code,
    };
    let estimate = match cost::estimate(&config, load) {
        Ok(estimate) => estimate,
        Err(err) => {
            eprintln!("error: {err}");
            // A figure past f64 comes from the arguments; a template that fails is a bug.
            return ExitCode::from(match err {
                cost::CostError::NotFinite { .. } => 2,
                cost::CostError::Template(_) => 1,
            });
        }
    };
    let text = match args.format {
        CostFormat::Table => cost::render::table(&estimate),
        CostFormat::Json => {
            let mut text =
                serde_json::to_string_pretty(&cost::render::json(&estimate)).unwrap_or_default();
            text.push('\n');
            text
        }
    };
    match super::print_stdout(&text) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: cannot write the estimate: {err}");
            ExitCode::from(1)
        }
    }
}
