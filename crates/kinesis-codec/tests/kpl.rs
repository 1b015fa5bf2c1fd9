//! Properties of KPL de-aggregation over arbitrary input: it never panics, what
//! `aggregate` builds comes back unchanged, and no damage to an aggregate goes unnoticed.

use kinesis_codec::kpl::{aggregate, deaggregate, Deaggregated, KplError, MAGIC};
use md5::{Digest, Md5};
use proptest::prelude::*;

/// Partition keys: often shared (as a real producer's are), sometimes any Unicode.
fn partition_key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec!["user-1", "user-2", "ü-ß-🔑", ""]).prop_map(String::from),
        any::<String>(),
    ]
}

fn records() -> impl Strategy<Value = Vec<(String, Vec<u8>)>> {
    prop::collection::vec(
        (partition_key(), prop::collection::vec(any::<u8>(), 0..300)),
        0..40,
    )
}

fn borrowed(records: &[(String, Vec<u8>)]) -> Vec<(&str, &[u8])> {
    records
        .iter()
        .map(|(key, data)| (key.as_str(), data.as_slice()))
        .collect()
}

/// Protobuf-shaped bytes: mostly the fields the format uses, with small key indexes and
/// mostly honest lengths, mixed with junk fields of any number and wire type. Sealed with a
/// correct digest they reach the parser, and a good share of them are valid aggregates.
fn protobuf_soup() -> impl Strategy<Value = Vec<u8>> {
    let junk = (
        0u64..12,
        0u64..8,
        prop::collection::vec(any::<u8>(), 0..10),
        any::<bool>(),
    )
        .prop_map(|(number, wire_type, body, honest)| {
            let mut out = Vec::new();
            push_varint(&mut out, number << 3 | wire_type);
            if wire_type == 2 {
                push_varint(&mut out, body.len() as u64 + u64::from(!honest) * 3);
            }
            out.extend_from_slice(&body);
            out
        });
    let key = prop_oneof![
        9 => "[a-z0-9]{0,6}".prop_map(String::into_bytes),
        1 => prop::collection::vec(any::<u8>(), 0..6),
    ];
    let index = prop_oneof![4 => 0u64..3, 1 => any::<u64>()];
    let tag = prop_oneof![
        3 => Just(vec![0x0A, 0x01, b'k', 0x12, 0x00]),
        1 => junk.clone(),
    ];
    let record_field = prop_oneof![
        3 => index.clone().prop_map(|i| varint_field(1, i)),
        1 => index.prop_map(|i| varint_field(2, i)),
        3 => prop::collection::vec(any::<u8>(), 0..8).prop_map(|d| bytes_field(3, &d)),
        1 => tag.prop_map(|t| bytes_field(4, &t)),
        1 => junk.clone(),
    ];
    let record = prop_oneof![
        1 => prop::collection::vec(record_field.clone(), 0..5).prop_map(|f| f.concat()),
        3 => (
            0u64..3,
            prop::collection::vec(any::<u8>(), 0..8),
            prop::collection::vec(record_field, 0..2)
        )
            .prop_map(|(i, data, extra)| {
                [varint_field(1, i), bytes_field(3, &data), extra.concat()].concat()
            }),
    ];
    let top_field = prop_oneof![
        3 => key.clone().prop_map(|k| bytes_field(1, &k)),
        1 => key.prop_map(|k| bytes_field(2, &k)),
        4 => record.prop_map(|r| bytes_field(3, &r)),
        1 => junk,
    ];
    prop::collection::vec(top_field, 0..10).prop_map(|fields| fields.concat())
}

fn varint_field(number: u64, value: u64) -> Vec<u8> {
    let mut out = Vec::new();
    push_varint(&mut out, number << 3);
    push_varint(&mut out, value);
    out
}

fn bytes_field(number: u64, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    push_varint(&mut out, number << 3 | 2);
    push_varint(&mut out, body.len() as u64);
    out.extend_from_slice(body);
    out
}

fn push_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push(value as u8 | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn seal(protobuf: &[u8]) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(protobuf);
    out.extend_from_slice(&Md5::digest(protobuf));
    out
}

/// Every slice an `Ok` hands out lies inside the input: nothing is invented.
fn assert_borrows_from(input: &[u8], result: &Result<Deaggregated<'_>, KplError>) {
    let range = input.as_ptr_range();
    let inside = |slice: &[u8]| {
        slice.is_empty()
            || (range.contains(&slice.as_ptr()) && slice.as_ptr_range().end <= range.end)
    };
    match result {
        Ok(Deaggregated::Single(data)) => assert_eq!(*data, input),
        Ok(Deaggregated::Aggregate(users)) => {
            for (i, user) in users.iter().enumerate() {
                assert_eq!(user.sub_sequence_number, i as u64);
                assert!(inside(user.data));
                assert!(inside(user.partition_key.as_bytes()));
                assert!(user.explicit_hash_key.is_none_or(|k| inside(k.as_bytes())));
            }
        }
        Err(_) => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn kpl_arbitrary_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..512)) {
        let result = deaggregate(&data);
        if !data.starts_with(&MAGIC) {
            prop_assert_eq!(&result, &Ok(Deaggregated::Single(&data)));
        }
        assert_borrows_from(&data, &result);
    }

    #[test]
    fn kpl_arbitrary_bytes_after_the_magic_never_panic(
        rest in prop::collection::vec(any::<u8>(), 0..512),
    ) {
        let data = [MAGIC.as_slice(), &rest].concat();
        let result = deaggregate(&data);
        let passed_through = matches!(result, Ok(Deaggregated::Single(_)));
        prop_assert!(!passed_through);
        assert_borrows_from(&data, &result);
    }

    #[test]
    fn kpl_arbitrary_protobuf_under_a_correct_digest_never_panics(
        protobuf in prop_oneof![protobuf_soup(), prop::collection::vec(any::<u8>(), 0..256)],
    ) {
        let data = seal(&protobuf);
        let result = deaggregate(&data);
        let stopped_before_parsing =
            matches!(result, Err(KplError::BadDigest { .. } | KplError::Truncated { .. }));
        prop_assert!(!stopped_before_parsing);
        assert_borrows_from(&data, &result);
    }

    #[test]
    fn kpl_record_sets_round_trip(records in records()) {
        let packed = aggregate(&borrowed(&records));
        let Ok(Deaggregated::Aggregate(users)) = deaggregate(&packed) else {
            panic!("aggregate() built something deaggregate() refuses");
        };
        prop_assert_eq!(users.len(), records.len());
        for (i, (user, (key, data))) in users.iter().zip(&records).enumerate() {
            prop_assert_eq!(user.data, data.as_slice());
            prop_assert_eq!(user.partition_key, key.as_str());
            prop_assert_eq!(user.explicit_hash_key, None);
            prop_assert_eq!(user.sub_sequence_number, i as u64);
        }
    }

    #[test]
    fn kpl_any_single_byte_flip_is_noticed(
        records in records(),
        position in any::<prop::sample::Index>(),
        mask in 1u8..=255,
    ) {
        let mut packed = aggregate(&borrowed(&records));
        let at = position.index(packed.len());
        packed[at] ^= mask;
        let result = deaggregate(&packed);
        if at < MAGIC.len() {
            // Without its magic the data is an ordinary record, handed on whole and
            // unchanged, which then fails validation as the bytes it is.
            prop_assert_eq!(result, Ok(Deaggregated::Single(&packed)));
        } else {
            let noticed = matches!(result, Err(KplError::BadDigest { .. }));
            prop_assert!(
                noticed,
                "flipping byte {} with {:#04x} gave {:?}", at, mask, result
            );
        }
    }

    #[test]
    fn kpl_truncating_an_aggregate_is_noticed(
        records in records(),
        cut in any::<prop::sample::Index>(),
    ) {
        let packed = aggregate(&borrowed(&records));
        let len = MAGIC.len() + cut.index(packed.len() - MAGIC.len());
        prop_assert!(deaggregate(&packed[..len]).is_err());
    }
}
