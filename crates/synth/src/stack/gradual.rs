//! Gradual, self-reverting code deploys (`deploy_strategy` other than `all-at-once`;
//! docs/canary.md).
//!
//! The function publishes a version for each change of its code or configuration
//! ([`ProcessorVersion`](VERSION_ID)); the alias `live` ([`ProcessorAlias`](ALIAS_ID)) points at
//! it and is what the event source mapping invokes. When a deploy publishes a new version,
//! the alias's `UpdatePolicy` (`CodeDeployLambdaAliasUpdate`) has CloudFormation hand the move
//! to CodeDeploy, which shifts the alias's weight to the new version as the deployment group's
//! predefined configuration says, watching [`ROLLBACK_ALARMS`]; when one goes off (or the
//! deployment fails) CodeDeploy moves the alias back and CloudFormation rolls the whole update
//! back. With `all-at-once` none of this exists and the mapping invokes the function itself.
//!
//! **When a version is published.** The version's `Description` carries the code's key
//! (`CodeS3Key`, `processor/<sha256>.zip`, the zip's content hash) and a fingerprint of the
//! function's configuration as synthesized ([`fingerprint`]). `Description` is create-only,
//! so CloudFormation publishes a new version exactly when one of the two changes: new code is
//! a new key, a new memory size or environment a new fingerprint; an unchanged zip uploaded
//! again, or a change elsewhere in the stack, publishes nothing. `CodeSha256` would be
//! Lambda's base64 digest, which the template cannot compute from the key's hex one. Replaced
//! versions are kept (`UpdateReplacePolicy: Retain`, as SAM keeps its versions): Lambda's
//! PublishVersion returns the latest version unchanged when neither code nor configuration
//! changed, so deleting "the old version" could delete the one the alias points at. Kept
//! versions cost no money, only code storage quota, and go with the function.
//!
//! **Order.** The group names the alarms by `Ref`, so it is created after them; the alias
//! names the application and group by their literal names, not by `Ref`: the failed-batches
//! alarm watches the mapping, which invokes the alias, so a reference from the alias to the
//! group would close a cycle. The alias needs the group only when it is updated, never when it
//! is created.

use cfn::resources::codedeploy::application::ApplicationComputePlatform;
use cfn::resources::codedeploy::deployment_group::{
    Alarm as GroupAlarm, AlarmConfiguration, AutoRollbackConfiguration,
    AutoRollbackConfigurationEvents as RollbackEvent, DeploymentStyle,
    DeploymentStyleDeploymentOption, DeploymentStyleDeploymentType,
};
use cfn::resources::codedeploy::{Application, DeploymentGroup};
use cfn::resources::iam::role::Policy as InlinePolicy;
use cfn::resources::iam::Role;
use cfn::resources::lambda::{Alias, Function, Version};
use cfn::{Expr, Handle, ParamHandle, Policy, ResourceOptions, Template, Val};
use serde_json::{json, Value};

use super::alarms::{Raised, ERRORS_ALARM_ID, FAILED_BATCHES_ALARM_ID, FAILED_EVENTS_ALARM_ID};
use super::iam::{Grants, Layout, Statement};
use super::names::Names;
use super::tags;
use crate::config::{Config, DeployStrategy};

/// The alias the event source mapping invokes.
pub const ALIAS_NAME: &str = "live";
/// The published version's logical ID.
pub const VERSION_ID: &str = "ProcessorVersion";
/// The alias's logical ID.
pub const ALIAS_ID: &str = "ProcessorAlias";
/// The CodeDeploy application's logical ID.
pub const APPLICATION_ID: &str = "ProcessorDeployApplication";
/// The deployment group's logical ID.
pub const DEPLOYMENT_GROUP_ID: &str = "ProcessorDeploymentGroup";
/// The CodeDeploy service role's logical ID.
pub const DEPLOY_ROLE_ID: &str = "ProcessorDeployRole";

/// The alarms that say a new version is bad, by logical ID: what the deployment group stops
/// and rolls back on. Function errors (invocations that failed: the batch is retried), failed
/// events (records the processor dead-lettered or could not durably handle: the dead-letter
/// queue's growth a version causes, counted as it sends) and failed batches (batches the
/// mapping gave up on after its retries: the failure archive's, or the queue's, growth).
///
/// Not the dead-letter queue alarm: it measures letters *waiting* (old ones too, which wait
/// for redrive by design), and an alarm already in ALARM stops every deployment. Not the
/// throttles, iterator-age, duration or table alarms: they follow load and capacity, which
/// a new version does not change.
pub const ROLLBACK_ALARMS: &[&str] = &[
    ERRORS_ALARM_ID,
    FAILED_EVENTS_ALARM_ID,
    FAILED_BATCHES_ALARM_ID,
];

/// Lambda actions CodeDeploy calls to shift an alias: read it, move its weights. The
/// Service Authorization Reference names the function as their resource.
pub const ALIAS_SHIFT_ACTIONS: &[&str] = &["lambda:GetAlias", "lambda:UpdateAlias"];
/// What CodeDeploy reads of a version or alias before shifting (provisioned concurrency).
pub const PROVISIONED_CONCURRENCY_READ_ACTIONS: &[&str] =
    &["lambda:GetProvisionedConcurrencyConfig"];
/// What CodeDeploy reads of the deployment group's alarms; scoped to alarm ARNs.
pub const ALARM_READ_ACTIONS: &[&str] = &["cloudwatch:DescribeAlarms"];

/// The version and the alias the mapping invokes.
pub struct Live {
    /// The version published for the current code and configuration.
    pub version: Handle<Version>,
    /// The alias `live`.
    pub alias: Handle<Alias>,
}

impl Live {
    /// What the event source mapping invokes: the alias's ARN (its `Ref`).
    pub fn invoked(&self) -> Expr {
        self.alias.to_ref()
    }
}

/// CodeDeploy's predefined Lambda deployment configuration for a gradual strategy
/// (CodeDeploy user guide, "Deployment configurations on an AWS Lambda compute platform");
/// `None` for `all-at-once`, which deploys without CodeDeploy.
pub fn deployment_config_name(strategy: DeployStrategy) -> Option<&'static str> {
    match strategy {
        DeployStrategy::AllAtOnce => None,
        DeployStrategy::Canary10Percent5Minutes => {
            Some("CodeDeployDefault.LambdaCanary10Percent5Minutes")
        }
        DeployStrategy::Canary10Percent15Minutes => {
            Some("CodeDeployDefault.LambdaCanary10Percent15Minutes")
        }
        DeployStrategy::Linear10PercentEveryMinute => {
            Some("CodeDeployDefault.LambdaLinear10PercentEvery1Minute")
        }
    }
}

/// A fingerprint of what a published version captures of the function: its properties as
/// synthesized, less those that belong to the function rather than to a version (`Tags`,
/// `ReservedConcurrentExecutions`), with object keys sorted so the text does not depend on
/// serializer settings. 64-bit FNV-1a in hex: it tells changes apart, it protects nothing.
pub fn fingerprint(function: &Function) -> String {
    let mut properties = serde_json::to_value(function).unwrap_or(Value::Null);
    if let Some(map) = properties.as_object_mut() {
        map.remove("Tags");
        map.remove("ReservedConcurrentExecutions");
    }
    let mut text = String::new();
    canonical(&properties, &mut text);
    let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    format!("{hash:016x}")
}

/// JSON text with every object's keys in sorted order.
fn canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::from(key.as_str()).to_string());
                out.push(':');
                canonical(&map[key], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// Publishes the version and adds the alias, for a gradual strategy; `None` otherwise.
/// `fingerprint` is the function's ([`fingerprint`]), `code_key` the `CodeS3Key` parameter.
pub fn publish(
    template: &mut Template,
    config: &Config,
    names: &Names,
    function: &Handle<Function>,
    fingerprint: &str,
    code_key: &ParamHandle,
) -> Option<Live> {
    let config_name = deployment_config_name(config.deploy_strategy)?;
    let description = Expr::sub_with(
        format!("Code ${{CodeKey}}, configuration {fingerprint}"),
        vec![("CodeKey", code_key.to_ref().to_json())],
    );
    let version = template.add_with(
        VERSION_ID,
        Version {
            description: Some(description.into()),
            ..Version::new(function.to_ref())
        },
        ResourceOptions {
            update_replace_policy: Some(Policy::Retain),
            ..ResourceOptions::default()
        },
    );
    let alias = Alias {
        description: Some(
            format!(
                "What the stream's event source mapping invokes; CodeDeploy shifts it to a new version ({config_name})"
            )
            .into(),
        ),
        ..Alias::new(function.to_ref(), version.attr_version(), ALIAS_NAME)
    };
    let update_policy = json!({
        "CodeDeployLambdaAliasUpdate": {
            "ApplicationName": names.code_deploy,
            "DeploymentGroupName": names.code_deploy,
        }
    });
    let alias = template.add_with(
        ALIAS_ID,
        alias,
        ResourceOptions {
            update_policy: Some(update_policy),
            ..ResourceOptions::default()
        },
    );
    Some(Live { version, alias })
}

/// The alarms the group rolls back on, with their handles; the stack has each of them.
fn rollback_alarms(raised: &Raised) -> Vec<&Handle<cfn::resources::cloudwatch::Alarm>> {
    ROLLBACK_ALARMS
        .iter()
        .filter_map(|id| raised.get(id))
        .collect()
}

/// What CodeDeploy's service role is granted: read the rollback alarms, read and shift this
/// function's `live` alias, read provisioned concurrency of this function's versions and
/// aliases. AWS's AWSCodeDeployRoleForLambdaLimited grants the same actions on `*`, plus
/// S3 reads of revisions and invoking `CodeDeployHook_*` functions, which a deployment
/// CloudFormation starts with no hooks never uses.
pub fn deploy_grants(function: &Handle<Function>, alarms: &Raised) -> Grants {
    let qualified = |qualifier: &str| {
        Expr::sub_with(
            format!("${{Function}}:{qualifier}"),
            vec![("Function", function.attr_arn().to_json())],
        )
    };
    let mut grants = Grants::new();
    grants
        .allow(Statement::allow(
            "ReadRollbackAlarms",
            ALARM_READ_ACTIONS,
            ROLLBACK_ALARMS
                .iter()
                .filter_map(|id| alarms.arn(id))
                .map(|arn| arn.to_json())
                .collect(),
        ))
        .allow(Statement::allow(
            "ShiftLiveAlias",
            ALIAS_SHIFT_ACTIONS,
            vec![
                function.attr_arn().to_json(),
                qualified(ALIAS_NAME).to_json(),
            ],
        ))
        .allow(Statement::allow(
            "ReadProvisionedConcurrency",
            PROVISIONED_CONCURRENCY_READ_ACTIONS,
            vec![qualified("*").to_json()],
        ));
    grants
}

/// The trust policy of CodeDeploy's role: the CodeDeploy service, for this account's
/// deployment group of this name only (CodeDeploy user guide, "Cross-service confused deputy
/// prevention").
fn trust(names: &Names) -> Value {
    let group = Expr::sub(format!(
        "arn:${{AWS::Partition}}:codedeploy:${{AWS::Region}}:${{AWS::AccountId}}:deploymentgroup:{}/{}",
        names.code_deploy, names.code_deploy
    ));
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "Service": "codedeploy.amazonaws.com" },
            "Action": "sts:AssumeRole",
            "Condition": {
                "StringEquals": { "aws:SourceAccount": cfn::pseudo::account_id().to_json() },
                "ArnLike": { "aws:SourceArn": group.to_json() },
            },
        }],
    })
}

/// Adds the CodeDeploy application, its service role and the deployment group, for a gradual
/// strategy: the group shifts `live` with the strategy's configuration and rolls back on a
/// failed deployment or one of [`ROLLBACK_ALARMS`].
pub fn add_deployment(
    template: &mut Template,
    config: &Config,
    names: &Names,
    function: &Handle<Function>,
    alarms: &Raised,
) {
    let Some(config_name) = deployment_config_name(config.deploy_strategy) else {
        return;
    };
    let application = template.add(
        APPLICATION_ID,
        Application {
            application_name: Some(names.code_deploy.as_str().into()),
            compute_platform: Some(ApplicationComputePlatform::Lambda.into()),
            tags: tags::property(config),
        },
    );
    let role = Role {
        description: Some(
            format!(
                "CodeDeploy's role for {}: reads the rollback alarms and shifts the {ALIAS_NAME} alias",
                names.function
            )
            .into(),
        ),
        policies: Some(Val::Lit(vec![InlinePolicy::new(
            "shift-live-alias",
            deploy_grants(function, alarms).document(Layout::Paired),
        )])),
        tags: tags::property(config),
        ..Role::new(trust(names))
    };
    let role = template.add(DEPLOY_ROLE_ID, role);
    let group_alarms: Vec<GroupAlarm> = rollback_alarms(alarms)
        .into_iter()
        .map(|alarm| GroupAlarm {
            name: Some(alarm.to_ref().into()),
        })
        .collect();
    let group = DeploymentGroup {
        deployment_group_name: Some(names.code_deploy.as_str().into()),
        deployment_config_name: Some(config_name.into()),
        deployment_style: Some(DeploymentStyle {
            deployment_type: Some(DeploymentStyleDeploymentType::BlueGreen.into()),
            deployment_option: Some(DeploymentStyleDeploymentOption::WithTrafficControl.into()),
        }),
        auto_rollback_configuration: Some(AutoRollbackConfiguration {
            enabled: Some(true.into()),
            events: Some(Val::Lit(vec![
                RollbackEvent::DeploymentFailure.into(),
                RollbackEvent::DeploymentStopOnAlarm.into(),
            ])),
        }),
        alarm_configuration: Some(AlarmConfiguration {
            alarms: Some(Val::Lit(group_alarms)),
            enabled: Some(true.into()),
            ignore_poll_alarm_failure: Some(false.into()),
        }),
        tags: tags::property(config),
        ..DeploymentGroup::new(application.to_ref(), role.attr_arn())
    };
    template.add(DEPLOYMENT_GROUP_ID, group);
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::{json, Value};

    use super::*;

    fn document(sets: &[&str]) -> Value {
        let overrides: Vec<String> = sets.iter().map(|s| (*s).to_owned()).collect();
        let config = Config::load(Some("prod"), None, &overrides).expect("config");
        crate::stack::build(&config)
            .to_document()
            .expect("synthesizes")
    }

    fn resource<'d>(doc: &'d Value, id: &str) -> &'d Value {
        let found = &doc["Resources"][id];
        assert!(found.is_object(), "{id} is missing");
        found
    }

    fn of_type<'d>(doc: &'d Value, type_name: &str) -> Vec<&'d str> {
        doc["Resources"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(_, r)| r["Type"] == type_name)
            .map(|(id, _)| id.as_str())
            .collect()
    }

    fn description(doc: &Value) -> String {
        resource(doc, VERSION_ID)["Properties"]["Description"]["Fn::Sub"][0]
            .as_str()
            .unwrap()
            .to_owned()
    }

    #[test]
    fn all_at_once_keeps_the_stack_as_it_was() {
        let doc = document(&["deploy_strategy=all-at-once"]);
        for type_name in [
            "AWS::Lambda::Version",
            "AWS::Lambda::Alias",
            "AWS::CodeDeploy::Application",
            "AWS::CodeDeploy::DeploymentGroup",
        ] {
            assert!(of_type(&doc, type_name).is_empty(), "{type_name}");
        }
        assert_eq!(of_type(&doc, "AWS::IAM::Role").len(), 1);
        assert_eq!(
            resource(&doc, "StreamMapping")["Properties"]["FunctionName"],
            json!({"Ref": "ProcessorFunction"})
        );
    }

    #[test]
    fn the_mapping_invokes_the_live_alias_of_the_published_version() {
        let doc = document(&[]);
        assert_eq!(
            resource(&doc, "StreamMapping")["Properties"]["FunctionName"],
            json!({"Ref": ALIAS_ID})
        );
        let alias = resource(&doc, ALIAS_ID);
        assert_eq!(alias["Properties"]["Name"], "live");
        assert_eq!(
            alias["Properties"]["FunctionName"],
            json!({"Ref": "ProcessorFunction"})
        );
        assert_eq!(
            alias["Properties"]["FunctionVersion"],
            json!({"Fn::GetAtt": [VERSION_ID, "Version"]})
        );
        // The update policy names the application and group the stack creates.
        let policy = &alias["UpdatePolicy"]["CodeDeployLambdaAliasUpdate"];
        assert_eq!(
            policy["ApplicationName"],
            resource(&doc, APPLICATION_ID)["Properties"]["ApplicationName"]
        );
        assert_eq!(
            policy["DeploymentGroupName"],
            resource(&doc, DEPLOYMENT_GROUP_ID)["Properties"]["DeploymentGroupName"]
        );
        assert_eq!(
            resource(&doc, APPLICATION_ID)["Properties"]["ComputePlatform"],
            "Lambda"
        );
    }

    #[test]
    fn a_version_is_published_for_new_code_or_configuration_and_kept_when_replaced() {
        let doc = document(&[]);
        let version = resource(&doc, VERSION_ID);
        assert_eq!(version["UpdateReplacePolicy"], "Retain");
        assert_eq!(
            version["Properties"]["FunctionName"],
            json!({"Ref": "ProcessorFunction"})
        );
        // The code: the key, which is the zip's hash, is part of the create-only description.
        let sub = &version["Properties"]["Description"]["Fn::Sub"];
        assert_eq!(sub[1], json!({"CodeKey": {"Ref": "CodeS3Key"}}));
        let text = description(&doc);
        assert!(
            text.starts_with("Code ${CodeKey}, configuration "),
            "{text}"
        );
        assert!(
            <cfn::resources::lambda::Version as cfn::Resource>::INFO
                .create_only
                .contains(&"Description"),
            "a new description must publish a new version"
        );
        // The configuration: what a version captures changes the fingerprint ...
        assert_eq!(text, description(&document(&[])), "deterministic");
        for changed in [
            "lambda_memory_size=512",
            "lambda_timeout=60",
            "dynamodb_ttl_days=7",
        ] {
            assert_ne!(text, description(&document(&[changed])), "{changed}");
        }
        // ... what belongs to the function alone, or to the rest of the stack, does not.
        for same in [
            "lambda_reserved_concurrency=10",
            "additional_tags.Team=data",
            "kinesis_shard_count=4",
            "cloudwatch_alarm_threshold=50",
            "deploy_strategy=linear-10-percent-every-minute",
        ] {
            assert_eq!(text, description(&document(&[same])), "{same}");
        }
    }

    #[test]
    fn the_deployment_group_rolls_back_on_exactly_the_processors_bad_version_alarms() {
        let doc = document(&[]);
        let group = &resource(&doc, DEPLOYMENT_GROUP_ID)["Properties"];
        let named: BTreeSet<&str> = group["AlarmConfiguration"]["Alarms"]
            .as_array()
            .unwrap()
            .iter()
            .map(|alarm| alarm["Name"]["Ref"].as_str().unwrap())
            .collect();
        let expected: BTreeSet<&str> = ["ErrorsAlarm", "FailedEventsAlarm", "FailedBatchesAlarm"]
            .into_iter()
            .collect();
        assert_eq!(named, expected);
        for id in &named {
            assert_eq!(resource(&doc, id)["Type"], "AWS::CloudWatch::Alarm");
        }
        assert!(
            !named.contains("DeadLetterQueueAlarm"),
            "presence, not growth"
        );
        assert_eq!(group["AlarmConfiguration"]["Enabled"], true);
        assert_eq!(group["AlarmConfiguration"]["IgnorePollAlarmFailure"], false);
        assert_eq!(
            group["AutoRollbackConfiguration"],
            json!({"Enabled": true, "Events": ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"]})
        );
        assert_eq!(
            group["DeploymentStyle"],
            json!({"DeploymentOption": "WITH_TRAFFIC_CONTROL", "DeploymentType": "BLUE_GREEN"})
        );
        assert_eq!(
            group["ServiceRoleArn"],
            json!({"Fn::GetAtt": [DEPLOY_ROLE_ID, "Arn"]})
        );
    }

    #[test]
    fn each_gradual_strategy_is_a_predefined_codedeploy_configuration() {
        let expected = [
            (
                "canary-10-percent-5-minutes",
                "CodeDeployDefault.LambdaCanary10Percent5Minutes",
            ),
            (
                "canary-10-percent-15-minutes",
                "CodeDeployDefault.LambdaCanary10Percent15Minutes",
            ),
            (
                "linear-10-percent-every-minute",
                "CodeDeployDefault.LambdaLinear10PercentEvery1Minute",
            ),
        ];
        assert_eq!(DeployStrategy::NAMES.len(), expected.len() + 1);
        for (strategy, name) in expected {
            let doc = document(&[&format!("deploy_strategy={strategy}")]);
            assert_eq!(
                resource(&doc, DEPLOYMENT_GROUP_ID)["Properties"]["DeploymentConfigName"],
                name
            );
            assert!(resource(&doc, ALIAS_ID)["Properties"]["Description"]
                .as_str()
                .unwrap()
                .contains(name));
        }
        assert_eq!(deployment_config_name(DeployStrategy::AllAtOnce), None);
    }

    #[test]
    fn codedeploys_role_is_scoped_to_this_function_its_alias_and_the_rollback_alarms() {
        let doc = document(&[]);
        let role = &resource(&doc, DEPLOY_ROLE_ID)["Properties"];
        let trust = &role["AssumeRolePolicyDocument"]["Statement"][0];
        assert_eq!(
            trust["Principal"],
            json!({"Service": "codedeploy.amazonaws.com"})
        );
        assert_eq!(
            trust["Condition"]["StringEquals"]["aws:SourceAccount"],
            json!({"Ref": "AWS::AccountId"})
        );
        let source = trust["Condition"]["ArnLike"]["aws:SourceArn"]["Fn::Sub"]
            .as_str()
            .unwrap();
        assert!(
            source.ends_with(
                ":deploymentgroup:retail-events-prod-processor/retail-events-prod-processor"
            ),
            "{source}"
        );
        assert!(
            role.get("ManagedPolicyArns").is_none(),
            "no AWS managed policy"
        );
        let statements = role["Policies"][0]["PolicyDocument"]["Statement"]
            .as_array()
            .unwrap();
        let function_arn = json!({"Fn::GetAtt": ["ProcessorFunction", "Arn"]});
        let qualified = |q: &str| json!({"Fn::Sub": [format!("${{Function}}:{q}"), {"Function": function_arn}]});
        let alarm = |name: &str| {
            json!({"Fn::Sub": format!(
                "arn:${{AWS::Partition}}:cloudwatch:${{AWS::Region}}:${{AWS::AccountId}}:alarm:retail-events-prod-{name}"
            )})
        };
        assert_eq!(
            statements,
            &vec![
                json!({"Sid": "ReadRollbackAlarms", "Effect": "Allow", "Action": "cloudwatch:DescribeAlarms",
                       "Resource": [alarm("lambda-errors"), alarm("failed-events"), alarm("failed-batches")]}),
                json!({"Sid": "ShiftLiveAlias", "Effect": "Allow", "Action": ["lambda:GetAlias", "lambda:UpdateAlias"],
                       "Resource": [function_arn, qualified("live")]}),
                json!({"Sid": "ReadProvisionedConcurrency", "Effect": "Allow",
                       "Action": "lambda:GetProvisionedConcurrencyConfig", "Resource": qualified("*")}),
            ]
        );
        // The alarm ARNs name the alarms the group watches.
        for (id, name) in [
            ("ErrorsAlarm", "lambda-errors"),
            ("FailedEventsAlarm", "failed-events"),
            ("FailedBatchesAlarm", "failed-batches"),
        ] {
            assert_eq!(
                resource(&doc, id)["Properties"]["AlarmName"],
                format!("retail-events-prod-{name}")
            );
        }
    }

    #[test]
    fn the_fingerprint_ignores_key_order_and_function_only_settings() {
        use cfn::resources::lambda::function::Code;
        let base = Function::new(Code::default(), Expr::Ref("Role".into()));
        let tagged = Function {
            tags: Some(Val::Lit(vec![cfn::Tag::new("Team", "data")])),
            reserved_concurrent_executions: Some(5.into()),
            ..base.clone()
        };
        assert_eq!(fingerprint(&base), fingerprint(&tagged));
        let bigger = Function {
            memory_size: Some(512.into()),
            ..base.clone()
        };
        assert_ne!(fingerprint(&base), fingerprint(&bigger));
        assert_eq!(fingerprint(&base).len(), 16);
        let mut text = String::new();
        canonical(&json!({"b": [1, {"d": 2, "c": 3}], "a": "x"}), &mut text);
        assert_eq!(text, r#"{"a":"x","b":[1,{"c":3,"d":2}]}"#);
    }
}
