//! From a resource provider schema to the Rust items that model it: one struct for the
//! resource, one per object property type it uses, one enum per string enumeration.
//!
//! The mapping (see the crate docs for the full table) keeps CloudFormation's shapes:
//! scalars become `Val<T>` so any property may take an intrinsic, objects with declared
//! properties become structs, and anything the schema does not pin to one type becomes
//! free-form `serde_json::Value`.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{bail, Context, Result};
use serde_json::{Map, Value};

use crate::names::{field_name, pascal_case, snake_case, variant_name};

/// Properties whose change replaces the resource although the provider schema does not list
/// them as create-only. Each entry is backed by the CloudFormation reference ("Update
/// requires: Replacement"); the template diff relies on them to warn before a replacement.
const EXTRA_CREATE_ONLY: &[(&str, &[&str])] = &[(
    "AWS::DynamoDB::Table",
    &["KeySchema", "LocalSecondaryIndexes"],
)];

/// Type names generated code uses unqualified; a schema definition with one of these names
/// gets a suffix so it cannot shadow them.
const RESERVED: &[&str] = &["Box", "Default", "Option", "Self", "String", "Vec"];

/// The Rust type of a property.
#[derive(Debug, Clone, PartialEq)]
pub enum Ty {
    /// A string.
    Str,
    /// An integer.
    Int,
    /// A number.
    Num,
    /// A boolean.
    Bool,
    /// Free-form JSON; the reason goes into the field's docs.
    Json(String),
    /// The core's `crate::Tag`.
    Tag,
    /// A generated enum of the property's allowed values, by name.
    Enum(String),
    /// A generated property type, by name.
    Struct(String),
    /// A struct reached through a reference cycle, so it must be boxed.
    Boxed(String),
    /// A list of the inner type.
    Array(Box<Ty>),
}

impl Ty {
    /// The type as written in a field (`crate::Val<String>`, `StreamEncryption`, ...).
    pub fn rust(&self) -> String {
        match self {
            Ty::Str => "crate::Val<String>".to_owned(),
            Ty::Int => "crate::Val<i64>".to_owned(),
            Ty::Num => "crate::Val<f64>".to_owned(),
            Ty::Bool => "crate::Val<bool>".to_owned(),
            Ty::Json(_) => "serde_json::Value".to_owned(),
            Ty::Tag => "crate::Tag".to_owned(),
            Ty::Enum(name) => format!("crate::Val<{name}>"),
            Ty::Struct(name) => name.clone(),
            Ty::Boxed(name) => format!("Box<{name}>"),
            Ty::Array(item) => format!("crate::Val<Vec<{}>>", item.rust()),
        }
    }
}

/// One generated resource type.
#[derive(Debug)]
pub struct ResourceModel {
    /// `AWS::Kinesis::Stream`.
    pub type_name: String,
    /// The service module, `kinesis`.
    pub service_module: String,
    /// The resource's file and module, `stream`.
    pub module: String,
    /// The resource struct's name, `Stream`.
    pub name: String,
    /// The resource struct first, then its property types and enums in the order the
    /// resource first uses them.
    pub items: Vec<Item>,
    /// `Fn::GetAtt` attributes, dotted (`SnapStartResponse.ApplyOn`), in schema order.
    pub attributes: Vec<String>,
    /// Create-only property paths below `Properties`, in schema order.
    pub create_only: Vec<String>,
}

/// One generated item of a resource's file.
#[derive(Debug)]
pub enum Item {
    /// A struct: the resource or one of its property types.
    Struct(StructDef),
    /// An enum of a property's allowed values.
    Enum(EnumDef),
}

/// A generated struct.
#[derive(Debug)]
pub struct StructDef {
    /// Its Rust name.
    pub name: String,
    /// The CloudFormation name: the resource's or the property type's.
    pub cfn_name: String,
    /// Whether it is the resource itself (not a property type).
    pub is_resource: bool,
    /// Its fields, in schema order.
    pub fields: Vec<Field>,
    /// Indexes into `fields` of the required ones, in the schema's `required` order.
    pub required: Vec<usize>,
}

/// A field of a generated struct.
#[derive(Debug)]
pub struct Field {
    /// The CloudFormation property name.
    pub property: String,
    /// The Rust field name.
    pub rust_name: String,
    /// Its type.
    pub ty: Ty,
    /// Whether the schema requires it.
    pub required: bool,
    /// Sentences for the field's docs: constraints the schema states.
    pub notes: Vec<String>,
}

/// A generated enum of allowed values.
#[derive(Debug)]
pub struct EnumDef {
    /// Its Rust name.
    pub name: String,
    /// The property or definition whose values these are.
    pub cfn_name: String,
    /// (variant, exact value)
    pub variants: Vec<(String, String)>,
}

/// Builds the model of one resource type from its schema.
pub fn build(schema: &Value) -> Result<ResourceModel> {
    let type_name = schema["typeName"]
        .as_str()
        .context("schema has no typeName")?
        .to_owned();
    let parts: Vec<&str> = type_name.split("::").collect();
    let [_, service, resource] = parts.as_slice() else {
        bail!("type name {type_name} is not of the form AWS::Service::Resource");
    };
    let read_only = paths(schema, "readOnlyProperties");
    let mut create_only = paths(schema, "createOnlyProperties");
    for (_, extra) in EXTRA_CREATE_ONLY.iter().filter(|(t, _)| *t == type_name) {
        for property in *extra {
            if !create_only.iter().any(|p| p == property) {
                create_only.push((*property).to_owned());
            }
        }
    }
    let write_only = paths(schema, "writeOnlyProperties");
    let empty = Map::new();
    let defs = schema["definitions"].as_object().unwrap_or(&empty);

    let name = pascal_case(resource);
    let mut builder = Builder::new(defs, &name);
    builder.used.insert(name.clone());
    builder.items.push(None);
    let top_level: BTreeSet<&str> = read_only.iter().map(String::as_str).collect();
    let (fields, required) = builder.fields(schema, &name, &top_level);
    let mut resource_struct = StructDef {
        name: name.clone(),
        cfn_name: type_name.clone(),
        is_resource: true,
        fields,
        required,
    };
    for field in &mut resource_struct.fields {
        if create_only.contains(&field.property) {
            field.notes.insert(
                1,
                "Create-only: changing it replaces the resource.".to_owned(),
            );
        }
        if write_only.contains(&field.property) {
            field
                .notes
                .push("Write-only: CloudFormation does not return it.".to_owned());
        }
    }
    builder.items[0] = Some(Item::Struct(resource_struct));

    let attributes = attributes(schema, &read_only);
    Ok(ResourceModel {
        type_name: type_name.clone(),
        service_module: service.to_ascii_lowercase(),
        module: snake_case(resource),
        name,
        items: builder.items.into_iter().flatten().collect(),
        attributes,
        create_only,
    })
}

/// The `Fn::GetAtt` attributes: the read-only properties, dotted, in schema order, then
/// any other attribute cfn-lint accepts for the type (`x-cfn-lint-getatts`, added by
/// tools/export_schemas.py: CloudFormation returns some ordinary properties too, such as
/// an SQS queue's `QueueName`).
fn attributes(schema: &Value, read_only: &[String]) -> Vec<String> {
    let mut attributes: Vec<String> = read_only
        .iter()
        .filter(|p| !p.contains('*'))
        .map(|p| p.replace('/', "."))
        .collect();
    let extra = schema["x-cfn-lint-getatts"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    for name in extra.iter().filter_map(Value::as_str) {
        if !attributes.iter().any(|a| a == name) {
            attributes.push(name.to_owned());
        }
    }
    attributes
}

/// A list of `/properties/...` pointers, as paths below `/properties/`.
fn paths(schema: &Value, key: &str) -> Vec<String> {
    let Some(list) = schema[key].as_array() else {
        return Vec::new();
    };
    list.iter()
        .filter_map(Value::as_str)
        .filter_map(|p| p.strip_prefix("/properties/"))
        .map(str::to_owned)
        .collect()
}

/// Where a schema fragment being classified comes from, which decides its name and whether
/// it may be shared with a definition of the same shape.
#[derive(Clone, Copy)]
enum Origin<'s> {
    /// Written inline in the named property (or in its `items`).
    Inline(&'s str),
    /// The body of the named definition.
    Def(&'s str),
    /// The `items` of the named array definition.
    DefItems(&'s str),
}

struct Builder<'a> {
    defs: &'a Map<String, Value>,
    resource_name: String,
    used: BTreeSet<String>,
    /// Definitions already classified (a placeholder while one is in progress).
    resolved: BTreeMap<String, Ty>,
    /// Object definitions whose struct is being built: a reference to one is a cycle.
    in_progress: Vec<String>,
    /// Definitions by the canonical JSON of their object shape (or of their items' object
    /// shape for array definitions), so an inline copy of a definition reuses its type.
    shapes: BTreeMap<String, String>,
    /// Items in order of first use; a slot is reserved before its fields are built.
    items: Vec<Option<Item>>,
}

impl<'a> Builder<'a> {
    fn new(defs: &'a Map<String, Value>, resource_name: &str) -> Builder<'a> {
        let mut shapes = BTreeMap::new();
        for (name, def) in defs {
            if is_struct_schema(def) {
                shapes.entry(canonical(def)).or_insert_with(|| name.clone());
            } else if def["type"] == "array" && is_struct_schema(&def["items"]) {
                shapes
                    .entry(canonical(&def["items"]))
                    .or_insert_with(|| name.clone());
            }
        }
        Builder {
            defs,
            resource_name: resource_name.to_owned(),
            used: BTreeSet::new(),
            resolved: BTreeMap::new(),
            in_progress: Vec::new(),
            shapes,
            items: Vec::new(),
        }
    }

    /// Claims a unique type name, as close to `wanted` as the module allows.
    fn claim(&mut self, wanted: &str) -> String {
        let base = if RESERVED.contains(&wanted) || wanted == self.resource_name {
            format!("{wanted}Property")
        } else {
            wanted.to_owned()
        };
        let mut name = base.clone();
        let mut n = 2;
        while self.used.contains(&name) {
            name = format!("{base}{n}");
            n += 1;
        }
        self.used.insert(name.clone());
        name
    }

    /// The fields of an object schema, skipping `skip` (the resource's read-only
    /// properties), and the indexes of the required ones in `required` order.
    fn fields(
        &mut self,
        schema: &Value,
        struct_name: &str,
        skip: &BTreeSet<&str>,
    ) -> (Vec<Field>, Vec<usize>) {
        let empty = Map::new();
        let properties = schema["properties"].as_object().unwrap_or(&empty);
        let required: Vec<&str> = schema["required"]
            .as_array()
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut fields: Vec<Field> = Vec::new();
        let mut rust_names = BTreeSet::new();
        for (property, sub) in properties {
            if skip.contains(property.as_str()) {
                continue;
            }
            let ty = if property == "Tags" && sub["type"] == "array" && is_plain_tag(&sub["items"])
            {
                Ty::Array(Box::new(Ty::Tag))
            } else {
                let hint = format!("{struct_name}{}", pascal_case(property));
                self.classify(
                    sub,
                    &hint,
                    Origin::Inline(&format!("{struct_name}.{property}")),
                )
            };
            let mut rust_name = field_name(property);
            while !rust_names.insert(rust_name.clone()) {
                rust_name.push('_');
            }
            let is_required = required.contains(&property.as_str());
            let notes = self.notes(sub, &ty, is_required);
            fields.push(Field {
                property: property.clone(),
                rust_name,
                ty,
                required: is_required,
                notes,
            });
        }
        let order = required
            .iter()
            .filter_map(|r| fields.iter().position(|f| f.property == *r))
            .collect();
        (fields, order)
    }

    fn classify(&mut self, schema: &Value, hint: &str, origin: Origin) -> Ty {
        if let Some(reference) = schema["$ref"].as_str() {
            return match reference.strip_prefix("#/definitions/") {
                Some(def) if self.defs.contains_key(def) => self.reference(def),
                _ => Ty::Json(format!(
                    "the schema refers to `{reference}`, which it does not define"
                )),
            };
        }
        match &schema["type"] {
            Value::String(kind) => self.classify_typed(schema, kind, hint, origin),
            Value::Array(kinds) if kinds.len() == 1 && kinds[0].is_string() => {
                self.classify_typed(schema, kinds[0].as_str().unwrap_or_default(), hint, origin)
            }
            Value::Array(kinds) => {
                let kinds: Vec<&str> = kinds.iter().filter_map(Value::as_str).collect();
                Ty::Json(format!("the schema allows any of {}", kinds.join(", ")))
            }
            _ => self.classify_untyped(schema, hint, origin),
        }
    }

    fn classify_typed(&mut self, schema: &Value, kind: &str, hint: &str, origin: Origin) -> Ty {
        match kind {
            "string" => match string_enum(schema) {
                Some(values) => self.new_enum(hint, values, origin),
                None => Ty::Str,
            },
            "integer" => Ty::Int,
            "number" => Ty::Num,
            "boolean" => Ty::Bool,
            "array" => {
                let items = &schema["items"];
                if items.is_null() {
                    return Ty::Array(Box::new(Ty::Json(
                        "the schema does not type the items".to_owned(),
                    )));
                }
                let item_origin = match origin {
                    Origin::Def(name) => Origin::DefItems(name),
                    other => other,
                };
                let item = match self.classify(items, hint, item_origin) {
                    // A Vec already gives the indirection a cycle needs.
                    Ty::Boxed(name) => Ty::Struct(name),
                    other => other,
                };
                Ty::Array(Box::new(item))
            }
            "object" if is_struct_schema(schema) => self.object(schema, hint, origin),
            "object" => Ty::Json("the schema gives the object no fixed properties".to_owned()),
            other => Ty::Json(format!("the schema's type is `{other}`")),
        }
    }

    /// `oneOf`/`anyOf` without a `type`: typed only when exactly one branch is typed and the
    /// rest are free-form (as DynamoDB's `KeySchema`: a list, or a deprecated JSON form).
    fn classify_untyped(&mut self, schema: &Value, hint: &str, origin: Origin) -> Ty {
        for key in ["oneOf", "anyOf"] {
            if let Some(branches) = schema[key].as_array() {
                let typed: Vec<&Value> = branches.iter().filter(|b| !is_free_form(b)).collect();
                if let [branch] = typed.as_slice() {
                    return self.classify(branch, hint, origin);
                }
                return Ty::Json(format!("the schema allows several shapes (`{key}`)"));
            }
        }
        if is_struct_schema(schema) {
            return self.object(schema, hint, origin);
        }
        if let Some(values) = string_enum(schema) {
            return self.new_enum(hint, values, origin);
        }
        Ty::Json("the schema does not type it".to_owned())
    }

    /// A `$ref` to a definition; boxed when it closes a cycle.
    fn reference(&mut self, def: &str) -> Ty {
        let ty = self.resolve_def(def);
        match ty {
            Ty::Struct(name) if self.in_progress.iter().any(|d| d == def) => Ty::Boxed(name),
            other => other,
        }
    }

    fn resolve_def(&mut self, def: &str) -> Ty {
        if let Some(ty) = self.resolved.get(def) {
            return ty.clone();
        }
        let defs = self.defs;
        let schema = &defs[def];
        if def == "Tag" && is_plain_tag(schema) {
            self.resolved.insert(def.to_owned(), Ty::Tag);
            return Ty::Tag;
        }
        // A placeholder, so a cycle through a non-object definition ends in free-form JSON.
        self.resolved.insert(
            def.to_owned(),
            Ty::Json("the definition refers to itself".to_owned()),
        );
        let ty = self.classify(schema, &pascal_case(def), Origin::Def(def));
        self.resolved.insert(def.to_owned(), ty.clone());
        ty
    }

    /// An object with declared properties: the definition's struct, or a new one.
    fn object(&mut self, schema: &Value, hint: &str, origin: Origin) -> Ty {
        if let Origin::Inline(_) = origin {
            if let Some(def) = self.shapes.get(&canonical(schema)).cloned() {
                return match self.reference(&def) {
                    Ty::Array(item) => *item,
                    other => other,
                };
            }
        }
        // Only an object definition is its own struct; an array definition's items struct
        // is named after it but the definition itself stays a list.
        let (cfn_name, def) = match origin {
            Origin::Def(def) => (def.to_owned(), Some(def)),
            Origin::DefItems(def) => (def.to_owned(), None),
            Origin::Inline(property) => (
                property.rsplit('.').next().unwrap_or(property).to_owned(),
                None,
            ),
        };
        let name = self.claim(hint);
        let slot = self.items.len();
        self.items.push(None);
        if let Some(def) = def {
            self.resolved
                .insert(def.to_owned(), Ty::Struct(name.clone()));
            self.in_progress.push(def.to_owned());
        }
        let (fields, required) = self.fields(schema, &name, &BTreeSet::new());
        if def.is_some() {
            self.in_progress.pop();
        }
        self.items[slot] = Some(Item::Struct(StructDef {
            name: name.clone(),
            cfn_name,
            is_resource: false,
            fields,
            required,
        }));
        Ty::Struct(name)
    }

    fn new_enum(&mut self, hint: &str, values: Vec<String>, origin: Origin) -> Ty {
        let cfn_name = match origin {
            Origin::Def(def) | Origin::DefItems(def) => def.to_owned(),
            Origin::Inline(property) => property.to_owned(),
        };
        let name = self.claim(hint);
        let mut seen = BTreeSet::new();
        let variants = values
            .into_iter()
            .map(|value| {
                let base = variant_name(&value);
                let mut variant = base.clone();
                let mut n = 2;
                while !seen.insert(variant.clone()) {
                    variant = format!("{base}{n}");
                    n += 1;
                }
                (variant, value)
            })
            .collect();
        self.items.push(Some(Item::Enum(EnumDef {
            name: name.clone(),
            cfn_name,
            variants,
        })));
        Ty::Enum(name)
    }

    /// Doc sentences for a field: required or not, then the constraints the schema states
    /// on the property (and on the definition it refers to, unless that is a struct).
    fn notes(&self, schema: &Value, ty: &Ty, required: bool) -> Vec<String> {
        let mut notes = vec![if required { "Required." } else { "Optional." }.to_owned()];
        let mut sources = vec![schema];
        if let Some(def) = schema["$ref"]
            .as_str()
            .and_then(|r| r.strip_prefix("#/definitions/"))
        {
            if let Some(def) = self.defs.get(def) {
                if !is_struct_schema(def) {
                    sources.push(def);
                }
            }
        }
        for source in sources {
            notes.extend(constraints(source));
        }
        match ty {
            Ty::Enum(name) => notes.push(format!("Allowed values: see [`{name}`].")),
            Ty::Array(item) => {
                if let Ty::Enum(name) = item.as_ref() {
                    notes.push(format!("Allowed item values: see [`{name}`]."));
                }
            }
            Ty::Json(reason) => notes.push(format!("Free-form JSON: {reason}.")),
            _ => {}
        }
        notes
    }
}

/// Constraint sentences a schema fragment states: range, length, item count, pattern, default.
fn constraints(schema: &Value) -> Vec<String> {
    let mut notes = Vec::new();
    let range = |min: &str, max: &str, what: &str, unit: &str| -> Option<String> {
        match (&schema[min], &schema[max]) {
            (Value::Null, Value::Null) => None,
            (lo, Value::Null) => Some(format!("{what} at least {lo}{unit}.")),
            (Value::Null, hi) => Some(format!("{what} at most {hi}{unit}.")),
            (lo, hi) => Some(format!("{what} {lo} to {hi}{unit}.")),
        }
    };
    notes.extend(range("minimum", "maximum", "Value:", ""));
    notes.extend(range("minLength", "maxLength", "Length:", " characters"));
    notes.extend(range("minItems", "maxItems", "Items:", ""));
    if let Some(pattern) = schema["pattern"].as_str() {
        notes.push(format!("Pattern: {}.", code(pattern)));
    }
    if !schema["default"].is_null() {
        notes.push(format!(
            "Default: {}.",
            code(&schema["default"].to_string())
        ));
    }
    notes
}

/// Inline code that survives backticks in the text.
fn code(text: &str) -> String {
    if text.contains('`') {
        format!("`` {text} ``")
    } else {
        format!("`{text}`")
    }
}

/// The string values of a string enumeration, if the schema is one.
fn string_enum(schema: &Value) -> Option<Vec<String>> {
    let values = schema["enum"].as_array()?;
    let strings: Vec<String> = values
        .iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    (!strings.is_empty() && strings.len() == values.len()).then_some(strings)
}

/// An object schema with declared properties, which becomes a struct.
fn is_struct_schema(schema: &Value) -> bool {
    let typed_object = match &schema["type"] {
        Value::String(kind) => kind == "object",
        Value::Null => schema["$ref"].is_null(),
        Value::Array(kinds) => kinds.len() == 1 && kinds[0] == "object",
        _ => false,
    };
    typed_object
        && schema["properties"]
            .as_object()
            .is_some_and(|p| !p.is_empty())
}

/// A branch of `oneOf`/`anyOf` that would be free-form JSON on its own.
fn is_free_form(schema: &Value) -> bool {
    if !schema["$ref"].is_null() {
        return false;
    }
    match &schema["type"] {
        Value::String(kind) => kind == "object" && !is_struct_schema(schema),
        Value::Array(kinds) => kinds.len() != 1,
        _ => !is_struct_schema(schema) && string_enum(schema).is_none(),
    }
}

/// A `Key`/`Value` tag: exactly those two string properties, `Key` required. `Value` may
/// be optional (as in Lambda's schemas): `crate::Tag` always sets it, which every such
/// schema accepts, and one tag type lets one list of tags go on every resource.
fn is_plain_tag(schema: &Value) -> bool {
    let Some(properties) = schema["properties"].as_object() else {
        return false;
    };
    let keys: BTreeSet<&str> = properties.keys().map(String::as_str).collect();
    let required: BTreeSet<&str> = schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let expected: BTreeSet<&str> = ["Key", "Value"].into();
    keys == expected
        && required.contains("Key")
        && properties
            .values()
            .all(|p| p["type"] == "string" && p["enum"].is_null())
}

/// The canonical text of a schema fragment, for comparing shapes.
fn canonical(schema: &Value) -> String {
    fn sorted(value: &Value) -> Value {
        match value {
            Value::Object(map) => {
                let mut entries: Vec<(&String, &Value)> = map.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                Value::Object(
                    entries
                        .into_iter()
                        .map(|(k, v)| (k.clone(), sorted(v)))
                        .collect(),
                )
            }
            Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    sorted(schema).to_string()
}
