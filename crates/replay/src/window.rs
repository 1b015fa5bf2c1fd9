//! Which records a replay takes: those that arrived in `[from, to)` (their Kinesis arrival
//! time, epoch milliseconds), and, when event types are named, only events of those types.

use serde_json::Value;

/// A half-open range of arrival times, `[from_ms, to_ms)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// The first arrival time taken, epoch ms.
    pub from_ms: i64,
    /// The first arrival time not taken, epoch ms.
    pub to_ms: i64,
}

impl Window {
    /// `[from_ms, to_ms)`; an error unless `to_ms` is after `from_ms`.
    pub fn new(from_ms: i64, to_ms: i64) -> Result<Window, String> {
        if to_ms > from_ms {
            Ok(Window { from_ms, to_ms })
        } else {
            Err(format!(
                "--to ({}) must be after --from ({})",
                aws_edge::time::format(to_ms),
                aws_edge::time::format(from_ms)
            ))
        }
    }

    /// Whether a record that arrived at `arrival_ms` is in the window.
    pub fn contains(&self, arrival_ms: i64) -> bool {
        (self.from_ms..self.to_ms).contains(&arrival_ms)
    }
}

/// The `eventType` of a record's data, when the data is a JSON object with a string
/// `eventType` (what the processor validates); `None` otherwise.
pub fn event_type_of(data: &[u8]) -> Option<String> {
    let value: Value = serde_json::from_slice(data).ok()?;
    value.get("eventType")?.as_str().map(str::to_owned)
}

/// Whether a user record with `data` is one of `event_types` (any record when none are
/// named). A record whose type cannot be read matches no named type.
pub fn selected(data: &[u8], event_types: &[String]) -> bool {
    event_types.is_empty() || event_type_of(data).is_some_and(|t| event_types.contains(&t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_takes_its_start_and_not_its_end() {
        let window = Window::new(1_000, 2_000).unwrap();
        assert!(window.contains(1_000));
        assert!(window.contains(1_999));
        assert!(!window.contains(2_000));
        assert!(!window.contains(999));
        let err = Window::new(1_764_000_000_000, 1_764_000_000_000).unwrap_err();
        assert_eq!(
            err,
            "--to (2025-11-24T16:00:00.000Z) must be after --from (2025-11-24T16:00:00.000Z)"
        );
    }

    #[test]
    fn event_types_are_read_from_the_records_json() {
        let purchase = br#"{"userId":"u","eventType":"purchase"}"#;
        assert_eq!(event_type_of(purchase).as_deref(), Some("purchase"));
        assert_eq!(event_type_of(b"{not json"), None);
        assert_eq!(event_type_of(br#"{"eventType":7}"#), None);
        let wanted = vec!["purchase".to_owned(), "view".to_owned()];
        assert!(selected(purchase, &wanted));
        assert!(!selected(br#"{"eventType":"share"}"#, &wanted));
        assert!(!selected(b"[]", &wanted));
        assert!(selected(b"[]", &[]), "nothing named: everything");
    }
}
