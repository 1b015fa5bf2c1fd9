//! `synth stack-facts capabilities TEMPLATE`: the capabilities a deploy must acknowledge.

use std::path::PathBuf;

use clap::Args;
use serde_json::Value;

use super::Answer;

/// The capabilities the template needs, as words for `--capabilities`.
///
/// CAPABILITY_NAMED_IAM when an IAM resource has a fixed name (RoleName, UserName,
/// GroupName, ManagedPolicyName or InstanceProfileName), else CAPABILITY_IAM when there is
/// any AWS::IAM:: resource; CAPABILITY_AUTO_EXPAND when the template has a Transform.
/// Prints nothing when it needs none. Only what the template needs is acknowledged.
#[derive(Debug, Args)]
pub struct CapabilitiesArgs {
    /// The template, YAML or JSON (`-` reads stdin), e.g. cfn-out/stack.json.
    #[arg(value_name = "TEMPLATE")]
    pub template: PathBuf,
}

/// The properties that give an IAM resource a fixed name, which needs CAPABILITY_NAMED_IAM.
pub const NAMING_PROPERTIES: &[&str] = &[
    "RoleName",
    "UserName",
    "GroupName",
    "ManagedPolicyName",
    "InstanceProfileName",
];

/// Reads the template and prints its capabilities on one line.
pub fn run(args: &CapabilitiesArgs) -> Result<Answer, String> {
    let template = super::read_template(&args.template)?;
    let words = capabilities(&template);
    Ok(Answer::Print(if words.is_empty() {
        String::new()
    } else {
        format!("{}\n", words.join(" "))
    }))
}

/// The capabilities a template needs, in the order CloudFormation lists them.
pub fn capabilities(template: &Value) -> Vec<&'static str> {
    let iam: Vec<&Value> = template
        .get("Resources")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|resources| resources.values())
        .filter(|resource| {
            resource
                .get("Type")
                .and_then(Value::as_str)
                .is_some_and(|kind| kind.starts_with("AWS::IAM::"))
        })
        .collect();
    let named = iam.iter().any(|resource| {
        resource
            .get("Properties")
            .and_then(Value::as_object)
            .is_some_and(|properties| {
                NAMING_PROPERTIES
                    .iter()
                    .any(|p| properties.contains_key(*p))
            })
    });
    let mut words = Vec::new();
    if named {
        words.push("CAPABILITY_NAMED_IAM");
    } else if !iam.is_empty() {
        words.push("CAPABILITY_IAM");
    }
    if template.get("Transform").is_some() {
        words.push("CAPABILITY_AUTO_EXPAND");
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn no_iam_and_no_transform_needs_nothing() {
        let template = json!({"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}});
        assert!(capabilities(&template).is_empty());
        assert!(capabilities(&json!({})).is_empty());
    }

    #[test]
    fn an_unnamed_role_needs_capability_iam() {
        let template = json!({"Resources": {
            "Role": {"Type": "AWS::IAM::Role", "Properties": {"Path": "/"}},
            "Policy": {"Type": "AWS::IAM::ManagedPolicy"},
        }});
        assert_eq!(capabilities(&template), ["CAPABILITY_IAM"]);
    }

    #[test]
    fn any_naming_property_needs_capability_named_iam() {
        for property in NAMING_PROPERTIES {
            let template = json!({"Resources": {
                "Plain": {"Type": "AWS::IAM::Role"},
                "Named": {"Type": "AWS::IAM::Thing", "Properties": {*property: {"Fn::Sub": "x-${AWS::Region}"}}},
            }});
            assert_eq!(
                capabilities(&template),
                ["CAPABILITY_NAMED_IAM"],
                "{property}"
            );
        }
    }

    #[test]
    fn a_name_property_outside_iam_does_not_count() {
        let template = json!({"Resources": {
            "Other": {"Type": "AWS::Custom::Thing", "Properties": {"RoleName": "r"}},
        }});
        assert!(capabilities(&template).is_empty());
    }

    #[test]
    fn a_transform_needs_auto_expand_after_the_iam_word() {
        let template = json!({
            "Transform": "AWS::Serverless-2016-10-31",
            "Resources": {"Role": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "r"}}},
        });
        assert_eq!(
            capabilities(&template),
            ["CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
        );
        let only = json!({"Transform": ["A", "B"], "Resources": {}});
        assert_eq!(capabilities(&only), ["CAPABILITY_AUTO_EXPAND"]);
    }

    #[test]
    fn the_pipeline_stack_needs_capability_iam() {
        let config = synth::config::Config::load(Some("dev"), None, &[]).expect("dev loads");
        let rendered = synth::stack::build(&config)
            .render(cfn::Format::Json)
            .expect("renders");
        let template: Value = serde_json::from_str(&rendered.body).expect("JSON");
        assert_eq!(capabilities(&template), ["CAPABILITY_IAM"]);
    }
}
