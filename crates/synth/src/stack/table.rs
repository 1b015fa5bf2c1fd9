//! The DynamoDB table the processor writes to, with the keys and indexes of DESIGN.md:
//! `userId` + `eventKey` (timestamp and event id, so replays overwrite instead of
//! duplicating), and the `EventTypeIndex` and `ProductIndex` GSIs on `eventTimestamp`;
//! and the grants to write it and to read it. Its capacity auto scaling (provisioned
//! billing) is `autoscaling`'s, added by the stack after the table.

use cfn::resources::dynamodb::table::{
    AttributeDefinition, AttributeDefinitionAttributeType as AttributeType, GlobalSecondaryIndex,
    KeySchema, PointInTimeRecoverySpecification, Projection, ProvisionedThroughput,
    SSESpecification, SSESpecificationSSEType, TimeToLiveSpecification,
};
use cfn::resources::dynamodb::Table;
use cfn::resources::kms::Key;
use cfn::{Expr, Handle, Template, Val};

use super::iam::{self, Grants, Statement};
use super::names::Names;
use super::{retention, tags};
use crate::config::{BillingMode, Config};

/// The global secondary indexes: name, partition key. Both sort on `eventTimestamp`.
pub const INDEXES: &[(&str, &str)] = &[
    ("EventTypeIndex", "eventType"),
    ("ProductIndex", "productId"),
];

/// The table's Time to Live attribute: epoch seconds, written by the processor when
/// `dynamodb_ttl_days` is on (see `events::expires_at`).
pub const TTL_ATTRIBUTE: &str = "expiresAt";

/// The events table and the customer-managed key it is encrypted with, if any.
pub struct EventTable {
    /// The table.
    pub resource: Handle<Table>,
    /// The key DynamoDB encrypts the table with; `None` when it uses DynamoDB's own
    /// (`dynamodb_server_side_encryption_enabled = false`), which needs no grant.
    pub key: Option<Handle<Key>>,
    /// Whether its capacity is provisioned (and so auto scaled).
    pub provisioned: bool,
}

impl EventTable {
    /// Writes items in batches, which is all the processor does, with DynamoDB using the
    /// key on the writer's behalf.
    pub fn grant_write(&self, grants: &mut Grants) {
        let arn = self.resource.attr_arn().to_json();
        grants.add(
            Statement::allow("WriteEventTable", iam::TABLE_WRITE_ACTIONS, vec![arn]),
            self.key_use("EncryptEventTable", iam::KEY_TABLE_WRITE),
        );
    }

    /// Reads the table and every index of it (`<table ARN>/index/*`: queries name an index,
    /// and a wildcard over this table's indexes keeps the grant current when one is added),
    /// decrypted through DynamoDB.
    pub fn grant_read(&self, grants: &mut Grants) {
        let arn = self.resource.attr_arn();
        let indexes = Expr::sub_with("${Table}/index/*", vec![("Table", arn.to_json())]);
        grants.add(
            Statement::allow(
                "ReadEventTable",
                iam::TABLE_READ_ACTIONS,
                vec![arn.to_json(), indexes.to_json()],
            ),
            self.key_use("DecryptEventTable", iam::KEY_TABLE_READ),
        );
    }

    fn key_use(&self, sid: &str, actions: &[&'static str]) -> Option<Statement> {
        let key = self.key.as_ref()?;
        Some(iam::key_via(sid, key, actions, "dynamodb"))
    }
}

/// Adds the table.
pub fn add(
    template: &mut Template,
    config: &Config,
    names: &Names,
    key: &Handle<Key>,
) -> EventTable {
    let throughput = provisioned_throughput(config);
    let key_used = config
        .dynamodb_server_side_encryption_enabled
        .then(|| key.clone());
    let table = Table {
        table_name: Some(names.table.as_str().into()),
        billing_mode: Some(config.dynamodb_billing_mode.as_str().into()),
        attribute_definitions: Some(Val::Lit(vec![
            attribute("userId", AttributeType::S),
            attribute("eventKey", AttributeType::S),
            attribute("eventType", AttributeType::S),
            attribute("productId", AttributeType::S),
            attribute("eventTimestamp", AttributeType::N),
        ])),
        global_secondary_indexes: Some(Val::Lit(
            INDEXES
                .iter()
                .map(|(name, hash)| index(name, hash, throughput.clone()))
                .collect(),
        )),
        provisioned_throughput: throughput.clone(),
        point_in_time_recovery_specification: Some(PointInTimeRecoverySpecification {
            point_in_time_recovery_enabled: Some(
                config.dynamodb_point_in_time_recovery_enabled.into(),
            ),
            ..PointInTimeRecoverySpecification::default()
        }),
        sse_specification: Some(sse(key_used.as_ref())),
        time_to_live_specification: time_to_live(config),
        deletion_protection_enabled: Some(config.dynamodb_deletion_protection.into()),
        tags: tags::property(config),
        ..Table::new(key_schema("userId", "eventKey"))
    };
    let options = cfn::ResourceOptions {
        metadata: super::checkov::table_skips(config),
        ..retention::options(config)
    };
    EventTable {
        resource: template.add_with("EventTable", table, options),
        key: key_used,
        provisioned: throughput.is_some(),
    }
}

fn attribute(name: &str, kind: AttributeType) -> AttributeDefinition {
    AttributeDefinition::new(name, kind)
}

fn key_schema(hash: &str, range: &str) -> Vec<KeySchema> {
    vec![KeySchema::new("HASH", hash), KeySchema::new("RANGE", range)]
}

fn index(
    name: &str,
    hash: &str,
    throughput: Option<ProvisionedThroughput>,
) -> GlobalSecondaryIndex {
    let projection = Projection {
        projection_type: Some("ALL".into()),
        ..Projection::default()
    };
    GlobalSecondaryIndex {
        provisioned_throughput: throughput,
        ..GlobalSecondaryIndex::new(name, projection, key_schema(hash, "eventTimestamp"))
    }
}

/// Expiry on [`TTL_ATTRIBUTE`] when `dynamodb_ttl_days` is on; otherwise no specification
/// at all, as in the recipe (items without the attribute never expire either way).
fn time_to_live(config: &Config) -> Option<TimeToLiveSpecification> {
    (config.dynamodb_ttl_days > 0).then(|| TimeToLiveSpecification {
        attribute_name: Some(TTL_ATTRIBUTE.into()),
        ..TimeToLiveSpecification::new(true)
    })
}

fn provisioned_throughput(config: &Config) -> Option<ProvisionedThroughput> {
    (config.dynamodb_billing_mode == BillingMode::Provisioned).then(|| ProvisionedThroughput {
        read_capacity_units: i64::from(config.dynamodb_read_capacity).into(),
        write_capacity_units: i64::from(config.dynamodb_write_capacity).into(),
    })
}

/// With encryption on, a customer-managed key; off means DynamoDB's default AWS-owned key
/// (a table is always encrypted at rest).
fn sse(key: Option<&Handle<Key>>) -> SSESpecification {
    let Some(key) = key else {
        return SSESpecification::new(false);
    };
    SSESpecification {
        sse_type: Some(SSESpecificationSSEType::Kms.into()),
        kms_master_key_id: Some(key.attr_arn().into()),
        ..SSESpecification::new(true)
    }
}
