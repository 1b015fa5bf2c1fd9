//! The DynamoDB table the processor writes to, with the keys and indexes of docs/design.md, "Table items":
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
use crate::config::{BillingMode, Config, GsiProjection, TableClass};

/// The global secondary indexes: name, and the item attribute they group by. Both sort on
/// [`INDEX_SORT_KEY`]; their partition key is [`index_partition_key`] of the attribute.
pub const INDEXES: &[(&str, &str)] = &[
    ("EventTypeIndex", "eventType"),
    ("ProductIndex", "productId"),
];

/// The sort key of every index: the event's time in epoch milliseconds.
pub const INDEX_SORT_KEY: &str = "eventTimestamp";

/// Each index attribute and the attribute that carries it with a write shard
/// (`contract::index`), which the processor writes when INDEX_WRITE_SHARDS is over 1.
const SHARDED_ATTRIBUTES: &[(&str, &str)] = &[
    ("eventType", contract::index::EVENT_TYPE_SHARD),
    ("productId", contract::index::PRODUCT_ID_SHARD),
];

/// The partition key of the index over `attribute`: the attribute itself with one write
/// shard (the recipe's keys), else its sharded attribute (S, the value, `#` and the item's
/// shard number), so one hot value spreads over `write_shards` partition key values.
pub fn index_partition_key(attribute: &'static str, write_shards: u32) -> &'static str {
    let sharded = SHARDED_ATTRIBUTES
        .iter()
        .find(|(plain, _)| *plain == attribute)
        .map(|(_, sharded)| *sharded);
    match sharded {
        Some(sharded) if write_shards > 1 => sharded,
        _ => attribute,
    }
}

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

    /// What `query aggregates --rebuild` reads of it: the events of a time range, through
    /// the table or its indexes, decrypted through DynamoDB.
    pub fn grant_rebuild_read(&self, grants: &mut Grants) {
        let arn = self.resource.attr_arn();
        let indexes = Expr::sub_with("${Table}/index/*", vec![("Table", arn.to_json())]);
        grants.add(
            Statement::allow(
                "ReadEventTableForRebuild",
                iam::TABLE_REBUILD_READ_ACTIONS,
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
        attribute_definitions: Some(Val::Lit(attribute_definitions(config))),
        global_secondary_indexes: Some(Val::Lit(
            INDEXES
                .iter()
                .map(|(name, attribute)| {
                    let hash = index_partition_key(attribute, config.dynamodb_index_write_shards);
                    index(name, hash, projection(config), throughput.clone())
                })
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
        table_class: table_class(config),
        tags: tags::property(config),
        ..Table::new(key_schema("userId", "eventKey"))
    };
    let options = cfn::ResourceOptions {
        metadata: super::checkov::table_skips(config),
        ..retention::data(config)
    };
    EventTable {
        resource: template.add_with("EventTable", table, options),
        key: key_used,
        provisioned: throughput.is_some(),
    }
}

/// The table's key attributes, then each index's partition key, then the indexes' sort key:
/// exactly the attributes some key schema names, as DynamoDB requires.
fn attribute_definitions(config: &Config) -> Vec<AttributeDefinition> {
    let mut definitions = vec![
        AttributeDefinition::new("userId", AttributeType::S),
        AttributeDefinition::new("eventKey", AttributeType::S),
    ];
    for (_, attribute) in INDEXES {
        let key = index_partition_key(attribute, config.dynamodb_index_write_shards);
        definitions.push(AttributeDefinition::new(key, AttributeType::S));
    }
    definitions.push(AttributeDefinition::new(INDEX_SORT_KEY, AttributeType::N));
    definitions
}

/// A key schema of a partition (`HASH`) and a sort (`RANGE`) key.
pub fn key_schema(hash: &str, range: &str) -> Vec<KeySchema> {
    vec![KeySchema::new("HASH", hash), KeySchema::new("RANGE", range)]
}

fn index(
    name: &str,
    hash: &str,
    projection: Projection,
    throughput: Option<ProvisionedThroughput>,
) -> GlobalSecondaryIndex {
    GlobalSecondaryIndex {
        provisioned_throughput: throughput,
        ..GlobalSecondaryIndex::new(name, projection, key_schema(hash, INDEX_SORT_KEY))
    }
}

/// What each index copies: `dynamodb_gsi_projection`, with the included attributes for
/// INCLUDE.
fn projection(config: &Config) -> Projection {
    let included = (config.dynamodb_gsi_projection == GsiProjection::Include).then(|| {
        Val::Lit(
            config
                .dynamodb_gsi_include_attributes
                .iter()
                .map(Val::from)
                .collect(),
        )
    });
    Projection {
        projection_type: Some(config.dynamodb_gsi_projection.as_str().into()),
        non_key_attributes: included,
    }
}

/// The table class, written only when it is not DynamoDB's default (STANDARD), so the
/// recipe's template stays as it was.
fn table_class(config: &Config) -> Option<Val<String>> {
    (config.dynamodb_table_class != TableClass::Standard)
        .then(|| config.dynamodb_table_class.as_str().into())
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
pub fn sse(key: Option<&Handle<Key>>) -> SSESpecification {
    let Some(key) = key else {
        return SSESpecification::new(false);
    };
    SSESpecification {
        sse_type: Some(SSESpecificationSSEType::Kms.into()),
        kms_master_key_id: Some(key.attr_arn().into()),
        ..SSESpecification::new(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(config: &Config) -> serde_json::Value {
        let doc = super::super::build(config).to_document().unwrap();
        doc["Resources"]["EventTable"]["Properties"].clone()
    }

    fn index_keys(properties: &serde_json::Value) -> Vec<(String, String, String)> {
        let indexes = properties["GlobalSecondaryIndexes"].as_array().unwrap();
        indexes
            .iter()
            .map(|index| {
                let keys = &index["KeySchema"];
                (
                    index["IndexName"].as_str().unwrap().to_owned(),
                    keys[0]["AttributeName"].as_str().unwrap().to_owned(),
                    keys[1]["AttributeName"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }

    fn definitions(properties: &serde_json::Value) -> Vec<(String, String)> {
        let list = properties["AttributeDefinitions"].as_array().unwrap();
        list.iter()
            .map(|d| {
                (
                    d["AttributeName"].as_str().unwrap().to_owned(),
                    d["AttributeType"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }

    fn owned(items: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
        items
            .iter()
            .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
            .collect()
    }

    #[test]
    fn one_write_shard_keeps_the_recipes_index_keys() {
        let properties = table(&Config::default());
        assert_eq!(
            index_keys(&properties),
            owned(&[
                ("EventTypeIndex", "eventType", "eventTimestamp"),
                ("ProductIndex", "productId", "eventTimestamp"),
            ])
        );
        let expected = [
            ("userId", "S"),
            ("eventKey", "S"),
            ("eventType", "S"),
            ("productId", "S"),
            ("eventTimestamp", "N"),
        ];
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        assert_eq!(definitions(&properties), expected);
    }

    #[test]
    fn write_shards_key_the_indexes_on_the_sharded_attributes() {
        let config = Config {
            dynamodb_index_write_shards: 8,
            ..Config::default()
        };
        let properties = table(&config);
        assert_eq!(
            index_keys(&properties),
            owned(&[
                ("EventTypeIndex", "eventTypeShard", "eventTimestamp"),
                ("ProductIndex", "productIdShard", "eventTimestamp"),
            ])
        );
        // Only attributes a key schema names may be defined: the plain ones go.
        let expected = [
            ("userId", "S"),
            ("eventKey", "S"),
            ("eventTypeShard", "S"),
            ("productIdShard", "S"),
            ("eventTimestamp", "N"),
        ];
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        assert_eq!(definitions(&properties), expected);
        // The table's own key is untouched.
        assert_eq!(
            properties["KeySchema"],
            table(&Config::default())["KeySchema"]
        );
    }
}
