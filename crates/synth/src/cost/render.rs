//! An estimate as a terminal table or as JSON for scripts.

use std::fmt::Write;

use serde_json::{json, Value};

use super::{Estimate, PRICES_AS_OF, PRICES_REGION};

/// The estimate as an aligned table with service subtotals, the total, the assumptions and
/// any warnings.
pub fn table(estimate: &Estimate) -> String {
    let w = &estimate.workload;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Monthly cost estimate for {} ({} hours, {} events/s of {} bytes = {} events)",
        estimate.stack,
        super::HOURS_PER_MONTH,
        number(w.load.events_per_second),
        number(w.load.avg_event_bytes),
        number(w.events)
    );
    let _ = writeln!(
        out,
        "Prices: {PRICES_REGION} list prices as of {PRICES_AS_OF}, USD; free tier not applied.\n"
    );
    let mut rows: Vec<[String; 6]> = vec![[
        "Service".into(),
        "Line item".into(),
        "Quantity".into(),
        "Unit".into(),
        "Unit price".into(),
        "Monthly USD".into(),
    ]];
    for service in &estimate.services {
        for (i, item) in service.line_items.iter().enumerate() {
            rows.push([
                if i == 0 {
                    service.service.into()
                } else {
                    String::new()
                },
                item.item.clone(),
                number(item.quantity),
                item.unit.into(),
                format!("${}", item.unit_price_usd),
                format!("{:.2}", item.monthly_usd),
            ]);
        }
        rows.push([
            String::new(),
            format!("{} subtotal", service.service),
            String::new(),
            String::new(),
            String::new(),
            format!("{:.2}", service.monthly_usd()),
        ]);
    }
    rows.push([
        "Total".into(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        format!("{:.2}", estimate.total_usd()),
    ]);
    let mut widths = [0usize; 6];
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    for row in &rows {
        let line: Vec<String> = row
            .iter()
            .zip(widths)
            .enumerate()
            .map(|(i, (cell, width))| match i {
                // Numbers right-aligned.
                2 | 4 | 5 => format!("{cell:>width$}"),
                _ => format!("{cell:<width$}"),
            })
            .collect();
        let _ = writeln!(out, "{}", line.join("  ").trim_end());
    }
    let _ = writeln!(out, "\nAssumptions:");
    for assumption in &estimate.assumptions {
        let _ = writeln!(out, "  - {assumption}");
    }
    if !estimate.warnings.is_empty() {
        let _ = writeln!(out, "\nWarnings:");
        for warning in &estimate.warnings {
            let _ = writeln!(out, "  - {warning}");
        }
    }
    out
}

/// The estimate as JSON: stack, load, per-service line items (quantity, unit, unit price,
/// monthly USD), service totals, the total, assumptions and warnings.
pub fn json(estimate: &Estimate) -> Value {
    let w = &estimate.workload;
    let services: Vec<Value> = estimate
        .services
        .iter()
        .map(|service| {
            json!({
                "service": service.service,
                "monthly_usd": round(service.monthly_usd()),
                "line_items": service.line_items.iter().map(|item| json!({
                    "item": item.item,
                    "quantity": item.quantity,
                    "unit": item.unit,
                    "unit_price_usd": item.unit_price_usd,
                    "monthly_usd": round(item.monthly_usd),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "stack": estimate.stack,
        "region": estimate.region,
        "currency": "USD",
        "prices_region": PRICES_REGION,
        "prices_as_of": PRICES_AS_OF,
        "hours_per_month": super::HOURS_PER_MONTH,
        "load": {
            "events_per_second": w.load.events_per_second,
            "avg_event_bytes": w.load.avg_event_bytes,
            "invalid_ratio": w.load.invalid_ratio,
            "events_per_month": w.events,
            "filter_share": w.filter_share,
            "delivered_events_per_month": w.delivered_events,
            "shards": w.shards,
            "records_per_invocation": w.records_per_invocation,
            "invocations_per_month": w.invocations,
            "billed_ms_per_invocation": w.billed_ms_per_invocation,
            "window_end_invocations_per_month": w.window_end_invocations,
        },
        "services": services,
        "total_usd": round(estimate.total_usd()),
        "assumptions": estimate.assumptions,
        "warnings": estimate.warnings,
    })
}

/// Cents, as a JSON number (the unrounded figures are the line items' quantity × price).
fn round(usd: f64) -> f64 {
    (usd * 100.0).round() / 100.0
}

/// A quantity for people: thousands separated, at most three decimals, no trailing zeros.
pub fn number(value: f64) -> String {
    let text = if value.abs() >= 1000.0 {
        format!("{value:.0}")
    } else {
        let fixed = format!("{value:.3}");
        fixed.trim_end_matches('0').trim_end_matches('.').to_owned()
    };
    let (sign, digits) = text
        .strip_prefix('-')
        .map_or(("", text.as_str()), |d| ("-", d));
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    if fraction.is_empty() {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped}.{fraction}")
    }
}

#[cfg(test)]
mod tests {
    use super::super::{estimate, DEFAULT_LOAD};
    use super::*;
    use crate::config::Config;

    #[test]
    fn numbers_are_grouped_and_trimmed() {
        assert_eq!(number(262_800_000.0), "262,800,000");
        assert_eq!(number(730.0), "730");
        assert_eq!(number(0.25), "0.25");
        assert_eq!(number(4.5678), "4.568");
        assert_eq!(number(1234.6), "1,235");
    }

    #[test]
    fn the_table_lists_every_line_item_and_the_total() {
        let estimate = estimate(&Config::default(), DEFAULT_LOAD).unwrap();
        let text = table(&estimate);
        for service in &estimate.services {
            for item in &service.line_items {
                assert!(text.contains(&item.item), "missing {}", item.item);
            }
        }
        let total = format!("{:.2}", estimate.total_usd());
        assert!(
            text.lines()
                .any(|l| l.starts_with("Total") && l.ends_with(&total)),
            "{text}"
        );
        assert!(text.contains("free tier not applied"));
    }

    #[test]
    fn json_carries_items_totals_and_assumptions() {
        let estimate = estimate(&Config::default(), DEFAULT_LOAD).unwrap();
        let value = json(&estimate);
        assert_eq!(value["services"][0]["service"], "Kinesis");
        let item = &value["services"][0]["line_items"][0];
        for key in ["item", "quantity", "unit", "unit_price_usd", "monthly_usd"] {
            assert!(!item[key].is_null(), "line item lacks {key}");
        }
        assert_eq!(value["prices_as_of"], PRICES_AS_OF);
        assert!(value["assumptions"].as_array().unwrap().len() > 5);
        assert!(value["total_usd"].as_f64().unwrap() > 0.0);
    }
}
