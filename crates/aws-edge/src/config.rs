//! SDK configurations for the tools: the endpoint (moto's, or AWS's), the region, and
//! timeouts that turn an endpoint that does not answer into an error instead of a hang.

use std::time::Duration;

use aws_config::SdkConfig;

/// Connections time out after this long in [`sdk_config`].
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// An SDK configuration for `endpoint` (or AWS's) in `region` (or the SDK's chain, else
/// us-east-1). Connections time out after [`CONNECT_TIMEOUT`] and attempts after 60 s;
/// `attempts` is the SDK's own attempts per call.
pub async fn sdk_config(endpoint: Option<&str>, region: Option<&str>, attempts: u32) -> SdkConfig {
    let region = aws_config::meta::region::RegionProviderChain::first_try(
        region.map(|r| aws_config::Region::new(r.to_owned())),
    )
    .or_default_provider()
    .or_else("us-east-1");
    let timeouts = aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(Duration::from_secs(60))
        .build();
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(region)
        .timeout_config(timeouts)
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(attempts));
    if let Some(url) = endpoint {
        loader = loader.endpoint_url(url);
    }
    loader.load().await
}

/// Bounds for a tool that must notice quickly when an endpoint goes away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    /// A connection attempt gives up after this long.
    pub connect: Duration,
    /// One attempt of a call gives up after this long.
    pub attempt: Duration,
    /// A whole call, retries included, gives up after this long.
    pub call: Duration,
}

/// The emulator's bounds: a frozen endpoint is found out in seconds, whatever the
/// function's timeout.
pub const RUNNER_BOUNDS: Bounds = Bounds {
    connect: Duration::from_secs(2),
    attempt: Duration::from_secs(10),
    call: Duration::from_secs(25),
};

/// [`sdk_config`] with `bounds` on connections, attempts and whole calls.
pub async fn bounded_config(
    endpoint: Option<&str>,
    region: Option<&str>,
    attempts: u32,
    bounds: Bounds,
) -> SdkConfig {
    let timeouts = aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(bounds.connect)
        .operation_attempt_timeout(bounds.attempt)
        .operation_timeout(bounds.call)
        .build();
    sdk_config(endpoint, region, attempts)
        .await
        .into_builder()
        .timeout_config(timeouts)
        .build()
}

/// The endpoint a configuration talks to, for messages: the given URL, else "AWS".
pub fn endpoint_of(config: &SdkConfig) -> String {
    config
        .endpoint_url()
        .map_or_else(|| "AWS".to_owned(), str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_endpoint_and_region_given_are_used() {
        let config = sdk_config(Some("http://127.0.0.1:9"), Some("eu-west-1"), 2).await;
        assert_eq!(endpoint_of(&config), "http://127.0.0.1:9");
        assert_eq!(
            config.region().map(|r| r.to_string()).as_deref(),
            Some("eu-west-1")
        );
        let bounded = bounded_config(Some("http://127.0.0.1:9"), None, 1, RUNNER_BOUNDS).await;
        let timeouts = bounded.timeout_config().unwrap();
        assert_eq!(timeouts.operation_timeout(), Some(RUNNER_BOUNDS.call));
        assert_eq!(timeouts.connect_timeout(), Some(RUNNER_BOUNDS.connect));
    }
}
