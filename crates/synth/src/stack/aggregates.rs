//! The per-minute aggregate table (`contract::aggregate`), only with tumbling windows
//! (`aggregate_window_seconds` not 0): the processor writes one item per event-time minute
//! and window part at a window's end, `query aggregates` reads a day of them as one
//! partition, and `query aggregates --rebuild` replaces minutes from the event table.
//!
//! It is kept as the events table is: the data key, point-in-time recovery (and its recovery
//! period), TTL on `expiresAt` with `dynamodb_ttl_days`, deletion protection, the retention
//! policy and the tags all follow the event table's configuration. It is always on demand,
//! without the events table's on-demand caps or Contributor Insights: its writes come in
//! bursts at the windows' ends, a few items a shard, which provisioned capacity would either
//! throttle or pay for idle, and its one partition key value a day has no hot key to find.

use cfn::resources::dynamodb::table::{
    AttributeDefinition, AttributeDefinitionAttributeType as AttributeType, TimeToLiveSpecification,
};
use cfn::resources::dynamodb::Table;
use cfn::resources::kms::Key;
use cfn::{Handle, Template, Val};

use super::iam::{self, Grants, Statement};
use super::names::Names;
use super::table::{key_schema, point_in_time_recovery, sse};
use super::{retention, tags};
use crate::config::{BillingMode, Config};

/// The table's logical ID.
pub const AGGREGATE_TABLE_ID: &str = "AggregateTable";

/// The aggregate table and the customer-managed key it is encrypted with, if any.
pub struct AggregateTable {
    /// The table.
    pub resource: Handle<Table>,
    /// The data key when `dynamodb_server_side_encryption_enabled` (as the event table).
    pub key: Option<Handle<Key>>,
}

impl AggregateTable {
    /// What the processor does at a window's end: puts each minute's item (a retried
    /// window's part overwrites its item), several in a batch, with DynamoDB using the key
    /// on its behalf.
    pub fn grant_write(&self, grants: &mut Grants) {
        grants.add(
            Statement::allow(
                "WriteAggregateTable",
                iam::AGGREGATE_WRITE_ACTIONS,
                vec![self.resource.attr_arn().to_json()],
            ),
            self.key_use("EncryptAggregateTable", iam::KEY_TABLE_WRITE),
        );
    }

    /// What `query aggregates` calls: a day is one partition (Query), an item by key, a
    /// scan over days, and the table's description; decrypted through DynamoDB.
    pub fn grant_read(&self, grants: &mut Grants) {
        grants.add(
            Statement::allow(
                "ReadAggregateTable",
                iam::AGGREGATE_READ_ACTIONS,
                vec![self.resource.attr_arn().to_json()],
            ),
            self.key_use("DecryptAggregateTable", iam::KEY_TABLE_READ),
        );
    }

    /// What `query aggregates --rebuild` does to the table: reads a day's parts, puts the
    /// rebuilt minutes and deletes the window parts they replace.
    pub fn grant_rebuild(&self, grants: &mut Grants) {
        grants.add(
            Statement::allow(
                "RebuildAggregates",
                iam::AGGREGATE_REBUILD_ACTIONS,
                vec![self.resource.attr_arn().to_json()],
            ),
            self.key_use("EncryptAggregateTable", iam::KEY_TABLE_WRITE),
        );
    }

    fn key_use(&self, sid: &str, actions: &[&'static str]) -> Option<Statement> {
        let key = self.key.as_ref()?;
        Some(iam::key_via(sid, key, actions, "dynamodb"))
    }
}

/// Adds the table when the configuration turns windows on; `None` otherwise.
pub fn add(
    template: &mut Template,
    config: &Config,
    names: &Names,
    key: &Handle<Key>,
) -> Option<AggregateTable> {
    config.aggregate_window()?;
    use contract::aggregate::{DAY, EXPIRES_AT, PART};
    let key_used = config
        .dynamodb_server_side_encryption_enabled
        .then(|| key.clone());
    let table = Table {
        table_name: Some(names.aggregate_table.as_str().into()),
        billing_mode: Some(BillingMode::PayPerRequest.as_str().into()),
        attribute_definitions: Some(Val::Lit(vec![
            AttributeDefinition::new(DAY, AttributeType::S),
            AttributeDefinition::new(PART, AttributeType::S),
        ])),
        point_in_time_recovery_specification: Some(point_in_time_recovery(config)),
        sse_specification: Some(sse(key_used.as_ref())),
        time_to_live_specification: (config.dynamodb_ttl_days > 0).then(|| {
            TimeToLiveSpecification {
                attribute_name: Some(EXPIRES_AT.into()),
                ..TimeToLiveSpecification::new(true)
            }
        }),
        deletion_protection_enabled: Some(config.dynamodb_deletion_protection.into()),
        tags: tags::property(config),
        ..Table::new(key_schema(DAY, PART))
    };
    let options = cfn::ResourceOptions {
        metadata: super::checkov::table_skips(config),
        ..retention::data(config)
    };
    Some(AggregateTable {
        resource: template.add_with(AGGREGATE_TABLE_ID, table, options),
        key: key_used,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use crate::config::Config;

    fn document(sets: &[&str]) -> Value {
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        let config = Config::load(None, None, &sets).expect("valid");
        crate::stack::build(&config).to_document().unwrap()
    }

    fn list(value: &Value) -> Vec<Value> {
        match value {
            Value::Array(items) => items.clone(),
            one => vec![one.clone()],
        }
    }

    #[test]
    fn windows_bring_the_table_its_output_the_environment_and_the_mapping_window() {
        let doc = document(&[]);
        let table = &doc["Resources"]["AggregateTable"];
        assert_eq!(table["Type"], "AWS::DynamoDB::Table");
        let p = &table["Properties"];
        assert_eq!(p["TableName"], "retail-events-dev-aggregates");
        assert_eq!(p["BillingMode"], "PAY_PER_REQUEST");
        assert_eq!(
            p["KeySchema"],
            json!([{"AttributeName": "day", "KeyType": "HASH"},
                   {"AttributeName": "part", "KeyType": "RANGE"}])
        );
        assert_eq!(
            p["AttributeDefinitions"],
            json!([{"AttributeName": "day", "AttributeType": "S"},
                   {"AttributeName": "part", "AttributeType": "S"}])
        );
        // Encrypted, backed up and tagged as the event table is.
        let events = &doc["Resources"]["EventTable"];
        for property in [
            "SSESpecification",
            "PointInTimeRecoverySpecification",
            "DeletionProtectionEnabled",
            "Tags",
        ] {
            assert_eq!(p[property], events["Properties"][property], "{property}");
        }
        assert_eq!(
            p["SSESpecification"]["KMSMasterKeyId"],
            json!({"Fn::GetAtt": ["DataKey", "Arn"]})
        );
        for policy in ["DeletionPolicy", "UpdateReplacePolicy"] {
            assert_eq!(table[policy], events[policy], "{policy}");
        }
        assert!(p.get("TimeToLiveSpecification").is_none());
        assert!(p.get("GlobalSecondaryIndexes").is_none());
        assert_eq!(
            doc["Outputs"]["AggregateTableName"]["Value"],
            json!({"Ref": "AggregateTable"})
        );
        let environment = &doc["Resources"]["ProcessorFunction"]["Properties"]["Environment"];
        assert_eq!(
            environment["Variables"][contract::env::AGGREGATE_TABLE],
            json!({"Ref": "AggregateTable"})
        );
        let mapping = &doc["Resources"]["StreamMapping"]["Properties"];
        assert_eq!(mapping["TumblingWindowInSeconds"], 60);
    }

    #[test]
    fn without_windows_there_is_no_table_output_variable_or_window() {
        let doc = document(&["aggregate_window_seconds=0"]);
        assert!(doc["Resources"].get("AggregateTable").is_none());
        assert!(doc["Outputs"].get("AggregateTableName").is_none());
        let variables =
            &doc["Resources"]["ProcessorFunction"]["Properties"]["Environment"]["Variables"];
        assert!(variables.get(contract::env::AGGREGATE_TABLE).is_none());
        let mapping = &doc["Resources"]["StreamMapping"]["Properties"];
        assert!(mapping.get("TumblingWindowInSeconds").is_none());
        let text = doc.to_string();
        assert!(!text.contains("AggregateTable"), "a reference is left");
        // The longest window Lambda takes.
        let doc = document(&["aggregate_window_seconds=900"]);
        assert_eq!(
            doc["Resources"]["StreamMapping"]["Properties"]["TumblingWindowInSeconds"],
            900
        );
    }

    #[test]
    fn the_table_follows_the_event_tables_protections_and_expiry() {
        let doc = document(&[
            "dynamodb_ttl_days=30",
            "retain_data_on_delete=true",
            "dynamodb_deletion_protection=true",
            "dynamodb_billing_mode=PROVISIONED",
        ]);
        let table = &doc["Resources"]["AggregateTable"];
        assert_eq!(
            table["Properties"]["TimeToLiveSpecification"],
            json!({"AttributeName": "expiresAt", "Enabled": true})
        );
        assert_eq!(table["DeletionPolicy"], "Retain");
        assert_eq!(table["UpdateReplacePolicy"], "Retain");
        assert_eq!(table["Properties"]["DeletionProtectionEnabled"], true);
        // On demand whatever the event table's billing.
        assert_eq!(table["Properties"]["BillingMode"], "PAY_PER_REQUEST");
        assert!(table["Properties"].get("ProvisionedThroughput").is_none());

        let doc = document(&[
            "dynamodb_point_in_time_recovery_enabled=false",
            "dynamodb_server_side_encryption_enabled=false",
        ]);
        let table = &doc["Resources"]["AggregateTable"];
        assert_eq!(
            table["Properties"]["SSESpecification"],
            json!({"SSEEnabled": false})
        );
        assert_eq!(
            table["Properties"]["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"],
            false
        );
        let skips: Vec<&str> = table["Metadata"]["checkov"]["skip"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap())
            .collect();
        assert_eq!(skips, ["CKV_AWS_28", "CKV_AWS_119"]);
    }

    /// The recovery period follows the event table's; the on-demand caps and Contributor
    /// Insights are the event table's alone.
    #[test]
    fn the_table_keeps_the_recovery_period_but_no_caps_or_insights() {
        let doc = document(&[
            "dynamodb_pitr_recovery_days=7",
            "dynamodb_max_on_demand_write_units=100",
            "dynamodb_max_on_demand_read_units=100",
            "dynamodb_contributor_insights=all",
        ]);
        let p = &doc["Resources"]["AggregateTable"]["Properties"];
        assert_eq!(
            p["PointInTimeRecoverySpecification"],
            json!({"PointInTimeRecoveryEnabled": true, "RecoveryPeriodInDays": 7})
        );
        let events = &doc["Resources"]["EventTable"]["Properties"];
        assert_eq!(
            p["PointInTimeRecoverySpecification"],
            events["PointInTimeRecoverySpecification"]
        );
        assert!(events.get("OnDemandThroughput").is_some());
        assert!(p.get("OnDemandThroughput").is_none());
        assert!(p.get("ContributorInsightsSpecification").is_none());
    }

    /// Every statement naming the aggregate table: (policy, Sid, actions).
    fn grants_on_the_table(doc: &Value) -> Vec<(String, String, Vec<Value>)> {
        let arn = json!({"Fn::GetAtt": ["AggregateTable", "Arn"]});
        let mut found = Vec::new();
        for (id, resource) in doc["Resources"].as_object().unwrap() {
            let statements = match resource["Type"].as_str() {
                Some("AWS::IAM::ManagedPolicy") => &resource["Properties"]["PolicyDocument"],
                Some("AWS::IAM::Role") => &resource["Properties"]["Policies"][0]["PolicyDocument"],
                _ => continue,
            };
            for statement in statements["Statement"].as_array().unwrap() {
                let resources = list(&statement["Resource"]);
                if resources.contains(&arn) {
                    assert_eq!(
                        resources,
                        std::slice::from_ref(&arn),
                        "{id}: scoped to the table alone"
                    );
                    found.push((
                        id.clone(),
                        statement["Sid"].as_str().unwrap().to_owned(),
                        list(&statement["Action"]),
                    ));
                }
            }
        }
        found
    }

    fn actions(names: &[&str]) -> Vec<Value> {
        names.iter().map(|a| json!(a)).collect()
    }

    #[test]
    fn each_grantee_gets_its_actions_on_the_table_alone() {
        let doc = document(&[]);
        let rebuild = actions(&[
            "dynamodb:Query",
            "dynamodb:PutItem",
            "dynamodb:DeleteItem",
            "dynamodb:BatchWriteItem",
        ]);
        assert_eq!(
            grants_on_the_table(&doc),
            [
                (
                    "ProcessorRole".to_owned(),
                    "WriteAggregateTable".to_owned(),
                    actions(&["dynamodb:PutItem", "dynamodb:BatchWriteItem"])
                ),
                (
                    "EventReaderPolicy".to_owned(),
                    "ReadAggregateTable".to_owned(),
                    actions(&[
                        "dynamodb:GetItem",
                        "dynamodb:Query",
                        "dynamodb:Scan",
                        "dynamodb:DescribeTable"
                    ])
                ),
                (
                    "RedrivePolicy".to_owned(),
                    "RebuildAggregates".to_owned(),
                    rebuild.clone()
                ),
                (
                    "ReplayPolicy".to_owned(),
                    "RebuildAggregates".to_owned(),
                    rebuild
                ),
            ]
        );
        let off = document(&["aggregate_window_seconds=0"]);
        assert!(grants_on_the_table(&off).is_empty());
        // Nor does anyone read the events for a rebuild.
        assert!(!off.to_string().contains("ForRebuild"));
    }

    /// The table's key use is the event table's (the same key, through DynamoDB), so each
    /// grantee keeps one statement for both; without the data key there is none.
    #[test]
    fn the_key_statements_cover_the_table_through_dynamodb() {
        let doc = document(&[]);
        let role = doc["Resources"]["ProcessorRole"]["Properties"]["Policies"][0]["PolicyDocument"]
            ["Statement"]
            .as_array()
            .unwrap();
        let sids: Vec<&str> = role.iter().map(|s| s["Sid"].as_str().unwrap()).collect();
        assert!(sids.contains(&"EncryptEventTable"), "{sids:?}");
        assert!(!sids.contains(&"EncryptAggregateTable"), "{sids:?}");
        let reader = doc["Resources"]["EventReaderPolicy"]["Properties"]["PolicyDocument"]
            ["Statement"]
            .as_array()
            .unwrap();
        let sids: Vec<&str> = reader.iter().map(|s| s["Sid"].as_str().unwrap()).collect();
        assert_eq!(
            sids,
            ["ReadEventTable", "DecryptEventTable", "ReadAggregateTable"]
        );
    }
}
