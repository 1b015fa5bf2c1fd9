//! A tumbling window's figures, carried between the invocations of one shard in the
//! window's state (a map of strings, at most 1 MB per shard), written as aggregate items at
//! the window's end.
//!
//! - **Duplicate-proof.** Lambda processes each record at least once; the state keeps the
//!   highest sequence number already counted (`hw`), and a record at or below it is not
//!   counted again, however often it is delivered.
//! - **By event time.** A record's events count in the minute of their own `timestamp`;
//!   dead-lettered records in their arrival minute.
//! - **Bounded.** Before a record could take the state past [`STATE_BUDGET_BYTES`], the
//!   figures so far are closed as a *part* (written as items at once, keyed by the part's
//!   first sequence number) and the window goes on with fresh figures. The decision is
//!   made record by record, so the same records split into the same parts however Lambda
//!   batches them, and a retried or repeated write overwrites the same items.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};

use crate::figures::{minute_of, EventFacts, Figures, FIXED_STATE_BYTES};
use crate::item::{AggregateItem, Source};

/// The state's format, in its `v` entry: a state of another format is refused, not
/// misread (during a gradual deploy two versions of the processor share windows).
pub const STATE_VERSION: &str = "1";
/// Bytes of figures a part may hold. The state's text escapes each figure's JSON once
/// more (at most doubling it), so 450 KB of figures stays under Lambda's 1 MB.
pub const STATE_BUDGET_BYTES: usize = 450_000;

const VERSION_KEY: &str = "v";
const HIGH_WATER_KEY: &str = "hw";
const PART_KEY: &str = "part";
const BYTES_KEY: &str = "b";
const MINUTE_PREFIX: &str = "m:";

/// Why a window's state could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    /// The state was written by another format.
    #[error("the window's state is format {found:?}, this processor reads {STATE_VERSION:?}")]
    Version {
        /// The state's `v`.
        found: String,
    },
    /// An entry is not what this format writes.
    #[error("the window's state entry {key:?} is not valid: {reason}")]
    Entry {
        /// The entry's key.
        key: String,
        /// What is wrong.
        reason: String,
    },
}

/// One record as the window counts it: its place in the shard and what it became.
#[derive(Debug, Clone, Copy)]
pub struct RecordFacts<'r, 'a> {
    /// Its sequence number.
    pub sequence: &'r str,
    /// Its arrival time, epoch ms.
    pub arrival_ms: i64,
    /// The events it stored (several for a KPL aggregate).
    pub events: &'r [EventFacts<'a>],
    /// Its user records that were dead-lettered.
    pub dead_lettered: u64,
}

/// Figures closed before the window's end, or at it: written as one item per minute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// The shard.
    pub shard_id: String,
    /// The Lambda window's start, epoch ms.
    pub window_start_ms: i64,
    /// The sequence number of the part's first counted record.
    pub first_sequence: String,
    /// Figures by event-time minute (start, epoch ms).
    pub minutes: BTreeMap<i64, Figures>,
}

impl Part {
    /// The part's items, one per minute, written at `written_at_ms`; they expire
    /// `ttl_days` after their minute (0: never).
    pub fn items(&self, written_at_ms: i64, ttl_days: u32) -> Vec<AggregateItem> {
        self.minutes
            .iter()
            .map(|(&minute_ms, figures)| AggregateItem {
                minute_ms,
                source: Source::Window {
                    shard_id: self.shard_id.clone(),
                    window_start_ms: self.window_start_ms,
                    first_sequence: self.first_sequence.clone(),
                },
                figures: figures.with_top_products(),
                written_at_ms,
                expires_at: (ttl_days > 0).then(|| events::expires_at(minute_ms, ttl_days)),
            })
            .collect()
    }
}

/// The figures of one shard's window; see the module's documentation.
///
/// A minute the window's earlier invocations counted stays as the state's text until a
/// record of this invocation touches it: an invocation reads and writes back only the
/// minutes it counts in (a window full of late events' minutes would otherwise cost every
/// invocation a pass over all of them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aggregator {
    shard_id: String,
    window_start_ms: i64,
    high_water: Option<String>,
    first_sequence: Option<String>,
    minutes: BTreeMap<i64, Minute>,
    /// An upper bound of the figures' bytes in the state (the sum of their
    /// [`Figures::state_bytes`], carried in the state as `b`).
    bytes: usize,
    /// Minutes whose state text could not be read; they were counted afresh.
    damaged: Vec<i64>,
    closed: Vec<Part>,
}

/// A minute's figures: as the state held them, or read (and perhaps counted in).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Minute {
    Stored(String),
    Open(Figures),
}

impl Aggregator {
    /// The window's figures so far, from the state the invocation received (empty at the
    /// window's start).
    pub fn resume(
        shard_id: &str,
        window_start_ms: i64,
        state: &HashMap<String, String>,
    ) -> Result<Aggregator, StateError> {
        let mut aggregator = Aggregator {
            shard_id: shard_id.to_owned(),
            window_start_ms,
            high_water: None,
            first_sequence: None,
            minutes: BTreeMap::new(),
            bytes: 0,
            damaged: Vec::new(),
            closed: Vec::new(),
        };
        if state.is_empty() {
            return Ok(aggregator);
        }
        match state.get(VERSION_KEY) {
            Some(v) if v == STATE_VERSION => {}
            found => {
                return Err(StateError::Version {
                    found: found.cloned().unwrap_or_default(),
                })
            }
        }
        let entry = |key: &str, reason: String| StateError::Entry {
            key: key.to_owned(),
            reason,
        };
        for (key, value) in state {
            if key == HIGH_WATER_KEY || key == PART_KEY {
                if !is_sequence(value) {
                    return Err(entry(key, "not a sequence number".into()));
                }
            } else if key == BYTES_KEY {
                aggregator.bytes = value
                    .parse()
                    .map_err(|_| entry(key, "not a count of bytes".into()))?;
            } else if let Some(minute) = key.strip_prefix(MINUTE_PREFIX) {
                let minute: i64 = minute
                    .parse()
                    .map_err(|_| entry(key, "not a minute in epoch ms".into()))?;
                if !value.starts_with('{') {
                    return Err(entry(key, "not a minute's figures".into()));
                }
                aggregator
                    .minutes
                    .insert(minute, Minute::Stored(value.clone()));
            } else if key != VERSION_KEY {
                return Err(entry(key, "unknown entry".into()));
            }
        }
        aggregator.high_water = state.get(HIGH_WATER_KEY).cloned();
        aggregator.first_sequence = state.get(PART_KEY).cloned();
        if !aggregator.minutes.is_empty() {
            if aggregator.first_sequence.is_none() {
                return Err(entry(PART_KEY, "figures without their part".into()));
            }
            if !state.contains_key(BYTES_KEY) {
                return Err(entry(BYTES_KEY, "figures without their size".into()));
            }
        }
        Ok(aggregator)
    }

    /// Whether a record at `sequence` would be counted: it is above every record counted
    /// so far.
    pub fn is_new(&self, sequence: &str) -> bool {
        self.high_water
            .as_deref()
            .is_none_or(|hw| compare_sequences(sequence, hw) == Ordering::Greater)
    }

    /// Counts a handled record, unless it was counted before; returns whether it counted.
    /// A record that could take the state past its budget first closes the figures so far
    /// as a [`Part`] (see [`Aggregator::take_closed`]).
    pub fn count(&mut self, record: &RecordFacts<'_, '_>) -> bool {
        if !self.is_new(record.sequence) {
            return false;
        }
        let bound = record_bound(record);
        if self.bytes + bound > STATE_BUDGET_BYTES && !self.minutes.is_empty() {
            self.close_part();
        }
        if self.first_sequence.is_none() {
            self.first_sequence = Some(record.sequence.to_owned());
        }
        for event in record.events {
            let figures = self.open(event.minute_ms());
            let grown = figures.add(event);
            self.bytes += grown;
        }
        if record.dead_lettered > 0 {
            self.open(minute_of(record.arrival_ms))
                .add_dead_lettered(record.dead_lettered);
        }
        // The mark's buffer is reused: one allocation per window, not per record.
        let mark = self.high_water.get_or_insert_with(String::new);
        mark.clear();
        mark.push_str(record.sequence);
        true
    }

    /// The figures of `minute`, read from the state's text or begun now.
    fn open(&mut self, minute: i64) -> &mut Figures {
        let entry = self.minutes.entry(minute).or_insert_with(|| {
            self.bytes += FIXED_STATE_BYTES;
            Minute::Open(Figures::default())
        });
        if let Minute::Stored(text) = entry {
            let figures = serde_json::from_str(text).unwrap_or_else(|_| {
                self.damaged.push(minute);
                Figures::default()
            });
            *entry = Minute::Open(figures);
        }
        match entry {
            Minute::Open(figures) => figures,
            Minute::Stored(_) => unreachable!("the minute was just read"),
        }
    }

    /// The minutes whose state text could not be read (damaged in transit or written by
    /// something else): they were counted afresh from this invocation on, and a rebuild
    /// restores them.
    pub fn damaged(&self) -> &[i64] {
        &self.damaged
    }

    /// The parts closed since the last call, to be written before the invocation answers.
    pub fn take_closed(&mut self) -> Vec<Part> {
        std::mem::take(&mut self.closed)
    }

    /// Closes the window (its final invocation, or Lambda's early termination): every part
    /// not yet written, the open one last. The state that remains holds only the high-water
    /// mark.
    pub fn finish(&mut self) -> Vec<Part> {
        self.close_part();
        self.take_closed()
    }

    /// The state to hand back to Lambda: the minutes this invocation did not touch as they
    /// came, the others written anew.
    pub fn state(&self) -> HashMap<String, String> {
        let mut state = HashMap::with_capacity(self.minutes.len() + 4);
        state.insert(VERSION_KEY.to_owned(), STATE_VERSION.to_owned());
        if let Some(hw) = &self.high_water {
            state.insert(HIGH_WATER_KEY.to_owned(), hw.clone());
        }
        if let Some(first) = &self.first_sequence {
            state.insert(PART_KEY.to_owned(), first.clone());
        }
        if !self.minutes.is_empty() {
            state.insert(BYTES_KEY.to_owned(), self.bytes.to_string());
        }
        for (minute, figures) in &self.minutes {
            let text = match figures {
                Minute::Stored(text) => text.clone(),
                Minute::Open(figures) => serde_json::to_string(figures).unwrap_or_default(),
            };
            state.insert(format!("{MINUTE_PREFIX}{minute}"), text);
        }
        state
    }

    /// The figures of the open part, by minute (every minute read).
    pub fn figures(&mut self) -> BTreeMap<i64, Figures> {
        let minutes: Vec<i64> = self.minutes.keys().copied().collect();
        minutes
            .into_iter()
            .map(|minute| (minute, self.open(minute).clone()))
            .collect()
    }

    fn close_part(&mut self) {
        let minutes = self.figures();
        self.minutes.clear();
        self.bytes = 0;
        let Some(first_sequence) = self.first_sequence.take() else {
            return;
        };
        if minutes.is_empty() {
            return;
        }
        self.closed.push(Part {
            shard_id: self.shard_id.clone(),
            window_start_ms: self.window_start_ms,
            first_sequence,
            minutes,
        });
    }
}

/// The most one record can add to the state: per event a new minute, type and product
/// name, and sketch registers; a minute for its dead letters.
fn record_bound(record: &RecordFacts<'_, '_>) -> usize {
    let names: usize = record
        .events
        .iter()
        .map(|e| (e.event_type.len() + e.product_id.map_or(0, str::len)) * 6 + 128)
        .sum();
    names + FIXED_STATE_BYTES * (record.events.len() + 1)
}

/// Orders two Kinesis sequence numbers (decimal digits, up to 128 bits: compared by
/// length, then digit by digit).
pub fn compare_sequences(a: &str, b: &str) -> Ordering {
    let a = a.trim_start_matches('0');
    let b = b.trim_start_matches('0');
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

fn is_sequence(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(ts: i64, kind: &'static str, user: &'static str) -> EventFacts<'static> {
        EventFacts {
            timestamp_ms: ts,
            event_type: kind,
            user_id: user,
            product_id: Some("p1"),
            price: Some("2.50"),
            quantity: None,
        }
    }

    const MINUTE: i64 = 1_700_000_040_000;

    #[test]
    fn a_record_at_or_below_the_high_water_mark_counts_once() {
        let mut window = Aggregator::resume("shardId-1", MINUTE, &HashMap::new()).unwrap();
        let events = [facts(MINUTE + 5, "purchase", "u1")];
        let record = |sequence| RecordFacts {
            sequence,
            arrival_ms: MINUTE + 10,
            events: &events,
            dead_lettered: 0,
        };
        assert!(window.count(&record("100")));
        assert!(!window.count(&record("100")));
        assert!(!window.count(&record("99")));
        let mut resumed = Aggregator::resume("shardId-1", MINUTE, &window.state()).unwrap();
        assert!(!resumed.is_new("100") && resumed.is_new("101"));
        assert_eq!(
            resumed.state(),
            window.state(),
            "untouched minutes pass as they came"
        );
        assert_eq!(resumed.figures()[&MINUTE].revenue_cents, 250);
        assert_eq!(resumed.figures(), window.figures());
    }

    #[test]
    fn a_damaged_minute_is_counted_afresh_and_named() {
        let mut window = Aggregator::resume("s", MINUTE, &HashMap::new()).unwrap();
        let events = [facts(MINUTE + 5, "view", "u1")];
        let record = |sequence| RecordFacts {
            sequence,
            arrival_ms: MINUTE,
            events: &events,
            dead_lettered: 0,
        };
        window.count(&record("1"));
        let mut state = window.state();
        state.insert(format!("m:{MINUTE}"), "{\"n\": \"many\"}".into());
        let mut resumed = Aggregator::resume("s", MINUTE, &state).unwrap();
        resumed.count(&record("2"));
        assert_eq!(resumed.damaged(), [MINUTE]);
        assert_eq!(resumed.figures()[&MINUTE].events, 1);
    }

    #[test]
    fn sequence_numbers_compare_as_numbers() {
        assert_eq!(compare_sequences("9", "10"), Ordering::Less);
        assert_eq!(compare_sequences("0010", "10"), Ordering::Equal);
        assert_eq!(
            compare_sequences(
                "49590338271490256608559692538361571095921575989136588898",
                "49590338271490256608559692538361571095921575989136588899"
            ),
            Ordering::Less
        );
    }

    #[test]
    fn events_count_in_their_own_minute_and_dead_letters_in_their_arrival_minute() {
        let mut window = Aggregator::resume("s", MINUTE, &HashMap::new()).unwrap();
        let late = [
            facts(MINUTE - 5 * 60_000 + 1, "view", "u1"),
            facts(MINUTE + 1, "view", "u2"),
        ];
        window.count(&RecordFacts {
            sequence: "1",
            arrival_ms: MINUTE + 61_000,
            events: &late,
            dead_lettered: 2,
        });
        let minutes = window.finish().remove(0).minutes;
        assert_eq!(minutes[&(MINUTE - 300_000)].count("view"), 1);
        assert_eq!(minutes[&MINUTE].count("view"), 1);
        assert_eq!(minutes[&(MINUTE + 60_000)].dead_lettered, 2);
        assert_eq!(minutes[&(MINUTE + 60_000)].events, 0);
    }

    #[test]
    fn a_state_of_another_format_or_damaged_is_refused_by_name() {
        let mut state = HashMap::from([("v".to_owned(), "9".to_owned())]);
        assert!(matches!(
            Aggregator::resume("s", 0, &state),
            Err(StateError::Version { found }) if found == "9"
        ));
        state.insert("v".into(), STATE_VERSION.into());
        state.insert("m:12".into(), "[]".into());
        let error = Aggregator::resume("s", 0, &state).unwrap_err().to_string();
        assert!(error.contains("\"m:12\""), "{error}");
        state.insert("m:12".into(), "{}".into());
        let error = Aggregator::resume("s", 0, &state).unwrap_err().to_string();
        assert!(error.contains("\"part\""), "{error}");
        state.insert("part".into(), "7".into());
        let error = Aggregator::resume("s", 0, &state).unwrap_err().to_string();
        assert!(error.contains("\"b\""), "{error}");
        state.insert("hw".into(), "7x".into());
        let error = Aggregator::resume("s", 0, &state).unwrap_err().to_string();
        assert!(error.contains("\"hw\""), "{error}");
    }
}
