//! The handler fed Lambda's own Kinesis event JSON (the documented sample shape).

use std::time::Duration;

use aws_edge::retry::{Backoff, Deadline};
use aws_lambda_events::event::kinesis::KinesisEvent;
use processor::handler::{Handler, Invocation};
use processor::sinks::memory::{MemoryQueue, MemoryTable};

#[tokio::test]
async fn lambdas_sample_event_parses_and_is_handled() {
    let event: KinesisEvent = serde_json::from_str(include_str!("fixtures/kinesis-event.json"))
        .expect("Lambda's Kinesis event shape");
    let h = Handler {
        table: MemoryTable::default(),
        queue: MemoryQueue::default(),
        function_name: "processor".into(),
        concurrency: 2,
        backoff: Backoff::default(),
        item_ttl_days: 0,
        buckets: Default::default(),
        aggregates: None,
    };
    let invocation = Invocation {
        request_id: "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
        deadline: Deadline::after(Duration::from_secs(10), Duration::ZERO),
        now_ms: 1_700_000_000_000,
        redrive_count: 0,
    };
    let outcome = h.handle(&event, invocation).await;
    assert!(outcome.response.batch_item_failures.is_empty());
    // The fixture holds one valid retail event and one record that is not JSON.
    assert_eq!(h.table.snapshot().len(), 1);
    let messages = h.queue.messages();
    assert_eq!(messages.len(), 1);
    let body: serde_json::Value = serde_json::from_str(&messages[0].body).unwrap();
    assert_eq!(body["errorType"], "InvalidJson");
    assert_eq!(body["eventId"], event.records[1].event_id.clone().unwrap());
    assert_eq!(body["requestId"], "c6af9ac6-7b61-11e6-9a41-93e8deadbeef");
}
