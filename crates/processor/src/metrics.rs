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

/// The EMF line: namespace and dimension per DESIGN.md, metrics ProcessedEvents,
/// FailedEvents, ProcessingDuration, SuccessRate and BatchSize.
pub fn emf_line(
    namespace: &str,
    function_name: &str,
    stats: &InvocationStats,
    timestamp_ms: i64,
) -> String {
    json!({
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": namespace,
                "Dimensions": [["FunctionName"]],
                "Metrics": [
                    { "Name": "ProcessedEvents", "Unit": "Count" },
                    { "Name": "FailedEvents", "Unit": "Count" },
                    { "Name": "ProcessingDuration", "Unit": "Milliseconds" },
                    { "Name": "SuccessRate", "Unit": "Percent" },
                    { "Name": "BatchSize", "Unit": "Count" },
                ],
            }],
        },
        "FunctionName": function_name,
        "ProcessedEvents": stats.processed,
        "FailedEvents": stats.failed,
        "ProcessingDuration": stats.duration_ms,
        "SuccessRate": stats.success_rate(),
        "BatchSize": stats.batch_size,
    })
    .to_string()
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
            serde_json::from_str(&emf_line("NS", "fn", &stats, 1)).unwrap();
        let declared = &line["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(declared["Namespace"], "NS");
        assert_eq!(declared["Dimensions"], json!([["FunctionName"]]));
        for metric in declared["Metrics"].as_array().unwrap() {
            let name = metric["Name"].as_str().unwrap();
            assert!(line[name].is_number(), "{name} declared but not carried");
        }
        assert_eq!(line["SuccessRate"], 90.0);
        assert_eq!(line["FunctionName"], "fn");
    }

    #[test]
    fn an_empty_batch_has_full_success() {
        assert_eq!(InvocationStats::default().success_rate(), 100.0);
    }
}
