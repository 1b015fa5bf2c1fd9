//! The Kinesis stream events arrive on, and the grants to read it, put on it and read
//! records of it back (known ones, or a time range's).

use cfn::resources::kinesis::stream::{
    EnhancedMetric, StreamEncryption, StreamEncryptionEncryptionType, StreamModeDetails,
    StreamModeDetailsStreamMode,
};
use cfn::resources::kinesis::Stream;
use cfn::resources::kms::Key;
use cfn::{Handle, Template, Val};

use super::iam::{self, Grants, Statement};
use super::names::Names;
use super::{retention, tags};
use crate::config::{Config, ShardLevelMetric, StreamMode};

/// The event stream and the key its records are encrypted with.
pub struct EventStream {
    /// The stream.
    pub resource: Handle<Stream>,
    /// The key Kinesis encrypts records with: its grants carry this key's statement.
    pub key: Handle<Key>,
}

impl EventStream {
    /// Reads the stream as Lambda's event source mapping does (no enhanced fan-out), with
    /// the records decrypted through Kinesis.
    pub fn grant_read(&self, grants: &mut Grants) {
        grants.add(
            self.allow("ReadEventStream", iam::STREAM_READ_ACTIONS),
            Some(self.key_use("DecryptEventStream", iam::KEY_STREAM_READ)),
        );
    }

    /// Puts records on the stream, as a producer does, with Kinesis generating the data
    /// keys that encrypt them.
    pub fn grant_put(&self, grants: &mut Grants) {
        grants.add(
            self.allow("PutEvents", iam::STREAM_PUT_ACTIONS),
            Some(self.key_use("EncryptEventStream", iam::KEY_STREAM_WRITE)),
        );
    }

    /// Reads given records back by shard and sequence number (redrive of the event source
    /// mapping's on-failure records), decrypted through Kinesis.
    pub fn grant_replay(&self, grants: &mut Grants) {
        grants.add(
            self.allow("ReplayEventStream", iam::STREAM_REPLAY_ACTIONS),
            Some(self.key_use("DecryptEventStream", iam::KEY_STREAM_READ)),
        );
    }

    /// Reads the records of a time range, shard by shard from a timestamp (replay with
    /// `--source stream`), decrypted through Kinesis.
    pub fn grant_range_read(&self, grants: &mut Grants) {
        grants.add(
            self.allow("ReadEventStreamRange", iam::STREAM_RANGE_READ_ACTIONS),
            Some(self.key_use("DecryptEventStream", iam::KEY_STREAM_READ)),
        );
    }

    fn allow(&self, sid: &str, actions: &[&'static str]) -> Statement {
        Statement::allow(sid, actions, vec![self.resource.attr_arn().to_json()])
    }

    fn key_use(&self, sid: &str, actions: &[&'static str]) -> Statement {
        iam::key_via(sid, &self.key, actions, "kinesis")
    }
}

/// Adds the stream, encrypted with the data key.
pub fn add(
    template: &mut Template,
    config: &Config,
    names: &Names,
    key: &Handle<Key>,
) -> EventStream {
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
    EventStream {
        resource: template.add_with("EventStream", stream, retention::with_the_stack()),
        key: key.clone(),
    }
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
