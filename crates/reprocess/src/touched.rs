//! Which event-time minutes a run's stored records fall in, and the rebuild that puts them
//! into the per-minute figures.
//!
//! The processor counts a minute's figures only inside Lambda's tumbling windows; records
//! processed again outside them (by the deployed function invoked directly, or in this
//! process) are stored in the event table but counted in no aggregate item. So after a run
//! that stored records, the tool names their minutes and the exact `query aggregates
//! --rebuild` that recounts them, when the stack has an aggregate table.
//!
//! A record's minute is that of its JSON `timestamp` (epoch ms) when it has one, as the
//! processor's `eventTimestamp`; else its arrival time. A KPL aggregate handled whole (an
//! on-failure range's record) is not JSON, so it counts by its arrival minute, and its user
//! records' own minutes may lie outside the range printed: widen the rebuild if their
//! events are older.

use std::collections::BTreeSet;

/// The start of the event-time minute of a record of `data` that arrived at `arrival_ms`.
pub fn event_minute(data: &[u8], arrival_ms: i64) -> i64 {
    let timestamp = serde_json::from_slice::<serde_json::Value>(data)
        .ok()
        .and_then(|v| v.get("timestamp")?.as_i64());
    timestamp.unwrap_or(arrival_ms).div_euclid(60_000) * 60_000
}

/// The minutes a run touched.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Touched {
    minutes: BTreeSet<i64>,
}

impl Touched {
    /// Counts a stored record.
    pub fn add(&mut self, data: &[u8], arrival_ms: i64) {
        self.minutes.insert(event_minute(data, arrival_ms));
    }

    /// Whether no record was stored.
    pub fn is_empty(&self) -> bool {
        self.minutes.is_empty()
    }

    /// The range of minutes to rebuild, `[first minute, last minute + 1 min)` in epoch ms;
    /// `None` when nothing was stored.
    pub fn range(&self) -> Option<(i64, i64)> {
        Some((*self.minutes.first()?, self.minutes.last()? + 60_000))
    }

    /// The note for stderr: `what` names the records (`redriven`, `replayed`); `None` when
    /// nothing was stored or the stack has no aggregate table.
    pub fn note(&self, what: &str, stack: &str, has_aggregates: bool) -> Option<String> {
        let (first, last) = (self.minutes.first()?, self.minutes.last()?);
        if !has_aggregates {
            return None;
        }
        let count = self.minutes.len();
        let range = if first == last {
            minute(*first)
        } else {
            format!("{}..{}", minute(*first), minute(*last))
        };
        Some(format!(
            "aggregates: {what} events touch {count} minute{} {range}; they are not in the \
             per-minute figures until you run: query aggregates --stack-name {stack} --rebuild \
             --from {} --to {}",
            if count == 1 { "" } else { "s" },
            seconds(*first),
            seconds(last + 60_000)
        ))
    }
}

/// `2026-12-07T20:31Z`.
fn minute(ms: i64) -> String {
    let text = aws_edge::time::format(ms);
    text.get(..16).map_or(text.clone(), |t| format!("{t}Z"))
}

/// `2026-12-07T20:31:00Z`.
fn seconds(ms: i64) -> String {
    let text = aws_edge::time::format(ms);
    text.get(..19).map_or(text.clone(), |t| format!("{t}Z"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: i64 = 1_796_675_460_000; // 2026-12-07T20:31:00Z

    #[test]
    fn a_record_counts_by_its_timestamp_else_its_arrival() {
        let json = format!(r#"{{"userId":"u","timestamp":{}}}"#, T + 59_999);
        assert_eq!(event_minute(json.as_bytes(), 0), T);
        assert_eq!(event_minute(br#"{"userId":"u"}"#, T + 61_000), T + 60_000);
        assert_eq!(
            event_minute(b"\xf3\x89\x9a\xc2 not json", T + 5),
            T,
            "a KPL aggregate"
        );
        assert_eq!(event_minute(br#"{"timestamp":"soon"}"#, T), T);
    }

    #[test]
    fn the_note_names_the_minutes_and_the_exact_rebuild() {
        let mut touched = Touched::default();
        assert_eq!(touched.note("redriven", "s", true), None, "nothing stored");
        for offset in [0, 14 * 60_000, 5 * 60_000, 14 * 60_000 + 3] {
            let json = format!(r#"{{"timestamp":{}}}"#, T + offset);
            touched.add(json.as_bytes(), 0);
        }
        assert_eq!(
            touched.note("redriven", "retail", true).unwrap(),
            "aggregates: redriven events touch 3 minutes 2026-12-07T20:31Z..2026-12-07T20:45Z; \
             they are not in the per-minute figures until you run: query aggregates \
             --stack-name retail --rebuild --from 2026-12-07T20:31:00Z --to 2026-12-07T20:46:00Z"
        );
        assert_eq!(
            touched.note("redriven", "retail", false),
            None,
            "no aggregate table"
        );
        let mut one = Touched::default();
        one.add(b"{}", T + 1);
        assert!(one
            .note("replayed", "s", true)
            .unwrap()
            .starts_with("aggregates: replayed events touch 1 minute 2026-12-07T20:31Z;"));
    }
}
