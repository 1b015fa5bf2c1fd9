//! What to run, found from the deployed stack: its outputs name the stream, table, queue
//! and function; the function's configuration gives the processor's environment, timeout
//! and role; the event source mapping gives batching, retries, filters, the starting
//! position and the on-failure destination. Flags override the names (for endpoints where
//! part of the stack is missing).
//!
//! moto keeps a mapping's FilterCriteria and StartingPosition but not its
//! StartingPositionTimestamp, so for an AT_TIMESTAMP mapping without one the timestamp is
//! read from the stack's template ([`from_template`]).

use std::collections::HashMap;
use std::time::Duration;

use serde_json::Value;

use crate::filter::FilterCriteria;
use crate::mapping::{iso8601, Settings};
use crate::shards::ShardStart;

/// Names given on the command line instead of the stack's.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--stream`.
    pub stream: Option<String>,
    /// `--table`.
    pub table: Option<String>,
    /// `--dlq-url`.
    pub dlq_url: Option<String>,
}

/// Everything the runner needs.
#[derive(Debug, Clone)]
pub struct Target {
    /// The stream to read.
    pub stream_name: String,
    /// Its ARN.
    pub stream_arn: String,
    /// The processor's table (`TABLE_NAME`).
    pub table_name: String,
    /// The processor's dead-letter queue (`DLQ_URL`).
    pub dlq_url: String,
    /// The function's name.
    pub function_name: String,
    /// The function's ARN.
    pub function_arn: String,
    /// Its execution role (the events' `invokeIdentityArn`).
    pub role_arn: String,
    /// Its timeout: an invocation running longer is a function error.
    pub timeout: Duration,
    /// The mapping's settings.
    pub settings: Settings,
    /// URL of the on-failure destination queue, when it is one.
    pub on_failure_url: Option<String>,
    /// The enhanced fan-out consumer the mapping reads through, when it names one
    /// instead of the stream. The runner reads the stream itself with GetRecords all the
    /// same: moto does not implement SubscribeToShard.
    pub consumer_arn: Option<String>,
    /// The processor's configuration, read from the function's environment by the
    /// processor's own rules (with the table and queue above), so what the function would
    /// do with every variable it reads (TTL, index write shards, ...) the runner does too.
    pub processor: processor::config::Config,
}

impl Target {
    /// What the runner does differently from a plain TRIM_HORIZON mapping without filters,
    /// one line each, for its startup output.
    pub fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if let Some(consumer) = &self.consumer_arn {
            notes.push(format!(
                "the mapping reads through enhanced fan-out consumer {consumer}; moto has no \
                 SubscribeToShard, so local-runner reads stream {} with GetRecords",
                self.stream_name
            ));
        }
        if let ShardStart::AtTimestamp(epoch_secs) = self.settings.start {
            notes.push(format!(
                "starting each shard AT_TIMESTAMP {} ({epoch_secs} s)",
                iso8601((epoch_secs * 1000.0) as i64)
            ));
        }
        if !self.settings.filter.is_empty() {
            notes.push(format!(
                "filtering with the mapping's {} FilterCriteria pattern(s): records none \
                 matches are dropped without an invocation and counted as filtered",
                self.settings.filter.len()
            ));
        }
        notes
    }
}

/// Why the stack could not tell what to run.
#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    /// An AWS call failed.
    #[error("{call} failed: {error}")]
    Call {
        /// The service and call, e.g. `CloudFormation DescribeStacks(demo)`.
        call: String,
        /// Why.
        error: String,
    },
    /// The mapping says something the runner cannot play (a bad filter pattern, an
    /// AT_TIMESTAMP without a timestamp).
    #[error("event source mapping {mapping}: {reason}")]
    Mapping {
        /// The mapping's UUID.
        mapping: String,
        /// What is wrong.
        reason: String,
    },
    /// Something the runner needs is not in the stack.
    #[error("{what} not found in stack {stack}; {hint}")]
    Missing {
        /// What.
        what: String,
        /// The stack.
        stack: String,
        /// What to do.
        hint: String,
    },
}

/// The stack's outputs by key.
pub type Outputs = HashMap<String, String>;

/// The function's configuration, as far as the runner uses it.
#[derive(Debug, Clone, Default)]
pub struct FunctionConfig {
    /// Its ARN.
    pub arn: String,
    /// Its role.
    pub role: String,
    /// Timeout in seconds.
    pub timeout_secs: u64,
    /// Environment variables.
    pub environment: HashMap<String, String>,
}

/// A mapping's settings as the Lambda API reports them (-1 = unlimited).
#[derive(Debug, Clone, Default)]
pub struct MappingConfig {
    /// Its UUID (the physical ID of the stack's mapping resource).
    pub uuid: String,
    /// The stream's ARN, or a stream consumer's (enhanced fan-out).
    pub event_source_arn: String,
    /// BatchSize.
    pub batch_size: i32,
    /// MaximumBatchingWindowInSeconds.
    pub window_secs: i32,
    /// BisectBatchOnFunctionError.
    pub bisect: bool,
    /// MaximumRetryAttempts.
    pub max_retries: i32,
    /// MaximumRecordAgeInSeconds.
    pub max_record_age_secs: i32,
    /// FunctionResponseTypes contains ReportBatchItemFailures.
    pub report_item_failures: bool,
    /// DestinationConfig.OnFailure.Destination.
    pub on_failure: Option<String>,
    /// StartingPosition: TRIM_HORIZON, LATEST or AT_TIMESTAMP.
    pub starting_position: Option<String>,
    /// StartingPositionTimestamp, epoch seconds.
    pub starting_position_timestamp: Option<f64>,
    /// FilterCriteria.Filters[].Pattern.
    pub filter_patterns: Vec<String>,
}

impl MappingConfig {
    /// Whether the timestamp to start at has to come from elsewhere (the template).
    pub fn lacks_timestamp(&self) -> bool {
        self.starting_position.as_deref() == Some("AT_TIMESTAMP")
            && self.starting_position_timestamp.is_none()
    }

    /// The runner's settings from the API's numbers. A filter pattern the runner cannot
    /// apply, or AT_TIMESTAMP without a timestamp, is an error naming the mapping.
    pub fn settings(&self) -> Result<Settings, DiscoveryError> {
        let refuse = |reason: String| DiscoveryError::Mapping {
            mapping: self.uuid.clone(),
            reason,
        };
        let filter =
            FilterCriteria::parse(&self.filter_patterns).map_err(|e| refuse(e.to_string()))?;
        let start = match (
            self.starting_position.as_deref(),
            self.starting_position_timestamp,
        ) {
            (Some("AT_TIMESTAMP"), Some(secs)) if secs.is_finite() && secs >= 0.0 => {
                ShardStart::AtTimestamp(secs)
            }
            (Some("AT_TIMESTAMP"), Some(secs)) => {
                return Err(refuse(format!(
                    "StartingPositionTimestamp must be epoch seconds, got {secs}"
                )))
            }
            (Some("AT_TIMESTAMP"), None) => {
                return Err(refuse(
                    "starts AT_TIMESTAMP but neither the Lambda API nor the stack's template \
                     gives its StartingPositionTimestamp"
                        .to_owned(),
                ))
            }
            _ => ShardStart::TrimHorizon,
        };
        Ok(Settings {
            batch_size: usize::try_from(self.batch_size).unwrap_or(100).max(1),
            batching_window: Duration::from_secs(u64::try_from(self.window_secs).unwrap_or(0)),
            bisect_on_error: self.bisect,
            max_retries: u32::try_from(self.max_retries).ok(),
            max_record_age: u64::try_from(self.max_record_age_secs)
                .ok()
                .map(Duration::from_secs),
            report_item_failures: self.report_item_failures,
            on_failure: self.on_failure.clone(),
            filter,
            start,
        })
    }
}

/// What the stack's template says of a mapping where the Lambda API (moto's) is silent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TemplateMapping {
    /// Properties.StartingPositionTimestamp.
    pub starting_position_timestamp: Option<f64>,
    /// Properties.FilterCriteria.Filters[].Pattern, when the template has them.
    pub filter_patterns: Option<Vec<String>>,
}

/// Reads mapping `logical_id` from `template` (the stack's template body, YAML or JSON
/// in CloudFormation's long form); without an ID, the template's only mapping.
pub fn from_template(template: &str, logical_id: Option<&str>) -> Result<TemplateMapping, String> {
    let parsed: Value = serde_yaml::from_str(template)
        .map_err(|e| format!("the stack's template cannot be read: {e}"))?;
    let resources = parsed
        .get("Resources")
        .and_then(Value::as_object)
        .ok_or("the stack's template has no Resources")?;
    let resource = match logical_id {
        Some(id) => resources
            .get(id)
            .ok_or_else(|| format!("the stack's template has no resource {id}"))?,
        None => {
            let mut mappings = resources.values().filter(|r| {
                r.get("Type").and_then(Value::as_str) == Some("AWS::Lambda::EventSourceMapping")
            });
            match (mappings.next(), mappings.next()) {
                (Some(only), None) => only,
                (None, _) => return Err("the stack's template has no event source mapping".into()),
                (Some(_), Some(_)) => {
                    return Err("the stack's template has several event source mappings".into())
                }
            }
        }
    };
    let properties = resource.get("Properties");
    let timestamp = properties.and_then(|p| p.get("StartingPositionTimestamp"));
    let starting_position_timestamp = match timestamp {
        None => None,
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => Some(s.trim().parse::<f64>().map_err(|_| {
            format!("StartingPositionTimestamp in the stack's template is not a number: {s:?}")
        })?),
        Some(other) => {
            return Err(format!(
                "StartingPositionTimestamp in the stack's template is not a number: {other}"
            ))
        }
    };
    let filters = properties
        .and_then(|p| p.get("FilterCriteria"))
        .and_then(|c| c.get("Filters"))
        .and_then(Value::as_array);
    let filter_patterns = match filters {
        None => None,
        Some(filters) => Some(
            filters
                .iter()
                .map(|f| match f.get("Pattern") {
                    Some(Value::String(pattern)) => Ok(pattern.clone()),
                    other => Err(format!(
                        "a filter Pattern in the stack's template is not a string: {}",
                        other.cloned().unwrap_or(Value::Null)
                    )),
                })
                .collect::<Result<_, _>>()?,
        ),
    };
    Ok(TemplateMapping {
        starting_position_timestamp,
        filter_patterns,
    })
}

/// The stream ARN and consumer name of a stream consumer's ARN
/// (`arn:aws:kinesis:REGION:ACCOUNT:stream/NAME/consumer/CONSUMER:CREATED`); `None` for
/// anything else.
pub fn consumer_of(arn: &str) -> Option<(&str, &str)> {
    let (stream_arn, rest) = arn.split_once("/consumer/")?;
    if !stream_arn.starts_with("arn:") || !stream_arn.contains(":kinesis:") {
        return None;
    }
    let name = rest.split(':').next().filter(|n| !n.is_empty())?;
    Some((stream_arn, name))
}

/// The processor's configuration as the deployed function reads it from its environment,
/// with `table` and `dlq_url` in place of its TABLE_NAME and DLQ_URL (the runner's and
/// redrive's choices, which may be overrides). A variable the processor would refuse at
/// init is refused here, naming the function and the variable.
pub fn processor_config(
    function: &FunctionConfig,
    table: &str,
    dlq_url: &str,
) -> Result<processor::config::Config, DiscoveryError> {
    use contract::env;
    processor::config::Config::from_lookup(|name| match name {
        env::TABLE_NAME => Some(table.to_owned()),
        env::DLQ_URL => Some(dlq_url.to_owned()),
        _ => function.environment.get(name).cloned(),
    })
    .map_err(|err| DiscoveryError::Call {
        call: format!("Lambda GetFunctionConfiguration({})", function.arn),
        error: format!("the function's environment would stop the processor at init: {err}"),
    })
}

/// Puts the pieces together: outputs, then the function's configuration, then the mapping
/// of the stream to the function. `stack` names the stack in messages.
pub fn target(
    stack: &str,
    outputs: &Outputs,
    function: &FunctionConfig,
    mappings: &[MappingConfig],
    overrides: &Overrides,
) -> Result<Target, DiscoveryError> {
    let missing = |what: &str, hint: &str| DiscoveryError::Missing {
        what: what.to_owned(),
        stack: stack.to_owned(),
        hint: hint.to_owned(),
    };
    let output = |key: &str, flag: &str| {
        outputs.get(key).cloned().ok_or_else(|| {
            missing(
                &format!("output {key}"),
                &format!("is the stack created (CREATE_COMPLETE)? or pass {flag}"),
            )
        })
    };
    let stream_name = match &overrides.stream {
        Some(name) => name.clone(),
        None => output("StreamName", "--stream")?,
    };
    let stream_arn = outputs
        .get("StreamArn")
        .filter(|_| overrides.stream.is_none())
        .cloned()
        .unwrap_or_else(|| stream_arn_for(&stream_name, &function.arn));
    let env = |name: &str| function.environment.get(name).cloned();
    let table_name = match overrides
        .table
        .clone()
        .or_else(|| env(contract::env::TABLE_NAME))
    {
        Some(name) => name,
        None => output("TableName", "--table")?,
    };
    let dlq_url = match overrides
        .dlq_url
        .clone()
        .or_else(|| env(contract::env::DLQ_URL))
    {
        Some(url) => url,
        None => output("DeadLetterQueueUrl", "--dlq-url")?,
    };
    let reads_stream = |arn: &str| arn == stream_arn || arn.ends_with(&format!("/{stream_name}"));
    let mapping = mappings
        .iter()
        .find(|m| {
            reads_stream(&m.event_source_arn)
                || consumer_of(&m.event_source_arn).is_some_and(|(stream, _)| reads_stream(stream))
        })
        .ok_or_else(|| {
            missing(
                &format!("an event source mapping from {stream_name} to the function"),
                "the stack's StreamMapping creates it",
            )
        })?;
    let processor = processor_config(function, &table_name, &dlq_url)?;
    Ok(Target {
        processor,
        stream_name,
        stream_arn,
        table_name,
        dlq_url,
        function_name: outputs.get("FunctionName").cloned().unwrap_or_default(),
        function_arn: function.arn.clone(),
        role_arn: function.role.clone(),
        timeout: Duration::from_secs(function.timeout_secs.max(1)),
        settings: mapping.settings()?,
        on_failure_url: None,
        consumer_arn: consumer_of(&mapping.event_source_arn)
            .map(|_| mapping.event_source_arn.clone()),
    })
}

/// The stream's ARN in the function's account and region.
fn stream_arn_for(stream: &str, function_arn: &str) -> String {
    let parts: Vec<&str> = function_arn.split(':').collect();
    match parts.as_slice() {
        [_, partition, _, region, account, ..] => {
            format!("arn:{partition}:kinesis:{region}:{account}:stream/{stream}")
        }
        _ => format!("arn:aws:kinesis:us-east-1:000000000000:stream/{stream}"),
    }
}

/// The queue name of an SQS ARN (`arn:aws:sqs:REGION:ACCOUNT:NAME`).
pub fn queue_name(arn: &str) -> Option<&str> {
    arn.strip_prefix("arn:")
        .filter(|rest| rest.contains(":sqs:"))
        .and_then(|rest| rest.rsplit(':').next())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outputs() -> Outputs {
        [
            ("StreamName", "s"),
            (
                "StreamArn",
                "arn:aws:kinesis:us-east-1:123456789012:stream/s",
            ),
            ("FunctionName", "f"),
            ("TableName", "t-output"),
            ("DeadLetterQueueUrl", "https://sqs/q-output"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    fn function() -> FunctionConfig {
        FunctionConfig {
            arn: "arn:aws:lambda:us-east-1:123456789012:function:f".into(),
            role: "arn:aws:iam::123456789012:role/r".into(),
            timeout_secs: 120,
            environment: [
                (contract::env::TABLE_NAME, "t"),
                (contract::env::DLQ_URL, "https://sqs/q"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        }
    }

    fn mapping() -> MappingConfig {
        MappingConfig {
            event_source_arn: "arn:aws:kinesis:us-east-1:123456789012:stream/s".into(),
            batch_size: 100,
            window_secs: 5,
            bisect: true,
            max_retries: 3,
            max_record_age_secs: -1,
            report_item_failures: true,
            on_failure: Some("arn:aws:sqs:us-east-1:123456789012:q".into()),
            uuid: "e40edd69".into(),
            ..MappingConfig::default()
        }
    }

    #[test]
    fn the_function_environment_and_the_mapping_settle_everything() {
        let target = target(
            "demo",
            &outputs(),
            &function(),
            &[mapping()],
            &Overrides::default(),
        )
        .unwrap();
        assert_eq!(target.table_name, "t");
        assert_eq!(target.dlq_url, "https://sqs/q");
        assert_eq!(target.timeout, Duration::from_secs(120));
        assert_eq!(target.settings.max_retries, Some(3));
        assert_eq!(target.settings.max_record_age, None);
        assert_eq!(target.settings.batching_window, Duration::from_secs(5));
    }

    #[test]
    fn flags_win_over_the_stack() {
        let overrides = Overrides {
            stream: Some("s".into()),
            table: Some("mine".into()),
            dlq_url: Some("http://q".into()),
        };
        let target = target(
            "demo",
            &Outputs::new(),
            &function(),
            &[mapping()],
            &overrides,
        )
        .unwrap();
        assert_eq!(
            (target.table_name.as_str(), target.dlq_url.as_str()),
            ("mine", "http://q")
        );
        assert_eq!(
            target.stream_arn,
            "arn:aws:kinesis:us-east-1:123456789012:stream/s"
        );
    }

    #[test]
    fn what_is_missing_is_named_with_the_flag_that_replaces_it() {
        let err = target(
            "demo",
            &Outputs::new(),
            &function(),
            &[mapping()],
            &Overrides::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("output StreamName not found in stack demo"),
            "{err}"
        );
        assert!(err.contains("--stream"), "{err}");
        let err = target("demo", &outputs(), &function(), &[], &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("event source mapping from s"), "{err}");
    }

    #[test]
    fn a_plain_mapping_starts_at_trim_horizon_unfiltered_and_says_nothing_more() {
        let target = target(
            "demo",
            &outputs(),
            &function(),
            &[mapping()],
            &Overrides::default(),
        )
        .unwrap();
        assert_eq!(target.settings.start, ShardStart::TrimHorizon);
        assert!(target.settings.filter.is_empty());
        assert_eq!(target.consumer_arn, None);
        assert!(target.notes().is_empty(), "{:?}", target.notes());
    }

    #[test]
    fn a_mapping_through_a_stream_consumer_reads_its_stream_and_says_how() {
        let consumer = "arn:aws:kinesis:us-east-1:123456789012:stream/s/consumer/lambda:1764000000";
        let through_consumer = MappingConfig {
            event_source_arn: consumer.into(),
            ..mapping()
        };
        let target = target(
            "demo",
            &outputs(),
            &function(),
            &[through_consumer],
            &Overrides::default(),
        )
        .unwrap();
        assert_eq!(target.stream_name, "s");
        assert_eq!(target.consumer_arn.as_deref(), Some(consumer));
        assert_eq!(
            target.notes(),
            [format!(
                "the mapping reads through enhanced fan-out consumer {consumer}; moto has no \
                 SubscribeToShard, so local-runner reads stream s with GetRecords"
            )]
        );
        let elsewhere = MappingConfig {
            event_source_arn:
                "arn:aws:kinesis:us-east-1:123456789012:stream/other/consumer/lambda:1".into(),
            ..mapping()
        };
        let err = target_err(&[elsewhere]);
        assert!(err.contains("event source mapping from s"), "{err}");
    }

    fn target_err(mappings: &[MappingConfig]) -> String {
        target(
            "demo",
            &outputs(),
            &function(),
            mappings,
            &Overrides::default(),
        )
        .unwrap_err()
        .to_string()
    }

    #[test]
    fn at_timestamp_starts_every_shard_there_and_needs_its_timestamp() {
        let at = MappingConfig {
            starting_position: Some("AT_TIMESTAMP".into()),
            starting_position_timestamp: Some(1_764_000_000.5),
            ..mapping()
        };
        assert!(!at.lacks_timestamp());
        let target = target(
            "demo",
            &outputs(),
            &function(),
            std::slice::from_ref(&at),
            &Overrides::default(),
        )
        .unwrap();
        assert_eq!(
            target.settings.start,
            ShardStart::AtTimestamp(1_764_000_000.5)
        );
        assert_eq!(
            target.notes(),
            ["starting each shard AT_TIMESTAMP 2025-11-24T16:00:00.500Z (1764000000.5 s)"]
        );
        let without = MappingConfig {
            starting_position_timestamp: None,
            ..at
        };
        assert!(without.lacks_timestamp());
        assert_eq!(
            target_err(&[without]),
            "event source mapping e40edd69: starts AT_TIMESTAMP but neither the Lambda API nor \
             the stack's template gives its StartingPositionTimestamp"
        );
        let latest = MappingConfig {
            starting_position: Some("LATEST".into()),
            ..mapping()
        };
        assert_eq!(latest.settings().unwrap().start, ShardStart::TrimHorizon);
    }

    #[test]
    fn filters_are_compiled_and_a_bad_one_names_the_mapping() {
        let filtered = MappingConfig {
            filter_patterns: vec![r#"{"data": {"eventType": ["purchase"]}}"#.into()],
            ..mapping()
        };
        let target = target(
            "demo",
            &outputs(),
            &function(),
            &[filtered],
            &Overrides::default(),
        )
        .unwrap();
        assert_eq!(target.settings.filter.len(), 1);
        assert_eq!(
            target.notes(),
            [
                "filtering with the mapping's 1 FilterCriteria pattern(s): records none matches \
              are dropped without an invocation and counted as filtered"
            ]
        );
        let bad = MappingConfig {
            filter_patterns: vec![r#"{"data": {"a": [{"regex": "x"}]}}"#.into()],
            ..mapping()
        };
        let err = target_err(&[bad]);
        assert!(
            err.starts_with(
                "event source mapping e40edd69: filter 1 of the mapping's FilterCriteria"
            ),
            "{err}"
        );
        assert!(err.contains("unknown operator \"regex\""), "{err}");
    }

    const TEMPLATE: &str = r#"
AWSTemplateFormatVersion: '2010-09-09'
Resources:
  EventStream:
    Type: AWS::Kinesis::Stream
    Properties:
      ShardCount: 1
  StreamMapping:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      EventSourceArn:
        Fn::GetAtt:
          - EventStream
          - Arn
      StartingPosition: AT_TIMESTAMP
      StartingPositionTimestamp: 1764000000
      FilterCriteria:
        Filters:
          - Pattern: '{"data":{"eventType":["purchase","add_to_cart"]}}'
"#;

    #[test]
    fn the_template_gives_what_the_api_does_not() {
        let expected = TemplateMapping {
            starting_position_timestamp: Some(1_764_000_000.0),
            filter_patterns: Some(vec![
                r#"{"data":{"eventType":["purchase","add_to_cart"]}}"#.into()
            ]),
        };
        assert_eq!(
            from_template(TEMPLATE, Some("StreamMapping")),
            Ok(expected.clone())
        );
        assert_eq!(from_template(TEMPLATE, None), Ok(expected));
        let json = r#"{"Resources": {"M": {"Type": "AWS::Lambda::EventSourceMapping",
            "Properties": {"StartingPositionTimestamp": "1764000000.25"}}}}"#;
        assert_eq!(
            from_template(json, None),
            Ok(TemplateMapping {
                starting_position_timestamp: Some(1_764_000_000.25),
                filter_patterns: None,
            })
        );
    }

    #[test]
    fn a_template_without_the_mapping_says_so() {
        assert_eq!(
            from_template(TEMPLATE, Some("Missing")),
            Err("the stack's template has no resource Missing".into())
        );
        assert_eq!(
            from_template("Resources: {}", None),
            Err("the stack's template has no event source mapping".into())
        );
        assert!(from_template(": not yaml: [", None)
            .unwrap_err()
            .starts_with("the stack's template cannot be read"));
        let bad = TEMPLATE.replace("1764000000", "soon");
        assert_eq!(
            from_template(&bad, None),
            Err(
                r#"StartingPositionTimestamp in the stack's template is not a number: "soon""#
                    .into()
            )
        );
    }

    #[test]
    fn consumer_arns_name_their_stream() {
        assert_eq!(
            consumer_of("arn:aws:kinesis:us-east-1:123456789012:stream/s/consumer/c:1764"),
            Some(("arn:aws:kinesis:us-east-1:123456789012:stream/s", "c"))
        );
        assert_eq!(
            consumer_of("arn:aws:kinesis:us-east-1:123456789012:stream/s"),
            None
        );
        assert_eq!(consumer_of("arn:aws:sqs:us-east-1:1:q/consumer/c:1"), None);
    }

    #[test]
    fn queue_names_come_from_sqs_arns_only() {
        assert_eq!(
            queue_name("arn:aws:sqs:us-east-1:123456789012:dlq"),
            Some("dlq")
        );
        assert_eq!(queue_name("arn:aws:sns:us-east-1:123456789012:topic"), None);
    }
}
