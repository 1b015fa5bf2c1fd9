//! What a run found, what is wrong with it, and the summary line.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::batch::Expect;
use crate::books::Books;
use crate::latency::percentile;
use crate::letters::Letter;
use crate::logs::LogCheck;
use crate::queue::Sweep;
use crate::send::{Sent, SentRecord};
use crate::table::Stored;

/// Names listed in one problem line at most; the rest are counted.
const LISTED: usize = 10;

/// What verify has found of its records so far.
#[derive(Debug, Clone, Default)]
pub struct Findings {
    /// Items of the run by `eventKey`, with their `processedAt`.
    pub items: BTreeMap<String, Option<i64>>,
    /// Dead letters by index into [`Sent::records`]: message ids and the `errorType`.
    pub dead_letters: BTreeMap<usize, (BTreeSet<String>, String)>,
    /// On-failure records over verify's records, by message id: shard, range, indexes.
    pub gave_up: BTreeMap<String, (String, String, String, Vec<usize>)>,
    /// verify's dead letters deleted from the queue.
    pub deleted: usize,
}

impl Findings {
    /// Takes in the run's items read from the table.
    pub fn add_items(&mut self, items: Vec<Stored>) {
        for item in items {
            self.items.insert(item.event_key, item.processed_at_ms);
        }
    }

    /// Takes in what a sweep of the queue found.
    pub fn add_sweep(&mut self, sweep: Sweep) {
        self.deleted += sweep.deleted;
        for found in sweep.found {
            match found.letter {
                Letter::Record {
                    index, error_type, ..
                } => {
                    let entry = self.dead_letters.entry(index).or_default();
                    entry.0.insert(found.message_id);
                    entry.1 = error_type;
                }
                Letter::GaveUp {
                    shard_id,
                    start,
                    end,
                    indexes,
                } => {
                    self.gave_up
                        .insert(found.message_id, (shard_id, start, end, indexes));
                }
                Letter::Other => {}
            }
        }
    }

    fn gave_up_on(&self, index: usize) -> bool {
        self.gave_up.values().any(|g| g.3.contains(&index))
    }

    /// Whether every sent record is accounted for: where it belongs, or somewhere that
    /// will not change by waiting (a valid event dead-lettered, a record the mapping gave
    /// up on).
    pub fn settled(&self, sent: &Sent) -> bool {
        sent.records.iter().enumerate().all(|(index, record)| {
            let placed = match &record.expect {
                Expect::Stored { event_key } => {
                    self.items.contains_key(event_key) || self.dead_letters.contains_key(&index)
                }
                Expect::DeadLettered(_) => self.dead_letters.contains_key(&index),
            };
            placed || self.gave_up_on(index)
        })
    }

    /// Valid events stored.
    pub fn stored(&self, sent: &Sent) -> usize {
        sent.valid()
            .filter(|(_, key)| self.items.contains_key(*key))
            .count()
    }

    /// Invalid events dead-lettered.
    pub fn dead_lettered(&self, sent: &Sent) -> usize {
        sent.records
            .iter()
            .enumerate()
            .filter(|(i, r)| {
                matches!(r.expect, Expect::DeadLettered(_)) && self.dead_letters.contains_key(i)
            })
            .count()
    }
}

/// Where the run looked: named in the report's lines.
#[derive(Debug, Clone)]
pub struct Places {
    /// The table.
    pub table: String,
    /// The dead-letter queue's URL.
    pub queue: String,
    /// The function's log group.
    pub log_group: String,
}

/// The outcome of a run.
#[derive(Debug, Clone)]
pub struct Report {
    /// What was sent.
    pub sent: Sent,
    /// What was found.
    pub findings: Findings,
    /// What the function's log said.
    pub logs: LogCheck,
    /// The event source mapping's books over the run.
    pub books: Books,
    /// Where verify looked.
    pub places: Places,
    /// How long verify waited for the records.
    pub waited: Duration,
    /// Whether verify's dead letters were left in the queue.
    pub keep: bool,
}

impl Report {
    /// Latencies from each stored event's timestamp to its `processedAt`, in ms.
    pub fn latencies(&self) -> Vec<i64> {
        self.sent
            .valid()
            .filter_map(|(record, key)| {
                let processed = (*self.findings.items.get(key)?)?;
                Some(processed - record.timestamp_ms)
            })
            .collect()
    }

    fn missing_valid(&self) -> Vec<&str> {
        self.sent
            .valid()
            .filter(|(_, key)| !self.findings.items.contains_key(*key))
            .map(|(_, key)| key)
            .collect()
    }

    fn missing_invalid(&self) -> Vec<(usize, &SentRecord)> {
        self.sent
            .records
            .iter()
            .enumerate()
            .filter(|(i, r)| {
                matches!(r.expect, Expect::DeadLettered(_))
                    && !self.findings.dead_letters.contains_key(i)
            })
            .collect()
    }

    /// Everything that does not hold, one line each; empty when the run passed.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let marker = self.sent.run_id.marker();
        let after = format!("after {} s", self.waited.as_secs_f64().round());
        let valid = self.sent.valid().count();
        let missing = self.missing_valid();
        if !missing.is_empty() {
            problems.push(format!(
                "{} not in table {} {after}: eventKey {}",
                of(missing.len(), valid, "valid event"),
                self.places.table,
                list(&missing)
            ));
        }
        let invalid = self.sent.invalid().count();
        let missing = self.missing_invalid();
        if !missing.is_empty() {
            let named: Vec<String> = missing
                .iter()
                .map(|(_, r)| {
                    format!(
                        "{} ({}, sequence {})",
                        r.event_id,
                        kind(r),
                        r.sequence_number
                    )
                })
                .collect();
            problems.push(format!(
                "{} not in dead-letter queue {} {after}: eventId {}",
                of(missing.len(), invalid, "invalid event"),
                self.places.queue,
                list(&named)
            ));
        }
        let misplaced: Vec<String> = self
            .findings
            .dead_letters
            .iter()
            .filter(|(i, _)| matches!(self.sent.records[**i].expect, Expect::Stored { .. }))
            .map(|(i, (_, error_type))| {
                format!("{} ({error_type})", self.sent.records[*i].event_id)
            })
            .collect();
        if !misplaced.is_empty() {
            problems.push(format!(
                "{} dead-lettered instead of stored: eventId {}",
                count(misplaced.len(), "valid event was", "valid events were"),
                list(&misplaced)
            ));
        }
        let repeated: Vec<String> = self
            .findings
            .dead_letters
            .iter()
            .filter(|(_, (ids, _))| ids.len() > 1)
            .map(|(i, (ids, _))| {
                format!(
                    "{} ({} messages)",
                    self.sent.records[*i].event_id,
                    ids.len()
                )
            })
            .collect();
        if !repeated.is_empty() {
            problems.push(format!(
                "{} dead-lettered more than once: eventId {}",
                count(repeated.len(), "event was", "events were"),
                list(&repeated)
            ));
        }
        let sent_keys: BTreeSet<&str> = self.sent.valid().map(|(_, key)| key).collect();
        let unexpected: Vec<&str> = self
            .findings
            .items
            .keys()
            .map(String::as_str)
            .filter(|key| !sent_keys.contains(key))
            .collect();
        if !unexpected.is_empty() {
            problems.push(format!(
                "{} under userId {marker} in table {} with an eventKey verify did not send \
                 (the item key is not timestamp#eventId): {}",
                count(unexpected.len(), "item is", "items are"),
                self.places.table,
                list(&unexpected)
            ));
        }
        for (shard, start, end, indexes) in self.findings.gave_up.values() {
            problems.push(format!(
                "the event source mapping gave up on {} (on-failure record for {shard}, \
                 sequence numbers {start} to {end}): the function failed on them until its \
                 retries ran out",
                count(indexes.len(), "of verify's records", "of verify's records"),
            ));
        }
        if let Books::Counts(counts) = &self.books {
            if counts.dropped() > 0.0 {
                problems.push(format!(
                    "the event source mapping {} dropped {} records during the run \
                     (DroppedEventCount): they reached neither the function nor the \
                     on-failure destination",
                    counts.mapping,
                    counts.dropped()
                ));
            }
        }
        if let LogCheck::Checked { errors, examples } = &self.logs {
            if *errors > 0 {
                problems.push(format!(
                    "the function logged {} in {} since the run started, e.g. {}",
                    count(*errors, "error", "errors"),
                    self.places.log_group,
                    examples.join(" | ")
                ));
            }
        }
        problems
    }

    /// The process's exit status: 0 when everything held, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        u8::from(!self.problems().is_empty())
    }

    /// The report as printed: what was found, each problem, and the summary line last.
    pub fn lines(&self) -> Vec<String> {
        let sent = &self.sent;
        let marker = sent.run_id.marker();
        let (stored, valid) = (self.findings.stored(sent), sent.valid().count());
        let (dead, invalid) = (self.findings.dead_lettered(sent), sent.invalid().count());
        let mut lines = vec![format!(
            "verify: stored {stored}/{valid} valid events in table {} (userId {marker})",
            self.places.table
        )];
        let fate = if self.keep {
            format!("kept verify's dead letters in the queue (--keep): partitionKey {marker}")
        } else {
            format!(
                "deleted {} of verify's dead letters from the queue (--keep leaves them)",
                self.findings.deleted
            )
        };
        lines.push(format!(
            "verify: dead-lettered {dead}/{invalid} invalid events in queue {}; {fate}",
            self.places.queue
        ));
        lines.push(match &self.logs {
            LogCheck::NoLogs(reason) => format!("verify: {reason}"),
            LogCheck::Checked { errors, .. } => format!(
                "verify: the function logged {} in {} since the run started",
                count(*errors, "error", "errors"),
                self.places.log_group
            ),
        });
        lines.push(self.books.line());
        if let Books::Counts(counts) = &self.books {
            for broken in counts.broken() {
                lines.push(format!(
                    "verify: note: the books do not balance yet ({broken}); CloudWatch may still be publishing the run's minutes"
                ));
            }
        }
        let latencies = self.latencies();
        if let (Some(p50), Some(p99)) = (percentile(&latencies, 50.0), percentile(&latencies, 99.0))
        {
            lines.push(format!(
                "verify: latency from event timestamp to processedAt over {} items: p50 {p50} ms, p99 {p99} ms",
                latencies.len()
            ));
        }
        lines.push(format!(
            "verify: the run's items stay in table {} under userId {marker} (verify only reads the table)",
            self.places.table
        ));
        lines.extend(self.problems().iter().map(|p| format!("verify: FAIL: {p}")));
        lines.push(self.summary());
        lines
    }

    /// The last line: every count, the latency percentiles and the result.
    pub fn summary(&self) -> String {
        let sent = &self.sent;
        let latencies = self.latencies();
        let ms = |p| percentile(&latencies, p).map_or("n/a".to_owned(), |v| v.to_string());
        format!(
            "verify: sent={} stored={}/{} dead_lettered={}/{} function_errors={} \
             latency_p50_ms={} latency_p99_ms={} result={}",
            sent.records.len(),
            self.findings.stored(sent),
            sent.valid().count(),
            self.findings.dead_lettered(sent),
            sent.invalid().count(),
            self.logs
                .errors()
                .map_or("n/a".to_owned(), |n| n.to_string()),
            ms(50.0),
            ms(99.0),
            if self.problems().is_empty() {
                "PASS"
            } else {
                "FAIL"
            }
        )
    }
}

fn kind(record: &SentRecord) -> &'static str {
    match record.expect {
        Expect::DeadLettered(kind) => kind.as_str(),
        Expect::Stored { .. } => "valid",
    }
}

/// "3 of 16 valid events are", "1 of 16 valid events is".
fn of(n: usize, total: usize, noun: &str) -> String {
    let verb = if n == 1 { "is" } else { "are" };
    let plural = if total == 1 { "" } else { "s" };
    format!("{n} of {total} {noun}{plural} {verb}")
}

fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The first [`LISTED`] names, comma-separated, and how many more there are.
fn list<S: AsRef<str>>(names: &[S]) -> String {
    let shown: Vec<&str> = names.iter().take(LISTED).map(AsRef::as_ref).collect();
    let mut text = shown.join(", ");
    if names.len() > LISTED {
        text.push_str(&format!(" and {} more", names.len() - LISTED));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::RunId;
    use crate::queue::Found;
    use producer::invalid::InvalidKind;

    const T: i64 = 1_764_000_000_000;

    fn sent() -> Sent {
        let record = |i: usize, expect: Expect| SentRecord {
            event_id: format!("verify-r-{i:04}"),
            timestamp_ms: T,
            expect,
            shard_id: "shardId-000000000000".into(),
            sequence_number: format!("{}", 100 + i),
        };
        let stored = |i: usize| Expect::Stored {
            event_key: format!("{T}#verify-r-{i:04}"),
        };
        Sent {
            run_id: RunId::from_parts(T, 0x00ff),
            stream_name: "s".into(),
            started_ms: T,
            records: vec![
                record(0, stored(0)),
                record(1, stored(1)),
                record(2, stored(2)),
                record(3, Expect::DeadLettered(InvalidKind::NotJson)),
            ],
        }
    }

    fn key(i: usize) -> String {
        format!("{T}#verify-r-{i:04}")
    }

    fn dead_letter(index: usize, id: &str) -> Found {
        Found {
            message_id: id.into(),
            letter: Letter::Record {
                index,
                error_type: "InvalidJson".into(),
                error: "not JSON".into(),
            },
        }
    }

    fn report(findings: Findings, logs: LogCheck) -> Report {
        Report {
            sent: sent(),
            findings,
            logs,
            books: Books::NotPublished("not read in this test".into()),
            places: Places {
                table: "events".into(),
                queue: "http://q/dlq".into(),
                log_group: "/aws/lambda/f".into(),
            },
            waited: Duration::from_secs(120),
            keep: false,
        }
    }

    fn complete() -> Findings {
        let mut findings = Findings::default();
        findings.add_items(
            [(0, 800), (1, 1_200), (2, 950)]
                .into_iter()
                .map(|(i, latency)| Stored {
                    event_key: key(i),
                    processed_at_ms: Some(T + latency),
                })
                .collect(),
        );
        findings.add_sweep(Sweep {
            found: vec![dead_letter(3, "m1")],
            read: 5,
            deleted: 1,
        });
        findings
    }

    fn no_errors() -> LogCheck {
        LogCheck::Checked {
            errors: 0,
            examples: vec![],
        }
    }

    #[test]
    fn a_complete_run_passes_with_the_summary_last() {
        let report = report(complete(), no_errors());
        assert!(report.findings.settled(&report.sent));
        assert_eq!(report.problems(), Vec::<String>::new());
        assert_eq!(report.exit_code(), 0);
        let lines = report.lines();
        assert_eq!(
            lines.last().unwrap(),
            "verify: sent=4 stored=3/3 dead_lettered=1/1 function_errors=0 \
             latency_p50_ms=950 latency_p99_ms=1200 result=PASS"
        );
        assert!(lines.iter().any(|l| l.contains("p50 950 ms, p99 1200 ms")));
        assert!(lines
            .iter()
            .any(|l| l.contains("deleted 1 of verify's dead letters from the queue")));
    }

    #[test]
    fn missing_events_fail_the_run_and_are_named() {
        let mut findings = complete();
        findings.items.remove(&key(0));
        findings.items.remove(&key(2));
        findings.dead_letters.clear();
        let report = report(findings, no_errors());
        assert!(!report.findings.settled(&report.sent));
        let problems = report.problems();
        assert_eq!(
            problems[0],
            format!(
                "2 of 3 valid events are not in table events after 120 s: eventKey {}, {}",
                key(0),
                key(2)
            )
        );
        assert_eq!(
            problems[1],
            "1 of 1 invalid event is not in dead-letter queue http://q/dlq after 120 s: \
             eventId verify-r-0003 (not-json, sequence 103)"
        );
        assert_eq!(report.exit_code(), 1);
        assert!(report.summary().starts_with(
            "verify: sent=4 stored=1/3 dead_lettered=0/1 function_errors=0 \
             latency_p50_ms=1200 latency_p99_ms=1200 result=FAIL"
        ));
        assert!(report
            .lines()
            .iter()
            .any(|l| l.starts_with("verify: FAIL: 2 of 3")));
    }

    #[test]
    fn no_logs_is_not_a_failure_but_logged_errors_are() {
        let quiet = report(
            complete(),
            LogCheck::NoLogs("no function logs to check".into()),
        );
        assert_eq!(quiet.exit_code(), 0);
        assert!(quiet.summary().contains(" function_errors=n/a "));
        assert!(quiet
            .lines()
            .contains(&"verify: no function logs to check".to_owned()));
        let failing = report(
            complete(),
            LogCheck::Checked {
                errors: 2,
                examples: vec!["{\"level\":\"ERROR\"}".into()],
            },
        );
        assert_eq!(
            failing.problems(),
            [
                "the function logged 2 errors in /aws/lambda/f since the run started, \
              e.g. {\"level\":\"ERROR\"}"
            ]
        );
        assert!(failing.summary().contains(" function_errors=2 "));
        assert!(failing.summary().ends_with("result=FAIL"));
    }

    #[test]
    fn misplaced_repeated_unexpected_and_skipped_records_are_each_a_problem() {
        let mut findings = complete();
        findings.items.remove(&key(1));
        findings.items.insert(format!("{T}#other"), Some(T));
        findings.add_sweep(Sweep {
            found: vec![
                dead_letter(1, "m2"),
                dead_letter(3, "m3"),
                Found {
                    message_id: "m4".into(),
                    letter: Letter::GaveUp {
                        shard_id: "shardId-000000000000".into(),
                        start: "100".into(),
                        end: "101".into(),
                        indexes: vec![0, 1],
                    },
                },
            ],
            read: 3,
            deleted: 2,
        });
        let report = report(findings, no_errors());
        assert!(
            report.findings.settled(&report.sent),
            "nothing left to wait for"
        );
        let problems = report.problems().join("\n");
        for wanted in [
            "1 of 3 valid events is not in table events",
            "1 valid event was dead-lettered instead of stored: eventId verify-r-0001 (InvalidJson)",
            "1 event was dead-lettered more than once: eventId verify-r-0003 (2 messages)",
            "1 item is under userId verify-20251124T160000Z-00ff in table events with an \
             eventKey verify did not send",
            "the event source mapping gave up on 2 of verify's records (on-failure record for \
             shardId-000000000000, sequence numbers 100 to 101)",
        ] {
            assert!(problems.contains(wanted), "{wanted}\nnot in\n{problems}");
        }
        assert_eq!(report.findings.deleted, 3);
    }

    #[test]
    fn long_lists_are_cut_and_counted() {
        let names: Vec<String> = (0..13).map(|i| format!("k{i}")).collect();
        assert_eq!(
            list(&names),
            "k0, k1, k2, k3, k4, k5, k6, k7, k8, k9 and 3 more"
        );
        assert_eq!(list(&["a"]), "a");
    }

    #[test]
    fn kept_dead_letters_are_said_to_be_kept() {
        let mut report = report(complete(), no_errors());
        report.keep = true;
        assert!(report.lines().iter().any(|l| l.contains(
            "kept verify's dead letters in the queue (--keep): partitionKey verify-20251124T160000Z-00ff"
        )));
    }
}
