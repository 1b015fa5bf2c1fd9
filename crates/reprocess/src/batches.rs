//! Sending records through a [`Reprocessor`] in invocations, as the mapping would: each
//! invocation's first unhandled record and those after it are sent again (up to
//! [`Retry::attempts`] invocations), and what became of each record is told apart with the
//! processor's own pure core: stored, dead-lettered (still invalid) or not handled.

use std::time::Duration;

use kinesis_codec::record::EventSource;
use processor::dead_letter::Writer;

use crate::{event_json, Identified, Reprocessor};

/// How records are sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retry {
    /// Records per invocation.
    pub batch_size: usize,
    /// Invocations of the same records before they count as not handled.
    pub attempts: u32,
    /// Pause between those invocations.
    pub pause: Duration,
}

impl Default for Retry {
    fn default() -> Retry {
        Retry {
            batch_size: 100,
            attempts: 3,
            pause: Duration::from_millis(500),
        }
    }
}

/// What became of one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// Durably stored in the table.
    Stored,
    /// Still invalid: dead-lettered (again).
    DeadLettered,
    /// Not handled after every attempt.
    Failed,
}

/// What became of the records of one [`process`] call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Processed {
    /// Each record's fate, in the order given.
    pub fates: Vec<Fate>,
    /// The request IDs of the invocations made: the `requestId` of any dead letter they
    /// wrote.
    pub request_ids: Vec<String>,
    /// Why invocations failed, one line each.
    pub errors: Vec<String>,
}

impl Processed {
    /// How many records met `fate`.
    pub fn count(&self, fate: Fate) -> u64 {
        self.fates.iter().filter(|f| **f == fate).count() as u64
    }

    /// Whether every record was stored or dead-lettered.
    pub fn all_handled(&self) -> bool {
        !self.fates.contains(&Fate::Failed)
    }
}

/// Processes `records` in invocations of `retry.batch_size`, each invocation's unhandled
/// rest tried again until `retry.attempts` invocations; `redrive_count` travels with every
/// invocation. `Err` when an invocation could not be made at all.
pub async fn process<P: Reprocessor>(
    processor: &P,
    records: &[Identified],
    redrive_count: u32,
    retry: &Retry,
    source: &EventSource,
) -> Result<Processed, String> {
    let size = retry.batch_size.max(1);
    let mut handled = vec![false; records.len()];
    let mut processed = Processed::default();
    for start in (0..records.len()).step_by(size) {
        let end = (start + size).min(records.len());
        let mut from = start;
        for attempt in 1..=retry.attempts.max(1) {
            let result = processor
                .process(&records[from..end], redrive_count)
                .await?;
            processed.request_ids.push(result.request_id);
            let stop = result.first_unhandled.map_or(end, |i| (from + i).min(end));
            handled[from..stop].iter_mut().for_each(|h| *h = true);
            from = stop;
            if from == end {
                break;
            }
            if let Some(error) = result.error {
                processed.errors.push(error);
            }
            if attempt < retry.attempts {
                tokio::time::sleep(retry.pause).await;
            }
        }
    }
    let rejected = predict_rejections(records, source);
    processed.fates = handled
        .iter()
        .zip(&rejected)
        .map(|(done, again)| match (done, again) {
            (true, true) => Fate::DeadLettered,
            (true, false) => Fate::Stored,
            (false, _) => Fate::Failed,
        })
        .collect();
    Ok(processed)
}

/// Which records the processor rejects, by its own pure core: a caller tells stored from
/// dead-lettered without asking the function. (When the deployed function is another
/// version, its own decision stands; only these two counts may differ from it.)
pub fn predict_rejections(records: &[Identified], source: &EventSource) -> Vec<bool> {
    let Ok(event) = kinesis_codec::event::from_json(event_json(records, source)) else {
        return vec![false; records.len()];
    };
    let writer = Writer {
        function_name: "",
        request_id: "",
        redrive_count: 0,
    };
    processor::plan::plan(&event.records, writer, 0, 0)
        .needs
        .iter()
        .map(|needs| !needs.letters.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;
    use crate::tests::{identified, source};
    use crate::Attempt;

    /// Handles at most `per_call` records of each invocation, and keeps what it was sent.
    struct Partial {
        per_call: usize,
        calls: RefCell<Vec<Vec<String>>>,
    }

    impl Reprocessor for Partial {
        async fn process(&self, records: &[Identified], _: u32) -> Result<Attempt, String> {
            let mut calls = self.calls.borrow_mut();
            calls.push(records.iter().map(|r| r.event_id.clone()).collect());
            Ok(Attempt {
                first_unhandled: (records.len() > self.per_call).then_some(self.per_call),
                request_id: format!("req-{}", calls.len()),
                error: None,
            })
        }
    }

    fn records(n: usize) -> Vec<Identified> {
        (0..n)
            .map(|i| {
                let mut r = identified(&i.to_string(), &format!("e{i}"));
                r.record.data = if i == 1 {
                    b"not json".to_vec()
                } else {
                    br#"{"userId":"u","eventType":"view"}"#.to_vec()
                };
                r
            })
            .collect()
    }

    #[tokio::test]
    async fn the_unhandled_rest_is_sent_again_and_fates_are_told_apart() {
        let processor = Partial {
            per_call: 2,
            calls: RefCell::default(),
        };
        let retry = Retry {
            batch_size: 4,
            attempts: 2,
            pause: Duration::ZERO,
        };
        let done = process(&processor, &records(6), 1, &retry, &source())
            .await
            .unwrap();
        assert_eq!(
            *processor.calls.borrow(),
            [
                vec!["e0", "e1", "e2", "e3"],
                vec!["e2", "e3"],
                vec!["e4", "e5"]
            ]
        );
        assert_eq!(
            done.fates,
            [
                Fate::Stored,
                Fate::DeadLettered,
                Fate::Stored,
                Fate::Stored,
                Fate::Stored,
                Fate::Stored
            ]
        );
        assert_eq!(done.request_ids, ["req-1", "req-2", "req-3"]);
        assert!(done.all_handled());

        let stubborn = Partial {
            per_call: 0,
            calls: RefCell::default(),
        };
        let done = process(&stubborn, &records(2), 1, &retry, &source())
            .await
            .unwrap();
        assert_eq!(done.count(Fate::Failed), 2);
        assert_eq!(stubborn.calls.borrow().len(), 2, "two attempts");
        assert!(!done.all_handled());
    }
}
