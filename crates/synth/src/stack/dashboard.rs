//! The CloudWatch dashboard body: one row per question an on-call engineer asks
//! (is it keeping up, is it failing, is it throttled, is data piling up in the DLQ).

use contract::metrics::{
    BATCH_SIZE, DIMENSION, FAILED_EVENTS, PROCESSED_EVENTS, PROCESSING_DURATION, SUCCESS_RATE,
};
use serde_json::{json, Value};

use super::names::Names;
use crate::config::Config;

/// The namespace of the processor's EMF metrics: the stack sets the function's
/// `METRICS_NAMESPACE` to it, and the alarms and this dashboard watch it.
pub use contract::metrics::DEFAULT_NAMESPACE as METRICS_NAMESPACE;

/// The dashboard body as JSON text for `Fn::Sub`: `${AWS::Region}` is its only variable.
pub fn body(config: &Config, names: &Names) -> String {
    let period = config.cloudwatch_alarm_period_seconds;
    // The processor's metrics' dimension, and AWS/Lambda's: the same name, two contracts.
    let emitted = [DIMENSION, names.function.as_str()];
    let function = ["FunctionName", names.function.as_str()];
    let widgets = vec![
        widget(
            "Processed and failed events",
            "Sum",
            period,
            vec![
                emf(PROCESSED_EVENTS, &emitted),
                emf(FAILED_EVENTS, &emitted),
            ],
        ),
        widget(
            "Success rate (%)",
            "Average",
            period,
            vec![emf(SUCCESS_RATE, &emitted)],
        ),
        widget(
            "Processing duration (ms)",
            "Average",
            period,
            vec![
                emf(PROCESSING_DURATION, &emitted),
                metric("AWS/Lambda", "Duration", &function, "Average"),
                metric("AWS/Lambda", "Duration", &function, "p99"),
            ],
        ),
        widget(
            "Batch size (records per invocation)",
            "Average",
            period,
            vec![
                emf(BATCH_SIZE, &emitted),
                metric(METRICS_NAMESPACE, BATCH_SIZE, &emitted, "Maximum"),
            ],
        ),
        widget(
            "Iterator age (ms): how far behind the stream",
            "Maximum",
            period,
            vec![metric("AWS/Lambda", "IteratorAge", &function, "Maximum")],
        ),
        widget(
            "Lambda errors and throttles",
            "Sum",
            period,
            vec![
                metric("AWS/Lambda", "Errors", &function, "Sum"),
                metric("AWS/Lambda", "Throttles", &function, "Sum"),
            ],
        ),
        widget(
            "DynamoDB throttled requests",
            "Sum",
            period,
            vec![
                metric(
                    "AWS/DynamoDB",
                    "WriteThrottleEvents",
                    &["TableName", &names.table],
                    "Sum",
                ),
                metric(
                    "AWS/DynamoDB",
                    "ReadThrottleEvents",
                    &["TableName", &names.table],
                    "Sum",
                ),
            ],
        ),
        widget(
            "Dead-letter queue depth (messages)",
            "Maximum",
            period,
            vec![metric(
                "AWS/SQS",
                "ApproximateNumberOfMessagesVisible",
                &["QueueName", &names.queue],
                "Maximum",
            )],
        ),
    ];
    let placed: Vec<Value> = widgets
        .into_iter()
        .enumerate()
        .map(|(i, w)| place(w, i))
        .collect();
    // Pretty-printed: the template shows it as a literal block a reviewer can read.
    serde_json::to_string_pretty(&json!({ "widgets": placed })).unwrap_or_default()
}

fn emf(name: &str, dimension: &[&str; 2]) -> Value {
    json!([METRICS_NAMESPACE, name, dimension[0], dimension[1]])
}

fn metric(namespace: &str, name: &str, dimension: &[&str; 2], stat: &str) -> Value {
    json!([namespace, name, dimension[0], dimension[1], { "stat": stat }])
}

fn widget(title: &str, stat: &str, period: u32, metrics: Vec<Value>) -> Value {
    json!({
        "type": "metric",
        "properties": {
            "title": title,
            "region": "${AWS::Region}",
            "view": "timeSeries",
            "stat": stat,
            "period": period,
            "metrics": metrics,
        },
    })
}

/// Two widgets per row, each half the 24-unit grid wide.
fn place(mut widget: Value, index: usize) -> Value {
    if let Some(object) = widget.as_object_mut() {
        object.insert("x".into(), json!((index % 2) * 12));
        object.insert("y".into(), json!((index / 2) * 6));
        object.insert("width".into(), json!(12));
        object.insert("height".into(), json!(6));
    }
    widget
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_is_json_with_only_the_region_to_substitute() {
        let config = Config::default();
        let text = body(&config, &Names::new(&config));
        let parsed: Value = serde_json::from_str(&text).expect("valid JSON");
        let widgets = parsed["widgets"].as_array().expect("widgets");
        assert_eq!(widgets.len(), 8);
        assert_eq!(cfn_sub_variables(&text), vec!["AWS::Region"]);
        for name in [
            "ProcessedEvents",
            "FailedEvents",
            "SuccessRate",
            "BatchSize",
            "IteratorAge",
            "Throttles",
            "WriteThrottleEvents",
            "ApproximateNumberOfMessagesVisible",
        ] {
            assert!(text.contains(name), "dashboard lacks {name}");
        }
    }

    fn cfn_sub_variables(text: &str) -> Vec<&str> {
        let mut found: Vec<&str> = text
            .split("${")
            .skip(1)
            .filter_map(|s| s.split('}').next())
            .collect();
        found.dedup();
        found
    }
}
