//! `--max-write-units`: at most R write capacity units per second, over all segments.
//!
//! A token bucket holding at most one second's units. Each update takes one unit before
//! it is sent (the least any write costs) and, once answered, the rest of what DynamoDB
//! says it consumed (`ReturnConsumedCapacity=TOTAL`: the table's units plus those of every
//! index the write touched, which for a backfilled item is the new index entry too). An
//! update's cost is set by the larger of the item before and after, whole, in 1 KB units,
//! and a write whose condition fails still consumes units (Amazon DynamoDB Developer Guide,
//! "DynamoDB read and write operations"), so the bucket is charged what was consumed, not
//! what was changed. The balance may go below zero; writes then wait until it is back above
//! one unit, so over any stretch longer than a second the rate stays at R.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The least a write consumes, taken before it is sent.
const UNIT: f64 = 1.0;

/// A shared limit of write units per second.
#[derive(Debug)]
pub struct RateLimit {
    per_second: f64,
    bucket: Mutex<Bucket>,
}

/// The balance at an instant.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    units: f64,
    at: Instant,
}

impl Bucket {
    /// The balance at `now`: what was left plus the time since at `per_second`, at most one
    /// second's worth.
    fn refill(&mut self, now: Instant, per_second: f64) {
        let gained = now.saturating_duration_since(self.at).as_secs_f64() * per_second;
        self.units = (self.units + gained).min(per_second);
        self.at = now;
    }

    /// How long from `now` until a unit may be taken; when that is zero the unit is taken.
    fn take(&mut self, now: Instant, per_second: f64) -> Duration {
        self.refill(now, per_second);
        if self.units >= UNIT {
            self.units -= UNIT;
            Duration::ZERO
        } else {
            Duration::from_secs_f64((UNIT - self.units) / per_second)
        }
    }
}

impl RateLimit {
    /// At most `per_second` write units a second (at least 1); the first second's worth is
    /// available at once.
    pub fn new(per_second: u32) -> RateLimit {
        let per_second = f64::from(per_second.max(1));
        RateLimit {
            per_second,
            bucket: Mutex::new(Bucket {
                units: per_second,
                at: Instant::now(),
            }),
        }
    }

    /// Waits until a write may be sent, and takes its first unit.
    pub async fn acquire(&self) {
        loop {
            let wait = self.with_bucket(|bucket, rate| bucket.take(Instant::now(), rate));
            if wait.is_zero() {
                return;
            }
            tokio::time::sleep(wait).await;
        }
    }

    /// Charges what a write consumed, `units`, beyond the unit [`Self::acquire`] took.
    pub fn settle(&self, units: f64) {
        let extra = (units - UNIT).max(0.0);
        self.with_bucket(|bucket, _| bucket.units -= extra);
    }

    /// Gives back the unit [`Self::acquire`] took for a write that was not made.
    pub fn refund(&self) {
        self.with_bucket(|bucket, rate| bucket.units = (bucket.units + UNIT).min(rate));
    }

    fn with_bucket<T>(&self, f: impl FnOnce(&mut Bucket, f64) -> T) -> T {
        let mut bucket = match self.bucket.lock() {
            Ok(bucket) => bucket,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&mut bucket, self.per_second)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes of `cost` units each, as fast as the bucket lets them, over `seconds` of
    /// simulated time: how many were sent.
    fn writes_in(per_second: f64, cost: f64, seconds: f64) -> u32 {
        let start = Instant::now();
        let mut bucket = Bucket {
            units: per_second,
            at: start,
        };
        let mut now = start;
        let mut sent = 0;
        let end = start + Duration::from_secs_f64(seconds);
        loop {
            let wait = bucket.take(now, per_second);
            if wait.is_zero() {
                bucket.units -= (cost - UNIT).max(0.0);
                sent += 1;
            } else {
                now += wait;
            }
            if now >= end {
                return sent;
            }
        }
    }

    #[test]
    fn the_rate_holds_over_time_whatever_each_write_costs() {
        // One second's burst, then R per second: 100 + 10 × 100 one-unit writes in 10 s.
        let sent = writes_in(100.0, 1.0, 10.0);
        assert!((1_095..=1_101).contains(&sent), "{sent}");
        // Writes of 4 units (a 3.5 KB item): a quarter as many.
        let sent = writes_in(100.0, 4.0, 10.0);
        assert!((270..=276).contains(&sent), "{sent}");
    }

    #[test]
    fn an_empty_bucket_says_how_long_to_wait() {
        let now = Instant::now();
        let mut bucket = Bucket {
            units: -1.0,
            at: now,
        };
        assert_eq!(bucket.take(now, 10.0), Duration::from_millis(200));
        // After the wait (and a hair, for the float) the unit is there.
        assert_eq!(
            bucket.take(now + Duration::from_millis(201), 10.0),
            Duration::ZERO
        );
    }

    #[test]
    fn a_refund_gives_the_unit_back_and_settle_charges_the_rest() {
        let limit = RateLimit::new(2);
        limit.with_bucket(|b, _| b.units = 1.0);
        limit.settle(3.5);
        assert_eq!(limit.with_bucket(|b, _| b.units), -1.5);
        limit.refund();
        assert_eq!(limit.with_bucket(|b, _| b.units), -0.5);
    }
}
