//! `synth diff OLD NEW`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use serde_json::Value;

use review::diff;
use synth::config::warnings::WindowedMapping;

/// Compare two templates: resources, replacements, IAM statements, parameters, outputs.
///
/// OLD and NEW are CloudFormation templates in YAML (short-form tags like !Ref allowed) or
/// JSON. Shows resources added, removed and modified with their property changes, which
/// ones are replaced (from the resource schemas' create-only properties), IAM statements
/// added and removed, and parameter, condition and output changes. When NEW brings an event
/// source mapping's tumbling window together with a setting whose behaviour with windows AWS
/// does not document (a parallelization factor over 1, bisection, enhanced fan-out), a
/// warning on stderr says so.
///
/// Exit status: 0 the templates are equal, 1 they differ, 2 a file cannot be read or is not
/// a template.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The old template (`-` reads stdin).
    #[arg(value_name = "OLD")]
    pub old: PathBuf,

    /// The new template (`-` reads stdin; only one of OLD and NEW may be `-`).
    #[arg(value_name = "NEW")]
    pub new: PathBuf,

    /// Output format: text for a terminal, markdown for a pull request comment, JSON for
    /// scripts (its shape: docs/review.md).
    #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
    pub format: DiffFormat,
}

/// How the diff is printed.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DiffFormat {
    /// cdk-diff-like text; coloured on a terminal unless NO_COLOR is set.
    Text,
    /// GitHub-flavoured markdown with a summary line and tables.
    Markdown,
    /// One JSON document with every change and its values in full.
    Json,
}

/// Runs the comparison and prints it.
pub fn run(args: &DiffArgs) -> ExitCode {
    if args.old.as_os_str() == "-" && args.new.as_os_str() == "-" {
        eprintln!("error: only one of OLD and NEW may be `-` (stdin)");
        return ExitCode::from(2);
    }
    let load = |path: &PathBuf| {
        diff::read_template(path).map_err(|err| {
            eprintln!("error: {err}");
            ExitCode::from(2)
        })
    };
    let (old, new) = match (load(&args.old), load(&args.new)) {
        (Ok(old), Ok(new)) => (old, new),
        (Err(code), _) | (_, Err(code)) => return code,
    };
    let name = |path: &PathBuf| {
        if path.as_os_str() == "-" {
            diff::load::STDIN_NAME.to_owned()
        } else {
            path.display().to_string()
        }
    };
    let before = window_warnings(&old);
    for warning in window_warnings(&new) {
        if !before.contains(&warning) {
            eprintln!("warning: {warning}");
        }
    }
    let result = diff::diff(&old, &new);
    let text = match args.format {
        DiffFormat::Text => diff::text::render(
            &result,
            &name(&args.old),
            &name(&args.new),
            super::colour_stdout(),
        ),
        DiffFormat::Markdown => diff::markdown::render(&result, &name(&args.old), &name(&args.new)),
        DiffFormat::Json => {
            let document = diff::json::render(&result, &name(&args.old), &name(&args.new));
            let mut text = serde_json::to_string_pretty(&document).unwrap_or_default();
            text.push('\n');
            text
        }
    };
    if let Err(err) = super::print_stdout(&text) {
        eprintln!("error: cannot write the diff: {err}");
        return ExitCode::from(2);
    }
    if result.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// The warnings of every event source mapping of a template with a tumbling window
/// ([`WindowedMapping::warnings`]), read from its properties.
pub fn window_warnings(template: &Value) -> Vec<String> {
    let Some(resources) = template.get("Resources").and_then(Value::as_object) else {
        return Vec::new();
    };
    let type_of = |id: &str| {
        resources
            .get(id)
            .and_then(|r| r.get("Type"))
            .and_then(Value::as_str)
    };
    let number = |value: Option<&Value>| {
        value
            .and_then(|v| v.as_u64().or_else(|| v.as_str()?.parse().ok()))
            .and_then(|n| u32::try_from(n).ok())
    };
    resources
        .values()
        .filter(|r| {
            r.get("Type").and_then(Value::as_str) == Some("AWS::Lambda::EventSourceMapping")
        })
        .filter_map(|r| r.get("Properties"))
        .flat_map(|p| {
            let source = p.get("EventSourceArn");
            // A consumer's ARN: `Fn::GetAtt [Consumer, ConsumerARN]` or `Ref Consumer` of an
            // AWS::Kinesis::StreamConsumer, or a literal ARN with `/consumer/`.
            let referenced = source.and_then(|s| {
                s.get("Ref")
                    .and_then(Value::as_str)
                    .or_else(|| s.pointer("/Fn::GetAtt/0").and_then(Value::as_str))
            });
            let enhanced_fan_out = referenced
                .is_some_and(|id| type_of(id) == Some("AWS::Kinesis::StreamConsumer"))
                || source
                    .and_then(Value::as_str)
                    .is_some_and(|arn| arn.contains("/consumer/"));
            let bisect = match p.get("BisectBatchOnFunctionError") {
                Some(Value::Bool(on)) => *on,
                Some(Value::String(text)) => text == "true",
                _ => false,
            };
            WindowedMapping {
                window_seconds: number(p.get("TumblingWindowInSeconds")).unwrap_or(0),
                parallelization_factor: number(p.get("ParallelizationFactor")).unwrap_or(1),
                bisect,
                enhanced_fan_out,
            }
            .warnings()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use synth::config::Config;

    fn template(sets: &[&str]) -> Value {
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        let config = Config::load(None, None, &sets).expect("valid");
        synth::stack::build(&config).to_document().unwrap()
    }

    /// A template says what its configuration says.
    #[test]
    fn a_templates_warnings_are_its_configurations() {
        for sets in [
            &[][..],
            &["aggregate_window_seconds=0"][..],
            &["lambda_bisect_batch_on_function_error=false"][..],
            &[
                "lambda_parallelization_factor=4",
                "kinesis_consumer=enhanced-fan-out",
            ][..],
        ] {
            let strings: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
            let config = Config::load(None, None, &strings).unwrap();
            assert_eq!(
                window_warnings(&template(sets)),
                WindowedMapping::of(&config).warnings(),
                "{sets:?}"
            );
        }
        assert_eq!(
            window_warnings(&template(&[
                "lambda_parallelization_factor=4",
                "kinesis_consumer=enhanced-fan-out"
            ]))
            .len(),
            3
        );
    }

    #[test]
    fn literal_values_are_read_too() {
        let doc = serde_json::json!({"Resources": {"M": {
            "Type": "AWS::Lambda::EventSourceMapping",
            "Properties": {
                "EventSourceArn": "arn:aws:kinesis:us-east-1:1:stream/s/consumer/c:1",
                "TumblingWindowInSeconds": "30",
                "ParallelizationFactor": 2,
                "BisectBatchOnFunctionError": "false"
            }
        }}});
        let found = window_warnings(&doc);
        assert_eq!(found.len(), 2, "{found:#?}");
        assert!(found[0].contains("lambda_parallelization_factor = 2"));
        assert!(found[1].contains("kinesis_consumer = enhanced-fan-out"));
        assert!(window_warnings(&serde_json::json!({})).is_empty());
    }
}
