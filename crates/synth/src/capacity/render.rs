//! A capacity report as a terminal table or as JSON for scripts.

use std::fmt::Write;

use serde_json::{json, Map, Value};

use super::Report;
use crate::cost::render::number;

/// The stages as an aligned table, the line naming the ceiling and the bottleneck, then the
/// notes and assumptions.
pub fn table(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Sustained capacity of {} (events of {} bytes; {})\n",
        report.stack,
        number(report.options.avg_event_bytes),
        report.options.mix
    );
    let bottleneck = report.bottleneck();
    let rows: Vec<[String; 3]> = std::iter::once([
        "Stage".to_string(),
        "Events/s".to_string(),
        "Limited by".to_string(),
    ])
    .chain(report.stages.iter().map(|stage| {
        let marker = if bottleneck.is_some_and(|b| std::ptr::eq(stage, b)) {
            " *"
        } else {
            ""
        };
        [
            format!("{}{marker}", stage.name),
            number(stage.events_per_second),
            stage.limited_by.clone(),
        ]
    }))
    .collect();
    let mut widths = [0usize; 2];
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    for [stage, rate, why] in &rows {
        let _ = writeln!(
            out,
            "{stage:<w0$}  {rate:>w1$}  {why}",
            w0 = widths[0],
            w1 = widths[1]
        );
    }
    if let Some(bottleneck) = bottleneck {
        let _ = writeln!(
            out,
            "\nCeiling: {} events/s, set by {}.",
            number(bottleneck.events_per_second),
            bottleneck.name
        );
    }
    if let Some(backlog) = &report.backlog {
        let _ = writeln!(out, "\nBacklog: {}.", super::backlog::describe(backlog));
    }
    let notes: Vec<String> = report
        .stages
        .iter()
        .flat_map(|s| s.notes.iter().map(move |n| format!("{}: {n}", s.name)))
        .collect();
    if !notes.is_empty() {
        let _ = writeln!(out, "\nNotes:");
        for note in notes {
            let _ = writeln!(out, "  - {note}");
        }
    }
    let _ = writeln!(out, "\nAssumptions:");
    for assumption in &report.assumptions {
        let _ = writeln!(out, "  - {assumption}");
    }
    out
}

/// The report as JSON: `ceiling_events_per_second`, `bottleneck`, and per stage its events
/// per second, what limits it, its inputs and notes.
pub fn json(report: &Report) -> Value {
    let stages: Vec<Value> = report
        .stages
        .iter()
        .map(|stage| {
            let inputs: Map<String, Value> = stage
                .inputs
                .iter()
                .map(|(name, value)| ((*name).to_owned(), value.clone()))
                .collect();
            json!({
                "stage": stage.name,
                "events_per_second": round(stage.events_per_second),
                "limited_by": stage.limited_by,
                "inputs": inputs,
                "notes": stage.notes,
            })
        })
        .collect();
    let mix: Map<String, Value> = report
        .options
        .mix
        .shares()
        .iter()
        .map(|(name, share)| ((*name).to_owned(), json!(share)))
        .collect();
    json!({
        "stack": report.stack,
        "ceiling_events_per_second": report.ceiling().map(round),
        "bottleneck": report.bottleneck().map(|s| s.name.as_str()),
        "avg_event_bytes": report.options.avg_event_bytes,
        "event_mix": mix,
        "stages": stages,
        "assumptions": report.assumptions,
        "backlog": report.backlog.as_ref().map(|b| {
            let inputs: Map<String, Value> = b
                .inputs
                .iter()
                .map(|(name, value)| ((*name).to_owned(), value.clone()))
                .collect();
            json!({
                "drain_events_per_second_per_shard": round(b.events_per_second),
                "drain_events_per_second_per_shard_throttled": round(b.throttled_events_per_second),
                "arriving_events_per_second_per_shard": round(b.arriving_per_shard),
                "hour_backlog_drain_minutes": b.drain_minutes(3600.0, false).map(round),
                "hour_backlog_drain_minutes_throttled": b.drain_minutes(3600.0, true).map(round),
                "inputs": inputs,
            })
        }),
    })
}

/// Events per second to one decimal.
fn round(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::super::{assess, Options};
    use super::*;
    use crate::config::Config;

    #[test]
    fn the_table_names_the_ceiling_and_marks_the_bottleneck() {
        let report = assess(&Config::default(), &Options::default()).unwrap();
        let text = table(&report);
        assert!(
            text.starts_with("Sustained capacity of retail-events-dev"),
            "{text}"
        );
        assert!(
            text.contains("Ceiling: 1,000 events/s, set by KinesisWrites."),
            "{text}"
        );
        assert!(
            text.lines()
                .any(|l| l.starts_with("KinesisWrites *") && l.contains("1,000")),
            "{text}"
        );
        assert!(
            text.lines().any(|l| l.starts_with("EventTypeIndex ")),
            "{text}"
        );
    }

    #[test]
    fn json_carries_the_ceiling_and_every_stage_with_its_inputs() {
        let report = assess(&Config::default(), &Options::default()).unwrap();
        let value = json(&report);
        assert_eq!(value["ceiling_events_per_second"], 1000.0);
        assert_eq!(value["bottleneck"], "KinesisWrites");
        assert_eq!(value["event_mix"]["view"], 0.6);
        let stages = value["stages"].as_array().unwrap();
        assert_eq!(stages.len(), 5);
        assert_eq!(stages[3]["stage"], "EventTypeIndex");
        assert_eq!(stages[3]["events_per_second"], 1666.7);
        assert_eq!(stages[3]["inputs"]["hottest_key_share"], 0.6);
        assert_eq!(stages[0]["inputs"]["shards"], 1);
    }
}
