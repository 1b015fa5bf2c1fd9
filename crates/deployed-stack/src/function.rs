//! The processor function's configuration as Lambda reports it: what the tools need to
//! call the processor as the deployed function would run (its role, timeout and the
//! environment it reads its settings from).

use std::collections::HashMap;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_edge::error::CallError;

/// The function's configuration, as far as the tools use it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Function {
    /// Its name.
    pub name: String,
    /// Its ARN.
    pub arn: String,
    /// Its execution role's ARN (the events' `invokeIdentityArn`).
    pub role: String,
    /// Its timeout.
    pub timeout: Duration,
    /// Its environment variables (the processor's settings, `contract::env`).
    pub environment: HashMap<String, String>,
}

impl Function {
    /// Reads function `name` with GetFunctionConfiguration.
    pub async fn read(config: &SdkConfig, name: &str) -> Result<Function, CallError> {
        let lambda = aws_sdk_lambda::Client::new(config);
        let got = lambda
            .get_function_configuration()
            .function_name(name)
            .send()
            .await
            .map_err(|e| {
                CallError::new(format!("Lambda GetFunctionConfiguration({name})"), &e).when_denied(
                    "the caller needs lambda:GetFunctionConfiguration on the processor \
                         (the stack's RedrivePolicyArn grants it; docs/access.md)",
                )
            })?;
        Ok(Function {
            name: name.to_owned(),
            arn: got.function_arn().unwrap_or_default().to_owned(),
            role: got.role().unwrap_or_default().to_owned(),
            timeout: Duration::from_secs(
                got.timeout()
                    .and_then(|t| u64::try_from(t).ok())
                    .unwrap_or(3)
                    .max(1),
            ),
            environment: got
                .environment()
                .and_then(|e| e.variables())
                .cloned()
                .unwrap_or_default(),
        })
    }

    /// Environment variable `name` (one of `contract::env`), when set.
    pub fn env(&self, name: &str) -> Option<&str> {
        self.environment.get(name).map(String::as_str)
    }

    /// The region and account of its ARN (`arn:PARTITION:lambda:REGION:ACCOUNT:...`), with
    /// the partition: what an ARN of another resource of the stack is built from.
    pub fn arn_parts(&self) -> Option<(&str, &str, &str)> {
        let mut parts = self.arn.split(':');
        let (_, partition, _, region, account) = (
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
        );
        Some((partition, region, account))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_arn_gives_partition_region_and_account() {
        let function = Function {
            arn: "arn:aws:lambda:eu-west-1:123456789012:function:f".into(),
            ..Function::default()
        };
        assert_eq!(
            function.arn_parts(),
            Some(("aws", "eu-west-1", "123456789012"))
        );
        assert_eq!(Function::default().arn_parts(), None);
    }
}
