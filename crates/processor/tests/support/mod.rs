//! Test support: moto's server on a free loopback port, a fault-injecting proxy in front of
//! it, SDK clients pointed at either, and Kinesis events in Lambda's JSON shape.

#![allow(dead_code)]

pub mod moto;
pub mod proxy;

use aws_config::BehaviorVersion;

/// An SDK configuration for a local endpoint with dummy credentials.
pub async fn sdk_config(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "test", "test", None, None, "tests",
        ))
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(1))
        .load()
        .await
}
