//! A JSON reader that produces attribute values directly, in one pass.
//!
//! Why not serde_json: a general JSON library either rounds numbers through a float
//! (`0.1000000000000000055511`, `12345678901234567890`) or, with `arbitrary_precision`,
//! builds a tree that must then be walked again to become attribute values. This reader
//! turns the record's bytes straight into the item's `originalEvent`, keeps every number's
//! exact text and every object's key order, and on the way adds up the document's DynamoDB
//! size and notices anything DynamoDB cannot store, so nothing walks the tree twice.
//!
//! It accepts exactly RFC 8259 JSON (the property tests hold it to serde_json), and refuses
//! nesting deeper than DynamoDB stores, which also keeps hostile input off the stack.

use std::borrow::Cow;
use std::marker::PhantomData;

use crate::attr::{number_fits, number_size, AttrRef, AttrValue, Repr};

/// How deep arrays and objects may nest, the record's own object being level 1:
/// DynamoDB stores nested attributes up to 32 levels deep.
pub const MAX_DEPTH: usize = 32;

/// Why the text is not JSON (or nests too deep), and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason} at byte {offset}")]
pub struct JsonError {
    /// Byte offset of the problem.
    pub offset: usize,
    /// What was expected or wrong.
    pub reason: &'static str,
}

impl JsonError {
    /// Whether the text was refused only for nesting deeper than [`MAX_DEPTH`] (so far as
    /// it was read): valid JSON, perhaps, but not something DynamoDB can store.
    pub fn is_too_deep(&self) -> bool {
        self.reason == TOO_DEEP
    }
}

const TOO_DEEP: &str = "nested deeper than 32 levels";

/// A parsed document and what was learned about it on the way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document<V = AttrValue> {
    /// The value.
    pub value: V,
    /// Its DynamoDB size, as [`AttrValue::size_bytes`] computes it.
    pub size_bytes: usize,
    /// False when some number is beyond DynamoDB's range or precision, or some object has
    /// an empty key: the document cannot be stored as it is.
    pub storable: bool,
}

/// Parses a whole document (surrounding white space allowed) into owned values.
pub fn parse(text: &str) -> Result<Document, JsonError> {
    parse_as(text)
}

/// Parses a whole document into values that borrow from `text` where they can.
pub fn parse_borrowed(text: &str) -> Result<Document<AttrRef<'_>>, JsonError> {
    parse_as(text)
}

pub(crate) fn parse_as<'a, T: Repr<'a>>(text: &'a str) -> Result<Document<T>, JsonError> {
    let mut parser = Parser::<T> {
        bytes: text.as_bytes(),
        text,
        pos: 0,
        size: 0,
        storable: true,
        reason: "",
        repr: PhantomData,
    };
    let fail = |parser: &Parser<T>| JsonError {
        offset: parser.pos,
        reason: parser.reason,
    };
    parser.skip_ws();
    let Ok(value) = parser.value(0) else {
        return Err(fail(&parser));
    };
    parser.skip_ws();
    if parser.pos != parser.bytes.len() {
        parser.reason = "trailing characters after the JSON value";
        return Err(fail(&parser));
    }
    Ok(Document {
        value,
        size_bytes: parser.size,
        storable: parser.storable,
    })
}

/// The reader state. Errors are kept here and the recursive functions return only
/// `Result<_, Failed>`: a small result keeps the hot path's values in registers.
struct Parser<'a, T> {
    bytes: &'a [u8],
    text: &'a str,
    pos: usize,
    /// The DynamoDB size of everything read so far (a value's size is the sum of what
    /// its parts add, so one running total serves the whole tree).
    size: usize,
    storable: bool,
    reason: &'static str,
    repr: PhantomData<T>,
}

/// The document is not JSON; the reason and position are in the parser.
struct Failed;

type Parsed<T> = Result<T, Failed>;

impl<'a, T: Repr<'a>> Parser<'a, T> {
    #[cold]
    fn fail<R>(&mut self, reason: &'static str) -> Parsed<R> {
        self.reason = reason;
        Err(Failed)
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
            self.pos += 1;
        }
    }

    /// Any value. Inlined into the container loops so a scalar (most values) is built
    /// in place; only nested containers cost a call.
    #[inline(always)]
    fn value(&mut self, depth: usize) -> Parsed<T> {
        match self.peek() {
            Some(b'"') => {
                let s = self.string()?;
                self.size += s.len();
                Ok(text_value(s))
            }
            Some(b'-' | b'0'..=b'9') => self.number_text().map(T::number),
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            Some(b't') => self.literal(b"true", T::boolean(true)),
            Some(b'f') => self.literal(b"false", T::boolean(false)),
            Some(b'n') => self.literal(b"null", T::null()),
            Some(_) => self.fail("expected a JSON value"),
            None => self.fail("unexpected end of input"),
        }
    }

    fn literal(&mut self, word: &[u8], value: T) -> Parsed<T> {
        if self.bytes[self.pos..].starts_with(word) {
            self.pos += word.len();
            self.size += 1;
            Ok(value)
        } else {
            self.fail("expected true, false or null")
        }
    }

    /// An object; a repeated key keeps its last value, as most JSON readers do.
    #[inline(never)]
    fn object(&mut self, depth: usize) -> Parsed<T> {
        if depth > MAX_DEPTH {
            return self.fail(TOO_DEEP);
        }
        self.pos += 1;
        self.size += 3;
        // Retail events have about a dozen fields; nested objects fewer.
        let mut entries: Vec<(T::Key, T)> = Vec::with_capacity(if depth == 1 { 16 } else { 6 });
        // One bit per (key length, first byte) seen: a new key whose bit is clear cannot
        // repeat an earlier one, so the search for duplicates is almost never run.
        let mut seen: u64 = 0;
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(T::map(entries));
        }
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return self.fail("expected a string key");
            }
            let key = self.string()?;
            self.skip_ws();
            if self.peek() != Some(b':') {
                return self.fail("expected ':' after a key");
            }
            self.pos += 1;
            self.skip_ws();
            // A repeated key's earlier value stays counted in the size: harmless (the
            // total only errs high), and repeated keys are rare.
            self.size += 1 + key.len();
            let first = key.as_bytes().first().copied().unwrap_or(0);
            let bit = 1u64 << ((key.len() * 7 + usize::from(first)) % 64);
            let repeated = if seen & bit == 0 {
                None
            } else {
                entries.iter().position(|(k, _)| T::key_str(k) == key)
            };
            seen |= bit;
            match repeated {
                None => {
                    if key.is_empty() {
                        self.storable = false;
                    }
                    let key = match key {
                        Cow::Borrowed(k) => T::key(k),
                        Cow::Owned(k) => T::owned_key(k),
                    };
                    self.push_value(depth, |value| entries.push((key, value)))?;
                }
                Some(index) => self.push_value(depth, |value| entries[index].1 = value)?,
            }
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(T::map(entries));
                }
                _ => return self.fail("expected ',' or '}' in an object"),
            }
        }
    }

    #[inline(never)]
    fn array(&mut self, depth: usize) -> Parsed<T> {
        if depth > MAX_DEPTH {
            return self.fail(TOO_DEEP);
        }
        self.pos += 1;
        self.size += 3;
        let mut values = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(T::list(values));
        }
        loop {
            self.skip_ws();
            self.push_value(depth, |value| values.push(value))?;
            self.size += 1;
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(T::list(values));
                }
                _ => return self.fail("expected ',' or ']' in an array"),
            }
        }
    }

    /// Reads a value and hands it to `put`. Strings and numbers (nearly every value of an
    /// event) are built right where `put` stores them; going through
    /// [`value`](Self::value)'s `Result<AttrValue, _>` costs a copy through memory per
    /// value, which measurably slowed the whole path.
    #[inline(always)]
    fn push_value(&mut self, depth: usize, put: impl FnOnce(T)) -> Parsed<()> {
        match self.peek() {
            Some(b'"') => {
                let s = self.string()?;
                self.size += s.len();
                put(text_value(s));
            }
            Some(b'-' | b'0'..=b'9') => {
                let n = self.number_text()?;
                put(T::number(n));
            }
            _ => put(self.value(depth)?),
        }
        Ok(())
    }

    #[inline(always)]
    fn string(&mut self) -> Parsed<Cow<'a, str>> {
        self.pos += 1; // the opening quote
        let start = self.pos;
        self.pos = find_special(self.bytes, self.pos);
        // Fast path: no escapes, so the text between the quotes is the string (the input
        // is already known to be UTF-8, and a quote is never inside a multi-byte char).
        if self.peek() == Some(b'"') {
            let s = &self.text[start..self.pos];
            self.pos += 1;
            return Ok(Cow::Borrowed(s));
        }
        self.escaped_string(start).map(Cow::Owned)
    }

    #[inline(never)]
    fn escaped_string(&mut self, start: usize) -> Parsed<String> {
        let mut out = String::with_capacity(self.pos - start + 16);
        out.push_str(&self.text[start..self.pos]);
        loop {
            match self.peek() {
                None => return self.fail("unterminated string"),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => self.escape(&mut out)?,
                Some(_) => return self.fail("control character in a string"),
            }
            let run = self.pos;
            self.pos = find_special(self.bytes, self.pos);
            out.push_str(&self.text[run..self.pos]);
        }
    }

    fn escape(&mut self, out: &mut String) -> Parsed<()> {
        self.pos += 1;
        let Some(b) = self.peek() else {
            return self.fail("unterminated escape");
        };
        let c = match b {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                self.pos += 1;
                out.push(self.unicode_escape()?);
                return Ok(());
            }
            _ => return self.fail("invalid escape"),
        };
        self.pos += 1;
        out.push(c);
        Ok(())
    }

    fn hex4(&mut self) -> Parsed<u32> {
        let Some(digits) = self.bytes.get(self.pos..self.pos + 4) else {
            return self.fail("short \\u escape");
        };
        let mut value = 0;
        for &d in digits {
            let nibble = match d {
                b'0'..=b'9' => d - b'0',
                b'a'..=b'f' => d - b'a' + 10,
                b'A'..=b'F' => d - b'A' + 10,
                _ => return self.fail("invalid \\u escape"),
            };
            value = value << 4 | u32::from(nibble);
        }
        self.pos += 4;
        Ok(value)
    }

    fn unicode_escape(&mut self) -> Parsed<char> {
        let first = self.hex4()?;
        let code = match first {
            0xD800..=0xDBFF => {
                if !self.bytes[self.pos..].starts_with(b"\\u") {
                    return self.fail("unpaired surrogate in \\u escape");
                }
                self.pos += 2;
                let second = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&second) {
                    return self.fail("unpaired surrogate in \\u escape");
                }
                0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
            }
            0xDC00..=0xDFFF => return self.fail("unpaired surrogate in \\u escape"),
            _ => first,
        };
        match char::from_u32(code) {
            Some(c) => Ok(c),
            None => self.fail("invalid \\u escape"),
        }
    }

    /// A number, checked against JSON's grammar and kept as its text.
    #[inline(always)]
    fn number_text(&mut self) -> Parsed<&'a str> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return self.fail("invalid number"),
        }
        let mut plain = true;
        if self.peek() == Some(b'.') {
            plain = false;
            self.pos += 1;
            if self.digits() == 0 {
                return self.fail("invalid number: no digits after '.'");
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            plain = false;
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return self.fail("invalid number: no digits in the exponent");
            }
        }
        let text = &self.text[start..self.pos];
        self.size += number_size(text);
        // An integer of up to 38 digits always fits; only the rest needs the full check.
        if !(plain && text.len() <= 38 || number_fits(text)) {
            self.storable = false;
        }
        Ok(text)
    }

    fn digits(&mut self) -> usize {
        let from = self.pos;
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        self.pos - from
    }
}

/// A string value from its text, borrowed or unescaped.
fn text_value<'a, T: Repr<'a>>(text: Cow<'a, str>) -> T {
    match text {
        Cow::Borrowed(s) => T::text(s),
        Cow::Owned(s) => T::owned_text(s),
    }
}

/// The index of the first `"`, `\` or control character at or after `from` (or the end).
///
/// Reads eight bytes at a time: most strings in an event are plain ASCII words and ids,
/// and this loop is the reader's hottest.
fn find_special(bytes: &[u8], mut from: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    while let Some(chunk) = bytes.get(from..from + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let v = u64::from_le_bytes(word);
        let quote = v ^ (ONES * u64::from(b'"'));
        let backslash = v ^ (ONES * u64::from(b'\\'));
        // Per byte: high bit set where the byte is zero (quote, backslash) or below 0x20.
        // Borrows can only mark bytes above a real hit, so the lowest mark is exact.
        let hits = (quote.wrapping_sub(ONES) & !quote)
            | (backslash.wrapping_sub(ONES) & !backslash)
            | (v.wrapping_sub(ONES * 0x20) & !v);
        let hits = hits & HIGH;
        if hits != 0 {
            return from + (hits.trailing_zeros() / 8) as usize;
        }
        from += 8;
    }
    while let Some(&b) = bytes.get(from) {
        if b == b'"' || b == b'\\' || b < 0x20 {
            break;
        }
        from += 1;
    }
    from
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> AttrValue {
        AttrValue::S(text.into())
    }

    fn value(text: &str) -> AttrValue {
        parse(text).unwrap_or_else(|e| panic!("{text}: {e}")).value
    }

    #[test]
    fn numbers_keep_their_exact_text() {
        assert_eq!(
            value(r#"{"a":0.1000000000000000055511,"b":12345678901234567890,"c":-1.5E+3}"#),
            AttrValue::M(vec![
                ("a".into(), AttrValue::N("0.1000000000000000055511".into())),
                ("b".into(), AttrValue::N("12345678901234567890".into())),
                ("c".into(), AttrValue::N("-1.5E+3".into())),
            ])
        );
    }

    #[test]
    fn strings_unescape() {
        assert_eq!(
            value(r#""a\"b\\c\/\n\u00e9\ud83d\ude00\b\f\r\t""#),
            s("a\"b\\c/\né😀\u{8}\u{c}\r\t")
        );
        assert_eq!(value(r#""plain ünïcode 日本""#), s("plain ünïcode 日本"));
        assert_eq!(
            value(r#""a long string without escapes, longer than eight bytes""#),
            s("a long string without escapes, longer than eight bytes")
        );
        assert_eq!(value(r#""x\u0041yz0123456789\"""#), s("xAyz0123456789\""));
    }

    #[test]
    fn structure_order_and_duplicates() {
        let doc = parse(r#" { "z" : [1, true, null, {}], "a": "x", "z": [] } "#).unwrap();
        assert_eq!(
            doc.value,
            AttrValue::M(vec![
                ("z".into(), AttrValue::L(vec![])),
                ("a".into(), s("x"))
            ])
        );
        assert!(doc.storable);
    }

    #[test]
    fn the_size_is_the_values_size() {
        for text in [
            r#"{"userId":"u1","n":[1,-2.5e3,true,null,{"k":"v"}],"s":"é"}"#,
            r#"[]"#,
            r#""text""#,
            r#"12345"#,
        ] {
            let doc = parse(text).unwrap();
            assert_eq!(doc.size_bytes, doc.value.size_bytes(), "{text}");
        }
    }

    #[test]
    fn what_dynamodb_cannot_store_is_noticed() {
        assert!(!parse(r#"{"x":1e200}"#).unwrap().storable);
        assert!(
            !parse(r#"[1234567890123456789012345678901234567890.5]"#)
                .unwrap()
                .storable
        );
        assert!(!parse(r#"{"a":{"":1}}"#).unwrap().storable);
        assert!(
            parse(r#"{"x":1e100,"y":123456789012345678901234567890}"#)
                .unwrap()
                .storable
        );
    }

    #[test]
    fn malformed_documents_are_refused_with_an_offset() {
        for bad in [
            "",
            "{",
            "{\"a\"}",
            "{\"a\":}",
            "[1,]",
            "01",
            "1.",
            "1e",
            "-",
            "tru",
            "\"\\x\"",
            "\"\\ud800\"",
            "\"\\udc00\"",
            "\"\\u12g4\"",
            "\"a",
            "{} x",
            "\"\u{1}\"",
            "{'a':1}",
            "[1 2]",
            "{\"a\":1,}",
            "\"abcdefghijklmnop",
        ] {
            let err = parse(bad).expect_err(bad);
            assert!(err.offset <= bad.len(), "{bad}: {err}");
            assert!(!err.is_too_deep());
        }
    }

    #[test]
    fn deep_nesting_is_refused() {
        let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert!(parse(&deep).expect_err("too deep").is_too_deep());
        let ok = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert!(parse(&ok).is_ok());
        let hostile = "[".repeat(1_000_000);
        assert!(parse(&hostile).is_err());
    }

    #[test]
    fn the_scanner_finds_the_first_special_byte() {
        let text = b"abcdefghijklmnopqrstuvwxyz\"";
        assert_eq!(find_special(text, 0), 26);
        assert_eq!(find_special(b"abc\\defghijk", 0), 3);
        assert_eq!(find_special(b"abcdefgh\x1fjk", 0), 8);
        assert_eq!(find_special("é\"".as_bytes(), 0), 2);
        assert_eq!(find_special(b"abcdefghij", 0), 10);
        assert_eq!(find_special(b"\x7f\x80\xff\"", 0), 3);
    }
}
