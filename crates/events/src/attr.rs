//! DynamoDB attribute values, independent of any AWS SDK (the processor converts them at
//! the edge), with DynamoDB's rules for sizes and numbers.

use std::borrow::Cow;

/// One attribute value.
///
/// Strings and numbers are owned so an [`Item`](crate::Item) outlives the record's bytes;
/// numbers are their exact decimal text, never rounded through a float, so
/// `0.1000000000000000055511` or `12345678901234567890` reach the table digit for digit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttrValue {
    /// A string.
    S(String),
    /// A number as its exact decimal text (JSON number syntax).
    N(String),
    /// A boolean.
    Bool(bool),
    /// JSON null.
    Null,
    /// A map, in the order the source had it (a repeated key keeps its last value).
    M(Vec<(String, AttrValue)>),
    /// A list.
    L(Vec<AttrValue>),
}

impl AttrValue {
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
}

/// An attribute value that borrows from the record's bytes where it can: strings without
/// escapes and all numbers are slices of the input, so building one allocates almost
/// nothing. [`process_record_ref`](crate::process_record_ref) returns these; convert with
/// [`AttrRef::to_value`] when an owned value is needed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttrRef<'a> {
    /// A string.
    S(Cow<'a, str>),
    /// A number as its exact decimal text (JSON number syntax).
    N(Cow<'a, str>),
    /// A boolean.
    Bool(bool),
    /// JSON null.
    Null,
    /// A map, in the order the source had it (a repeated key keeps its last value).
    M(Vec<(Cow<'a, str>, AttrRef<'a>)>),
    /// A list.
    L(Vec<AttrRef<'a>>),
}

impl AttrRef<'_> {
    /// The owned equivalent.
    pub fn to_value(&self) -> AttrValue {
        match self {
            AttrRef::S(s) => AttrValue::S(String::from(&**s)),
            AttrRef::N(n) => AttrValue::N(String::from(&**n)),
            AttrRef::Bool(b) => AttrValue::Bool(*b),
            AttrRef::Null => AttrValue::Null,
            AttrRef::M(entries) => AttrValue::M(
                entries
                    .iter()
                    .map(|(k, v)| (String::from(&**k), v.to_value()))
                    .collect(),
            ),
            AttrRef::L(values) => AttrValue::L(values.iter().map(AttrRef::to_value).collect()),
        }
    }

    /// Bytes DynamoDB counts for this value (as [`AttrValue::size_bytes`]).
    pub fn size_bytes(&self) -> usize {
        match self {
            AttrRef::S(s) => s.len(),
            AttrRef::N(n) => number_size(n),
            AttrRef::Bool(_) | AttrRef::Null => 1,
            AttrRef::M(entries) => {
                3 + entries
                    .iter()
                    .map(|(k, v)| 1 + k.len() + v.size_bytes())
                    .sum::<usize>()
            }
            AttrRef::L(values) => 3 + values.iter().map(|v| 1 + v.size_bytes()).sum::<usize>(),
        }
    }
}

/// `part` as a slice of `whole` with `whole`'s lifetime when it lies inside it (a string
/// without escapes, a number), else a copy. Lets the borrowed item's top-level attributes
/// point into the record although validation read them from the parsed document.
fn reborrow<'a>(part: &str, whole: &'a str) -> Cow<'a, str> {
    let start = (part.as_ptr() as usize).wrapping_sub(whole.as_ptr() as usize);
    match start
        .checked_add(part.len())
        .and_then(|end| whole.get(start..end))
    {
        Some(slice) => Cow::Borrowed(slice),
        None => Cow::Owned(String::from(part)),
    }
}

/// What validation needs to see of a value, whichever representation holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum View<'v> {
    S(&'v str),
    N(&'v str),
    Bool(bool),
    Null,
    M,
    L,
}

/// The two representations the pure path builds, owned ([`AttrValue`]) and borrowed
/// ([`AttrRef`]): one parser and one item builder serve both, each compiled for each.
pub(crate) trait Repr<'a>: Sized {
    /// A map key.
    type Key;
    /// A string slice of the input.
    fn text(s: &'a str) -> Self;
    /// A string made here (unescaped text, the insight, the event key).
    fn owned_text(s: String) -> Self;
    /// A constant string.
    fn static_text(s: &'static str) -> Self;
    /// A constant number.
    fn static_number(s: &'static str) -> Self;
    /// A string read from the parsed document: a slice of `source` (the record) unless it
    /// had escapes.
    fn field_text(s: &str, source: &'a str) -> Self;
    /// A number read from the parsed document (always a slice of `source`).
    fn field_number(s: &str, source: &'a str) -> Self;
    /// A number slice of the input.
    fn number(s: &'a str) -> Self;
    /// A number made here.
    fn owned_number(s: String) -> Self;
    fn boolean(b: bool) -> Self;
    fn null() -> Self;
    fn key(s: &'a str) -> Self::Key;
    fn owned_key(s: String) -> Self::Key;
    fn key_str(key: &Self::Key) -> &str;
    fn map(entries: Vec<(Self::Key, Self)>) -> Self;
    fn list(values: Vec<Self>) -> Self;
    /// The map's entries, when this is a map.
    fn entries(&self) -> Option<&[(Self::Key, Self)]>;
    /// Each element with its name (maps) or index (lists), for locating a bad value.
    fn children(&self) -> Vec<(Child<'_>, &Self)>;
    fn view(&self) -> View<'_>;
}

/// Where a child value sits in its parent.
pub(crate) enum Child<'v> {
    Key(&'v str),
    Index(usize),
}

impl<'a> Repr<'a> for AttrValue {
    type Key = String;
    fn text(s: &'a str) -> Self {
        AttrValue::S(String::from(s))
    }
    fn owned_text(s: String) -> Self {
        AttrValue::S(s)
    }
    fn static_text(s: &'static str) -> Self {
        AttrValue::S(String::from(s))
    }
    fn static_number(s: &'static str) -> Self {
        AttrValue::N(String::from(s))
    }
    fn field_text(s: &str, _: &'a str) -> Self {
        AttrValue::S(String::from(s))
    }
    fn field_number(s: &str, _: &'a str) -> Self {
        AttrValue::N(String::from(s))
    }
    fn number(s: &'a str) -> Self {
        AttrValue::N(String::from(s))
    }
    fn owned_number(s: String) -> Self {
        AttrValue::N(s)
    }
    fn boolean(b: bool) -> Self {
        AttrValue::Bool(b)
    }
    fn null() -> Self {
        AttrValue::Null
    }
    fn key(s: &'a str) -> String {
        String::from(s)
    }
    fn owned_key(s: String) -> String {
        s
    }
    fn key_str(key: &String) -> &str {
        key
    }
    fn map(entries: Vec<(String, Self)>) -> Self {
        AttrValue::M(entries)
    }
    fn list(values: Vec<Self>) -> Self {
        AttrValue::L(values)
    }
    fn entries(&self) -> Option<&[(String, Self)]> {
        match self {
            AttrValue::M(entries) => Some(entries),
            _ => None,
        }
    }
    fn children(&self) -> Vec<(Child<'_>, &Self)> {
        match self {
            AttrValue::M(entries) => entries.iter().map(|(k, v)| (Child::Key(k), v)).collect(),
            AttrValue::L(values) => values
                .iter()
                .enumerate()
                .map(|(i, v)| (Child::Index(i), v))
                .collect(),
            _ => Vec::new(),
        }
    }
    fn view(&self) -> View<'_> {
        match self {
            AttrValue::S(s) => View::S(s),
            AttrValue::N(n) => View::N(n),
            AttrValue::Bool(b) => View::Bool(*b),
            AttrValue::Null => View::Null,
            AttrValue::M(_) => View::M,
            AttrValue::L(_) => View::L,
        }
    }
}

impl<'a> Repr<'a> for AttrRef<'a> {
    type Key = Cow<'a, str>;
    fn text(s: &'a str) -> Self {
        AttrRef::S(Cow::Borrowed(s))
    }
    fn owned_text(s: String) -> Self {
        AttrRef::S(Cow::Owned(s))
    }
    fn static_text(s: &'static str) -> Self {
        AttrRef::S(Cow::Borrowed(s))
    }
    fn static_number(s: &'static str) -> Self {
        AttrRef::N(Cow::Borrowed(s))
    }
    fn field_text(s: &str, source: &'a str) -> Self {
        AttrRef::S(reborrow(s, source))
    }
    fn field_number(s: &str, source: &'a str) -> Self {
        AttrRef::N(reborrow(s, source))
    }
    fn number(s: &'a str) -> Self {
        AttrRef::N(Cow::Borrowed(s))
    }
    fn owned_number(s: String) -> Self {
        AttrRef::N(Cow::Owned(s))
    }
    fn boolean(b: bool) -> Self {
        AttrRef::Bool(b)
    }
    fn null() -> Self {
        AttrRef::Null
    }
    fn key(s: &'a str) -> Cow<'a, str> {
        Cow::Borrowed(s)
    }
    fn owned_key(s: String) -> Cow<'a, str> {
        Cow::Owned(s)
    }
    fn key_str<'k>(key: &'k Cow<'a, str>) -> &'k str {
        key
    }
    fn map(entries: Vec<(Cow<'a, str>, Self)>) -> Self {
        AttrRef::M(entries)
    }
    fn list(values: Vec<Self>) -> Self {
        AttrRef::L(values)
    }
    fn entries(&self) -> Option<&[(Cow<'a, str>, Self)]> {
        match self {
            AttrRef::M(entries) => Some(entries),
            _ => None,
        }
    }
    fn children(&self) -> Vec<(Child<'_>, &Self)> {
        match self {
            AttrRef::M(entries) => entries.iter().map(|(k, v)| (Child::Key(k), v)).collect(),
            AttrRef::L(values) => values
                .iter()
                .enumerate()
                .map(|(i, v)| (Child::Index(i), v))
                .collect(),
            _ => Vec::new(),
        }
    }
    fn view(&self) -> View<'_> {
        match self {
            AttrRef::S(s) => View::S(s),
            AttrRef::N(n) => View::N(n),
            AttrRef::Bool(b) => View::Bool(*b),
            AttrRef::Null => View::Null,
            AttrRef::M(_) => View::M,
            AttrRef::L(_) => View::L,
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
    digits.div_ceil(2) + 1 + sign
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

    #[test]
    fn sizes_follow_dynamodbs_rules() {
        assert_eq!(AttrValue::S("héllo".into()).size_bytes(), 6);
        assert_eq!(AttrValue::N("12345".into()).size_bytes(), 4);
        assert_eq!(AttrValue::N("-1.5e10".into()).size_bytes(), 3);
        assert_eq!(AttrValue::Bool(true).size_bytes(), 1);
        assert_eq!(AttrValue::Null.size_bytes(), 1);
        let map = AttrValue::M(vec![("a".into(), AttrValue::S("xy".into()))]);
        assert_eq!(map.size_bytes(), 3 + 1 + 1 + 2);
        assert_eq!(AttrValue::L(vec![AttrValue::Null]).size_bytes(), 3 + 1 + 1);
        assert_eq!(AttrValue::M(vec![]).size_bytes(), 3);
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
