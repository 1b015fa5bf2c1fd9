//! Records waiting for the stream, kept in order per partition key.
//!
//! Kinesis keeps the records of one shard in the order it accepts them, but PutRecords
//! accepts or rejects each entry of a call on its own: with two records of one key in one
//! call, the first can be throttled while the second is taken, and no retry puts them back
//! in order. So the rule here is the strict one: **a Kinesis record is sent only when every
//! earlier record of its partition key is acknowledged (or given up on)**. Each key has at
//! most one entry in flight; a call carries the oldest waiting entry of each key that is
//! free, oldest first, so retries go before newer records and keys that wait out a backoff
//! do not hold up the others.
//!
//! One entry per key per call would make calls small when few keys are busy (the
//! generator's 100 users fill 100 entries, not 500). With [`Pending::aggregating`] a key's
//! waiting records travel together instead, in order, as one KPL aggregate (the format the
//! processor unpacks, `kinesis_codec::kpl`), which Kinesis accepts or rejects as a whole: the
//! rule holds for the aggregate and so for every record in it. A key with one record
//! waiting sends it as it is.
//!
//! A call that gets no answer may still have put its records on the stream (the answer, not
//! the request, was lost). Unless the request is known never to have left
//! ([`Reach::NotSent`]), its records are marked *in doubt* until Kinesis acknowledges them:
//! [`Pending::in_doubt`] counts the waiting ones and [`Settled::doubtful`] the ones given
//! up on, so a run can say how many records the stream may hold beyond those acknowledged.
//!
//! [`Pending`] is pure bookkeeping with an explicit clock, so the rule is tested without
//! AWS and without time passing.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::Instant;

use crate::send::{EntryResult, Placement, Reach, RetryPolicy, MAX_BATCH_BYTES, MAX_BATCH_RECORDS};
use crate::source::{Record, MAX_RECORD_BYTES};

/// The largest aggregate, in bytes: the KPL's default (`AggregationMaxSize`), so a
/// rejected entry costs a retry of at most this much.
pub const AGGREGATE_MAX_BYTES: usize = 50 * 1024;

/// One record and how often it was tried.
#[derive(Debug)]
struct Waiting {
    record: Record,
    /// Times it was sent.
    sends: u32,
    /// Times Kinesis answered and did not take it: what the retry budget counts.
    attempts: u32,
    /// A call carrying it got no answer after it may have reached Kinesis: the stream may
    /// hold it although it was never acknowledged.
    in_doubt: bool,
}

/// The records of one partition key not yet settled, oldest first.
#[derive(Debug)]
struct Key {
    queue: VecDeque<Waiting>,
    /// Production numbers of the records in `queue`.
    seqs: VecDeque<u64>,
    /// The head may not be sent before this (backoff after a rejection).
    ready_at: Option<Instant>,
}

/// One entry of a call: the first `count` records of a key, as they are or aggregated.
#[derive(Debug)]
struct Entry {
    key: String,
    count: usize,
    aggregate: Option<Record>,
}

/// A PutRecords call taken from [`Pending::next_call`]. Give it back to
/// [`Pending::settle`] (or [`Pending::abandon`]).
#[derive(Debug)]
#[must_use = "a call's keys stay in flight until it is settled or abandoned"]
pub struct Call {
    entries: Vec<Entry>,
}

impl Call {
    /// Entries (Kinesis records) in the call.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the call has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Records (events) the call carries.
    pub fn records(&self) -> usize {
        self.entries.iter().map(|e| e.count).sum()
    }
}

/// What one answer settled. Records come with their production number: the order they
/// were pushed in, from 0.
#[derive(Debug, Default)]
pub struct Settled {
    /// Records now in the stream, in entry order.
    pub placed: Vec<(u64, Record, Placement)>,
    /// Records given up on after the retry budget, with the last error, that no call left
    /// in doubt: the stream does not hold them.
    pub given_up: Vec<(u64, Record, String)>,
    /// Records given up on after the retry budget, with the last error, that an earlier
    /// call without an answer left in doubt: the stream may hold them.
    pub doubtful: Vec<(u64, Record, String)>,
    /// Records that will be tried again.
    pub rejected: usize,
}

/// Records taken from the input and not yet in the stream or given up on.
#[derive(Debug, Default)]
pub struct Pending {
    keys: HashMap<String, Key>,
    /// Keys with records waiting and none in flight, by their head's production number.
    idle: BTreeMap<u64, String>,
    next_seq: u64,
    records: usize,
    /// Of `records`, those marked in doubt.
    in_doubt: usize,
    bytes: usize,
    /// Aggregate a key's waiting records up to this many bytes; `None` sends each alone.
    aggregate_max: Option<usize>,
}

impl Pending {
    /// Nothing waiting; each record is sent as its own Kinesis record.
    pub fn new() -> Pending {
        Pending::default()
    }

    /// Nothing waiting; a key's waiting records share KPL aggregates of at most
    /// `max_bytes` (and at most a Kinesis record's 1 MiB).
    pub fn aggregating(max_bytes: usize) -> Pending {
        Pending {
            aggregate_max: Some(max_bytes.min(MAX_RECORD_BYTES)),
            ..Pending::default()
        }
    }

    /// Records waiting (in flight included).
    pub fn len(&self) -> usize {
        self.records
    }

    /// Whether nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.records == 0
    }

    /// Records waiting that a call without an answer left in doubt: the stream may hold
    /// them, although Kinesis never acknowledged them.
    pub fn in_doubt(&self) -> usize {
        self.in_doubt
    }

    /// Bytes of the records waiting.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Adds a record behind every earlier one of its key.
    pub fn push(&mut self, record: Record) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.records += 1;
        self.bytes += record.size();
        let waiting = Waiting {
            record,
            sends: 0,
            attempts: 0,
            in_doubt: false,
        };
        match self.keys.get_mut(&waiting.record.partition_key) {
            Some(key) => {
                key.queue.push_back(waiting);
                key.seqs.push_back(seq);
            }
            None => {
                let name = waiting.record.partition_key.clone();
                self.idle.insert(seq, name.clone());
                self.keys.insert(
                    name,
                    Key {
                        queue: VecDeque::from([waiting]),
                        seqs: VecDeque::from([seq]),
                        ready_at: None,
                    },
                );
            }
        }
    }

    /// The next call: an entry for every key that is neither in flight nor backing off at
    /// `now`, oldest first, within `max_entries` entries and PutRecords' 5 MiB. Empty when
    /// no key is free.
    pub fn next_call(&mut self, now: Instant, max_entries: usize) -> Call {
        let max_entries = max_entries.clamp(1, MAX_BATCH_RECORDS);
        let mut entries = Vec::new();
        let mut taken = Vec::new();
        let mut bytes = 0;
        for (&seq, name) in &self.idle {
            if entries.len() == max_entries {
                break;
            }
            let key = &self.keys[name];
            if key.ready_at.is_some_and(|at| at > now) {
                continue;
            }
            let entry = self.entry(name, key);
            let size = match &entry.aggregate {
                Some(aggregate) => aggregate.size(),
                None => key.queue[0].record.size(),
            };
            if bytes + size > MAX_BATCH_BYTES {
                continue;
            }
            bytes += size;
            entries.push(entry);
            taken.push(seq);
        }
        for seq in taken {
            self.idle.remove(&seq);
        }
        for entry in &entries {
            if let Some(key) = self.keys.get_mut(&entry.key) {
                for waiting in key.queue.iter_mut().take(entry.count) {
                    waiting.sends += 1;
                }
            }
        }
        Call { entries }
    }

    /// The entry for `key`: its head, or its first records as one aggregate.
    fn entry(&self, name: &str, key: &Key) -> Entry {
        let mut count = 1;
        if let Some(max) = self.aggregate_max {
            let mut size = aggregate_bound(name, &key.queue[0].record);
            for waiting in key.queue.iter().skip(1) {
                size += record_bound(&waiting.record);
                if size > max {
                    break;
                }
                count += 1;
            }
        }
        let aggregate = (count > 1).then(|| {
            let parts: Vec<(&str, &[u8])> = key
                .queue
                .iter()
                .take(count)
                .map(|w| (name, w.record.data.as_slice()))
                .collect();
            Record {
                partition_key: name.to_owned(),
                data: kinesis_codec::kpl::aggregate(&parts),
                invalid: None,
            }
        });
        Entry {
            key: name.to_owned(),
            count,
            aggregate,
        }
    }

    /// The Kinesis records of `call`, in entry order, as PutRecords takes them.
    pub fn records<'a>(&'a self, call: &'a Call) -> Vec<&'a Record> {
        call.entries
            .iter()
            .filter_map(|entry| match &entry.aggregate {
                Some(aggregate) => Some(aggregate),
                None => self.keys.get(&entry.key).map(|k| &k.queue[0].record),
            })
            .collect()
    }

    /// Records `answer` for `call`: `Ok` has one answer per entry (a missing one counts as
    /// a rejection), `Err` rejects the whole call. A rejected entry's records stay at the
    /// front of their key and back off; those past `policy.max_retries` retries are given
    /// up on and the key's next record moves up.
    pub fn settle(
        &mut self,
        call: Call,
        answer: Result<&[EntryResult], &str>,
        now: Instant,
        policy: &RetryPolicy,
    ) -> Settled {
        let mut settled = Settled::default();
        for (position, entry) in call.entries.into_iter().enumerate() {
            let outcome = match answer {
                Ok(answers) => match answers.get(position) {
                    Some(Ok(placement)) => Ok(placement.clone()),
                    Some(Err(error)) => Err(error.clone()),
                    None => Err("PutRecords gave no answer for it".to_owned()),
                },
                Err(error) => Err(error.to_owned()),
            };
            let aggregated = entry.aggregate.is_some();
            match outcome {
                Ok(placement) => {
                    for n in 0..entry.count {
                        let (seq, record, _) = self.pop(&entry.key);
                        let placement = Placement {
                            sub_sequence_number: aggregated.then_some(n as u64),
                            ..placement.clone()
                        };
                        settled.placed.push((seq, record, placement));
                    }
                }
                Err(error) => {
                    let Some(key) = self.keys.get_mut(&entry.key) else {
                        continue;
                    };
                    let mut spent = 0;
                    for waiting in key.queue.iter_mut().take(entry.count) {
                        waiting.attempts += 1;
                        // Attempts never grow along a key's queue: an entry is always a
                        // prefix of it. So the spent records are a prefix too.
                        spent += usize::from(waiting.attempts > policy.max_retries);
                    }
                    settled.rejected += entry.count - spent;
                    for _ in 0..spent {
                        let (seq, record, in_doubt) = self.pop(&entry.key);
                        let list = match in_doubt {
                            true => &mut settled.doubtful,
                            false => &mut settled.given_up,
                        };
                        list.push((seq, record, error.clone()));
                    }
                }
            }
            self.release(&entry.key, now, policy);
        }
        settled
    }

    /// Gives back `call` that was never sent (it was empty, or the run is ending on an
    /// error the call was refused with): its records stay waiting as they were.
    pub fn abandon(&mut self, call: Call) {
        self.unanswered(call, Reach::NotSent);
    }

    /// `call` got no answer (refused, dropped, timed out, or the run stopped waiting for
    /// it): its records stay waiting, may go again at once, and keep their retry budget,
    /// which counts Kinesis's refusals only; how long an endpoint may stay silent is the
    /// caller's to bound. Unless the request never left (`reach` is [`Reach::NotSent`]),
    /// its records are in doubt from now on, until acknowledged.
    pub fn unanswered(&mut self, call: Call, reach: Reach) {
        for entry in call.entries {
            if let Some(key) = self.keys.get_mut(&entry.key) {
                if reach == Reach::InDoubt {
                    for waiting in key.queue.iter_mut().take(entry.count) {
                        self.in_doubt += usize::from(!waiting.in_doubt);
                        waiting.in_doubt = true;
                    }
                }
                key.ready_at = None;
                self.idle.insert(key.seqs[0], entry.key);
            }
        }
    }

    /// How many of the records in `call` were sent before.
    pub fn retries_in(&self, call: &Call) -> usize {
        call.entries
            .iter()
            .filter_map(|entry| {
                let key = self.keys.get(&entry.key)?;
                Some(
                    key.queue
                        .iter()
                        .take(entry.count)
                        .filter(|w| w.sends > 1)
                        .count(),
                )
            })
            .sum()
    }

    /// When the earliest backing-off key may go again, if one is waiting.
    pub fn next_ready(&self) -> Option<Instant> {
        self.idle
            .values()
            .filter_map(|name| self.keys.get(name).and_then(|k| k.ready_at))
            .min()
    }

    /// Removes the head of `name` (acknowledged or given up on), with whether it was in
    /// doubt.
    fn pop(&mut self, name: &str) -> (u64, Record, bool) {
        let key = self.keys.get_mut(name).expect("settled keys are known");
        let head = key
            .queue
            .pop_front()
            .expect("a settled entry's records are waiting");
        let seq = key.seqs.pop_front().expect("one number per record");
        self.records -= 1;
        self.in_doubt -= usize::from(head.in_doubt);
        self.bytes -= head.record.size();
        (seq, head.record, head.in_doubt)
    }

    /// After an answer: `name` is free again, at once unless its head was refused before,
    /// then after a backoff; forgotten when nothing of it waits.
    fn release(&mut self, name: &str, now: Instant, policy: &RetryPolicy) {
        let Some(key) = self.keys.get_mut(name) else {
            return;
        };
        let Some(head) = key.queue.front() else {
            self.keys.remove(name);
            return;
        };
        key.ready_at = match head.attempts {
            0 => None,
            tried => Some(now + policy.delay(tried - 1)),
        };
        self.idle.insert(key.seqs[0], name.to_owned());
    }
}

/// At most the bytes an aggregate of just `first` takes, as a Kinesis record (partition
/// key included): magic, digest, the key once, the record with its framing.
fn aggregate_bound(key: &str, first: &Record) -> usize {
    4 + 16 + key.len() + 6 + key.len() + record_bound(first)
}

/// At most the bytes a record adds to an aggregate (tags, lengths, key index, data).
fn record_bound(record: &Record) -> usize {
    record.data.len() + 14
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn record(key: &str, n: usize) -> Record {
        Record {
            partition_key: key.to_owned(),
            data: format!("{key}:{n}").into_bytes(),
            invalid: None,
        }
    }

    fn placement(n: usize) -> Placement {
        Placement {
            shard_id: "shardId-000000000000".into(),
            sequence_number: n.to_string(),
            sub_sequence_number: None,
        }
    }

    fn policy(max_retries: u32) -> RetryPolicy {
        RetryPolicy {
            max_retries,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(100),
            ..RetryPolicy::default()
        }
    }

    fn data(records: &[&Record]) -> Vec<String> {
        records
            .iter()
            .map(|r| String::from_utf8(r.data.clone()).unwrap())
            .collect()
    }

    #[test]
    fn a_call_takes_one_record_per_key_oldest_first() {
        let mut pending = Pending::new();
        for (key, n) in [("a", 0), ("a", 1), ("b", 2), ("c", 3), ("b", 4)] {
            pending.push(record(key, n));
        }
        let now = Instant::now();
        let call = pending.next_call(now, 500);
        assert_eq!(data(&pending.records(&call)), ["a:0", "b:2", "c:3"]);
        assert!(
            pending.next_call(now, 500).is_empty(),
            "every key is in flight"
        );
        let answers: Vec<EntryResult> = (0..3).map(|n| Ok(placement(n))).collect();
        let settled = pending.settle(call, Ok(&answers), now, &policy(3));
        assert_eq!(settled.placed.len(), 3);
        let call = pending.next_call(now, 500);
        assert_eq!(data(&pending.records(&call)), ["a:1", "b:4"]);
        assert_eq!(pending.len(), 2);
    }

    #[test]
    fn a_rejected_record_holds_its_key_back_and_goes_first_when_ready() {
        let mut pending = Pending::new();
        for (key, n) in [("a", 0), ("b", 1), ("a", 2), ("b", 3)] {
            pending.push(record(key, n));
        }
        let start = Instant::now();
        let call = pending.next_call(start, 500);
        let answers: Vec<EntryResult> = vec![
            Err("ProvisionedThroughputExceededException".into()),
            Ok(placement(1)),
        ];
        let settled = pending.settle(call, Ok(&answers), start, &policy(3));
        assert_eq!((settled.placed.len(), settled.rejected), (1, 1));
        // While "a" backs off, "b" flows; "a:2" is not sent before "a:0".
        let call = pending.next_call(start, 500);
        assert_eq!(data(&pending.records(&call)), ["b:3"]);
        let answers: Vec<EntryResult> = vec![Ok(placement(3))];
        let _ = pending.settle(call, Ok(&answers), start, &policy(3));
        assert!(pending.next_ready().is_some());
        let later = start + Duration::from_millis(150);
        let call = pending.next_call(later, 500);
        assert_eq!(pending.retries_in(&call), 1);
        assert_eq!(data(&pending.records(&call)), ["a:0"]);
    }

    #[test]
    fn a_record_out_of_retries_is_given_up_and_its_key_moves_on() {
        let mut pending = Pending::new();
        pending.push(record("a", 0));
        pending.push(record("a", 1));
        let mut now = Instant::now();
        for attempt in 0..=2 {
            let call = pending.next_call(now, 500);
            assert_eq!(data(&pending.records(&call)), ["a:0"], "attempt {attempt}");
            let settled = pending.settle(call, Err("LimitExceededException"), now, &policy(2));
            now += Duration::from_secs(1);
            if attempt == 2 {
                assert_eq!(settled.given_up.len(), 1);
                assert_eq!(settled.given_up[0].2, "LimitExceededException");
            }
        }
        let call = pending.next_call(now, 500);
        assert_eq!(data(&pending.records(&call)), ["a:1"]);
    }

    #[test]
    fn an_aggregate_carries_a_keys_waiting_records_in_order_as_one_entry() {
        let mut pending = Pending::aggregating(AGGREGATE_MAX_BYTES);
        for (key, n) in [("a", 0), ("a", 1), ("b", 2), ("a", 3)] {
            pending.push(record(key, n));
        }
        let now = Instant::now();
        let call = pending.next_call(now, 500);
        assert_eq!((call.len(), call.records()), (2, 4));
        let records = pending.records(&call);
        assert_eq!(data(&records[1..]), ["b:2"], "a lone record goes as it is");
        let kinesis_codec::kpl::Deaggregated::Aggregate(users) =
            kinesis_codec::kpl::deaggregate(&records[0].data).unwrap()
        else {
            panic!("not an aggregate");
        };
        let inside: Vec<&[u8]> = users.iter().map(|u| u.data).collect();
        assert_eq!(inside, [&b"a:0"[..], b"a:1", b"a:3"]);
        assert!(users.iter().all(|u| u.partition_key == "a"));
        // Rejected: all three stay, in order, and go again together.
        let answers: Vec<EntryResult> = vec![Err("InternalFailure".into()), Ok(placement(2))];
        let settled = pending.settle(call, Ok(&answers), now, &policy(3));
        assert_eq!((settled.placed.len(), settled.rejected), (1, 3));
        let later = now + Duration::from_secs(1);
        let call = pending.next_call(later, 500);
        assert_eq!((call.len(), call.records()), (1, 3));
        assert_eq!(pending.retries_in(&call), 3);
        let answers: Vec<EntryResult> = vec![Ok(placement(9))];
        let settled = pending.settle(call, Ok(&answers), later, &policy(3));
        let subs: Vec<(u64, Option<u64>)> = settled
            .placed
            .iter()
            .map(|(seq, _, p)| (*seq, p.sub_sequence_number))
            .collect();
        assert_eq!(subs, [(0, Some(0)), (1, Some(1)), (3, Some(2))]);
        assert!(pending.is_empty());
    }

    #[test]
    fn aggregates_keep_to_their_size_and_big_records_go_alone() {
        let mut pending = Pending::aggregating(AGGREGATE_MAX_BYTES);
        for n in 0..100 {
            pending.push(Record {
                partition_key: "k".into(),
                data: vec![b'x'; if n == 50 { 200 * 1024 } else { 1000 }],
                invalid: None,
            });
        }
        let mut now = Instant::now();
        let mut sizes = Vec::new();
        while !pending.is_empty() {
            let call = pending.next_call(now, 500);
            sizes.push(call.records());
            for record in pending.records(&call) {
                assert!(record.size() <= AGGREGATE_MAX_BYTES || record.data.len() == 200 * 1024);
            }
            let answers: Vec<EntryResult> = vec![Ok(placement(0))];
            let _ = pending.settle(call, Ok(&answers), now, &policy(3));
            now += Duration::from_millis(1);
        }
        assert_eq!(sizes.iter().sum::<usize>(), 100);
        assert!(sizes.contains(&1), "the 200 KB record alone: {sizes:?}");
        assert!(sizes[0] > 40, "{sizes:?}");
    }

    #[test]
    fn records_of_a_call_without_an_answer_stay_in_doubt_until_acknowledged() {
        let mut pending = Pending::new();
        for (key, n) in [("a", 0), ("b", 1), ("a", 2)] {
            pending.push(record(key, n));
        }
        let now = Instant::now();
        // Refused before it left: nothing is in doubt.
        let call = pending.next_call(now, 500);
        pending.unanswered(call, Reach::NotSent);
        assert_eq!(pending.in_doubt(), 0);
        // Cut after it was sent: both records may be in the stream.
        let call = pending.next_call(now, 500);
        assert_eq!(data(&pending.records(&call)), ["a:0", "b:1"]);
        pending.unanswered(call, Reach::InDoubt);
        assert_eq!(pending.in_doubt(), 2);
        // Sent again: "a:0" is acknowledged (sent, no longer in doubt), "b:1" refused.
        let call = pending.next_call(now, 500);
        assert_eq!(pending.retries_in(&call), 2);
        let answers: Vec<EntryResult> = vec![Ok(placement(0)), Err("InternalFailure".into())];
        let settled = pending.settle(call, Ok(&answers), now, &policy(1));
        assert_eq!((settled.placed.len(), settled.rejected), (1, 1));
        assert_eq!(pending.in_doubt(), 1, "a refusal does not undo the doubt");
        // "b:1" runs out of retries: given up on, but the stream may hold it.
        let later = now + Duration::from_secs(1);
        let call = pending.next_call(later, 500);
        assert_eq!(data(&pending.records(&call)), ["b:1", "a:2"]);
        let answers: Vec<EntryResult> = vec![Err("InternalFailure".into()), Ok(placement(2))];
        let settled = pending.settle(call, Ok(&answers), later, &policy(1));
        assert!(settled.given_up.is_empty());
        assert_eq!(settled.doubtful.len(), 1);
        assert_eq!(settled.doubtful[0].0, 1);
        assert_eq!((pending.in_doubt(), pending.len()), (0, 0));
    }

    #[test]
    fn calls_keep_to_the_count_and_size_limits() {
        let mut pending = Pending::new();
        for n in 0..12 {
            pending.push(Record {
                partition_key: format!("k{n}"),
                data: vec![b'x'; 1024 * 1024 - 16],
                invalid: None,
            });
        }
        let now = Instant::now();
        let call = pending.next_call(now, 500);
        assert_eq!(call.len(), 5, "5 MiB per call");
        pending.abandon(call);
        assert_eq!(pending.next_call(now, 3).len(), 3);
        assert_eq!(pending.bytes(), 12 * (1024 * 1024 - 16 + 2) + 2);
    }
}
