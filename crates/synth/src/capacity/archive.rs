//! The event archive's writes (`archive_events`): one S3 PUT per invocation.
//!
//! ```text
//! events/s = 3,500 PUT/s × records per full batch
//! ```
//!
//! S3 takes at least 3,500 PUT requests a second per partitioned prefix and partitions
//! further as a prefix gets busy (S3 user guide, "Best practices design patterns: optimizing
//! Amazon S3 performance"). Every batch of one hour goes under that hour's
//! `events/YYYY/MM/DD/HH/` (then the shard), so a new hour starts as one prefix: the stage
//! counts one prefix's 3,500 PUTs, what S3 guarantees before it scales. With a backlog
//! every batch is full, so each PUT carries a full batch. It matters only for tiny batches:
//! at `lambda_batch_size` 1 the archive holds the pipeline at 3,500 events/s.

use serde_json::json;

use super::lambda::full_batch;
use super::Stage;
use crate::config::Config;

/// The stage's name, and the `bottleneck` when it sets the ceiling.
pub const NAME: &str = "ArchiveWrites";

/// PUT requests a second S3 takes per partitioned prefix before it scales further.
pub const PUTS_PER_SECOND_PER_PREFIX: f64 = 3500.0;

/// The archive's stage for events of `event_bytes`; `None` without `archive_events`.
pub fn stage(config: &Config, event_bytes: f64) -> Option<Stage> {
    if !config.archive_events {
        return None;
    }
    let records = full_batch(config, event_bytes);
    let limited_by = format!(
        "{} PUT/s on one hour's prefix × {records} records per object (one per invocation)",
        crate::cost::render::number(PUTS_PER_SECOND_PER_PREFIX)
    );
    Some(
        Stage::new(NAME, PUTS_PER_SECOND_PER_PREFIX * records, limited_by)
            .input(
                "puts_per_second_per_prefix",
                json!(PUTS_PER_SECOND_PER_PREFIX),
            )
            .input("records_per_object", json!(records))
            .note(
                "S3 partitions a busy prefix further, so this is the floor it guarantees, \
                 not a hard limit",
            ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_tiny_batches_make_the_archive_a_limit() {
        assert!(stage(&Config::default(), 500.0).is_none());
        let config = Config {
            archive_events: true,
            ..Config::default()
        };
        assert_eq!(stage(&config, 500.0).unwrap().events_per_second, 350_000.0);
        let tiny = Config {
            lambda_batch_size: 1,
            ..config
        };
        assert_eq!(stage(&tiny, 500.0).unwrap().events_per_second, 3500.0);
    }
}
