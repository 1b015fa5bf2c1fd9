//! What to run, found from the deployed stack: its outputs name the stream, table, queue
//! and function; the function's configuration gives the processor's environment, timeout
//! and role; the event source mapping gives batching, retries and the on-failure
//! destination. Flags override the names (for endpoints where part of the stack is missing).

use std::collections::HashMap;
use std::time::Duration;

use crate::mapping::Settings;

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
}

/// Why the stack could not tell what to run.
#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    /// An AWS call failed.
    #[error("{call} failed: {error}")]
    Call {
        /// The call, e.g. `DescribeStacks(demo)`.
        call: String,
        /// Why.
        error: String,
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
    /// The stream's ARN.
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
}

impl MappingConfig {
    /// The runner's settings from the API's numbers.
    pub fn settings(&self) -> Settings {
        Settings {
            batch_size: usize::try_from(self.batch_size).unwrap_or(100).max(1),
            batching_window: Duration::from_secs(u64::try_from(self.window_secs).unwrap_or(0)),
            bisect_on_error: self.bisect,
            max_retries: u32::try_from(self.max_retries).ok(),
            max_record_age: u64::try_from(self.max_record_age_secs)
                .ok()
                .map(Duration::from_secs),
            report_item_failures: self.report_item_failures,
            on_failure: self.on_failure.clone(),
        }
    }
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
    let mapping = mappings
        .iter()
        .find(|m| {
            m.event_source_arn == stream_arn
                || m.event_source_arn.ends_with(&format!("/{stream_name}"))
        })
        .ok_or_else(|| {
            missing(
                &format!("an event source mapping from {stream_name} to the function"),
                "the stack's StreamMapping creates it",
            )
        })?;
    Ok(Target {
        stream_name,
        stream_arn,
        table_name,
        dlq_url,
        function_name: outputs.get("FunctionName").cloned().unwrap_or_default(),
        function_arn: function.arn.clone(),
        role_arn: function.role.clone(),
        timeout: Duration::from_secs(function.timeout_secs.max(1)),
        settings: mapping.settings(),
        on_failure_url: None,
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
    fn queue_names_come_from_sqs_arns_only() {
        assert_eq!(
            queue_name("arn:aws:sqs:us-east-1:123456789012:dlq"),
            Some("dlq")
        );
        assert_eq!(queue_name("arn:aws:sns:us-east-1:123456789012:topic"), None);
    }
}
