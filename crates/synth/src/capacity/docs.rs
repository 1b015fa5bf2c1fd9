//! The preset capacity table of docs/capacity.md: each preset's ceiling and bottleneck at the
//! recipe's event mix, generated here so it cannot drift from the model (tests/capacity.rs
//! compares it with that file, the only place it appears).

use std::fmt::Write;

use crate::generated::Markers;

use super::{assess, CapacityError, Options};
use crate::config::{Config, PRESETS};
use crate::cost::render::number;

/// Where the generated block sits in docs/capacity.md.
pub const MARKERS: Markers = Markers {
    begin: "<!-- capacity:begin -->",
    end: "<!-- capacity:end -->",
};

/// The markdown between the markers (starting and ending with a newline).
pub fn block() -> Result<String, CapacityError> {
    let options = Options::default();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\nWith events of {} bytes in the recipe's mix ({}),\n\
         `synth capacity --preset NAME` reports, in events per second:\n",
        number(options.avg_event_bytes),
        options.mix
    );
    let mut header: Option<Vec<String>> = None;
    let mut rows = Vec::new();
    for preset in PRESETS {
        let config = Config::from_preset(preset)
            .map_err(|e| CapacityError::Template(format!("preset {preset}: {e}")))?;
        let report = assess(&config, &options)?;
        header.get_or_insert_with(|| report.stages.iter().map(|s| s.name.clone()).collect());
        let cells: Vec<String> = report
            .stages
            .iter()
            .map(|s| number(s.events_per_second))
            .collect();
        rows.push(format!(
            "| `{preset}` | **{}** | {} | {} |",
            report.ceiling().map(number).unwrap_or_default(),
            report
                .bottleneck()
                .map(|s| s.name.as_str())
                .unwrap_or_default(),
            cells.join(" | ")
        ));
    }
    let stages = header.unwrap_or_default();
    let _ = writeln!(
        out,
        "| Preset | Ceiling | Bottleneck | {} |",
        stages.join(" | ")
    );
    let _ = writeln!(out, "|---|---:|---|{}", "---:|".repeat(stages.len()));
    for row in rows {
        let _ = writeln!(out, "{row}");
    }
    let _ = writeln!(
        out,
        "\n`synth capacity --preset NAME` prints how each figure is made; `--event-mix` and\n\
         `--avg-event-bytes` change the traffic, `--set` the stack. This block is generated\n\
         (`UPDATE_DOCS=1 cargo test -p synth --test capacity` rewrites it)."
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
        assert!(text.contains("| Preset | Ceiling | Bottleneck | KinesisWrites | Lambda |"));
    }
}
