//! Time bounds on the command line: what `--from` and `--to` accept (query's window, replay's
//! range), and how a timestamp is shown.
//!
//! The table's `eventTimestamp` and a record's arrival time are epoch milliseconds, so that is
//! what a bound becomes.
//! People write RFC 3339 (`2026-11-25T00:00:00Z`, `2026-11-25T01:00:00+01:00`); scripts
//! often have epoch milliseconds at hand. Epoch seconds are refused rather than guessed:
//! read as milliseconds they would point at January 1970 and find nothing, silently.

use aws_smithy_types::date_time::{DateTime, Format};

/// The smallest epoch-milliseconds bound accepted as a number (1973-03-03T09:46:40Z, the
/// processor's earliest timestamp): a smaller one is most likely epoch seconds.
pub const MIN_EPOCH_MS: i64 = 100_000_000_000;

/// The largest bound (9999-12-31T23:59:59.999Z, the processor's latest timestamp).
pub const MAX_EPOCH_MS: i64 = 253_402_300_799_999;

/// `text` as epoch milliseconds: a whole number of epoch milliseconds, or an RFC 3339 date
/// and time with `Z` or an offset (fractions of a second beyond milliseconds are cut).
/// The error says what was expected and repeats `text`.
pub fn parse(text: &str) -> Result<i64, String> {
    let text = text.trim();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return match text.parse::<i64>() {
            Ok(ms) if (MIN_EPOCH_MS..=MAX_EPOCH_MS).contains(&ms) => Ok(ms),
            Ok(ms) if ms < MIN_EPOCH_MS => Err(format!(
                "must be epoch milliseconds (13 digits today) or RFC 3339; {text} looks like \
                 epoch seconds: use {text}000"
            )),
            _ => Err(format!(
                "must be epoch milliseconds up to {MAX_EPOCH_MS} or RFC 3339, got {text:?}"
            )),
        };
    }
    let parsed = DateTime::from_str(text, Format::DateTimeWithOffset).map_err(|_| {
        format!(
            "must be epoch milliseconds or an RFC 3339 time such as 2026-11-25T08:00:00Z, \
             got {text:?}"
        )
    })?;
    parsed
        .to_millis()
        .ok()
        .filter(|ms| (0..=MAX_EPOCH_MS).contains(ms))
        .ok_or_else(|| format!("must be a time from 1970 to 9999, got {text:?}"))
}

/// `ms` as RFC 3339 in UTC with milliseconds, e.g. `2026-11-25T08:00:00.123Z`; the number
/// itself when it is outside what RFC 3339 can show.
pub fn format(ms: i64) -> String {
    let time = DateTime::from_millis(ms);
    match time.fmt(Format::DateTime) {
        // Smithy drops a zero fraction and trailing zeros; a table column wants a fixed width.
        Ok(text) => {
            let (whole, _) = text.split_once(['.', 'Z']).unwrap_or((&text, ""));
            format!("{whole}.{:03}Z", ms.rem_euclid(1000))
        }
        Err(_) => ms.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_milliseconds_and_rfc_3339_are_the_same_instant() {
        assert_eq!(parse("1764000000000"), Ok(1_764_000_000_000));
        assert_eq!(parse("2025-11-24T16:00:00Z"), Ok(1_764_000_000_000));
        assert_eq!(parse("2025-11-24T17:00:00+01:00"), Ok(1_764_000_000_000));
        assert_eq!(parse("2025-11-24T16:00:00.123Z"), Ok(1_764_000_000_123));
        assert_eq!(parse(" 1764000000000 "), Ok(1_764_000_000_000));
    }

    #[test]
    fn seconds_garbage_and_out_of_range_values_are_refused_with_the_value() {
        assert_eq!(
            parse("1764000000"),
            Err(
                "must be epoch milliseconds (13 digits today) or RFC 3339; 1764000000 looks \
                 like epoch seconds: use 1764000000000"
                    .to_owned()
            )
        );
        for bad in [
            "yesterday",
            "",
            "2025-11-24",
            "2025-13-01T00:00:00Z",
            "-5",
            "1.5e12",
        ] {
            assert_eq!(
                parse(bad),
                Err(format!(
                    "must be epoch milliseconds or an RFC 3339 time such as \
                     2026-11-25T08:00:00Z, got {bad:?}"
                )),
                "{bad:?}"
            );
        }
        assert!(parse("253402300800000").unwrap_err().contains("up to"));
        assert!(parse("99999999999999999999").unwrap_err().contains("up to"));
    }

    #[test]
    fn timestamps_show_as_utc_with_milliseconds() {
        assert_eq!(format(1_764_000_000_000), "2025-11-24T16:00:00.000Z");
        assert_eq!(format(1_764_000_000_120), "2025-11-24T16:00:00.120Z");
        assert_eq!(format(1_764_000_000_007), "2025-11-24T16:00:00.007Z");
    }
}
