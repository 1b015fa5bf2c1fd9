//! The stack's outputs, by the exact names users' scripts and the tools read
//! (docs/design.md, "Stack outputs"). `synth` declares each output under one of these
//! names, and every tool that reads a deployed stack looks it up by the same constant, so a
//! renamed output cannot leave a reader behind.

/// The Kinesis stream's name.
pub const STREAM_NAME: &str = "StreamName";
/// The Kinesis stream's ARN.
pub const STREAM_ARN: &str = "StreamArn";
/// The processor function's name.
pub const FUNCTION_NAME: &str = "FunctionName";
/// The processor function's ARN.
pub const FUNCTION_ARN: &str = "FunctionArn";
/// The events table's name.
pub const TABLE_NAME: &str = "TableName";
/// The events table's ARN.
pub const TABLE_ARN: &str = "TableArn";
/// The dead-letter queue's URL.
pub const DEAD_LETTER_QUEUE_URL: &str = "DeadLetterQueueUrl";
/// The dead-letter queue's ARN.
pub const DEAD_LETTER_QUEUE_ARN: &str = "DeadLetterQueueArn";
/// The dead-letter queue's name.
pub const DEAD_LETTER_QUEUE_NAME: &str = "DeadLetterQueueName";
/// The processor's log group.
pub const LOG_GROUP_NAME: &str = "LogGroupName";
/// The processor's log group's ARN.
pub const LOG_GROUP_ARN: &str = "LogGroupArn";
/// The processor's execution role's ARN.
pub const ROLE_ARN: &str = "RoleArn";
/// The event source mapping's ID (its UUID).
pub const EVENT_SOURCE_MAPPING_ID: &str = "EventSourceMappingId";
/// The pipeline's CloudWatch dashboard.
pub const DASHBOARD_NAME: &str = "DashboardName";
/// The data key's ARN (stream, table, queue, logs).
pub const DATA_KEY_ARN: &str = "DataKeyArn";
/// The data key's alias.
pub const DATA_KEY_ALIAS: &str = "DataKeyAlias";
/// The managed policy for producer applications.
pub const PRODUCER_POLICY_ARN: &str = "ProducerPolicyArn";
/// The managed policy for operators reading dead letters.
pub const DEAD_LETTER_READER_POLICY_ARN: &str = "DeadLetterReaderPolicyArn";
/// The managed policy for applications reading the table.
pub const EVENT_READER_POLICY_ARN: &str = "EventReaderPolicyArn";
/// The managed policy for whoever runs redrive.
pub const REDRIVE_POLICY_ARN: &str = "RedrivePolicyArn";
/// The managed policy for whoever runs replay.
pub const REPLAY_POLICY_ARN: &str = "ReplayPolicyArn";
/// The managed policy for whoever runs backfill.
pub const BACKFILL_POLICY_ARN: &str = "BackfillPolicyArn";
/// The failure archive: the bucket the mapping's on-failure destination writes to (and the
/// processor's oversize dead letters' bytes); only with `on_failure_destination = "s3"`.
pub const FAILURE_BUCKET_NAME: &str = "FailureBucketName";
/// The event archive's bucket; only with `archive_events = true`.
pub const ARCHIVE_BUCKET_NAME: &str = "ArchiveBucketName";
/// The per-minute aggregate table (present when `aggregate_window_seconds` is not 0).
pub const AGGREGATE_TABLE_NAME: &str = "AggregateTableName";
/// The alert topic's ARN; only when an alert e-mail is configured.
pub const ALARM_TOPIC_ARN: &str = "AlarmTopicArn";
/// Console link: the dashboard.
pub const DASHBOARD_CONSOLE_URL: &str = "DashboardConsoleUrl";
/// Console link: the function.
pub const FUNCTION_CONSOLE_URL: &str = "FunctionConsoleUrl";
/// Console link: the log group.
pub const LOGS_CONSOLE_URL: &str = "LogsConsoleUrl";
/// Console link: the table.
pub const TABLE_CONSOLE_URL: &str = "TableConsoleUrl";
/// Console link: the stream.
pub const STREAM_CONSOLE_URL: &str = "StreamConsoleUrl";

/// Every output, in the order the stack declares them.
pub const ALL: &[&str] = &[
    STREAM_NAME,
    STREAM_ARN,
    FUNCTION_NAME,
    FUNCTION_ARN,
    TABLE_NAME,
    TABLE_ARN,
    DEAD_LETTER_QUEUE_URL,
    DEAD_LETTER_QUEUE_ARN,
    DEAD_LETTER_QUEUE_NAME,
    LOG_GROUP_NAME,
    LOG_GROUP_ARN,
    ROLE_ARN,
    EVENT_SOURCE_MAPPING_ID,
    DASHBOARD_NAME,
    DATA_KEY_ARN,
    DATA_KEY_ALIAS,
    PRODUCER_POLICY_ARN,
    DEAD_LETTER_READER_POLICY_ARN,
    EVENT_READER_POLICY_ARN,
    REDRIVE_POLICY_ARN,
    REPLAY_POLICY_ARN,
    BACKFILL_POLICY_ARN,
    FAILURE_BUCKET_NAME,
    ARCHIVE_BUCKET_NAME,
    AGGREGATE_TABLE_NAME,
    ALARM_TOPIC_ARN,
    DASHBOARD_CONSOLE_URL,
    FUNCTION_CONSOLE_URL,
    LOGS_CONSOLE_URL,
    TABLE_CONSOLE_URL,
    STREAM_CONSOLE_URL,
];

/// The outputs a stack has only when the configuration asks for what they name; every other
/// output of [`ALL`] is in every stack.
pub const WHEN_CONFIGURED: &[&str] = &[
    FAILURE_BUCKET_NAME,
    ARCHIVE_BUCKET_NAME,
    AGGREGATE_TABLE_NAME,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_output_name_is_listed_once_and_is_a_cloudformation_id() {
        let mut seen = std::collections::BTreeSet::new();
        for name in ALL {
            assert!(seen.insert(*name), "{name} listed twice");
            assert!(
                name.chars().all(|c| c.is_ascii_alphanumeric()) && name.len() <= 255,
                "{name} is not a valid output ID"
            );
        }
    }
}
