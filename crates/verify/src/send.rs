//! Putting the batch on the stream with the producer's library, and remembering where each
//! record landed: the shard and sequence number are how its dead letter is recognised.

use aws_config::SdkConfig;
use producer::kinesis::Stream;
use producer::send::{self, Placement, RetryPolicy, MAX_BATCH_RECORDS};
use producer::source::Record;

use crate::batch::{Expect, Plan, RunId};
use crate::error::{self, Error};
use crate::stack::Stack;

/// One record of the batch, in the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentRecord {
    /// Its `eventId`.
    pub event_id: String,
    /// Its `timestamp`, epoch ms.
    pub timestamp_ms: i64,
    /// Where it must end up.
    pub expect: Expect,
    /// The shard that took it.
    pub shard_id: String,
    /// Its sequence number there.
    pub sequence_number: String,
}

/// What a run put on the stream.
#[derive(Debug, Clone)]
pub struct Sent {
    /// The run.
    pub run_id: RunId,
    /// The stream.
    pub stream_name: String,
    /// When the batch was made, epoch ms: the events' timestamp.
    pub started_ms: i64,
    /// Every record, in the order sent.
    pub records: Vec<SentRecord>,
}

impl Sent {
    /// The valid records, which must be stored.
    pub fn valid(&self) -> impl Iterator<Item = (&SentRecord, &str)> {
        self.records.iter().filter_map(|r| match &r.expect {
            Expect::Stored { event_key } => Some((r, event_key.as_str())),
            Expect::DeadLettered(_) => None,
        })
    }

    /// The invalid records, which must be dead-lettered.
    pub fn invalid(&self) -> impl Iterator<Item = &SentRecord> {
        self.records
            .iter()
            .filter(|r| matches!(r.expect, Expect::DeadLettered(_)))
    }
}

/// Makes `plan`'s records now and puts them on the stack's stream (`endpoint` names the
/// endpoint in messages). Entries the stream rejects are retried with backoff, as the
/// producer does; a record still not accepted after that fails the run.
pub async fn send(
    config: &SdkConfig,
    stack: &Stack,
    plan: &Plan,
    endpoint: &str,
) -> Result<Sent, Error> {
    let stream = Stream::with_config(config, &stack.stream_name, endpoint.to_owned());
    let started_ms = crate::now_ms();
    let planned = plan.records(started_ms);
    let records: Vec<Record> = planned.iter().map(|p| p.record.clone()).collect();
    let mut placements: Vec<Option<Placement>> = vec![None; records.len()];
    let mut failed = Vec::new();
    for range in send::batches(&records, MAX_BATCH_RECORDS) {
        let outcome = send::put_batch(&stream, &records[range.clone()], RetryPolicy::default())
            .await
            .map_err(|e| error::put_error(&stack.stream_name, e))?;
        for (index, placement) in outcome.placed {
            placements[range.start + index] = Some(placement);
        }
        failed.extend(outcome.failed.into_iter().map(|(_, error)| error));
    }
    if let Some(last) = failed.last() {
        return Err(Error::NotSent {
            stream: stack.stream_name.clone(),
            failed: failed.len(),
            total: records.len(),
            last: last.clone(),
        });
    }
    let records = planned
        .into_iter()
        .zip(placements)
        .filter_map(|(planned, placement)| {
            let placement = placement?;
            Some(SentRecord {
                event_id: planned.event_id,
                timestamp_ms: planned.timestamp_ms,
                expect: planned.expect,
                shard_id: placement.shard_id,
                sequence_number: placement.sequence_number,
            })
        })
        .collect();
    Ok(Sent {
        run_id: plan.run_id.clone(),
        stream_name: stack.stream_name.clone(),
        started_ms,
        records,
    })
}
