//! checkov findings this stack answers by design rather than by configuration, each with
//! the reason a security reviewer reads in the resource's `Metadata`.
//!
//! A skip is written only where the reason holds for the configuration at hand: e.g.
//! unreserved concurrency is skipped with its reason only when the config leaves it
//! unreserved.

use cfn::ResourceOptions;
use serde_json::{json, Value};

use crate::config::Config;

/// A checkov check ID and why it does not apply.
pub type Skip = (&'static str, String);

/// `Metadata.checkov.skip` for a list of skips (none: no metadata).
pub fn metadata(skips: Vec<Skip>) -> Option<Value> {
    if skips.is_empty() {
        return None;
    }
    let skip: Vec<Value> = skips
        .into_iter()
        .map(|(id, comment)| json!({ "id": id, "comment": comment }))
        .collect();
    Some(json!({ "checkov": { "skip": skip } }))
}

/// The processor's execution role's skips: in a VPC only, the network-interface actions
/// AWS's Lambda guide requires on all resources (docs/access.md, "The processor's role in a
/// VPC").
pub fn role_skips(config: &Config) -> ResourceOptions {
    let mut skips: Vec<Skip> = Vec::new();
    if config.in_vpc() {
        skips.push((
            "CKV_AWS_111",
            "The only unconstrained write actions are the six network-interface actions Lambda needs to \
             attach the function to its subnets, which AWS's Lambda guide (configuration-vpc, Required IAM \
             permissions) requires on all resources; a Deny of the same actions conditioned on \
             lambda:SourceFunctionArn keeps the function's own code from calling them"
                .into(),
        ));
    }
    ResourceOptions {
        metadata: metadata(skips),
        ..ResourceOptions::default()
    }
}

/// The processor function's skips.
pub fn function_skips(config: &Config) -> ResourceOptions {
    let mut skips: Vec<Skip> = vec![(
        "CKV_AWS_116",
        "A stream-triggered function takes no DLQ: failed batches go to the event source mapping's \
         on-failure destination (the failure bucket, or the dead-letter queue), and invalid records are \
         dead-lettered by the processor"
            .into(),
    )];
    // Only outside a VPC (vpc_subnet_ids empty); in one, the check passes.
    if !config.in_vpc() {
        skips.push((
            "CKV_AWS_117",
            "The function calls only AWS APIs (Kinesis, DynamoDB, SQS, KMS) over TLS with IAM authentication; \
             it reaches no private network resource, so a VPC would add NAT cost and no protection"
                .into(),
        ));
    }
    skips.push((
        "CKV_AWS_272",
        "The package is built from this repository and pinned by its SHA-256 in CodeS3Key; \
             Lambda code signing needs a Signer profile this stack does not manage"
            .into(),
    ));
    if config.lambda_reserved_concurrency < 0 {
        skips.push((
            "CKV_AWS_115",
            "Concurrency is unreserved by configuration (lambda_reserved_concurrency = -1); a Kinesis \
             event source mapping bounds it to shards × parallelization factor"
                .into(),
        ));
    }
    ResourceOptions {
        metadata: metadata(skips),
        ..Default::default()
    }
}

/// The table's skips: only for protections the configuration turned off on purpose.
pub fn table_skips(config: &Config) -> Option<Value> {
    let mut skips: Vec<Skip> = Vec::new();
    if !config.dynamodb_point_in_time_recovery_enabled {
        skips.push((
            "CKV_AWS_28",
            "Point-in-time recovery is off by configuration (dynamodb_point_in_time_recovery_enabled = false)"
                .into(),
        ));
    }
    if !config.dynamodb_server_side_encryption_enabled {
        skips.push((
            "CKV_AWS_119",
            "The table uses DynamoDB's default AWS-owned key by configuration \
             (dynamodb_server_side_encryption_enabled = false); it is still encrypted at rest"
                .into(),
        ));
    }
    metadata(skips)
}
