//! What the synthesized template holds that is billed by count: alarms, keys, dashboards,
//! custom metrics, indexes, and which services encrypt with a customer managed key.
//!
//! Read from the template rather than assumed, so adding an alarm or a key changes the
//! estimate. A resource under a condition counts when the condition holds with the
//! parameters' defaults (the `AlertEmail` default is `sns_email_endpoint`), and also when
//! the condition cannot be evaluated offline: an estimate should not be too low.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::stack::aggregates::AGGREGATE_TABLE_ID;
use crate::stack::buckets::{ARCHIVE_BUCKET_ID, FAILURE_BUCKET_ID};
use crate::stack::dashboard::{METRICS_NAMESPACE, ON_FAILURE_DELIVERED_GROUP};

/// Kinesis enhanced metrics that `ALL` stands for.
const ALL_SHARD_LEVEL_METRICS: usize = 7;

/// The metrics a Kinesis event source mapping publishes with `MetricsConfig` `EventCount`:
/// PolledEventCount, FilteredOutEventCount, InvokedEventCount, FailedInvokeEventCount,
/// DroppedEventCount and OnFailureDestinationDeliveredEventCount (DeletedEventCount is
/// SQS's only).
pub const MAPPING_EVENT_COUNT_METRICS: usize = 6;

/// The billed-by-count facts of one template.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Inventory {
    /// The period in seconds of each CloudWatch alarm.
    pub alarm_periods: Vec<u32>,
    /// CloudWatch dashboards.
    pub dashboards: usize,
    /// Customer managed KMS keys.
    pub kms_keys: usize,
    /// Distinct (metric, dimensions with their values) of the processor's EMF namespace that
    /// the dashboards chart; each is one custom metric (`WindowEvents` once per event type).
    pub emf_metrics: usize,
    /// Kinesis enhanced (shard-level) metrics enabled on the stream, per shard.
    pub shard_level_metrics: usize,
    /// Global secondary indexes of the table.
    pub global_secondary_indexes: usize,
    /// The events table and its indexes that have Contributor Insights on, table first.
    pub contributor_insights: Vec<InsightsTarget>,
    /// The stream is encrypted with a customer managed key.
    pub stream_cmk: bool,
    /// The table is encrypted with a customer managed key.
    pub table_cmk: bool,
    /// The dead-letter queue is encrypted with a customer managed key.
    pub queue_cmk: bool,
    /// The queue's `KmsDataKeyReusePeriodSeconds` (SQS's default 300 when unset).
    pub queue_data_key_reuse_seconds: u32,
    /// The function's log group is encrypted with a customer managed key.
    pub log_group_cmk: bool,
    /// The function's environment is encrypted with a customer managed key.
    pub function_cmk: bool,
    /// Metrics the event source mappings publish through their `MetricsConfig`.
    pub mapping_metrics: usize,
    /// The stack has the failure bucket.
    pub failure_bucket: bool,
    /// The stack has the archive bucket, encrypted with a customer managed key (S3 asks KMS
    /// for its bucket key while the processor writes).
    pub archive_bucket_cmk: bool,
    /// The stack has the aggregate table (tumbling windows).
    pub aggregate_table: bool,
    /// The aggregate table is encrypted with a customer managed key.
    pub aggregate_table_cmk: bool,
    /// CodeDeploy deployment groups (a gradual `deploy_strategy`), with their
    /// `DeploymentConfigName`s.
    pub deployment_configs: Vec<String>,
    /// Lambda versions the template publishes.
    pub function_versions: usize,
}

impl Inventory {
    /// Reads the facts from a template document (`cfn::Template::to_document`).
    pub fn of(document: &Value) -> Inventory {
        let empty = Map::new();
        let section = |name: &str| {
            document
                .get(name)
                .and_then(Value::as_object)
                .unwrap_or(&empty)
        };
        let conditions = Conditions {
            conditions: section("Conditions"),
            parameters: section("Parameters"),
        };
        let active: Vec<(&str, &Value)> = section("Resources")
            .values()
            .filter(|r| conditions.holds_for(r))
            .filter_map(|r| {
                Some((
                    r.get("Type")?.as_str()?,
                    r.get("Properties").unwrap_or(&Value::Null),
                ))
            })
            .collect();
        let of_type = |name: &'static str| {
            active
                .iter()
                .filter(move |(t, _)| *t == name)
                .map(|(_, props)| *props)
        };
        let first = |name: &'static str| of_type(name).next().unwrap_or(&Value::Null);
        let resource = |id: &str| {
            section("Resources")
                .get(id)
                .filter(|r| conditions.holds_for(r))
                .and_then(|r| r.get("Properties"))
        };
        let stream = first("AWS::Kinesis::Stream");
        // The events table: the first table that is not the aggregate table.
        let table = section("Resources")
            .iter()
            .filter(|(id, r)| {
                id.as_str() != AGGREGATE_TABLE_ID
                    && r.get("Type").and_then(Value::as_str) == Some("AWS::DynamoDB::Table")
                    && conditions.holds_for(r)
            })
            .find_map(|(_, r)| r.get("Properties"))
            .unwrap_or(&Value::Null);
        let aggregates = resource(AGGREGATE_TABLE_ID);
        let queue = first("AWS::SQS::Queue");
        Inventory {
            alarm_periods: of_type("AWS::CloudWatch::Alarm")
                .map(|p| p.get("Period").and_then(Value::as_u64).unwrap_or(60) as u32)
                .collect(),
            dashboards: of_type("AWS::CloudWatch::Dashboard").count(),
            kms_keys: of_type("AWS::KMS::Key").count(),
            emf_metrics: emf_metrics(of_type("AWS::CloudWatch::Dashboard")),
            shard_level_metrics: shard_level_metrics(stream),
            global_secondary_indexes: table
                .get("GlobalSecondaryIndexes")
                .and_then(Value::as_array)
                .map_or(0, Vec::len),
            contributor_insights: insights_targets(table),
            stream_cmk: stream
                .pointer("/StreamEncryption/EncryptionType")
                .and_then(Value::as_str)
                == Some("KMS")
                && !is_aws_managed(stream.pointer("/StreamEncryption/KeyId")),
            table_cmk: customer_key(table),
            queue_cmk: queue.get("KmsMasterKeyId").is_some()
                && !is_aws_managed(queue.get("KmsMasterKeyId")),
            queue_data_key_reuse_seconds: queue
                .get("KmsDataKeyReusePeriodSeconds")
                .and_then(Value::as_u64)
                .map_or(300, |s| s as u32),
            log_group_cmk: first("AWS::Logs::LogGroup").get("KmsKeyId").is_some(),
            function_cmk: first("AWS::Lambda::Function").get("KmsKeyArn").is_some(),
            mapping_metrics: of_type("AWS::Lambda::EventSourceMapping")
                .filter(|m| {
                    m.pointer("/MetricsConfig/Metrics")
                        .and_then(Value::as_array)
                        .is_some_and(|list| list.iter().any(|g| g == ON_FAILURE_DELIVERED_GROUP))
                })
                .count()
                * MAPPING_EVENT_COUNT_METRICS,
            failure_bucket: resource(FAILURE_BUCKET_ID).is_some(),
            archive_bucket_cmk: resource(ARCHIVE_BUCKET_ID).is_some_and(|bucket| {
                bucket
                    .pointer("/BucketEncryption/ServerSideEncryptionConfiguration/0/ServerSideEncryptionByDefault/SSEAlgorithm")
                    == Some(&Value::from("aws:kms"))
            }),
            aggregate_table: aggregates.is_some(),
            aggregate_table_cmk: aggregates.is_some_and(customer_key),
            deployment_configs: of_type("AWS::CodeDeploy::DeploymentGroup")
                .map(|g| {
                    g.get("DeploymentConfigName")
                        .and_then(Value::as_str)
                        .unwrap_or("CodeDeployDefault.LambdaAllAtOnce")
                        .to_owned()
                })
                .collect(),
            function_versions: of_type("AWS::Lambda::Version").count(),
        }
    }

    /// Alarms with a period of a minute or more.
    pub fn standard_alarms(&self) -> usize {
        self.alarm_periods.iter().filter(|p| **p >= 60).count()
    }

    /// Alarms with a 10, 20 or 30 second period.
    pub fn high_resolution_alarms(&self) -> usize {
        self.alarm_periods.len() - self.standard_alarms()
    }
}

/// A table or index with Contributor Insights on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InsightsTarget {
    /// It is an index of the table, not the table itself.
    pub index: bool,
    /// It follows the most accessed keys as well as the throttled ones
    /// (`ACCESSED_AND_THROTTLED_KEYS`, also what an absent `Mode` means), so every request
    /// to it is an event Contributor Insights bills.
    pub accessed: bool,
    /// It has a sort key, so each kind of key it follows has two rules (partition key;
    /// partition and sort key) instead of one.
    pub sort_key: bool,
}

/// The table and each of its indexes whose `ContributorInsightsSpecification` is enabled.
fn insights_targets(table: &Value) -> Vec<InsightsTarget> {
    let indexes = table
        .get("GlobalSecondaryIndexes")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    std::iter::once((false, table))
        .chain(indexes.iter().map(|index| (true, index)))
        .filter(|(_, p)| {
            p.pointer("/ContributorInsightsSpecification/Enabled") == Some(&Value::Bool(true))
        })
        .map(|(index, p)| InsightsTarget {
            index,
            accessed: p
                .pointer("/ContributorInsightsSpecification/Mode")
                .and_then(Value::as_str)
                .is_none_or(|mode| mode == "ACCESSED_AND_THROTTLED_KEYS"),
            sort_key: p
                .get("KeySchema")
                .and_then(Value::as_array)
                .is_some_and(|keys| keys.iter().any(|k| k["KeyType"] == "RANGE")),
        })
        .collect()
}

/// A table's SSE uses a customer managed key.
fn customer_key(table: &Value) -> bool {
    table.pointer("/SSESpecification/SSEEnabled") == Some(&Value::Bool(true))
        && table.pointer("/SSESpecification/KMSMasterKeyId").is_some()
}

/// `alias/aws/...`: a key AWS manages and does not bill per month.
fn is_aws_managed(key: Option<&Value>) -> bool {
    key.and_then(Value::as_str)
        .is_some_and(|k| k.starts_with("alias/aws/"))
}

fn shard_level_metrics(stream: &Value) -> usize {
    let Some(list) = stream
        .get("DesiredShardLevelMetrics")
        .and_then(Value::as_array)
    else {
        return 0;
    };
    if list.iter().any(|m| m == "ALL") {
        ALL_SHARD_LEVEL_METRICS
    } else {
        list.len()
    }
}

/// Distinct (metric, dimensions and values) in the processor's namespace across the
/// dashboards' widgets: `[namespace, metric, dim, value, dim, value, ..., {options}]`. A
/// dimension value makes a metric of its own (each `EventType` of `WindowEvents`); the
/// function's name is the same on every line.
fn emf_metrics<'v>(dashboards: impl Iterator<Item = &'v Value>) -> usize {
    let mut found = BTreeSet::new();
    for properties in dashboards {
        let body = match properties.get("DashboardBody") {
            Some(Value::String(text)) => text.as_str(),
            Some(sub) => match sub.get("Fn::Sub") {
                Some(Value::String(text)) => text.as_str(),
                _ => continue,
            },
            None => continue,
        };
        let Ok(body) = serde_json::from_str::<Value>(body) else {
            continue;
        };
        let widgets = body.get("widgets").and_then(Value::as_array);
        for widget in widgets.into_iter().flatten() {
            let metrics = widget
                .pointer("/properties/metrics")
                .and_then(Value::as_array);
            for metric in metrics.into_iter().flatten().filter_map(Value::as_array) {
                let texts: Vec<&str> = metric.iter().filter_map(Value::as_str).collect();
                if texts.first() != Some(&METRICS_NAMESPACE) || texts.len() < 2 {
                    continue;
                }
                found.insert((texts[1].to_owned(), texts[2..].join(",")));
            }
        }
    }
    found.len()
}

/// The template's conditions, evaluated with the parameters' defaults.
struct Conditions<'t> {
    conditions: &'t Map<String, Value>,
    parameters: &'t Map<String, Value>,
}

impl Conditions<'_> {
    fn holds_for(&self, resource: &Value) -> bool {
        match resource.get("Condition").and_then(Value::as_str) {
            Some(name) => self.named(name, 0).unwrap_or(true),
            None => true,
        }
    }

    fn named(&self, name: &str, depth: usize) -> Option<bool> {
        // Conditions cannot be cyclic in a valid template; the depth guards a broken one.
        if depth > 32 {
            return None;
        }
        self.eval(self.conditions.get(name)?, depth + 1)
    }

    fn eval(&self, expr: &Value, depth: usize) -> Option<bool> {
        let (function, args) = expr.as_object()?.iter().next()?;
        let list = || args.as_array().map(Vec::as_slice).unwrap_or_default();
        match function.as_str() {
            "Condition" => self.named(args.as_str()?, depth),
            "Fn::Not" => Some(!self.eval(list().first()?, depth)?),
            "Fn::And" => list()
                .iter()
                .map(|c| self.eval(c, depth))
                .collect::<Option<Vec<bool>>>()
                .map(|all| all.into_iter().all(|b| b)),
            "Fn::Or" => list()
                .iter()
                .map(|c| self.eval(c, depth))
                .collect::<Option<Vec<bool>>>()
                .map(|all| all.into_iter().any(|b| b)),
            "Fn::Equals" => match list() {
                [a, b] => Some(self.value(a)? == self.value(b)?),
                _ => None,
            },
            _ => None,
        }
    }

    /// A literal, or a parameter's default.
    fn value(&self, value: &Value) -> Option<Value> {
        match value.get("Ref").and_then(Value::as_str) {
            Some(name) => self.parameters.get(name)?.get("Default").cloned(),
            None if crate::diff::intrinsic::is_intrinsic(value) => None,
            None => Some(value.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn inventory(config: &Config) -> Inventory {
        Inventory::of(
            &crate::stack::build(config)
                .to_document()
                .expect("synthesizes"),
        )
    }

    #[test]
    fn the_dev_stack_is_counted_from_its_template() {
        let found = inventory(&Config::default());
        assert_eq!(found.alarm_periods.len(), 13);
        assert_eq!(found.high_resolution_alarms(), 0);
        assert_eq!(found.dashboards, 1);
        // The alert topic's key exists only with an alert address.
        assert_eq!(found.kms_keys, 1);
        assert_eq!(
            found.emf_metrics, 13,
            "ProcessedEvents, FailedEvents, SuccessRate, ProcessingDuration, BatchSize; \
             Revenue, Purchases and WindowEvents of six event types"
        );
        assert!(found.aggregate_table && found.aggregate_table_cmk);
        assert_eq!(found.shard_level_metrics, 2);
        assert_eq!(found.global_secondary_indexes, 2);
        assert!(found.stream_cmk && found.table_cmk && found.queue_cmk && found.log_group_cmk);
        assert_eq!(found.queue_data_key_reuse_seconds, 300);
        assert_eq!(found.mapping_metrics, 6, "the mapping's EventCount group");
        assert!(found.failure_bucket && !found.archive_bucket_cmk);
        let prod = inventory(&Config::from_preset("prod").unwrap());
        assert!(prod.failure_bucket && prod.archive_bucket_cmk);
        let cheap = inventory(&Config::from_preset("cost-optimized").unwrap());
        assert_eq!(cheap.emf_metrics, 5);
        assert!(!cheap.aggregate_table && !cheap.aggregate_table_cmk);
    }

    /// Contributor Insights is counted per table and index from the template, with its mode
    /// and whether it has a sort key; prod follows throttled keys, dev nothing.
    #[test]
    fn contributor_insights_are_counted_from_the_template() {
        assert!(inventory(&Config::default())
            .contributor_insights
            .is_empty());
        let prod = inventory(&Config::from_preset("prod").unwrap());
        let throttled = InsightsTarget {
            index: false,
            accessed: false,
            sort_key: true,
        };
        let index = InsightsTarget {
            index: true,
            ..throttled
        };
        assert_eq!(prod.contributor_insights, [throttled, index, index]);
        let all = Config {
            dynamodb_contributor_insights: crate::config::ContributorInsights::All,
            ..Config::default()
        };
        assert!(inventory(&all)
            .contributor_insights
            .iter()
            .all(|t| t.accessed));
        // An absent mode is DynamoDB's default, accessed and throttled keys; no sort key
        // halves the rules.
        let table = serde_json::json!({
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "ContributorInsightsSpecification": {"Enabled": true}});
        assert_eq!(
            insights_targets(&table),
            [InsightsTarget {
                index: false,
                accessed: true,
                sort_key: false
            }]
        );
    }

    #[test]
    fn configuration_changes_the_counts() {
        let config = Config {
            sns_email_endpoint: "ops@example.com".into(),
            cloudwatch_alarm_period_seconds: 10,
            cloudwatch_alarm_evaluation_periods: 6,
            kinesis_shard_level_metrics: vec![crate::config::ShardLevelMetric::All],
            dynamodb_server_side_encryption_enabled: false,
            ..Config::default()
        };
        let found = inventory(&config);
        assert_eq!(found.kms_keys, 2);
        assert_eq!(found.high_resolution_alarms(), 1);
        assert_eq!(found.shard_level_metrics, 7);
        assert!(!found.table_cmk);
        assert!(found.aggregate_table && !found.aggregate_table_cmk);
    }
}
