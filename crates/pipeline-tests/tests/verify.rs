//! `verify` against the stack on moto. No Lambda runs there, so local-runner (the
//! harness's drain) is the consumer: verify sends its marked batch, local-runner carries it
//! through the processor while verify polls, and verify passes; with a consumer that
//! silently drops items, verify fails (exit status 1) and names the missing events.

use std::time::Duration;

use pipeline_tests::{
    dead_letters_hidden_for, deploy, drain, drain_until_idle, table_items, table_sink, Deployed,
    Dropping,
};
use testkit::moto::Moto;
use verify::batch::{Plan, RunId};
use verify::check;
use verify::report::Report;
use verify::send::Sent;
use verify::stack::Stack;

/// Short waits: CI has two cores, and everything is local.
fn options(timeout: Duration) -> check::Options {
    check::Options {
        timeout,
        poll: Duration::from_millis(250),
        keep: false,
        receive_wait_secs: 0,
    }
}

/// verify's defaults: 20 events, 4 of them invalid (one of each kind).
async fn send(deployed: &Deployed, endpoint: &str) -> (Stack, Sent) {
    let stack = Stack::describe(&deployed.config, &deployed.stack)
        .await
        .expect("the stack has verify's outputs");
    let plan = Plan {
        run_id: RunId::new(verify::now_ms()),
        count: 20,
        invalid: 4,
    };
    let sent = verify::send::send(&deployed.config, &stack, &plan, endpoint)
        .await
        .expect("the batch is sent");
    assert_eq!(sent.records.len(), 20);
    (stack, sent)
}

fn show(report: &Report) -> String {
    report.lines().join("\n")
}

#[tokio::test]
#[ignore = "needs moto from .venv (make venv); make test runs it with --include-ignored"]
async fn verify_passes_while_local_runner_consumes_its_batch() {
    let moto = Moto::start();
    let deployed = deploy(&moto, "verify-ok", &[]).await;
    // Someone else's dead letter: verify must leave it in the queue, visible.
    let sqs = aws_sdk_sqs::Client::new(&deployed.config);
    sqs.send_message()
        .queue_url(&deployed.target.dlq_url)
        .message_body(r#"{"errorType":"InvalidJson","partitionKey":"user-1","sequenceNumber":"1"}"#)
        .send()
        .await
        .expect("send a foreign dead letter");

    let (stack, sent) = send(&deployed, &moto.endpoint).await;
    let mut progress = Vec::new();
    let mut record = |status: &check::Status| progress.push(*status);
    let (report, drained) = tokio::join!(
        check::wait(
            &deployed.config,
            &stack,
            &sent,
            options(Duration::from_secs(20)),
            &mut record,
        ),
        drain_until_idle(
            &deployed,
            table_sink(&deployed, &deployed.config),
            &deployed.config,
            Duration::from_secs(1),
        ),
    );
    let report = report.expect("verify's calls succeed");
    eprintln!("{}", show(&report));
    assert_eq!(drained.records, 20, "{drained}");
    assert_eq!(report.exit_code(), 0, "{}", show(&report));
    let summary = report.summary();
    assert!(
        summary.starts_with(
            "verify: sent=20 stored=16/16 dead_lettered=4/4 function_errors=n/a latency_p50_ms="
        ),
        "{summary}"
    );
    assert!(summary.ends_with(" result=PASS"), "{summary}");
    assert!(!summary.contains("latency_p50_ms=n/a"), "{summary}");
    let latencies = report.latencies();
    assert_eq!(latencies.len(), 16);
    assert!(
        latencies.iter().all(|ms| (0..20_000).contains(ms)),
        "{latencies:?}"
    );
    let last = progress
        .last()
        .expect("verify reports progress after each poll");
    assert_eq!((last.stored, last.dead_lettered), (16, 4));
    assert_eq!(report.findings.deleted, 4);
    // The processor does not run as a Lambda on moto: its log is nothing to check (moto's
    // own stand-in logs only that it cannot start a container), which is not a failure.
    assert!(
        report.lines().iter().any(|l| {
            l.starts_with("verify: no function logs to check")
                || l.starts_with("verify: function log not checked")
        }),
        "{}",
        show(&report)
    );

    // verify's dead letters are gone; the foreign one is still there, and visible: verify
    // hid it for 30 s while reading, so it was put back. (Read hidden for 5 s: a receive
    // loop that hides nothing would read it forever.)
    let left = dead_letters_hidden_for(&deployed, 5).await;
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0]["partitionKey"], "user-1");
    // The items stay, under the run's userId only.
    let marker = sent.run_id.marker();
    let items = table_items(&deployed).await;
    assert_eq!(items.len(), 16);
    assert!(items.keys().all(|(user, _)| *user == marker));
}

#[tokio::test]
#[ignore = "needs moto from .venv (make venv); make test runs it with --include-ignored"]
async fn verify_fails_and_names_the_events_a_dropping_consumer_lost() {
    let moto = Moto::start();
    let deployed = deploy(&moto, "verify-drop", &[]).await;
    let (stack, sent) = send(&deployed, &moto.endpoint).await;
    // The consumer runs first and reports success for every batch, dropping every 5th item.
    let broken = Dropping::new(table_sink(&deployed, &deployed.config), 5);
    drain(&deployed, broken, &deployed.config).await;
    let report = check::wait(
        &deployed.config,
        &stack,
        &sent,
        options(Duration::from_secs(2)),
        &mut |_| {},
    )
    .await
    .expect("verify's calls succeed");

    assert_eq!(report.exit_code(), 1, "{}", show(&report));
    let stored = table_items(&deployed).await;
    let missing: Vec<&str> = sent
        .valid()
        .map(|(_, key)| key)
        .filter(|key| !stored.keys().any(|(_, k)| k == key))
        .collect();
    assert_eq!(missing.len(), 3, "16 valid items, every 5th dropped");
    let problems = report.problems();
    let first = &problems[0];
    assert!(
        first.starts_with(&format!(
            "3 of 16 valid events are not in table {} after ",
            stack.table_name
        )),
        "{first}"
    );
    for key in &missing {
        assert!(first.contains(key), "{key} is not named in: {first}");
    }
    assert_eq!(
        problems.len(),
        1,
        "the invalid ones were dead-lettered: {problems:?}"
    );
    let summary = report.summary();
    assert!(
        summary.starts_with("verify: sent=20 stored=13/16 dead_lettered=4/4 function_errors=n/a "),
        "{summary}"
    );
    assert!(summary.ends_with(" result=FAIL"), "{summary}");
    assert!(report
        .lines()
        .iter()
        .any(|l| l.starts_with("verify: FAIL: 3 of 16 valid events")));
}
