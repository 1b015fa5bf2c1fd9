//! The optional alert topic: it exists when the `AlertEmail` parameter is not empty, so one
//! template serves stacks with and without e-mail alerts.

use cfn::resources::sns::{Subscription, Topic, TopicPolicy};
use cfn::{Expr, ResourceOptions, Template};
use serde_json::json;

use super::encryption;
use super::iam::{self, Statement};
use super::names::Names;
use super::parameters::Parameters;
use super::tags;
use crate::config::Config;

/// The alarm actions: the topic's ARN when it exists, no actions otherwise.
#[derive(Debug, Clone)]
pub struct AlarmActions {
    /// `Fn::If [HasAlertEmail, [topic], AWS::NoValue]`.
    pub actions: Expr,
    /// The topic's ARN (valid only under the condition).
    pub topic_arn: Expr,
}

/// Adds the key, topic, topic policy and e-mail subscription, all under the condition.
pub fn add(
    template: &mut Template,
    config: &Config,
    names: &Names,
    params: &Parameters,
) -> AlarmActions {
    let condition = params.has_alert_email.name().to_owned();
    let conditional = || ResourceOptions {
        condition: Some(condition.clone()),
        ..Default::default()
    };
    let key = encryption::alerts_key(template, config, names, &condition);
    let topic = Topic {
        topic_name: Some(names.topic.as_str().into()),
        display_name: Some(format!("{} alerts", names.prefix).into()),
        kms_master_key_id: Some(key.attr_arn().into()),
        tags: tags::property(config),
        ..Topic::default()
    };
    let topic = template.add_with("AlertTopic", topic, conditional());
    let publish = Statement::allow(
        "CloudWatchAlarmsPublish",
        &["sns:Publish"],
        vec![topic.to_ref().to_json()],
    )
    .for_principal(json!({ "Service": "cloudwatch.amazonaws.com" }))
    .when(json!({
        "StringEquals": { "aws:SourceAccount": Expr::Ref("AWS::AccountId".into()).to_json() },
    }));
    let policy = iam::document(&[
        publish,
        iam::deny_insecure_transport(&["sns:Publish"], vec![topic.to_ref()]),
    ]);
    template.add_with(
        "AlertTopicPolicy",
        TopicPolicy::new(policy, vec![topic.to_ref()]),
        conditional(),
    );
    let subscription = Subscription {
        endpoint: Some(params.alert_email.to_ref().into()),
        ..Subscription::new(topic.to_ref(), "email")
    };
    template.add_with("AlertEmailSubscription", subscription, conditional());
    AlarmActions {
        actions: params
            .has_alert_email
            .if_(vec![topic.to_ref()], cfn::pseudo::no_value()),
        topic_arn: topic.to_ref(),
    }
}
