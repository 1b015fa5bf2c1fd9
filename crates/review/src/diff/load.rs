//! Reading a template file (YAML or JSON, or stdin) into a generic JSON value.
//!
//! Templates are parsed generically, not into the typed model: `synth diff` must read any
//! template, including hand-written ones and those of other tools. CloudFormation's YAML
//! short forms (`!Ref`, `!GetAtt`, `!Sub`, ...) become their long forms, and
//! `Fn::GetAtt: "A.B"` becomes `["A", "B"]`, so two spellings of one template compare equal.
//!
//! JSON and YAML are read alike: a UTF-8 byte-order mark is skipped, and a mapping that
//! names one key twice is refused in both, naming the key (JSON parsers usually keep the
//! last one silently; CloudFormation refuses the template, so a review must not show one
//! of its two readings). Text that starts with `{` but is not JSON is read as YAML, whose
//! flow style (`{Resources: {Q: {Type: AWS::SQS::Queue}}}`) looks like that.

use std::fmt;
use std::io::Read;
use std::path::Path;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
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

/// Parses template text; `name` labels errors. Text starting with `{` is JSON when it parses
/// as JSON and YAML's flow style otherwise; anything else is YAML. When text starting with
/// `{` is neither, the JSON error is reported, or the YAML one for a `.yaml`/`.yml` name.
pub fn parse_template(name: &str, text: &str) -> Result<Value, LoadError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let document = if text.trim_start().starts_with('{') {
        match parse_json(text) {
            Ok(document) => document,
            // A duplicate key: JSON, and wrong. YAML would refuse it too.
            Err(error) if error.is_data() => return Err(syntax(name, "JSON", &error)),
            Err(json_error) => match parse_yaml(name, text) {
                Err(LoadError::Syntax { .. }) if !yaml_name(name) => {
                    return Err(syntax(name, "JSON", &json_error))
                }
                other => other?,
            },
        }
    } else {
        parse_yaml(name, text)?
    };
    let document = normalize(document);
    check_shape(&document).map_err(|reason| LoadError::NotTemplate {
        name: name.into(),
        reason,
    })?;
    Ok(document)
}

fn syntax(name: &str, format: &'static str, message: &dyn fmt::Display) -> LoadError {
    LoadError::Syntax {
        name: name.into(),
        format,
        message: message.to_string(),
    }
}

fn yaml_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name.ends_with(".yaml") || name.ends_with(".yml")
}

fn parse_json(text: &str) -> Result<Value, serde_json::Error> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let value = Strict(&Trail::Root).deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(value)
}

fn parse_yaml(name: &str, text: &str) -> Result<Value, LoadError> {
    let yaml: serde_yaml::Value =
        serde_yaml::from_str(text).map_err(|error| syntax(name, "YAML", &error))?;
    from_yaml(yaml, &Trail::Root).map_err(|error| match error {
        Unreadable::Tag(tag) => LoadError::Tag {
            name: name.into(),
            tag,
        },
        Unreadable::Duplicate(message) => syntax(name, "YAML", &message),
    })
}

/// Where in a document a value sits, for naming a duplicate key's mapping the way
/// serde_yaml does (`Resources.Queue.Properties`); built on the stack as the parser
/// descends, so reading costs nothing extra.
enum Trail<'a> {
    Root,
    Key(&'a Trail<'a>, &'a str),
    Index(&'a Trail<'a>, usize),
}

impl fmt::Display for Trail<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Trail::Root => Ok(()),
            Trail::Key(Trail::Root, key) => write!(f, "{key}"),
            Trail::Key(parent, key) => write!(f, "{parent}.{key}"),
            Trail::Index(parent, index) => write!(f, "{parent}[{index}]"),
        }
    }
}

/// The message for a key given twice, worded as serde_yaml words it for YAML.
fn duplicate(trail: &Trail, key: &str) -> String {
    match trail {
        Trail::Root => format!("duplicate entry with key {key:?}"),
        _ => format!("{trail}: duplicate entry with key {key:?}"),
    }
}

/// Reads a JSON value as `serde_json::Value` does, except that a mapping naming one key
/// twice is an error rather than its last value.
struct Strict<'a>(&'a Trail<'a>);

impl<'de> DeserializeSeed<'de> for Strict<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Value, E> {
        Ok(Number::from_f64(value).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(Strict(&Trail::Index(self.0, items.len())))? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(de::Error::custom(duplicate(self.0, &key)));
            }
            let value = map.next_value_seed(Strict(&Trail::Key(self.0, &key)))?;
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}

/// Why a parsed YAML document cannot be converted.
enum Unreadable {
    /// A tag that is not a CloudFormation short form.
    Tag(String),
    /// Two keys that are different YAML (`1` and `'1'`) but the same template key.
    Duplicate(String),
}

/// Converts YAML to JSON, turning short-form tags into long-form intrinsics.
fn from_yaml(yaml: serde_yaml::Value, trail: &Trail) -> Result<Value, Unreadable> {
    use serde_yaml::Value as Y;
    Ok(match yaml {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => yaml_number(&n),
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(
            items
                .into_iter()
                .enumerate()
                .map(|(index, item)| from_yaml(item, &Trail::Index(trail, index)))
                .collect::<Result<_, _>>()?,
        ),
        Y::Mapping(mapping) => {
            let mut out = Map::new();
            for (key, value) in mapping {
                let key = yaml_key(key);
                if out.contains_key(&key) {
                    return Err(Unreadable::Duplicate(duplicate(trail, &key)));
                }
                let value = from_yaml(value, &Trail::Key(trail, &key))?;
                out.insert(key, value);
            }
            Value::Object(out)
        }
        Y::Tagged(tagged) => long_form(*tagged, trail)?,
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

fn long_form(tagged: TaggedValue, trail: &Trail) -> Result<Value, Unreadable> {
    let tag = tagged.tag.to_string();
    let name = tag.trim_start_matches('!');
    let inner = from_yaml(tagged.value, trail)?;
    let (key, value) = match name {
        "Ref" => ("Ref".to_owned(), inner),
        "Condition" => ("Condition".to_owned(), inner),
        "GetAtt" => ("Fn::GetAtt".to_owned(), get_att_list(inner)),
        _ if FUNCTIONS.contains(&name) => (format!("Fn::{name}"), inner),
        _ => return Err(Unreadable::Tag(tag)),
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

    const BLOCK: &str = "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      \
                         QueueName: !Ref Name\n";

    #[test]
    fn duplicate_keys_are_refused_in_json_and_yaml_naming_the_key() {
        let cases = [
            (
                "t.json",
                r#"{"Resources": {"Q": {"Type": "AWS::SQS::Queue"},
                                  "Q": {"Type": "AWS::SNS::Topic"}}}"#,
                "t.json: not valid JSON: Resources: duplicate entry with key \"Q\" at line 2",
            ),
            (
                "t.json",
                r#"{"Resources": {}, "Resources": {}}"#,
                "t.json: not valid JSON: duplicate entry with key \"Resources\" at line 1",
            ),
            (
                "t.yaml",
                "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n  Q:\n    Type: AWS::SNS::Topic\n",
                "t.yaml: not valid YAML: Resources: duplicate entry with key \"Q\" at line 2",
            ),
            (
                "t.yaml",
                "{Resources: {Q: {Type: A, Properties: {N: 1, N: 2}}}}",
                "t.yaml: not valid YAML: Resources.Q.Properties: duplicate entry with key \"N\"",
            ),
            (
                "t.yaml",
                "Resources:\n  Q:\n    Type: A\n    Properties:\n      L: [{1: a, '1': b}]\n",
                "t.yaml: not valid YAML: Resources.Q.Properties.L[0]: duplicate entry with key \
                 \"1\"",
            ),
        ];
        for (name, text, expected) in cases {
            let message = parse_template(name, text).unwrap_err().to_string();
            assert!(message.starts_with(expected), "{text}: {message}");
        }
    }

    #[test]
    fn flow_style_yaml_is_read_as_yaml() {
        let flow = "{Resources: {Q: {Type: AWS::SQS::Queue, Properties: {QueueName: !Ref Name}}}}";
        let block = parse_template("block.yaml", BLOCK).expect("block style parses");
        assert_eq!(
            parse_template("flow.yaml", flow).expect("flow style parses"),
            block
        );
        // Without a name saying YAML too: JSON is tried first, then YAML.
        assert_eq!(parse_template(STDIN_NAME, flow).expect("from stdin"), block);
        let unknown = parse_template("f.yaml", "{Resources: {Q: {Type: !Foo x}}}").unwrap_err();
        assert!(
            unknown.to_string().contains("unsupported YAML tag !Foo"),
            "{unknown}"
        );
        let broken = parse_template("f.yaml", "{Resources: [")
            .unwrap_err()
            .to_string();
        assert!(broken.starts_with("f.yaml: not valid YAML"), "{broken}");
    }

    #[test]
    fn a_byte_order_mark_is_skipped_in_json_and_yaml() {
        let block = parse_template("block.yaml", BLOCK).unwrap();
        let bom_yaml = format!("\u{feff}{BLOCK}");
        assert_eq!(
            parse_template("bom.yaml", &bom_yaml).expect("YAML with a BOM"),
            block
        );
        let json = r#"{"Resources": {"Q": {"Type": "AWS::SQS::Queue",
                      "Properties": {"QueueName": {"Ref": "Name"}}}}}"#;
        let bom_json = format!("\u{feff}{json}");
        assert_eq!(
            parse_template("bom.json", &bom_json).expect("JSON with a BOM"),
            block
        );
        // Read as JSON, not as YAML's flow style: a duplicate key gets JSON's message.
        let duplicate = "\u{feff}{\"a\": 1, \"a\": 2}";
        let message = parse_template("d.json", duplicate).unwrap_err().to_string();
        assert!(
            message.starts_with("d.json: not valid JSON: duplicate entry"),
            "{message}"
        );
    }

    #[test]
    fn a_missing_file_is_named() {
        let err = read_template(Path::new("/nonexistent/x.yaml")).unwrap_err();
        assert!(err
            .to_string()
            .starts_with("/nonexistent/x.yaml: cannot read"));
    }
}
