//! SDK configurations for the tools: the endpoint (moto's, or AWS's), the region, and
//! timeouts that turn an endpoint that does not answer into an error instead of a hang.
//!
//! Whether the endpoint is AWS decides what a refused call's message advises ([`Endpoint`]):
//! on AWS a refusal is worth checking against the caller's permissions, on moto it more
//! often means the emulator does not implement the call. [`sdk_config`] records the endpoint
//! it configures ([`in_use`]) so that every [`crate::error::CallError`] of the process can
//! say the right thing without each call site passing the configuration along.

use std::sync::RwLock;
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
    let config = loader.load().await;
    // AWS_ENDPOINT_URL counts as much as --endpoint-url: the loader has read it by now.
    note_in_use(Endpoint::of(&config));
    config
}

/// Where a configuration's calls go: AWS itself, or another endpoint given by
/// `--endpoint-url` or `AWS_ENDPOINT_URL` (an emulator such as moto or LocalStack, a proxy).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Endpoint {
    /// AWS's own endpoints: no URL given, or a URL on one of AWS's domains (a FIPS,
    /// dual-stack or VPC endpoint is still AWS).
    #[default]
    Aws,
    /// Another endpoint, by its URL.
    Other(String),
}

/// The domains of AWS's endpoints (the commercial, China, and the `api.aws` dual-stack
/// partitions, and the isolated ones).
const AWS_DOMAINS: &[&str] = &[
    "amazonaws.com",
    "amazonaws.com.cn",
    "api.aws",
    "c2s.ic.gov",
    "sc2s.sgov.gov",
];

impl Endpoint {
    /// The endpoint of an endpoint URL override, `None` for none: AWS when the URL's host is
    /// on one of AWS's domains, else [`Endpoint::Other`] (a loopback address, any other
    /// host, a URL that cannot be read).
    pub fn of_url(url: Option<&str>) -> Endpoint {
        let Some(url) = url else {
            return Endpoint::Aws;
        };
        let host = host_of(url).to_ascii_lowercase();
        let on_aws = AWS_DOMAINS.iter().any(|domain| {
            host == *domain
                || host
                    .strip_suffix(domain)
                    .is_some_and(|sub| sub.ends_with('.'))
        });
        if on_aws {
            Endpoint::Aws
        } else {
            Endpoint::Other(url.to_owned())
        }
    }

    /// The endpoint `config` talks to.
    pub fn of(config: &SdkConfig) -> Endpoint {
        Endpoint::of_url(config.endpoint_url())
    }

    /// Whether this is AWS itself.
    pub fn is_aws(&self) -> bool {
        *self == Endpoint::Aws
    }
}

/// The host of `url`: between the scheme and the path, without credentials or port.
fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if let Some(bracketed) = host_port.strip_prefix('[') {
        // An IPv6 literal: `[::1]:5000`.
        return bracketed.split(']').next().unwrap_or_default();
    }
    host_port.split(':').next().unwrap_or_default()
}

/// The endpoint the process's last [`sdk_config`] configured.
static IN_USE: RwLock<Endpoint> = RwLock::new(Endpoint::Aws);

/// The endpoint this process's tool talks to: the last one [`sdk_config`] (or
/// [`bounded_config`]) configured, AWS before any. The tools build their configuration
/// once, so this is the endpoint of every call they make.
pub fn in_use() -> Endpoint {
    IN_USE
        .read()
        .map(|e| e.clone())
        .unwrap_or_else(|poisoned| poisoned.into_inner().clone())
}

fn note_in_use(endpoint: Endpoint) {
    match IN_USE.write() {
        Ok(mut in_use) => *in_use = endpoint,
        Err(poisoned) => *poisoned.into_inner() = endpoint,
    }
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
        // The only test that configures an endpoint: the process now talks to it.
        assert_eq!(in_use(), Endpoint::Other("http://127.0.0.1:9".into()));
        assert_eq!(Endpoint::of(&config), in_use());
    }

    #[test]
    fn an_endpoint_is_aws_only_on_an_aws_domain() {
        for aws in [
            None,
            Some("https://dynamodb.us-east-1.amazonaws.com"),
            Some("https://kinesis-fips.us-gov-west-1.amazonaws.com/"),
            Some("https://lambda.cn-north-1.amazonaws.com.cn"),
            Some("https://dynamodb.us-east-1.api.aws"),
            Some("https://vpce-0a1b-x.sqs.eu-west-1.vpce.amazonaws.com:443/path"),
            Some("HTTPS://S3.AMAZONAWS.COM"),
        ] {
            assert!(Endpoint::of_url(aws).is_aws(), "{aws:?}");
        }
        for other in [
            "http://127.0.0.1:5000",
            "http://localhost:4566",
            "http://[::1]:5000",
            "http://moto.internal:5000",
            "https://amazonaws.com.evil.example",
            "https://notamazonaws.com",
            "http://user@127.0.0.1:5000/x",
        ] {
            assert_eq!(
                Endpoint::of_url(Some(other)),
                Endpoint::Other(other.into()),
                "{other}"
            );
        }
    }
}
