//! The deploy-time parameters (docs/design.md, "Deploy-time parameters": CodeS3Bucket, CodeS3Key, AlertEmail) and the
//! console's grouping of them. Everything else is decided at synth time from the config.

use cfn::{ConditionHandle, Expr, ParamHandle, Parameter, Template};
use serde_json::json;

use crate::config::Config;

/// The parameters and the condition derived from them.
#[derive(Debug, Clone)]
pub struct Parameters {
    /// S3 bucket holding the processor's zip.
    pub code_bucket: ParamHandle,
    /// Key of the zip in that bucket: a content hash, so new code changes the template.
    pub code_key: ParamHandle,
    /// Where alarm notifications go; empty for none.
    pub alert_email: ParamHandle,
    /// True when `AlertEmail` is not empty: the topic, its key and subscription exist.
    pub has_alert_email: ConditionHandle,
}

/// Declares the parameters, the alerting condition and the console's parameter groups.
pub fn declare(template: &mut Template, config: &Config) -> Parameters {
    let code_bucket = template.parameter(
        "CodeS3Bucket",
        Parameter::string()
            .description(
                "S3 bucket that holds the processor's deployment package (make package uploads it)",
            )
            .allowed_pattern("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
            .constraint_description(
                "must be an S3 bucket name: 3-63 lowercase letters, digits, dots and hyphens",
            ),
    );
    let code_key = template.parameter(
        "CodeS3Key",
        Parameter::string()
            .description("Key of the processor's zip in CodeS3Bucket, named by its SHA-256 (processor/<sha256>.zip)")
            .length(1, 1024),
    );
    let alert_email = template.parameter(
        "AlertEmail",
        Parameter::string()
            .description(
                "E-mail address that receives alarm notifications; leave empty for no alert topic",
            )
            .default(config.sns_email_endpoint.clone())
            .allowed_pattern(r"^$|^[^@\s]+@[^@\s]+\.[^@\s]+$")
            .constraint_description("must be empty or an e-mail address"),
    );
    let has_alert_email = template.condition(
        "HasAlertEmail",
        Expr::not(Expr::equals(alert_email.to_ref(), "")),
    );
    template.set_metadata(
        "AWS::CloudFormation::Interface",
        json!({
            "ParameterGroups": [
                { "Label": { "default": "Processor code" }, "Parameters": ["CodeS3Bucket", "CodeS3Key"] },
                { "Label": { "default": "Alerts" }, "Parameters": ["AlertEmail"] },
            ],
            "ParameterLabels": {
                "CodeS3Bucket": { "default": "Code bucket" },
                "CodeS3Key": { "default": "Code object key" },
                "AlertEmail": { "default": "Alert e-mail address" },
            },
        }),
    );
    Parameters {
        code_bucket,
        code_key,
        alert_email,
        has_alert_email,
    }
}
