//! Where an interrupted backfill continues: a small JSON file holding, for each parallel
//! Scan segment, the `LastEvaluatedKey` after its last page whose updates were all made.
//!
//! A segment's pages are continued with that key as `ExclusiveStartKey` and the same
//! `Segment` and `TotalSegments`, which is what DynamoDB requires of a parallel Scan (the
//! API reference, Scan: `ExclusiveStartKey` "must specify the same segment whose previous
//! Scan returned the corresponding value of `LastEvaluatedKey`"). So a rerun keeps the
//! segment count the file was written with, whatever `--segments` says.
//!
//! The file is written after every page (to a temporary file, then renamed over the old
//! one, so a kill never leaves half a file) and removed when every segment is done: it
//! exists only while there is something to continue. A run killed mid-page does that page
//! again; its updates are idempotent (an item already updated plans as already done).
//!
//! ```json
//! {"format": 1, "table": "retail-events-dev-events", "shards": 4,
//!  "segments": [null, {"userId": "user-…", "eventKey": "1764…#…"}, "done", "done"]}
//! ```
//!
//! `null`: not started; a key: continue after it; `"done"`. A file written for another
//! table is refused (it is someone else's run); one written for another shard count is
//! set aside and the backfill starts over, since the items it updated carry keys of that
//! other count.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde_json::{json, Value};

use crate::plan::{Key, EVENT_KEY, USER_ID};

/// The format this code writes and reads.
const FORMAT: u64 = 1;

/// The default checkpoint of stack `stack`: `cfn-out/backfill-<stack>.json`, beside the
/// deploy targets' other output (a stack ARN's `:` and `/` become `_`).
pub fn default_path(stack: &str) -> PathBuf {
    let name: String = stack
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    Path::new("cfn-out").join(format!("backfill-{name}.json"))
}

/// How far one segment is.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Segment {
    /// No page read yet.
    #[default]
    NotStarted,
    /// Continue after this key.
    After(Key),
    /// Every page read and its updates made.
    Done,
}

/// A backfill's progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    /// The table it updates.
    pub table: String,
    /// The shard count its updates were computed for.
    pub shards: u32,
    /// Each segment's progress; the length is the Scan's `TotalSegments`.
    pub segments: Vec<Segment>,
}

impl State {
    /// A run that has not started: `segments` segments, none begun.
    pub fn fresh(table: &str, shards: u32, segments: u32) -> State {
        State {
            table: table.to_owned(),
            shards,
            segments: vec![Segment::NotStarted; segments as usize],
        }
    }

    /// Segments done.
    pub fn done(&self) -> usize {
        self.segments
            .iter()
            .filter(|s| **s == Segment::Done)
            .count()
    }

    fn to_json(&self) -> Value {
        let segments: Vec<Value> = self
            .segments
            .iter()
            .map(|segment| match segment {
                Segment::NotStarted => Value::Null,
                Segment::After(key) => json!({USER_ID: key.user_id, EVENT_KEY: key.event_key}),
                Segment::Done => json!("done"),
            })
            .collect();
        json!({"format": FORMAT, "table": self.table, "shards": self.shards, "segments": segments})
    }

    fn from_json(value: &Value) -> Result<State, String> {
        if value["format"].as_u64() != Some(FORMAT) {
            return Err(format!(
                "format {} is not {FORMAT} (written by another version of backfill)",
                value["format"]
            ));
        }
        let table = value["table"].as_str().ok_or("no \"table\"")?;
        let shards = value["shards"]
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .ok_or("no \"shards\"")?;
        let segments = value["segments"]
            .as_array()
            .filter(|list| !list.is_empty())
            .ok_or("no \"segments\"")?
            .iter()
            .map(|segment| match segment {
                Value::Null => Ok(Segment::NotStarted),
                Value::String(done) if done == "done" => Ok(Segment::Done),
                Value::Object(_) => {
                    match (segment[USER_ID].as_str(), segment[EVENT_KEY].as_str()) {
                        (Some(user), Some(key)) => Ok(Segment::After(Key {
                            user_id: user.to_owned(),
                            event_key: key.to_owned(),
                        })),
                        _ => Err(format!(
                            "segment {segment} has no {USER_ID} and {EVENT_KEY}"
                        )),
                    }
                }
                other => Err(format!("segment {other} is not null, a key or \"done\"")),
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(State {
            table: table.to_owned(),
            shards,
            segments,
        })
    }
}

/// A checkpoint file that could not be read or written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("checkpoint {path}: {reason}")]
pub struct CheckpointError {
    /// The file.
    pub path: String,
    /// What went wrong, and what to do.
    pub reason: String,
}

fn error(path: &Path, reason: impl Into<String>) -> CheckpointError {
    CheckpointError {
        path: path.display().to_string(),
        reason: reason.into(),
    }
}

/// Reads the checkpoint at `path`; `None` when there is none.
pub fn load(path: &Path) -> Result<Option<State>, CheckpointError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(error(path, format!("cannot be read: {e}"))),
    };
    let value: Value = serde_json::from_str(&text).map_err(|e| {
        error(
            path,
            format!("is not JSON ({e}); remove it or pass --restart to start over"),
        )
    })?;
    State::from_json(&value).map(Some).map_err(|why| {
        error(
            path,
            format!("cannot be read: {why}; remove it or pass --restart to start over"),
        )
    })
}

/// Writes `state` to `path`: to `<path>.tmp` first, then renamed over `path`, so the file
/// is always whole. Creates the directory when it is missing.
pub fn save(path: &Path, state: &State) -> Result<(), CheckpointError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| error(path, format!("cannot create {}: {e}", dir.display())))?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, format!("{}\n", state.to_json()))
        .map_err(|e| error(path, format!("cannot be written: {e}")))?;
    std::fs::rename(&tmp, path).map_err(|e| error(path, format!("cannot be replaced: {e}")))
}

/// How a run starts, given what the checkpoint file held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Start {
    /// From the beginning: there was no checkpoint, or `--restart`.
    Fresh,
    /// Where an earlier run stopped: `done` of `segments` segments finished.
    Continued {
        /// Segments already done.
        done: usize,
        /// The checkpoint's segment count (used whatever `--segments` says).
        segments: usize,
    },
    /// From the beginning, the checkpoint set aside because its shard count is not the
    /// function's any more.
    Discarded {
        /// The checkpoint's shard count.
        was: u32,
    },
}

impl Start {
    /// A note for stderr, or `None` for a fresh start.
    pub fn note(&self, path: &Path, segments_asked: u32) -> Option<String> {
        let path = path.display();
        match self {
            Start::Fresh => None,
            Start::Continued { done, segments } => {
                let mut note =
                    format!("backfill: continuing from {path}: {done} of {segments} segments done");
                if *segments != segments_asked as usize {
                    note.push_str(&format!(
                        " (a parallel Scan continues with its own segment count: {segments}, \
                         not --segments {segments_asked})"
                    ));
                }
                Some(note)
            }
            Start::Discarded { was } => Some(format!(
                "backfill: {path} was written for {was} shards and the function now writes \
                 another count; starting over"
            )),
        }
    }
}

/// Where to start the run on `table` with `shards` shards and `segments` segments, given
/// the checkpoint `found` (and `restart`, which ignores it). A checkpoint of another table
/// is refused with the reason.
pub fn start(
    found: Option<State>,
    table: &str,
    shards: u32,
    segments: u32,
    restart: bool,
) -> Result<(State, Start), String> {
    let fresh = || State::fresh(table, shards, segments);
    match found {
        None => Ok((fresh(), Start::Fresh)),
        Some(_) if restart => Ok((fresh(), Start::Fresh)),
        Some(state) if state.table != table => Err(format!(
            "the checkpoint belongs to a backfill of table {}, not {table}; pass another \
             --checkpoint, or --restart to overwrite it",
            state.table
        )),
        Some(state) if state.shards != shards => {
            Ok((fresh(), Start::Discarded { was: state.shards }))
        }
        Some(state) => {
            let start = Start::Continued {
                done: state.done(),
                segments: state.segments.len(),
            };
            Ok((state, start))
        }
    }
}

/// The run's progress, shared by its segments, written through to the file (when there is
/// one: a dry run keeps it in memory only).
#[derive(Debug)]
pub struct Store {
    path: Option<PathBuf>,
    state: Mutex<State>,
}

impl Store {
    /// A store of `state` written to `path`, or kept in memory when `None`.
    pub fn new(path: Option<PathBuf>, state: State) -> Store {
        Store {
            path,
            state: Mutex::new(state),
        }
    }

    /// The file, when there is one.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// A copy of the progress.
    pub fn state(&self) -> State {
        match self.state.lock() {
            Ok(state) => state.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Records that `segment` is now `at`, and writes the file.
    pub fn advance(&self, segment: u32, at: Segment) -> Result<(), CheckpointError> {
        let state = {
            let mut state = match self.state.lock() {
                Ok(state) => state,
                Err(poisoned) => poisoned.into_inner(),
            };
            if let Some(slot) = state.segments.get_mut(segment as usize) {
                *slot = at;
            }
            state.clone()
        };
        match &self.path {
            Some(path) => save(path, &state),
            None => Ok(()),
        }
    }

    /// The run is complete: removes the file, so the next run starts from the beginning.
    pub fn finish(&self) -> Result<(), CheckpointError> {
        match &self.path {
            Some(path) => match std::fs::remove_file(path) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(error(path, format!("cannot be removed: {e}"))),
            },
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u32) -> Key {
        Key {
            user_id: format!("user-{n}"),
            event_key: format!("1764000000000#e{n}"),
        }
    }

    fn temp(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!(
            "backfill-checkpoint-{name}-{}/cp.json",
            std::process::id()
        ))
    }

    #[test]
    fn a_saved_state_reads_back_the_same() {
        let path = temp("roundtrip");
        let state = State {
            table: "t".into(),
            shards: 4,
            segments: vec![Segment::NotStarted, Segment::After(key(7)), Segment::Done],
        };
        assert_eq!(load(&path), Ok(None), "no file yet");
        save(&path, &state).unwrap();
        assert_eq!(load(&path), Ok(Some(state.clone())));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains(
                r#""segments":[null,{"eventKey":"1764000000000#e7","userId":"user-7"},"done"]"#
            ) || text.contains(
                r#""segments":[null,{"userId":"user-7","eventKey":"1764000000000#e7"},"done"]"#
            ),
            "{text}"
        );
        let store = Store::new(Some(path.clone()), state);
        store.advance(0, Segment::After(key(1))).unwrap();
        assert_eq!(
            load(&path).unwrap().unwrap().segments[0],
            Segment::After(key(1))
        );
        store.finish().unwrap();
        assert_eq!(load(&path), Ok(None), "finished: nothing to continue");
        store.finish().unwrap();
        std::fs::remove_dir_all(path.parent().unwrap()).ok();
    }

    #[test]
    fn a_damaged_file_is_named_with_what_to_do() {
        let path = temp("damaged");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, "{\"format\": 1, \"table\": \"t\"}").unwrap();
        let err = load(&path).unwrap_err().to_string();
        assert!(err.starts_with("checkpoint "), "{err}");
        assert!(
            err.ends_with(
                "cannot be read: no \"shards\"; remove it or pass --restart to start over"
            ),
            "{err}"
        );
        std::fs::write(&path, "not json").unwrap();
        assert!(load(&path).unwrap_err().reason.starts_with("is not JSON"));
        std::fs::remove_dir_all(path.parent().unwrap()).ok();
    }

    #[test]
    fn a_run_continues_its_own_table_and_shard_count_only() {
        let saved = State {
            table: "t".into(),
            shards: 4,
            segments: vec![Segment::Done, Segment::After(key(3)), Segment::NotStarted],
        };
        let (state, start) = super::start(Some(saved.clone()), "t", 4, 8, false).unwrap();
        assert_eq!(
            state, saved,
            "the checkpoint's 3 segments, not --segments 8"
        );
        assert_eq!(
            start,
            Start::Continued {
                done: 1,
                segments: 3
            }
        );
        let note = start.note(Path::new("cp.json"), 8).unwrap();
        assert!(
            note.starts_with("backfill: continuing from cp.json: 1 of 3 segments done ("),
            "{note}"
        );

        let (state, start) = super::start(Some(saved.clone()), "t", 8, 2, false).unwrap();
        assert_eq!(state, State::fresh("t", 8, 2));
        assert_eq!(start, Start::Discarded { was: 4 });

        let (state, start) = super::start(Some(saved.clone()), "t", 4, 2, true).unwrap();
        assert_eq!((state, start), (State::fresh("t", 4, 2), Start::Fresh));
        assert_eq!(Start::Fresh.note(Path::new("x"), 2), None);

        let refused = super::start(Some(saved), "other", 4, 2, false).unwrap_err();
        assert!(
            refused.starts_with("the checkpoint belongs to a backfill of table t, not other;"),
            "{refused}"
        );
    }

    #[test]
    fn the_default_file_is_named_after_the_stack() {
        assert_eq!(
            default_path("retail-events-dev"),
            Path::new("cfn-out/backfill-retail-events-dev.json")
        );
        assert_eq!(
            default_path("arn:aws:cloudformation:us-east-1:1:stack/s/id"),
            Path::new("cfn-out/backfill-arn_aws_cloudformation_us-east-1_1_stack_s_id.json")
        );
    }
}
