//! Gradual traffic shifts in a change set: which aliases executing it moves to a new version
//! through CodeDeploy, and what rolls that back (the rules are `crate::diff::traffic`'s).
//!
//! A change set shows an alias modified and the version it names replaced (`Replacement`
//! `True`, or `Conditional`) or added; this is also how new code through a parameter looks
//! (the version's description names `CodeS3Key`), which a template diff cannot see. Whether
//! the alias is CodeDeploy's, and with which alarms, only the template says: given it (the
//! template the change set was made from), the report names the deployment configuration and
//! the rollback alarms; without it, it says what to check.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{ChangeSet, ResourceChange};
use crate::diff::traffic::{managed_aliases, Shift, TrafficShift};
use crate::diff::Replacement;

const ALIAS_TYPE: &str = "AWS::Lambda::Alias";
const VERSION_TYPE: &str = "AWS::Lambda::Version";

/// The sentences for a reviewer: one per alias that moves to a new version, or that starts
/// being shifted by CodeDeploy. `template` is the change set's template, when known.
pub fn sentences(change_set: &ChangeSet, template: Option<&Value>) -> Vec<String> {
    let changes: Vec<&ResourceChange> = change_set
        .changes
        .iter()
        .filter_map(|c| c.resource_change.as_ref())
        .collect();
    let new_versions: BTreeMap<&str, Replacement> = changes
        .iter()
        .filter(|c| c.resource_type.as_deref() == Some(VERSION_TYPE))
        .filter_map(|c| {
            let level = match (c.action.as_deref(), c.replacement.as_deref()) {
                (Some("Add"), _) | (_, Some("True")) => Replacement::Will,
                (_, Some("Conditional")) => Replacement::May,
                _ => return None,
            };
            Some((c.logical_resource_id.as_deref()?, level))
        })
        .collect();
    let alias_action = |id: &str| {
        changes
            .iter()
            .find(|c| {
                c.resource_type.as_deref() == Some(ALIAS_TYPE)
                    && c.logical_resource_id.as_deref() == Some(id)
            })
            .and_then(|c| c.action.as_deref())
    };
    let Some(template) = template else {
        return without_template(&changes, &new_versions);
    };
    managed_aliases(template)
        .into_iter()
        .filter_map(|alias| {
            let shift = match alias_action(&alias.alias)? {
                "Add" => Shift::Starts,
                "Modify" => Shift::Gradual(*new_versions.get(alias.version.as_deref()?)?),
                _ => return None,
            };
            Some(TrafficShift { alias, shift }.sentence())
        })
        .collect()
}

/// Aliases modified while a version is new, when the template is not at hand.
fn without_template(
    changes: &[&ResourceChange],
    new_versions: &BTreeMap<&str, Replacement>,
) -> Vec<String> {
    if new_versions.is_empty() {
        return Vec::new();
    }
    let versions: Vec<String> = new_versions.keys().map(|v| format!("`{v}`")).collect();
    changes
        .iter()
        .filter(|c| {
            c.resource_type.as_deref() == Some(ALIAS_TYPE) && c.action.as_deref() == Some("Modify")
        })
        .filter_map(|c| c.logical_resource_id.as_deref())
        .map(|alias| {
            format!(
                "`{alias}` moves to a new version ({} new): if its UpdatePolicy has \
                 CodeDeployLambdaAliasUpdate, CodeDeploy shifts it gradually and moves it back \
                 when its deployment group's alarms go off; give the template \
                 (`--template`) to have them named.",
                versions.join(", ")
            )
        })
        .collect()
}

/// The report's markdown note (empty when nothing shifts).
pub fn markdown(change_set: &ChangeSet, template: Option<&Value>) -> String {
    let found = sentences(change_set, template);
    if found.is_empty() {
        return String::new();
    }
    let mut out = String::from("\n> [!NOTE]\n> **Traffic shifts (CodeDeploy):**\n>\n");
    for sentence in found {
        out.push_str(&format!("> - {}\n", sentence.replace('|', "\\|")));
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::parse;
    use super::*;

    /// What describe-change-set shows for new code: the function and the version change
    /// because of CodeS3Key, the alias because of the version.
    fn new_code() -> ChangeSet {
        parse(
            "x",
            r#"{"Changes": [
                {"ResourceChange": {"Action": "Modify", "LogicalResourceId": "ProcessorFunction", "ResourceType": "AWS::Lambda::Function", "Replacement": "False"}},
                {"ResourceChange": {"Action": "Modify", "LogicalResourceId": "ProcessorVersion", "ResourceType": "AWS::Lambda::Version", "Replacement": "True",
                  "Details": [{"Target": {"Attribute": "Properties", "Name": "Description", "RequiresRecreation": "Always"}, "ChangeSource": "ParameterReference", "CausingEntity": "CodeS3Key"}]}},
                {"ResourceChange": {"Action": "Modify", "LogicalResourceId": "ProcessorAlias", "ResourceType": "AWS::Lambda::Alias", "Replacement": "False",
                  "Details": [{"Target": {"Attribute": "Properties", "Name": "FunctionVersion", "RequiresRecreation": "Never"}, "Evaluation": "Dynamic", "ChangeSource": "ResourceAttribute", "CausingEntity": "ProcessorVersion.Version"}]}}
            ]}"#,
        )
        .unwrap()
    }

    fn template() -> Value {
        json!({"Resources": {
            "ProcessorVersion": {"Type": "AWS::Lambda::Version", "Properties": {"FunctionName": {"Ref": "F"}}},
            "ProcessorAlias": {"Type": "AWS::Lambda::Alias",
                "UpdatePolicy": {"CodeDeployLambdaAliasUpdate": {"ApplicationName": "app", "DeploymentGroupName": "g"}},
                "Properties": {"Name": "live", "FunctionName": {"Ref": "F"},
                    "FunctionVersion": {"Fn::GetAtt": ["ProcessorVersion", "Version"]}}},
            "ErrorsAlarm": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"AlarmName": "s-lambda-errors"}},
            "Group": {"Type": "AWS::CodeDeploy::DeploymentGroup", "Properties": {
                "DeploymentGroupName": "g", "DeploymentConfigName": "CodeDeployDefault.LambdaLinear10PercentEvery1Minute",
                "AutoRollbackConfiguration": {"Enabled": true, "Events": ["DEPLOYMENT_STOP_ON_ALARM"]},
                "AlarmConfiguration": {"Alarms": [{"Name": {"Ref": "ErrorsAlarm"}}]}}}
        }})
    }

    #[test]
    fn new_code_shifts_gradually_and_the_template_names_the_rollback_alarms() {
        let found = sentences(&new_code(), Some(&template()));
        assert_eq!(
            found,
            [
                "`ProcessorAlias` (live) moves to a new `ProcessorVersion` gradually: CodeDeploy \
              shifts it (CodeDeployDefault.LambdaLinear10PercentEvery1Minute, deployment group \
              `Group`), and moves it back (CloudFormation rolls the update back with it) when an \
              alarm goes off: ErrorsAlarm (s-lambda-errors)."
            ]
        );
        let note = markdown(&new_code(), Some(&template()));
        assert!(
            note.starts_with("\n> [!NOTE]\n> **Traffic shifts (CodeDeploy):**"),
            "{note}"
        );
    }

    #[test]
    fn without_the_template_the_report_says_what_to_check() {
        let found = sentences(&new_code(), None);
        assert_eq!(found.len(), 1);
        assert!(found[0]
            .starts_with("`ProcessorAlias` moves to a new version (`ProcessorVersion` new)"));
        assert!(found[0].contains("--template"));
    }

    #[test]
    fn an_alias_that_is_not_codedeploys_or_a_version_that_stays_shifts_nothing() {
        let mut unmanaged = template();
        unmanaged["Resources"]["ProcessorAlias"]
            .as_object_mut()
            .unwrap()
            .remove("UpdatePolicy");
        assert!(sentences(&new_code(), Some(&unmanaged)).is_empty());
        let mut same = new_code();
        same.changes.retain(|c| {
            c.resource_change
                .as_ref()
                .and_then(|r| r.resource_type.as_deref())
                != Some(VERSION_TYPE)
        });
        assert!(sentences(&same, Some(&template())).is_empty());
        assert!(sentences(&same, None).is_empty());
        assert_eq!(markdown(&same, None), "");
    }

    #[test]
    fn an_alias_the_change_set_adds_starts_being_shifted() {
        let cs = parse(
            "x",
            r#"{"Changes": [
                {"ResourceChange": {"Action": "Add", "LogicalResourceId": "ProcessorVersion", "ResourceType": "AWS::Lambda::Version"}},
                {"ResourceChange": {"Action": "Add", "LogicalResourceId": "ProcessorAlias", "ResourceType": "AWS::Lambda::Alias"}}
            ]}"#,
        )
        .unwrap();
        let found = sentences(&cs, Some(&template()));
        assert_eq!(found.len(), 1);
        assert!(
            found[0].contains("starts shifting new versions gradually"),
            "{}",
            found[0]
        );
    }
}
