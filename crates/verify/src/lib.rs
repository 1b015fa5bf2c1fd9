//! `verify`: proves that a deployed pipeline works, end to end, the way the recipe's manual
//! validation did: send a small batch of events, some of them invalid, then find each valid
//! one in the table and each invalid one in the dead-letter queue, check that the function
//! logged no error, and measure how long events took from their timestamp to `processedAt`.
//!
//! Every event of a run is marked with the run's id ([`batch::RunId`]): its `userId` and
//! partition key are `verify-<run id>` and its `eventId` is that plus its index, so verify
//! finds its own items with one Query and its own dead letters by partition key and
//! sequence number, and never mistakes real traffic for its own.
//!
//! The steps are separate so that a test can put a consumer between them:
//! [`stack::Stack::describe`] reads the stack's outputs, [`send::send`] puts a
//! [`batch::Plan`]'s records on the stream, [`check::wait`] polls the table and the queue
//! until everything is found or the time is up, then reads the function's log, and returns a
//! [`report::Report`] whose last line is the summary. The `verify` binary is a thin CLI over
//! them ([`cli`]).
//!
//! Only read access is used besides `kinesis:PutRecords`: what the stack's
//! `EventReaderPolicy` (DynamoDB Query), `DeadLetterReaderPolicy` (SQS receive, delete,
//! change visibility) and `ProducerPolicy` grant, plus `logs:FilterLogEvents`, and for the
//! mapping's books ([`books`]) `lambda:GetEventSourceMapping` on the stack's mapping and
//! `cloudwatch:GetMetricData` (without them the books are reported as not checked).

pub mod batch;
pub mod books;
pub mod check;
pub mod cli;
pub mod error;
pub mod latency;
pub mod letters;
pub mod logs;
pub mod queue;
pub mod report;
pub mod send;
pub mod stack;
pub mod table;

pub use error::Error;

/// Now, in epoch milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
