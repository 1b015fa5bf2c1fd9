//! Reading a template file (YAML or JSON, or stdin) into a generic JSON value.
//!
//! Templates are parsed generically, not into the typed model: `synth diff` must read any
//! template, including hand-written ones and those of other tools. CloudFormation's YAML
//! short forms (`!Ref`, `!GetAtt`, `!Sub`, ...) become their long forms, and
//! `Fn::GetAtt: "A.B"` becomes `["A", "B"]`, so two spellings of one template compare equal.
//!
//! JSON and YAML are read alike: a UTF-8 byte-order mark is skipped, and a mapping that
//! names one key twice is refused in both, naming the key and the line of its second
//! occurrence (JSON parsers usually keep the last one silently; CloudFormation refuses the
//! template, so a review must not show one of its two readings). Text that starts with `{`
//! but is not JSON is read as YAML, whose flow style
//! (`{Resources: {Q: {Type: AWS::SQS::Queue}}}`) looks like that. Text nesting brackets more
//! than 128 deep is refused before either parser reads it (see `nesting`), in linear time.

use std::cell::Cell;
use std::fmt;
use std::io::Read;
use std::path::Path;

use serde::de::value::{EnumAccessDeserializer, MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, VariantAccess, Visitor,
};
use serde::Deserialize;
use serde_json::{Map, Number, Value};

use super::nesting;

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
    /// Brackets nested deeper than any template: refused before parsing, which would take
    /// time quadratic in the depth (see `nesting`).
    #[error(
        "{name}: nested more than {limit} levels deep at line {line} column {column}; a \
         CloudFormation template never is"
    )]
    TooDeep {
        /// The file's name as given, or `<stdin>`.
        name: String,
        /// The deepest nesting read.
        limit: usize,
        /// The 1-based line of the bracket one level too deep.
        line: usize,
        /// Its 1-based column, in characters.
        column: usize,
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
    if let Some((line, column)) = nesting::too_deep(text, nesting::MAX_DEPTH) {
        return Err(LoadError::TooDeep {
            name: name.into(),
            limit: nesting::MAX_DEPTH,
            line,
            column,
        });
    }
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
    let unknown_tag = Cell::new(None);
    let reader = Yaml {
        unknown_tag: &unknown_tag,
    };
    reader
        .deserialize(serde_yaml::Deserializer::from_str(text))
        .map_err(|error| match unknown_tag.take() {
            Some(tag) => LoadError::Tag {
                name: name.into(),
                tag,
            },
            None => syntax(name, "YAML", &error),
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

/// The scalar methods of a `Visitor` whose value is a `serde_json::Value`, the same for
/// the JSON and the YAML reader: booleans, numbers (a float JSON cannot hold is null, as
/// `serde_json` makes it), strings and null.
macro_rules! scalar_visits {
    () => {
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
    };
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

    scalar_visits!();

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

/// Reads a YAML value straight into JSON: short-form tags become long-form intrinsics, and a
/// mapping naming one key twice is an error raised while its second key is read, so
/// serde_yaml places it at that key (`at line 4 column 3`), not at the mapping's start.
/// An unsupported tag is left in `unknown_tag` for [`LoadError::Tag`].
#[derive(Clone, Copy)]
struct Yaml<'a> {
    unknown_tag: &'a Cell<Option<String>>,
}

impl<'de> DeserializeSeed<'de> for Yaml<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Yaml<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a YAML value")
    }

    scalar_visits!();

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key_seed(YamlKey { seen: &out })? {
            let value = map.next_value_seed(self)?;
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Value, A::Error> {
        let (tag, contents): (String, _) = data.variant()?;
        let inner = contents.newtype_variant_seed(self)?;
        long_form(&tag, inner).ok_or_else(|| {
            let shown = format!("!{}", tag.strip_prefix('!').unwrap_or(&tag));
            let error = de::Error::custom(format!("unsupported YAML tag {shown}"));
            self.unknown_tag.set(Some(shown));
            error
        })
    }
}

/// Reads a mapping key as its template key ([`yaml_key`]), refusing one `seen` already.
struct YamlKey<'a> {
    seen: &'a Map<String, Value>,
}

impl YamlKey<'_> {
    fn fresh<E: de::Error>(self, key: String) -> Result<String, E> {
        if self.seen.contains_key(&key) {
            Err(E::custom(duplicate(&Trail::Root, &key)))
        } else {
            Ok(key)
        }
    }
}

impl<'de> DeserializeSeed<'de> for YamlKey<'_> {
    type Value = String;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<String, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for YamlKey<'_> {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a mapping key")
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<String, E> {
        self.fresh(value.to_string())
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<String, E> {
        self.fresh(serde_yaml::Number::from(value).to_string())
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<String, E> {
        self.fresh(serde_yaml::Number::from(value).to_string())
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<String, E> {
        self.fresh(serde_yaml::Number::from(value).to_string())
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<String, E> {
        self.fresh(value.to_owned())
    }

    fn visit_unit<E: de::Error>(self) -> Result<String, E> {
        self.fresh("null".to_owned())
    }

    fn visit_none<E: de::Error>(self) -> Result<String, E> {
        self.fresh("null".to_owned())
    }

    // Keys that are collections or tagged: rare, spelled as YAML.
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<String, A::Error> {
        let key = serde_yaml::Value::deserialize(SeqAccessDeserializer::new(seq))?;
        self.fresh(yaml_key(key))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<String, A::Error> {
        let key = serde_yaml::Value::deserialize(MapAccessDeserializer::new(map))?;
        self.fresh(yaml_key(key))
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<String, A::Error> {
        let key = serde_yaml::Value::deserialize(EnumAccessDeserializer::new(data))?;
        self.fresh(yaml_key(key))
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

/// The long form of a short-form tag (`Ref`, `GetAtt`, `Sub`, ... without the `!`) over
/// its value; `None` for a tag CloudFormation does not define.
fn long_form(tag: &str, inner: Value) -> Option<Value> {
    let name = tag.trim_start_matches('!');
    let (key, value) = match name {
        "Ref" => ("Ref".to_owned(), inner),
        "Condition" => ("Condition".to_owned(), inner),
        "GetAtt" => ("Fn::GetAtt".to_owned(), get_att_list(inner)),
        _ if FUNCTIONS.contains(&name) => (format!("Fn::{name}"), inner),
        _ => return None,
    };
    let mut map = Map::new();
    map.insert(key, value);
    Some(Value::Object(map))
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
                "t.yaml: not valid YAML: Resources: duplicate entry with key \"Q\" at line 4 \
                 column 3",
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

    /// serde_yaml alone names the mapping's first key's line; a reviewer needs the second
    /// occurrence's, which may be hundreds of lines further down.
    #[test]
    fn a_duplicate_yaml_key_is_reported_at_its_own_line() {
        let text = "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      \
                    QueueName: a\n      DelaySeconds: 1\n      QueueName: b\n  T:\n    \
                    Type: AWS::SNS::Topic\n  Q:\n    Type: AWS::SNS::Topic\n";
        let message = parse_template("t.yaml", text).unwrap_err().to_string();
        assert_eq!(
            message,
            "t.yaml: not valid YAML: Resources.Q.Properties: duplicate entry with key \
             \"QueueName\" at line 7 column 7"
        );
        let fixed = text.replacen("QueueName: b", "MessageRetentionPeriod: 60", 1);
        let message = parse_template("t.yaml", &fixed).unwrap_err().to_string();
        assert_eq!(
            message,
            "t.yaml: not valid YAML: Resources: duplicate entry with key \"Q\" at line 10 \
             column 3"
        );
        let tagged =
            "Resources:\n  Q:\n    Type: A\n    Properties:\n      N: !Sub [a, {x: 1, x: 2}]\n";
        let message = parse_template("t.yaml", tagged).unwrap_err().to_string();
        assert!(
            message.ends_with("duplicate entry with key \"x\" at line 5 column 26"),
            "{message}"
        );
    }

    /// 100,000 nested brackets took serde_yaml's parser tens of seconds before it reached
    /// its depth limit; they are refused at the first bracket past 128, JSON and YAML alike.
    #[test]
    fn brackets_nested_past_128_are_refused_naming_where() {
        let brackets = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let message = parse_template("deep.yaml", &brackets)
            .unwrap_err()
            .to_string();
        assert_eq!(
            message,
            "deep.yaml: nested more than 128 levels deep at line 1 column 129; a \
             CloudFormation template never is"
        );
        let objects = format!("{}1{}", r#"{"a":"#.repeat(40_000), "}".repeat(40_000));
        for name in ["deep.json", STDIN_NAME] {
            let message = parse_template(name, &objects).unwrap_err().to_string();
            assert!(
                message.starts_with(&format!(
                    "{name}: nested more than 128 levels deep at line 1 column 641"
                )),
                "{message}"
            );
        }
        let flow = format!(
            "Resources: {}1{}",
            "{a: ".repeat(40_000),
            "}".repeat(40_000)
        );
        let message = parse_template("deep.yaml", &flow).unwrap_err().to_string();
        assert!(message.contains("at line 1 column 524;"), "{message}");
        // As deep as the parsers go is still read.
        let fine = format!(
            "{{\"Resources\": {{\"Q\": {{\"Type\": \"T\", \"Properties\": {{\"A\": {}1{}}}}}}}}}",
            "[".repeat(124),
            "]".repeat(124)
        );
        assert!(parse_template("ok.json", &fine).is_ok());
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
