//! Writing a validated document as YAML or JSON, with CloudFormation's size limits.

use serde_json::Value;

use crate::error::{SynthError, SynthErrors};

/// The largest body `create-stack --template-body` accepts; larger ones go through S3.
pub const INLINE_BODY_LIMIT: usize = 51_200;
/// The largest body CloudFormation accepts at all (`--template-url`).
pub const S3_BODY_LIMIT: usize = 1_000_000;

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// YAML, long-form intrinsics (`Fn::GetAtt:`), the same document as the JSON.
    Yaml,
    /// Pretty-printed JSON.
    Json,
}

/// A written template and what a deployer should know about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The template text, ending with a newline.
    pub body: String,
    /// Advice that does not stop synthesis (e.g. the body needs the S3 upload path).
    pub warnings: Vec<String>,
}

pub(crate) fn render(document: &Value, format: Format) -> Result<Rendered, SynthErrors> {
    let body = match format {
        Format::Json => {
            let mut text = serde_json::to_string_pretty(document).map_err(serialize_error)?;
            text.push('\n');
            text
        }
        Format::Yaml => crate::yaml::to_string(document),
    };
    let size = body.len();
    if size > S3_BODY_LIMIT {
        return Err(SynthErrors(vec![SynthError::TooLarge(size)]));
    }
    let mut warnings = Vec::new();
    if size > INLINE_BODY_LIMIT {
        warnings.push(format!(
            "the template body is {size} bytes, over the {INLINE_BODY_LIMIT}-byte limit of \
             --template-body: upload it to S3 and deploy with --template-url \
             (`aws cloudformation deploy --s3-bucket ...` does this for you)"
        ));
    }
    Ok(Rendered { body, warnings })
}

fn serialize_error(err: impl std::fmt::Display) -> SynthErrors {
    SynthErrors(vec![SynthError::Serialize {
        logical_id: "(template)".into(),
        message: err.to_string(),
    }])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn yaml_and_json_hold_the_same_document() {
        let doc = json!({"A": {"Fn::Sub": "${X}"}, "B": ["yes", "1", "on", "", "a: b"], "C": 1.5});
        let yaml = render(&doc, Format::Yaml).unwrap().body;
        let json_text = render(&doc, Format::Json).unwrap().body;
        let from_yaml: Value = serde_yaml::from_str(&yaml).unwrap();
        let from_json: Value = serde_json::from_str(&json_text).unwrap();
        assert_eq!(from_yaml, doc);
        assert_eq!(from_json, doc);
    }

    #[test]
    fn a_large_body_warns_and_a_huge_one_fails() {
        let big = json!({ "x": "a".repeat(60_000) });
        let rendered = render(&big, Format::Json).unwrap();
        assert!(
            rendered.warnings[0].contains("--template-url"),
            "{:?}",
            rendered.warnings
        );
        let huge = json!({ "x": "a".repeat(1_100_000) });
        let err = render(&huge, Format::Json).unwrap_err();
        assert!(matches!(err.0[0], SynthError::TooLarge(_)));
    }
}
