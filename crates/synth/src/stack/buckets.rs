//! The S3 buckets that keep what the stream forgets (docs/design.md, "On-failure records"):
//! the **failure bucket**, the event source mapping's on-failure destination with
//! `on_failure_destination = "s3"` (Lambda writes one object per discarded batch, with the
//! batch's records) and where the processor keeps the bytes of a dead letter too large for
//! SQS; and the **archive bucket**, with `archive_events`, where the processor writes every
//! batch it is invoked with. Their key layout is `contract::archive`'s.
//!
//! Both are encrypted by default with the data key (SSE-KMS, with an S3 Bucket Key so S3 asks
//! KMS for a bucket-level key now and then instead of a data key per object), block every
//! kind of public access, leave object ownership to the bucket owner (no ACLs), refuse any
//! request not made over TLS, and have no object lock: redrive must be able to let a handled
//! object expire. No bucket policy demands SSE headers on PutObject: Lambda's delivery to
//! an on-failure destination may not send them, and default encryption encrypts every object
//! anyway. Nothing in the failure bucket expires until redrive tags it handled; the archive
//! expires its batches after `archive_retention_days`.
//!
//! Their grants scope S3 actions to the prefix each caller writes or reads, and every S3
//! statement carries `s3:ResourceAccount` = this account, as AWS recommends for an S3
//! on-failure destination: a bucket name is global, and a deleted bucket's name can be taken
//! by another account, whose bucket a stale grant would otherwise write to.

use cfn::resources::kms::Key;
use cfn::resources::s3::bucket::{
    AbortIncompleteMultipartUpload, BucketEncryption, LifecycleConfiguration,
    LifecycleConfigurationTransitionDefaultMinimumObjectSize as MinimumObjectSize,
    OwnershipControls, OwnershipControlsRule, OwnershipControlsRuleObjectOwnership,
    PublicAccessBlockConfiguration, Rule, RuleStatus, ServerSideEncryptionByDefault,
    ServerSideEncryptionByDefaultSSEAlgorithm as Sse, ServerSideEncryptionRule, TagFilter,
    Transition, TransitionStorageClass,
};
use cfn::resources::s3::{Bucket, BucketPolicy};
use cfn::{Expr, Handle, ResourceOptions, Template, Val};
use contract::archive::{
    DEAD_LETTER_PREFIX, EVENTS_PREFIX, HANDLED_TAG_KEY, HANDLED_TAG_VALUE, ON_FAILURE_PREFIX,
};
use serde_json::{json, Value};

use super::checkov::{self, Skip};
use super::iam::{
    self, Grants, Statement, BUCKET_LIST_ACTIONS, KEY_OBJECT_READ, KEY_OBJECT_WRITE,
    OBJECT_READ_ACTIONS, OBJECT_SETTLE_ACTIONS, OBJECT_WRITE_ACTIONS,
};
use super::{retention, tags};
use crate::config::Config;

/// The failure bucket's logical ID.
pub const FAILURE_BUCKET_ID: &str = "FailureBucket";
/// The archive bucket's logical ID.
pub const ARCHIVE_BUCKET_ID: &str = "ArchiveBucket";

/// Days after which S3 aborts a multipart upload nobody completed, freeing its parts.
pub const ABORT_INCOMPLETE_UPLOADS_DAYS: i64 = 1;

/// When the archive moves a batch to S3 Glacier Instant Retrieval: after 30 days in S3
/// Standard, where replays of recent history read it at Standard's retrieval price.
pub const ARCHIVE_TRANSITION_DAYS: u32 = 30;

/// S3 Glacier Instant Retrieval bills an object for at least 90 days: deleting it sooner is
/// charged as if it stayed.
pub const GLACIER_IR_MINIMUM_DAYS: u32 = 90;

/// The archive's transition day, when the configured retention leaves a batch at least
/// [`GLACIER_IR_MINIMUM_DAYS`] in Glacier Instant Retrieval after it (retention of 120 days
/// or more); `None` keeps every batch in S3 Standard until it expires. Only batches of
/// 128 KB or more transition (S3's default minimum, written out in the template): smaller
/// objects are billed as 128 KB there, which costs more than keeping them in Standard.
pub fn archive_transition_days(config: &Config) -> Option<u32> {
    (config.archive_retention_days >= ARCHIVE_TRANSITION_DAYS + GLACIER_IR_MINIMUM_DAYS)
        .then_some(ARCHIVE_TRANSITION_DAYS)
}

/// One of the stack's buckets and the key its objects are encrypted with.
#[derive(Debug, Clone)]
pub struct ArchiveBucket {
    /// The bucket (`Ref` is its name).
    pub resource: Handle<Bucket>,
    /// The key S3 encrypts objects with: its grants carry this key's statement.
    pub key: Handle<Key>,
}

impl ArchiveBucket {
    /// The bucket's ARN, for `s3:ListBucket`.
    fn arn(&self) -> Value {
        self.resource.attr_arn().to_json()
    }

    /// The ARN of every object under `prefix` (`""`: every object of the bucket).
    fn objects(&self, prefix: &str) -> Value {
        objects(&self.resource, prefix).to_json()
    }

    fn key_use(&self, sid: &str, actions: &[&'static str]) -> Statement {
        iam::key_via(sid, &self.key, actions, "s3")
    }
}

/// `${Bucket.Arn}/prefix*`: the ARN of every object of `bucket` under `prefix`.
fn objects(bucket: &Handle<Bucket>, prefix: &str) -> Expr {
    Expr::sub(format!("${{{}.Arn}}/{prefix}*", bucket.logical_id()))
}

/// `actions` on `resources` of this account's buckets only (`s3:ResourceAccount`).
fn in_own_account(sid: &str, actions: &[&'static str], resources: Vec<Value>) -> Statement {
    Statement::allow(sid, actions, resources).when(json!({
        "StringEquals": { "s3:ResourceAccount": cfn::pseudo::account_id().to_json() }
    }))
}

/// The failure bucket: the mapping's on-failure destination and the processor's claim
/// checks.
#[derive(Debug, Clone)]
pub struct FailureBucket(pub ArchiveBucket);

impl FailureBucket {
    /// The bucket (`Ref` is its name).
    pub fn resource(&self) -> &Handle<Bucket> {
        &self.0.resource
    }

    /// What the event source mapping's S3 on-failure destination needs of the function's
    /// role, as AWS's Lambda guide lists it (docs/access.md): s3:ListBucket on the bucket and
    /// s3:PutObject on its objects, with kms:GenerateDataKey on the bucket's key through S3.
    pub fn grant_on_failure_delivery(&self, grants: &mut Grants) {
        let bucket = &self.0;
        grants.add(
            in_own_account(
                "DeliverFailedBatches",
                &[BUCKET_LIST_ACTIONS, OBJECT_WRITE_ACTIONS].concat(),
                vec![bucket.arn(), bucket.objects("")],
            ),
            Some(bucket.key_use("EncryptArchiveObjects", KEY_OBJECT_WRITE)),
        );
    }

    /// Writes claim checks: the bytes of a dead letter too large for SQS, under
    /// `dead-letters/`.
    pub fn grant_claim_checks(&self, grants: &mut Grants) {
        let bucket = &self.0;
        grants.add(
            in_own_account(
                "WriteClaimChecks",
                OBJECT_WRITE_ACTIONS,
                vec![bucket.objects(DEAD_LETTER_PREFIX)],
            ),
            Some(bucket.key_use("EncryptArchiveObjects", KEY_OBJECT_WRITE)),
        );
    }

    /// What redrive does with the bucket: lists it, reads on-failure objects and claim
    /// checks and their tags, and tags them handled, decrypted through S3. It deletes
    /// nothing: the lifecycle rule expires what it tagged.
    pub fn grant_settle(&self, grants: &mut Grants) {
        let bucket = &self.0;
        grants.add(
            in_own_account(
                "SettleFailedBatches",
                &[BUCKET_LIST_ACTIONS, OBJECT_SETTLE_ACTIONS].concat(),
                vec![
                    bucket.arn(),
                    bucket.objects(ON_FAILURE_PREFIX),
                    bucket.objects(DEAD_LETTER_PREFIX),
                ],
            ),
            Some(bucket.key_use("DecryptArchiveObjects", KEY_OBJECT_READ)),
        );
    }
}

/// The event archive: one gzip object per invocation under `events/`.
#[derive(Debug, Clone)]
pub struct EventArchive(pub ArchiveBucket);

impl EventArchive {
    /// The bucket (`Ref` is its name).
    pub fn resource(&self) -> &Handle<Bucket> {
        &self.0.resource
    }

    /// Writes batches under `events/`, as the processor does before it answers.
    pub fn grant_write(&self, grants: &mut Grants) {
        let bucket = &self.0;
        grants.add(
            in_own_account(
                "WriteEventArchive",
                OBJECT_WRITE_ACTIONS,
                vec![bucket.objects(EVENTS_PREFIX)],
            ),
            Some(bucket.key_use("EncryptArchiveObjects", KEY_OBJECT_WRITE)),
        );
    }

    /// Finds and reads batches under `events/`, decrypted through S3, as replay does.
    pub fn grant_read(&self, grants: &mut Grants) {
        let bucket = &self.0;
        grants.add(
            in_own_account(
                "ReadEventArchive",
                &[BUCKET_LIST_ACTIONS, OBJECT_READ_ACTIONS].concat(),
                vec![bucket.arn(), bucket.objects(EVENTS_PREFIX)],
            ),
            Some(bucket.key_use("DecryptArchiveObjects", KEY_OBJECT_READ)),
        );
    }
}

/// The buckets the configuration asks for.
#[derive(Debug, Clone)]
pub struct Buckets {
    /// With `on_failure_destination = "s3"`.
    pub failure: Option<FailureBucket>,
    /// With `archive_events`.
    pub archive: Option<EventArchive>,
}

/// Adds the failure bucket and the archive bucket, each with its TLS-only policy, when the
/// configuration asks for them.
pub fn add(template: &mut Template, config: &Config, key: &Handle<Key>) -> Buckets {
    let failure = config.failure_bucket().then(|| {
        let rules = vec![expire_handled(config), abort_incomplete_uploads(None)];
        FailureBucket(add_bucket(
            template,
            config,
            key,
            FAILURE_BUCKET_ID,
            LifecycleConfiguration::new(Val::Lit(rules)),
        ))
    });
    let archive = config.archive_events.then(|| {
        EventArchive(add_bucket(
            template,
            config,
            key,
            ARCHIVE_BUCKET_ID,
            archive_lifecycle(config),
        ))
    });
    Buckets { failure, archive }
}

fn add_bucket(
    template: &mut Template,
    config: &Config,
    key: &Handle<Key>,
    id: &str,
    lifecycle: LifecycleConfiguration,
) -> ArchiveBucket {
    let encryption = ServerSideEncryptionRule {
        server_side_encryption_by_default: Some(ServerSideEncryptionByDefault {
            kms_master_key_id: Some(key.attr_arn().into()),
            ..ServerSideEncryptionByDefault::new(Sse::AwsKms)
        }),
        bucket_key_enabled: Some(true.into()),
        ..ServerSideEncryptionRule::new()
    };
    let bucket = Bucket {
        bucket_encryption: Some(BucketEncryption::new(Val::Lit(vec![encryption]))),
        public_access_block_configuration: Some(PublicAccessBlockConfiguration {
            block_public_acls: Some(true.into()),
            block_public_policy: Some(true.into()),
            ignore_public_acls: Some(true.into()),
            restrict_public_buckets: Some(true.into()),
        }),
        ownership_controls: Some(OwnershipControls::new(Val::Lit(vec![
            OwnershipControlsRule {
                object_ownership: Some(
                    OwnershipControlsRuleObjectOwnership::BucketOwnerEnforced.into(),
                ),
            },
        ]))),
        lifecycle_configuration: Some(lifecycle),
        tags: tags::property(config),
        ..Bucket::default()
    };
    let options = ResourceOptions {
        metadata: checkov::metadata(skips(id)),
        ..retention::data(config)
    };
    let handle = template.add_with(id, bucket, options);
    let resources = vec![handle.attr_arn(), objects(&handle, "")];
    let policy = iam::document(&[iam::deny_insecure_transport(&["s3:*"], resources)]);
    template.add(
        &format!("{id}Policy"),
        BucketPolicy::new(handle.to_ref(), policy),
    );
    ArchiveBucket {
        resource: handle,
        key: key.clone(),
    }
}

/// Objects redrive tagged handled (`redrive=handled`) expire after
/// `failure_archive_retention_days`; no other rule expires anything in the failure bucket.
fn expire_handled(config: &Config) -> Rule {
    Rule {
        id: Some("ExpireHandledObjects".into()),
        tag_filters: Some(Val::Lit(vec![TagFilter {
            key: HANDLED_TAG_KEY.into(),
            value: HANDLED_TAG_VALUE.into(),
        }])),
        expiration_in_days: Some(i64::from(config.failure_archive_retention_days).into()),
        ..Rule::new(RuleStatus::Enabled)
    }
}

/// Aborts multipart uploads left incomplete (`prefix`: under it only). A rule with a tag
/// filter cannot abort uploads (an upload has no tags yet), hence a rule of its own in the
/// failure bucket.
fn abort_incomplete_uploads(prefix: Option<&str>) -> Rule {
    Rule {
        id: Some("AbortIncompleteUploads".into()),
        prefix: prefix.map(Into::into),
        abort_incomplete_multipart_upload: Some(AbortIncompleteMultipartUpload::new(
            ABORT_INCOMPLETE_UPLOADS_DAYS,
        )),
        ..Rule::new(RuleStatus::Enabled)
    }
}

/// Batches under `events/` expire after `archive_retention_days`, moving to Glacier Instant
/// Retrieval first when [`archive_transition_days`] says so.
fn archive_lifecycle(config: &Config) -> LifecycleConfiguration {
    let transition = archive_transition_days(config);
    let expire = Rule {
        id: Some("ExpireEvents".into()),
        prefix: Some(EVENTS_PREFIX.into()),
        expiration_in_days: Some(i64::from(config.archive_retention_days).into()),
        transitions: transition.map(|days| {
            Val::Lit(vec![Transition {
                transition_in_days: Some(i64::from(days).into()),
                ..Transition::new(TransitionStorageClass::GlacierIr)
            }])
        }),
        ..Rule::new(RuleStatus::Enabled)
    };
    LifecycleConfiguration {
        // S3's default, written out: objects under 128 KB never transition.
        transition_default_minimum_object_size: transition
            .map(|_| MinimumObjectSize::AllStorageClasses128k.into()),
        ..LifecycleConfiguration::new(Val::Lit(vec![
            expire,
            abort_incomplete_uploads(Some(EVENTS_PREFIX)),
        ]))
    }
}

/// checkov's S3 findings these buckets answer by design.
fn skips(id: &str) -> Vec<Skip> {
    let holds = if id == FAILURE_BUCKET_ID {
        "failed batches and claim checks"
    } else {
        "one object per invocation"
    };
    vec![
        (
            "CKV_AWS_18",
            format!(
                "Holds {holds}, written only through the function's role and read through the \
                 stack's managed policies; CloudTrail data events audit it where required, \
                 without a second bucket of access logs"
            ),
        ),
        (
            "CKV_AWS_21",
            "Each object is written once under a key naming its content and expired by the \
             lifecycle rules; versioning would keep every expired object as a noncurrent \
             version and recover nothing"
                .to_owned(),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_archive_transitions_only_when_glacier_ir_keeps_its_minimum() {
        let with = |days: u32| Config {
            archive_retention_days: days,
            ..Config::default()
        };
        assert_eq!(archive_transition_days(&with(365)), Some(30));
        assert_eq!(archive_transition_days(&with(120)), Some(30));
        assert_eq!(archive_transition_days(&with(119)), None);
        assert_eq!(archive_transition_days(&with(1)), None);
    }
}
