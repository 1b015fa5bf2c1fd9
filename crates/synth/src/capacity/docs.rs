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
    let mut reports = Vec::new();
    for preset in PRESETS {
        let config = Config::from_preset(preset)
            .map_err(|e| CapacityError::Template(format!("preset {preset}: {e}")))?;
        reports.push((preset, assess(&config, &options)?));
    }
    // Every stage any preset has, in pipeline order: a stage only some presets have (the
    // archive's) goes after the stage it follows in theirs, and is `—` for the others.
    let mut stages: Vec<String> = Vec::new();
    for (_, report) in &reports {
        let mut after = 0;
        for stage in &report.stages {
            match stages.iter().position(|name| *name == stage.name) {
                Some(at) => after = at + 1,
                None => {
                    stages.insert(after, stage.name.clone());
                    after += 1;
                }
            }
        }
    }
    let rows: Vec<String> = reports
        .iter()
        .map(|(preset, report)| {
            let cells: Vec<String> = stages
                .iter()
                .map(|name| {
                    report
                        .stage(name)
                        .map_or("—".to_owned(), |s| number(s.events_per_second))
                })
                .collect();
            format!(
                "| `{preset}` | **{}** | {} | {} |",
                report.ceiling().map(number).unwrap_or_default(),
                report
                    .bottleneck()
                    .map(|s| s.name.as_str())
                    .unwrap_or_default(),
                cells.join(" | ")
            )
        })
        .collect();
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
