//! `synth capacity`.

use std::process::ExitCode;

use clap::{Args, ValueEnum};

use synth::capacity::{self, traffic, EventMix, Options};
use synth::cost::Load;

use super::ConfigArgs;

/// Report the stack's sustained ceiling in events per second and the stage that sets it.
///
/// Each stage's limit: Kinesis writes (shards × 1,000 records and 1 MiB a second; a new
/// on-demand stream's 4 MB/s), the event source mapping and Lambda (concurrent batches ×
/// batch size / the measured time per batch), the table and each index (1,000 write units a
/// second per partition key value at the event mix, times the index write shards, and the
/// write capacity the template sets). The ceiling is the lowest. See docs/capacity.md for
/// the formulas and their sources.
///
/// Exit status: 0 ok, 1 the template failed validation, 2 bad arguments or configuration.
#[derive(Debug, Args)]
#[command(after_help = AFTER_HELP)]
pub struct CapacityArgs {
    /// The stack's configuration, as for printing the template.
    #[command(flatten)]
    pub config: ConfigArgs,

    /// Each event type's share of events, adding up to 1; types left out have none. Default:
    /// the recipe's view=0.6,add_to_cart=0.2,purchase=0.1,wishlist=0.05,share=0.03,review=0.02
    #[arg(long, value_name = "TYPE=SHARE,...")]
    pub event_mix: Option<String>,

    /// Average size of one event (one Kinesis record's data), in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = traffic::DEFAULT_EVENT_BYTES, allow_negative_numbers = true)]
    pub avg_event_bytes: f64,

    /// Output format: an aligned table, or JSON for scripts.
    #[arg(long, value_enum, default_value_t = CapacityFormat::Table)]
    pub format: CapacityFormat,
}

const AFTER_HELP: &str = "Examples:
  synth capacity --preset high-throughput
  synth capacity --preset high-throughput --set dynamodb_index_write_shards=1 --format json
  synth capacity --event-mix view=0.4,add_to_cart=0.3,purchase=0.3 --avg-event-bytes 900";

/// How the report is printed.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum CapacityFormat {
    /// Stages, the ceiling and its bottleneck, notes and assumptions.
    Table,
    /// The same as one JSON document.
    Json,
}

/// Assesses and prints.
pub fn run(args: &CapacityArgs) -> ExitCode {
    let options = match options(args) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    let config = match args.config.load() {
        Ok(config) => config,
        Err(code) => return code,
    };
    let report = match capacity::assess(&config, &options) {
        Ok(report) => report,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(1);
        }
    };
    let text = match args.format {
        CapacityFormat::Table => capacity::render::table(&report),
        CapacityFormat::Json => {
            let mut text =
                serde_json::to_string_pretty(&capacity::render::json(&report)).unwrap_or_default();
            text.push('\n');
            text
        }
    };
    match super::print_stdout(&text) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: cannot write the report: {err}");
            ExitCode::from(1)
        }
    }
}

/// The flags' values, checked: the event size as `synth cost` checks it, the mix by its own
/// rules.
fn options(args: &CapacityArgs) -> Result<Options, String> {
    Load::new(0.0, args.avg_event_bytes, 0.0).map_err(|e| e.to_string())?;
    let mix = match &args.event_mix {
        Some(text) => EventMix::parse(text).map_err(|e| e.to_string())?,
        None => EventMix::default(),
    };
    Ok(Options {
        mix,
        avg_event_bytes: args.avg_event_bytes,
    })
}
