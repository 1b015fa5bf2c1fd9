//! The preset cost table of docs/cost.md: each preset's estimate at the default load,
//! generated here so it cannot drift from the model (tests/cost.rs compares it with that
//! file, the only place it appears).

use std::fmt::Write;

use crate::generated::Markers;

use super::render::number;
use super::{estimate, CostError, DEFAULT_LOAD, PRICES_AS_OF, PRICES_REGION};
use crate::config::{Config, PRESETS};

/// Where the generated block sits in docs/cost.md.
pub const MARKERS: Markers = Markers {
    begin: "<!-- cost:begin -->",
    end: "<!-- cost:end -->",
};

/// The services, in the columns' order.
const COLUMNS: &[&str] = &[
    "Kinesis",
    "Lambda",
    "DynamoDB",
    "CloudWatch",
    "SQS",
    "S3",
    "KMS",
];

/// The markdown between the markers (starting and ending with a newline).
pub fn block() -> Result<String, CostError> {
    let load = DEFAULT_LOAD;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\nAt the default load of {} events/s of {} bytes ({} events a month, none invalid),\n\
         `synth cost --preset NAME` estimates, in USD a month ({PRICES_REGION} list prices as of\n\
         {PRICES_AS_OF}, free tier not applied):\n",
        number(load.events_per_second),
        number(load.avg_event_bytes),
        number(load.events_per_second * super::workload::SECONDS_PER_MONTH),
    );
    let _ = writeln!(out, "| Preset | {} | Total |", COLUMNS.join(" | "));
    let _ = writeln!(out, "|---|{}---:|", "---:|".repeat(COLUMNS.len()));
    for preset in PRESETS {
        let config = Config::from_preset(preset)
            .map_err(|e| CostError::Template(format!("preset {preset}: {e}")))?;
        let estimate = estimate(&config, load)?;
        let cells: Vec<String> = COLUMNS
            .iter()
            .map(|name| {
                let usd = estimate.service(name).map_or(0.0, |s| s.monthly_usd());
                format!("{usd:.2}")
            })
            .collect();
        let _ = writeln!(
            out,
            "| `{preset}` | {} | **{:.2}** |",
            cells.join(" | "),
            estimate.total_usd()
        );
    }
    let _ = writeln!(
        out,
        "\nDynamoDB dominates: every event is an item written to the table and both indexes, and\n\
         kept. `synth cost --events-per-second N --avg-event-bytes B` prices your own load;\n\
         `--format json` gives every line item. The formulas and assumptions follow below.\n\
         This block is generated (`UPDATE_DOCS=1 cargo test -p synth --test cost` rewrites it)."
    );
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_block_has_a_row_per_preset() {
        let text = block().unwrap();
        for preset in PRESETS {
            assert!(text.contains(&format!("| `{preset}` |")), "{preset}");
        }
    }
}
