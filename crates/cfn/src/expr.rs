//! Intrinsic functions and pseudo parameters as typed values.
//!
//! An [`Expr`] serializes to the long form CloudFormation reads in both JSON and YAML
//! (`{"Fn::GetAtt": ["Table", "Arn"]}`), so the two output formats are the same document.
//! References are checked when the template is synthesized (see `validate`), not here:
//! handles returned by [`crate::Template::add`] are the usual way to get a reference, and
//! they cannot name a resource that was never added.

use serde::{Serialize, Serializer};
use serde_json::{json, Value};

/// An intrinsic function, a reference, or a condition function.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// `Ref`: a parameter, a resource or a pseudo parameter.
    Ref(String),
    /// `Fn::GetAtt`: an attribute of a resource.
    GetAtt(String, String),
    /// `Fn::Sub` with an optional variable map.
    Sub(String, Vec<(String, Value)>),
    /// `Fn::Join`.
    Join(String, Vec<Value>),
    /// `Fn::If`: condition name, value when true, value when false.
    If(String, Box<Value>, Box<Value>),
    /// `Fn::Equals`.
    Equals(Box<Value>, Box<Value>),
    /// `Fn::Not`.
    Not(Box<Expr>),
    /// `Fn::And`.
    And(Vec<Expr>),
    /// `Fn::Or`.
    Or(Vec<Expr>),
    /// `{"Condition": name}`: another condition, inside a condition function.
    Condition(String),
    /// `Fn::Select`.
    Select(u32, Box<Value>),
    /// `Fn::Split`.
    Split(String, Box<Value>),
}

/// The pseudo parameters CloudFormation defines in every stack.
pub mod pseudo {
    use super::Expr;

    /// Every pseudo parameter name, for reference checks.
    pub const ALL: &[&str] = &[
        "AWS::AccountId",
        "AWS::NotificationARNs",
        "AWS::NoValue",
        "AWS::Partition",
        "AWS::Region",
        "AWS::StackId",
        "AWS::StackName",
        "AWS::URLSuffix",
    ];

    /// `AWS::AccountId`.
    pub fn account_id() -> Expr {
        Expr::Ref("AWS::AccountId".into())
    }
    /// `AWS::Region`.
    pub fn region() -> Expr {
        Expr::Ref("AWS::Region".into())
    }
    /// `AWS::Partition`.
    pub fn partition() -> Expr {
        Expr::Ref("AWS::Partition".into())
    }
    /// `AWS::StackName`.
    pub fn stack_name() -> Expr {
        Expr::Ref("AWS::StackName".into())
    }
    /// `AWS::StackId`.
    pub fn stack_id() -> Expr {
        Expr::Ref("AWS::StackId".into())
    }
    /// `AWS::URLSuffix`.
    pub fn url_suffix() -> Expr {
        Expr::Ref("AWS::URLSuffix".into())
    }
    /// `AWS::NoValue`: removes the property it is the value of.
    pub fn no_value() -> Expr {
        Expr::Ref("AWS::NoValue".into())
    }
}

impl Expr {
    /// `Fn::Sub` without variables.
    pub fn sub(template: impl Into<String>) -> Expr {
        Expr::Sub(template.into(), Vec::new())
    }

    /// `Fn::Sub` with a variable map, in the order given.
    pub fn sub_with(template: impl Into<String>, vars: Vec<(&str, Value)>) -> Expr {
        let vars = vars.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        Expr::Sub(template.into(), vars)
    }

    /// `Fn::Join`.
    pub fn join(separator: impl Into<String>, parts: Vec<Value>) -> Expr {
        Expr::Join(separator.into(), parts)
    }

    /// `Fn::If`.
    pub fn if_(condition: &str, then: impl Serialize, otherwise: impl Serialize) -> Expr {
        Expr::If(
            condition.to_owned(),
            Box::new(to_value(then)),
            Box::new(to_value(otherwise)),
        )
    }

    /// `Fn::Equals`.
    pub fn equals(left: impl Serialize, right: impl Serialize) -> Expr {
        Expr::Equals(Box::new(to_value(left)), Box::new(to_value(right)))
    }

    /// `Fn::Not`.
    #[allow(clippy::should_implement_trait)]
    pub fn not(inner: Expr) -> Expr {
        Expr::Not(Box::new(inner))
    }

    /// `Fn::Select`.
    pub fn select(index: u32, list: impl Serialize) -> Expr {
        Expr::Select(index, Box::new(to_value(list)))
    }

    /// `Fn::Split`.
    pub fn split(delimiter: impl Into<String>, source: impl Serialize) -> Expr {
        Expr::Split(delimiter.into(), Box::new(to_value(source)))
    }

    /// This expression as a JSON value, to embed in free-form properties (policy documents,
    /// dashboard bodies) with `serde_json::json!`.
    pub fn to_json(&self) -> Value {
        match self {
            Expr::Ref(name) => json!({ "Ref": name }),
            Expr::GetAtt(id, attr) => json!({ "Fn::GetAtt": [id, attr] }),
            Expr::Sub(template, vars) if vars.is_empty() => json!({ "Fn::Sub": template }),
            Expr::Sub(template, vars) => {
                let map: serde_json::Map<String, Value> = vars.iter().cloned().collect();
                json!({ "Fn::Sub": [template, map] })
            }
            Expr::Join(sep, parts) => json!({ "Fn::Join": [sep, parts] }),
            Expr::If(cond, a, b) => json!({ "Fn::If": [cond, a, b] }),
            Expr::Equals(a, b) => json!({ "Fn::Equals": [a, b] }),
            Expr::Not(inner) => json!({ "Fn::Not": [inner.to_json()] }),
            Expr::And(items) => json!({ "Fn::And": exprs_json(items) }),
            Expr::Or(items) => json!({ "Fn::Or": exprs_json(items) }),
            Expr::Condition(name) => json!({ "Condition": name }),
            Expr::Select(index, list) => json!({ "Fn::Select": [index.to_string(), list] }),
            Expr::Split(delim, source) => json!({ "Fn::Split": [delim, source] }),
        }
    }
}

fn exprs_json(items: &[Expr]) -> Vec<Value> {
    items.iter().map(Expr::to_json).collect()
}

fn to_value(value: impl Serialize) -> Value {
    // Serializing our own model types into a JSON value cannot fail: they hold only
    // strings, numbers, booleans, sequences and string-keyed maps.
    serde_json::to_value(value).unwrap_or(Value::Null)
}

impl Serialize for Expr {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intrinsics_use_the_long_form() {
        assert_eq!(
            Expr::GetAtt("T".into(), "Arn".into()).to_json(),
            json!({"Fn::GetAtt": ["T", "Arn"]})
        );
        assert_eq!(
            Expr::sub("${AWS::StackName}-x").to_json(),
            json!({"Fn::Sub": "${AWS::StackName}-x"})
        );
        assert_eq!(
            Expr::sub_with("${A}", vec![("A", json!("v"))]).to_json(),
            json!({"Fn::Sub": ["${A}", {"A": "v"}]})
        );
        assert_eq!(
            Expr::if_("HasEmail", "a", pseudo::no_value()).to_json(),
            json!({"Fn::If": ["HasEmail", "a", {"Ref": "AWS::NoValue"}]})
        );
        assert_eq!(
            Expr::not(Expr::equals(Expr::Ref("P".into()), "")).to_json(),
            json!({"Fn::Not": [{"Fn::Equals": [{"Ref": "P"}, ""]}]})
        );
        assert_eq!(
            Expr::select(1, Expr::split(",", "a,b")).to_json(),
            json!({"Fn::Select": ["1", {"Fn::Split": [",", "a,b"]}]})
        );
    }
}
