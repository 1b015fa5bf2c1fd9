//! CloudWatch alarms: the recipe's three (failed events, duration, errors) plus what an
//! on-call engineer needs to know the pipeline is stuck or losing ground: iterator age,
//! throttles (the stream's, the function's and the table's), records piling up in the
//! dead-letter queue, batches Lambda gave up on (sent to the on-failure destination), and
//! batches it could not even deliver there (lost), records the mapping dropped, and records
//! about to expire unread (the iterator age past half the stream's retention).

use cfn::resources::cloudwatch::alarm::{
    AlarmComparisonOperator as Comparison, AlarmStatistic as Statistic,
    AlarmTreatMissingData as MissingData, Dimension,
};
use cfn::resources::cloudwatch::Alarm;
use cfn::{Expr, Handle, Template, Val};

use super::alerts::AlarmActions;
use super::dashboard::{
    DESTINATION_DELIVERY_FAILURES, DROPPED_EVENTS, MAPPING_DIMENSION, METRICS_NAMESPACE,
    ON_FAILURE_DELIVERED,
};
use super::names::Names;
use super::tags;
use crate::config::Config;

/// What alarms watch.
pub struct Watched {
    /// The function's name (`Ref` of the function).
    pub function_name: Expr,
    /// The stream's name (`Ref` of the stream).
    pub stream_name: Expr,
    /// The table's name.
    pub table_name: Expr,
    /// The dead-letter queue's name.
    pub queue_name: Expr,
    /// The event source mapping's UUID (`Ref` of the mapping).
    pub mapping_id: Expr,
    /// Whether the mapping's on-failure destination is the failure bucket (else the queue).
    pub failure_bucket: bool,
}

/// The function-errors alarm's logical ID (AWS/Lambda `Errors` of the function).
pub const ERRORS_ALARM_ID: &str = "ErrorsAlarm";
/// The failed-events alarm's logical ID (the processor's `FailedEvents`: records it
/// dead-lettered or could not durably handle).
pub const FAILED_EVENTS_ALARM_ID: &str = "FailedEventsAlarm";
/// The failed-batches alarm's logical ID (batches the mapping gave up on and sent to its
/// on-failure destination).
pub const FAILED_BATCHES_ALARM_ID: &str = "FailedBatchesAlarm";

/// The alarms added, by logical ID, in the template's order, with their names.
pub struct Raised {
    alarms: Vec<(&'static str, Handle<Alarm>, String)>,
}

impl Raised {
    /// The alarm with this logical ID, if the stack has it.
    pub fn get(&self, id: &str) -> Option<&Handle<Alarm>> {
        self.alarms
            .iter()
            .find(|(alarm, _, _)| *alarm == id)
            .map(|(_, handle, _)| handle)
    }

    /// The ARN of the alarm with this logical ID, if the stack has it, built from its name
    /// (which synth decides) rather than `Fn::GetAtt`: the same ARN on AWS, and moto's
    /// CloudFormation, which has no alarms, can still create a policy that names it.
    pub fn arn(&self, id: &str) -> Option<Expr> {
        self.alarms
            .iter()
            .find(|(alarm, _, _)| *alarm == id)
            .map(|(_, _, name)| {
                Expr::sub(format!(
                    "arn:${{AWS::Partition}}:cloudwatch:${{AWS::Region}}:${{AWS::AccountId}}:alarm:{name}"
                ))
            })
    }
}

/// One alarm's definition before it becomes a resource.
struct Spec {
    id: &'static str,
    name: &'static str,
    description: String,
    namespace: &'static str,
    metric: &'static str,
    dimension: (&'static str, Expr),
    statistic: Statistic,
    threshold: f64,
    periods: u32,
    period: u32,
}

/// Iterator age (ms) past which the function is falling behind the stream: a minute.
pub const ITERATOR_AGE_THRESHOLD_MS: f64 = 60_000.0;

/// Iterator age (ms) past which records are about to expire unread: half the stream's
/// retention. The mapping's `DroppedEventCount` leaves out records that expire before it
/// reads them (the worst loss of all), so only the age tells.
pub fn expiry_threshold_ms(config: &Config) -> f64 {
    f64::from(config.kinesis_retention_period) * 3_600_000.0 / 2.0
}

/// Whether the failed-events alarm looks at sub-minute periods, which only a high-resolution
/// metric fills: the function's environment then asks the processor for one.
pub fn failed_events_high_resolution(config: &Config) -> bool {
    config.cloudwatch_alarm_period_seconds < 60
}

/// Adds every alarm; returns their handles.
pub fn add(
    template: &mut Template,
    config: &Config,
    names: &Names,
    watched: &Watched,
    actions: &AlarmActions,
) -> Raised {
    let mut alarms = Vec::new();
    for spec in specs(config, watched) {
        let name = names.alarm(spec.name);
        let alarm = Alarm {
            alarm_name: Some(name.as_str().into()),
            alarm_description: Some(spec.description.into()),
            namespace: Some(spec.namespace.into()),
            metric_name: Some(spec.metric.into()),
            dimensions: Some(Val::Lit(vec![Dimension {
                name: spec.dimension.0.into(),
                value: spec.dimension.1.into(),
            }])),
            statistic: Some(spec.statistic.into()),
            comparison_operator: Some(Comparison::GreaterThanThreshold.into()),
            threshold: Some(spec.threshold.into()),
            evaluation_periods: Some(i64::from(spec.periods).into()),
            period: Some(i64::from(spec.period).into()),
            treat_missing_data: Some(MissingData::NotBreaching.into()),
            alarm_actions: Some(actions.actions.clone().into()),
            ok_actions: Some(actions.actions.clone().into()),
            tags: tags::property(config),
            ..Alarm::default()
        };
        alarms.push((spec.id, template.add(spec.id, alarm), name));
    }
    Raised { alarms }
}

fn specs(config: &Config, watched: &Watched) -> Vec<Spec> {
    // AWS/Lambda's own dimension of a function's metrics; the processor's metrics use the
    // same name (`contract::metrics::DIMENSION`), but that is the processor's choice.
    let function = || ("FunctionName", watched.function_name.clone());
    let period = config.cloudwatch_alarm_period_seconds;
    let duration_threshold = f64::from(config.lambda_timeout) * 1000.0 * 0.8;
    vec![
        Spec {
            id: FAILED_EVENTS_ALARM_ID,
            name: "failed-events",
            description: format!(
                "More than {} events failed processing in {} consecutive {}-second periods",
                config.cloudwatch_alarm_threshold, config.cloudwatch_alarm_evaluation_periods, period
            ),
            namespace: METRICS_NAMESPACE,
            metric: contract::metrics::FAILED_EVENTS,
            dimension: (contract::metrics::DIMENSION, watched.function_name.clone()),
            statistic: Statistic::Sum,
            threshold: f64::from(config.cloudwatch_alarm_threshold),
            periods: config.cloudwatch_alarm_evaluation_periods,
            period,
        },
        Spec {
            id: "DurationAlarm",
            name: "duration",
            description: format!("Average duration above 80% of the {}-second timeout", config.lambda_timeout),
            namespace: "AWS/Lambda",
            metric: "Duration",
            dimension: function(),
            statistic: Statistic::Average,
            threshold: duration_threshold,
            periods: 2,
            period: 300,
        },
        Spec {
            id: ERRORS_ALARM_ID,
            name: "lambda-errors",
            description: "More than 5 invocation errors in 5 minutes: batches are being retried".into(),
            namespace: "AWS/Lambda",
            metric: "Errors",
            dimension: function(),
            statistic: Statistic::Sum,
            threshold: 5.0,
            periods: 1,
            period: 300,
        },
        Spec {
            id: "ThrottlesAlarm",
            name: "lambda-throttles",
            description: "Invocations were throttled: raise reserved concurrency or the account limit".into(),
            namespace: "AWS/Lambda",
            metric: "Throttles",
            dimension: function(),
            statistic: Statistic::Sum,
            threshold: 0.0,
            periods: 1,
            period: 300,
        },
        Spec {
            id: "IteratorAgeAlarm",
            name: "iterator-age",
            description: "The function has been more than a minute behind the stream for 5 minutes".into(),
            namespace: "AWS/Lambda",
            metric: "IteratorAge",
            dimension: function(),
            statistic: Statistic::Maximum,
            threshold: ITERATOR_AGE_THRESHOLD_MS,
            periods: 5,
            period: 60,
        },
        // Stream-level (not shard-level) metrics: free, and reported in both stream modes
        // (ON_DEMAND streams throttle too, while they scale past twice their recent peak).
        Spec {
            id: "StreamWriteThrottlesAlarm",
            name: "stream-write-throttles",
            description: "Kinesis refused writes to the stream (WriteProvisionedThroughputExceeded): producers are retrying or dropping records; add shards or switch to ON_DEMAND".into(),
            namespace: "AWS/Kinesis",
            metric: "WriteProvisionedThroughputExceeded",
            dimension: ("StreamName", watched.stream_name.clone()),
            statistic: Statistic::Sum,
            threshold: 0.0,
            periods: 1,
            period: 300,
        },
        Spec {
            id: "StreamReadThrottlesAlarm",
            name: "stream-read-throttles",
            description: "Kinesis throttled reads of the stream (ReadProvisionedThroughputExceeded) for 15 minutes: too many consumers share the shards' read limit; the function falls behind".into(),
            namespace: "AWS/Kinesis",
            metric: "ReadProvisionedThroughputExceeded",
            dimension: ("StreamName", watched.stream_name.clone()),
            statistic: Statistic::Sum,
            threshold: 0.0,
            periods: 3,
            period: 300,
        },
        Spec {
            id: "DeadLetterQueueAlarm",
            name: "dlq-messages",
            description: "Records are waiting in the dead-letter queue: inspect and redrive them".into(),
            namespace: "AWS/SQS",
            metric: "ApproximateNumberOfMessagesVisible",
            dimension: ("QueueName", watched.queue_name.clone()),
            statistic: Statistic::Maximum,
            threshold: 0.0,
            periods: 1,
            period: 300,
        },
        Spec {
            id: FAILED_BATCHES_ALARM_ID,
            name: "failed-batches",
            description: format!(
                "Lambda gave up on a batch and sent it to the {}: fix the cause, then run redrive",
                if watched.failure_bucket {
                    "failure bucket"
                } else {
                    "dead-letter queue"
                }
            ),
            namespace: "AWS/Lambda",
            metric: ON_FAILURE_DELIVERED,
            dimension: (MAPPING_DIMENSION, watched.mapping_id.clone()),
            statistic: Statistic::Sum,
            threshold: 0.0,
            periods: 1,
            period: 300,
        },
        Spec {
            id: "LostBatchesAlarm",
            name: "lost-batches",
            description: "Lambda could not deliver a batch it gave up on to the on-failure destination: its records were dropped; check the role's access to it".into(),
            namespace: "AWS/Lambda",
            metric: DESTINATION_DELIVERY_FAILURES,
            dimension: function(),
            statistic: Statistic::Sum,
            threshold: 0.0,
            periods: 1,
            period: 300,
        },
        Spec {
            id: "DroppedEventsAlarm",
            name: "dropped-events",
            description: "The event source mapping dropped records (DroppedEventCount, in Kinesis records): they reached neither the function nor the on-failure destination; check the mapping's settings and the role's access to the destination".into(),
            namespace: "AWS/Lambda",
            metric: DROPPED_EVENTS,
            dimension: (MAPPING_DIMENSION, watched.mapping_id.clone()),
            statistic: Statistic::Sum,
            threshold: 0.0,
            periods: 1,
            period: 300,
        },
        Spec {
            id: "RecordsExpiringAlarm",
            name: "records-expiring",
            description: format!(
                "The function is more than half the stream's {}-hour retention behind: records will expire unread (no metric counts them) unless it catches up",
                config.kinesis_retention_period
            ),
            namespace: "AWS/Lambda",
            metric: "IteratorAge",
            dimension: function(),
            statistic: Statistic::Maximum,
            threshold: expiry_threshold_ms(config),
            periods: 1,
            period: 300,
        },
        Spec {
            id: "TableThrottlesAlarm",
            name: "dynamodb-throttles",
            description: "DynamoDB throttled writes to the events table: raise capacity or its auto scaling maximum".into(),
            namespace: "AWS/DynamoDB",
            metric: "WriteThrottleEvents",
            dimension: ("TableName", watched.table_name.clone()),
            statistic: Statistic::Sum,
            threshold: 0.0,
            periods: 1,
            period: 300,
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    use serde_json::{json, Value};

    fn alarm(config: &Config, id: &str) -> Value {
        let doc = crate::stack::build(config)
            .to_document()
            .expect("synthesizes");
        doc["Resources"][id]["Properties"].clone()
    }

    #[test]
    fn records_the_mapping_drops_raise_an_alarm_on_the_mappings_own_count() {
        let dropped = alarm(&Config::default(), "DroppedEventsAlarm");
        assert_eq!(dropped["Namespace"], "AWS/Lambda");
        assert_eq!(dropped["MetricName"], "DroppedEventCount");
        assert_eq!(
            dropped["Dimensions"],
            json!([{"Name": "EventSourceMappingUUID", "Value": {"Ref": "StreamMapping"}}])
        );
        assert_eq!(dropped["Statistic"], "Sum");
        assert_eq!(dropped["Threshold"], 0.0);
    }

    #[test]
    fn records_about_to_expire_alarm_at_half_the_streams_retention() {
        for hours in [24, 168] {
            let config = Config {
                kinesis_retention_period: hours,
                ..Config::default()
            };
            let expiring = alarm(&config, "RecordsExpiringAlarm");
            assert_eq!(expiring["MetricName"], "IteratorAge");
            assert_eq!(expiring["Statistic"], "Maximum");
            assert_eq!(expiring["Threshold"], f64::from(hours) * 3_600_000.0 / 2.0);
            let description = expiring["AlarmDescription"].as_str().unwrap();
            assert!(
                description.contains(&format!("{hours}-hour retention")),
                "{description}"
            );
        }
    }
}
