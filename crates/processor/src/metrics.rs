//! CloudWatch Embedded Metric Format: one JSON line per invocation in the function's log,
//! which CloudWatch turns into metrics. No PutMetricData call, so no API latency, no cost per
//! call and no `cloudwatch:*` permission on the role.

use serde_json::json;

/// What one invocation did, for the metrics line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InvocationStats {
    /// Kinesis records in the batch.
    pub batch_size: usize,
    /// User records stored in the table.
    pub processed: usize,
    /// User records dead-lettered as invalid, or not durably handled (retried by Lambda).
    pub failed: usize,
    /// Wall time of the invocation's work, in milliseconds.
    pub duration_ms: u64,
}

impl InvocationStats {
    /// Percentage of user records stored; 100 for an empty batch (nothing failed).
    pub fn success_rate(&self) -> f64 {
        let total = self.processed + self.failed;
        if total == 0 {
            100.0
        } else {
            self.processed as f64 * 100.0 / total as f64
        }
    }
}

/// The EMF line: the namespace, the `contract` crate's dimension and every metric of
/// [`contract::metrics::EMITTED`], each declared with its unit and carried as a value.
/// `failed_events_resolution` 1 declares `FailedEvents` high-resolution (EMF
/// `StorageResolution`), so an alarm on it may look at 10- or 30-second periods.
pub fn emf_line(
    namespace: &str,
    function_name: &str,
    stats: &InvocationStats,
    timestamp_ms: i64,
    failed_events_resolution: u32,
) -> String {
    use contract::metrics::{
        BATCH_SIZE, DIMENSION, FAILED_EVENTS, PROCESSED_EVENTS, PROCESSING_DURATION, SUCCESS_RATE,
    };
    let failed = if failed_events_resolution == 1 {
        json!({ "Name": FAILED_EVENTS, "Unit": "Count", "StorageResolution": 1 })
    } else {
        json!({ "Name": FAILED_EVENTS, "Unit": "Count" })
    };
    json!({
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": namespace,
                "Dimensions": [[DIMENSION]],
                "Metrics": [
                    { "Name": PROCESSED_EVENTS, "Unit": "Count" },
                    failed,
                    { "Name": PROCESSING_DURATION, "Unit": "Milliseconds" },
                    { "Name": SUCCESS_RATE, "Unit": "Percent" },
                    { "Name": BATCH_SIZE, "Unit": "Count" },
                ],
            }],
        },
        DIMENSION: function_name,
        PROCESSED_EVENTS: stats.processed,
        FAILED_EVENTS: stats.failed,
        PROCESSING_DURATION: stats.duration_ms,
        SUCCESS_RATE: stats.success_rate(),
        BATCH_SIZE: stats.batch_size,
    })
    .to_string()
}

/// The business metrics of a window's end (`contract::metrics::BUSINESS`): one line with
/// `Revenue` (USD) and `Purchases`, and one `WindowEvents` line per event type with its
/// `EventType` dimension. Stamped with the processing time, not the events' minutes:
/// CloudWatch drops EMF timestamps more than 14 days old and sums what it is given, so
/// these figures are indicative (a retried window's end is counted twice); the aggregate
/// table is the record.
pub fn business_emf_lines(
    namespace: &str,
    function_name: &str,
    figures: &aggregates::Figures,
    timestamp_ms: i64,
) -> Vec<String> {
    use contract::metrics::{DIMENSION, EVENT_TYPE_DIMENSION, PURCHASES, REVENUE, WINDOW_EVENTS};
    let revenue_usd = figures.revenue_cents as f64 / 100.0;
    let mut lines = vec![json!({
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": namespace,
                "Dimensions": [[DIMENSION]],
                "Metrics": [
                    { "Name": REVENUE, "Unit": "None" },
                    { "Name": PURCHASES, "Unit": "Count" },
                ],
            }],
        },
        DIMENSION: function_name,
        REVENUE: revenue_usd,
        PURCHASES: figures.purchases,
    })
    .to_string()];
    for (event_type, count) in &figures.by_type {
        lines.push(
            json!({
                "_aws": {
                    "Timestamp": timestamp_ms,
                    "CloudWatchMetrics": [{
                        "Namespace": namespace,
                        "Dimensions": [[DIMENSION, EVENT_TYPE_DIMENSION]],
                        "Metrics": [{ "Name": WINDOW_EVENTS, "Unit": "Count" }],
                    }],
                },
                DIMENSION: function_name,
                EVENT_TYPE_DIMENSION: event_type,
                WINDOW_EVENTS: count,
            })
            .to_string(),
        );
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_declares_every_metric_it_carries() {
        let stats = InvocationStats {
            batch_size: 10,
            processed: 9,
            failed: 1,
            duration_ms: 12,
        };
        let line: serde_json::Value =
            serde_json::from_str(&emf_line("NS", "fn", &stats, 1, 60)).unwrap();
        let declared = &line["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(declared["Namespace"], "NS");
        assert_eq!(
            declared["Dimensions"],
            json!([[contract::metrics::DIMENSION]])
        );
        let mut names = Vec::new();
        for metric in declared["Metrics"].as_array().unwrap() {
            let name = metric["Name"].as_str().unwrap();
            assert!(line[name].is_number(), "{name} declared but not carried");
            names.push(name);
        }
        assert_eq!(line[contract::metrics::SUCCESS_RATE], 90.0);
        assert_eq!(line[contract::metrics::DIMENSION], "fn");
        // The stack's alarms and dashboard are checked against the same list.
        assert_eq!(names, contract::metrics::EMITTED);
    }

    #[test]
    fn failed_events_can_be_high_resolution() {
        let stats = InvocationStats::default();
        let resolution = |r| {
            let line: serde_json::Value =
                serde_json::from_str(&emf_line("NS", "fn", &stats, 1, r)).unwrap();
            line["_aws"]["CloudWatchMetrics"][0]["Metrics"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| {
                    (
                        m["Name"].as_str().unwrap().to_owned(),
                        m["StorageResolution"].clone(),
                    )
                })
                .collect::<Vec<_>>()
        };
        for (name, r) in resolution(1) {
            let expected = if name == contract::metrics::FAILED_EVENTS {
                json!(1)
            } else {
                serde_json::Value::Null
            };
            assert_eq!(r, expected, "{name}");
        }
        assert!(resolution(60).iter().all(|(_, r)| r.is_null()));
    }

    #[test]
    fn an_empty_batch_has_full_success() {
        assert_eq!(InvocationStats::default().success_rate(), 100.0);
    }

    #[test]
    fn a_windows_end_emits_every_business_metric_with_its_dimensions() {
        let mut figures = aggregates::Figures::default();
        for (kind, price) in [
            ("view", None),
            ("purchase", Some("19.99")),
            ("purchase", Some("0.01")),
        ] {
            figures.add(&aggregates::EventFacts {
                timestamp_ms: 0,
                event_type: kind,
                user_id: "u",
                product_id: None,
                price,
                quantity: None,
            });
        }
        let lines: Vec<serde_json::Value> = business_emf_lines("NS", "fn", &figures, 7)
            .iter()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let mut names = Vec::new();
        for line in &lines {
            let declared = &line["_aws"]["CloudWatchMetrics"][0];
            for dimension in declared["Dimensions"][0].as_array().unwrap() {
                assert!(line[dimension.as_str().unwrap()].is_string());
            }
            for metric in declared["Metrics"].as_array().unwrap() {
                let name = metric["Name"].as_str().unwrap();
                assert!(line[name].is_number(), "{name} declared but not carried");
                if !names.contains(&name) {
                    names.push(name);
                }
            }
        }
        assert_eq!(names, contract::metrics::BUSINESS);
        assert_eq!(lines[0][contract::metrics::REVENUE], 20.0);
        assert_eq!(lines[0][contract::metrics::PURCHASES], 2);
        let purchases = lines.iter().find(|l| l["EventType"] == "purchase").unwrap();
        assert_eq!(purchases[contract::metrics::WINDOW_EVENTS], 2);
    }
}
