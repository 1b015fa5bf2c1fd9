//! Test support shared by the processor's and the pipeline's tests: moto's server on a free
//! loopback port ([`moto::Moto`]), a fault-injecting proxy in front of it
//! ([`proxy::Proxy`]), a stand-in for Lambda's Invoke API ([`lambda::InvokeStandIn`]), and
//! SDK configurations pointed at them ([`sdk_config`]).
//!
//! Only loopback addresses are ever used. moto comes from the project's `.venv`
//! (`make venv`).

pub mod lambda;
pub mod moto;
pub mod proxy;

use aws_config::BehaviorVersion;

/// An SDK configuration for a local endpoint with dummy credentials.
pub async fn sdk_config(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_credential_types::Credentials::new(
            "test", "test", None, None, "tests",
        ))
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(1))
        .load()
        .await
}
