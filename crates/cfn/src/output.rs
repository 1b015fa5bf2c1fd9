//! Stack outputs.

use serde::Serialize;
use serde_json::{json, Value};

/// An output of the stack, shown by `describe-stacks` and optionally exported.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    value: Value,
    description: Option<String>,
    export_name: Option<Value>,
    condition: Option<String>,
}

impl Output {
    /// An output with this value (a literal or an intrinsic).
    pub fn new(value: impl Serialize) -> Output {
        Output {
            value: serde_json::to_value(value).unwrap_or(Value::Null),
            description: None,
            export_name: None,
            condition: None,
        }
    }

    /// What the value is, for whoever reads the stack's outputs.
    pub fn description(mut self, text: impl Into<String>) -> Output {
        self.description = Some(text.into());
        self
    }

    /// Exports the value under this name for other stacks' `Fn::ImportValue`.
    pub fn export(mut self, name: impl Serialize) -> Output {
        self.export_name = Some(serde_json::to_value(name).unwrap_or(Value::Null));
        self
    }

    /// Emits the output only when the condition holds.
    pub fn condition(mut self, name: &str) -> Output {
        self.condition = Some(name.to_owned());
        self
    }

    pub(crate) fn condition_name(&self) -> Option<&str> {
        self.condition.as_deref()
    }

    pub(crate) fn to_json(&self) -> Value {
        let mut out = serde_json::Map::new();
        if let Some(description) = &self.description {
            out.insert("Description".into(), json!(description));
        }
        out.insert("Value".into(), self.value.clone());
        if let Some(name) = &self.export_name {
            out.insert("Export".into(), json!({ "Name": name }));
        }
        if let Some(condition) = &self.condition {
            out.insert("Condition".into(), json!(condition));
        }
        Value::Object(out)
    }
}
