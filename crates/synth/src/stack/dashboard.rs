//! The CloudWatch dashboard body: one row per question an on-call engineer asks
//! (what is coming in, is it keeping up, is it failing, is it throttled, is data piling up in
//! the DLQ, did Lambda give up on batches or lose them).

use contract::metrics::{
    BATCH_SIZE, DIMENSION, FAILED_EVENTS, PROCESSED_EVENTS, PROCESSING_DURATION, SUCCESS_RATE,
};
use serde_json::{json, Value};

use super::names::Names;
use crate::config::{Config, ConsumerMode};

/// The namespace of the processor's EMF metrics: the stack sets the function's
/// `METRICS_NAMESPACE` to it, and the alarms and this dashboard watch it.
pub use contract::metrics::DEFAULT_NAMESPACE as METRICS_NAMESPACE;

/// The dimension of an event source mapping's own metrics (`AWS/Lambda`): its UUID. Lambda
/// publishes them only for the metric groups the mapping's `MetricsConfig` turns on.
pub const MAPPING_DIMENSION: &str = "EventSourceMappingUUID";
/// Records the mapping sent to its on-failure destination after giving up on their batch
/// (metric group `EventCount`).
pub const ON_FAILURE_DELIVERED: &str = "OnFailureDestinationDeliveredEventCount";
/// The `MetricsConfig` group that publishes [`ON_FAILURE_DELIVERED`].
pub const ON_FAILURE_DELIVERED_GROUP: &str = "EventCount";
/// Times Lambda failed to deliver a discarded batch to the destination: those records are
/// lost. A function metric (dimension `FunctionName`), always published.
pub const DESTINATION_DELIVERY_FAILURES: &str = "DestinationDeliveryFailures";

/// The dashboard body as JSON text for `Fn::Sub`: `${AWS::Region}`, and `${MAPPING}` where
/// MAPPING is the event source mapping's logical ID (`mapping`), whose `Ref` is the UUID its
/// own metrics are published under.
pub fn body(config: &Config, names: &Names, mapping: &str) -> String {
    let period = config.cloudwatch_alarm_period_seconds;
    // The processor's metrics' dimension, and AWS/Lambda's: the same name, two contracts.
    let emitted = [DIMENSION, names.function.as_str()];
    let function = ["FunctionName", names.function.as_str()];
    let stream = ["StreamName", names.stream.as_str()];
    let table = ["TableName", names.table.as_str()];
    let widgets = vec![
        widget(
            "Stream incoming records and bytes",
            "Sum",
            period,
            vec![
                metric("AWS/Kinesis", "IncomingRecords", &stream, "Sum"),
                json!(["AWS/Kinesis", "IncomingBytes", stream[0], stream[1],
                       { "stat": "Sum", "yAxis": "right" }]),
            ],
        ),
        stream_lag(config, names, period),
        widget(
            "Stream throttled writes and reads",
            "Sum",
            period,
            vec![
                metric(
                    "AWS/Kinesis",
                    "WriteProvisionedThroughputExceeded",
                    &stream,
                    "Sum",
                ),
                metric(
                    "AWS/Kinesis",
                    "ReadProvisionedThroughputExceeded",
                    &stream,
                    "Sum",
                ),
            ],
        ),
        widget(
            "Lambda invocations",
            "Sum",
            period,
            vec![metric("AWS/Lambda", "Invocations", &function, "Sum")],
        ),
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
            "DynamoDB consumed capacity (units)",
            "Sum",
            period,
            vec![
                metric("AWS/DynamoDB", "ConsumedWriteCapacityUnits", &table, "Sum"),
                metric("AWS/DynamoDB", "ConsumedReadCapacityUnits", &table, "Sum"),
            ],
        ),
        widget(
            "DynamoDB throttled requests",
            "Sum",
            period,
            vec![
                metric("AWS/DynamoDB", "WriteThrottleEvents", &table, "Sum"),
                metric("AWS/DynamoDB", "ReadThrottleEvents", &table, "Sum"),
            ],
        ),
        widget(
            "Batches given up on: records sent on failure, deliveries failed",
            "Sum",
            period,
            vec![
                metric(
                    "AWS/Lambda",
                    ON_FAILURE_DELIVERED,
                    &[MAPPING_DIMENSION, &format!("${{{mapping}}}")],
                    "Sum",
                ),
                json!(["AWS/Lambda", DESTINATION_DELIVERY_FAILURES, function[0], function[1],
                       { "stat": "Sum", "yAxis": "right" }]),
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
    // One widget per line: the template shows a literal block a reviewer can read and a
    // diff names the widget that changed, while the body stays small enough to keep every
    // preset's template under CloudFormation's 51,200-byte inline limit (pretty-printed
    // JSON, indented again by YAML, cost a fifth of the template).
    let lines: Vec<String> = placed.iter().map(Value::to_string).collect();
    format!("{{\"widgets\": [\n{}\n]}}", lines.join(",\n"))
}

fn emf(name: &str, dimension: &[&str; 2]) -> Value {
    json!([METRICS_NAMESPACE, name, dimension[0], dimension[1]])
}

/// How far the processor's reads are behind the stream: GetRecords' iterator age for shared
/// reads; an enhanced fan-out consumer does not call GetRecords, so for it the consumer's
/// own lag.
fn stream_lag(config: &Config, names: &Names, period: u32) -> Value {
    let stream = ["StreamName", names.stream.as_str()];
    match config.kinesis_consumer {
        ConsumerMode::Shared => widget(
            "Stream iterator age (ms): oldest unread record",
            "Maximum",
            period,
            vec![metric(
                "AWS/Kinesis",
                "GetRecords.IteratorAgeMilliseconds",
                &stream,
                "Maximum",
            )],
        ),
        ConsumerMode::EnhancedFanOut => widget(
            "Consumer lag (ms): how far the enhanced fan-out consumer is behind",
            "Maximum",
            period,
            vec![
                json!(["AWS/Kinesis", "SubscribeToShardEvent.MillisBehindLatest",
                        "StreamName", names.stream, "ConsumerName", names.consumer,
                        { "stat": "Maximum" }]),
            ],
        ),
    }
}

fn metric(namespace: &str, name: &str, dimension: &[&str; 2], stat: &str) -> Value {
    json!([namespace, name, dimension[0], dimension[1], { "stat": stat }])
}

/// A time-series widget (CloudWatch's default view). A metric's own `stat` that repeats the
/// widget's is left out: every byte of the body counts against the template's size.
fn widget(title: &str, stat: &str, period: u32, metrics: Vec<Value>) -> Value {
    let metrics: Vec<Value> = metrics
        .into_iter()
        .map(|mut line| {
            if let Some(items) = line.as_array_mut() {
                if items.last() == Some(&json!({ "stat": stat })) {
                    items.pop();
                }
            }
            line
        })
        .collect();
    json!({
        "type": "metric",
        "properties": {
            "title": title,
            "region": "${AWS::Region}",
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
        let text = body(&config, &Names::new(&config), "StreamMapping");
        let parsed: Value = serde_json::from_str(&text).expect("valid JSON");
        let widgets = parsed["widgets"].as_array().expect("widgets");
        assert_eq!(widgets.len(), 14);
        let mut variables = cfn_sub_variables(&text);
        variables.sort_unstable();
        variables.dedup();
        assert_eq!(variables, vec!["AWS::Region", "StreamMapping"]);
        for name in [
            "ProcessedEvents",
            "FailedEvents",
            "SuccessRate",
            "BatchSize",
            "IteratorAge",
            "Throttles",
            "WriteThrottleEvents",
            "ApproximateNumberOfMessagesVisible",
            "IncomingRecords",
            "GetRecords.IteratorAgeMilliseconds",
            "WriteProvisionedThroughputExceeded",
            "Invocations",
            "ConsumedWriteCapacityUnits",
            "OnFailureDestinationDeliveredEventCount",
            "DestinationDeliveryFailures",
        ] {
            assert!(text.contains(name), "dashboard lacks {name}");
        }
    }

    #[test]
    fn an_enhanced_fan_out_consumer_is_watched_by_its_own_lag() {
        let config = Config {
            kinesis_consumer: ConsumerMode::EnhancedFanOut,
            ..Config::default()
        };
        let text = body(&config, &Names::new(&config), "StreamMapping");
        let parsed: Value = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(parsed["widgets"].as_array().unwrap().len(), 14);
        assert!(!text.contains("GetRecords.IteratorAgeMilliseconds"));
        assert!(text.contains(
            r#"["AWS/Kinesis","SubscribeToShardEvent.MillisBehindLatest","StreamName","retail-events-dev-events","ConsumerName","retail-events-dev-processor"]"#
        ), "{text}");
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
