//! Times as Lambda writes them in its records: ISO 8601 in UTC with milliseconds.

use chrono::{DateTime, SecondsFormat, Utc};

/// `epoch_ms` as `YYYY-MM-DDTHH:MM:SS.mmmZ`; a time chrono cannot represent (beyond year
/// 262143) is written as the epoch.
pub fn iso8601(epoch_ms: i64) -> String {
    utc(epoch_ms).to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// `epoch_ms` as a UTC date and time; out of range is the epoch.
pub fn utc(epoch_ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(epoch_ms).unwrap_or_default()
}

/// Epoch milliseconds now (0 before 1970).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Epoch milliseconds of an RFC 3339 / ISO 8601 time such as `2026-11-25T00:37:00.000Z`.
pub fn parse_iso8601(text: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_written_with_milliseconds_in_utc() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(1_764_000_000_500), "2025-11-24T16:00:00.500Z");
        assert_eq!(iso8601(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(iso8601(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(iso8601(i64::MAX), "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn written_times_read_back() {
        for ms in [0, 1_764_000_000_500, 951_782_400_000] {
            assert_eq!(parse_iso8601(&iso8601(ms)), Some(ms));
        }
        assert_eq!(parse_iso8601("yesterday"), None);
    }
}
