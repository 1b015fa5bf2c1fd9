//! The function-log check against CloudWatch Logs on moto: a missing or empty log group is
//! nothing to check, the processor's INFO lines and metrics are not errors, and an ERROR
//! line is counted and quoted. (moto ignores JSON filter patterns and returns every event,
//! so this also proves the lines are checked again on our side.)

use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use testkit::moto::Moto;
use verify::logs::{self, LogCheck};

const GROUP: &str = "/aws/lambda/verify-logs-processor";

async fn put(client: &aws_sdk_cloudwatchlogs::Client, timestamp: i64, message: &str) {
    client
        .put_log_events()
        .log_group_name(GROUP)
        .log_stream_name("2026/12/02/[$LATEST]abc")
        .log_events(
            InputLogEvent::builder()
                .timestamp(timestamp)
                .message(message)
                .build()
                .expect("a log event"),
        )
        .send()
        .await
        .expect("put-log-events");
}

#[tokio::test]
#[ignore = "needs moto from .venv (make venv); make test runs it with --include-ignored"]
async fn error_lines_are_counted_and_an_empty_log_is_nothing_to_check() {
    let moto = Moto::start();
    let config = testkit::sdk_config(&moto.endpoint).await;
    let client = aws_sdk_cloudwatchlogs::Client::new(&config);
    let since = verify::now_ms();

    let missing = logs::check(&config, GROUP, since).await.expect("checked");
    assert!(
        matches!(&missing, LogCheck::NoLogs(why) if why.contains("does not exist")),
        "{missing:?}"
    );

    client
        .create_log_group()
        .log_group_name(GROUP)
        .send()
        .await
        .expect("create-log-group");
    client
        .create_log_stream()
        .log_group_name(GROUP)
        .log_stream_name("2026/12/02/[$LATEST]abc")
        .send()
        .await
        .expect("create-log-stream");
    // Before the run: not verify's business.
    put(
        &client,
        since - 60_000,
        r#"{"level":"ERROR","fields":{"message":"old"}}"#,
    )
    .await;
    let empty = logs::check(&config, GROUP, since).await.expect("checked");
    assert!(
        matches!(&empty, LogCheck::NoLogs(why) if why.starts_with("no function logs to check")),
        "{empty:?}"
    );

    put(
        &client,
        since + 1,
        r#"{"level":"INFO","fields":{"message":"batch done"}}"#,
    )
    .await;
    put(
        &client,
        since + 2,
        r#"{"_aws":{"CloudWatchMetrics":[]},"FailedEvents":0}"#,
    )
    .await;
    let clean = logs::check(&config, GROUP, since).await.expect("checked");
    assert_eq!(
        clean,
        LogCheck::Checked {
            errors: 0,
            examples: vec![]
        }
    );

    let line = r#"{"level":"ERROR","fields":{"message":"BatchWriteItem failed: AccessDenied"}}"#;
    put(&client, since + 3, line).await;
    let failed = logs::check(&config, GROUP, since).await.expect("checked");
    assert_eq!(
        failed,
        LogCheck::Checked {
            errors: 1,
            examples: vec![line.to_owned()]
        }
    );
}
