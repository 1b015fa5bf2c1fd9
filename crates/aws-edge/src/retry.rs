//! Exponential backoff with full jitter, bounded by the invocation's deadline.
//!
//! Full jitter (a random wait between zero and the exponential cap) spreads retries of many
//! concurrent invocations apart, which is what lets a throttled table recover.

use std::time::{Duration, Instant};

/// Backoff settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The cap of the first wait.
    pub base: Duration,
    /// The largest cap.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base: Duration::from_millis(25),
            max: Duration::from_secs(2),
        }
    }
}

impl Backoff {
    /// The wait before retry number `attempt` (1-based), drawn from `[0, cap]`.
    pub fn delay(&self, attempt: u32) -> Duration {
        let cap = self.cap(attempt);
        let millis = u64::try_from(cap.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(fastrand::u64(0..=millis))
    }

    /// `base × 2^(attempt-1)`, at most `max`.
    pub fn cap(&self, attempt: u32) -> Duration {
        let factor = 1u32
            .checked_shl(attempt.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.max)
    }
}

/// When the work must stop so the response still reaches Lambda in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    stop_at: Instant,
}

impl Deadline {
    /// A deadline `remaining` from now, less the safety margin.
    pub fn after(remaining: Duration, margin: Duration) -> Deadline {
        Deadline {
            stop_at: Instant::now() + remaining.saturating_sub(margin),
        }
    }

    /// Whether a wait of `delay` followed by an attempt still fits.
    pub fn allows(&self, delay: Duration) -> bool {
        Instant::now() + delay < self.stop_at
    }

    /// This deadline or `limit` from now, whichever comes first: a step that must not hold
    /// the whole invocation's time.
    pub fn within(self, limit: Duration) -> Deadline {
        Deadline {
            stop_at: self.stop_at.min(Instant::now() + limit),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_double_up_to_the_maximum() {
        let b = Backoff {
            base: Duration::from_millis(10),
            max: Duration::from_millis(70),
        };
        let caps: Vec<u64> = (1..=5).map(|a| b.cap(a).as_millis() as u64).collect();
        assert_eq!(caps, vec![10, 20, 40, 70, 70]);
        assert_eq!(b.cap(200), Duration::from_millis(70));
    }

    #[test]
    fn delays_stay_within_the_cap() {
        let b = Backoff::default();
        for attempt in 1..10 {
            assert!(b.delay(attempt) <= b.cap(attempt));
        }
    }

    #[test]
    fn a_deadline_refuses_waits_past_it() {
        let d = Deadline::after(Duration::from_secs(3), Duration::from_secs(1));
        assert!(d.allows(Duration::from_millis(100)));
        assert!(!d.allows(Duration::from_secs(5)));
        let spent = Deadline::after(Duration::from_millis(100), Duration::from_secs(1));
        assert!(!spent.allows(Duration::ZERO));
    }
}
