//! Drives the sinks: splits the work into requests, keeps several in flight, and retries
//! what failed with backoff until it is written or the deadline says stop. Objects (claim
//! checks, the archive's batch) are retried the same way, one request per object.

use std::collections::BTreeSet;

use aggregates::AggregateItem;
use events::Item;
use futures_util::stream::{self, StreamExt};

use crate::dead_letter::{DeadLetter, CLAIM_CHECK_CONTENT_TYPE, SQS_MAX_MESSAGE_BYTES};
use crate::sinks::aggregates::AggregateStore;
use crate::sinks::{ObjectStore, QueueSender, SinkError, TableWriter};
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
    let groups = write_groups(items.len());
    let send = |pending: &[usize]| {
        let batch: Vec<&Item> = pending.iter().map(|&i| &items[i]).collect();
        async move { writer.batch_write(&batch).await }
    };
    deliver(groups, concurrency, backoff, deadline, &send).await
}

/// Writes a window's aggregate items (distinct keys), a few requests at a time, retried
/// like the table's.
pub async fn write_aggregates(
    store: &dyn AggregateStore,
    items: &[AggregateItem],
    backoff: Backoff,
    deadline: Deadline,
) -> Delivery {
    let groups = write_groups(items.len());
    let send = |pending: &[usize]| {
        let batch: Vec<&AggregateItem> = pending.iter().map(|&i| &items[i]).collect();
        async move { store.batch_put(&batch).await }
    };
    deliver(groups, AGGREGATE_CONCURRENCY, backoff, deadline, &send).await
}

/// The indices of `count` items in BatchWriteItem's groups of [`MAX_BATCH_WRITE`].
fn write_groups(count: usize) -> Vec<Vec<usize>> {
    (0..count)
        .collect::<Vec<_>>()
        .chunks(MAX_BATCH_WRITE)
        .map(<[usize]>::to_vec)
        .collect()
}

/// Aggregate write requests in flight at once: a window's end writes a handful of items.
const AGGREGATE_CONCURRENCY: usize = 4;

/// Sends every dead letter in batches within SQS's count and size limits.
pub async fn send_letters<Q: QueueSender>(
    sender: &Q,
    letters: &[DeadLetter],
    concurrency: usize,
    backoff: Backoff,
    deadline: Deadline,
) -> Delivery {
    let all: Vec<usize> = (0..letters.len()).collect();
    send_some(sender, letters, &all, concurrency, backoff, deadline).await
}

/// Delivers every dead letter: first the claim checks' objects into `claims` (the failure
/// bucket), then the letters whose object is stored (and those without one). A letter whose
/// object could not be stored is not sent, so no letter points at nothing; it is failed, and
/// its record is tried again by Lambda, which writes the same key again. Without `claims`
/// a letter with a claim check is failed the same way (the plan makes none then).
pub async fn deliver_letters<Q: QueueSender>(
    sender: &Q,
    claims: Option<&dyn ObjectStore>,
    letters: &[DeadLetter],
    concurrency: usize,
    backoff: Backoff,
    deadline: Deadline,
) -> Delivery {
    let claimed: Vec<Vec<usize>> = letters
        .iter()
        .enumerate()
        .filter(|(_, letter)| letter.claim_check.is_some())
        .map(|(i, _)| vec![i])
        .collect();
    let mut stored = Delivery::default();
    if !claimed.is_empty() {
        match claims {
            None => stored.failed.extend(claimed.into_iter().flatten()),
            Some(store) => {
                let put = |pending: &[usize]| {
                    let claim = pending
                        .first()
                        .and_then(|&i| letters[i].claim_check.as_ref());
                    async move {
                        let Some(claim) = claim else {
                            return Ok(Vec::new());
                        };
                        store
                            .put(&claim.key, &claim.data, CLAIM_CHECK_CONTENT_TYPE)
                            .await
                            .map(|()| Vec::new())
                    }
                };
                stored = deliver(claimed, concurrency, backoff, deadline, &put).await;
            }
        }
    }
    let ready: Vec<usize> = (0..letters.len())
        .filter(|i| !stored.failed.contains(i))
        .collect();
    let sent = send_some(sender, letters, &ready, concurrency, backoff, deadline).await;
    Delivery {
        failed: stored.failed.union(&sent.failed).copied().collect(),
        requests: stored.requests + sent.requests,
    }
}

/// Sends the letters at `indices`.
async fn send_some<Q: QueueSender>(
    sender: &Q,
    letters: &[DeadLetter],
    indices: &[usize],
    concurrency: usize,
    backoff: Backoff,
    deadline: Deadline,
) -> Delivery {
    let send = |pending: &[usize]| {
        let batch: Vec<&DeadLetter> = pending.iter().map(|&i| &letters[i]).collect();
        async move { sender.send_batch(&batch).await }
    };
    let groups = send_groups(letters, indices);
    deliver(groups, concurrency, backoff, deadline, &send).await
}

/// Stores one object at `key`, retried until stored or the deadline says stop; with
/// `if_absent` an object already at `key` counts as stored (and is kept). `failed` holds 0
/// when it was not stored.
pub async fn put_object(
    store: &dyn ObjectStore,
    (key, body, content_type): (&str, &[u8], &str),
    if_absent: bool,
    backoff: Backoff,
    deadline: Deadline,
) -> Delivery {
    let put = |_: &[usize]| async move {
        if if_absent {
            store
                .put_new(key, body, content_type)
                .await
                .map(|_| Vec::new())
        } else {
            store
                .put(key, body, content_type)
                .await
                .map(|()| Vec::new())
        }
    };
    deliver(vec![vec![0]], 1, backoff, deadline, &put).await
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

/// Groups of at most 10 of the letters at `indices` whose bodies fit one request (SQS's
/// limit on a batch's total, the same as on one message).
fn send_groups(letters: &[DeadLetter], indices: &[usize]) -> Vec<Vec<usize>> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut size = 0;
    for &i in indices {
        let letter = &letters[i];
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
    use std::time::Duration;

    use super::*;
    use crate::dead_letter::ClaimCheck;
    use crate::sinks::memory::{MemoryBucket, MemoryQueue};

    fn letter(size: usize) -> DeadLetter {
        DeadLetter {
            body: "x".repeat(size),
            error_type: "InvalidJson",
            claim_check: None,
        }
    }

    fn claimed(key: &str) -> DeadLetter {
        DeadLetter {
            claim_check: Some(ClaimCheck {
                key: key.to_owned(),
                data: key.as_bytes().to_vec(),
            }),
            ..letter(10)
        }
    }

    const FAST: Backoff = Backoff {
        base: Duration::from_millis(1),
        max: Duration::from_millis(2),
    };

    fn deadline(ms: u64) -> Deadline {
        Deadline::after(Duration::from_millis(ms), Duration::ZERO)
    }

    #[test]
    fn send_groups_respect_count_and_size() {
        let small: Vec<DeadLetter> = (0..25).map(|_| letter(100)).collect();
        let all: Vec<usize> = (0..25).collect();
        let sizes: Vec<usize> = send_groups(&small, &all).iter().map(Vec::len).collect();
        assert_eq!(sizes, vec![10, 10, 5]);
        let large: Vec<DeadLetter> = (0..3).map(|_| letter(600_000)).collect();
        assert_eq!(send_groups(&large, &[0, 1, 2]).len(), 3);
        let some = send_groups(&small, &[1, 4, 24]);
        assert_eq!(some, vec![vec![1, 4, 24]]);
    }

    #[tokio::test]
    async fn a_letter_is_sent_only_once_its_object_is_stored() {
        let letters = vec![letter(10), claimed("dead-letters/s/1"), letter(10)];
        let queue = MemoryQueue::default();
        let bucket = MemoryBucket::new("failures");
        let delivery =
            deliver_letters(&queue, Some(&bucket), &letters, 2, FAST, deadline(1_000)).await;
        assert!(delivery.failed.is_empty());
        assert_eq!(queue.messages().len(), 3);
        assert_eq!(
            bucket.objects()["dead-letters/s/1"].body,
            b"dead-letters/s/1"
        );
        assert_eq!(
            bucket.objects()["dead-letters/s/1"].content_type,
            CLAIM_CHECK_CONTENT_TYPE
        );
    }

    #[tokio::test]
    async fn a_claim_check_that_cannot_be_stored_keeps_its_letter_back() {
        let letters = vec![letter(10), claimed("k1"), claimed("k2")];
        let queue = MemoryQueue::default();
        let refusing = MemoryBucket::new("failures").refusing();
        let delivery =
            deliver_letters(&queue, Some(&refusing), &letters, 2, FAST, deadline(1_000)).await;
        assert_eq!(delivery.failed, [1, 2].into());
        assert_eq!(queue.messages(), vec![letters[0].clone()]);
        // An outage: retried until the deadline, then the same.
        let down = MemoryBucket::new("failures");
        down.set_down(true);
        let queue = MemoryQueue::default();
        let delivery = deliver_letters(&queue, Some(&down), &letters, 2, FAST, deadline(30)).await;
        assert_eq!(delivery.failed, [1, 2].into());
        assert!(down.puts() > 2, "retried: {} requests", down.puts());
        assert_eq!(queue.messages().len(), 1);
        // No bucket at all: never a letter pointing at nothing.
        let queue = MemoryQueue::default();
        let delivery = deliver_letters(&queue, None, &letters, 2, FAST, deadline(1_000)).await;
        assert_eq!(delivery.failed, [1, 2].into());
        assert_eq!(queue.messages().len(), 1);
    }

    #[tokio::test]
    async fn an_object_is_retried_until_stored_and_a_kept_one_counts_as_stored() {
        let bucket = MemoryBucket::new("archive").failing_every(2);
        let object = ("events/k", &b"one"[..], "application/gzip");
        let first = put_object(&bucket, object, true, FAST, deadline(1_000)).await;
        assert!(first.failed.is_empty());
        // Request 2 fails (SlowDown), request 3 finds the object there and keeps it.
        let again = ("events/k", &b"two"[..], "application/gzip");
        let second = put_object(&bucket, again, true, FAST, deadline(1_000)).await;
        assert!(second.failed.is_empty());
        assert_eq!(second.requests, 2);
        assert_eq!(bucket.objects()["events/k"].body, b"one");
        // Overwriting: request 4 fails, 5 replaces it.
        let replaced = put_object(&bucket, again, false, FAST, deadline(1_000)).await;
        assert!(replaced.failed.is_empty());
        assert_eq!(bucket.objects()["events/k"].body, b"two");
        let refused = MemoryBucket::new("archive").refusing();
        let failed = put_object(&refused, object, true, FAST, deadline(1_000)).await;
        assert_eq!(failed.failed, [0].into());
        assert_eq!(failed.requests, 1, "a fatal answer is not retried");
    }
}
