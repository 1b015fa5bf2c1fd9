//! Generates the resource types of the `cfn` crate from AWS CloudFormation resource
//! provider schemas.
//!
//! The schemas are copies of the ones the pinned cfn-lint carries, exported by
//! `tools/export_schemas.py` into `crates/cfn-codegen/schemas/` for the types listed in
//! `crates/cfn-codegen/resource-types.txt`. From each schema come: one struct for the
//! resource and one per object property type it uses; the required properties (plain
//! fields and `new` parameters) and the optional ones (`Option` fields); string
//! enumerations (Rust enums); read-only properties (`Handle::attr_*` methods, not fields);
//! and create-only properties (`TypeInfo::create_only`, which the template diff reads).
//!
//! | schema | Rust |
//! |---|---|
//! | `string`, `integer`, `number`, `boolean` | `Val<String>`, `Val<i64>`, `Val<f64>`, `Val<bool>` |
//! | string with `enum` | a generated enum, as `Val<TheEnum>` |
//! | `array` | `Val<Vec<Item>>` |
//! | `object` with `properties` | a generated struct |
//! | the plain `Key`/`Value` `Tag` | `crate::Tag` |
//! | anything else (several types, no properties, ...) | `serde_json::Value` |

pub mod emit;
pub mod model;
pub mod names;
mod rustfmt;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde_json::Value;

/// The crate's own directory, so the generator works from any working directory.
fn crate_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The workspace root.
pub fn workspace_dir() -> PathBuf {
    crate_dir().join("../..")
}

/// `crates/cfn-codegen/schemas`: the committed schema copies.
pub fn schemas_dir() -> PathBuf {
    crate_dir().join("schemas")
}

/// `crates/cfn-codegen/resource-types.txt`: the types the project generates.
pub fn types_file() -> PathBuf {
    crate_dir().join("resource-types.txt")
}

/// `crates/cfn/src/resources`: where the generated modules go.
pub fn resources_dir() -> PathBuf {
    crate_dir().join("../cfn/src/resources")
}

/// The type names listed in `resource-types.txt` (one a line, `#` starts a comment).
pub fn read_type_list(path: &Path) -> Result<Vec<String>> {
    let text =
        fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(text
        .lines()
        .map(|line| line.split('#').next().unwrap_or_default().trim())
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect())
}

/// The schema file name for a type: `AWS::Kinesis::Stream` → `aws_kinesis_stream.json`
/// (the same rule as tools/export_schemas.py).
pub fn schema_file_name(type_name: &str) -> String {
    format!("{}.json", type_name.replace("::", "_").to_ascii_lowercase())
}

/// Reads every `*.json` schema in `dir`, in file-name order.
pub fn load_schemas(dir: &Path) -> Result<Vec<Value>> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .with_context(|| format!("cannot read the schema directory {}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|path| {
            let text = fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            serde_json::from_str(&text)
                .with_context(|| format!("{} is not valid JSON", path.display()))
        })
        .collect()
}

/// The formatted source of one resource type's file.
pub fn render_resource(schema: &Value) -> Result<String> {
    let model = model::build(schema)?;
    rustfmt::format(&emit::resource_file(&model))
}

/// Every generated file, by path relative to the resources directory, formatted as
/// rustfmt would leave it.
pub fn generate(schemas: &[Value]) -> Result<BTreeMap<PathBuf, String>> {
    let models = schemas
        .iter()
        .map(model::build)
        .collect::<Result<Vec<_>>>()?;
    let mut services: BTreeMap<String, Vec<&model::ResourceModel>> = BTreeMap::new();
    for model in &models {
        services
            .entry(model.service_module.clone())
            .or_default()
            .push(model);
    }
    let mut files = BTreeMap::new();
    for (service, models) in &mut services {
        models.sort_by(|a, b| a.module.cmp(&b.module));
        let mut modules: Vec<&str> = models.iter().map(|m| m.module.as_str()).collect();
        modules.dedup();
        if modules.len() != models.len() {
            bail!("two resource types of service {service} map to the same module");
        }
        files.insert(
            Path::new(service).join("mod.rs"),
            emit::service_mod(service, models),
        );
        for model in models.iter() {
            files.insert(
                Path::new(service).join(format!("{}.rs", model.module)),
                emit::resource_file(model),
            );
        }
    }
    files.insert(PathBuf::from("mod.rs"), emit::root_mod(&services));
    files
        .into_iter()
        .map(|(path, source)| Ok((path, rustfmt::format(&source)?)))
        .collect()
}

/// Generates from the committed schemas, after checking they match resource-types.txt.
pub fn generate_from_committed_schemas() -> Result<BTreeMap<PathBuf, String>> {
    let listed = read_type_list(&types_file())?;
    let schemas = load_schemas(&schemas_dir())?;
    let mut exported: Vec<String> = schemas
        .iter()
        .filter_map(|s| s["typeName"].as_str())
        .map(schema_file_name)
        .collect();
    let mut wanted: Vec<String> = listed.iter().map(|t| schema_file_name(t)).collect();
    exported.sort();
    wanted.sort();
    if exported != wanted {
        bail!(
            "the schemas in {} do not match resource-types.txt: run `make codegen` to re-export them",
            schemas_dir().display()
        );
    }
    generate(&schemas)
}

/// A difference between the generated files and those on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The file on disk differs from what the schemas generate.
    Changed(PathBuf),
    /// The schemas generate a file that is not on disk.
    Missing(PathBuf),
    /// A file on disk that the schemas no longer generate.
    Extra(PathBuf),
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Change::Changed(path) => write!(f, "changed: {}", path.display()),
            Change::Missing(path) => write!(f, "missing: {}", path.display()),
            Change::Extra(path) => write!(f, "extra:   {}", path.display()),
        }
    }
}

/// The `.rs` files below `dir`, relative to it.
fn existing_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let Ok(entries) = fs::read_dir(&current) else {
            continue;
        };
        for entry in entries {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                found.push(path.strip_prefix(dir).expect("below dir").to_path_buf());
            }
        }
    }
    found.sort();
    Ok(found)
}

/// What writing `files` into `dir` would change.
pub fn compare(dir: &Path, files: &BTreeMap<PathBuf, String>) -> Result<Vec<Change>> {
    let mut changes = Vec::new();
    for (path, source) in files {
        match fs::read_to_string(dir.join(path)) {
            Ok(current) if current == *source => {}
            Ok(_) => changes.push(Change::Changed(path.clone())),
            Err(_) => changes.push(Change::Missing(path.clone())),
        }
    }
    for path in existing_files(dir)? {
        if !files.contains_key(&path) {
            changes.push(Change::Extra(path));
        }
    }
    Ok(changes)
}

/// Writes `files` into `dir`, removing generated files no longer produced, and returns
/// what changed.
pub fn write(dir: &Path, files: &BTreeMap<PathBuf, String>) -> Result<Vec<Change>> {
    let changes = compare(dir, files)?;
    for change in &changes {
        match change {
            Change::Changed(path) | Change::Missing(path) => {
                let target = dir.join(path);
                if let Some(parent) = target.parent() {
                    fs::create_dir_all(parent)
                        .with_context(|| format!("cannot create {}", parent.display()))?;
                }
                fs::write(&target, &files[path])
                    .with_context(|| format!("cannot write {}", target.display()))?;
            }
            Change::Extra(path) => {
                let target = dir.join(path);
                fs::remove_file(&target)
                    .with_context(|| format!("cannot remove {}", target.display()))?;
                if let Some(parent) = target.parent() {
                    // Only succeeds when the service directory is now empty.
                    let _ = fs::remove_dir(parent);
                }
            }
        }
    }
    Ok(changes)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// A made-up resource type with one property of every shape the mapping knows.
    fn widget() -> Value {
        json!({
            "typeName": "AWS::Demo::Widget",
            "definitions": {
                "Mode": { "type": "string", "enum": ["ON_DEMAND", "PROVISIONED"] },
                "Settings": {
                    "type": "object",
                    "properties": {
                        "Level": { "type": "integer", "minimum": 1, "maximum": 9 },
                        "Label": { "type": "string" },
                        "Child": { "$ref": "#/definitions/Settings" }
                    },
                    "required": ["Level"]
                },
                "Tag": {
                    "type": "object",
                    "properties": { "Key": { "type": "string" }, "Value": { "type": "string" } },
                    "required": ["Key", "Value"]
                }
            },
            "properties": {
                "Name": { "type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[a-z]+$" },
                "Size": { "type": "integer" },
                "Ratio": { "type": "number" },
                "Enabled": { "type": "boolean" },
                "Mode": { "$ref": "#/definitions/Mode" },
                "Kind": { "type": "string", "enum": ["big", "small"] },
                "Names": { "type": "array", "items": { "type": "string" } },
                "Modes": { "type": "array", "items": { "$ref": "#/definitions/Mode" } },
                "Settings": { "$ref": "#/definitions/Settings" },
                "Document": { "type": ["object", "string"] },
                "Variables": { "type": "object", "patternProperties": { ".*": { "type": "string" } } },
                "Tags": { "type": "array", "items": { "$ref": "#/definitions/Tag" } },
                "Type": { "type": "string" },
                "Arn": { "type": "string" },
                "Status": { "type": "object", "properties": { "Code": { "type": "string" } } }
            },
            "required": ["Settings", "Name"],
            "readOnlyProperties": ["/properties/Arn", "/properties/Status", "/properties/Status/Code"],
            "createOnlyProperties": ["/properties/Name", "/properties/Settings/Level"]
        })
    }

    fn rendered() -> String {
        render_resource(&widget()).expect("the widget schema renders")
    }

    fn assert_has(code: &str, snippet: &str) {
        assert!(code.contains(snippet), "expected\n{snippet}\nin\n{code}");
    }

    #[test]
    fn required_properties_are_plain_fields_and_new_parameters_in_schema_order() {
        let code = rendered();
        assert_has(
            &code,
            "#[serde(rename = \"Name\")]\n    pub name: crate::Val<String>,",
        );
        assert_has(&code, "pub settings: Settings,");
        assert_has(
            &code,
            "pub fn new(settings: impl Into<Settings>, name: impl Into<crate::Val<String>>) -> Self {",
        );
        assert_has(&code, "settings: settings.into(),");
        assert_has(&code, "size: None,");
    }

    #[test]
    fn optional_scalars_are_optional_vals() {
        let code = rendered();
        assert_has(
            &code,
            "#[serde(rename = \"Size\", skip_serializing_if = \"Option::is_none\")]\n    pub size: Option<crate::Val<i64>>,",
        );
        assert_has(&code, "pub ratio: Option<crate::Val<f64>>,");
        assert_has(&code, "pub enabled: Option<crate::Val<bool>>,");
        assert_has(&code, "pub r#type: Option<crate::Val<String>>,");
    }

    #[test]
    fn enums_are_generated_from_definitions_and_inline_values() {
        let code = rendered();
        assert_has(&code, "pub mode: Option<crate::Val<Mode>>,");
        assert_has(&code, "pub enum Mode {");
        assert_has(&code, "#[serde(rename = \"ON_DEMAND\")]\n    OnDemand,");
        assert_has(&code, "impl From<Mode> for crate::Val<Mode> {");
        assert_has(&code, "pub kind: Option<crate::Val<WidgetKind>>,");
        assert_has(&code, "#[serde(rename = \"small\")]\n    Small,");
    }

    #[test]
    fn arrays_hold_vals_of_their_item_type() {
        let code = rendered();
        assert_has(
            &code,
            "pub names: Option<crate::Val<Vec<crate::Val<String>>>>,",
        );
        assert_has(
            &code,
            "pub modes: Option<crate::Val<Vec<crate::Val<Mode>>>>,",
        );
    }

    #[test]
    fn nested_objects_are_structs_and_recursion_is_boxed() {
        let code = rendered();
        assert_has(
            &code,
            "#[derive(Debug, Clone, PartialEq, serde::Serialize)]\npub struct Settings {",
        );
        assert_has(&code, "pub child: Option<Box<Settings>>,");
        assert_has(
            &code,
            "pub fn new(level: impl Into<crate::Val<i64>>) -> Self {",
        );
        assert_has(&code, "Value: 1 to 9.");
        assert_has(&code, "aws-properties-demo-widget-settings.html");
    }

    #[test]
    fn a_struct_without_required_fields_derives_default() {
        let code = render_resource(&json!({
            "typeName": "AWS::Demo::Gadget",
            "properties": { "Size": { "type": "integer" } }
        }))
        .unwrap();
        assert_has(
            &code,
            "#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]\npub struct Gadget {",
        );
    }

    #[test]
    fn untyped_shapes_are_free_form_json() {
        let code = rendered();
        assert_has(&code, "pub document: Option<serde_json::Value>,");
        assert_has(&code, "pub variables: Option<serde_json::Value>,");
    }

    #[test]
    fn the_plain_tag_is_the_core_tag() {
        let code = rendered();
        assert_has(&code, "pub tags: Option<crate::Val<Vec<crate::Tag>>>,");
        assert!(!code.contains("pub struct Tag"), "{code}");
    }

    #[test]
    fn read_only_properties_are_attributes_not_fields() {
        let code = rendered();
        assert!(!code.contains("pub arn:"), "{code}");
        assert!(!code.contains("pub status:"), "{code}");
        assert_has(&code, "impl crate::Handle<Widget> {");
        assert_has(
            &code,
            "pub fn attr_arn(&self) -> crate::Expr {\n        self.get_att(\"Arn\")\n    }",
        );
        assert_has(&code, "pub fn attr_status_code(&self) -> crate::Expr {\n        self.get_att(\"Status.Code\")");
        assert_has(
            &code,
            "attributes: &[\"Arn\", \"Status\", \"Status.Code\"],",
        );
    }

    #[test]
    fn attributes_cfn_lint_accepts_beyond_read_only_ones_get_methods_too() {
        let mut schema = widget();
        schema["x-cfn-lint-getatts"] = json!(["Arn", "Name"]);
        let code = render_resource(&schema).unwrap();
        assert_has(&code, "pub fn attr_name(&self) -> crate::Expr {");
        assert_has(
            &code,
            "attributes: &[\"Arn\", \"Status\", \"Status.Code\", \"Name\"],",
        );
    }

    #[test]
    fn create_only_properties_feed_type_info_and_docs() {
        let code = rendered();
        assert_has(&code, "type_name: \"AWS::Demo::Widget\",");
        assert_has(&code, "create_only: &[\"Name\", \"Settings/Level\"],");
        assert_has(&code, "Required. Create-only: changing it replaces the resource. Length: 1 to 64 characters. Pattern: `^[a-z]+$`.");
    }

    #[test]
    fn every_file_starts_with_the_generated_header() {
        let code = rendered();
        assert!(code.starts_with(
            "// @generated by cfn-codegen from the CloudFormation resource provider schema for AWS::Demo::Widget. Do not edit by hand"
        ));
    }

    #[test]
    fn a_definition_named_like_the_resource_gets_a_suffix() {
        let code = render_resource(&json!({
            "typeName": "AWS::Demo::Policy",
            "definitions": { "Policy": { "type": "object", "properties": { "Name": { "type": "string" } } } },
            "properties": { "Policies": { "type": "array", "items": { "$ref": "#/definitions/Policy" } } }
        }))
        .unwrap();
        assert_has(
            &code,
            "pub policies: Option<crate::Val<Vec<PolicyProperty>>>,",
        );
        assert_has(&code, "pub struct PolicyProperty {");
    }
}
