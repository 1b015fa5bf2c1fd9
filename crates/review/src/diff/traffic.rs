//! Gradual traffic shifts: which deploys move a CodeDeploy-managed Lambda alias to a new
//! version step by step, and what rolls such a deploy back.
//!
//! An `AWS::Lambda::Alias` whose `UpdatePolicy` has `CodeDeployLambdaAliasUpdate` is not
//! switched by CloudFormation when its `FunctionVersion` changes: CloudFormation starts a
//! CodeDeploy deployment of the named application and deployment group, which shifts the
//! alias's weights as the group's `DeploymentConfigName` says (canary, linear, all at once)
//! and stops, moving the alias back, when the deployment fails or one of the group's
//! `AlarmConfiguration` alarms goes off; CloudFormation then rolls the whole update back. A
//! new version is what triggers it: the alias's `FunctionVersion` names an
//! `AWS::Lambda::Version` (`Fn::GetAtt X.Version` or `Ref X`), which is published anew when
//! it is replaced (its properties are all create-only).
//!
//! So a diff shifts traffic gradually when the alias exists on both sides, is managed in the
//! new template, and its version is replaced (or may be: a description that names a
//! parameter, such as the code's key, is only known at deploy time) or added. An alias that
//! is created moves nothing gradually (CloudFormation creates it pointing at its version); an
//! alias that loses its policy, or goes, leaves later deploys to move traffic at once.
//! Templates whose version text never changes still shift gradually whenever the deploy
//! publishes new code through a parameter; only a change set (`crate::changeset::traffic`)
//! sees that.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::{ChangeKind, Replacement, ResourceChange};

const ALIAS_TYPE: &str = "AWS::Lambda::Alias";
const VERSION_TYPE: &str = "AWS::Lambda::Version";
const GROUP_TYPE: &str = "AWS::CodeDeploy::DeploymentGroup";
const ALARM_TYPE: &str = "AWS::CloudWatch::Alarm";

/// An alias CodeDeploy shifts to new versions, as one template declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedAlias {
    /// The alias's logical ID.
    pub alias: String,
    /// The alias's `Name`, when it is a literal (`live`).
    pub name: Option<String>,
    /// The `AWS::Lambda::Version` its `FunctionVersion` names, when it names one.
    pub version: Option<String>,
    /// The deployment group's logical ID, found by `Ref` or by its literal name.
    pub group: Option<String>,
    /// The group's `DeploymentConfigName` (`CodeDeployDefault.LambdaCanary10Percent5Minutes`).
    pub config: Option<String>,
    /// The group's alarms: `ErrorsAlarm (retail-events-prod-lambda-errors)` for a `Ref` to an
    /// alarm of the template with a literal name, else the name or reference as written.
    pub alarms: Vec<String>,
    /// The group's automatic rollback events (`DEPLOYMENT_FAILURE`, ...), when enabled.
    pub rollback_on: Vec<String>,
}

impl ManagedAlias {
    /// `` `ProcessorAlias` (live) ``.
    fn label(&self) -> String {
        match &self.name {
            Some(name) => format!("`{}` ({name})", self.alias),
            None => format!("`{}`", self.alias),
        }
    }

    /// How CodeDeploy shifts and what rolls it back, one clause:
    /// `CodeDeploy shifts it (CodeDeployDefault..., deployment group `G`) and rolls it back
    /// ... when ...: A, B`.
    pub fn how(&self) -> String {
        let mut how = String::from("CodeDeploy shifts it");
        let mut detail = Vec::new();
        if let Some(config) = &self.config {
            detail.push(config.clone());
        }
        if let Some(group) = &self.group {
            detail.push(format!("deployment group `{group}`"));
        }
        if !detail.is_empty() {
            how.push_str(&format!(" ({})", detail.join(", ")));
        }
        if self.rollback_on.is_empty() {
            how.push_str("; the group rolls nothing back automatically");
            return how;
        }
        let mut when = Vec::new();
        if self.rollback_on.iter().any(|e| e == "DEPLOYMENT_FAILURE") {
            when.push("the deployment fails".to_owned());
        }
        if self
            .rollback_on
            .iter()
            .any(|e| e == "DEPLOYMENT_STOP_ON_REQUEST")
        {
            when.push("someone stops it".to_owned());
        }
        if self
            .rollback_on
            .iter()
            .any(|e| e == "DEPLOYMENT_STOP_ON_ALARM")
        {
            if self.alarms.is_empty() {
                when.push("an alarm goes off (the group names none)".to_owned());
            } else {
                when.push(format!("an alarm goes off: {}", self.alarms.join(", ")));
            }
        }
        how.push_str(&format!(
            ", and moves it back (CloudFormation rolls the update back with it) when {}",
            when.join(", or ")
        ));
        how
    }
}

/// Every managed alias of a template, in its order.
pub fn managed_aliases(template: &Value) -> Vec<ManagedAlias> {
    let empty = Map::new();
    let resources = template
        .get("Resources")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    resources
        .iter()
        .filter(|(_, r)| type_of(r) == ALIAS_TYPE)
        .filter_map(|(id, alias)| {
            let policy = alias.pointer("/UpdatePolicy/CodeDeployLambdaAliasUpdate")?;
            let group = find_group(resources, policy.get("DeploymentGroupName"));
            let group_properties = group
                .and_then(|id| resources.get(id))
                .and_then(|g| g.get("Properties"));
            let text = |value: Option<&Value>| value.and_then(Value::as_str).map(str::to_owned);
            let rollback = group_properties.and_then(|p| p.get("AutoRollbackConfiguration"));
            let rollback_on = match rollback {
                Some(r) if r.get("Enabled") != Some(&Value::Bool(false)) => r
                    .get("Events")
                    .and_then(Value::as_array)
                    .map(|events| {
                        events
                            .iter()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default(),
                _ => Vec::new(),
            };
            let alarms = group_properties
                .and_then(|p| p.get("AlarmConfiguration"))
                .filter(|c| c.get("Enabled") != Some(&Value::Bool(false)))
                .and_then(|c| c.get("Alarms"))
                .and_then(Value::as_array)
                .map(|alarms| {
                    alarms
                        .iter()
                        .map(|a| alarm_label(resources, a.get("Name")))
                        .collect()
                })
                .unwrap_or_default();
            Some(ManagedAlias {
                alias: id.clone(),
                name: text(alias.pointer("/Properties/Name")),
                version: version_of(resources, alias.pointer("/Properties/FunctionVersion")),
                group: group.map(str::to_owned),
                config: text(group_properties.and_then(|p| p.get("DeploymentConfigName"))),
                alarms,
                rollback_on,
            })
        })
        .collect()
}

/// What a deploy does to a managed alias.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shift {
    /// The alias moves to a new version through CodeDeploy: `Will` when the version is
    /// replaced or added, `May` when its replacement depends on deploy-time values.
    Gradual(Replacement),
    /// The alias is created (or newly managed): it points at its version at once on this
    /// deploy, and later new versions shift gradually.
    Starts,
    /// The alias is removed or no longer managed: deploys move traffic at once from now on.
    Ends,
}

/// One managed alias and what the deploy does to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrafficShift {
    /// The alias, as the new template declares it (the old one's for [`Shift::Ends`]).
    pub alias: ManagedAlias,
    /// What happens to it.
    pub shift: Shift,
}

impl TrafficShift {
    /// One sentence for a reviewer.
    pub fn sentence(&self) -> String {
        let alias = &self.alias;
        let version = alias
            .version
            .as_deref()
            .map_or_else(|| "a new version".to_owned(), |v| format!("a new `{v}`"));
        match self.shift {
            Shift::Gradual(Replacement::May) => format!(
                "{} may move to {version} (its create-only properties depend on values known \
                 only at deploy time, such as the code's key): if so, gradually: {}.",
                alias.label(),
                alias.how()
            ),
            Shift::Gradual(_) => format!(
                "{} moves to {version} gradually: {}.",
                alias.label(),
                alias.how()
            ),
            Shift::Starts => format!(
                "{} starts shifting new versions gradually: this deploy points it at its version \
                 at once; from the next new version on, {}.",
                alias.label(),
                alias.how()
            ),
            Shift::Ends => format!(
                "{} no longer shifts new versions through CodeDeploy: from this deploy on, new \
                 code takes all traffic at once, with no alarm rollback.",
                alias.label()
            ),
        }
    }
}

/// The terminal text's block of traffic shifts (empty when there are none).
pub fn text(shifts: &[TrafficShift]) -> String {
    if shifts.is_empty() {
        return String::new();
    }
    let mut out = String::from("\nTraffic shifts (CodeDeploy)\n");
    for shift in shifts {
        out.push_str(&format!("  {}\n", shift.sentence().replace('`', "")));
    }
    out
}

/// The markdown block of traffic shifts, a note before the tables (empty when none).
pub fn markdown(shifts: &[TrafficShift]) -> String {
    if shifts.is_empty() {
        return String::new();
    }
    let mut out = String::from("\n> [!NOTE]\n> **Traffic shifts (CodeDeploy):**\n>\n");
    for shift in shifts {
        out.push_str(&format!("> - {}\n", shift.sentence().replace('|', "\\|")));
    }
    out
}

/// The JSON of traffic shifts: one object per alias, `shift` being `gradual`,
/// `may_be_gradual`, `starts` or `ends`.
pub fn json(shifts: &[TrafficShift]) -> Value {
    let list = shifts
        .iter()
        .map(|s| {
            let shift = match s.shift {
                Shift::Gradual(Replacement::May) => "may_be_gradual",
                Shift::Gradual(_) => "gradual",
                Shift::Starts => "starts",
                Shift::Ends => "ends",
            };
            serde_json::json!({
                "alias": s.alias.alias,
                "name": s.alias.name,
                "shift": shift,
                "version": s.alias.version,
                "deployment_group": s.alias.group,
                "deployment_config": s.alias.config,
                "alarms": s.alias.alarms,
                "rollback_on": s.alias.rollback_on,
                "sentence": s.sentence(),
            })
        })
        .collect();
    Value::Array(list)
}

/// The traffic shifts of a diff: the managed aliases of `new` whose version `resources` (the
/// diff's resource changes) replace or add, or that start being managed; and those of `old`
/// that stop.
pub fn shifts(old: &Value, new: &Value, resources: &[ResourceChange]) -> Vec<TrafficShift> {
    let before: BTreeMap<String, ManagedAlias> = managed_aliases(old)
        .into_iter()
        .map(|a| (a.alias.clone(), a))
        .collect();
    let old_resources = old.get("Resources").and_then(Value::as_object);
    let existed = |id: &str| {
        old_resources.is_some_and(|r| r.get(id).is_some_and(|a| type_of(a) == ALIAS_TYPE))
    };
    let change_of = |id: &str| resources.iter().find(|r| r.logical_id == id);
    let mut found = Vec::new();
    let after = managed_aliases(new);
    for alias in &after {
        let alias_change = change_of(&alias.alias);
        let recreated = alias_change
            .is_some_and(|c| c.kind == ChangeKind::Added || c.replacement == Replacement::Will);
        if !existed(&alias.alias) || recreated || !before.contains_key(&alias.alias) {
            found.push(TrafficShift {
                alias: alias.clone(),
                shift: Shift::Starts,
            });
            continue;
        }
        let version_change = alias.version.as_deref().and_then(change_of);
        let level = match version_change {
            Some(c) if c.kind == ChangeKind::Added => Replacement::Will,
            Some(c) if c.kind == ChangeKind::Modified => version_level(old, new, c),
            _ => Replacement::None,
        };
        if level != Replacement::None {
            found.push(TrafficShift {
                alias: alias.clone(),
                shift: Shift::Gradual(level),
            });
        }
    }
    for (id, alias) in before {
        if !after.iter().any(|a| a.alias == id) {
            found.push(TrafficShift {
                alias,
                shift: Shift::Ends,
            });
        }
    }
    found
}

/// How surely a modified version is replaced. The replacement rules say *may* for a
/// description such as `Fn::Sub ["Code ${Key}, configuration 1a2b", {Key: Ref CodeS3Key}]`
/// whose parameter is unknown offline; but when the variables are the same on both sides and
/// only the literal text changed, the published description differs whatever the parameter
/// is: a new version for sure.
fn version_level(old: &Value, new: &Value, change: &ResourceChange) -> Replacement {
    if change.replacement != Replacement::May {
        return change.replacement;
    }
    let description = |doc: &Value| {
        doc.pointer(&format!(
            "/Resources/{}/Properties/Description",
            change.logical_id
        ))
        .and_then(|d| d.get("Fn::Sub"))
        .and_then(Value::as_array)
        .cloned()
    };
    match (description(old), description(new)) {
        (Some(a), Some(b)) if a.len() == 2 && b.len() == 2 && a[1] == b[1] && a[0] != b[0] => {
            Replacement::Will
        }
        _ => Replacement::May,
    }
}

fn type_of(resource: &Value) -> &str {
    resource
        .get("Type")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// The logical ID a `Ref` names, if the value is one.
fn ref_target(value: Option<&Value>) -> Option<&str> {
    value?.get("Ref")?.as_str()
}

/// The deployment group a policy's `DeploymentGroupName` names: by `Ref`, or the group of
/// the template whose literal `DeploymentGroupName` it is.
fn find_group<'t>(resources: &'t Map<String, Value>, named: Option<&Value>) -> Option<&'t str> {
    if let Some(target) = ref_target(named) {
        return resources
            .get_key_value(target)
            .filter(|(_, r)| type_of(r) == GROUP_TYPE)
            .map(|(id, _)| id.as_str());
    }
    let name = named?.as_str()?;
    resources
        .iter()
        .find(|(_, r)| {
            type_of(r) == GROUP_TYPE
                && r.pointer("/Properties/DeploymentGroupName")
                    .and_then(Value::as_str)
                    == Some(name)
        })
        .map(|(id, _)| id.as_str())
}

/// The version an alias's `FunctionVersion` names (`Fn::GetAtt [X, Version]` or `Ref X`).
fn version_of(resources: &Map<String, Value>, value: Option<&Value>) -> Option<String> {
    let value = value?;
    let target = match value.get("Fn::GetAtt") {
        Some(Value::Array(parts)) => parts.first()?.as_str()?,
        Some(Value::String(dotted)) => dotted.split('.').next()?,
        _ => ref_target(Some(value))?,
    };
    resources
        .get(target)
        .filter(|r| type_of(r) == VERSION_TYPE)
        .map(|_| target.to_owned())
}

/// An alarm of a deployment group, for a reader: `ErrorsAlarm (its-name)` for a `Ref` to an
/// alarm with a literal name, the logical ID or the literal name otherwise.
fn alarm_label(resources: &Map<String, Value>, name: Option<&Value>) -> String {
    if let Some(target) = ref_target(name) {
        let literal = resources
            .get(target)
            .filter(|r| type_of(r) == ALARM_TYPE)
            .and_then(|r| r.pointer("/Properties/AlarmName"))
            .and_then(Value::as_str);
        return match literal {
            Some(literal) => format!("{target} ({literal})"),
            None => target.to_owned(),
        };
    }
    match name {
        Some(Value::String(literal)) => literal.clone(),
        Some(other) => super::intrinsic::show(other),
        None => "(unnamed)".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::diff;
    use super::*;

    /// A stack whose alias `live` CodeDeploy shifts, the version described by `description`.
    fn stack(description: Value, managed: bool) -> Value {
        let mut alias = json!({
            "Type": "AWS::Lambda::Alias",
            "Properties": {
                "Name": "live",
                "FunctionName": {"Ref": "Fn"},
                "FunctionVersion": {"Fn::GetAtt": ["Version", "Version"]}
            }
        });
        if managed {
            alias["UpdatePolicy"] = json!({"CodeDeployLambdaAliasUpdate": {
                "ApplicationName": "app", "DeploymentGroupName": "group"}});
        }
        json!({"Resources": {
            "Fn": {"Type": "AWS::Lambda::Function", "Properties": {}},
            "Version": {"Type": "AWS::Lambda::Version", "UpdateReplacePolicy": "Retain",
                        "Properties": {"FunctionName": {"Ref": "Fn"}, "Description": description}},
            "Alias": alias,
            "Errors": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"AlarmName": "stack-errors"}},
            "Group": {"Type": "AWS::CodeDeploy::DeploymentGroup", "Properties": {
                "ApplicationName": "app", "DeploymentGroupName": "group",
                "DeploymentConfigName": "CodeDeployDefault.LambdaCanary10Percent5Minutes",
                "AutoRollbackConfiguration": {"Enabled": true,
                    "Events": ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"]},
                "AlarmConfiguration": {"Enabled": true, "Alarms": [{"Name": {"Ref": "Errors"}}, {"Name": "elsewhere"}]}
            }}
        }})
    }

    fn described(fingerprint: &str) -> Value {
        json!({"Fn::Sub": [format!("Code ${{Key}}, configuration {fingerprint}"), {"Key": {"Ref": "CodeS3Key"}}]})
    }

    #[test]
    fn a_managed_alias_names_its_version_group_configuration_and_alarms() {
        let found = managed_aliases(&stack(described("a"), true));
        assert_eq!(
            found,
            vec![ManagedAlias {
                alias: "Alias".into(),
                name: Some("live".into()),
                version: Some("Version".into()),
                group: Some("Group".into()),
                config: Some("CodeDeployDefault.LambdaCanary10Percent5Minutes".into()),
                alarms: vec!["Errors (stack-errors)".into(), "elsewhere".into()],
                rollback_on: vec![
                    "DEPLOYMENT_FAILURE".into(),
                    "DEPLOYMENT_STOP_ON_ALARM".into()
                ],
            }]
        );
        assert!(managed_aliases(&stack(described("a"), false)).is_empty());
    }

    #[test]
    fn a_new_configuration_shifts_gradually_and_names_what_rolls_back() {
        let old = stack(described("a"), true);
        let new = stack(described("b"), true);
        let found = diff(&old, &new).traffic;
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].shift, Shift::Gradual(Replacement::Will));
        let sentence = found[0].sentence();
        assert_eq!(
            sentence,
            "`Alias` (live) moves to a new `Version` gradually: CodeDeploy shifts it \
             (CodeDeployDefault.LambdaCanary10Percent5Minutes, deployment group `Group`), and \
             moves it back (CloudFormation rolls the update back with it) when the deployment \
             fails, or an alarm goes off: Errors (stack-errors), elsewhere."
        );
    }

    #[test]
    fn a_version_that_depends_on_a_changed_reference_may_shift() {
        let old = stack(json!({"Ref": "CodeS3Key"}), true);
        let new = stack(json!({"Fn::Sub": "${CodeS3Key}-2"}), true);
        let found = diff(&old, &new).traffic;
        assert_eq!(found[0].shift, Shift::Gradual(Replacement::May));
        assert!(found[0].sentence().contains("may move to a new `Version`"));
    }

    #[test]
    fn nothing_shifts_when_the_version_stays() {
        let old = stack(described("a"), true);
        let mut new = old.clone();
        new["Resources"]["Errors"]["Properties"]["Threshold"] = json!(3);
        assert!(diff(&old, &new).traffic.is_empty());
    }

    #[test]
    fn starting_and_ending_are_said_once() {
        let plain = stack(described("a"), false);
        let managed = stack(described("b"), true);
        let starts = diff(&plain, &managed).traffic;
        assert_eq!(starts.len(), 1);
        assert_eq!(starts[0].shift, Shift::Starts);
        assert!(starts[0]
            .sentence()
            .contains("at once; from the next new version on"));
        let ends = diff(&managed, &plain).traffic;
        assert_eq!(ends[0].shift, Shift::Ends);
        assert!(ends[0].sentence().contains("no alarm rollback"));
        let mut without = plain.clone();
        without["Resources"]
            .as_object_mut()
            .unwrap()
            .remove("Alias");
        assert_eq!(diff(&without, &managed).traffic[0].shift, Shift::Starts);
    }
}
