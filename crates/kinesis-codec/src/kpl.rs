//! De-aggregation of Kinesis Producer Library (KPL) aggregated records.
//!
//! The KPL packs many user records into one Kinesis record to get past the per-record
//! throughput limits of a shard. Such a record's data is the magic bytes `F3 89 9A C2`, a
//! protobuf `AggregatedRecord`, and the 16-byte MD5 digest of that protobuf:
//!
//! ```text
//! message AggregatedRecord {
//!   repeated string partition_key_table     = 1;
//!   repeated string explicit_hash_key_table = 2;
//!   repeated Record records                 = 3;
//! }
//! message Record {
//!   required uint64 partition_key_index     = 1;
//!   optional uint64 explicit_hash_key_index = 2;
//!   required bytes  data                    = 3;
//!   repeated Tag    tags                    = 4;
//! }
//! message Tag { required string key = 1; optional string value = 2; }
//! ```
//!
//! Lambda's event source mapping delivers the Kinesis record as it is, so the processor
//! unpacks it here. The protobuf is decoded by hand (it is three small messages), borrowing
//! every key and payload from the input: de-aggregating costs one `Vec` of slices.
//!
//! # What the processor relies on
//!
//! - The n-th user record (0-based, [`UserRecord::sub_sequence_number`]) is addressed as
//!   the Kinesis eventID with `:n` appended (docs/design.md, "Record identity"). The index is the record's position
//!   in the aggregate, which the producer fixed when it sealed the digest, so a replay or a
//!   Lambda retry of the same Kinesis record addresses the same items and overwrites them
//!   instead of duplicating them.
//! - An aggregate with zero user records is valid and yields an empty `Vec`: there is
//!   nothing to store and nothing to dead-letter.
//! - Any input gives `Ok` or `Err`, never a panic: every read is bounds-checked and every
//!   length is checked before it is used.
//! - A damaged aggregate is one [`KplError`] for the whole Kinesis record, which the caller
//!   dead-letters with its original bytes. Its user records cannot be told apart reliably,
//!   and storing some of them would hide the damage.
//!
//! This is stricter than the KCL's and `aws_kinesis_agg`'s de-aggregators, which hand a
//! record whose digest does not match back as one ordinary record. Here data with the
//! magic prefix and a wrong digest is an error: as an ordinary record it would fail JSON
//! validation anyway, and the error says why it was refused.
//!
//! Error offsets count from the first byte of the Kinesis record's data (the first magic
//! byte), so they can be read against the base64 data in the dead letter.

use std::collections::HashMap;

use md5::{Digest, Md5};

/// The bytes every KPL aggregate starts with; data without them is an ordinary record.
pub const MAGIC: [u8; 4] = [0xF3, 0x89, 0x9A, 0xC2];

/// The length of the MD5 digest that ends an aggregate.
const DIGEST_LEN: usize = 16;

/// One user record inside a Kinesis record, as the producer handed it to the KPL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord<'a> {
    /// The payload the producer put; the processor decodes it as one event.
    pub data: &'a [u8],
    /// The partition key the producer gave this user record (the Kinesis record's own
    /// partition key is only the one the KPL chose to route the whole aggregate).
    pub partition_key: &'a str,
    /// The explicit hash key, when the producer routed by hash rather than by key.
    pub explicit_hash_key: Option<&'a str>,
    /// The position in the aggregate (0-based); appended to the Kinesis eventID it gives
    /// the user record an id that is stable across replays and retries.
    pub sub_sequence_number: u64,
}

/// What a Kinesis record's data holds, so the caller handles both kinds in one `match`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deaggregated<'a> {
    /// Not an aggregate (no magic prefix): the data is one ordinary record.
    Single(&'a [u8]),
    /// A valid aggregate: its user records in order; `sub_sequence_number` is the index.
    Aggregate(Vec<UserRecord<'a>>),
}

/// Why data that starts with the KPL magic bytes cannot be read as an aggregate.
///
/// Each variant says what is wrong and where, because the message ends up in the dead
/// letter and is all an operator has to go on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KplError {
    /// The data has the magic prefix but no room for the digest after it.
    #[error(
        "KPL aggregate is {len} bytes, shorter than the {} bytes of its magic prefix and MD5 digest",
        MAGIC.len() + DIGEST_LEN
    )]
    Truncated {
        /// The length of the whole data.
        len: usize,
    },
    /// The MD5 digest does not match the protobuf: the record was damaged on the way, or
    /// was never an aggregate.
    #[error(
        "KPL aggregate's MD5 digest (its last {DIGEST_LEN} bytes) does not match its \
         {protobuf_len}-byte protobuf body at bytes 4..{}",
        4 + protobuf_len
    )]
    BadDigest {
        /// The length of the protobuf body the digest was checked against.
        protobuf_len: usize,
    },
    /// The protobuf under a matching digest is malformed, so the producer wrote it wrong.
    #[error("KPL aggregate's protobuf is malformed at byte {offset}: {reason}")]
    Protobuf {
        /// Where the offending field, tag or length starts.
        offset: usize,
        /// What is wrong there.
        reason: &'static str,
    },
    /// A user record names a partition key past the end of the key table.
    #[error(
        "KPL user record {record} names partition key {index}, but the aggregate's partition \
         key table has {table_len} entries"
    )]
    PartitionKeyIndex {
        /// The user record's position in the aggregate.
        record: u64,
        /// The index it names.
        index: u64,
        /// How many partition keys the aggregate holds.
        table_len: usize,
    },
    /// A user record names an explicit hash key past the end of its table.
    #[error(
        "KPL user record {record} names explicit hash key {index}, but the aggregate's \
         explicit hash key table has {table_len} entries"
    )]
    ExplicitHashKeyIndex {
        /// The user record's position in the aggregate.
        record: u64,
        /// The index it names.
        index: u64,
        /// How many explicit hash keys the aggregate holds.
        table_len: usize,
    },
    /// A user record or tag lacks a field the format requires.
    #[error("KPL user record {record} at byte {offset} has no {field}, which is required")]
    MissingField {
        /// The user record's position in the aggregate.
        record: u64,
        /// The field that is missing.
        field: &'static str,
        /// Where the user record (or its tag) starts.
        offset: usize,
    },
    /// An entry of a key table is not UTF-8, so it cannot be a partition or hash key.
    #[error(
        "KPL aggregate's {table} {entry} at byte {offset} is not UTF-8 \
         (invalid from byte {invalid_at})"
    )]
    NotUtf8 {
        /// Which table: `partition key` or `explicit hash key`.
        table: &'static str,
        /// The entry's index in its table.
        entry: usize,
        /// Where the key's bytes start.
        offset: usize,
        /// Where the first invalid byte is.
        invalid_at: usize,
    },
}

/// Unpacks a Kinesis record's data, so the caller never needs to know the format.
///
/// Data without the magic prefix is a [`Deaggregated::Single`], whatever else it holds.
/// Data with the prefix must be a whole, undamaged aggregate, or the answer is an `Err`.
pub fn deaggregate(data: &[u8]) -> Result<Deaggregated<'_>, KplError> {
    if !data.starts_with(&MAGIC) {
        return Ok(Deaggregated::Single(data));
    }
    let Some(protobuf_len) = data.len().checked_sub(MAGIC.len() + DIGEST_LEN) else {
        return Err(KplError::Truncated { len: data.len() });
    };
    let (protobuf, digest) = data[MAGIC.len()..].split_at(protobuf_len);
    if Md5::digest(protobuf).as_slice() != digest {
        return Err(KplError::BadDigest { protobuf_len });
    }
    parse_aggregate(protobuf, MAGIC.len()).map(Deaggregated::Aggregate)
}

/// Builds an aggregate of `(partition key, data)` user records: magic, protobuf, MD5.
///
/// For tests, benchmarks and the producer, which must be able to send what the KPL sends.
/// Repeated partition keys are stored once, as the KPL does. The Kinesis limits (1 MB per
/// record) are the caller's to respect.
pub fn aggregate(records: &[(&str, &[u8])]) -> Vec<u8> {
    let mut key_table: Vec<&str> = Vec::new();
    let mut positions: HashMap<&str, u64> = HashMap::new();
    let key_indexes: Vec<u64> = records
        .iter()
        .map(|&(key, _)| {
            *positions.entry(key).or_insert_with(|| {
                key_table.push(key);
                key_table.len() as u64 - 1
            })
        })
        .collect();

    let record_len = |index: u64, data: &[u8]| 1 + varint_len(index) + bytes_field_len(data.len());
    let protobuf_len: usize = key_table
        .iter()
        .map(|key| bytes_field_len(key.len()))
        .chain(
            records
                .iter()
                .zip(&key_indexes)
                .map(|(&(_, data), &index)| bytes_field_len(record_len(index, data))),
        )
        .sum();

    let mut out = Vec::with_capacity(MAGIC.len() + protobuf_len + DIGEST_LEN);
    out.extend_from_slice(&MAGIC);
    for key in &key_table {
        put_bytes(&mut out, 1, key.as_bytes());
    }
    for (&(_, data), &index) in records.iter().zip(&key_indexes) {
        put_tag(&mut out, 3, WIRE_LEN);
        put_varint(&mut out, record_len(index, data) as u64);
        put_tag(&mut out, 1, WIRE_VARINT);
        put_varint(&mut out, index);
        put_bytes(&mut out, 3, data);
    }
    let digest = Md5::digest(&out[MAGIC.len()..]);
    out.extend_from_slice(&digest);
    out
}

const WIRE_VARINT: u64 = 0;
const WIRE_FIXED64: u64 = 1;
const WIRE_LEN: u64 = 2;
const WIRE_FIXED32: u64 = 5;

/// The encoded length of a varint.
fn varint_len(value: u64) -> usize {
    (64 - (value | 1).leading_zeros() as usize).div_ceil(7)
}

/// The encoded length of a length-delimited field (one-byte tag) with `len` bytes.
fn bytes_field_len(len: usize) -> usize {
    1 + varint_len(len as u64) + len
}

fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn put_tag(out: &mut Vec<u8>, field: u64, wire_type: u64) {
    put_varint(out, (field << 3) | wire_type);
}

fn put_bytes(out: &mut Vec<u8>, field: u64, bytes: &[u8]) {
    put_tag(out, field, WIRE_LEN);
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// A protobuf field's value, with what the parser needs to check it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Value<'a> {
    Varint(u64),
    /// A length-delimited value and the absolute offset of its first byte.
    Bytes(&'a [u8], usize),
    /// A fixed32 or fixed64 value; nothing in the format uses one.
    Fixed,
}

/// One field as read: where it starts, its number, its value.
#[derive(Debug, Clone, Copy)]
struct Field<'a> {
    offset: usize,
    number: u64,
    value: Value<'a>,
}

/// Reads the fields of one protobuf message, never past its end.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    /// The absolute offset of `buf[0]`, for error messages.
    base: usize,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8], base: usize) -> Reader<'a> {
        Reader { buf, pos: 0, base }
    }

    fn error_at(&self, pos: usize, reason: &'static str) -> KplError {
        KplError::Protobuf {
            offset: self.base + pos,
            reason,
        }
    }

    fn varint(&mut self) -> Result<u64, KplError> {
        let start = self.pos;
        let mut value: u64 = 0;
        for shift in (0..64).step_by(7) {
            let Some(&byte) = self.buf.get(self.pos) else {
                return Err(self.error_at(start, "varint runs past the end of its message"));
            };
            self.pos += 1;
            // The tenth byte holds bit 63 only.
            if shift == 63 && byte > 1 {
                return Err(self.error_at(start, "varint overflows 64 bits"));
            }
            value |= u64::from(byte & 0x7F) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(self.error_at(start, "varint is longer than 10 bytes"))
    }

    fn take(&mut self, len: u64, what: &'static str) -> Result<&'a [u8], KplError> {
        let start = self.pos;
        let end = usize::try_from(len)
            .ok()
            .and_then(|len| start.checked_add(len))
            .filter(|&end| end <= self.buf.len());
        let Some(end) = end else {
            return Err(self.error_at(start, what));
        };
        self.pos = end;
        Ok(&self.buf[start..end])
    }

    /// The next field, or `None` at the end of the message.
    fn field(&mut self) -> Result<Option<Field<'a>>, KplError> {
        if self.pos >= self.buf.len() {
            return Ok(None);
        }
        let offset = self.pos;
        let tag = self.varint()?;
        if tag > u64::from(u32::MAX) {
            return Err(self.error_at(offset, "field tag does not fit in 32 bits"));
        }
        let number = tag >> 3;
        if number == 0 {
            return Err(self.error_at(offset, "field number 0 is not allowed"));
        }
        let value = match tag & 7 {
            WIRE_VARINT => Value::Varint(self.varint()?),
            WIRE_FIXED64 => {
                self.take(8, "fixed64 value runs past the end of its message")?;
                Value::Fixed
            }
            WIRE_LEN => {
                let len_at = self.pos;
                let len = self.varint()?;
                let start = self.base + self.pos;
                let bytes = self
                    .take(
                        len,
                        "length-delimited field runs past the end of its message",
                    )
                    .map_err(|_| {
                        self.error_at(len_at, "length runs past the end of its message")
                    })?;
                Value::Bytes(bytes, start)
            }
            WIRE_FIXED32 => {
                self.take(4, "fixed32 value runs past the end of its message")?;
                Value::Fixed
            }
            _ => return Err(self.error_at(offset, "wire type is a group or unknown (3, 4, 6, 7)")),
        };
        Ok(Some(Field {
            offset: self.base + offset,
            number,
            value,
        }))
    }
}

fn wrong_wire_type(field: &Field<'_>, reason: &'static str) -> KplError {
    KplError::Protobuf {
        offset: field.offset,
        reason,
    }
}

/// Reads the top-level message; records are resolved only after the whole message is read,
/// because protobuf allows the key tables to come after the records that use them.
fn parse_aggregate(protobuf: &[u8], base: usize) -> Result<Vec<UserRecord<'_>>, KplError> {
    let mut reader = Reader::new(protobuf, base);
    let mut partition_keys: Vec<&str> = Vec::new();
    let mut hash_keys: Vec<&str> = Vec::new();
    let mut raw_records: Vec<(&[u8], usize)> = Vec::new();
    while let Some(field) = reader.field()? {
        match (field.number, field.value) {
            (1, Value::Bytes(key, at)) => {
                partition_keys.push(key_str(key, at, "partition key", partition_keys.len())?)
            }
            (2, Value::Bytes(key, at)) => {
                hash_keys.push(key_str(key, at, "explicit hash key", hash_keys.len())?)
            }
            (3, Value::Bytes(record, at)) => raw_records.push((record, at)),
            (1..=3, _) => {
                return Err(wrong_wire_type(
                    &field,
                    "aggregate field is not length-delimited",
                ))
            }
            _ => {} // unknown fields are skipped, as protobuf requires
        }
    }
    let tables = KeyTables {
        partition: &partition_keys,
        hash: &hash_keys,
    };
    raw_records
        .into_iter()
        .zip(0u64..)
        .map(|((raw, at), index)| parse_record(index, raw, at, &tables))
        .collect()
}

/// The aggregate's key tables, which user records name by index.
struct KeyTables<'t, 'a> {
    partition: &'t [&'a str],
    hash: &'t [&'a str],
}

fn parse_record<'a>(
    record: u64,
    raw: &'a [u8],
    base: usize,
    tables: &KeyTables<'_, 'a>,
) -> Result<UserRecord<'a>, KplError> {
    let mut reader = Reader::new(raw, base);
    let (mut key_index, mut hash_index, mut data) = (None, None, None);
    // Protobuf lets a repeated scalar field appear more than once; the last one wins.
    while let Some(field) = reader.field()? {
        match (field.number, field.value) {
            (1, Value::Varint(v)) => key_index = Some(v),
            (2, Value::Varint(v)) => hash_index = Some(v),
            (3, Value::Bytes(bytes, _)) => data = Some(bytes),
            (4, Value::Bytes(tag, at)) => check_tag(record, tag, at)?,
            (1 | 2, _) => return Err(wrong_wire_type(&field, "key index is not a varint")),
            (3 | 4, _) => {
                return Err(wrong_wire_type(
                    &field,
                    "record field is not length-delimited",
                ))
            }
            _ => {}
        }
    }
    let missing = |field| KplError::MissingField {
        record,
        field,
        offset: base,
    };
    let key_index = key_index.ok_or_else(|| missing("partition_key_index"))?;
    let data = data.ok_or_else(|| missing("data"))?;
    let partition_key = lookup(tables.partition, key_index).ok_or(KplError::PartitionKeyIndex {
        record,
        index: key_index,
        table_len: tables.partition.len(),
    })?;
    let explicit_hash_key = match hash_index {
        None => None,
        Some(index) => Some(
            lookup(tables.hash, index).ok_or(KplError::ExplicitHashKeyIndex {
                record,
                index,
                table_len: tables.hash.len(),
            })?,
        ),
    };
    Ok(UserRecord {
        data,
        partition_key,
        explicit_hash_key,
        sub_sequence_number: record,
    })
}

/// Checks a tag is well-formed. The processor has no use for tags, but a malformed one
/// means the producer wrote the aggregate wrong, which the KPL's own parser refuses too.
fn check_tag(record: u64, tag: &[u8], base: usize) -> Result<(), KplError> {
    let mut reader = Reader::new(tag, base);
    let mut has_key = false;
    while let Some(field) = reader.field()? {
        match (field.number, field.value) {
            (1, Value::Bytes(..)) => has_key = true,
            (2, Value::Bytes(..)) => {}
            (1 | 2, _) => {
                return Err(wrong_wire_type(
                    &field,
                    "tag key or value is not length-delimited",
                ))
            }
            _ => {}
        }
    }
    if has_key {
        Ok(())
    } else {
        Err(KplError::MissingField {
            record,
            field: "tag key",
            offset: base,
        })
    }
}

fn lookup<'a>(table: &[&'a str], index: u64) -> Option<&'a str> {
    usize::try_from(index)
        .ok()
        .and_then(|i| table.get(i))
        .copied()
}

fn key_str<'a>(
    bytes: &'a [u8],
    offset: usize,
    table: &'static str,
    entry: usize,
) -> Result<&'a str, KplError> {
    std::str::from_utf8(bytes).map_err(|err| KplError::NotUtf8 {
        table,
        entry,
        offset,
        invalid_at: offset + err.valid_up_to(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Wraps a hand-encoded protobuf in magic and a correct digest.
    fn seal(protobuf: &[u8]) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(protobuf);
        out.extend_from_slice(&Md5::digest(protobuf));
        out
    }

    fn put_uint(out: &mut Vec<u8>, field: u64, value: u64) {
        put_tag(out, field, WIRE_VARINT);
        put_varint(out, value);
    }

    fn users(data: &[u8]) -> Vec<UserRecord<'_>> {
        match deaggregate(data) {
            Ok(Deaggregated::Aggregate(users)) => users,
            other => panic!("expected an aggregate, got {other:?}"),
        }
    }

    /// An aggregate with one key `k` and one record built by `record`.
    fn one_record(record: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
        let mut body = Vec::new();
        record(&mut body);
        let mut protobuf = Vec::new();
        put_bytes(&mut protobuf, 1, b"k");
        put_bytes(&mut protobuf, 3, &body);
        seal(&protobuf)
    }

    #[test]
    fn varints_of_one_to_ten_bytes_decode() {
        for (value, len) in [
            (0u64, 1),
            (1, 1),
            (127, 1),
            (128, 2),
            (300, 2),
            (u64::from(u32::MAX), 5),
            (1 << 63, 10),
            (u64::MAX, 10),
        ] {
            let mut buf = Vec::new();
            put_varint(&mut buf, value);
            assert_eq!(buf.len(), len, "{value}");
            assert_eq!(varint_len(value), len, "{value}");
            let mut reader = Reader::new(&buf, 0);
            assert_eq!(reader.varint(), Ok(value));
            assert_eq!(reader.pos, len);
        }
        let max = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01];
        assert_eq!(Reader::new(&max, 0).varint(), Ok(u64::MAX));
        // Non-canonical (padded) encodings within 10 bytes are valid protobuf.
        assert_eq!(Reader::new(&[0x80, 0x00], 0).varint(), Ok(0));
    }

    #[test]
    fn bad_varints_are_errors_at_their_start() {
        let protobuf_error = |offset, reason| Err(KplError::Protobuf { offset, reason });
        let mut unterminated = Reader::new(&[0x80, 0x80], 7);
        assert_eq!(
            unterminated.varint(),
            protobuf_error(7, "varint runs past the end of its message")
        );
        assert_eq!(
            Reader::new(&[], 0).varint(),
            protobuf_error(0, "varint runs past the end of its message")
        );
        assert_eq!(
            Reader::new(&[0x80; 11], 0).varint(),
            protobuf_error(0, "varint overflows 64 bits")
        );
        let overflow = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02];
        assert_eq!(
            Reader::new(&overflow, 0).varint(),
            protobuf_error(0, "varint overflows 64 bits")
        );
        let overlong = [
            0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x81, 0x00,
        ];
        assert!(Reader::new(&overlong, 0).varint().is_err());
    }

    #[test]
    fn aggregates_round_trip() {
        let keys = ["ü-schlüssel", "k2", "🔑"];
        for count in [0usize, 1, 2, 100] {
            let payloads: Vec<Vec<u8>> = (0..count)
                .map(|i| format!("{{\"record\":{i}}}").into_bytes())
                .collect();
            let records: Vec<(&str, &[u8])> = payloads
                .iter()
                .enumerate()
                .map(|(i, p)| (keys[i % 3], p.as_slice()))
                .collect();
            let packed = aggregate(&records);
            let users = users(&packed);
            assert_eq!(users.len(), count);
            for (i, user) in users.iter().enumerate() {
                assert_eq!(user.data, payloads[i].as_slice());
                assert_eq!(user.partition_key, keys[i % 3]);
                assert_eq!(user.sub_sequence_number, i as u64);
                assert_eq!(user.explicit_hash_key, None);
            }
        }
    }

    #[test]
    fn empty_data_and_empty_keys_round_trip() {
        let packed = aggregate(&[("k", b""), ("", b"x")]);
        let users = users(&packed);
        assert_eq!((users[0].partition_key, users[0].data), ("k", &b""[..]));
        assert_eq!((users[1].partition_key, users[1].data), ("", &b"x"[..]));
    }

    #[test]
    fn an_empty_aggregate_is_valid_and_has_no_records() {
        let packed = aggregate(&[]);
        assert_eq!(packed.len(), MAGIC.len() + DIGEST_LEN);
        assert_eq!(deaggregate(&packed), Ok(Deaggregated::Aggregate(vec![])));
    }

    #[test]
    fn shared_partition_keys_are_stored_once() {
        let data = [0u8; 4];
        let records: Vec<(&str, &[u8])> = (0..50).map(|_| ("same-key", &data[..])).collect();
        let packed = aggregate(&records);
        let occurrences = packed.windows(8).filter(|w| w == b"same-key").count();
        assert_eq!(occurrences, 1);
        assert!(users(&packed).iter().all(|u| u.partition_key == "same-key"));
    }

    #[test]
    fn large_records_have_multi_byte_lengths() {
        let big = vec![7u8; 300_000];
        let packed = aggregate(&[("k", &big), ("k", b"small")]);
        let users = users(&packed);
        assert_eq!(users[0].data, big.as_slice());
        assert_eq!(users[1].data, b"small");
    }

    #[test]
    fn data_and_keys_borrow_from_the_input() {
        let packed = aggregate(&[("key", b"payload")]);
        let users = users(&packed);
        let range = packed.as_ptr_range();
        assert!(range.contains(&users[0].data.as_ptr()));
        assert!(range.contains(&users[0].partition_key.as_ptr()));
    }

    #[test]
    fn non_aggregates_pass_through_whole() {
        for data in [
            &b"{\"userId\":\"u1\"}"[..],
            b"",
            &MAGIC[..1],
            &MAGIC[..3],
            &[
                0xF3, 0x89, 0x9A, 0xC3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            ],
            &[0xC2, 0x9A, 0x89, 0xF3],
        ] {
            assert_eq!(deaggregate(data), Ok(Deaggregated::Single(data)));
        }
    }

    #[test]
    fn explicit_hash_keys_tags_and_unknown_fields_are_read() {
        let mut tag = Vec::new();
        put_bytes(&mut tag, 1, b"tag-key");
        put_bytes(&mut tag, 2, b"tag-value");
        put_bytes(&mut tag, 15, b"unknown in tag");

        let mut first = Vec::new();
        put_uint(&mut first, 1, 1);
        put_uint(&mut first, 2, 0);
        put_bytes(&mut first, 3, b"payload");
        put_bytes(&mut first, 4, &tag);
        put_bytes(&mut first, 4, &tag);
        put_tag(&mut first, 9, WIRE_FIXED32);
        first.extend_from_slice(&[1, 2, 3, 4]);
        put_tag(&mut first, 10, WIRE_FIXED64);
        first.extend_from_slice(&[0; 8]);
        put_uint(&mut first, 11, u64::MAX);

        let mut second = Vec::new();
        put_bytes(&mut second, 3, b"second");
        put_uint(&mut second, 1, 0);

        // The records come before the key tables that name them, which protobuf allows.
        let mut protobuf = Vec::new();
        put_bytes(&mut protobuf, 3, &first);
        put_bytes(&mut protobuf, 3, &second);
        put_bytes(&mut protobuf, 1, b"pk-0");
        put_bytes(&mut protobuf, 2, b"340282366920938463463374607431768211455");
        put_bytes(&mut protobuf, 1, b"pk-1");
        put_bytes(&mut protobuf, 99, b"unknown top-level field");

        let sealed = seal(&protobuf);
        assert_eq!(
            users(&sealed),
            vec![
                UserRecord {
                    data: b"payload",
                    partition_key: "pk-1",
                    explicit_hash_key: Some("340282366920938463463374607431768211455"),
                    sub_sequence_number: 0,
                },
                UserRecord {
                    data: b"second",
                    partition_key: "pk-0",
                    explicit_hash_key: None,
                    sub_sequence_number: 1,
                },
            ]
        );
    }

    #[test]
    fn short_aggregates_are_truncated() {
        for len in [4, 5, 19] {
            let mut data = MAGIC.to_vec();
            data.resize(len, 0);
            assert_eq!(deaggregate(&data), Err(KplError::Truncated { len }));
        }
        let err = KplError::Truncated { len: 14 };
        assert_eq!(
            err.to_string(),
            "KPL aggregate is 14 bytes, shorter than the 20 bytes of its magic prefix and MD5 digest"
        );
    }

    #[test]
    fn a_wrong_digest_is_an_error() {
        let mut packed = aggregate(&[("k", b"data")]);
        let last = packed.len() - 1;
        packed[last] ^= 1;
        let protobuf_len = packed.len() - MAGIC.len() - DIGEST_LEN;
        assert_eq!(
            deaggregate(&packed),
            Err(KplError::BadDigest { protobuf_len })
        );
        let mut packed = aggregate(&[("k", b"data")]);
        packed[MAGIC.len() + 4] ^= 0x40;
        assert!(matches!(
            deaggregate(&packed),
            Err(KplError::BadDigest { .. })
        ));
        // Magic and a zero-length protobuf with a digest that is not MD5("").
        let zeros = [MAGIC.as_slice(), &[0; DIGEST_LEN]].concat();
        assert_eq!(
            deaggregate(&zeros),
            Err(KplError::BadDigest { protobuf_len: 0 })
        );
    }

    #[test]
    fn malformed_protobuf_is_an_error_with_its_offset() {
        let cases: [(&[u8], usize, &str); 7] = [
            // A record of 5 bytes with 1 byte left; the length is at byte 5 (magic is 0..4).
            (
                &[0x1A, 0x05, 0x01],
                5,
                "length runs past the end of its message",
            ),
            (&[0x1A], 5, "varint runs past the end of its message"),
            (&[0x0B], 4, "wire type is a group or unknown (3, 4, 6, 7)"),
            (&[0x02, 0x00], 4, "field number 0 is not allowed"),
            (&[0x08, 0x01], 4, "aggregate field is not length-delimited"),
            (
                &[0xFD, 0xFF, 0xFF, 0xFF, 0x7F],
                4,
                "field tag does not fit in 32 bits",
            ),
            // Record: partition_key_index sent length-delimited.
            (&[0x1A, 0x02, 0x0A, 0x00], 6, "key index is not a varint"),
        ];
        for (protobuf, offset, reason) in cases {
            assert_eq!(
                deaggregate(&seal(protobuf)),
                Err(KplError::Protobuf { offset, reason }),
                "{protobuf:02x?}"
            );
        }
        let err = KplError::Protobuf {
            offset: 5,
            reason: "length runs past the end of its message",
        };
        assert_eq!(
            err.to_string(),
            "KPL aggregate's protobuf is malformed at byte 5: length runs past the end of its message"
        );
    }

    #[test]
    fn key_indexes_past_their_table_are_errors() {
        let packed = one_record(|r| {
            put_uint(r, 1, 3);
            put_bytes(r, 3, b"x");
        });
        let err = deaggregate(&packed).unwrap_err();
        assert_eq!(
            err,
            KplError::PartitionKeyIndex {
                record: 0,
                index: 3,
                table_len: 1
            }
        );
        assert_eq!(
            err.to_string(),
            "KPL user record 0 names partition key 3, but the aggregate's partition key table \
             has 1 entries"
        );
        let packed = one_record(|r| {
            put_uint(r, 1, 0);
            put_uint(r, 2, u64::MAX);
            put_bytes(r, 3, b"x");
        });
        assert_eq!(
            deaggregate(&packed),
            Err(KplError::ExplicitHashKeyIndex {
                record: 0,
                index: u64::MAX,
                table_len: 0
            })
        );
    }

    #[test]
    fn non_utf8_keys_are_errors() {
        let mut protobuf = Vec::new();
        put_bytes(&mut protobuf, 1, b"fine");
        put_bytes(&mut protobuf, 1, b"ab\xff");
        let err = deaggregate(&seal(&protobuf)).unwrap_err();
        // "fine" takes bytes 4..10; the second key's bytes start at 12.
        assert_eq!(
            err,
            KplError::NotUtf8 {
                table: "partition key",
                entry: 1,
                offset: 12,
                invalid_at: 14
            }
        );
        assert_eq!(
            err.to_string(),
            "KPL aggregate's partition key 1 at byte 12 is not UTF-8 (invalid from byte 14)"
        );
        let mut protobuf = Vec::new();
        put_bytes(&mut protobuf, 2, b"\xc3");
        assert!(matches!(
            deaggregate(&seal(&protobuf)),
            Err(KplError::NotUtf8 {
                table: "explicit hash key",
                ..
            })
        ));
    }

    #[test]
    fn missing_required_fields_are_errors() {
        let no_data = one_record(|r| put_uint(r, 1, 0));
        assert_eq!(
            deaggregate(&no_data),
            Err(KplError::MissingField {
                record: 0,
                field: "data",
                offset: 9
            })
        );
        let no_key = one_record(|r| put_bytes(r, 3, b"x"));
        assert!(matches!(
            deaggregate(&no_key),
            Err(KplError::MissingField {
                field: "partition_key_index",
                ..
            })
        ));
        let tag_without_key = one_record(|r| {
            put_uint(r, 1, 0);
            put_bytes(r, 3, b"x");
            put_bytes(r, 4, &[0x12, 0x00]); // only a value
        });
        assert!(matches!(
            deaggregate(&tag_without_key),
            Err(KplError::MissingField {
                field: "tag key",
                ..
            })
        ));
    }

    #[test]
    fn the_last_of_repeated_scalar_fields_wins() {
        let packed = one_record(|r| {
            put_uint(r, 1, 5);
            put_bytes(r, 3, b"first");
            put_uint(r, 1, 0);
            put_bytes(r, 3, b"last");
        });
        let users = users(&packed);
        assert_eq!((users[0].partition_key, users[0].data), ("k", &b"last"[..]));
    }
}
