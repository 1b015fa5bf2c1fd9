//! DynamoDB attribute values, independent of any AWS SDK, with DynamoDB's rules for sizes
//! and numbers. An item reads its values in place ([`AttrRef`](crate::AttrRef)); an
//! [`AttrValue`] is a value of its own.

use std::borrow::Cow;

/// One attribute value: a parsed document ([`json::parse`](crate::json::parse)), an item's
/// attribute made a value ([`AttrRef::to_value`](crate::AttrRef::to_value)), or one taken
/// out of an item ([`Item::into_attributes`](crate::Item::into_attributes)).
///
/// Strings may borrow from the text they were read from (a string without escapes, a
/// number) or be owned; [`AttrValue::into_owned`] gives a value free of that text
/// (`AttrValue<'static>`). Numbers are their exact decimal text, never rounded through a
/// float, so `0.1000000000000000055511` or `12345678901234567890` reach the table digit
/// for digit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttrValue<'a> {
    /// A string.
    S(Cow<'a, str>),
    /// A number as its exact decimal text (JSON number syntax).
    N(Cow<'a, str>),
    /// A boolean.
    Bool(bool),
    /// JSON null.
    Null,
    /// A map, in the order the source had it (a repeated key keeps its last value).
    M(Vec<(Cow<'a, str>, AttrValue<'a>)>),
    /// A list.
    L(Vec<AttrValue<'a>>),
}

impl AttrValue<'_> {
    /// Bytes DynamoDB counts for this value toward its 400 KB item limit.
    ///
    /// Strings count their UTF-8 length; numbers one byte per two digits plus one (every
    /// digit counted, plus one for a sign: DynamoDB trims zeros, so this never
    /// undercounts); booleans and null one byte; maps and lists three bytes plus, per
    /// element, one byte, the key's length and the element's size.
    pub fn size_bytes(&self) -> usize {
        match self {
            AttrValue::S(s) => s.len(),
            AttrValue::N(n) => number_size(n),
            AttrValue::Bool(_) | AttrValue::Null => 1,
            AttrValue::M(entries) => {
                3 + entries
                    .iter()
                    .map(|(k, v)| 1 + k.len() + v.size_bytes())
                    .sum::<usize>()
            }
            AttrValue::L(values) => 3 + values.iter().map(|v| 1 + v.size_bytes()).sum::<usize>(),
        }
    }

    /// The same value owning all its text, free of the record it was read from.
    pub fn into_owned(self) -> AttrValue<'static> {
        match self {
            AttrValue::S(s) => AttrValue::S(Cow::Owned(s.into_owned())),
            AttrValue::N(n) => AttrValue::N(Cow::Owned(n.into_owned())),
            AttrValue::Bool(b) => AttrValue::Bool(b),
            AttrValue::Null => AttrValue::Null,
            AttrValue::M(entries) => AttrValue::M(
                entries
                    .into_iter()
                    .map(|(k, v)| (Cow::Owned(k.into_owned()), v.into_owned()))
                    .collect(),
            ),
            AttrValue::L(values) => {
                AttrValue::L(values.into_iter().map(AttrValue::into_owned).collect())
            }
        }
    }
}

/// DynamoDB's size of a number given as JSON number text (conservative, see
/// [`AttrValue::size_bytes`]).
pub(crate) fn number_size(text: &str) -> usize {
    let mut digits: usize = 0;
    let mut sign = 0;
    for b in text.bytes() {
        match b {
            b'0'..=b'9' => digits += 1,
            b'-' => sign = 1,
            b'e' | b'E' => break,
            _ => {}
        }
    }
    mantissa_size(digits, sign == 1)
}

/// [`number_size`] from what a reader already counted: the mantissa's digits (integer and
/// fraction) and whether it is negative.
pub(crate) fn mantissa_size(digits: usize, negative: bool) -> usize {
    digits.div_ceil(2) + 1 + usize::from(negative)
}

/// Whether DynamoDB can store the JSON number `text` exactly: at most 38 significant
/// digits and a magnitude between 1e-130 and 9.99…e125 (or zero). A number outside would
/// make every write of the item fail, so such a record is rejected instead.
pub(crate) fn number_fits(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut i = usize::from(bytes.first() == Some(&b'-'));
    // Position among all mantissa digits (integer then fraction) of the first and last
    // non-zero digit, and how many digits the integer part has.
    let (mut first, mut last, mut count, mut int_len) = (None, 0usize, 0usize, None);
    while let Some(&b) = bytes.get(i) {
        match b {
            b'0'..=b'9' => {
                if b != b'0' {
                    first.get_or_insert(count);
                    last = count;
                }
                count += 1;
            }
            b'.' => int_len = Some(count),
            _ => break,
        }
        i += 1;
    }
    let int_len = int_len.unwrap_or(count);
    let Some(first) = first else {
        return true; // zero, however written
    };
    let mut exponent: i64 = 0;
    if let Some(b'e' | b'E') = bytes.get(i) {
        i += 1;
        let negative = bytes.get(i) == Some(&b'-');
        if let Some(b'+' | b'-') = bytes.get(i) {
            i += 1;
        }
        for &b in bytes.get(i..).unwrap_or_default() {
            exponent = exponent
                .saturating_mul(10)
                .saturating_add(i64::from(b.wrapping_sub(b'0')));
        }
        if negative {
            exponent = -exponent;
        }
    }
    let significant = last - first + 1;
    let magnitude = exponent
        .saturating_add(int_len as i64)
        .saturating_sub(first as i64 + 1);
    significant <= 38 && (-130..=125).contains(&magnitude)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> AttrValue<'_> {
        AttrValue::S(text.into())
    }

    #[test]
    fn sizes_follow_dynamodbs_rules() {
        assert_eq!(s("héllo").size_bytes(), 6);
        assert_eq!(AttrValue::N("12345".into()).size_bytes(), 4);
        assert_eq!(AttrValue::N("-1.5e10".into()).size_bytes(), 3);
        assert_eq!(AttrValue::Bool(true).size_bytes(), 1);
        assert_eq!(AttrValue::Null.size_bytes(), 1);
        let map = AttrValue::M(vec![("a".into(), s("xy"))]);
        assert_eq!(map.size_bytes(), 3 + 1 + 1 + 2);
        assert_eq!(AttrValue::L(vec![AttrValue::Null]).size_bytes(), 3 + 1 + 1);
        assert_eq!(AttrValue::M(vec![]).size_bytes(), 3);
    }

    #[test]
    fn the_counted_size_is_the_numbers_size() {
        for (text, digits, negative) in [
            ("0", 1, false),
            ("-0", 1, true),
            ("12345", 5, false),
            ("-1.5e10", 2, true),
            ("59.99", 4, false),
            ("1E+300", 1, false),
        ] {
            assert_eq!(mantissa_size(digits, negative), number_size(text), "{text}");
        }
    }

    #[test]
    fn owned_values_equal_borrowed_ones() {
        let text = String::from("borrowed");
        let value = AttrValue::M(vec![
            (Cow::Borrowed(&text[..3]), s(&text)),
            (
                "l".into(),
                AttrValue::L(vec![AttrValue::N("1.5".into()), AttrValue::Null]),
            ),
        ]);
        let owned: AttrValue<'static> = value.clone().into_owned();
        drop(text);
        let AttrValue::M(entries) = &owned else {
            panic!("a map stays a map")
        };
        assert!(
            matches!(&entries[0], (Cow::Owned(k), AttrValue::S(Cow::Owned(v))) if k == "bor" && v == "borrowed")
        );
        assert_eq!(
            owned.size_bytes(),
            3 + (1 + 3 + 8) + (1 + 1 + 3 + (1 + 2) + (1 + 1))
        );
    }

    #[test]
    fn dynamodb_number_limits() {
        for fits in [
            "0",
            "-0.0",
            "0e999999999999999999999",
            "1e125",
            "9.99e125",
            "1E+125",
            "1e-130",
            "0.0000000001e-120",
            "-1e-130",
            "12345678901234567890123456789012345678",
            "1234567890123456789012345678901234567.8",
            "100000000000000000000000000000000000000000",
            "0.1000000000000000055511",
            "1700000000000",
        ] {
            assert!(number_fits(fits), "{fits}");
        }
        for too_much in [
            "1e126",
            "10e125",
            "1e-131",
            "0.1e-130",
            "-1e126",
            "123456789012345678901234567890123456789",
            "1.23456789012345678901234567890123456789",
            "1e99999999999999999999999",
            "1e-99999999999999999999999",
        ] {
            assert!(!number_fits(too_much), "{too_much}");
        }
    }
}
