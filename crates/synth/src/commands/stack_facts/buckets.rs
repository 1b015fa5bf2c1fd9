//! The stack's S3 buckets before `make destroy`: which objects of the failure bucket wait
//! for redrive (`failure-objects`, `unhandled-failures`), and which buckets the deletion
//! deletes and so must be emptied first (`deleted-buckets`): CloudFormation deletes only an
//! empty bucket.

use std::path::PathBuf;

use clap::Args;
use contract::archive::{
    DEAD_LETTER_PREFIX, HANDLED_TAG_KEY, HANDLED_TAG_VALUE, ON_FAILURE_PREFIX,
};
use serde_json::Value;

use super::kept::{physical_ids, template_from_body, KEEPING_POLICIES};
use super::Answer;

/// The failure bucket's objects that redrive handles: one key a line.
///
/// LIST_OBJECTS is what `aws s3api list-objects-v2 --bucket BUCKET --output json` printed
/// (the CLI merges the pages; an empty bucket may print nothing). The keys are those under
/// `aws/lambda/` (the event source mapping's failed batches) and `dead-letters/` (the
/// processor's claim checks), in the listing's order; other objects are not redrive's.
#[derive(Debug, Args)]
pub struct FailureObjectsArgs {
    /// The bucket's listing as `list-objects-v2 --output json` prints it (`-` reads stdin).
    #[arg(value_name = "LIST_OBJECTS")]
    pub file: PathBuf,
}

/// How many of the failure bucket's objects redrive has not handled yet.
///
/// TAGS holds one line per object of `failure-objects`: its key, a tab, and what
/// `aws s3api get-object-tagging --bucket BUCKET --key KEY --query TagSet --output json`
/// printed, on one line. An object is handled when its tags include `redrive=handled`; one
/// with no tags, unreadable tags or no line at all counts as not handled. Prints the count.
#[derive(Debug, Args)]
pub struct UnhandledArgs {
    /// Key, tab, TagSet JSON, one object a line (`-` reads stdin).
    #[arg(value_name = "TAGS")]
    pub file: PathBuf,
}

/// The buckets deleting the stack deletes: one physical name a line.
///
/// TEMPLATE_BODY and RESOURCES as for `kept`. Lists the stack's AWS::S3::Bucket resources
/// whose DeletionPolicy does not keep them, which `make destroy` empties before it deletes
/// the stack (CloudFormation cannot delete a bucket that holds objects).
#[derive(Debug, Args)]
pub struct DeletedBucketsArgs {
    /// The deployed template as `get-template --query TemplateBody --output json` prints it.
    #[arg(value_name = "TEMPLATE_BODY")]
    pub template_body: PathBuf,

    /// The stack's resources as `list-stack-resources --output json` prints them.
    #[arg(value_name = "RESOURCES")]
    pub resources: PathBuf,
}

/// Prints the keys redrive handles.
pub fn run_failure_objects(args: &FailureObjectsArgs) -> Result<Answer, String> {
    let (name, text) = super::read_input(&args.file)?;
    let keys = failure_objects(&name, &text)?;
    Ok(Answer::Print(
        keys.iter().map(|k| format!("{k}\n")).collect(),
    ))
}

/// Prints how many objects are not handled.
pub fn run_unhandled(args: &UnhandledArgs) -> Result<Answer, String> {
    let (_, text) = super::read_input(&args.file)?;
    Ok(Answer::Print(format!("{}\n", unhandled(&text))))
}

/// Prints the buckets the deletion deletes.
pub fn run_deleted_buckets(args: &DeletedBucketsArgs) -> Result<Answer, String> {
    if args.template_body.as_os_str() == "-" && args.resources.as_os_str() == "-" {
        return Err("only one of TEMPLATE_BODY and RESOURCES may be `-` (stdin)".into());
    }
    let (name, text) = super::read_input(&args.template_body)?;
    let template = template_from_body(&name, &text)?;
    let (name, text) = super::read_input(&args.resources)?;
    let physical = physical_ids(&name, &text)?;
    let names: String = deleted_buckets(&template, &physical)
        .iter()
        .map(|bucket| format!("{bucket}\n"))
        .collect();
    Ok(Answer::Print(names))
}

/// The keys under the prefixes redrive handles, from list-objects-v2 JSON. `name` labels
/// errors.
pub fn failure_objects(name: &str, text: &str) -> Result<Vec<String>, String> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let listing = super::parse_json(name, text, "list-objects-v2")?;
    let bad = |reason: String| format!("{name}: not list-objects-v2 output: {reason}");
    if !listing.is_object() {
        return Err(bad(format!(
            "expected a mapping, got {}",
            super::kind(&listing)
        )));
    }
    let contents = match listing.get("Contents") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(contents)) => contents,
        Some(other) => {
            return Err(bad(format!(
                "Contents must be a list, got {}",
                super::kind(other)
            )))
        }
    };
    Ok(contents
        .iter()
        .filter_map(|object| object.get("Key")?.as_str())
        .filter(|key| key.starts_with(ON_FAILURE_PREFIX) || key.starts_with(DEAD_LETTER_PREFIX))
        .map(str::to_owned)
        .collect())
}

/// How many lines of `key<TAB>TagSet JSON` name an object without `redrive=handled`.
pub fn unhandled(text: &str) -> usize {
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .filter(|line| {
            let tags = line.split_once('\t').map_or("", |(_, tags)| tags);
            !is_handled(tags)
        })
        .count()
}

/// Whether a TagSet (`[{"Key": ..., "Value": ...}]`) marks the object handled.
fn is_handled(tags: &str) -> bool {
    let Ok(Value::Array(tags)) = serde_json::from_str::<Value>(tags.trim()) else {
        return false;
    };
    tags.iter()
        .any(|tag| tag["Key"] == HANDLED_TAG_KEY && tag["Value"] == HANDLED_TAG_VALUE)
}

/// The physical names of the stack's buckets whose DeletionPolicy does not keep them, in
/// template order.
pub fn deleted_buckets(
    template: &Value,
    physical: &std::collections::HashMap<String, Option<String>>,
) -> Vec<String> {
    let Some(resources) = template.get("Resources").and_then(Value::as_object) else {
        return Vec::new();
    };
    resources
        .iter()
        .filter(|(_, resource)| resource.get("Type") == Some(&Value::from("AWS::S3::Bucket")))
        .filter(|(_, resource)| {
            let policy = resource.get("DeletionPolicy").and_then(Value::as_str);
            !policy.is_some_and(|policy| KEEPING_POLICIES.contains(&policy))
        })
        .filter_map(|(logical, _)| physical.get(logical)?.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LISTING: &str = r#"{"Contents": [
        {"Key": "aws/lambda/8c1d/shardId-000000000000/2026/11/25/2026-11-25T00.38.06-ab", "Size": 9},
        {"Key": "dead-letters/shardId-000000000000/4960/2", "Size": 3},
        {"Key": "readme.txt", "Size": 1},
        {"Key": "aws/lambda/8c1d/shardId-000000000001/2026/11/25/2026-11-25T01.00.00-cd"}
    ], "KeyCount": 4}"#;

    #[test]
    fn only_failed_batches_and_claim_checks_are_redrives() {
        assert_eq!(
            failure_objects("o.json", LISTING).unwrap(),
            [
                "aws/lambda/8c1d/shardId-000000000000/2026/11/25/2026-11-25T00.38.06-ab",
                "dead-letters/shardId-000000000000/4960/2",
                "aws/lambda/8c1d/shardId-000000000001/2026/11/25/2026-11-25T01.00.00-cd",
            ]
        );
        for empty in ["", "\n", r#"{"KeyCount": 0}"#, r#"{"Contents": null}"#] {
            assert!(
                failure_objects("o.json", empty).unwrap().is_empty(),
                "{empty:?}"
            );
        }
        assert_eq!(
            failure_objects("o.json", "[]").unwrap_err(),
            "o.json: not list-objects-v2 output: expected a mapping, got a list"
        );
        assert_eq!(
            failure_objects("o.json", r#"{"Contents": 1}"#).unwrap_err(),
            "o.json: not list-objects-v2 output: Contents must be a list, got a number"
        );
    }

    #[test]
    fn an_object_is_handled_only_when_redrive_tagged_it() {
        let tags = "aws/lambda/a\t[{\"Key\": \"redrive\", \"Value\": \"handled\"}]\n\
                    aws/lambda/b\t[]\n\
                    dead-letters/c\t[{\"Key\": \"redrive\", \"Value\": \"pending\"}, {\"Key\": \"x\", \"Value\": \"handled\"}]\n\
                    dead-letters/d\tnot json\n\
                    aws/lambda/e\n\
                    \n\
                    aws/lambda/f\t[ { \"Value\": \"handled\", \"Key\": \"redrive\" } ]\n";
        assert_eq!(unhandled(tags), 4);
        assert_eq!(unhandled(""), 0);
    }

    #[test]
    fn kept_buckets_are_not_emptied() {
        let template = serde_json::json!({"Resources": {
            "FailureBucket": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Delete"},
            "ArchiveBucket": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain"},
            "Other": {"Type": "AWS::S3::Bucket"},
            "Table": {"Type": "AWS::DynamoDB::Table"},
            "NotYet": {"Type": "AWS::S3::Bucket"}
        }});
        let physical = physical_ids(
            "r.json",
            r#"{"StackResourceSummaries": [
                {"LogicalResourceId": "FailureBucket", "PhysicalResourceId": "s-failurebucket-1"},
                {"LogicalResourceId": "ArchiveBucket", "PhysicalResourceId": "s-archivebucket-2"},
                {"LogicalResourceId": "Other", "PhysicalResourceId": "s-other-3"},
                {"LogicalResourceId": "Table", "PhysicalResourceId": "t"},
                {"LogicalResourceId": "NotYet", "PhysicalResourceId": ""}
            ]}"#,
        )
        .unwrap();
        assert_eq!(
            deleted_buckets(&template, &physical),
            ["s-failurebucket-1", "s-other-3"]
        );
    }

    /// The deployed stack's buckets are what these facts read: dev deletes its failure
    /// bucket with the stack, prod keeps both of its buckets.
    #[test]
    fn the_stacks_synth_builds_delete_or_keep_their_buckets_by_retain_data_on_delete() {
        for (preset, expected) in [("dev", vec!["failure"]), ("prod", vec![])] {
            let config = synth::config::Config::from_preset(preset).unwrap();
            let template = synth::stack::build(&config).to_document().unwrap();
            let physical = template["Resources"]
                .as_object()
                .unwrap()
                .keys()
                .map(|id| (id.clone(), Some(id.to_lowercase().replace("bucket", ""))))
                .collect();
            assert_eq!(deleted_buckets(&template, &physical), expected, "{preset}");
        }
    }
}
