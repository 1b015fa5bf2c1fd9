//! Filters encrypted with a customer managed key (`lambda_filter_encryption`), on moto: AWS
//! returns them as null from ListEventSourceMappings and only GetEventSourceMapping shows
//! them, so the runner must read the mapping with GetEventSourceMapping or it would play
//! the mapping unfiltered. `tools/moto_server.py` makes moto's list answer as AWS's does
//! (moto itself shows the filters there), which these tests check first.

mod common;

use std::process::{Command, Stdio};

use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::PutRecordsRequestEntry;
use common::{moto, sdk_config};
use local_runner::discovery::{discover, Overrides};

const STACK: &str = "runner-encrypted-filters";
const FIXTURE: &str = include_str!("fixtures/encrypted-filters.json");
const PATTERN: &str = r#"{"data":{"eventType":["purchase"]}}"#;

/// The list shows the key and no filters, as AWS's does; GetEventSourceMapping shows both.
async fn check_the_stand_in_lists_as_aws_does(config: &aws_config::SdkConfig, uuid: &str) {
    let lambda = aws_sdk_lambda::Client::new(config);
    let listed = lambda
        .list_event_source_mappings()
        .send()
        .await
        .expect("ListEventSourceMappings");
    let mapping = listed
        .event_source_mappings()
        .iter()
        .find(|m| m.uuid() == Some(uuid))
        .expect("the stack's mapping is listed");
    assert!(mapping.kms_key_arn().is_some_and(|k| k.contains(":key/")));
    assert!(
        mapping.filter_criteria().is_none(),
        "tools/moto_server.py should list encrypted filters as null, as AWS does"
    );
    let got = lambda
        .get_event_source_mapping()
        .uuid(uuid)
        .send()
        .await
        .expect("GetEventSourceMapping");
    assert_eq!(got.kms_key_arn(), mapping.kms_key_arn());
    assert!(got.filter_criteria().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto from .venv (make venv); make test runs it with --include-ignored"]
async fn encrypted_filters_are_read_with_get_event_source_mapping() {
    let moto = moto::Moto::start();
    let config = sdk_config(&moto.endpoint).await;
    let outputs = common::create_stack(&moto, &config, STACK, FIXTURE).await;
    let uuid = &outputs["EventSourceMappingId"];
    check_the_stand_in_lists_as_aws_does(&config, uuid).await;

    // The runner's discovery: the mapping the output names, read with its filters.
    let target = discover(&config, STACK, &Overrides::default())
        .await
        .expect("discover");
    assert_eq!(&target.mapping_uuid, uuid);
    assert_eq!(target.settings.filter.len(), 1, "the filters were read");
    assert!(
        target
            .notes()
            .iter()
            .any(|n| n.starts_with("filtering with the mapping's 1 FilterCriteria pattern(s)")),
        "{:?}",
        target.notes()
    );

    // A stack without the output: its function's mappings are listed for their UUIDs,
    // then each read with GetEventSourceMapping all the same.
    let mut older = outputs.clone();
    older.remove("EventSourceMappingId");
    let stack = deployed_stack::Stack::from_outputs(STACK, older);
    let mappings = stack
        .mappings(&config, &outputs["FunctionName"])
        .await
        .expect("mappings");
    assert_eq!(mappings.len(), 1);
    assert_eq!(&mappings[0].uuid, uuid);
    assert_eq!(mappings[0].filter_patterns, [PATTERN]);
    assert!(mappings[0].kms_key_arn.is_some());
    assert_eq!(mappings[0].filter_error, None);
}

/// End to end: of a purchase and a view, the runner invokes the processor with the purchase
/// alone and counts the view as filtered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto from .venv (make venv); make test runs it with --include-ignored"]
async fn the_runner_drops_what_the_encrypted_filters_drop() {
    let moto = moto::Moto::start();
    let config = sdk_config(&moto.endpoint).await;
    let outputs = common::create_stack(&moto, &config, STACK, FIXTURE).await;
    let entries = ["purchase", "view"]
        .iter()
        .enumerate()
        .map(|(i, kind)| {
            let event = serde_json::json!({
                "eventId": format!("event-{i}"),
                "userId": "user-1",
                "eventType": kind,
                "productId": "electronics-laptop-001",
                "timestamp": 1_700_000_000_000_i64 + i as i64,
            });
            PutRecordsRequestEntry::builder()
                .partition_key("user-1")
                .data(Blob::new(event.to_string()))
                .build()
                .expect("an entry")
        })
        .collect();
    aws_sdk_kinesis::Client::new(&config)
        .put_records()
        .stream_name(&outputs["StreamName"])
        .set_records(Some(entries))
        .send()
        .await
        .expect("put the events");
    let run = Command::new(env!("CARGO_BIN_EXE_local-runner"))
        .args(["--endpoint-url", &moto.endpoint, "--stack-name", STACK])
        .args(["--idle-exit", "2"])
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdin(Stdio::null())
        .output()
        .expect("run local-runner");
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("records=2 ") && stdout.contains(" filtered=1 "),
        "{stdout}\n{stderr}"
    );
    let items = aws_sdk_dynamodb::Client::new(&config)
        .scan()
        .table_name(&outputs["TableName"])
        .send()
        .await
        .expect("scan");
    let types: Vec<&str> = items
        .items()
        .iter()
        .filter_map(|item| item.get("eventType")?.as_s().ok().map(String::as_str))
        .collect();
    assert_eq!(types, ["purchase"]);
}
