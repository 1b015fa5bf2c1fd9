//! What the default (dev) template must hold, checked on the synthesized document.

use serde_json::Value;
use synth::config::Config;

fn document(config: &Config) -> Value {
    synth::stack::build(config)
        .to_document()
        .expect("the default stack validates")
}

fn resources_of_type<'d>(doc: &'d Value, type_name: &str) -> Vec<&'d Value> {
    doc["Resources"]
        .as_object()
        .expect("resources")
        .values()
        .filter(|r| r["Type"] == type_name)
        .collect()
}

fn one<'d>(doc: &'d Value, type_name: &str) -> &'d Value {
    let found = resources_of_type(doc, type_name);
    assert_eq!(found.len(), 1, "expected one {type_name}");
    found[0]
}

#[test]
fn the_stream_is_encrypted_with_the_customer_managed_key() {
    let doc = document(&Config::default());
    let stream = one(&doc, "AWS::Kinesis::Stream");
    assert_eq!(
        stream["Properties"]["StreamEncryption"]["EncryptionType"],
        "KMS"
    );
    assert_eq!(
        stream["Properties"]["StreamEncryption"]["KeyId"]["Fn::GetAtt"][0],
        "DataKey"
    );
    let keys = resources_of_type(&doc, "AWS::KMS::Key");
    assert!(
        keys.iter()
            .all(|k| k["Properties"]["EnableKeyRotation"] == true),
        "every key rotates"
    );
}

#[test]
fn the_table_has_the_design_keys_two_indexes_pitr_and_kms() {
    let doc = document(&Config::default());
    // The events table, and with dev's tumbling windows the aggregate table.
    let tables = resources_of_type(&doc, "AWS::DynamoDB::Table");
    assert_eq!(tables.len(), 2);
    let table = &doc["Resources"]["EventTable"]["Properties"];
    assert_eq!(table["KeySchema"][0]["AttributeName"], "userId");
    assert_eq!(table["KeySchema"][1]["AttributeName"], "eventKey");
    let indexes: Vec<&str> = table["GlobalSecondaryIndexes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["IndexName"].as_str().unwrap())
        .collect();
    assert_eq!(indexes, vec!["EventTypeIndex", "ProductIndex"]);
    for index in table["GlobalSecondaryIndexes"].as_array().unwrap() {
        assert_eq!(index["KeySchema"][1]["AttributeName"], "eventTimestamp");
    }
    assert_eq!(
        table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"],
        true
    );
    assert_eq!(table["SSESpecification"]["SSEType"], "KMS");
    assert!(table["SSESpecification"]["KMSMasterKeyId"].is_object());
}

#[test]
fn the_queue_denies_requests_without_tls() {
    let doc = document(&Config::default());
    let policy = one(&doc, "AWS::SQS::QueuePolicy");
    let statement = &policy["Properties"]["PolicyDocument"]["Statement"][0];
    assert_eq!(statement["Effect"], "Deny");
    assert_eq!(
        statement["Condition"]["Bool"]["aws:SecureTransport"],
        "false"
    );
    assert!(one(&doc, "AWS::SQS::Queue")["Properties"]["KmsMasterKeyId"].is_object());
}

#[test]
fn the_function_is_arm64_provided_al2023_with_active_tracing() {
    let doc = document(&Config::default());
    let function = &one(&doc, "AWS::Lambda::Function")["Properties"];
    assert_eq!(function["Architectures"], serde_json::json!(["arm64"]));
    assert_eq!(function["Runtime"], "provided.al2023");
    assert_eq!(function["TracingConfig"]["Mode"], "Active");
    assert_eq!(function["Code"]["S3Bucket"]["Ref"], "CodeS3Bucket");
    assert_eq!(function["Code"]["S3Key"]["Ref"], "CodeS3Key");
}

#[test]
fn x86_64_is_selectable() {
    let config =
        Config::load(None, None, &["lambda_architecture=x86_64".to_owned()]).expect("valid");
    let doc = document(&config);
    assert_eq!(
        one(&doc, "AWS::Lambda::Function")["Properties"]["Architectures"],
        serde_json::json!(["x86_64"])
    );
}

#[test]
fn the_mapping_bisects_retries_reports_item_failures_and_dead_letters() {
    let doc = document(&Config::default());
    let mapping = &one(&doc, "AWS::Lambda::EventSourceMapping")["Properties"];
    assert_eq!(mapping["BisectBatchOnFunctionError"], true);
    assert!(mapping["MaximumRetryAttempts"].is_number());
    assert_eq!(
        mapping["FunctionResponseTypes"],
        serde_json::json!(["ReportBatchItemFailures"])
    );
    assert_eq!(
        mapping["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"],
        serde_json::json!(["FailureBucket", "Arn"]),
        "a failed batch keeps its records in the failure bucket"
    );
    assert_eq!(
        mapping["MetricsConfig"],
        serde_json::json!({"Metrics": ["EventCount"]})
    );
    let sqs = Config::load(None, None, &["on_failure_destination=sqs".to_owned()]).unwrap();
    let doc = document(&sqs);
    let mapping = &one(&doc, "AWS::Lambda::EventSourceMapping")["Properties"];
    assert_eq!(
        mapping["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"],
        serde_json::json!(["DeadLetterQueue", "Arn"])
    );
    assert_eq!(mapping["MetricsConfig"]["Metrics"][0], "EventCount");
    assert!(resources_of_type(&doc, "AWS::S3::Bucket").is_empty());
    let env = &one(&doc, "AWS::Lambda::Function")["Properties"]["Environment"]["Variables"];
    assert!(env.get(contract::env::FAILURE_BUCKET).is_none());
}

/// Both buckets: SSE-KMS with the data key and an S3 Bucket Key, every public access block,
/// bucket-owner-enforced ownership, no object lock or versioning, a TLS-only policy and no
/// policy demanding SSE headers; the failure bucket expires only what redrive tagged
/// handled, the archive only what is under `events/`.
#[test]
fn the_buckets_are_private_encrypted_tls_only_and_expire_only_what_they_should() {
    let doc = document(&Config::from_preset("prod").unwrap());
    for (id, _) in [("FailureBucket", ()), ("ArchiveBucket", ())] {
        let bucket = &doc["Resources"][id]["Properties"];
        let sse = &bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0];
        assert_eq!(
            sse["ServerSideEncryptionByDefault"]["SSEAlgorithm"], "aws:kms",
            "{id}"
        );
        assert_eq!(
            sse["ServerSideEncryptionByDefault"]["KMSMasterKeyID"]["Fn::GetAtt"],
            serde_json::json!(["DataKey", "Arn"])
        );
        assert_eq!(sse["BucketKeyEnabled"], true);
        for block in [
            "BlockPublicAcls",
            "BlockPublicPolicy",
            "IgnorePublicAcls",
            "RestrictPublicBuckets",
        ] {
            assert_eq!(
                bucket["PublicAccessBlockConfiguration"][block], true,
                "{id}"
            );
        }
        assert_eq!(
            bucket["OwnershipControls"]["Rules"][0]["ObjectOwnership"],
            "BucketOwnerEnforced"
        );
        for absent in [
            "ObjectLockEnabled",
            "ObjectLockConfiguration",
            "VersioningConfiguration",
            "BucketName",
        ] {
            assert!(bucket.get(absent).is_none(), "{id} sets {absent}");
        }
        let policy = &doc["Resources"][format!("{id}Policy")]["Properties"];
        assert_eq!(policy["Bucket"]["Ref"], id);
        let statements = policy["PolicyDocument"]["Statement"].as_array().unwrap();
        assert_eq!(
            statements.len(),
            1,
            "only the TLS rule: no SSE-header demand"
        );
        assert_eq!(statements[0]["Effect"], "Deny");
        assert_eq!(statements[0]["Action"], "s3:*");
        assert_eq!(
            statements[0]["Condition"]["Bool"]["aws:SecureTransport"],
            "false"
        );
        assert_eq!(
            statements[0]["Resource"],
            serde_json::json!([{"Fn::GetAtt": [id, "Arn"]}, {"Fn::Sub": format!("${{{id}.Arn}}/*")}])
        );
    }
    let rules = doc["Resources"]["FailureBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
        .as_array()
        .unwrap();
    let expiring: Vec<&Value> = rules
        .iter()
        .filter(|r| r.get("ExpirationInDays").is_some())
        .collect();
    assert_eq!(expiring.len(), 1, "{rules:?}");
    assert_eq!(expiring[0]["ExpirationInDays"], 90);
    assert_eq!(
        expiring[0]["TagFilters"],
        serde_json::json!([{"Key": contract::archive::HANDLED_TAG_KEY, "Value": contract::archive::HANDLED_TAG_VALUE}])
    );
    assert!(expiring[0].get("Prefix").is_none());
    assert!(rules.iter().any(
        |r| r["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] == 1
            && r.get("ExpirationInDays").is_none()
    ));
    let archive = &doc["Resources"]["ArchiveBucket"]["Properties"]["LifecycleConfiguration"];
    let expire = &archive["Rules"][0];
    assert_eq!(expire["Prefix"], contract::archive::EVENTS_PREFIX);
    assert_eq!(expire["ExpirationInDays"], 365);
    assert_eq!(
        expire["Transitions"],
        serde_json::json!([{"StorageClass": "GLACIER_IR", "TransitionInDays": 30}])
    );
    assert_eq!(
        archive["TransitionDefaultMinimumObjectSize"],
        "all_storage_classes_128K"
    );
    // The outputs name both buckets; dev has no archive and so no archive output.
    assert_eq!(
        doc["Outputs"]["FailureBucketName"]["Value"]["Ref"],
        "FailureBucket"
    );
    assert_eq!(
        doc["Outputs"]["ArchiveBucketName"]["Value"]["Ref"],
        "ArchiveBucket"
    );
    let dev = document(&Config::default());
    assert!(dev["Outputs"].get("ArchiveBucketName").is_none());
    assert!(dev["Resources"].get("ArchiveBucket").is_none());
}

/// Lambda publishes an event source mapping's own metrics (EventSourceMappingUUID) only
/// for the groups its MetricsConfig turns on: an alarm on one of them without its group
/// never fires. Lambda's function metrics (FunctionName) are always published.
#[test]
fn the_failed_and_lost_batch_alarms_watch_metrics_lambda_publishes() {
    use synth::stack::dashboard::{
        DESTINATION_DELIVERY_FAILURES, MAPPING_DIMENSION, ON_FAILURE_DELIVERED,
        ON_FAILURE_DELIVERED_GROUP,
    };
    for config in [
        Config::default(),
        Config::load(None, None, &["on_failure_destination=sqs".to_owned()]).unwrap(),
    ] {
        let doc = document(&config);
        let alarms = resources_of_type(&doc, "AWS::CloudWatch::Alarm");
        let alarm = |metric: &str| {
            let found: Vec<&&Value> = alarms
                .iter()
                .filter(|a| a["Properties"]["MetricName"] == metric)
                .collect();
            assert_eq!(found.len(), 1, "one alarm on {metric}");
            found[0]["Properties"].clone()
        };
        let failed = alarm(ON_FAILURE_DELIVERED);
        assert_eq!(failed["Namespace"], "AWS/Lambda");
        assert_eq!(failed["Dimensions"][0]["Name"], MAPPING_DIMENSION);
        assert_eq!(failed["Dimensions"][0]["Value"]["Ref"], "StreamMapping");
        assert_eq!(
            (failed["Statistic"].as_str(), failed["Threshold"].as_f64()),
            (Some("Sum"), Some(0.0))
        );
        assert_eq!(failed["ComparisonOperator"], "GreaterThanThreshold");
        let lost = alarm(DESTINATION_DELIVERY_FAILURES);
        assert_eq!(lost["Namespace"], "AWS/Lambda");
        assert_eq!(lost["Dimensions"][0]["Name"], "FunctionName");
        assert_eq!(lost["Dimensions"][0]["Value"]["Ref"], "ProcessorFunction");
        assert_eq!(lost["Threshold"].as_f64(), Some(0.0));

        // Every alarm on a mapping metric names a mapping whose MetricsConfig publishes it.
        for alarm in &alarms {
            let p = &alarm["Properties"];
            if p["Dimensions"][0]["Name"] != MAPPING_DIMENSION {
                continue;
            }
            let mapping = p["Dimensions"][0]["Value"]["Ref"].as_str().unwrap();
            let groups = &doc["Resources"][mapping]["Properties"]["MetricsConfig"]["Metrics"];
            assert!(
                groups
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|g| g == ON_FAILURE_DELIVERED_GROUP),
                "{mapping} does not publish {}",
                p["MetricName"]
            );
        }

        // Both on the dashboard, by the same dimensions.
        let body = one(&doc, "AWS::CloudWatch::Dashboard")["Properties"]["DashboardBody"]
            ["Fn::Sub"]
            .as_str()
            .unwrap();
        let body: Value = serde_json::from_str(body).unwrap();
        let lines: Vec<Value> = body["widgets"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|w| w["properties"]["metrics"].as_array())
            .flatten()
            .cloned()
            .collect();
        let graphed = |metric: &str, dimension: &str, value: &str| {
            lines.iter().any(|m| {
                m[0] == "AWS/Lambda" && m[1] == metric && m[2] == dimension && m[3] == value
            })
        };
        assert!(graphed(
            ON_FAILURE_DELIVERED,
            MAPPING_DIMENSION,
            "${StreamMapping}"
        ));
        assert!(graphed(
            DESTINATION_DELIVERY_FAILURES,
            "FunctionName",
            "retail-events-dev-processor"
        ));
    }
}

#[test]
fn there_are_at_least_six_alarms_a_dashboard_and_a_log_group_with_retention() {
    let doc = document(&Config::default());
    assert!(resources_of_type(&doc, "AWS::CloudWatch::Alarm").len() >= 6);
    one(&doc, "AWS::CloudWatch::Dashboard");
    assert!(one(&doc, "AWS::Logs::LogGroup")["Properties"]["RetentionInDays"].is_number());
}

/// The stream itself is watched: producers being throttled is an alarm, and the dashboard
/// graphs what comes in and how old the oldest unread record is.
#[test]
fn the_stream_is_alarmed_on_write_throttling_and_graphed() {
    let doc = document(&Config::default());
    let stream_id = doc["Resources"]
        .as_object()
        .unwrap()
        .iter()
        .find(|(_, r)| r["Type"] == "AWS::Kinesis::Stream")
        .map(|(id, _)| id.clone())
        .expect("a stream");
    let on_stream = |metric: &str| {
        resources_of_type(&doc, "AWS::CloudWatch::Alarm")
            .into_iter()
            .any(|alarm| {
                let p = &alarm["Properties"];
                p["Namespace"] == "AWS/Kinesis"
                    && p["MetricName"] == metric
                    && p["Dimensions"][0]["Name"] == "StreamName"
                    && p["Dimensions"][0]["Value"]["Ref"] == stream_id.as_str()
            })
    };
    assert!(on_stream("WriteProvisionedThroughputExceeded"));
    assert!(on_stream("ReadProvisionedThroughputExceeded"));

    let body = one(&doc, "AWS::CloudWatch::Dashboard")["Properties"]["DashboardBody"]["Fn::Sub"]
        .as_str()
        .expect("a Fn::Sub body");
    let body: Value = serde_json::from_str(body).expect("JSON body");
    let stream_name = one(&doc, "AWS::Kinesis::Stream")["Properties"]["Name"].clone();
    let graphed = |metric: &str| {
        body["widgets"].as_array().unwrap().iter().any(|w| {
            w["properties"]["metrics"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|m| {
                    m[0] == "AWS/Kinesis"
                        && m[1] == metric
                        && m[2] == "StreamName"
                        && m[3] == stream_name
                })
        })
    };
    assert!(graphed("IncomingRecords"));
    assert!(graphed("GetRecords.IteratorAgeMilliseconds"));
}

/// A sub-minute failed-events alarm only sees data when the metric is high-resolution: the
/// stack then asks the processor for it through the function's environment, and never
/// otherwise.
#[test]
fn the_failed_events_alarm_period_matches_the_metrics_resolution() {
    for period in [10, 30, 60, 300] {
        let config = Config {
            cloudwatch_alarm_period_seconds: period,
            ..Config::default()
        };
        config.validate().expect("a valid period");
        let doc = document(&config);
        let alarm = &doc["Resources"]["FailedEventsAlarm"]["Properties"];
        assert_eq!(alarm["MetricName"], contract::metrics::FAILED_EVENTS);
        assert_eq!(alarm["Period"], period);
        let env = &one(&doc, "AWS::Lambda::Function")["Properties"]["Environment"]["Variables"];
        let resolution = env.get(contract::env::FAILED_EVENTS_RESOLUTION);
        if period < 60 {
            assert_eq!(resolution, Some(&Value::from("1")), "period {period}");
        } else {
            assert_eq!(resolution, None, "period {period}");
        }
    }
}

#[test]
fn the_outputs_of_the_design_are_all_there() {
    let doc = document(&Config::default());
    let outputs = doc["Outputs"].as_object().expect("outputs");
    for name in [
        "StreamName",
        "StreamArn",
        "FunctionName",
        "FunctionArn",
        "TableName",
        "TableArn",
        "DeadLetterQueueUrl",
        "DeadLetterQueueArn",
        "LogGroupName",
        "DashboardName",
        "AlarmTopicArn",
        "DataKeyArn",
        "DataKeyAlias",
        "ProducerPolicyArn",
        "DeadLetterReaderPolicyArn",
        "EventReaderPolicyArn",
        "RedrivePolicyArn",
    ] {
        assert!(outputs.contains_key(name), "missing output {name}");
    }
    assert_eq!(outputs["AlarmTopicArn"]["Condition"], "HasAlertEmail");
    let parameters = doc["Parameters"].as_object().expect("parameters");
    for name in ["CodeS3Bucket", "CodeS3Key", "AlertEmail"] {
        assert!(parameters.contains_key(name), "missing parameter {name}");
    }
}

#[test]
fn the_role_allows_no_wildcard_action_and_scopes_every_resource_it_can() {
    let doc = document(&Config::default());
    let role = one(&doc, "AWS::IAM::Role");
    let statements = role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        .as_array()
        .unwrap();
    for statement in statements {
        let actions: Vec<&str> = match &statement["Action"] {
            Value::String(a) => vec![a.as_str()],
            Value::Array(list) => list.iter().filter_map(Value::as_str).collect(),
            other => panic!("unexpected Action {other}"),
        };
        assert!(actions.iter().all(|a| !a.contains('*')), "{statement}");
        if statement["Resource"] == "*" {
            assert!(
                actions.iter().all(|a| a.starts_with("xray:")),
                "only X-Ray may use Resource *: {statement}"
            );
        }
    }
    let table_grant = statements
        .iter()
        .find(|s| s["Sid"] == "WriteEventTable")
        .expect("table grant");
    assert_eq!(table_grant["Action"], "dynamodb:BatchWriteItem");
    assert_eq!(
        table_grant["Resource"]["Fn::GetAtt"],
        serde_json::json!(["EventTable", "Arn"])
    );
}

#[test]
fn six_managed_policies_are_created_attached_to_nothing() {
    let doc = document(&Config::default());
    let policies = resources_of_type(&doc, "AWS::IAM::ManagedPolicy");
    assert_eq!(policies.len(), 6);
    for policy in policies {
        let properties = policy["Properties"].as_object().unwrap();
        for key in ["Roles", "Users", "Groups"] {
            assert!(!properties.contains_key(key), "{policy}");
        }
        let statements = properties["PolicyDocument"]["Statement"]
            .as_array()
            .unwrap();
        assert!(statements.iter().all(|s| s["Resource"] != "*"), "{policy}");
    }
    assert!(resources_of_type(&doc, "AWS::Kinesis::ResourcePolicy").is_empty());
}

#[test]
fn provisioned_billing_scales_the_table_and_both_indexes() {
    let config = Config::load(
        None,
        None,
        &["dynamodb_billing_mode=PROVISIONED".to_owned()],
    )
    .expect("valid");
    let doc = document(&config);
    let targets = resources_of_type(&doc, "AWS::ApplicationAutoScaling::ScalableTarget");
    assert_eq!(
        targets.len(),
        6,
        "read and write for the table and each of two indexes"
    );
    assert_eq!(
        resources_of_type(&doc, "AWS::ApplicationAutoScaling::ScalingPolicy").len(),
        6
    );
    let table = &doc["Resources"]["EventTable"]["Properties"];
    assert!(table["ProvisionedThroughput"]["ReadCapacityUnits"].is_number());
}

#[test]
fn on_demand_streams_have_no_shard_count() {
    let config =
        Config::load(None, None, &["kinesis_stream_mode=ON_DEMAND".to_owned()]).expect("valid");
    let doc = document(&config);
    let stream = &one(&doc, "AWS::Kinesis::Stream")["Properties"];
    assert_eq!(stream["StreamModeDetails"]["StreamMode"], "ON_DEMAND");
    assert!(stream.get("ShardCount").is_none());
}

#[test]
fn every_taggable_resource_carries_the_standard_tags() {
    let mut config = Config::default();
    config
        .additional_tags
        .insert("CostCenter".into(), "data-platform".into());
    let doc = document(&config);
    let mut tagged = 0;
    for resource in doc["Resources"].as_object().unwrap().values() {
        if let Some(tags) = resource["Properties"].get("Tags") {
            let keys: Vec<&str> = tags
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["Key"].as_str().unwrap())
                .collect();
            assert_eq!(
                keys,
                vec!["Project", "Environment", "ManagedBy", "CostCenter"],
                "{resource}"
            );
            tagged += 1;
        }
    }
    assert!(tagged >= 10, "only {tagged} resources tagged");
}

/// The processor's contract, checked from the stack's side: the function's environment
/// names only variables the processor reads (and every one it requires), and every alarm
/// and dashboard metric under the processor's namespace is one it emits, by its dimension.
/// The processor's own tests check it reads and emits exactly the `contract` lists.
mod processor_contract {
    use super::*;
    use contract::{env, metrics};
    use synth::config::PRESETS;

    fn presets() -> Vec<(String, Value)> {
        let mut configs: Vec<(String, Config)> = PRESETS
            .iter()
            .map(|p| (p.to_string(), Config::from_preset(p).expect("preset")))
            .collect();
        let overridden = [
            "dynamodb_server_side_encryption_enabled=false".to_owned(),
            "dynamodb_billing_mode=PROVISIONED".to_owned(),
        ];
        configs.push((
            "dev with overrides".into(),
            Config::load(None, None, &overridden).expect("valid"),
        ));
        configs
            .into_iter()
            .map(|(name, config)| (name, document(&config)))
            .collect()
    }

    fn environment(doc: &Value) -> &serde_json::Map<String, Value> {
        one(doc, "AWS::Lambda::Function")["Properties"]["Environment"]["Variables"]
            .as_object()
            .expect("the function has environment variables")
    }

    /// The namespace the stack tells the processor to use.
    fn namespace(doc: &Value) -> &str {
        environment(doc)
            .get(env::METRICS_NAMESPACE)
            .and_then(Value::as_str)
            .unwrap_or(metrics::DEFAULT_NAMESPACE)
    }

    #[test]
    fn the_function_environment_is_what_the_processor_reads() {
        for (preset, doc) in presets() {
            let variables = environment(&doc);
            for name in variables.keys() {
                assert!(
                    env::SETTABLE.contains(&name.as_str()),
                    "{preset}: the stack sets {name}, which the processor does not read \
                     (contract::env::SETTABLE)"
                );
            }
            for required in env::REQUIRED {
                assert!(
                    variables.contains_key(*required),
                    "{preset}: the stack does not set {required}, without which the processor \
                     refuses to start"
                );
            }
        }
    }

    #[test]
    fn every_alarm_on_the_processors_namespace_watches_a_metric_it_emits() {
        for (preset, doc) in presets() {
            let namespace = namespace(&doc);
            let mut watched = 0;
            for alarm in resources_of_type(&doc, "AWS::CloudWatch::Alarm") {
                let properties = &alarm["Properties"];
                let alarm_namespace = properties["Namespace"].as_str().expect("namespace");
                let metric = properties["MetricName"].as_str().expect("metric");
                if alarm_namespace.starts_with("AWS/") {
                    continue;
                }
                assert_eq!(
                    alarm_namespace, namespace,
                    "{preset}: alarm on {metric} watches a namespace nothing writes"
                );
                assert!(
                    metrics::EMITTED.contains(&metric),
                    "{preset}: alarm on {metric}, which the processor does not emit"
                );
                let dimensions: Vec<&str> = properties["Dimensions"]
                    .as_array()
                    .expect("dimensions")
                    .iter()
                    .map(|d| d["Name"].as_str().expect("dimension name"))
                    .collect();
                assert_eq!(dimensions, [metrics::DIMENSION], "{preset}: {metric}");
                watched += 1;
            }
            assert_eq!(watched, 1, "{preset}: the failed-events alarm");
        }
    }

    /// The metrics the processor emits, at every invocation and at a window's end.
    fn emitted(metric: &str) -> bool {
        metrics::EMITTED.contains(&metric) || metrics::BUSINESS.contains(&metric)
    }

    /// The dimensions the processor gives a metric: the function's, and `WindowEvents` the
    /// event type's too.
    fn dimensions(metric: &str) -> Vec<&'static str> {
        if metric == metrics::WINDOW_EVENTS {
            vec![metrics::DIMENSION, metrics::EVENT_TYPE_DIMENSION]
        } else {
            vec![metrics::DIMENSION]
        }
    }

    #[test]
    fn every_dashboard_metric_on_the_processors_namespace_is_one_it_emits() {
        for (preset, doc) in presets() {
            let namespace = namespace(&doc);
            let body = one(&doc, "AWS::CloudWatch::Dashboard")["Properties"]["DashboardBody"]
                ["Fn::Sub"]
                .as_str()
                .expect("the body is a Fn::Sub string");
            let body: Value = serde_json::from_str(body).expect("the body is JSON");
            let mut shown = Vec::new();
            for widget in body["widgets"].as_array().expect("widgets") {
                if widget["type"] == "text" {
                    continue;
                }
                for line in widget["properties"]["metrics"].as_array().expect("metrics") {
                    let line = line.as_array().expect("a metric line is an array");
                    let line_namespace = line[0].as_str().expect("namespace");
                    if line_namespace.starts_with("AWS/") {
                        continue;
                    }
                    let metric = line[1].as_str().expect("metric");
                    assert_eq!(line_namespace, namespace, "{preset}: {metric}");
                    assert!(
                        emitted(metric),
                        "{preset}: the dashboard shows {metric}, which the processor does not emit"
                    );
                    let names: Vec<&str> = line[2..]
                        .iter()
                        .step_by(2)
                        .filter_map(Value::as_str)
                        .collect();
                    assert_eq!(names, dimensions(metric), "{preset}: {metric}");
                    shown.push(metric);
                }
            }
            for metric in metrics::EMITTED {
                assert!(
                    shown.contains(metric),
                    "{preset}: {metric} is not on the dashboard"
                );
            }
            // The business metrics exactly when the stack has tumbling windows.
            let windows = environment(&doc).contains_key(env::AGGREGATE_TABLE);
            assert_eq!(windows, preset != "cost-optimized", "{preset}");
            for metric in metrics::BUSINESS {
                assert_eq!(
                    shown.contains(metric),
                    windows,
                    "{preset}: {metric} on the dashboard"
                );
            }
        }
    }
}

/// The logical IDs whose `policy` (DeletionPolicy or UpdateReplacePolicy) is `value`.
fn with_policy(doc: &Value, policy: &str, value: &str) -> Vec<String> {
    let mut ids: Vec<String> = doc["Resources"]
        .as_object()
        .expect("resources")
        .iter()
        .filter(|(_, r)| r[policy] == value)
        .map(|(id, _)| id.clone())
        .collect();
    ids.sort();
    ids
}

/// `retain_data_on_delete` keeps exactly what holds data once the pipeline is gone: the
/// tables (events and aggregates), the key they and the buckets are encrypted with, the
/// failure bucket and the event archive; every other stateful resource says `Delete`
/// outright, with it on or off.
#[test]
fn retaining_data_keeps_exactly_the_table_the_buckets_and_their_key() {
    let overrides = [
        "retain_data_on_delete=true".to_owned(),
        "archive_events=true".to_owned(),
    ];
    let keep = Config::load(None, None, &overrides).expect("a valid configuration");
    let doc = document(&keep);
    for policy in ["DeletionPolicy", "UpdateReplacePolicy"] {
        assert_eq!(
            with_policy(&doc, policy, "Retain"),
            [
                "AggregateTable",
                "ArchiveBucket",
                "DataKey",
                "EventTable",
                "FailureBucket"
            ]
        );
        assert_eq!(
            with_policy(&doc, policy, "Delete"),
            [
                "AlertsKey",
                "DeadLetterQueue",
                "EventStream",
                "ProcessorLogGroup"
            ],
            "{policy}"
        );
    }
    let doc = document(&Config::default());
    assert!(with_policy(&doc, "DeletionPolicy", "Retain").is_empty());
    assert_eq!(
        with_policy(&doc, "DeletionPolicy", "Delete"),
        [
            "AggregateTable",
            "AlertsKey",
            "DataKey",
            "DeadLetterQueue",
            "EventStream",
            "EventTable",
            "FailureBucket",
            "ProcessorLogGroup"
        ]
    );
}
