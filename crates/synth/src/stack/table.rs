//! The DynamoDB table the processor writes to, with the keys and indexes of DESIGN.md:
//! `userId` + `eventKey` (timestamp and event id, so replays overwrite instead of
//! duplicating), and the `EventTypeIndex` and `ProductIndex` GSIs on `eventTimestamp`.

use cfn::resources::dynamodb::table::{
    AttributeDefinition, AttributeDefinitionAttributeType as AttributeType, GlobalSecondaryIndex,
    KeySchema, PointInTimeRecoverySpecification, Projection, ProvisionedThroughput,
    SSESpecification, SSESpecificationSSEType,
};
use cfn::resources::dynamodb::Table;
use cfn::resources::kms::Key;
use cfn::{Handle, Template, Val};

use super::names::Names;
use super::{autoscaling, retention, tags};
use crate::config::{BillingMode, Config};

/// The global secondary indexes: name, partition key. Both sort on `eventTimestamp`.
pub const INDEXES: &[(&str, &str)] = &[
    ("EventTypeIndex", "eventType"),
    ("ProductIndex", "productId"),
];

/// Adds the table, and its capacity auto scaling when billing is provisioned.
pub fn add(
    template: &mut Template,
    config: &Config,
    names: &Names,
    key: &Handle<Key>,
) -> Handle<Table> {
    let throughput = provisioned_throughput(config);
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
        sse_specification: Some(sse(config, key)),
        deletion_protection_enabled: Some(config.dynamodb_deletion_protection.into()),
        tags: tags::property(config),
        ..Table::new(key_schema("userId", "eventKey"))
    };
    let options = cfn::ResourceOptions {
        metadata: super::checkov::table_skips(config),
        ..retention::options(config)
    };
    let table = template.add_with("EventTable", table, options);
    if throughput.is_some() {
        autoscaling::add_for_table(template, config, names, &table);
    }
    table
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

fn provisioned_throughput(config: &Config) -> Option<ProvisionedThroughput> {
    (config.dynamodb_billing_mode == BillingMode::Provisioned).then(|| ProvisionedThroughput {
        read_capacity_units: i64::from(config.dynamodb_read_capacity).into(),
        write_capacity_units: i64::from(config.dynamodb_write_capacity).into(),
    })
}

/// With encryption on, a customer-managed key; off means DynamoDB's default AWS-owned key
/// (a table is always encrypted at rest).
fn sse(config: &Config, key: &Handle<Key>) -> SSESpecification {
    if !config.dynamodb_server_side_encryption_enabled {
        return SSESpecification::new(false);
    }
    SSESpecification {
        sse_type: Some(SSESpecificationSSEType::Kms.into()),
        kms_master_key_id: Some(key.attr_arn().into()),
        ..SSESpecification::new(true)
    }
}
