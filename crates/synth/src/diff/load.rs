//! Reading a template file (YAML or JSON, or stdin) into a generic JSON value.
//!
//! Templates are parsed generically, not into the typed model: `synth diff` must read any
//! template, including hand-written ones and those of other tools. CloudFormation's YAML
//! short forms (`!Ref`, `!GetAtt`, `!Sub`, ...) become their long forms, and
//! `Fn::GetAtt: "A.B"` becomes `["A", "B"]`, so two spellings of one template compare equal.

use std::io::Read;
use std::path::Path;

use serde_json::{Map, Number, Value};
use serde_yaml::value::TaggedValue;

/// Why a template could not be read. Every message starts with the file's name.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file (or stdin) could not be read.
    #[error("{name}: cannot read: {source}")]
    Read {
        /// The file's name as given, or `<stdin>`.
        name: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The text is neither JSON nor YAML.
    #[error("{name}: not valid {format}: {message}")]
    Syntax {
        /// The file's name as given, or `<stdin>`.
        name: String,
        /// `JSON` or `YAML`.
        format: &'static str,
        /// The parser's message, with line and column.
        message: String,
    },
    /// A YAML tag that is not one of CloudFormation's short forms.
    #[error(
        "{name}: unsupported YAML tag {tag}; CloudFormation's short forms are !Ref, !GetAtt, \
         !Sub, !Join, !If, !Equals, !Not, !And, !Or, !Select, !Split, !FindInMap, !Base64, \
         !Cidr, !GetAZs, !ImportValue, !Condition"
    )]
    Tag {
        /// The file's name as given, or `<stdin>`.
        name: String,
        /// The tag, e.g. `!Foo`.
        tag: String,
    },
    /// Valid YAML or JSON, but not shaped like a CloudFormation template.
    #[error("{name}: not a CloudFormation template: {reason}")]
    NotTemplate {
        /// The file's name as given, or `<stdin>`.
        name: String,
        /// What is missing or malformed.
        reason: String,
    },
}

/// The name stdin is reported under.
pub const STDIN_NAME: &str = "<stdin>";

/// Reads and parses a template from a path, or from stdin when the path is `-`.
pub fn read_template(path: &Path) -> Result<Value, LoadError> {
    let (name, text) = if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|source| LoadError::Read {
                name: STDIN_NAME.into(),
                source,
            })?;
        (STDIN_NAME.to_owned(), text)
    } else {
        let name = path.display().to_string();
        match std::fs::read_to_string(path) {
            Ok(text) => (name, text),
            Err(source) => return Err(LoadError::Read { name, source }),
        }
    };
    parse_template(&name, &text)
}

/// Parses template text: JSON when it starts with `{`, YAML otherwise. `name` labels errors.
pub fn parse_template(name: &str, text: &str) -> Result<Value, LoadError> {
    let document = if text.trim_start().starts_with('{') {
        serde_json::from_str(text).map_err(|error| LoadError::Syntax {
            name: name.into(),
            format: "JSON",
            message: error.to_string(),
        })?
    } else {
        let yaml: serde_yaml::Value =
            serde_yaml::from_str(text).map_err(|error| LoadError::Syntax {
                name: name.into(),
                format: "YAML",
                message: error.to_string(),
            })?;
        from_yaml(yaml).map_err(|tag| LoadError::Tag {
            name: name.into(),
            tag,
        })?
    };
    let document = normalize(document);
    check_shape(&document).map_err(|reason| LoadError::NotTemplate {
        name: name.into(),
        reason,
    })?;
    Ok(document)
}

/// Converts YAML to JSON, turning short-form tags into long-form intrinsics. The error is
/// the first unsupported tag.
fn from_yaml(yaml: serde_yaml::Value) -> Result<Value, String> {
    use serde_yaml::Value as Y;
    Ok(match yaml {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => yaml_number(&n),
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => {
            Value::Array(items.into_iter().map(from_yaml).collect::<Result<_, _>>()?)
        }
        Y::Mapping(mapping) => {
            let mut out = Map::new();
            for (key, value) in mapping {
                out.insert(yaml_key(key), from_yaml(value)?);
            }
            Value::Object(out)
        }
        Y::Tagged(tagged) => long_form(*tagged)?,
    })
}

fn yaml_number(n: &serde_yaml::Number) -> Value {
    if let Some(i) = n.as_i64() {
        Value::from(i)
    } else if let Some(u) = n.as_u64() {
        Value::from(u)
    } else {
        n.as_f64()
            .and_then(Number::from_f64)
            .map_or(Value::Null, Value::Number)
    }
}

/// A mapping key as text: CloudFormation keys are strings, but YAML allows `1:` or `true:`.
fn yaml_key(key: serde_yaml::Value) -> String {
    match key {
        serde_yaml::Value::String(s) => s,
        serde_yaml::Value::Bool(b) => b.to_string(),
        serde_yaml::Value::Number(n) => n.to_string(),
        serde_yaml::Value::Null => "null".into(),
        other => serde_yaml::to_string(&other)
            .unwrap_or_default()
            .trim()
            .to_owned(),
    }
}

/// The short-form tags CloudFormation defines, by tag name without `!`.
const FUNCTIONS: &[&str] = &[
    "Base64",
    "Cidr",
    "FindInMap",
    "GetAZs",
    "ImportValue",
    "Join",
    "Select",
    "Split",
    "Sub",
    "Transform",
    "If",
    "Equals",
    "Not",
    "And",
    "Or",
    "ToJsonString",
    "Length",
];

fn long_form(tagged: TaggedValue) -> Result<Value, String> {
    let tag = tagged.tag.to_string();
    let name = tag.trim_start_matches('!');
    let inner = from_yaml(tagged.value)?;
    let (key, value) = match name {
        "Ref" => ("Ref".to_owned(), inner),
        "Condition" => ("Condition".to_owned(), inner),
        "GetAtt" => ("Fn::GetAtt".to_owned(), get_att_list(inner)),
        _ if FUNCTIONS.contains(&name) => (format!("Fn::{name}"), inner),
        _ => return Err(tag),
    };
    let mut map = Map::new();
    map.insert(key, value);
    Ok(Value::Object(map))
}

/// `A.B` (or `A.B.C` for nested attributes) as `["A", "B"]` / `["A", "B.C"]`.
fn get_att_list(value: Value) -> Value {
    match value {
        Value::String(text) => match text.split_once('.') {
            Some((resource, attribute)) => Value::Array(vec![resource.into(), attribute.into()]),
            None => Value::String(text),
        },
        other => other,
    }
}

/// Rewrites equivalent spellings to one: `Fn::GetAtt: "A.B"` to the list form.
fn normalize(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut out = Map::new();
            for (key, value) in map {
                let value = normalize(value);
                let value = if key == "Fn::GetAtt" {
                    get_att_list(value)
                } else {
                    value
                };
                out.insert(key, value);
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.into_iter().map(normalize).collect()),
        other => other,
    }
}

/// A template is a mapping with a `Resources` mapping whose entries each have a `Type`; the
/// other sections, when present, are mappings.
fn check_shape(document: &Value) -> Result<(), String> {
    let Some(top) = document.as_object() else {
        return Err(format!(
            "expected a mapping at the top level, got {}",
            kind(document)
        ));
    };
    let Some(resources) = top.get("Resources") else {
        return Err("no Resources section".into());
    };
    let Some(resources) = resources.as_object() else {
        return Err(format!(
            "Resources must be a mapping, got {}",
            kind(resources)
        ));
    };
    for (id, resource) in resources {
        match resource.get("Type") {
            Some(Value::String(_)) => {}
            Some(other) => {
                return Err(format!(
                    "resource {id}: Type must be a string, got {}",
                    kind(other)
                ))
            }
            None => return Err(format!("resource {id} has no Type")),
        }
    }
    for section in ["Parameters", "Conditions", "Mappings", "Outputs"] {
        if let Some(value) = top.get(section) {
            if !value.is_object() {
                return Err(format!("{section} must be a mapping, got {}", kind(value)));
            }
        }
    }
    Ok(())
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn short_forms_become_long_forms() {
        let text = "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      \
                    QueueName: !Sub '${AWS::StackName}-q'\n      A: !Ref Param\n      \
                    B: !GetAtt Other.Arn\n      C: !Join ['-', [a, !Ref Param]]\n      \
                    D: !If [Cond, 1, !Ref 'AWS::NoValue']\n";
        let doc = parse_template("t.yaml", text).expect("parses");
        let props = &doc["Resources"]["Q"]["Properties"];
        assert_eq!(
            props["QueueName"],
            json!({"Fn::Sub": "${AWS::StackName}-q"})
        );
        assert_eq!(props["A"], json!({"Ref": "Param"}));
        assert_eq!(props["B"], json!({"Fn::GetAtt": ["Other", "Arn"]}));
        assert_eq!(
            props["C"],
            json!({"Fn::Join": ["-", ["a", {"Ref": "Param"}]]})
        );
        assert_eq!(
            props["D"],
            json!({"Fn::If": ["Cond", 1, {"Ref": "AWS::NoValue"}]})
        );
    }

    #[test]
    fn dotted_get_att_in_long_form_is_normalized() {
        let json_text =
            r#"{"Resources": {"Q": {"Type": "T", "Properties": {"A": {"Fn::GetAtt": "X.Arn"}}}}}"#;
        let doc = parse_template("t.json", json_text).expect("parses");
        assert_eq!(
            doc["Resources"]["Q"]["Properties"]["A"],
            json!({"Fn::GetAtt": ["X", "Arn"]})
        );
    }

    #[test]
    fn an_unknown_tag_is_named() {
        let err = parse_template("t.yaml", "Resources:\n  Q:\n    Type: !Foo x\n").unwrap_err();
        let message = err.to_string();
        assert!(message.starts_with("t.yaml: "), "{message}");
        assert!(message.contains("!Foo"), "{message}");
    }

    #[test]
    fn documents_that_are_not_templates_say_why() {
        let cases = [
            ("- a\n- b\n", "expected a mapping"),
            ("Description: x\n", "no Resources section"),
            ("Resources: 3\n", "Resources must be a mapping"),
            (
                "Resources:\n  Q:\n    Properties: {}\n",
                "resource Q has no Type",
            ),
        ];
        for (text, expected) in cases {
            let message = parse_template("f.yaml", text).unwrap_err().to_string();
            assert!(message.contains(expected), "{text:?}: {message}");
            assert!(message.starts_with("f.yaml: not a CloudFormation template"));
        }
    }

    #[test]
    fn syntax_errors_name_the_file_and_format() {
        let message = parse_template("bad.json", "{ nope")
            .unwrap_err()
            .to_string();
        assert!(message.starts_with("bad.json: not valid JSON"), "{message}");
        let message = parse_template("bad.yaml", "a: [b").unwrap_err().to_string();
        assert!(message.starts_with("bad.yaml: not valid YAML"), "{message}");
    }

    #[test]
    fn a_missing_file_is_named() {
        let err = read_template(Path::new("/nonexistent/x.yaml")).unwrap_err();
        assert!(err
            .to_string()
            .starts_with("/nonexistent/x.yaml: cannot read"));
    }
}
