//! Where records come from: the realistic generator of the `events` crate (with a share of
//! deliberately invalid records), or a JSON-lines file sent line by line.

use std::io::BufRead;

use events::Generator;

use crate::invalid::InvalidKind;

/// Kinesis's limit on one record: data plus partition key.
pub const MAX_RECORD_BYTES: usize = 1024 * 1024;

/// Kinesis's limit on a partition key, in Unicode characters.
pub const MAX_PARTITION_KEY_CHARS: usize = 256;

/// One record to put on the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The stream's partition key: the event's `userId`, so one user's events stay in order.
    pub partition_key: String,
    /// The record's bytes.
    pub data: Vec<u8>,
    /// Whether the record was made invalid on purpose (and which way).
    pub invalid: Option<InvalidKind>,
}

impl Record {
    /// Bytes the record counts against PutRecords' request limit.
    pub fn size(&self) -> usize {
        self.data.len() + self.partition_key.len()
    }
}

/// A line of the input file that cannot be sent.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The file could not be read.
    #[error("cannot read line {line} of {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// 1-based line number.
        line: usize,
        /// Why.
        source: std::io::Error,
    },
    /// The line is larger than a Kinesis record may be.
    #[error("line {line} of {path} is {bytes} bytes; a Kinesis record holds at most 1 MiB")]
    TooLarge {
        /// The file.
        path: String,
        /// 1-based line number.
        line: usize,
        /// Its size.
        bytes: usize,
    },
}

/// Generated events: realistic ones from [`Generator`], and about `invalid_ratio` of them
/// broken on purpose, the kinds taking turns.
pub struct Generated {
    generator: Generator,
    rng: fastrand::Rng,
    invalid_ratio: f64,
    invalid_made: usize,
}

impl Generated {
    /// Events for `seed`; the same seed and clock give the same records.
    pub fn new(seed: u64, invalid_ratio: f64) -> Generated {
        Generated {
            generator: Generator::new(seed),
            rng: fastrand::Rng::with_seed(seed ^ 0x5eed_1a7a),
            invalid_ratio,
            invalid_made: 0,
        }
    }

    /// The next record, its event produced at `now_ms`.
    pub fn next_record(&mut self, now_ms: i64) -> Record {
        let event = self.generator.next_event(now_ms);
        let partition_key = event.user_id.clone();
        if self.rng.f64() < self.invalid_ratio {
            let kind = InvalidKind::ALL[self.invalid_made % InvalidKind::ALL.len()];
            self.invalid_made += 1;
            return Record {
                partition_key,
                data: kind.corrupt(&event),
                invalid: Some(kind),
            };
        }
        let data = serde_json::to_vec(&event).unwrap_or_default();
        Record {
            partition_key,
            data,
            invalid: None,
        }
    }
}

/// A JSON-lines file: each non-empty line is one record, sent as it is. The partition key
/// is the line's `userId` when it has one, else `line-N`, so even broken lines are sent (and
/// end in the dead-letter queue, as they would from a real producer).
pub struct Lines<R> {
    reader: R,
    path: String,
    line: usize,
}

impl<R: BufRead> Lines<R> {
    /// Lines of `reader`, named `path` in errors.
    pub fn new(reader: R, path: impl Into<String>) -> Lines<R> {
        Lines {
            reader,
            path: path.into(),
            line: 0,
        }
    }

    /// The next record, `None` at the end of the file.
    pub fn next_record(&mut self) -> Option<Result<Record, SourceError>> {
        loop {
            let mut data = Vec::new();
            self.line += 1;
            match self.reader.read_until(b'\n', &mut data) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(source) => {
                    return Some(Err(SourceError::Read {
                        path: self.path.clone(),
                        line: self.line,
                        source,
                    }))
                }
            }
            while matches!(data.last(), Some(b'\n' | b'\r')) {
                data.pop();
            }
            if data.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let partition_key =
                partition_key(&data).unwrap_or_else(|| format!("line-{}", self.line));
            let record = Record {
                partition_key,
                data,
                invalid: None,
            };
            if record.size() > MAX_RECORD_BYTES {
                return Some(Err(SourceError::TooLarge {
                    path: self.path.clone(),
                    line: self.line,
                    bytes: record.data.len(),
                }));
            }
            return Some(Ok(record));
        }
    }
}

/// The `userId` of a JSON line, when it is a usable partition key.
fn partition_key(line: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(line).ok()?;
    let user = value.get("userId")?.as_str()?;
    let usable = !user.is_empty() && user.chars().count() <= MAX_PARTITION_KEY_CHARS;
    usable.then(|| user.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_and_clock_give_the_same_records() {
        let mut a = Generated::new(7, 0.1);
        let mut b = Generated::new(7, 0.1);
        for i in 0..500 {
            assert_eq!(
                a.next_record(1_700_000_000_000 + i),
                b.next_record(1_700_000_000_000 + i)
            );
        }
    }

    #[test]
    fn about_the_asked_share_is_invalid_and_every_kind_appears() {
        let mut source = Generated::new(3, 0.1);
        let records: Vec<Record> = (0..5_000).map(|i| source.next_record(i)).collect();
        let invalid: Vec<InvalidKind> = records.iter().filter_map(|r| r.invalid).collect();
        assert!(
            (400..=600).contains(&invalid.len()),
            "{} invalid",
            invalid.len()
        );
        for kind in InvalidKind::ALL {
            assert!(invalid.contains(&kind), "{kind:?} never made");
        }
        assert!(records.iter().all(|r| r.partition_key.starts_with("user-")));
    }

    #[test]
    fn no_invalid_records_unless_asked() {
        let mut source = Generated::new(3, 0.0);
        assert!((0..2_000).all(|i| source.next_record(i).invalid.is_none()));
    }

    #[test]
    fn file_lines_become_records_keyed_by_user() {
        let text = "{\"userId\":\"u1\",\"eventType\":\"view\"}\n\n  \nnot json\r\n{\"userId\":42}";
        let mut lines = Lines::new(text.as_bytes(), "events.jsonl");
        let keys: Vec<String> = std::iter::from_fn(|| lines.next_record())
            .map(|r| r.unwrap().partition_key)
            .collect();
        assert_eq!(keys, ["u1", "line-4", "line-5"]);
    }

    #[test]
    fn a_line_too_large_for_kinesis_is_an_error_naming_it() {
        let text = format!("{{}}\n{}\n", "x".repeat(MAX_RECORD_BYTES + 1));
        let mut lines = Lines::new(text.as_bytes(), "big.jsonl");
        assert!(lines.next_record().unwrap().is_ok());
        let err = lines.next_record().unwrap().unwrap_err().to_string();
        assert!(err.contains("line 2 of big.jsonl"), "{err}");
        assert!(lines.next_record().is_none());
    }
}
