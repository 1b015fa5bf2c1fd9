//! What to run, found from the deployed stack: its outputs name the stream, table, queue
//! and function; the function's configuration gives the processor's environment, timeout
//! and role; the event source mapping gives batching, retries, filters, the starting
//! position, the tumbling window and the on-failure destination. Flags override the names (for endpoints where
//! part of the stack is missing).
//!
//! The stack is read through `deployed_stack` (outputs, the function's configuration, the
//! mapping as GetEventSourceMapping reports it, completed from the template where moto
//! leaves the starting timestamp out); this module decides what the emulator plays from it.
//! Filters encrypted with a customer managed key (`lambda_filter_encryption`) are read
//! decrypted; when Lambda could not decrypt them for the caller the runner refuses to start
//! rather than play the mapping unfiltered.

use std::time::Duration;

use aws_config::SdkConfig;
use aws_edge::error::CallError;
use contract::outputs;
use deployed_stack::function::Function;
use deployed_stack::mapping::Mapping;
use deployed_stack::{Stack, StackError};
use kinesis_codec::time::iso8601;
use processor::config::Config;

use crate::filter::FilterCriteria;
use crate::mapping::Settings;
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
    /// Name of the on-failure destination bucket, when it is one (`arn:aws:s3:::NAME`).
    pub on_failure_bucket: Option<String>,
    /// The mapping's UUID: the on-failure objects' keys start `aws/lambda/<UUID>/`.
    pub mapping_uuid: String,
    /// The enhanced fan-out consumer the mapping reads through, when it names one
    /// instead of the stream. The runner reads the stream itself with GetRecords all the
    /// same: moto does not implement SubscribeToShard.
    pub consumer_arn: Option<String>,
    /// The processor's configuration, read from the function's environment by the
    /// processor's own rules (with the table and queue above), so what the function would
    /// do with every variable it reads (TTL, index write shards, ...) the runner does too.
    pub processor: Config,
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
        if let Some(bucket) = &self.on_failure_bucket {
            notes.push(format!(
                "batches the mapping gives up on go to S3 bucket {bucket} as Lambda writes them: \
                 one object each under {}, with the records as its payload",
                kinesis_codec::on_failure::object_prefix(Some(&self.mapping_uuid))
            ));
        }
        if let Some(width) = self.settings.tumbling_window {
            notes.push(format!(
                "tumbling windows of {} s: each invocation carries its window and the shard's \
                 state; a window ends with a final invocation without records (when the \
                 shard moves on, ends, is quiet {} s past the window's end, or the run exits)",
                width.as_secs(),
                crate::window::GRACE.as_secs()
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
    /// Reading the stack failed.
    #[error(transparent)]
    Stack(#[from] StackError),
    /// An AWS call failed.
    #[error(transparent)]
    Call(#[from] CallError),
    /// The mapping says something the runner cannot play (a bad filter pattern, encrypted
    /// filters it could not read, an AT_TIMESTAMP without a timestamp).
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
    /// The function's environment would stop the processor at init.
    #[error("function {function}: its environment would stop the processor at init: {error}")]
    Environment {
        /// The function.
        function: String,
        /// Why.
        error: processor::config::ConfigError,
    },
}

/// The runner's settings from the mapping's numbers as the API reports them. A filter
/// pattern the runner cannot apply, encrypted filters Lambda did not decrypt, or
/// AT_TIMESTAMP without a timestamp, is an error naming the mapping.
pub fn settings(mapping: &Mapping) -> Result<Settings, DiscoveryError> {
    let refuse = |reason: String| DiscoveryError::Mapping {
        mapping: mapping.uuid.clone(),
        reason,
    };
    if let Some(error) = &mapping.filter_error {
        return Err(refuse(format!(
            "its FilterCriteria are encrypted with KMS key {} and Lambda did not decrypt them \
             for this caller ({error}); the caller needs kms:Decrypt on the key through Lambda \
             (kms:ViaService lambda.<region>.amazonaws.com), as the stack's RedrivePolicy and \
             ReplayPolicy grant it (docs/access.md)",
            mapping.kms_key_arn.as_deref().unwrap_or("(not named)")
        )));
    }
    let filter =
        FilterCriteria::parse(&mapping.filter_patterns).map_err(|e| refuse(e.to_string()))?;
    let start = match (
        mapping.starting_position.as_deref(),
        mapping.starting_position_timestamp,
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
        batch_size: usize::try_from(mapping.batch_size).unwrap_or(100).max(1),
        batching_window: Duration::from_secs(u64::try_from(mapping.window_secs).unwrap_or(0)),
        bisect_on_error: mapping.bisect,
        max_retries: u32::try_from(mapping.max_retries).ok(),
        max_record_age: u64::try_from(mapping.max_record_age_secs)
            .ok()
            .map(Duration::from_secs),
        report_item_failures: mapping.report_item_failures,
        on_failure: mapping.on_failure.clone(),
        filter,
        start,
        tumbling_window: tumbling_window(&mapping.uuid, mapping.tumbling_window_secs)?,
        faults: crate::mapping::Faults::default(),
    })
}
/// The longest tumbling window Lambda allows, in seconds.
pub const MAX_TUMBLING_WINDOW_SECS: i32 = 900;

/// The tumbling window of mapping `mapping` from its TumblingWindowInSeconds as the
/// Lambda API reports it: absent or 0 is none, 1 to 900 seconds a window; anything else
/// is refused, naming the mapping.
pub fn tumbling_window(
    mapping: &str,
    seconds: Option<i32>,
) -> Result<Option<Duration>, DiscoveryError> {
    match seconds {
        None | Some(0) => Ok(None),
        Some(secs @ 1..=MAX_TUMBLING_WINDOW_SECS) => {
            Ok(Some(Duration::from_secs(u64::from(secs.unsigned_abs()))))
        }
        Some(secs) => Err(DiscoveryError::Mapping {
            mapping: mapping.to_owned(),
            reason: format!(
                "TumblingWindowInSeconds must be 0 to {MAX_TUMBLING_WINDOW_SECS}, got {secs}"
            ),
        }),
    }
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
/// with `table` and `dlq_url` in place of its TABLE_NAME and DLQ_URL (the runner's choices,
/// which may be overrides). A variable the processor would refuse at init is refused here,
/// naming the function and the variable.
pub fn processor_config(
    function: &Function,
    table: &str,
    dlq_url: &str,
) -> Result<Config, DiscoveryError> {
    Config::for_function(&function.name, &function.environment, table, dlq_url).map_err(|error| {
        DiscoveryError::Environment {
            function: function.name.clone(),
            error,
        }
    })
}

/// Finds what to run from stack `stack_name`: its outputs, the function's configuration,
/// the mapping of the stream to the function and the on-failure destination's URL.
pub async fn discover(
    config: &SdkConfig,
    stack_name: &str,
    overrides: &Overrides,
) -> Result<Target, DiscoveryError> {
    let stack = Stack::find(config, stack_name).await?;
    let function = stack.function(config).await?;
    let mappings = stack.mappings(config, &function.name).await?;
    let mut target = target(&stack, &function, &mappings, overrides)?;
    if let Some(mapping) = mappings.iter().find(|m| m.uuid == target.mapping_uuid) {
        let listed = deployed_stack::mapping::of_source(config, &mapping.event_source_arn).await?;
        refuse_second_mapping(mapping, &listed)?;
    }
    if let Some(name) = target.settings.on_failure.as_deref().and_then(queue_name) {
        let sqs = aws_sdk_sqs::Client::new(config);
        let url = sqs
            .get_queue_url()
            .queue_name(name)
            .send()
            .await
            .map_err(|e| CallError::new(format!("SQS GetQueueUrl({name})"), &e))?;
        target.on_failure_url = url.queue_url().map(str::to_owned);
    }
    Ok(target)
}

/// Puts the pieces together: outputs, then the function's configuration, then the mapping
/// of the stream to the function.
pub fn target(
    stack: &Stack,
    function: &Function,
    mappings: &[Mapping],
    overrides: &Overrides,
) -> Result<Target, DiscoveryError> {
    let missing = |what: &str, hint: &str| DiscoveryError::Missing {
        what: what.to_owned(),
        stack: stack.name().to_owned(),
        hint: hint.to_owned(),
    };
    let output = |key: &'static str, flag: &str| {
        stack.optional(key).map(str::to_owned).ok_or_else(|| {
            missing(
                &format!("output {key}"),
                &format!("is the stack created (CREATE_COMPLETE)? or pass {flag}"),
            )
        })
    };
    let stream_name = match &overrides.stream {
        Some(name) => name.clone(),
        None => output(outputs::STREAM_NAME, "--stream")?,
    };
    let stream_arn = stack
        .optional(outputs::STREAM_ARN)
        .filter(|_| overrides.stream.is_none())
        .map_or_else(|| stream_arn_for(&stream_name, function), str::to_owned);
    let env = |name: &str| function.env(name).map(str::to_owned);
    let table_name = match overrides
        .table
        .clone()
        .or_else(|| env(contract::env::TABLE_NAME))
    {
        Some(name) => name,
        None => output(outputs::TABLE_NAME, "--table")?,
    };
    let dlq_url = match overrides
        .dlq_url
        .clone()
        .or_else(|| env(contract::env::DLQ_URL))
    {
        Some(url) => url,
        None => output(outputs::DEAD_LETTER_QUEUE_URL, "--dlq-url")?,
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
        function_name: function.name.clone(),
        function_arn: function.arn.clone(),
        role_arn: function.role.clone(),
        timeout: function.timeout,
        settings: settings(mapping)?,
        on_failure_url: None,
        on_failure_bucket: mapping
            .on_failure
            .as_deref()
            .and_then(crate::destination::bucket_name)
            .map(str::to_owned),
        mapping_uuid: mapping.uuid.clone(),
        consumer_arn: consumer_of(&mapping.event_source_arn)
            .map(|_| mapping.event_source_arn.clone()),
    })
}

/// Refuses to play `mapping` when another mapping of `listed` (its source's, as
/// ListEventSourceMappings lists them) reads the same source into the same function: Lambda
/// refuses to create such a second mapping (`ResourceConflictException`: "The event source
/// arn ... and function ... provided mapping already exists"), so no stack on AWS has two,
/// and one that has them on an emulator would have every record processed twice. A mapping
/// being deleted does not count, nor one of another function (or another version or alias of
/// it: Lambda compares the function ARN it reports).
pub fn refuse_second_mapping(
    mapping: &Mapping,
    listed: &[deployed_stack::mapping::Listed],
) -> Result<(), DiscoveryError> {
    let others: Vec<&str> = listed
        .iter()
        .filter(|l| l.uuid != mapping.uuid && l.state != "Deleting")
        .filter(|l| l.event_source_arn == mapping.event_source_arn)
        .filter(|l| l.function_arn == mapping.function_arn)
        .map(|l| l.uuid.as_str())
        .collect();
    if others.is_empty() {
        return Ok(());
    }
    Err(DiscoveryError::Mapping {
        mapping: mapping.uuid.clone(),
        reason: format!(
            "{} also read{} {} into function {}; Lambda refuses a second mapping of the same \
             event source and function (ResourceConflictException), so local-runner does not \
             play them: delete the one the stack does not name (aws lambda \
             delete-event-source-mapping --uuid {}) and run it again",
            match others.as_slice() {
                [one] => format!("mapping {one}"),
                more => format!("mappings {}", more.join(", ")),
            },
            if others.len() == 1 { "s" } else { "" },
            mapping.event_source_arn,
            mapping.function_arn,
            others[0]
        ),
    })
}

/// The stream's ARN in the function's account and region.
fn stream_arn_for(stream: &str, function: &Function) -> String {
    match function.arn_parts() {
        Some((partition, region, account)) => {
            format!("arn:{partition}:kinesis:{region}:{account}:stream/{stream}")
        }
        None => format!("arn:aws:kinesis:us-east-1:000000000000:stream/{stream}"),
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

    fn stack() -> Stack {
        Stack::from_outputs("demo", outputs())
    }

    fn empty() -> Stack {
        Stack::from_outputs("demo", Default::default())
    }

    fn outputs() -> std::collections::BTreeMap<String, String> {
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

    fn function() -> Function {
        Function {
            name: "f".into(),
            arn: "arn:aws:lambda:us-east-1:123456789012:function:f".into(),
            role: "arn:aws:iam::123456789012:role/r".into(),
            timeout: Duration::from_secs(120),
            environment: [
                (contract::env::TABLE_NAME, "t"),
                (contract::env::DLQ_URL, "https://sqs/q"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        }
    }

    fn mapping() -> Mapping {
        Mapping {
            event_source_arn: "arn:aws:kinesis:us-east-1:123456789012:stream/s".into(),
            batch_size: 100,
            window_secs: 5,
            bisect: true,
            max_retries: 3,
            max_record_age_secs: -1,
            report_item_failures: true,
            on_failure: Some("arn:aws:sqs:us-east-1:123456789012:q".into()),
            uuid: "e40edd69".into(),
            ..Mapping::default()
        }
    }

    #[test]
    fn the_function_environment_and_the_mapping_settle_everything() {
        let target = target(&stack(), &function(), &[mapping()], &Overrides::default()).unwrap();
        assert_eq!(target.table_name, "t");
        assert_eq!(target.dlq_url, "https://sqs/q");
        assert_eq!(target.timeout, Duration::from_secs(120));
        assert_eq!(target.settings.max_retries, Some(3));
        assert_eq!(target.settings.max_record_age, None);
        assert_eq!(target.settings.batching_window, Duration::from_secs(5));
        assert_eq!(target.mapping_uuid, "e40edd69");
        assert_eq!(
            target.on_failure_bucket, None,
            "the queue is the destination"
        );
    }

    #[test]
    fn a_bucket_destination_is_kept_by_name_with_the_mappings_uuid() {
        let to_bucket = Mapping {
            on_failure: Some("arn:aws:s3:::retail-failures".into()),
            ..mapping()
        };
        let target = target(&stack(), &function(), &[to_bucket], &Overrides::default()).unwrap();
        assert_eq!(target.on_failure_bucket.as_deref(), Some("retail-failures"));
        assert_eq!(target.mapping_uuid, "e40edd69");
        assert_eq!(target.on_failure_url, None);
        assert_eq!(
            target.notes(),
            [
                "batches the mapping gives up on go to S3 bucket retail-failures as Lambda writes \
              them: one object each under aws/lambda/e40edd69/, with the records as its payload"
            ]
        );
    }

    #[test]
    fn flags_win_over_the_stack() {
        let overrides = Overrides {
            stream: Some("s".into()),
            table: Some("mine".into()),
            dlq_url: Some("http://q".into()),
        };
        let target = target(&empty(), &function(), &[mapping()], &overrides).unwrap();
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
        let err = target(&empty(), &function(), &[mapping()], &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("output StreamName not found in stack demo"),
            "{err}"
        );
        assert!(err.contains("--stream"), "{err}");
        let err = target(&stack(), &function(), &[], &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("event source mapping from s"), "{err}");
    }

    #[test]
    fn a_plain_mapping_starts_at_trim_horizon_unfiltered_and_says_nothing_more() {
        let target = target(&stack(), &function(), &[mapping()], &Overrides::default()).unwrap();
        assert_eq!(target.settings.start, ShardStart::TrimHorizon);
        assert!(target.settings.filter.is_empty());
        assert_eq!(target.consumer_arn, None);
        assert!(target.notes().is_empty(), "{:?}", target.notes());
    }

    #[test]
    fn a_mapping_through_a_stream_consumer_reads_its_stream_and_says_how() {
        let consumer = "arn:aws:kinesis:us-east-1:123456789012:stream/s/consumer/lambda:1764000000";
        let through_consumer = Mapping {
            event_source_arn: consumer.into(),
            ..mapping()
        };
        let target = target(
            &stack(),
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
        let elsewhere = Mapping {
            event_source_arn:
                "arn:aws:kinesis:us-east-1:123456789012:stream/other/consumer/lambda:1".into(),
            ..mapping()
        };
        let err = target_err(&[elsewhere]);
        assert!(err.contains("event source mapping from s"), "{err}");
    }

    fn target_err(mappings: &[Mapping]) -> String {
        target(&stack(), &function(), mappings, &Overrides::default())
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn at_timestamp_starts_every_shard_there_and_needs_its_timestamp() {
        let at = Mapping {
            starting_position: Some("AT_TIMESTAMP".into()),
            starting_position_timestamp: Some(1_764_000_000.5),
            ..mapping()
        };
        assert!(!at.lacks_timestamp());
        let target = target(
            &stack(),
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
        let without = Mapping {
            starting_position_timestamp: None,
            ..at
        };
        assert!(without.lacks_timestamp());
        assert_eq!(
            target_err(&[without]),
            "event source mapping e40edd69: starts AT_TIMESTAMP but neither the Lambda API nor \
             the stack's template gives its StartingPositionTimestamp"
        );
        let latest = Mapping {
            starting_position: Some("LATEST".into()),
            ..mapping()
        };
        assert_eq!(settings(&latest).unwrap().start, ShardStart::TrimHorizon);
    }

    /// Encrypted filters are played once decrypted; filters Lambda did not decrypt for the
    /// caller stop the runner, naming the key and the permission, instead of playing the
    /// mapping unfiltered.
    #[test]
    fn encrypted_filters_are_played_decrypted_or_not_at_all() {
        let key = "arn:aws:kms:us-east-1:123456789012:key/k";
        let decrypted = Mapping {
            filter_patterns: vec![r#"{"data": {"eventType": ["purchase"]}}"#.into()],
            kms_key_arn: Some(key.into()),
            ..mapping()
        };
        assert_eq!(settings(&decrypted).unwrap().filter.len(), 1);
        let undecrypted = Mapping {
            kms_key_arn: Some(key.into()),
            filter_error: Some("KMSAccessDeniedException: not authorized".into()),
            ..mapping()
        };
        assert_eq!(
            target_err(&[undecrypted]),
            format!(
                "event source mapping e40edd69: its FilterCriteria are encrypted with KMS key \
                 {key} and Lambda did not decrypt them for this caller \
                 (KMSAccessDeniedException: not authorized); the caller needs kms:Decrypt on \
                 the key through Lambda (kms:ViaService lambda.<region>.amazonaws.com), as the \
                 stack's RedrivePolicy and ReplayPolicy grant it (docs/access.md)"
            )
        );
    }

    #[test]
    fn filters_are_compiled_and_a_bad_one_names_the_mapping() {
        let filtered = Mapping {
            filter_patterns: vec![r#"{"data": {"eventType": ["purchase"]}}"#.into()],
            ..mapping()
        };
        let target = target(&stack(), &function(), &[filtered], &Overrides::default()).unwrap();
        assert_eq!(target.settings.filter.len(), 1);
        assert_eq!(
            target.notes(),
            [
                "filtering with the mapping's 1 FilterCriteria pattern(s): records none matches \
              are dropped without an invocation and counted as filtered"
            ]
        );
        let bad = Mapping {
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

    /// Lambda refuses a second mapping of the same source and function, and so does the
    /// runner, naming both and what to delete; other functions, other sources and mappings
    /// being deleted do not count.
    #[test]
    fn a_second_mapping_of_the_same_stream_and_function_is_refused() {
        use deployed_stack::mapping::Listed;
        let ours = Mapping {
            function_arn: function().arn,
            ..mapping()
        };
        let listed = |uuid: &str, source: &str, function: &str, state: &str| Listed {
            uuid: uuid.into(),
            event_source_arn: source.into(),
            function_arn: function.into(),
            state: state.into(),
        };
        let stream = ours.event_source_arn.clone();
        let f = ours.function_arn.clone();
        let fine = [
            listed("e40edd69", &stream, &f, "Enabled"),
            listed("other-fn", &stream, &format!("{f}-other"), "Enabled"),
            listed("alias", &stream, &format!("{f}:live"), "Enabled"),
            listed("going", &stream, &f, "Deleting"),
            listed("consumer", &format!("{stream}/consumer/c:1"), &f, "Enabled"),
        ];
        assert!(refuse_second_mapping(&ours, &fine).is_ok());
        let mut twice = fine.to_vec();
        twice.push(listed("5f0c2b11", &stream, &f, "Enabled"));
        assert_eq!(
            refuse_second_mapping(&ours, &twice)
                .unwrap_err()
                .to_string(),
            format!(
                "event source mapping e40edd69: mapping 5f0c2b11 also reads {stream} into \
                 function {f}; Lambda refuses a second mapping of the same event source and \
                 function (ResourceConflictException), so local-runner does not play them: \
                 delete the one the stack does not name (aws lambda \
                 delete-event-source-mapping --uuid 5f0c2b11) and run it again"
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

    #[test]
    fn the_tumbling_window_is_lambdas_1_to_900_seconds_and_0_is_none() {
        assert_eq!(tumbling_window("m", None).unwrap(), None);
        assert_eq!(tumbling_window("m", Some(0)).unwrap(), None);
        assert_eq!(
            tumbling_window("m", Some(60)).unwrap(),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            tumbling_window("m", Some(900)).unwrap(),
            Some(Duration::from_secs(900))
        );
        for bad in [-1, 901] {
            assert_eq!(
                tumbling_window("e40edd69", Some(bad))
                    .unwrap_err()
                    .to_string(),
                format!(
                    "event source mapping e40edd69: TumblingWindowInSeconds must be 0 to 900, \
                     got {bad}"
                )
            );
        }
        let every_minute = Mapping {
            tumbling_window_secs: Some(60),
            ..mapping()
        };
        let windowed = target(
            &stack(),
            &function(),
            &[every_minute],
            &Overrides::default(),
        )
        .unwrap();
        assert_eq!(
            windowed.settings.tumbling_window,
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            windowed.notes(),
            [
                "tumbling windows of 60 s: each invocation carries its window and the shard's \
              state; a window ends with a final invocation without records (when the shard \
              moves on, ends, is quiet 2 s past the window's end, or the run exits)"
            ]
        );
    }
}
