//! The stack's outputs, by the exact names of docs/design.md (`contract::outputs`: scripts
//! and the tools read them), plus console links for people.

use cfn::{Expr, Output, Template};

use super::names::Names;

/// The handles' expressions the outputs need.
pub struct Exported {
    /// `Ref` and `Arn` of each resource, in output order.
    pub values: Vec<(&'static str, &'static str, Expr)>,
    /// The alert topic's ARN, and the condition it exists under.
    pub alarm_topic: (Expr, String),
}

/// Adds the outputs.
pub fn add(template: &mut Template, names: &Names, exported: Exported) {
    for (id, description, value) in exported.values {
        template.output(id, Output::new(value).description(description));
    }
    let (topic_arn, condition) = exported.alarm_topic;
    template.output(
        contract::outputs::ALARM_TOPIC_ARN,
        Output::new(topic_arn)
            .description("SNS topic that alarm notifications go to")
            .condition(&condition),
    );
    for (id, description, path) in console_links(names) {
        let url = Expr::sub(format!(
            "https://${{AWS::Region}}.console.aws.amazon.com/{path}"
        ));
        template.output(id, Output::new(url).description(description));
    }
}

fn console_links(names: &Names) -> Vec<(&'static str, &'static str, String)> {
    vec![
        (
            contract::outputs::DASHBOARD_CONSOLE_URL,
            "The pipeline's CloudWatch dashboard",
            format!(
                "cloudwatch/home?region=${{AWS::Region}}#dashboards:name={}",
                names.dashboard
            ),
        ),
        (
            contract::outputs::FUNCTION_CONSOLE_URL,
            "The processor in the Lambda console",
            format!(
                "lambda/home?region=${{AWS::Region}}#/functions/{}",
                names.function
            ),
        ),
        (
            contract::outputs::LOGS_CONSOLE_URL,
            "The processor's log group in the CloudWatch console",
            format!(
                "cloudwatch/home?region=${{AWS::Region}}#logsV2:log-groups/log-group/{}",
                names.log_group.replace('/', "$252F")
            ),
        ),
        (
            contract::outputs::TABLE_CONSOLE_URL,
            "The events table in the DynamoDB console",
            format!(
                "dynamodbv2/home?region=${{AWS::Region}}#table?name={}",
                names.table
            ),
        ),
        (
            contract::outputs::STREAM_CONSOLE_URL,
            "The stream in the Kinesis console",
            format!(
                "kinesis/home?region=${{AWS::Region}}#/streams/details/{}/monitoring",
                names.stream
            ),
        ),
    ]
}
