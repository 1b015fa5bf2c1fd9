//! The DynamoDB table the processor writes to, with the keys and indexes of docs/design.md, "Table items":
//! `userId` + `eventKey` (timestamp and event id, so replays overwrite instead of
//! duplicating), and the `EventTypeIndex` and `ProductIndex` GSIs on `eventTimestamp`;
//! and the grants to write it and to read it. Its capacity auto scaling (provisioned
//! billing) is `autoscaling`'s, added by the stack after the table. On demand, the
//! configured caps (`OnDemandThroughput`) and Contributor Insights go on the table and on
//! every index alike: DynamoDB applies a cap to the resource that carries it, and the reads
//! by event type or product go to an index, not the table; and the indexes' keys are the hot
//! ones.

use cfn::resources::dynamodb::table::{
    AttributeDefinition, AttributeDefinitionAttributeType as AttributeType,
    ContributorInsightsSpecification, ContributorInsightsSpecificationMode as InsightsMode,
    GlobalSecondaryIndex, KeySchema, OnDemandThroughput, PointInTimeRecoverySpecification,
    Projection, ProvisionedThroughput, SSESpecification, SSESpecificationSSEType,
    TimeToLiveSpecification,
};
use cfn::resources::dynamodb::Table;
use cfn::resources::kms::Key;
use cfn::{Expr, Handle, Template, Val};

use super::iam::{self, Grants, Statement};
use super::names::Names;
use super::{retention, tags};
use crate::config::{BillingMode, Config, ContributorInsights, GsiProjection, TableClass};

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

    /// What `backfill` does to the table after `dynamodb_index_write_shards` changed: scan
    /// it and update items in place (the table only: the indexes follow), with DynamoDB using
    /// the key on the caller's behalf to read and write them.
    pub fn grant_backfill(&self, grants: &mut Grants) {
        let arn = self.resource.attr_arn().to_json();
        grants.add(
            Statement::allow("BackfillEventTable", iam::TABLE_BACKFILL_ACTIONS, vec![arn]),
            self.key_use("EncryptEventTable", iam::KEY_TABLE_WRITE),
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
                    GlobalSecondaryIndex {
                        provisioned_throughput: throughput.clone(),
                        on_demand_throughput: on_demand_throughput(config),
                        contributor_insights_specification: contributor_insights(config),
                        ..index(name, hash, projection(config))
                    }
                })
                .collect(),
        )),
        provisioned_throughput: throughput.clone(),
        on_demand_throughput: on_demand_throughput(config),
        contributor_insights_specification: contributor_insights(config),
        point_in_time_recovery_specification: Some(point_in_time_recovery(config)),
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

fn index(name: &str, hash: &str, projection: Projection) -> GlobalSecondaryIndex {
    GlobalSecondaryIndex::new(name, projection, key_schema(hash, INDEX_SORT_KEY))
}

/// Point-in-time recovery as configured, for the events table and the aggregate table: on
/// or off, and the recovery period only when it is not DynamoDB's default (35 days), so the
/// recipe's template stays as it was.
pub fn point_in_time_recovery(config: &Config) -> PointInTimeRecoverySpecification {
    PointInTimeRecoverySpecification {
        point_in_time_recovery_enabled: Some(config.dynamodb_point_in_time_recovery_enabled.into()),
        recovery_period_in_days: config
            .pitr_recovery_period()
            .map(|days| i64::from(days).into()),
    }
}

/// The on-demand caps, the same on the table and on each index: `None` when neither is set
/// (or the table is provisioned, where validation allows no cap). A cap of 0 is left out, as
/// CloudFormation takes only 1 and more.
fn on_demand_throughput(config: &Config) -> Option<OnDemandThroughput> {
    let cap = |units: u32| (units > 0).then(|| Val::from(i64::from(units)));
    let throughput = OnDemandThroughput {
        max_write_request_units: cap(config.dynamodb_max_on_demand_write_units),
        max_read_request_units: cap(config.dynamodb_max_on_demand_read_units),
    };
    let on_demand = config.dynamodb_billing_mode == BillingMode::PayPerRequest;
    let any = throughput != OnDemandThroughput::default();
    (on_demand && any).then_some(throughput)
}

/// Contributor Insights as configured, the same on the table and on each index; nothing at
/// all when off, so the template has no rule to create.
fn contributor_insights(config: &Config) -> Option<ContributorInsightsSpecification> {
    let mode = match config.dynamodb_contributor_insights {
        ContributorInsights::Off => return None,
        ContributorInsights::ThrottledKeys => InsightsMode::ThrottledKeys,
        ContributorInsights::All => InsightsMode::AccessedAndThrottledKeys,
    };
    Some(ContributorInsightsSpecification {
        mode: Some(mode.into()),
        ..ContributorInsightsSpecification::new(true)
    })
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

    fn with_sets(sets: &[&str]) -> serde_json::Value {
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        table(&Config::load(None, None, &sets).expect("valid"))
    }

    /// The table's and every index's value of one property.
    fn everywhere(properties: &serde_json::Value, name: &str) -> Vec<serde_json::Value> {
        let indexes = properties["GlobalSecondaryIndexes"].as_array().unwrap();
        std::iter::once(&properties[name])
            .chain(indexes.iter().map(|index| &index[name]))
            .cloned()
            .collect()
    }

    #[test]
    fn the_recovery_period_is_written_only_when_it_is_not_dynamodbs_default() {
        let default = with_sets(&[]);
        assert_eq!(
            default["PointInTimeRecoverySpecification"],
            serde_json::json!({"PointInTimeRecoveryEnabled": true})
        );
        let week = with_sets(&["dynamodb_pitr_recovery_days=7"]);
        assert_eq!(
            week["PointInTimeRecoverySpecification"],
            serde_json::json!({"PointInTimeRecoveryEnabled": true, "RecoveryPeriodInDays": 7})
        );
        let off = with_sets(&["dynamodb_point_in_time_recovery_enabled=false"]);
        assert_eq!(
            off["PointInTimeRecoverySpecification"],
            serde_json::json!({"PointInTimeRecoveryEnabled": false})
        );
    }

    #[test]
    fn on_demand_caps_go_on_the_table_and_every_index_only_when_set() {
        let none = with_sets(&[]);
        assert!(everywhere(&none, "OnDemandThroughput")
            .iter()
            .all(serde_json::Value::is_null));
        let writes = with_sets(&["dynamodb_max_on_demand_write_units=500"]);
        assert_eq!(
            everywhere(&writes, "OnDemandThroughput"),
            vec![serde_json::json!({"MaxWriteRequestUnits": 500}); 3]
        );
        let both = with_sets(&[
            "dynamodb_max_on_demand_write_units=500",
            "dynamodb_max_on_demand_read_units=1",
        ]);
        assert_eq!(
            everywhere(&both, "OnDemandThroughput"),
            vec![serde_json::json!({"MaxReadRequestUnits": 1, "MaxWriteRequestUnits": 500}); 3]
        );
        // Provisioned tables carry capacities instead (a cap there is refused by validation).
        let provisioned = Config {
            dynamodb_billing_mode: BillingMode::Provisioned,
            dynamodb_max_on_demand_write_units: 500,
            ..Config::default()
        };
        assert_eq!(on_demand_throughput(&provisioned), None);
    }

    #[test]
    fn contributor_insights_go_on_the_table_and_every_index_in_the_chosen_mode() {
        let off = with_sets(&[]);
        assert!(everywhere(&off, "ContributorInsightsSpecification")
            .iter()
            .all(serde_json::Value::is_null));
        for (value, mode) in [
            ("throttled-keys", "THROTTLED_KEYS"),
            ("all", "ACCESSED_AND_THROTTLED_KEYS"),
        ] {
            let on = with_sets(&[&format!("dynamodb_contributor_insights={value}")]);
            assert_eq!(
                everywhere(&on, "ContributorInsightsSpecification"),
                vec![serde_json::json!({"Enabled": true, "Mode": mode}); 3],
                "{value}"
            );
        }
    }
}
