//! Change sets: `no-changes REASON`, `failed-change-set ... REASON` and
//! `change-set-parameters KEY=VALUE...`.

use clap::Args;
use serde_json::{json, Value};

use super::Answer;

/// Whether REASON says a change set is empty: exit 0 when it does, 1 when it does not.
///
/// REASON is a change set's StatusReason ("The submitted information didn't contain
/// changes..."), or the error the aws CLI printed when create-change-set or deploy was
/// refused outright ("No updates are to be performed", as moto does). Prints nothing.
#[derive(Debug, Args)]
pub struct NoChangesArgs {
    /// The status reason or the aws CLI's error text.
    #[arg(value_name = "REASON", allow_hyphen_values = true)]
    pub reason: String,
}

/// describe-change-set JSON for an empty change set refused at its creation.
///
/// moto refuses to create an empty change set where AWS creates it and fails it; this
/// prints what AWS's describe-change-set would have (Status FAILED, no changes), with the
/// StatusReason cut from the aws CLI's error after "operation: ", for
/// `synth changeset-report`.
#[derive(Debug, Args)]
pub struct FailedChangeSetArgs {
    /// The change set's name.
    #[arg(long, value_name = "NAME")]
    pub change_set_name: String,

    /// The stack's name.
    #[arg(long, value_name = "NAME")]
    pub stack_name: String,

    /// The error the aws CLI printed for create-change-set.
    #[arg(value_name = "REASON", allow_hyphen_values = true)]
    pub reason: String,
}

/// The `--parameters` JSON of create-change-set, from KEY=VALUE words.
///
/// Each word is split at its first `=`; the value may be empty (AlertEmail= for no topic)
/// and may hold any character, which the aws CLI's shorthand syntax could not carry.
#[derive(Debug, Args)]
pub struct ParametersArgs {
    /// A parameter and its value, e.g. CodeS3Key=processor/0123.zip (repeatable).
    #[arg(value_name = "KEY=VALUE", allow_hyphen_values = true)]
    pub parameters: Vec<String>,
}

/// What an empty change set's StatusReason says (AWS), and the error of an empty update
/// refused outright (moto, and `aws cloudformation deploy` without
/// `--no-fail-on-empty-changeset`).
pub const NO_CHANGES_REASONS: &[&str] =
    &["didn't contain changes", "No updates are to be performed"];

/// Answers yes (exit 0) or no (exit 1), silently.
pub fn run_no_changes(args: &NoChangesArgs) -> Answer {
    if is_no_changes(&args.reason) {
        Answer::Print(String::new())
    } else {
        Answer::No(None)
    }
}

/// Prints the FAILED change set.
pub fn run_failed(args: &FailedChangeSetArgs) -> Result<Answer, String> {
    let change_set = failed_change_set(&args.change_set_name, &args.stack_name, &args.reason);
    serde_json::to_string_pretty(&change_set)
        .map(|text| Answer::Print(text + "\n"))
        .map_err(|err| format!("cannot write the change set: {err}"))
}

/// Prints the parameters' JSON.
pub fn run_parameters(args: &ParametersArgs) -> Result<Answer, String> {
    let parameters = parameters(&args.parameters)?;
    Ok(Answer::Print(format!("{parameters}\n")))
}

/// Whether a status reason or error text says there is nothing to change.
pub fn is_no_changes(reason: &str) -> bool {
    NO_CHANGES_REASONS
        .iter()
        .any(|words| reason.contains(words))
}

/// The service's message in the aws CLI's error text: what follows the last
/// "operation: " ("An error occurred (ValidationError) when calling the CreateChangeSet
/// operation: No updates are to be performed."), trimmed; the whole text when it has none.
pub fn service_message(error: &str) -> &str {
    error
        .rsplit_once("operation: ")
        .map_or(error, |(_, message)| message)
        .trim()
}

/// describe-change-set's JSON for a change set that failed as empty.
pub fn failed_change_set(name: &str, stack: &str, reason: &str) -> Value {
    json!({
        "ChangeSetName": name,
        "StackName": stack,
        "Status": "FAILED",
        "StatusReason": service_message(reason),
        "Changes": [],
    })
}

/// `[{"ParameterKey": K, "ParameterValue": V}, ...]` from `K=V` words, in their order.
pub fn parameters(words: &[String]) -> Result<Value, String> {
    words
        .iter()
        .map(|word| match word.split_once('=') {
            Some((key, value)) if is_parameter_name(key) => Ok(json!({
                "ParameterKey": key,
                "ParameterValue": value,
            })),
            _ => Err(format!(
                "a parameter is KEY=VALUE with an alphanumeric KEY, e.g. AlertEmail=ops@example.com; \
                 got {word:?}"
            )),
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Value::Array)
}

/// CloudFormation's parameter names: letters and digits.
fn is_parameter_name(key: &str) -> bool {
    !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOTO_ERROR: &str = "\nAn error occurred (ValidationError) when calling the \
                              CreateChangeSet operation: No updates are to be performed.\n";

    #[test]
    fn empty_change_set_reasons_are_recognized() {
        for reason in [
            "The submitted information didn't contain changes. Submit different information \
             to create a change set.",
            MOTO_ERROR,
            "No updates are to be performed.",
        ] {
            assert!(is_no_changes(reason), "{reason}");
        }
    }

    #[test]
    fn other_failures_are_not_empty_change_sets() {
        for reason in [
            "",
            "Template error: instance of Fn::GetAtt references undefined resource Nope",
            "An error occurred (AccessDenied) when calling the CreateChangeSet operation: \
             User is not authorized",
            "no updates are to be performed", // the service's wording is exact
        ] {
            assert!(!is_no_changes(reason), "{reason}");
        }
    }

    #[test]
    fn the_failed_change_set_carries_the_service_message() {
        let value = failed_change_set("synth-1", "retail-events-dev", MOTO_ERROR);
        assert_eq!(
            value,
            json!({"ChangeSetName": "synth-1", "StackName": "retail-events-dev",
                   "Status": "FAILED", "StatusReason": "No updates are to be performed.",
                   "Changes": []})
        );
        let change_set = review::changeset::parse("x.json", &value.to_string()).expect("reads");
        let report = review::changeset::render(&change_set);
        assert!(report.contains("**No changes.**"), "{report}");
    }

    #[test]
    fn the_service_message_is_what_follows_the_last_operation() {
        assert_eq!(service_message("  plain text \n"), "plain text");
        assert_eq!(service_message("a operation: b operation: c\n"), "c");
    }

    #[test]
    fn parameters_keep_their_order_and_any_value() {
        let words = [
            "CodeS3Bucket=b",
            "CodeS3Key=processor/a=b.zip",
            "AlertEmail=",
        ]
        .map(String::from);
        assert_eq!(
            parameters(&words).unwrap(),
            json!([
                {"ParameterKey": "CodeS3Bucket", "ParameterValue": "b"},
                {"ParameterKey": "CodeS3Key", "ParameterValue": "processor/a=b.zip"},
                {"ParameterKey": "AlertEmail", "ParameterValue": ""},
            ])
        );
        let odd = ["AlertEmail=\"ops\", {x}".to_owned()];
        assert_eq!(
            parameters(&odd).unwrap()[0]["ParameterValue"],
            "\"ops\", {x}"
        );
        assert_eq!(parameters(&[]).unwrap(), json!([]));
    }

    #[test]
    fn a_word_without_a_key_is_refused_naming_it() {
        for word in ["AlertEmail", "=x", "Alert-Email=x", ""] {
            let err = parameters(&[word.to_owned()]).unwrap_err();
            assert!(err.ends_with(&format!("got {word:?}")), "{err}");
        }
    }
}
