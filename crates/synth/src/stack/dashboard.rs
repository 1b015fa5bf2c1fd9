//! The CloudWatch dashboard body: one row per question an on-call engineer asks
//! (what is coming in, is it keeping up, is it failing, is it throttled, is data piling up in
//! the DLQ, did Lambda give up on batches or lose them), and with tumbling windows a last
//! row of business figures (revenue, purchases, events by type), indicative only: the
//! aggregate table is the record.

use contract::metrics::{
    BATCH_SIZE, DIMENSION, EVENT_TYPE_DIMENSION, FAILED_EVENTS, PROCESSED_EVENTS,
    PROCESSING_DURATION, PURCHASES, REVENUE, SUCCESS_RATE, WINDOW_EVENTS,
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
/// Records the mapping dropped: they reached neither the function nor the destination.
/// Records that expire in the stream before the mapping reads them are not among them.
pub const DROPPED_EVENTS: &str = "DroppedEventCount";
/// The mapping's own counts (metric group `EventCount`), in Kinesis records, in the order
/// a record meets them: read from the stream, filtered out, sent to the function (again on
/// each retry), in an invocation that failed, dropped, sent to the on-failure destination.
pub const MAPPING_COUNTS: &[&str] = &[
    "PolledEventCount",
    "FilteredOutEventCount",
    "InvokedEventCount",
    "FailedInvokeEventCount",
    DROPPED_EVENTS,
    ON_FAILURE_DELIVERED,
];
/// The `MetricsConfig` group that publishes [`ON_FAILURE_DELIVERED`] and [`MAPPING_COUNTS`].
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
        mapping_books(&emitted, mapping, period),
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
    let rows = widgets.len().div_ceil(2);
    let mut placed: Vec<Value> = widgets
        .into_iter()
        .enumerate()
        .map(|(i, w)| place(w, i))
        .collect();
    if let Some(window) = config.aggregate_window() {
        placed.extend(business(names, window, rows * 6));
    }
    // One widget per line: the template shows a literal block a reviewer can read and a
    // diff names the widget that changed, while the body stays compact (pretty-printed JSON,
    // indented again by YAML, cost a fifth of the template; templates over CloudFormation's
    // 51,200-byte inline limit are deployed through S3).
    let lines: Vec<String> = placed.iter().map(Value::to_string).collect();
    format!("{{\"widgets\": [\n{}\n]}}", lines.join(",\n"))
}

/// The mapping's counts beside the processor's, all in Kinesis records (docs/processor.md,
/// "The mapping's books", states what must hold between them): the processor's
/// `BatchSize` summed is the records it was invoked with.
fn mapping_books(emitted: &[&str; 2], mapping: &str, period: u32) -> Value {
    let uuid = format!("${{{mapping}}}");
    let mut metrics: Vec<Value> = MAPPING_COUNTS
        .iter()
        .map(|name| metric("AWS/Lambda", name, &[MAPPING_DIMENSION, &uuid], "Sum"))
        .collect();
    metrics.push(metric(METRICS_NAMESPACE, BATCH_SIZE, emitted, "Sum"));
    widget(
        "Mapping's books vs the processor's (Kinesis records)",
        "Sum",
        period,
        metrics,
    )
}

/// The note above the business widgets.
pub const BUSINESS_NOTE: &str = "**Business figures** from the processor's EMF lines at each \
    tumbling window's end: indicative only (a line may be delivered twice, or lost with a \
    failed window end). The aggregate table is the record: `query aggregates`.";

/// The event types whose `WindowEvents` the dashboard graphs: the recipe's (its generator's
/// weights), each a metric of its own (dimensions FunctionName and EventType).
pub fn graphed_event_types() -> impl Iterator<Item = &'static str> {
    events::EVENT_WEIGHTS.iter().map(|(name, _)| *name)
}

/// The business row, from `y` down: a note across the grid, then revenue, purchases and
/// events by type, a third of the grid each, summed over the window rounded up to a period
/// CloudWatch takes (a multiple of 60 s), since each shard emits them once a window.
fn business(names: &Names, window: u32, y: usize) -> Vec<Value> {
    let period = window.div_ceil(60) * 60;
    let emitted = [DIMENSION, names.function.as_str()];
    let by_type = graphed_event_types()
        .map(|event_type| {
            json!([
                METRICS_NAMESPACE,
                WINDOW_EVENTS,
                DIMENSION,
                names.function,
                EVENT_TYPE_DIMENSION,
                event_type
            ])
        })
        .collect();
    let note = json!({
        "type": "text",
        "x": 0, "y": y, "width": 24, "height": 2,
        "properties": { "markdown": BUSINESS_NOTE },
    });
    let graphs = [
        widget(
            "Revenue (USD, indicative)",
            "Sum",
            period,
            vec![emf(REVENUE, &emitted)],
        ),
        widget(
            "Purchases (indicative)",
            "Sum",
            period,
            vec![emf(PURCHASES, &emitted)],
        ),
        widget("Events by type (indicative)", "Sum", period, by_type),
    ];
    std::iter::once(note)
        .chain(graphs.into_iter().enumerate().map(|(i, mut graph)| {
            if let Some(object) = graph.as_object_mut() {
                object.insert("x".into(), json!(i * 8));
                object.insert("y".into(), json!(y + 2));
                object.insert("width".into(), json!(8));
                object.insert("height".into(), json!(6));
            }
            graph
        }))
        .collect()
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
        // 15, and with dev's tumbling windows a note and three business widgets.
        assert_eq!(widgets.len(), 19);
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
        assert_eq!(parsed["widgets"].as_array().unwrap().len(), 19);
        assert!(!text.contains("GetRecords.IteratorAgeMilliseconds"));
        assert!(text.contains(
            r#"["AWS/Kinesis","SubscribeToShardEvent.MillisBehindLatest","StreamName","retail-events-dev-events","ConsumerName","retail-events-dev-processor"]"#
        ), "{text}");
    }

    #[test]
    fn the_mappings_books_sit_beside_the_processors_records() {
        let all = widgets(&Config::default());
        let books = all
            .iter()
            .find(|w| {
                w["properties"]["title"] == "Mapping's books vs the processor's (Kinesis records)"
            })
            .expect("the mapping's books widget");
        let metrics = books["properties"]["metrics"].as_array().unwrap();
        let names: Vec<&str> = metrics.iter().map(|m| m[1].as_str().unwrap()).collect();
        let mut expected = MAPPING_COUNTS.to_vec();
        expected.push(BATCH_SIZE);
        assert_eq!(names, expected);
        for mapping_metric in &metrics[..MAPPING_COUNTS.len()] {
            assert_eq!(mapping_metric[0], "AWS/Lambda");
            assert_eq!(mapping_metric[2], MAPPING_DIMENSION);
            assert_eq!(mapping_metric[3], "${StreamMapping}");
        }
        assert_eq!(metrics[MAPPING_COUNTS.len()][0], METRICS_NAMESPACE);
    }

    fn widgets(config: &Config) -> Vec<Value> {
        let text = body(config, &Names::new(config), "StreamMapping");
        let parsed: Value = serde_json::from_str(&text).expect("valid JSON");
        parsed["widgets"].as_array().unwrap().clone()
    }

    #[test]
    fn windows_add_the_business_figures_under_a_note_that_they_are_indicative() {
        let all = widgets(&Config::default());
        let business = &all[15..];
        assert_eq!(business[0]["type"], "text");
        let note = business[0]["properties"]["markdown"].as_str().unwrap();
        assert!(note.contains("indicative") && note.contains("aggregate table is the record"));
        let titles: Vec<&str> = business[1..]
            .iter()
            .map(|w| w["properties"]["title"].as_str().unwrap())
            .collect();
        assert_eq!(
            titles,
            [
                "Revenue (USD, indicative)",
                "Purchases (indicative)",
                "Events by type (indicative)"
            ]
        );
        for graph in &business[1..] {
            assert_eq!(graph["properties"]["stat"], "Sum");
            assert_eq!(graph["properties"]["period"], 60);
        }
        let f = "retail-events-dev-processor";
        assert_eq!(
            business[1]["properties"]["metrics"],
            json!([[METRICS_NAMESPACE, "Revenue", "FunctionName", f]])
        );
        assert_eq!(
            business[2]["properties"]["metrics"],
            json!([[METRICS_NAMESPACE, "Purchases", "FunctionName", f]])
        );
        let by_type = business[3]["properties"]["metrics"].as_array().unwrap();
        let types: Vec<&str> = by_type.iter().map(|m| m[5].as_str().unwrap()).collect();
        assert_eq!(
            types,
            [
                "view",
                "add_to_cart",
                "purchase",
                "wishlist",
                "share",
                "review"
            ]
        );
        for line in by_type {
            assert_eq!(
                line.as_array().unwrap()[..5],
                json!([
                    METRICS_NAMESPACE,
                    "WindowEvents",
                    "FunctionName",
                    f,
                    "EventType"
                ])
                .as_array()
                .unwrap()[..]
            );
        }
        // Below the last row of the operational widgets, across the grid, none overlapping.
        assert_eq!(business[0]["y"], 48);
        let placed: Vec<(u64, u64, u64)> = business[1..]
            .iter()
            .map(|w| {
                let n = |k: &str| w[k].as_u64().unwrap();
                (n("x"), n("y"), n("width"))
            })
            .collect();
        assert_eq!(placed, [(0, 50, 8), (8, 50, 8), (16, 50, 8)]);
        // A five-minute window sums over five minutes; a 90 s one over two.
        for (window, period) in [(300, 300), (90, 120), (1, 60)] {
            let config = Config {
                aggregate_window_seconds: window,
                ..Config::default()
            };
            assert_eq!(widgets(&config)[16]["properties"]["period"], period);
        }
        let off = Config {
            aggregate_window_seconds: 0,
            ..Config::default()
        };
        assert_eq!(widgets(&off).len(), 15);
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
