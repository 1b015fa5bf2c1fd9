//! The Kinesis stream events arrive on.

use cfn::resources::kinesis::stream::{
    EnhancedMetric, StreamEncryption, StreamEncryptionEncryptionType, StreamModeDetails,
    StreamModeDetailsStreamMode,
};
use cfn::resources::kinesis::Stream;
use cfn::resources::kms::Key;
use cfn::{Handle, Template, Val};

use super::names::Names;
use super::{retention, tags};
use crate::config::{Config, ShardLevelMetric, StreamMode};

/// Adds the stream, encrypted with the data key.
pub fn add(
    template: &mut Template,
    config: &Config,
    names: &Names,
    key: &Handle<Key>,
) -> Handle<Stream> {
    let provisioned = config.kinesis_stream_mode == StreamMode::Provisioned;
    let metrics: Vec<Val<EnhancedMetric>> = config
        .kinesis_shard_level_metrics
        .iter()
        .map(|m| enhanced_metric(*m).into())
        .collect();
    let stream = Stream {
        name: Some(names.stream.as_str().into()),
        // ON_DEMAND streams size themselves; a shard count there is an error.
        shard_count: provisioned.then(|| i64::from(config.kinesis_shard_count).into()),
        retention_period_hours: Some(i64::from(config.kinesis_retention_period).into()),
        stream_mode_details: Some(StreamModeDetails::new(stream_mode(
            config.kinesis_stream_mode,
        ))),
        stream_encryption: Some(StreamEncryption::new(
            StreamEncryptionEncryptionType::Kms,
            key.attr_arn(),
        )),
        desired_shard_level_metrics: (!metrics.is_empty()).then(|| Val::Lit(metrics)),
        tags: tags::property(config),
        ..Stream::default()
    };
    template.add_with("EventStream", stream, retention::options(config))
}

fn stream_mode(mode: StreamMode) -> StreamModeDetailsStreamMode {
    match mode {
        StreamMode::Provisioned => StreamModeDetailsStreamMode::Provisioned,
        StreamMode::OnDemand => StreamModeDetailsStreamMode::OnDemand,
    }
}

fn enhanced_metric(metric: ShardLevelMetric) -> EnhancedMetric {
    match metric {
        ShardLevelMetric::IncomingBytes => EnhancedMetric::IncomingBytes,
        ShardLevelMetric::IncomingRecords => EnhancedMetric::IncomingRecords,
        ShardLevelMetric::OutgoingBytes => EnhancedMetric::OutgoingBytes,
        ShardLevelMetric::OutgoingRecords => EnhancedMetric::OutgoingRecords,
        ShardLevelMetric::WriteProvisionedThroughputExceeded => {
            EnhancedMetric::WriteProvisionedThroughputExceeded
        }
        ShardLevelMetric::ReadProvisionedThroughputExceeded => {
            EnhancedMetric::ReadProvisionedThroughputExceeded
        }
        ShardLevelMetric::IteratorAgeMilliseconds => EnhancedMetric::IteratorAgeMilliseconds,
        ShardLevelMetric::All => EnhancedMetric::All,
    }
}
