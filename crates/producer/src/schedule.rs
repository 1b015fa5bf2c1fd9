//! When each record is due: a fixed interval (the recipe's DELAY, or `--rate`), a count or
//! the end of the input, or a burst of back-to-back records for a duration.

use std::time::Duration;

/// The pacing of a run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Schedule {
    /// Time between records; zero sends them back to back.
    pub interval: Duration,
    /// How many records at most (`None`: until the input ends or `until`).
    pub limit: Option<u64>,
    /// Stop starting new records after this long (burst mode).
    pub until: Option<Duration>,
}

impl Schedule {
    /// `count` records, `interval` apart: the recipe's `COUNT DELAY`.
    pub fn count(count: u64, interval: Duration) -> Schedule {
        Schedule {
            interval,
            limit: Some(count),
            until: None,
        }
    }

    /// Records back to back for `duration`: the recipe's `--burst`.
    pub fn burst(duration: Duration) -> Schedule {
        Schedule {
            interval: Duration::ZERO,
            limit: None,
            until: Some(duration),
        }
    }

    /// When record `index` is due, counted from the start; `None` when the run has no
    /// record `index` (the count is reached, or the burst is over at `elapsed`).
    pub fn due(&self, index: u64, elapsed: Duration) -> Option<Duration> {
        if self.limit.is_some_and(|limit| index >= limit) {
            return None;
        }
        if self.until.is_some_and(|until| elapsed >= until) {
            return None;
        }
        let offset = self.interval.as_secs_f64() * index as f64;
        Some(Duration::try_from_secs_f64(offset).unwrap_or(Duration::MAX))
    }

    /// The records the run will send, when known in advance.
    pub fn total(&self) -> Option<u64> {
        match self.until {
            Some(_) => None,
            None => self.limit,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counted_records_are_spaced_by_the_interval() {
        let schedule = Schedule::count(3, Duration::from_millis(100));
        let zero = Duration::ZERO;
        assert_eq!(schedule.due(0, zero), Some(zero));
        assert_eq!(schedule.due(2, zero), Some(Duration::from_millis(200)));
        assert_eq!(schedule.due(3, zero), None);
        assert_eq!(schedule.total(), Some(3));
    }

    #[test]
    fn a_burst_sends_at_once_until_its_time_is_up() {
        let schedule = Schedule::burst(Duration::from_secs(30));
        assert_eq!(
            schedule.due(1_000_000, Duration::from_secs(29)),
            Some(Duration::ZERO)
        );
        assert_eq!(schedule.due(0, Duration::from_secs(30)), None);
        assert_eq!(schedule.total(), None);
    }
}
