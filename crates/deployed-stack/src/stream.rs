//! Records of the stack's stream as GetRecords returns them, in the shape the codec and
//! Lambda's event carry, and the order of their sequence numbers.

use std::cmp::Ordering;

use kinesis_codec::record::StreamRecord;

/// Orders two Kinesis sequence numbers: decimal integers of up to 128 bits, longer than a
/// `u64`, so compared by length and then digit by digit (leading zeros ignored).
pub fn compare_sequence(a: &str, b: &str) -> Ordering {
    let a = a.trim_start_matches('0');
    let b = b.trim_start_matches('0');
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// A record of `shard` as GetRecords returns it.
pub fn record_of(shard: &str, record: &aws_sdk_kinesis::types::Record) -> StreamRecord {
    StreamRecord {
        shard_id: shard.to_owned(),
        sequence_number: record.sequence_number().to_owned(),
        partition_key: record.partition_key().unwrap_or_default().to_owned(),
        data: record.data().as_ref().to_vec(),
        arrival_ms: record
            .approximate_arrival_timestamp()
            .and_then(|t| t.to_millis().ok())
            .unwrap_or(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_kinesis::primitives::{Blob, DateTime};

    #[test]
    fn sequence_numbers_compare_as_numbers_not_as_text() {
        assert_eq!(compare_sequence("9", "10"), Ordering::Less);
        assert_eq!(compare_sequence("0010", "10"), Ordering::Equal);
        let long = "49590338271490256608559692538361571095921575989136588898";
        let longer = "49590338271490256608559692538361571095921575989136588899";
        assert_eq!(compare_sequence(long, longer), Ordering::Less);
        assert_eq!(compare_sequence(longer, "5"), Ordering::Greater);
    }

    #[test]
    fn a_record_keeps_its_identity_and_arrival_to_the_millisecond() {
        let record = aws_sdk_kinesis::types::Record::builder()
            .sequence_number("4960")
            .partition_key("user-1")
            .data(Blob::new(b"{}".to_vec()))
            .approximate_arrival_timestamp(DateTime::from_millis(1_700_000_000_690))
            .build()
            .unwrap();
        let got = record_of("shardId-000000000001", &record);
        assert_eq!(got.event_id(), "shardId-000000000001:4960");
        assert_eq!(got.arrival_ms, 1_700_000_000_690);
        assert_eq!(got.data, b"{}");
    }
}
