//! Physical names of the stack's resources, all derived from `project_name` and
//! `environment` so that two environments never collide and a reviewer can tell from a
//! name which stack owns it. Renaming forces replacement of the named resources (the
//! diff says so), which is why names come from configuration and not from the stack name.

use crate::config::Config;

/// Every physical name the stack uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Names {
    /// `{project}-{environment}`, the prefix of everything below.
    pub prefix: String,
    /// Kinesis stream.
    pub stream: String,
    /// DynamoDB table.
    pub table: String,
    /// The per-minute aggregate table (only with `aggregate_window_seconds`).
    pub aggregate_table: String,
    /// Lambda function.
    pub function: String,
    /// The function's log group: Lambda's default name, so nothing else is created.
    pub log_group: String,
    /// SQS dead-letter queue.
    pub queue: String,
    /// SNS alert topic.
    pub topic: String,
    /// CloudWatch dashboard.
    pub dashboard: String,
    /// Alias of the key that encrypts the pipeline's data.
    pub data_key_alias: String,
    /// Alias of the key that encrypts the alert topic.
    pub alerts_key_alias: String,
    /// The processor's enhanced fan-out consumer of the stream (`kinesis_consumer`).
    pub consumer: String,
    /// The CodeDeploy application and its deployment group that shift the processor's alias
    /// to a new version (gradual `deploy_strategy` only); one name serves both, as an
    /// application has one group here.
    pub code_deploy: String,
}

impl Names {
    /// The names for one configuration.
    pub fn new(config: &Config) -> Names {
        let prefix = config.name_prefix();
        let function = format!("{prefix}-processor");
        Names {
            stream: format!("{prefix}-events"),
            table: format!("{prefix}-events"),
            aggregate_table: format!("{prefix}-aggregates"),
            log_group: format!("/aws/lambda/{function}"),
            consumer: function.clone(),
            code_deploy: function.clone(),
            function,
            queue: format!("{prefix}-dlq"),
            topic: format!("{prefix}-alerts"),
            dashboard: format!("{prefix}-pipeline"),
            data_key_alias: format!("alias/{prefix}-data"),
            alerts_key_alias: format!("alias/{prefix}-alerts"),
            prefix,
        }
    }

    /// An alarm's name: `{prefix}-{what}`.
    pub fn alarm(&self, what: &str) -> String {
        format!("{}-{what}", self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_project_and_environment() {
        let names = Names::new(&Config::default());
        let prefix = Config::default().name_prefix();
        assert_eq!(names.function, format!("{prefix}-processor"));
        assert_eq!(names.log_group, format!("/aws/lambda/{prefix}-processor"));
        assert_eq!(
            names.alarm("lambda-errors"),
            format!("{prefix}-lambda-errors")
        );
    }
}
