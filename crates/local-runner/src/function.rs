//! The processor's handler, called in-process the way the Lambda runtime calls it: the
//! event deserialized from Lambda's JSON, a deadline of the function's timeout, a fresh
//! request ID; a panic or a timeout is a function error, as it is on Lambda.

use std::cell::RefCell;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

use aws_edge::retry::Deadline;
use aws_lambda_events::event::streams::KinesisEventResponse;
use futures_util::FutureExt;
use kinesis_codec::time::now_ms;
use processor::handler::{local_request_id, Handler, Invocation, IN_PROCESS_SAFETY_MARGIN};
use processor::metrics::InvocationStats;
use processor::sinks::{QueueSender, TableWriter};

use crate::mapping::Function;
use kinesis_codec::event;
use kinesis_codec::record::{EventSource, StreamRecord};

/// The processor with its sinks, and totals of what it reported.
pub struct Processor<W, Q> {
    /// The handler.
    pub handler: Handler<W, Q>,
    /// The event fields every record shares.
    pub source: EventSource,
    /// The function's timeout.
    pub timeout: Duration,
    /// Totals of the handler's per-invocation stats.
    pub totals: RefCell<InvocationStats>,
}

impl<W: TableWriter, Q: QueueSender> Function for Processor<W, Q> {
    async fn invoke(&self, records: &[StreamRecord]) -> Result<KinesisEventResponse, String> {
        let event = event::kinesis_event(records, &self.source)
            .map_err(|e| format!("cannot build the Kinesis event: {e}"))?;
        let request_id = local_request_id();
        let invocation = Invocation {
            request_id: &request_id,
            deadline: Deadline::after(self.timeout, IN_PROCESS_SAFETY_MARGIN),
            now_ms: now_ms(),
            redrive_count: 0,
        };
        let run = AssertUnwindSafe(self.handler.handle(&event, invocation)).catch_unwind();
        let outcome = match tokio::time::timeout(self.timeout, run).await {
            Err(_) => {
                return Err(format!(
                    "Task timed out after {:.2} seconds",
                    self.timeout.as_secs_f64()
                ))
            }
            Ok(Err(_)) => return Err("the handler panicked".to_owned()),
            Ok(Ok(outcome)) => outcome,
        };
        let mut totals = self.totals.borrow_mut();
        totals.batch_size += outcome.stats.batch_size;
        totals.processed += outcome.stats.processed;
        totals.failed += outcome.stats.failed;
        totals.duration_ms += outcome.stats.duration_ms;
        Ok(outcome.response)
    }
}
