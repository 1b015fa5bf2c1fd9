//! Template parameters: the values a stack takes at deploy time.

use serde::Serialize;
use serde_json::Value;

use crate::expr::Expr;

/// A parameter declaration, built with the methods below.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Parameter {
    #[serde(rename = "Type")]
    kind: String,
    #[serde(rename = "Description", skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(rename = "Default", skip_serializing_if = "Option::is_none")]
    default: Option<Value>,
    #[serde(rename = "AllowedValues", skip_serializing_if = "Vec::is_empty")]
    allowed_values: Vec<Value>,
    #[serde(rename = "AllowedPattern", skip_serializing_if = "Option::is_none")]
    allowed_pattern: Option<String>,
    #[serde(
        rename = "ConstraintDescription",
        skip_serializing_if = "Option::is_none"
    )]
    constraint_description: Option<String>,
    #[serde(rename = "MinLength", skip_serializing_if = "Option::is_none")]
    min_length: Option<u32>,
    #[serde(rename = "MaxLength", skip_serializing_if = "Option::is_none")]
    max_length: Option<u32>,
    #[serde(rename = "MinValue", skip_serializing_if = "Option::is_none")]
    min_value: Option<f64>,
    #[serde(rename = "MaxValue", skip_serializing_if = "Option::is_none")]
    max_value: Option<f64>,
    #[serde(rename = "NoEcho", skip_serializing_if = "std::ops::Not::not")]
    no_echo: bool,
}

impl Parameter {
    /// A parameter of any CloudFormation parameter type (`String`, `Number`,
    /// `AWS::EC2::Subnet::Id`, ...).
    pub fn of_type(kind: impl Into<String>) -> Parameter {
        Parameter {
            kind: kind.into(),
            description: None,
            default: None,
            allowed_values: Vec::new(),
            allowed_pattern: None,
            constraint_description: None,
            min_length: None,
            max_length: None,
            min_value: None,
            max_value: None,
            no_echo: false,
        }
    }

    /// A `String` parameter.
    pub fn string() -> Parameter {
        Parameter::of_type("String")
    }

    /// A `Number` parameter.
    pub fn number() -> Parameter {
        Parameter::of_type("Number")
    }

    /// What the parameter is for, shown in the console.
    pub fn description(mut self, text: impl Into<String>) -> Parameter {
        self.description = Some(text.into());
        self
    }

    /// The value used when the deployer gives none.
    pub fn default(mut self, value: impl Into<Value>) -> Parameter {
        self.default = Some(value.into());
        self
    }

    /// The only values accepted.
    pub fn allowed_values(mut self, values: &[&str]) -> Parameter {
        self.allowed_values = values.iter().map(|v| Value::from(*v)).collect();
        self
    }

    /// A regular expression the value must match.
    pub fn allowed_pattern(mut self, pattern: impl Into<String>) -> Parameter {
        self.allowed_pattern = Some(pattern.into());
        self
    }

    /// The message CloudFormation shows when a constraint fails.
    pub fn constraint_description(mut self, text: impl Into<String>) -> Parameter {
        self.constraint_description = Some(text.into());
        self
    }

    /// Bounds on a string value's length.
    pub fn length(mut self, min: u32, max: u32) -> Parameter {
        self.min_length = Some(min);
        self.max_length = Some(max);
        self
    }

    /// Bounds on a number value.
    pub fn range(mut self, min: f64, max: f64) -> Parameter {
        self.min_value = Some(min);
        self.max_value = Some(max);
        self
    }

    /// Masks the value in the console and API output.
    pub fn no_echo(mut self) -> Parameter {
        self.no_echo = true;
        self
    }
}

/// A parameter that was added to a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamHandle {
    pub(crate) logical_id: String,
}

impl ParamHandle {
    /// The parameter's logical ID.
    pub fn logical_id(&self) -> &str {
        &self.logical_id
    }

    /// `Ref` to the parameter's value.
    pub fn to_ref(&self) -> Expr {
        Expr::Ref(self.logical_id.clone())
    }
}

/// A condition that was added to a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionHandle {
    pub(crate) name: String,
}

impl ConditionHandle {
    /// The condition's name, for a resource's or an output's `Condition`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `Fn::If` on this condition.
    pub fn if_(&self, then: impl Serialize, otherwise: impl Serialize) -> Expr {
        Expr::if_(&self.name, then, otherwise)
    }

    /// `{"Condition": name}`, to combine conditions with `Fn::And`/`Fn::Or`/`Fn::Not`.
    pub fn to_expr(&self) -> Expr {
        Expr::Condition(self.name.clone())
    }
}
