//! De-aggregation of Kinesis Producer Library (KPL) aggregated records.
//!
//! The KPL packs many user records into one Kinesis record: the magic bytes `F3 89 9A C2`,
//! a protobuf `AggregatedRecord`, and the MD5 digest of that protobuf. Lambda delivers the
//! Kinesis record as it is, so the processor unpacks it here. The n-th user record is
//! addressed as the Kinesis eventID with `:n` appended (DESIGN.md), so replays and retries
//! of an aggregate write the same items.
//!
//! Everything borrows from the input and every read is bounds-checked: any input gives
//! `Ok` or `Err`, never a panic. A corrupt aggregate is one error for the whole record,
//! which the caller dead-letters, because its user records cannot be told apart.

use md5::{Digest, Md5};

/// The bytes every KPL aggregate starts with.
pub const MAGIC: [u8; 4] = [0xF3, 0x89, 0x9A, 0xC2];
const DIGEST_LEN: usize = 16;

/// One user record inside a Kinesis record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord<'a> {
    /// The user record's payload.
    pub data: &'a [u8],
    /// Its partition key, from the aggregate's key table.
    pub partition_key: &'a str,
    /// Its explicit hash key, when the producer set one.
    pub explicit_hash_key: Option<&'a str>,
    /// Its index in the aggregate (0-based).
    pub sub_sequence_number: u64,
}

/// What a Kinesis record's data holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deaggregated<'a> {
    /// Not an aggregate: the data is one ordinary record.
    Single(&'a [u8]),
    /// A valid aggregate and its user records in order.
    Aggregate(Vec<UserRecord<'a>>),
}

/// Why an aggregate cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KplError {
    /// Magic bytes but no room for a digest.
    #[error("aggregate of {0} bytes is shorter than its magic bytes and digest")]
    Truncated(usize),
    /// The MD5 trailer does not match the protobuf: the record was damaged.
    #[error("aggregate digest does not match its content")]
    BadDigest,
    /// The protobuf is malformed.
    #[error("aggregate protobuf is malformed at byte {offset}: {reason}")]
    Protobuf {
        /// Offset in the protobuf message.
        offset: usize,
        /// What was wrong.
        reason: &'static str,
    },
    /// A user record names a key outside the key table.
    #[error("user record {record} names {table} key {index}, but the table has {len}")]
    KeyIndex {
        /// The user record's index.
        record: usize,
        /// Which table.
        table: &'static str,
        /// The index it names.
        index: u64,
        /// The table's length.
        len: usize,
    },
    /// A user record lacks its required partition key index or data.
    #[error("user record {0} lacks its partition key index or data")]
    MissingField(usize),
    /// A key is not UTF-8.
    #[error("a key in the aggregate's key table is not UTF-8")]
    NotUtf8,
}

/// Unpacks `data`; data without the magic prefix is a [`Deaggregated::Single`].
pub fn deaggregate(data: &[u8]) -> Result<Deaggregated<'_>, KplError> {
    if !data.starts_with(&MAGIC) {
        return Ok(Deaggregated::Single(data));
    }
    if data.len() < MAGIC.len() + DIGEST_LEN {
        return Err(KplError::Truncated(data.len()));
    }
    let (message, digest) = data[MAGIC.len()..].split_at(data.len() - MAGIC.len() - DIGEST_LEN);
    if Md5::digest(message).as_slice() != digest {
        return Err(KplError::BadDigest);
    }
    parse_aggregate(message).map(Deaggregated::Aggregate)
}

/// Builds an aggregate of `(partition key, data)` records: magic, protobuf and MD5. For
/// tests, benchmarks and producers that want to send aggregates.
pub fn aggregate(records: &[(&str, &[u8])]) -> Vec<u8> {
    let mut keys: Vec<&str> = Vec::new();
    let mut message = Vec::new();
    let mut bodies = Vec::new();
    for (key, data) in records {
        let index = keys.iter().position(|k| k == key).unwrap_or_else(|| {
            keys.push(key);
            keys.len() - 1
        });
        let mut body = Vec::new();
        put_varint(&mut body, 1 << 3); // partition_key_index, varint
        put_varint(&mut body, index as u64);
        put_bytes(&mut body, 3, data);
        bodies.push(body);
    }
    for key in &keys {
        put_bytes(&mut message, 1, key.as_bytes());
    }
    for body in &bodies {
        put_bytes(&mut message, 3, body);
    }
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&message);
    out.extend_from_slice(&Md5::digest(&message));
    out
}

fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn put_bytes(out: &mut Vec<u8>, field: u64, bytes: &[u8]) {
    put_varint(out, (field << 3) | 2);
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// A protobuf field: its number and value.
enum Field<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Other,
}

/// Reads protobuf fields one after another.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader { buf, pos: 0 }
    }

    fn error(&self, reason: &'static str) -> KplError {
        KplError::Protobuf {
            offset: self.pos,
            reason,
        }
    }

    fn varint(&mut self) -> Result<u64, KplError> {
        let mut value: u64 = 0;
        for shift in (0..64).step_by(7) {
            let Some(&byte) = self.buf.get(self.pos) else {
                return Err(self.error("varint runs past the end"));
            };
            self.pos += 1;
            if shift == 63 && byte > 1 {
                return Err(self.error("varint overflows 64 bits"));
            }
            value |= u64::from(byte & 0x7F) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(self.error("varint longer than 10 bytes"))
    }

    fn take(&mut self, len: u64) -> Result<&'a [u8], KplError> {
        let end = usize::try_from(len)
            .ok()
            .and_then(|len| self.pos.checked_add(len));
        match end {
            Some(end) if end <= self.buf.len() => {
                let slice = &self.buf[self.pos..end];
                self.pos = end;
                Ok(slice)
            }
            _ => Err(self.error("length runs past the end")),
        }
    }

    /// The next field, or `None` at the end.
    fn next(&mut self) -> Result<Option<(u64, Field<'a>)>, KplError> {
        if self.pos >= self.buf.len() {
            return Ok(None);
        }
        let tag = self.varint()?;
        let number = tag >> 3;
        let field = match tag & 7 {
            0 => Field::Varint(self.varint()?),
            1 => {
                self.take(8)?;
                Field::Other
            }
            2 => {
                let len = self.varint()?;
                Field::Bytes(self.take(len)?)
            }
            5 => {
                self.take(4)?;
                Field::Other
            }
            _ => return Err(self.error("unsupported wire type")),
        };
        if number == 0 {
            return Err(self.error("field number 0"));
        }
        Ok(Some((number, field)))
    }
}

fn parse_aggregate(message: &[u8]) -> Result<Vec<UserRecord<'_>>, KplError> {
    let mut reader = Reader::new(message);
    let mut partition_keys: Vec<&str> = Vec::new();
    let mut hash_keys: Vec<&str> = Vec::new();
    let mut raw_records: Vec<&[u8]> = Vec::new();
    while let Some((number, field)) = reader.next()? {
        match (number, field) {
            (1, Field::Bytes(key)) => partition_keys.push(utf8(key)?),
            (2, Field::Bytes(key)) => hash_keys.push(utf8(key)?),
            (3, Field::Bytes(record)) => raw_records.push(record),
            (1..=3, _) => return Err(reader.error("field has the wrong wire type")),
            _ => {}
        }
    }
    raw_records
        .into_iter()
        .enumerate()
        .map(|(index, raw)| parse_record(index, raw, &partition_keys, &hash_keys))
        .collect()
}

fn parse_record<'a>(
    index: usize,
    raw: &'a [u8],
    partition_keys: &[&'a str],
    hash_keys: &[&'a str],
) -> Result<UserRecord<'a>, KplError> {
    let mut reader = Reader::new(raw);
    let (mut key_index, mut hash_index, mut data) = (None, None, None);
    while let Some((number, field)) = reader.next()? {
        match (number, field) {
            (1, Field::Varint(v)) => key_index = Some(v),
            (2, Field::Varint(v)) => hash_index = Some(v),
            (3, Field::Bytes(bytes)) => data = Some(bytes),
            (1..=3, _) => return Err(reader.error("record field has the wrong wire type")),
            _ => {} // tags (field 4) and unknown fields carry nothing the processor uses
        }
    }
    let (Some(key_index), Some(data)) = (key_index, data) else {
        return Err(KplError::MissingField(index));
    };
    let lookup = |table: &'static str, keys: &[&'a str], i: u64| {
        usize::try_from(i)
            .ok()
            .and_then(|i| keys.get(i).copied())
            .ok_or(KplError::KeyIndex {
                record: index,
                table,
                index: i,
                len: keys.len(),
            })
    };
    Ok(UserRecord {
        data,
        partition_key: lookup("partition", partition_keys, key_index)?,
        explicit_hash_key: hash_index
            .map(|i| lookup("explicit hash", hash_keys, i))
            .transpose()?,
        sub_sequence_number: index as u64,
    })
}

fn utf8(bytes: &[u8]) -> Result<&str, KplError> {
    std::str::from_utf8(bytes).map_err(|_| KplError::NotUtf8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seal(message: &[u8]) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(message);
        out.extend_from_slice(&Md5::digest(message));
        out
    }

    #[test]
    fn plain_data_passes_through() {
        assert_eq!(
            deaggregate(b"{\"a\":1}"),
            Ok(Deaggregated::Single(b"{\"a\":1}".as_slice()))
        );
        assert_eq!(
            deaggregate(&MAGIC[..3]),
            Ok(Deaggregated::Single(&MAGIC[..3]))
        );
        assert_eq!(deaggregate(b""), Ok(Deaggregated::Single(b"".as_slice())));
    }

    #[test]
    fn aggregates_round_trip() {
        for count in [0usize, 1, 2, 100] {
            let payloads: Vec<Vec<u8>> = (0..count)
                .map(|i| format!("record {i}").into_bytes())
                .collect();
            let keys = ["ü-key", "k2", "k3"];
            let records: Vec<(&str, &[u8])> = payloads
                .iter()
                .enumerate()
                .map(|(i, p)| (keys[i % 3], p.as_slice()))
                .collect();
            let packed = aggregate(&records);
            let Ok(Deaggregated::Aggregate(users)) = deaggregate(&packed) else {
                panic!("not an aggregate")
            };
            assert_eq!(users.len(), count);
            for (i, user) in users.iter().enumerate() {
                assert_eq!(user.data, payloads[i].as_slice());
                assert_eq!(user.partition_key, keys[i % 3]);
                assert_eq!(user.sub_sequence_number, i as u64);
                assert_eq!(user.explicit_hash_key, None);
            }
        }
        let empty_data = aggregate(&[("k", b"")]);
        assert!(
            matches!(deaggregate(&empty_data), Ok(Deaggregated::Aggregate(u)) if u[0].data.is_empty())
        );
    }

    #[test]
    fn explicit_hash_keys_tags_and_unknown_fields_are_read() {
        let mut record = Vec::new();
        put_varint(&mut record, 1 << 3);
        put_varint(&mut record, 0);
        put_varint(&mut record, 2 << 3);
        put_varint(&mut record, 0);
        put_bytes(&mut record, 3, b"payload");
        let mut tag = Vec::new();
        put_bytes(&mut tag, 1, b"tag-key");
        put_bytes(&mut record, 4, &tag);
        put_varint(&mut record, (9 << 3) | 5);
        record.extend_from_slice(&[1, 2, 3, 4]);
        let mut message = Vec::new();
        put_bytes(&mut message, 1, b"pk");
        put_bytes(&mut message, 2, b"12345");
        put_bytes(&mut message, 3, &record);
        let sealed = seal(&message);
        let Ok(Deaggregated::Aggregate(users)) = deaggregate(&sealed) else {
            panic!("not an aggregate")
        };
        assert_eq!(users[0].data, b"payload");
        assert_eq!(users[0].explicit_hash_key, Some("12345"));
    }

    #[test]
    fn varints_of_every_length_decode() {
        for value in [0u64, 1, 127, 128, 300, u64::from(u32::MAX), u64::MAX] {
            let mut buf = Vec::new();
            put_varint(&mut buf, value);
            assert_eq!(Reader::new(&buf).varint(), Ok(value));
        }
        assert!(Reader::new(&[0x80, 0x80]).varint().is_err(), "unterminated");
        assert!(Reader::new(&[0xFF; 11]).varint().is_err(), "too long");
        assert!(
            Reader::new(&[0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02])
                .varint()
                .is_err(),
            "overflow"
        );
    }

    #[test]
    fn damaged_aggregates_are_errors() {
        assert_eq!(
            deaggregate(&[MAGIC.as_slice(), &[0; 10]].concat()),
            Err(KplError::Truncated(14))
        );
        let mut bad = aggregate(&[("k", b"data")]);
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert_eq!(deaggregate(&bad), Err(KplError::BadDigest));
        assert!(matches!(
            deaggregate(&seal(&[0x1A, 0x05, 0x01])),
            Err(KplError::Protobuf { .. })
        ));
        let mut record = Vec::new();
        put_varint(&mut record, 1 << 3);
        put_varint(&mut record, 3);
        put_bytes(&mut record, 3, b"x");
        let mut message = Vec::new();
        put_bytes(&mut message, 1, b"only-key");
        put_bytes(&mut message, 3, &record);
        assert!(matches!(
            deaggregate(&seal(&message)),
            Err(KplError::KeyIndex {
                index: 3,
                len: 1,
                ..
            })
        ));
        let mut non_utf8 = Vec::new();
        put_bytes(&mut non_utf8, 1, &[0xff]);
        assert_eq!(deaggregate(&seal(&non_utf8)), Err(KplError::NotUtf8));
        let mut no_data = Vec::new();
        put_varint(&mut no_data, 1 << 3);
        put_varint(&mut no_data, 0);
        let mut message = Vec::new();
        put_bytes(&mut message, 1, b"k");
        put_bytes(&mut message, 3, &no_data);
        assert_eq!(deaggregate(&seal(&message)), Err(KplError::MissingField(0)));
    }
}
