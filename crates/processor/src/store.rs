//! Drives the sinks: splits the work into requests, keeps several in flight, and retries
//! what failed with backoff until it is written or the deadline says stop.

use std::collections::BTreeSet;

use events::Item;
use futures_util::stream::{self, StreamExt};

use crate::dead_letter::{DeadLetter, SQS_MAX_MESSAGE_BYTES};
use crate::sinks::{QueueSender, SinkError, TableWriter};
use aws_edge::retry::{Backoff, Deadline};

/// DynamoDB's BatchWriteItem limit.
pub const MAX_BATCH_WRITE: usize = 25;
/// SQS's SendMessageBatch limit.
pub const MAX_BATCH_SEND: usize = 10;

/// What a write or send achieved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delivery {
    /// Indices (into the input) not durably written or sent.
    pub failed: BTreeSet<usize>,
    /// Requests made, retries included.
    pub requests: usize,
}

/// Writes every item (keys must be distinct), `concurrency` requests at a time.
pub async fn write_items<W: TableWriter>(
    writer: &W,
    items: &[Item],
    concurrency: usize,
    backoff: Backoff,
    deadline: Deadline,
) -> Delivery {
    let groups: Vec<Vec<usize>> = (0..items.len())
        .collect::<Vec<_>>()
        .chunks(MAX_BATCH_WRITE)
        .map(<[usize]>::to_vec)
        .collect();
    let send = |pending: &[usize]| {
        let batch: Vec<&Item> = pending.iter().map(|&i| &items[i]).collect();
        async move { writer.batch_write(&batch).await }
    };
    deliver(groups, concurrency, backoff, deadline, &send).await
}

/// Sends every dead letter in batches within SQS's count and size limits.
pub async fn send_letters<Q: QueueSender>(
    sender: &Q,
    letters: &[DeadLetter],
    concurrency: usize,
    backoff: Backoff,
    deadline: Deadline,
) -> Delivery {
    let send = |pending: &[usize]| {
        let batch: Vec<&DeadLetter> = pending.iter().map(|&i| &letters[i]).collect();
        async move { sender.send_batch(&batch).await }
    };
    deliver(send_groups(letters), concurrency, backoff, deadline, &send).await
}

/// Runs the groups `concurrency` at a time, each with its own retries.
async fn deliver<F, Fut>(
    groups: Vec<Vec<usize>>,
    concurrency: usize,
    backoff: Backoff,
    deadline: Deadline,
    send: &F,
) -> Delivery
where
    F: Fn(&[usize]) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<usize>, SinkError>>,
{
    let results: Vec<(Vec<usize>, usize)> = stream::iter(groups)
        .map(|group| retry_group(group, backoff, deadline, send))
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    collect(results)
}

/// Groups of at most 10 letters whose bodies fit one 256 KiB request.
fn send_groups(letters: &[DeadLetter]) -> Vec<Vec<usize>> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut size = 0;
    for (i, letter) in letters.iter().enumerate() {
        let len = letter.body.len() + letter.error_type.len() + 64;
        let fits = groups
            .last()
            .is_some_and(|g| g.len() < MAX_BATCH_SEND && size + len <= SQS_MAX_MESSAGE_BYTES);
        if !fits {
            groups.push(Vec::new());
            size = 0;
        }
        size += len;
        if let Some(group) = groups.last_mut() {
            group.push(i);
        }
    }
    groups
}

/// One group's retry loop; returns the indices still failed and the requests made.
async fn retry_group<F, Fut>(
    group: Vec<usize>,
    backoff: Backoff,
    deadline: Deadline,
    send: &F,
) -> (Vec<usize>, usize)
where
    F: Fn(&[usize]) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<usize>, SinkError>>,
{
    let mut pending = group;
    let mut requests = 0;
    let mut attempt = 0;
    loop {
        requests += 1;
        match send(&pending).await {
            Ok(unprocessed) => {
                pending = unprocessed
                    .into_iter()
                    .filter_map(|i| pending.get(i).copied())
                    .collect()
            }
            Err(SinkError::Retryable(reason)) => {
                tracing::warn!(%reason, pending = pending.len(), "retrying")
            }
            Err(SinkError::Fatal(reason)) => {
                tracing::error!(%reason, failed = pending.len(), "request failed; records stay unhandled");
                return (pending, requests);
            }
        }
        if pending.is_empty() {
            return (pending, requests);
        }
        attempt += 1;
        let delay = backoff.delay(attempt);
        if !deadline.allows(delay) {
            tracing::warn!(
                failed = pending.len(),
                attempts = attempt,
                "out of time; reporting as failed"
            );
            return (pending, requests);
        }
        tokio::time::sleep(delay).await;
    }
}

fn collect(results: Vec<(Vec<usize>, usize)>) -> Delivery {
    let mut delivery = Delivery::default();
    for (failed, requests) in results {
        delivery.failed.extend(failed);
        delivery.requests += requests;
    }
    delivery
}

#[cfg(test)]
mod tests {
    use super::*;

    fn letter(size: usize) -> DeadLetter {
        DeadLetter {
            body: "x".repeat(size),
            error_type: "InvalidJson",
        }
    }

    #[test]
    fn send_groups_respect_count_and_size() {
        let small: Vec<DeadLetter> = (0..25).map(|_| letter(100)).collect();
        let sizes: Vec<usize> = send_groups(&small).iter().map(Vec::len).collect();
        assert_eq!(sizes, vec![10, 10, 5]);
        let large: Vec<DeadLetter> = (0..3).map(|_| letter(200_000)).collect();
        assert_eq!(send_groups(&large).len(), 3);
    }
}
