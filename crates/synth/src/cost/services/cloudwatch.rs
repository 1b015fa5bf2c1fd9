//! CloudWatch: the processor's log lines (Lambda's platform lines, the EMF metrics line,
//! the batch summary, sampled success lines, one line per dead letter), their storage, the
//! custom metrics those EMF lines and Kinesis's shard-level metrics create, the alarms and
//! the dashboard, all counted from the template; and Contributor Insights for DynamoDB,
//! which CloudWatch bills (`insights`).

use super::super::workload::{BYTES_PER_GB, DAYS_PER_MONTH};
use super::super::{LineItem, ServiceCost};
use super::Context;

/// Lambda's own lines per invocation in JSON log format (`platform.start`,
/// `platform.report` with the X-Ray trace fields).
pub const PLATFORM_LOG_BYTES: f64 = 700.0;
/// The processor's EMF line per invocation (five metrics, one dimension).
pub const EMF_LINE_BYTES: f64 = 450.0;
/// The processor's "batch done" summary line per invocation.
pub const SUMMARY_LOG_BYTES: f64 = 300.0;
/// One "stored" line, written for one stored record in [`SUCCESS_LOG_SAMPLE`].
pub const STORED_LOG_BYTES: f64 = 250.0;
/// The processor logs one stored record in this many (its SUCCESS_LOG_SAMPLE).
pub const SUCCESS_LOG_SAMPLE: f64 = 100.0;
/// One "record dead-lettered" warning per invalid record.
pub const DEAD_LETTER_LOG_BYTES: f64 = 250.0;
/// A tumbling window's end: the business EMF lines (Revenue and Purchases, and WindowEvents
/// once per event type, each line one EventType).
pub const WINDOW_END_EMF_BYTES: f64 = 2000.0;

/// Log bytes per window-end invocation: Lambda's lines, the business EMF lines, the summary.
pub fn log_bytes_per_window_end() -> f64 {
    PLATFORM_LOG_BYTES + WINDOW_END_EMF_BYTES + SUMMARY_LOG_BYTES
}

/// Log bytes per invocation, whatever its records.
pub fn log_bytes_per_invocation() -> f64 {
    PLATFORM_LOG_BYTES + EMF_LINE_BYTES + SUMMARY_LOG_BYTES
}

/// CloudWatch's line items.
pub fn estimate(ctx: &Context) -> ServiceCost {
    let w = ctx.workload;
    let p = ctx.prices;
    let inv = ctx.inventory;
    let log_bytes = w.invocations * log_bytes_per_invocation()
        + w.window_end_invocations * log_bytes_per_window_end()
        + w.valid_events / SUCCESS_LOG_SAMPLE * STORED_LOG_BYTES
        + w.invalid_events * DEAD_LETTER_LOG_BYTES;
    let log_gb = log_bytes / BYTES_PER_GB;
    let retention = f64::from(ctx.config.cloudwatch_log_retention_days);
    let shard_metrics = inv.shard_level_metrics * w.shards as usize;
    let metrics = inv.emf_metrics + shard_metrics;
    let mut items = vec![
        LineItem::new(
            "Logs ingested (processor and Lambda platform lines)".into(),
            log_gb,
            "GB",
            p.logs_ingest_gb,
        ),
        LineItem::new(
            format!("Logs stored ({retention} days retained)"),
            log_gb * (retention / DAYS_PER_MONTH).min(1.0),
            "GB-month",
            p.logs_storage_gb_month,
        ),
        LineItem::new(
            format!(
                "Custom metrics ({} EMF + {} shard-level × {} shard{})",
                inv.emf_metrics,
                inv.shard_level_metrics,
                w.shards,
                if w.shards == 1 { "" } else { "s" }
            ),
            metrics as f64,
            "metric-month",
            p.cloudwatch_metric_month,
        ),
        LineItem::new(
            format!(
                "Event source mapping metrics ({} of MetricsConfig EventCount)",
                inv.mapping_metrics
            ),
            inv.mapping_metrics as f64,
            "metric-month",
            p.cloudwatch_metric_month,
        ),
        LineItem::new(
            "Alarms (standard resolution)".into(),
            inv.standard_alarms() as f64,
            "alarm-month",
            p.cloudwatch_alarm_standard_month,
        ),
    ];
    if inv.high_resolution_alarms() > 0 {
        items.push(LineItem::new(
            "Alarms (high resolution, period under 60 s)".into(),
            inv.high_resolution_alarms() as f64,
            "alarm-month",
            p.cloudwatch_alarm_high_resolution_month,
        ));
    }
    items.push(LineItem::new(
        "Dashboards".into(),
        inv.dashboards as f64,
        "dashboard-month",
        p.cloudwatch_dashboard_month,
    ));
    let insights = super::insights::cloudwatch_items(ctx);
    let insights_assumption = insights.as_ref().map(|(_, a)| a.clone());
    items.extend(insights.into_iter().flat_map(|(lines, _)| lines));
    ServiceCost::new("CloudWatch", items)
        .assume(format!(
            "CloudWatch logs: {} bytes per invocation (platform {PLATFORM_LOG_BYTES}, EMF \
             {EMF_LINE_BYTES}, summary {SUMMARY_LOG_BYTES}), {STORED_LOG_BYTES} bytes per \
             {SUCCESS_LOG_SAMPLE}th stored record, {DEAD_LETTER_LOG_BYTES} bytes per dead \
             letter, {} bytes per tumbling window's end (platform, business EMF lines \
             {WINDOW_END_EMF_BYTES}, summary); storage billed at ingested size (CloudWatch compresses, so this is high)",
            log_bytes_per_invocation(),
            log_bytes_per_window_end()
        ))
        .assume(
            "CloudWatch: metric, alarm and dashboard counts come from the synthesized \
             template; the free tier (10 metrics, 10 alarms, 3 dashboards, 5 GB of logs) is \
             not applied",
        )
        .assume(
            "CloudWatch: the event source mapping's EventCount metrics (turned on for the \
             failed-batches alarm) are billed as custom metrics, as AWS announced them; \
             Lambda's function metrics are free",
        )
        .assume_all(insights_assumption)
}
