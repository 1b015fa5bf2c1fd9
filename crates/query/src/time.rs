//! The time window's bounds: what `--from` and `--to` accept, and how a timestamp is shown.
//! The parser is shared with replay's range, so it lives in `aws_edge::time`.

pub use aws_edge::time::{format, parse, MAX_EPOCH_MS, MIN_EPOCH_MS};
