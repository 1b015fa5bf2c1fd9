//! The enhanced fan-out consumer the event source mapping reads through when
//! `kinesis_consumer = "enhanced-fan-out"`: a registered consumer of the stream with its own
//! 2 MB/s per shard, pushed over HTTP/2, and the grant to subscribe through it.

use cfn::resources::kinesis::StreamConsumer;
use cfn::{Expr, Handle, Template};

use super::iam::{self, Grants, Statement};
use super::names::Names;
use super::stream::EventStream;
use crate::config::{Config, ConsumerMode};

/// The processor's consumer of the stream.
pub struct FanOutConsumer {
    /// The registered consumer.
    pub resource: Handle<StreamConsumer>,
}

impl FanOutConsumer {
    /// The consumer's ARN, which the event source mapping reads from.
    pub fn arn(&self) -> Expr {
        self.resource.attr_consumer_arn()
    }

    /// Subscribes to the stream's shards through this consumer, as Lambda's event source
    /// mapping does; on this consumer only. Reading the stream itself (listing shards,
    /// decrypting) is [`EventStream::grant_read`]'s, which the mapping needs in both modes.
    pub fn grant_subscribe(&self, grants: &mut Grants) {
        grants.allow(Statement::allow(
            "SubscribeThroughConsumer",
            iam::CONSUMER_SUBSCRIBE_ACTIONS,
            vec![self.arn().to_json()],
        ));
    }
}

/// Adds the consumer when the configuration asks for enhanced fan-out.
///
/// It carries no tags: a consumer's tags are create-only, so a change of `additional_tags`
/// would replace it, and with it the event source mapping, for no gain (make deploy would
/// start the new mapping where the old one was reading, docs/mapping-replacement.md, and
/// process the margin again).
pub fn add(
    template: &mut Template,
    config: &Config,
    names: &Names,
    stream: &EventStream,
) -> Option<FanOutConsumer> {
    (config.kinesis_consumer == ConsumerMode::EnhancedFanOut).then(|| {
        let consumer = StreamConsumer::new(names.consumer.as_str(), stream.resource.attr_arn());
        FanOutConsumer {
            resource: template.add("ProcessorConsumer", consumer),
        }
    })
}
