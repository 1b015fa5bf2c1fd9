//! A YAML writer for CloudFormation documents.
//!
//! General-purpose YAML emitters write `yes`, `on`, `2010-09-09` or `1_000` unquoted, which
//! YAML 1.2 reads as strings but YAML 1.1 parsers (PyYAML, and so cfn-lint and many review
//! tools) read as booleans, dates and numbers. This writer leaves a string plain only when
//! every YAML version reads it back as the same string, and quotes everything else with
//! JSON's escapes, which YAML's double-quoted style shares. Multi-line strings (the
//! dashboard body) become literal blocks so a reviewer can read them.

use std::fmt::Write;

use serde_json::Value;

/// The document as block-style YAML, ending with a newline.
pub fn to_string(document: &Value) -> String {
    let mut out = String::new();
    match document {
        Value::Object(map) if !map.is_empty() => write_map(&mut out, map, 0),
        Value::Array(items) if !items.is_empty() => write_seq(&mut out, items, 0),
        scalar => {
            out.push_str(&inline(scalar, 0));
            out.push('\n');
        }
    }
    out
}

fn write_map(out: &mut String, map: &serde_json::Map<String, Value>, indent: usize) {
    for (key, value) in map {
        pad(out, indent);
        out.push_str(&string(key, indent));
        out.push(':');
        write_child(out, value, indent);
    }
}

fn write_seq(out: &mut String, items: &[Value], indent: usize) {
    for item in items {
        pad(out, indent);
        out.push('-');
        match item {
            // A mapping in a sequence starts on the dash's line: `- Key: value`.
            Value::Object(map) if !map.is_empty() => {
                let mut nested = String::new();
                write_map(&mut nested, map, indent + 2);
                out.push(' ');
                out.push_str(&nested[indent + 2..]);
            }
            other => write_child(out, other, indent),
        }
    }
}

/// Writes what follows `key:` or `-`: a scalar on the same line, a collection below it.
fn write_child(out: &mut String, value: &Value, indent: usize) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push('\n');
            write_map(out, map, indent + 2);
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            write_seq(out, items, indent + 2);
        }
        scalar => {
            out.push(' ');
            out.push_str(&inline(scalar, indent + 2));
            out.push('\n');
        }
    }
}

fn inline(value: &Value, indent: usize) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => string(s, indent),
        Value::Array(_) => "[]".into(),
        Value::Object(_) => "{}".into(),
    }
}

fn string(text: &str, indent: usize) -> String {
    if is_plain_safe(text) {
        text.to_owned()
    } else if is_block_safe(text) {
        let mut block = String::from("|-");
        for line in text.split('\n') {
            block.push('\n');
            if !line.is_empty() {
                let _ = write!(block, "{:indent$}{line}", "");
            }
        }
        block
    } else {
        // JSON string syntax is valid YAML double-quoted style in YAML 1.1 and 1.2.
        serde_json::Value::String(text.to_owned()).to_string()
    }
}

/// Words YAML 1.1 reads as booleans or null, in any of their spellings.
const RESERVED: &[&str] = &["y", "yes", "n", "no", "true", "false", "on", "off", "null"];

/// A plain scalar must start with a letter (so it is never a number, date, anchor, tag or
/// indicator), use only characters that carry no meaning in plain scalars, never hold `: `
/// or end with `:`, and not be a reserved word.
fn is_plain_safe(text: &str) -> bool {
    let Some(first) = text.chars().next() else {
        return false;
    };
    first.is_ascii_alphabetic()
        && !text.ends_with([' ', ':'])
        && !text.contains(": ")
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || " _-./:@()+,=?;<>".contains(c))
        && !RESERVED.iter().any(|word| text.eq_ignore_ascii_case(word))
}

/// A literal block keeps every character but cannot express trailing spaces on a line, a
/// first line that starts with a space, carriage returns or control characters.
fn is_block_safe(text: &str) -> bool {
    text.contains('\n')
        && !text.starts_with([' ', '\n'])
        && !text.ends_with('\n')
        && text.split('\n').all(|line| !line.ends_with([' ', '\t']))
        && !text
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t')
}

fn pad(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn round_trip(value: &Value) -> Value {
        let text = to_string(value);
        serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
    }

    #[test]
    fn yaml_1_1_look_alikes_are_quoted() {
        for word in [
            "yes",
            "No",
            "ON",
            "off",
            "y",
            "N",
            "true",
            "null",
            "~",
            "2010-09-09",
            "1_000",
            "1:20",
            "=",
            "<<",
        ] {
            let text = to_string(&json!({ "k": word }));
            assert_ne!(text, format!("k: {word}\n"), "{word} must be quoted");
        }
    }

    #[test]
    fn ordinary_names_stay_plain() {
        let doc = json!({"Fn::GetAtt": ["DataKey", "Arn"], "Type": "AWS::KMS::Key", "Name": "retail-events-dev"});
        assert_eq!(
            to_string(&doc),
            "Fn::GetAtt:\n  - DataKey\n  - Arn\nType: AWS::KMS::Key\nName: retail-events-dev\n"
        );
    }

    #[test]
    fn tricky_strings_survive_a_round_trip() {
        let strings = [
            "",
            " lead",
            "trail ",
            "a: b",
            "a #b",
            "#x",
            "- x",
            "!Ref x",
            "*x",
            "&x",
            "%x",
            "@x",
            "`x",
            "'q'",
            "\"dq\"",
            "tab\there",
            "multi\nline",
            "multi\n  indented\n\nblank",
            "ends\n",
            "\nstarts",
            "cr\r\nlf",
            "uni ✓ “x”",
            "${AWS::Region}",
            "arn:${AWS::Partition}:iam::${AWS::AccountId}:root",
            "1e3",
            ".5",
            "0x1F",
            "-1",
            "{a}",
            "[a]",
            "a,b",
            "?x",
            "|x",
            ">x",
            "trailing spaces  \nline",
        ];
        for s in strings {
            let doc = json!({ "k": s, "list": [s, { "n": s }] });
            assert_eq!(round_trip(&doc), doc, "{s:?}");
        }
    }

    #[test]
    fn nested_collections_and_scalars_round_trip() {
        let doc = json!({
            "a": [[1, 2], [], {}, {"x": [{"y": true}]}],
            "b": {"c": null, "d": 1.5, "e": -3, "f": {}},
            "g": [{"h": 1, "i": [1]}],
        });
        assert_eq!(round_trip(&doc), doc);
    }

    #[test]
    fn multi_line_strings_become_literal_blocks() {
        let text = to_string(&json!({"Body": "{\n  \"a\": 1\n}"}));
        assert_eq!(text, "Body: |-\n  {\n    \"a\": 1\n  }\n");
    }
}
