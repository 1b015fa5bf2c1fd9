//! The template: parameters, conditions, resources and outputs in construction order.

use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::error::{SynthError, SynthErrors};
use crate::expr::Expr;
use crate::output::Output;
use crate::parameter::{ConditionHandle, ParamHandle, Parameter};
use crate::render::{self, Format, Rendered};
use crate::resource::{Handle, Resource, TypeInfo};
use crate::validate;

/// What CloudFormation does with a resource's data when the resource is deleted or replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// Delete the resource and its data.
    Delete,
    /// Keep the resource out of the stack, data intact.
    Retain,
    /// Keep the resource when the stack's creation is rolled back only if it existed before.
    RetainExceptOnCreate,
    /// Take a final snapshot, then delete (types that support snapshots).
    Snapshot,
}

impl Policy {
    fn as_str(self) -> &'static str {
        match self {
            Policy::Delete => "Delete",
            Policy::Retain => "Retain",
            Policy::RetainExceptOnCreate => "RetainExceptOnCreate",
            Policy::Snapshot => "Snapshot",
        }
    }
}

/// Resource attributes beside `Properties`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResourceOptions {
    /// Resources that must be created first although no property refers to them.
    pub depends_on: Vec<String>,
    /// A condition the resource exists under.
    pub condition: Option<String>,
    /// `DeletionPolicy`.
    pub deletion_policy: Option<Policy>,
    /// `UpdateReplacePolicy`.
    pub update_replace_policy: Option<Policy>,
    /// `Metadata` (e.g. checkov or cfn-nag suppressions with their reasons).
    pub metadata: Option<Value>,
    /// `UpdatePolicy` (e.g. `CodeDeployLambdaAliasUpdate`: an alias's new version is
    /// shifted to by a CodeDeploy deployment instead of at once).
    pub update_policy: Option<Value>,
}

/// One resource as it will be written.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ResourceEntry {
    pub(crate) logical_id: String,
    pub(crate) info: TypeInfo,
    pub(crate) properties: Value,
    pub(crate) options: ResourceOptions,
}

/// A CloudFormation template under construction.
///
/// Everything keeps the order it was added in, so the same construction gives a
/// byte-identical template. Mistakes that can only be seen whole (a dangling reference, a
/// cycle, a limit) are collected and reported by [`Template::render`] and
/// [`Template::to_document`], never by panicking.
#[derive(Debug, Clone, Default)]
pub struct Template {
    description: Option<String>,
    metadata: Map<String, Value>,
    pub(crate) parameters: Vec<(String, Parameter)>,
    pub(crate) conditions: Vec<(String, Expr)>,
    pub(crate) resources: Vec<ResourceEntry>,
    pub(crate) outputs: Vec<(String, Output)>,
    pub(crate) problems: Vec<SynthError>,
}

impl Template {
    /// An empty template with a description (shown in the console's stack list).
    pub fn new(description: impl Into<String>) -> Template {
        Template {
            description: Some(description.into()),
            ..Template::default()
        }
    }

    /// Adds a resource and returns the handle to refer to it.
    pub fn add<R: Resource>(&mut self, logical_id: &str, resource: R) -> Handle<R> {
        self.add_with(logical_id, resource, ResourceOptions::default())
    }

    /// Adds a resource with attributes beside its properties.
    pub fn add_with<R: Resource>(
        &mut self,
        logical_id: &str,
        resource: R,
        options: ResourceOptions,
    ) -> Handle<R> {
        self.claim_id(logical_id);
        let properties = match serde_json::to_value(&resource) {
            Ok(value) => value,
            Err(err) => {
                self.problems.push(SynthError::Serialize {
                    logical_id: logical_id.to_owned(),
                    message: err.to_string(),
                });
                Value::Object(Map::new())
            }
        };
        self.resources.push(ResourceEntry {
            logical_id: logical_id.to_owned(),
            info: R::INFO,
            properties,
            options,
        });
        Handle::new(logical_id)
    }

    /// Declares a parameter.
    pub fn parameter(&mut self, logical_id: &str, parameter: Parameter) -> ParamHandle {
        self.claim_id(logical_id);
        self.parameters.push((logical_id.to_owned(), parameter));
        ParamHandle {
            logical_id: logical_id.to_owned(),
        }
    }

    /// Declares a condition (an `Fn::Equals`/`And`/`Or`/`Not` expression).
    pub fn condition(&mut self, name: &str, expr: Expr) -> ConditionHandle {
        if self.conditions.iter().any(|(existing, _)| existing == name) {
            self.problems.push(SynthError::DuplicateId(name.to_owned()));
        }
        self.conditions.push((name.to_owned(), expr));
        ConditionHandle {
            name: name.to_owned(),
        }
    }

    /// Declares an output.
    pub fn output(&mut self, logical_id: &str, output: Output) {
        if self
            .outputs
            .iter()
            .any(|(existing, _)| existing == logical_id)
        {
            self.problems
                .push(SynthError::DuplicateId(logical_id.to_owned()));
        }
        self.outputs.push((logical_id.to_owned(), output));
    }

    /// Sets a top-level `Metadata` key (e.g. `AWS::CloudFormation::Interface`).
    pub fn set_metadata(&mut self, key: &str, value: Value) {
        self.metadata.insert(key.to_owned(), value);
    }

    /// The number of resources added so far.
    pub fn resource_count(&self) -> usize {
        self.resources.len()
    }

    /// The whole template as a JSON document, after every synth-time check passed.
    pub fn to_document(&self) -> Result<Value, SynthErrors> {
        validate::check(self)?;
        Ok(self.document())
    }

    /// Validates the template and writes it in the given format.
    pub fn render(&self, format: Format) -> Result<Rendered, SynthErrors> {
        let document = self.to_document()?;
        render::render(&document, format)
    }

    fn claim_id(&mut self, logical_id: &str) {
        let taken = self.parameters.iter().any(|(id, _)| id == logical_id)
            || self.resources.iter().any(|r| r.logical_id == logical_id);
        if taken {
            self.problems
                .push(SynthError::DuplicateId(logical_id.to_owned()));
        }
        if !is_valid_logical_id(logical_id) {
            self.problems
                .push(SynthError::InvalidId(logical_id.to_owned()));
        }
    }

    pub(crate) fn document(&self) -> Value {
        let mut doc = Map::new();
        doc.insert("AWSTemplateFormatVersion".into(), json!("2010-09-09"));
        if let Some(description) = &self.description {
            doc.insert("Description".into(), json!(description));
        }
        if !self.metadata.is_empty() {
            doc.insert("Metadata".into(), Value::Object(self.metadata.clone()));
        }
        insert_section(&mut doc, "Parameters", &self.parameters, to_json);
        insert_section(&mut doc, "Conditions", &self.conditions, Expr::to_json);
        let resources: Vec<(String, ResourceEntry)> = self
            .resources
            .iter()
            .map(|r| (r.logical_id.clone(), r.clone()))
            .collect();
        insert_section(&mut doc, "Resources", &resources, resource_json);
        insert_section(&mut doc, "Outputs", &self.outputs, Output::to_json);
        Value::Object(doc)
    }
}

/// CloudFormation's rule for logical IDs: ASCII letters and digits, at most 255.
fn is_valid_logical_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 255 && id.chars().all(|c| c.is_ascii_alphanumeric())
}

fn insert_section<T>(
    doc: &mut Map<String, Value>,
    name: &str,
    items: &[(String, T)],
    to_value: impl Fn(&T) -> Value,
) {
    if items.is_empty() {
        return;
    }
    let section: Map<String, Value> = items
        .iter()
        .map(|(id, item)| (id.clone(), to_value(item)))
        .collect();
    doc.insert(name.to_owned(), Value::Object(section));
}

fn to_json(value: &impl Serialize) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

fn resource_json(entry: &ResourceEntry) -> Value {
    let mut out = Map::new();
    out.insert("Type".into(), json!(entry.info.type_name));
    let options = &entry.options;
    if let Some(condition) = &options.condition {
        out.insert("Condition".into(), json!(condition));
    }
    if !options.depends_on.is_empty() {
        out.insert("DependsOn".into(), json!(options.depends_on));
    }
    if let Some(policy) = options.deletion_policy {
        out.insert("DeletionPolicy".into(), json!(policy.as_str()));
    }
    if let Some(policy) = options.update_replace_policy {
        out.insert("UpdateReplacePolicy".into(), json!(policy.as_str()));
    }
    if let Some(policy) = &options.update_policy {
        out.insert("UpdatePolicy".into(), policy.clone());
    }
    if let Some(metadata) = &options.metadata {
        out.insert("Metadata".into(), metadata.clone());
    }
    let has_properties = entry.properties.as_object().is_some_and(|p| !p.is_empty());
    if has_properties {
        out.insert("Properties".into(), entry.properties.clone());
    }
    Value::Object(out)
}
