//! Drives the sinks: splits the work into requests, keeps as many in flight as the adaptive
//! window allows ([`crate::concurrency`]: growing while calls succeed, cut on throttling),
//! and retries what failed until it is written or the deadline says stop: a throttled
//! request at once while the window can still shrink, anything else with backoff. Objects (claim
//! checks, the archive's batch) are retried the same way, one request per object.

use std::collections::{BTreeSet, VecDeque};
use std::time::Duration;

use aggregates::AggregateItem;
use events::Item;
use futures_util::stream::{FuturesUnordered, StreamExt};

use crate::concurrency::{Answer, Ticket, Window};
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
    /// Requests answered with throttling, or with items unprocessed or entries failed.
    pub throttled: usize,
    /// The most requests that were in flight at once.
    pub peak_concurrency: usize,
    /// The window's size at the end ([`crate::concurrency`]).
    pub final_window: usize,
}

/// Writes every item (keys must be distinct), starting with `concurrency` requests in
/// flight and adapting from there ([`crate::concurrency`]).
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
    deliver(
        groups,
        Window::for_function(concurrency),
        backoff,
        deadline,
        &send,
    )
    .await
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
    deliver(
        groups,
        Window::for_function(AGGREGATE_CONCURRENCY),
        backoff,
        deadline,
        &send,
    )
    .await
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
                let window = Window::for_function(concurrency);
                stored = deliver(claimed, window, backoff, deadline, &put).await;
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
        throttled: stored.throttled + sent.throttled,
        peak_concurrency: stored.peak_concurrency.max(sent.peak_concurrency),
        final_window: sent.final_window,
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
    deliver(
        groups,
        Window::for_function(concurrency),
        backoff,
        deadline,
        &send,
    )
    .await
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
    deliver(vec![vec![0]], Window::fixed(1), backoff, deadline, &put).await
}

/// Runs the groups through `window`: as many calls in flight as it allows, a group that
/// comes back throttled (or with items unprocessed) queued again at once while the window
/// can still shrink (the cut paces it), else after its backoff; every retry only while the
/// deadline allows it.
async fn deliver<F, Fut>(
    groups: Vec<Vec<usize>>,
    mut window: Window,
    backoff: Backoff,
    deadline: Deadline,
    send: &F,
) -> Delivery
where
    F: Fn(&[usize]) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<usize>, SinkError>>,
{
    let mut delivery = Delivery::default();
    let mut queue: VecDeque<Pending> = groups
        .into_iter()
        .filter(|g| !g.is_empty())
        .map(|indices| Pending {
            indices,
            backoffs: 0,
        })
        .collect();
    let call = |pending: Pending, ticket: Ticket| {
        let answer = send(&pending.indices);
        async move { (pending, ticket, answer.await) }
    };
    let wait = |pending: Pending, delay: Duration| async move {
        tokio::time::sleep(delay).await;
        pending
    };
    let mut in_flight = FuturesUnordered::new();
    let mut waiting = FuturesUnordered::new();
    loop {
        while window.has_room() {
            let Some(pending) = queue.pop_front() else {
                break;
            };
            delivery.requests += 1;
            in_flight.push(call(pending, window.issue()));
        }
        if in_flight.is_empty() && waiting.is_empty() {
            break;
        }
        tokio::select! {
            Some((pending, ticket, answer)) = in_flight.next(), if !in_flight.is_empty() => {
                let retry = match answer {
                    Ok(unprocessed) if unprocessed.is_empty() => {
                        window.answered(ticket, Answer::Done, !queue.is_empty());
                        None
                    }
                    Ok(unprocessed) => {
                        window.answered(ticket, Answer::Throttled, !queue.is_empty());
                        let indices = unprocessed
                            .into_iter()
                            .filter_map(|i| pending.indices.get(i).copied())
                            .collect();
                        Some((Pending { indices, ..pending }, true))
                    }
                    Err(SinkError::Throttled(reason)) => {
                        window.answered(ticket, Answer::Throttled, !queue.is_empty());
                        tracing::debug!(%reason, pending = pending.indices.len(), "throttled");
                        Some((pending, true))
                    }
                    Err(SinkError::Retryable(reason)) => {
                        window.answered(ticket, Answer::Failed, !queue.is_empty());
                        tracing::warn!(%reason, pending = pending.indices.len(), "retrying");
                        Some((pending, false))
                    }
                    Err(SinkError::Fatal(reason)) => {
                        window.answered(ticket, Answer::Refused, !queue.is_empty());
                        tracing::error!(%reason, failed = pending.indices.len(), "request failed; records stay unhandled");
                        delivery.failed.extend(pending.indices);
                        None
                    }
                };
                let Some((mut pending, throttled)) = retry else {
                    continue;
                };
                if pending.indices.is_empty() {
                    continue;
                }
                delivery.throttled += usize::from(throttled);
                // Throttling is paced by the window while it can still shrink; an error, or
                // throttling at a window of 1, waits its backoff.
                let delay = if throttled && window.can_shrink() {
                    Duration::ZERO
                } else {
                    pending.backoffs += 1;
                    backoff.delay(pending.backoffs)
                };
                if !deadline.allows(delay) {
                    tracing::warn!(
                        failed = pending.indices.len(),
                        backoffs = pending.backoffs,
                        "out of time; reporting as failed"
                    );
                    delivery.failed.extend(pending.indices);
                } else if delay.is_zero() {
                    queue.push_front(pending);
                } else {
                    waiting.push(wait(pending, delay));
                }
            }
            Some(pending) = waiting.next(), if !waiting.is_empty() => queue.push_front(pending),
        }
    }
    delivery.peak_concurrency = window.peak();
    delivery.final_window = window.size();
    if delivery.throttled > 0 {
        tracing::info!(
            requests = delivery.requests,
            throttled = delivery.throttled,
            cuts = window.cuts(),
            peak = window.peak(),
            window = window.size(),
            "throttled requests retried"
        );
    }
    delivery
}

/// A group still to be delivered, and how often it has waited a backoff.
struct Pending {
    indices: Vec<usize>,
    backoffs: u32,
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::dead_letter::ClaimCheck;
    use crate::sinks::memory::{MemoryBucket, MemoryQueue, MemoryTable, Throttle};

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

    fn items(count: usize) -> Vec<Item> {
        (0..count)
            .map(|i| {
                crate::test_support::item(&format!(
                    r#"{{"userId":"u{}","eventType":"view","eventId":"e{i}","timestamp":1764000000000}}"#,
                    i % 7
                ))
            })
            .collect()
    }

    const TEN_MS: Duration = Duration::from_millis(10);

    #[tokio::test]
    async fn unthrottled_writes_grow_the_window_to_its_cap() {
        let items = items(64 * 25 * 3);
        let table = MemoryTable::default().with_latency(TEN_MS);
        let delivery = write_items(&table, &items, 8, FAST, deadline(60_000)).await;
        assert!(delivery.failed.is_empty());
        // 8, 16, 32, then 64 a round: 6 rounds of 10 ms, where a fixed 8 takes 24.
        assert_eq!(delivery.requests, 192);
        assert_eq!(delivery.peak_concurrency, 64);
        assert_eq!(table.call_stats().peak_in_flight, 64);
        assert_eq!(table.snapshot().len(), items.len());
    }

    #[tokio::test]
    async fn a_throttled_share_of_writes_is_retried_and_nothing_fails() {
        let items = items(10_000);
        let table = MemoryTable::default()
            .with_latency(TEN_MS)
            .throttling(Throttle::Rate {
                share: 0.3,
                seed: 7,
            });
        let delivery = write_items(&table, &items, 8, FAST, deadline(60_000)).await;
        assert!(delivery.failed.is_empty(), "{:?}", delivery.failed.len());
        assert_eq!(table.snapshot().len(), items.len());
        let stats = table.call_stats();
        assert_eq!(stats.calls, delivery.requests);
        assert_eq!(stats.throttled, delivery.throttled);
        assert!(
            (100..=250).contains(&stats.throttled),
            "30 % of about 571 calls: {stats:?}"
        );
        assert!(delivery.peak_concurrency > 40, "{delivery:?}");
    }

    #[tokio::test]
    async fn a_service_that_takes_twelve_at_once_holds_the_window_down() {
        let items = items(5_000);
        let table = MemoryTable::default()
            .with_latency(TEN_MS)
            .throttling(Throttle::Above(12));
        let delivery = write_items(&table, &items, 8, FAST, deadline(60_000)).await;
        assert!(delivery.failed.is_empty());
        assert_eq!(table.snapshot().len(), items.len());
        let stats = table.call_stats();
        // 200 calls succeed; the window keeps the throttled ones to a fraction of that.
        assert_eq!(stats.calls - stats.throttled, 200);
        assert!(stats.throttled < 200, "{stats:?}");
    }

    #[tokio::test]
    async fn unprocessed_items_cut_the_window_and_are_written_again() {
        let items = items(2_500);
        let table = MemoryTable::unprocessing_every(3).with_latency(TEN_MS);
        let delivery = write_items(&table, &items, 8, FAST, deadline(60_000)).await;
        assert!(delivery.failed.is_empty());
        assert_eq!(table.snapshot().len(), items.len());
        assert!(delivery.throttled > 30, "{delivery:?}");
        assert!(delivery.final_window < 64, "{delivery:?}");
    }

    #[tokio::test]
    async fn a_table_that_throttles_everything_fails_only_at_the_deadline() {
        let items = items(100);
        let table = MemoryTable::default()
            .with_latency(TEN_MS)
            .throttling(Throttle::Every(1));
        let started = std::time::Instant::now();
        let delivery = write_items(&table, &items, 8, FAST, deadline(500)).await;
        assert_eq!(delivery.failed.len(), 100);
        assert_eq!(delivery.final_window, 1);
        assert!(started.elapsed() >= Duration::from_millis(480));
    }

    #[tokio::test]
    async fn throttled_dead_letters_are_all_sent() {
        let letters: Vec<DeadLetter> = (0..500).map(|_| letter(100)).collect();
        let queue = MemoryQueue::default()
            .with_latency(TEN_MS)
            .throttling(Throttle::Rate {
                share: 0.3,
                seed: 3,
            });
        let delivery = send_letters(&queue, &letters, 8, FAST, deadline(60_000)).await;
        assert!(delivery.failed.is_empty());
        assert_eq!(queue.messages().len(), 500);
        assert!(queue.call_stats().throttled > 0);
        assert_eq!(delivery.throttled, queue.call_stats().throttled);
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
