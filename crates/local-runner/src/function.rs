//! The processor's handler, called in-process the way the Lambda runtime calls it: the
//! event deserialized from Lambda's JSON, a deadline of the function's timeout, a fresh
//! request ID; a panic or a timeout is a function error, as it is on Lambda
//! (`reprocess::call_handler`, which redrive and replay use too).

use std::cell::RefCell;
use std::time::Duration;

use aws_lambda_events::event::streams::KinesisEventResponse;
use processor::handler::{local_request_id, Handler};
use processor::metrics::InvocationStats;
use processor::sinks::{QueueSender, TableWriter};
use reprocess::{call_handler, NoAnswer};

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
        let outcome = match call_handler(&self.handler, &event, &request_id, 0, self.timeout).await
        {
            Err(NoAnswer::TimedOut) => {
                return Err(format!(
                    "Task timed out after {:.2} seconds",
                    self.timeout.as_secs_f64()
                ))
            }
            Err(NoAnswer::Panicked) => return Err("the handler panicked".to_owned()),
            Ok(outcome) => outcome,
        };
        let mut totals = self.totals.borrow_mut();
        totals.batch_size += outcome.stats.batch_size;
        totals.processed += outcome.stats.processed;
        totals.failed += outcome.stats.failed;
        totals.duration_ms += outcome.stats.duration_ms;
        Ok(outcome.response)
    }
}
