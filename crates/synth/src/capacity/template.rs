//! What the synthesized template says about the table's writes: its indexes (name,
//! partition key, projection) and the write capacity of the table and of each index.
//!
//! Read from the template rather than from the configuration, so the capacity report follows
//! whatever the stack's constructs set: a provisioned table's capacity is its auto scaling
//! target's `MaxCapacity` when it has one (auto scaling settles there under a sustained load
//! above it), else its `ProvisionedThroughput`; an on-demand table's is its
//! `OnDemandThroughput` maximum when set, else DynamoDB's default per-table quota. Either
//! way, never more than that quota.

use serde_json::Value;

/// DynamoDB's default per-table throughput quota, for the table and for each of its global
/// secondary indexes, on demand (write request units) and provisioned (write capacity
/// units): 40,000 a second (DynamoDB developer guide, "Quotas", throughput default quotas).
pub const TABLE_WRITE_QUOTA: f64 = 40_000.0;

/// Where a write capacity figure comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CapacitySource {
    /// The auto scaling target's maximum.
    AutoScalingMax,
    /// `ProvisionedThroughput.WriteCapacityUnits`, not auto scaled.
    Provisioned,
    /// `OnDemandThroughput.MaxWriteRequestUnits`.
    OnDemandMaximum,
    /// DynamoDB's default per-table quota ([`TABLE_WRITE_QUOTA`]).
    TableQuota,
}

impl CapacitySource {
    /// How the report names it.
    pub fn describe(self) -> &'static str {
        match self {
            CapacitySource::AutoScalingMax => "auto scaling maximum",
            CapacitySource::Provisioned => "provisioned write capacity",
            CapacitySource::OnDemandMaximum => "on-demand maximum throughput",
            CapacitySource::TableQuota => "DynamoDB's default per-table quota",
        }
    }
}

/// Write units a second that the table, or one index, takes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WriteCapacity {
    /// Write units a second.
    pub units: f64,
    /// Where the figure comes from.
    pub source: CapacitySource,
}

/// One global secondary index.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexFacts {
    /// `IndexName`.
    pub name: String,
    /// The `HASH` key's attribute.
    pub partition_key: String,
    /// `Projection.ProjectionType` (`ALL`, `KEYS_ONLY`, `INCLUDE`).
    pub projection: String,
    /// Its write capacity.
    pub capacity: WriteCapacity,
}

/// The table's write-relevant facts.
#[derive(Debug, Clone, PartialEq)]
pub struct TableFacts {
    /// `BillingMode` is `PROVISIONED`.
    pub provisioned: bool,
    /// The `HASH` key's attribute of the table.
    pub partition_key: String,
    /// The table's own write capacity.
    pub capacity: WriteCapacity,
    /// Its global secondary indexes, in the template's order.
    pub indexes: Vec<IndexFacts>,
}

/// Reads the events table, the first DynamoDB table of a template document
/// (`cfn::Template::to_document`) other than the aggregate table, or `None` when it has
/// none.
pub fn table_facts(document: &Value) -> Option<TableFacts> {
    let resources = document.get("Resources")?.as_object()?;
    let of_type = |kind: &'static str| {
        resources
            .values()
            .filter(move |r| r.get("Type").and_then(Value::as_str) == Some(kind))
            .map(|r| r.get("Properties").unwrap_or(&Value::Null))
    };
    // The events table; the aggregate table's writes do not follow the events.
    let table = resources
        .iter()
        .filter(|(id, _)| id.as_str() != crate::stack::aggregates::AGGREGATE_TABLE_ID)
        .map(|(_, r)| r)
        .find(|r| r.get("Type").and_then(Value::as_str) == Some("AWS::DynamoDB::Table"))
        .map(|r| r.get("Properties").unwrap_or(&Value::Null))?;
    let targets: Vec<&Value> = of_type("AWS::ApplicationAutoScaling::ScalableTarget").collect();
    let provisioned = table.get("BillingMode").and_then(Value::as_str) == Some("PROVISIONED");
    let scaled_max = |index: Option<&str>| {
        let (dimension, suffix) = match index {
            None => ("dynamodb:table:WriteCapacityUnits", None),
            Some(name) => (
                "dynamodb:index:WriteCapacityUnits",
                Some(format!("/index/{name}")),
            ),
        };
        targets
            .iter()
            .filter(|t| t.get("ScalableDimension").and_then(Value::as_str) == Some(dimension))
            .filter(|t| {
                let id = t
                    .get("ResourceId")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                match &suffix {
                    None => !id.contains("/index/"),
                    Some(suffix) => id.ends_with(suffix.as_str()),
                }
            })
            .find_map(|t| t.get("MaxCapacity").and_then(Value::as_f64))
    };
    let capacity = |properties: &Value, index: Option<&str>| {
        write_capacity(provisioned, properties, scaled_max(index))
    };
    let indexes = table
        .get("GlobalSecondaryIndexes")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .map(|index| {
                    let name = index
                        .get("IndexName")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned();
                    IndexFacts {
                        partition_key: hash_key(index).unwrap_or_default(),
                        projection: index
                            .pointer("/Projection/ProjectionType")
                            .and_then(Value::as_str)
                            .unwrap_or("KEYS_ONLY")
                            .to_owned(),
                        capacity: capacity(index, Some(&name)),
                        name,
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    Some(TableFacts {
        provisioned,
        partition_key: hash_key(table).unwrap_or_default(),
        capacity: capacity(table, None),
        indexes,
    })
}

fn hash_key(properties: &Value) -> Option<String> {
    properties
        .get("KeySchema")?
        .as_array()?
        .iter()
        .find(|k| k.get("KeyType").and_then(Value::as_str) == Some("HASH"))?
        .get("AttributeName")?
        .as_str()
        .map(str::to_owned)
}

/// The write capacity of a table or index from its properties and, when auto scaled, the
/// target's maximum; never above the quota.
fn write_capacity(provisioned: bool, properties: &Value, scaled_max: Option<f64>) -> WriteCapacity {
    let declared = if provisioned {
        scaled_max
            .map(|units| (units, CapacitySource::AutoScalingMax))
            .or_else(|| {
                properties
                    .pointer("/ProvisionedThroughput/WriteCapacityUnits")
                    .and_then(Value::as_f64)
                    .map(|units| (units, CapacitySource::Provisioned))
            })
    } else {
        properties
            .pointer("/OnDemandThroughput/MaxWriteRequestUnits")
            .and_then(Value::as_f64)
            .filter(|units| *units > 0.0)
            .map(|units| (units, CapacitySource::OnDemandMaximum))
    };
    match declared {
        Some((units, source)) if units < TABLE_WRITE_QUOTA => WriteCapacity { units, source },
        _ => WriteCapacity {
            units: TABLE_WRITE_QUOTA,
            source: CapacitySource::TableQuota,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn facts(config: &Config) -> TableFacts {
        let document = crate::stack::build(config).to_document().unwrap();
        table_facts(&document).expect("the stack has a table")
    }

    #[test]
    fn an_on_demand_table_and_its_indexes_take_the_default_quota() {
        let facts = facts(&Config::default());
        assert!(!facts.provisioned);
        assert_eq!(facts.partition_key, "userId");
        assert_eq!(facts.capacity.units, 40_000.0);
        assert_eq!(facts.capacity.source, CapacitySource::TableQuota);
        let names: Vec<&str> = facts.indexes.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["EventTypeIndex", "ProductIndex"]);
        assert_eq!(facts.indexes[0].partition_key, "eventType");
        assert_eq!(facts.indexes[1].partition_key, "productId");
        assert_eq!(facts.indexes[0].projection, "ALL");
        assert_eq!(facts.indexes[1].capacity.units, 40_000.0);
    }

    #[test]
    fn a_provisioned_table_is_held_at_its_auto_scaling_maximum() {
        let config = Config {
            dynamodb_billing_mode: crate::config::BillingMode::Provisioned,
            dynamodb_write_capacity: 100,
            dynamodb_max_write_capacity: 700,
            ..Config::default()
        };
        let facts = facts(&config);
        assert!(facts.provisioned);
        for capacity in
            std::iter::once(facts.capacity).chain(facts.indexes.iter().map(|i| i.capacity))
        {
            assert_eq!(capacity.units, 700.0);
            assert_eq!(capacity.source, CapacitySource::AutoScalingMax);
        }
    }

    #[test]
    fn fixed_provisioned_capacity_and_big_maxima_are_read_as_declared() {
        let document = serde_json::json!({"Resources": {
            "T": {"Type": "AWS::DynamoDB::Table", "Properties": {
                "BillingMode": "PROVISIONED",
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                "ProvisionedThroughput": {"WriteCapacityUnits": 50},
                "GlobalSecondaryIndexes": [{"IndexName": "I",
                    "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                    "ProvisionedThroughput": {"WriteCapacityUnits": 80000}}]}}}});
        let facts = table_facts(&document).unwrap();
        assert_eq!(facts.capacity.units, 50.0);
        assert_eq!(facts.capacity.source, CapacitySource::Provisioned);
        assert_eq!(facts.indexes[0].capacity.units, 40_000.0);
        assert_eq!(facts.indexes[0].capacity.source, CapacitySource::TableQuota);
        assert_eq!(table_facts(&serde_json::json!({"Resources": {}})), None);
    }
}
