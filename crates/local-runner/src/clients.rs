//! The emulator's SDK clients, each reporting every attempt to the health watch
//! (`aws_edge::health`), so a service that stops answering ends the run with its name.

use aws_config::SdkConfig;
use aws_edge::health::Watch;

/// A Kinesis client on `config` whose attempts report to `watch`.
pub fn kinesis(config: &SdkConfig, watch: Watch) -> aws_sdk_kinesis::Client {
    let conf = aws_sdk_kinesis::config::Builder::from(config)
        .interceptor(watch)
        .build();
    aws_sdk_kinesis::Client::from_conf(conf)
}

/// A DynamoDB client on `config` whose attempts report to `watch`.
pub fn dynamodb(config: &SdkConfig, watch: Watch) -> aws_sdk_dynamodb::Client {
    let conf = aws_sdk_dynamodb::config::Builder::from(config)
        .interceptor(watch)
        .build();
    aws_sdk_dynamodb::Client::from_conf(conf)
}

/// An SQS client on `config` whose attempts report to `watch`.
pub fn sqs(config: &SdkConfig, watch: Watch) -> aws_sdk_sqs::Client {
    let conf = aws_sdk_sqs::config::Builder::from(config)
        .interceptor(watch)
        .build();
    aws_sdk_sqs::Client::from_conf(conf)
}

/// An S3 client on `config` whose attempts report to `watch`; path-style addressing on
/// an endpoint of its own (moto's), where bucket host names do not resolve.
pub fn s3(config: &SdkConfig, watch: Watch) -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::config::Builder::from(config)
        .force_path_style(config.endpoint_url().is_some())
        .interceptor(watch)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}
