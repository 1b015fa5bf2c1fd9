//! The processor's handler, called in-process the way the Lambda runtime calls it: the
//! event deserialized from Lambda's JSON, a deadline of the function's timeout, a fresh
//! request ID; a panic or a timeout is a function error, as it is on Lambda
//! (`reprocess::call_handler`, which redrive and replay use too). A tumbling window's
//! invocation goes to the handler's `handle_window` the same way
//! (`reprocess::call_window_handler`); its error (the window's end not written) is a
//! function error too.

use std::cell::RefCell;
use std::time::Duration;

use aws_lambda_events::event::streams::KinesisEventResponse;
use processor::handler::{local_request_id, Handler};
use processor::metrics::InvocationStats;
use processor::sinks::{QueueSender, TableWriter};
use reprocess::{call_handler, call_window_handler, NoAnswer};

use crate::mapping::Function;
use kinesis_codec::event;
use kinesis_codec::record::{EventSource, StreamRecord};
use kinesis_codec::window::{WindowEvent, WindowResponse};

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

impl<W: TableWriter, Q: QueueSender> Processor<W, Q> {
    /// The function error Lambda reports for `no_answer`.
    fn no_answer(&self, no_answer: NoAnswer) -> String {
        match no_answer {
            NoAnswer::TimedOut => format!(
                "Task timed out after {:.2} seconds",
                self.timeout.as_secs_f64()
            ),
            NoAnswer::Panicked => "the handler panicked".to_owned(),
        }
    }

    fn add(&self, stats: &InvocationStats) {
        let mut totals = self.totals.borrow_mut();
        totals.batch_size += stats.batch_size;
        totals.processed += stats.processed;
        totals.failed += stats.failed;
        totals.duration_ms += stats.duration_ms;
    }
}

impl<W: TableWriter, Q: QueueSender> Function for Processor<W, Q> {
    async fn invoke(&self, records: &[StreamRecord]) -> Result<KinesisEventResponse, String> {
        let event = event::kinesis_event(records, &self.source)
            .map_err(|e| format!("cannot build the Kinesis event: {e}"))?;
        let request_id = local_request_id();
        let outcome = call_handler(&self.handler, &event, &request_id, 0, self.timeout)
            .await
            .map_err(|no_answer| self.no_answer(no_answer))?;
        self.add(&outcome.stats);
        Ok(outcome.response)
    }

    async fn invoke_window(
        &self,
        window: &WindowEvent,
        records: &[StreamRecord],
    ) -> Result<WindowResponse, String> {
        let mut window = window.clone();
        window.event = event::kinesis_event(records, &self.source)
            .map_err(|e| format!("cannot build the Kinesis event: {e}"))?;
        let request_id = local_request_id();
        let outcome = call_window_handler(&self.handler, &window, &request_id, self.timeout)
            .await
            .map_err(|no_answer| self.no_answer(no_answer))?
            .map_err(|error| error.to_string())?;
        self.add(&outcome.stats);
        Ok(outcome.response)
    }
}
