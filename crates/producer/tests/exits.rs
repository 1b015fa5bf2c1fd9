//! However the producer binary ends, its last stdout line is the summary, and the stream
//! holds at least `sent` and at most `sent + in_doubt` of the run's events: when its
//! endpoint dies mid-run, on SIGINT and SIGTERM, and when the endpoint cannot be reached at
//! all. (`faults.rs` kills the endpoint at every point of a call.)

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::*;
use testkit::moto::{free_port, Moto};
use testkit::proxy::{Faults, KinesisFaults, Proxy};

/// Checks that what the stream holds is, for every key, the start of what was produced,
/// and returns how many events it holds.
async fn prefixes_of(
    client: &aws_sdk_kinesis::Client,
    stream: &str,
    produced: &[producer::source::Record],
) -> u64 {
    let (read, _) = read_back(client, stream).await;
    let produced = by_key(produced);
    for (key, events) in &read {
        assert!(
            produced[key].starts_with(events),
            "{key}: the stream holds events out of order or not produced"
        );
    }
    total(&read) as u64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto from .venv (make venv); make test runs it with --include-ignored"]
async fn a_killed_endpoint_ends_the_run_with_exit_1_and_a_summary_of_what_is_in_the_stream() {
    let moto = Moto::start();
    let client = kinesis(&moto.endpoint).await;
    create_stream(&client, "killed", 2).await;
    let dies = KinesisFaults {
        die_after_calls: Some(15),
        ..KinesisFaults::default()
    };
    let proxy = Proxy::start_with(moto.port, Faults::none(), dies).await;
    let start = START_MS.to_string();
    let args = [
        "killed",
        "3000",
        "--rate",
        "1000",
        "--seed",
        "3",
        "--start-time",
        &start,
    ];
    let started = Instant::now();
    let out = output(producer(&proxy.endpoint, &args)).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(40));
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(errors[0].contains("cannot reach Kinesis"), "{stderr}");

    let summary = summary(&out.stdout);
    let held = prefixes_of(&client, "killed", &expected_paced(3, 0.0, 3_000, 1_000.0)).await;
    assert!(held > 0);
    // The proxy died on reading the call, without forwarding it: the stream holds exactly
    // what was acknowledged, and the call's records, never answered, are in doubt.
    assert_eq!(count(&summary, "sent"), held, "{summary:?}");
    assert!(count(&summary, "in_doubt") > 0, "{summary:?}");
    assert_eq!(count(&summary, "failed"), 0);
    let (unsent, in_doubt) = (count(&summary, "unsent"), count(&summary, "in_doubt"));
    assert_eq!(held + in_doubt + unsent, 3_000, "{summary:?}");
}

#[tokio::test]
#[ignore = "needs moto from .venv (make venv); make test runs it with --include-ignored"]
async fn sigint_and_sigterm_end_the_run_with_a_summary() {
    let moto = Moto::start();
    let client = kinesis(&moto.endpoint).await;
    for (signal, status) in [("INT", 130), ("TERM", 143)] {
        let stream = format!("signalled-{signal}");
        create_stream(&client, &stream, 2).await;
        let start = START_MS.to_string();
        let args = [
            &stream,
            "2000",
            "--rate",
            "200",
            "--seed",
            "4",
            "--start-time",
            &start,
        ];
        let child = producer(&moto.endpoint, &args)
            .spawn()
            .expect("start the producer");
        std::thread::sleep(Duration::from_millis(1_500));
        let killed = Command::new("kill")
            .args(["-s", signal, &child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(killed.success());
        let out = child.wait_with_output().expect("the producer ends");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(status), "SIG{signal}: {stderr}");

        let summary = summary(&out.stdout);
        let held = prefixes_of(&client, &stream, &expected_paced(4, 0.0, 2_000, 200.0)).await;
        assert!(held > 0 && held < 2_000, "SIG{signal}: {held}");
        // The call in flight was answered before the run stopped: nothing is in doubt.
        assert_eq!(count(&summary, "sent"), held, "SIG{signal}: {summary:?}");
        assert_eq!(count(&summary, "in_doubt"), 0, "SIG{signal}: {summary:?}");
        assert_eq!(
            held + count(&summary, "unsent"),
            2_000,
            "SIG{signal}: {summary:?}"
        );
    }
}

#[tokio::test]
#[ignore = "needs moto from .venv (make venv); make test runs it with --include-ignored"]
async fn an_unreachable_endpoint_is_said_once_and_the_summary_counts_everything_unsent() {
    let endpoint = format!("http://127.0.0.1:{}", free_port());
    let out = output(producer(&endpoint, &["nowhere", "100", "0"])).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(
        stderr.starts_with("error: cannot reach Kinesis at http://127.0.0.1:"),
        "{stderr}"
    );
    let summary = summary(&out.stdout);
    // Refused connections: the requests never left, so nothing is in doubt.
    assert_eq!(
        (
            count(&summary, "sent"),
            count(&summary, "unsent"),
            count(&summary, "in_doubt")
        ),
        (0, 100, 0)
    );
}
