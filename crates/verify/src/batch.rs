//! The batch verify sends: `count` generated events, `invalid` of them broken on purpose
//! (the producer's kinds, taking turns), every one marked with the run's id so it can be
//! found again and is never confused with real traffic.

use events::{Generator, RetailEvent};
use producer::invalid::InvalidKind;
use producer::source::Record;

/// The id of one verify run: the UTC time it started and four random hex digits, e.g.
/// `20261125T003806Z-3fa1`. Readable in a table scan, sortable, unique enough for runs that
/// start in the same second.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunId(String);

impl RunId {
    /// A new id for a run starting at `now_ms`.
    pub fn new(now_ms: i64) -> RunId {
        RunId::from_parts(now_ms, fastrand::u16(..))
    }

    /// The id for `now_ms` and the random `suffix`.
    pub fn from_parts(now_ms: i64, suffix: u16) -> RunId {
        let time = chrono::DateTime::from_timestamp_millis(now_ms).unwrap_or_default();
        RunId(format!("{}-{suffix:04x}", time.format("%Y%m%dT%H%M%SZ")))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The run's mark: the `userId` and partition key of every record it sends.
    pub fn marker(&self) -> String {
        format!("verify-{}", self.0)
    }

    /// The `eventId` of the run's `index`-th event.
    pub fn event_id(&self, index: usize) -> String {
        format!("verify-{}-{index:04}", self.0)
    }

    /// A generator seed that follows from the id, so a run's events can be made again.
    fn seed(&self) -> u64 {
        // FNV-1a: stable across Rust versions, unlike the std hasher.
        self.0.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        })
    }
}

impl std::fmt::Display for RunId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a run sends.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The run.
    pub run_id: RunId,
    /// Events in all.
    pub count: usize,
    /// Of those, how many are broken on purpose.
    pub invalid: usize,
}

/// Where an event of the batch must end up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// In the table, under the run's `userId` and this `eventKey`.
    Stored {
        /// `eventKey`: the 13-digit timestamp, `#`, the event id (docs/design.md, "Table items").
        event_key: String,
    },
    /// In the dead-letter queue, broken this way.
    DeadLettered(InvalidKind),
}

/// One event of the batch, ready to send.
#[derive(Debug, Clone)]
pub struct Planned {
    /// Its `eventId`.
    pub event_id: String,
    /// Its `timestamp`: when it was made, so latency counts from there.
    pub timestamp_ms: i64,
    /// Where it must end up.
    pub expect: Expect,
    /// The record to put on the stream.
    pub record: Record,
}

impl Plan {
    /// The batch's events, all stamped `now_ms`: realistic generated events whose `userId`
    /// and partition key are the run's mark and whose `eventId`s follow from the run id.
    /// The invalid ones are spread evenly over the batch, the kinds taking turns.
    pub fn records(&self, now_ms: i64) -> Vec<Planned> {
        let mut generator = Generator::new(self.run_id.seed());
        let marker = self.run_id.marker();
        let mut invalid_made = 0;
        (0..self.count)
            .map(|index| {
                let event = RetailEvent {
                    event_id: Some(self.run_id.event_id(index)),
                    user_id: marker.clone(),
                    timestamp: now_ms,
                    ..generator.next_event(now_ms)
                };
                let event_id = self.run_id.event_id(index);
                let (data, expect) = if self.is_invalid(index) {
                    let kind = InvalidKind::ALL[invalid_made % InvalidKind::ALL.len()];
                    invalid_made += 1;
                    (kind.corrupt(&event), Expect::DeadLettered(kind))
                } else {
                    let event_key = events::event_key(now_ms, &event_id);
                    let data = serde_json::to_vec(&event).unwrap_or_default();
                    (data, Expect::Stored { event_key })
                };
                Planned {
                    event_id,
                    timestamp_ms: now_ms,
                    record: Record {
                        partition_key: marker.clone(),
                        data,
                        invalid: match expect {
                            Expect::DeadLettered(kind) => Some(kind),
                            Expect::Stored { .. } => None,
                        },
                    },
                    expect,
                }
            })
            .collect()
    }

    /// Whether the `index`-th event is one of the invalid ones: `invalid` of `count`,
    /// evenly apart, the last event among them.
    fn is_invalid(&self, index: usize) -> bool {
        let count = self.count.max(1);
        (index + 1) * self.invalid / count > index * self.invalid / count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_764_000_000_123;

    #[test]
    fn run_ids_are_utc_times_with_a_random_suffix() {
        assert_eq!(
            RunId::from_parts(NOW, 0x3fa1).as_str(),
            "20251124T160000Z-3fa1"
        );
        assert_eq!(
            RunId::from_parts(951_782_400_000, 1).as_str(),
            "20000229T000000Z-0001"
        );
        assert_eq!(RunId::from_parts(0, 0).as_str(), "19700101T000000Z-0000");
        let id = RunId::from_parts(NOW, 0xbeef);
        assert_eq!(id.marker(), "verify-20251124T160000Z-beef");
        assert_eq!(id.event_id(7), "verify-20251124T160000Z-beef-0007");
    }

    fn plan(count: usize, invalid: usize) -> Plan {
        Plan {
            run_id: RunId::from_parts(NOW, 1),
            count,
            invalid,
        }
    }

    #[test]
    fn the_invalid_events_are_spread_and_the_kinds_take_turns() {
        let records = plan(20, 4).records(NOW);
        let invalid: Vec<(usize, InvalidKind)> = records
            .iter()
            .enumerate()
            .filter_map(|(i, p)| match p.expect {
                Expect::DeadLettered(kind) => Some((i, kind)),
                Expect::Stored { .. } => None,
            })
            .collect();
        assert_eq!(
            invalid,
            [
                (4, InvalidKind::NotJson),
                (9, InvalidKind::MissingField),
                (14, InvalidKind::WrongType),
                (19, InvalidKind::Oversized)
            ]
        );
        for (count, wanted) in [(20, 0), (20, 20), (7, 3), (1, 1), (1000, 1)] {
            let made = plan(count, wanted)
                .records(NOW)
                .iter()
                .filter(|p| p.record.invalid.is_some())
                .count();
            assert_eq!(made, wanted, "{wanted} of {count}");
        }
    }

    #[test]
    fn every_record_carries_the_mark_and_valid_ones_become_the_promised_key() {
        let plan = plan(8, 4);
        let marker = plan.run_id.marker();
        for (index, planned) in plan.records(NOW).iter().enumerate() {
            assert_eq!(planned.record.partition_key, marker);
            assert_eq!(planned.event_id, plan.run_id.event_id(index));
            let ctx = events::RecordContext {
                event_id: "shardId-000000000000:1",
                arrival_ms: NOW,
                processed_at_ms: NOW + 5,
            };
            let processed = events::process_record(&planned.record.data, &ctx);
            match &planned.expect {
                Expect::Stored { event_key } => {
                    let item = processed.expect("a valid event is stored");
                    assert_eq!(item.partition_key(), marker);
                    assert_eq!(item.sort_key(), event_key);
                    assert_eq!(
                        event_key,
                        &format!("1764000000123#verify-20251124T160000Z-0001-{index:04}")
                    );
                }
                Expect::DeadLettered(kind) => {
                    assert!(processed.is_err(), "{kind:?} is rejected");
                }
            }
        }
    }

    #[test]
    fn the_same_run_makes_the_same_events() {
        let a = plan(10, 2).records(NOW);
        let b = plan(10, 2).records(NOW);
        assert!(a.iter().zip(&b).all(|(a, b)| a.record == b.record));
    }
}
