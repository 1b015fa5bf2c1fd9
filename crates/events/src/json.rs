//! A JSON reader that stores a document as the item's `originalEvent`, in one pass.
//!
//! Why not serde_json: a general JSON library either rounds numbers through a float
//! (`0.1000000000000000055511`, `12345678901234567890`) or, with `arbitrary_precision`,
//! builds a tree that must then be walked again to become attribute values. This reader
//! turns the record's bytes straight into the item's storage (a `Tape`),
//! keeps every number's exact text and every object's key order, and on the way adds up the
//! document's DynamoDB size and notices anything DynamoDB cannot store, so nothing walks
//! the document twice.
//!
//! It accepts exactly RFC 8259 JSON (the property tests hold it to serde_json), and refuses
//! nesting deeper than DynamoDB stores, which also keeps hostile input off the stack.

use crate::attr::{mantissa_size, number_fits, AttrValue};
use crate::tape::{span, AttrRef, Node, Span, Tape};

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
pub struct Document<'a> {
    /// The value; strings without escapes and all numbers borrow from the text.
    pub value: AttrValue<'a>,
    /// Its DynamoDB size, as [`AttrValue::size_bytes`] computes it.
    pub size_bytes: usize,
    /// False when some number is beyond DynamoDB's range or precision, or some object has
    /// an empty key: the document cannot be stored as it is.
    pub storable: bool,
}

/// The longest text the reader takes: its spans are 32-bit, and the text an item keeps may
/// be up to twice the record (unescaped strings are added to it). Kinesis records are at
/// most a few MiB, so no record comes near.
const MAX_TEXT_BYTES: usize = (u32::MAX / 4) as usize;

/// Parses a whole document (surrounding white space allowed) into a value. (The pure path
/// reads a record straight onto its item's storage instead; this reads the same way, then
/// builds the value.)
pub fn parse(text: &str) -> Result<Document<'_>, JsonError> {
    let mut tape = Tape::default();
    let read = read_into(text, &mut tape)?;
    Ok(Document {
        value: borrowed(tape.view(read.root), &tape, text),
        size_bytes: read.size_bytes,
        storable: read.storable,
    })
}

/// A view of `tape` (whose text begins with `text`) as a value borrowing from `text`:
/// strings the tape holds verbatim are slices of `text`, unescaped ones copies.
fn borrowed<'a>(view: AttrRef<'_>, tape: &Tape, text: &'a str) -> AttrValue<'a> {
    let slice = |s: &str| tape.verbatim(text, tape.span_of(s));
    match view {
        AttrRef::S(s) => AttrValue::S(slice(s)),
        AttrRef::N(n) => AttrValue::N(slice(n)),
        AttrRef::Bool(b) => AttrValue::Bool(b),
        AttrRef::Null => AttrValue::Null,
        AttrRef::M(map) => AttrValue::M(
            map.iter()
                .map(|(k, v)| (slice(k), borrowed(v, tape, text)))
                .collect(),
        ),
        AttrRef::L(list) => AttrValue::L(list.iter().map(|v| borrowed(v, tape, text)).collect()),
    }
}

/// What [`read_into`] learned about the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Read {
    /// The document's first node.
    pub(crate) root: usize,
    /// Its DynamoDB size, as [`AttrValue::size_bytes`] computes it (or a little more when
    /// an object repeats a key: a replaced value stays counted).
    pub(crate) size_bytes: usize,
    /// As [`Document::storable`].
    pub(crate) storable: bool,
}

/// Reads the document `text` onto the end of `tape`, whose text must be empty: the tape's
/// text becomes `text` (strings are spans of it), followed by any unescaped strings.
pub(crate) fn read_into(text: &str, tape: &mut Tape) -> Result<Read, JsonError> {
    debug_assert!(tape.text.is_empty());
    if text.len() > MAX_TEXT_BYTES {
        return Err(JsonError {
            offset: 0,
            reason: "document longer than 1 GiB",
        });
    }
    tape.text.push_str(text);
    let root = tape.nodes.len();
    let mut parser = Parser {
        text,
        tape,
        size: 0,
        storable: true,
        error: JsonError {
            offset: 0,
            reason: "",
        },
    };
    let start = parser.skip_ws(0);
    let Ok(end) = parser.value(start, 0) else {
        return Err(parser.error);
    };
    let end = parser.skip_ws(end);
    if end != text.len() {
        return Err(JsonError {
            offset: end,
            reason: "trailing characters after the JSON value",
        });
    }
    Ok(Read {
        root,
        size_bytes: parser.size,
        storable: parser.storable,
    })
}

/// The reader state. Positions are passed along and returned (a value's reader gets
/// where it starts and answers where it ends), so the hot loop keeps them in registers;
/// an error is kept here and the functions return only `Result<_, Failed>`.
struct Parser<'a, 't> {
    text: &'a str,
    tape: &'t mut Tape,
    /// The DynamoDB size of everything read so far (a value's size is the sum of what
    /// its parts add, so one running total serves the whole tree).
    size: usize,
    storable: bool,
    error: JsonError,
}

/// The document is not JSON; the reason and position are in the parser.
struct Failed;

type Parsed<T> = Result<T, Failed>;

impl Parser<'_, '_> {
    #[cold]
    fn fail<R>(&mut self, at: usize, reason: &'static str) -> Parsed<R> {
        self.error = JsonError { offset: at, reason };
        Err(Failed)
    }

    #[inline(always)]
    fn byte(&self, at: usize) -> Option<u8> {
        self.text.as_bytes().get(at).copied()
    }

    /// The first position at or after `at` that is not white space. Records from
    /// producers are usually compact, so the first byte is checked before any loop.
    #[inline(always)]
    fn skip_ws(&self, at: usize) -> usize {
        match self.byte(at) {
            Some(b) if b > b' ' => at,
            _ => self.skip_ws_run(at),
        }
    }

    fn skip_ws_run(&self, mut at: usize) -> usize {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.byte(at) {
            at += 1;
        }
        at
    }

    fn push(&mut self, node: Node) {
        self.tape.nodes.push(node);
    }

    /// Reads the value starting at `at` onto the tape; where it ends. Inlined into the
    /// container loops, so a scalar (most values) costs no call.
    #[inline(always)]
    fn value(&mut self, at: usize, depth: usize) -> Parsed<usize> {
        match self.byte(at) {
            Some(b'"') => {
                let (s, end) = self.string(at)?;
                self.size += s.len as usize;
                self.push(Node::S(s));
                Ok(end)
            }
            Some(b'-' | b'0'..=b'9') => {
                let (n, end) = self.number(at)?;
                self.push(Node::N(n));
                Ok(end)
            }
            Some(b'{') => self.object(at, depth + 1),
            Some(b'[') => self.array(at, depth + 1),
            Some(b't') => self.literal(at, b"true", Node::Bool(true)),
            Some(b'f') => self.literal(at, b"false", Node::Bool(false)),
            Some(b'n') => self.literal(at, b"null", Node::Null),
            Some(_) => self.fail(at, "expected a JSON value"),
            None => self.fail(at, "unexpected end of input"),
        }
    }

    /// `word` at `at`; where it ends.
    fn literal(&mut self, at: usize, word: &[u8], node: Node) -> Parsed<usize> {
        if self.text.as_bytes()[at..].starts_with(word) {
            self.size += 1;
            self.push(node);
            Ok(at + word.len())
        } else {
            self.fail(at, "expected true, false or null")
        }
    }

    /// The object whose `{` is at `open`; a repeated key keeps its last value, in the
    /// first one's place, as most JSON readers do.
    #[inline(never)]
    fn object(&mut self, open: usize, depth: usize) -> Parsed<usize> {
        if depth > MAX_DEPTH {
            return self.fail(open, TOO_DEEP);
        }
        self.size += 3;
        let map = self.tape.nodes.len();
        self.push(Node::M { len: 0, end: 0 });
        let mut len = 0;
        // One bit per (key length, first byte) seen: a new key whose bit is clear cannot
        // repeat an earlier one, so the search for repeats is almost never run.
        let mut seen: u64 = 0;
        let mut at = self.skip_ws(open + 1);
        if self.byte(at) == Some(b'}') {
            self.close(map, len);
            return Ok(at + 1);
        }
        loop {
            at = self.skip_ws(at);
            if self.byte(at) != Some(b'"') {
                return self.fail(at, "expected a string key");
            }
            let (key, after_key) = self.string(at)?;
            at = self.skip_ws(after_key);
            if self.byte(at) != Some(b':') {
                return self.fail(at, "expected ':' after a key");
            }
            at = self.skip_ws(at + 1);
            // A repeated key's earlier value stays counted in the size: harmless (the
            // total only errs high), and repeated keys are rare.
            self.size += 1 + key.len as usize;
            let first = self.tape.bytes(key).first().copied().unwrap_or(0);
            let bit = 1u64 << ((key.len as usize * 7 + usize::from(first)) % 64);
            let earlier = if seen & bit == 0 {
                None
            } else {
                self.find_key(map, key)
            };
            seen |= bit;
            let value = self.tape.nodes.len() + 1;
            match earlier {
                None => {
                    if key.len == 0 {
                        self.storable = false;
                    }
                    len += 1;
                    self.push(Node::Key(key));
                }
                Some((earlier, earlier_key)) => {
                    self.tape.nodes[earlier] = Node::KeyAt(earlier_key, value as u32);
                    self.push(Node::Repeated);
                }
            }
            at = self.value(at, depth)?;
            at = self.skip_ws(at);
            match self.byte(at) {
                Some(b',') => at += 1,
                Some(b'}') => {
                    self.close(map, len);
                    return Ok(at + 1);
                }
                _ => return self.fail(at, "expected ',' or '}' in an object"),
            }
        }
    }

    /// The key node (and its span) of the entry of the map at `map` (being read) whose key
    /// reads as `key` does.
    #[cold]
    fn find_key(&self, map: usize, key: Span) -> Option<(usize, Span)> {
        let tape = &*self.tape;
        let mut at = map + 1;
        while at < tape.nodes.len() {
            if let Node::Key(k) | Node::KeyAt(k, _) = tape.nodes[at] {
                if tape.bytes(k) == tape.bytes(key) {
                    return Some((at, k));
                }
            }
            at = tape.skip(at + 1);
        }
        None
    }

    /// Completes the container whose node is at `index`: `len` values, ending here.
    fn close(&mut self, index: usize, len: u32) {
        let end = self.tape.nodes.len() as u32;
        self.tape.nodes[index] = match self.tape.nodes[index] {
            Node::L { .. } => Node::L { len, end },
            _ => Node::M { len, end },
        };
    }

    /// The array whose `[` is at `open`.
    #[inline(never)]
    fn array(&mut self, open: usize, depth: usize) -> Parsed<usize> {
        if depth > MAX_DEPTH {
            return self.fail(open, TOO_DEEP);
        }
        self.size += 3;
        let list = self.tape.nodes.len();
        self.push(Node::L { len: 0, end: 0 });
        let mut len = 0;
        let mut at = self.skip_ws(open + 1);
        if self.byte(at) == Some(b']') {
            self.close(list, len);
            return Ok(at + 1);
        }
        loop {
            at = self.skip_ws(at);
            at = self.value(at, depth)?;
            len += 1;
            self.size += 1;
            at = self.skip_ws(at);
            match self.byte(at) {
                Some(b',') => at += 1,
                Some(b']') => {
                    self.close(list, len);
                    return Ok(at + 1);
                }
                _ => return self.fail(at, "expected ',' or ']' in an array"),
            }
        }
    }

    /// The string whose opening quote is at `quote`, and where it ends.
    #[inline(always)]
    fn string(&mut self, quote: usize) -> Parsed<(Span, usize)> {
        let start = quote + 1;
        let end = find_special(self.text.as_bytes(), start);
        // Fast path: no escapes, so the text between the quotes is the string, and the
        // tape's text begins with the document's.
        if self.byte(end) == Some(b'"') {
            return Ok((span(start, end - start), end + 1));
        }
        self.escaped_string(start, end)
    }

    /// The rest of a string that has an escape (or is malformed) at `at`: unescaped onto
    /// the end of the tape's text.
    #[inline(never)]
    fn escaped_string(&mut self, start: usize, mut at: usize) -> Parsed<(Span, usize)> {
        let from = self.tape.text.len();
        self.tape.text.push_str(&self.text[start..at]);
        loop {
            match self.byte(at) {
                None => return self.fail(at, "unterminated string"),
                Some(b'"') => {
                    let len = self.tape.text.len() - from;
                    return Ok((span(from, len), at + 1));
                }
                Some(b'\\') => at = self.escape(at + 1)?,
                Some(_) => return self.fail(at, "control character in a string"),
            }
            let run = at;
            at = find_special(self.text.as_bytes(), at);
            self.tape.text.push_str(&self.text[run..at]);
        }
    }

    /// The escape whose letter is at `at` (just after the backslash), appended to the
    /// tape's text; where it ends.
    fn escape(&mut self, at: usize) -> Parsed<usize> {
        let Some(b) = self.byte(at) else {
            return self.fail(at, "unterminated escape");
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
                let (c, end) = self.unicode_escape(at + 1)?;
                self.tape.text.push(c);
                return Ok(end);
            }
            _ => return self.fail(at, "invalid escape"),
        };
        self.tape.text.push(c);
        Ok(at + 1)
    }

    /// Four hex digits at `at`.
    fn hex4(&mut self, at: usize) -> Parsed<u32> {
        let Some(digits) = self.text.as_bytes().get(at..at + 4) else {
            return self.fail(at, "short \\u escape");
        };
        let mut value = 0;
        for &d in digits {
            let nibble = match d {
                b'0'..=b'9' => d - b'0',
                b'a'..=b'f' => d - b'a' + 10,
                b'A'..=b'F' => d - b'A' + 10,
                _ => return self.fail(at, "invalid \\u escape"),
            };
            value = value << 4 | u32::from(nibble);
        }
        Ok(value)
    }

    /// The character of a `\u` escape whose digits start at `at` (a surrogate pair takes
    /// two escapes), and where it ends.
    fn unicode_escape(&mut self, at: usize) -> Parsed<(char, usize)> {
        let first = self.hex4(at)?;
        let mut end = at + 4;
        let code = match first {
            0xD800..=0xDBFF => {
                if !self.text.as_bytes()[end..].starts_with(b"\\u") {
                    return self.fail(end, "unpaired surrogate in \\u escape");
                }
                let second = self.hex4(end + 2)?;
                end += 6;
                if !(0xDC00..=0xDFFF).contains(&second) {
                    return self.fail(end, "unpaired surrogate in \\u escape");
                }
                0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
            }
            0xDC00..=0xDFFF => return self.fail(end, "unpaired surrogate in \\u escape"),
            _ => first,
        };
        match char::from_u32(code) {
            Some(c) => Ok((c, end)),
            None => self.fail(end, "invalid \\u escape"),
        }
    }

    /// The number starting at `at`, checked against JSON's grammar and kept as its text,
    /// and where it ends. Its size is added from the digits counted on the way, and only
    /// a number that is not a short integer is checked against DynamoDB's range.
    #[inline(always)]
    fn number(&mut self, start: usize) -> Parsed<(Span, usize)> {
        let negative = self.byte(start) == Some(b'-');
        let mut at = start + usize::from(negative);
        let mut digits = match self.byte(at) {
            Some(b'0') => 1,
            Some(b'1'..=b'9') => self.digits(at),
            _ => return self.fail(at, "invalid number"),
        };
        at += digits;
        let mut plain = true;
        if self.byte(at) == Some(b'.') {
            plain = false;
            let fraction = self.digits(at + 1);
            at += 1 + fraction;
            if fraction == 0 {
                return self.fail(at, "invalid number: no digits after '.'");
            }
            digits += fraction;
        }
        if let Some(b'e' | b'E') = self.byte(at) {
            plain = false;
            at += 1;
            if let Some(b'+' | b'-') = self.byte(at) {
                at += 1;
            }
            let exponent = self.digits(at);
            at += exponent;
            if exponent == 0 {
                return self.fail(at, "invalid number: no digits in the exponent");
            }
        }
        self.size += mantissa_size(digits, negative);
        // An integer of up to 38 digits always fits; only the rest needs the full check.
        if !(plain && digits <= 38 || number_fits(&self.text[start..at])) {
            self.storable = false;
        }
        Ok((span(start, at - start), at))
    }

    /// How many ASCII digits start at `at`.
    fn digits(&self, at: usize) -> usize {
        let rest = self.text.as_bytes().get(at..).unwrap_or_default();
        rest.iter().take_while(|b| b.is_ascii_digit()).count()
    }
}

/// The index of the first `"`, `\` or control character at or after `from` (or the end).
///
/// This loop is the reader's hottest: most of an event is the text of its strings. It
/// reads sixteen bytes at a time as two words, testing eight bytes per word at once.
fn find_special(bytes: &[u8], from: usize) -> usize {
    let mut at = from;
    while let Some(chunk) = bytes.get(at..at + 16) {
        let (low, high) = chunk.split_at(8);
        let (low, high) = (special_bytes(low), special_bytes(high));
        if low | high != 0 {
            let (offset, marks) = if low != 0 { (0, low) } else { (8, high) };
            return at + offset + (marks.trailing_zeros() / 8) as usize;
        }
        at += 16;
    }
    while let Some(&b) = bytes.get(at) {
        if b == b'"' || b == b'\\' || b < 0x20 {
            break;
        }
        at += 1;
    }
    at
}

/// The high bit of each of these eight bytes that is `"`, `\` or a control character (and
/// perhaps of bytes after the first such byte: only the lowest mark is exact).
#[inline(always)]
fn special_bytes(chunk: &[u8]) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut word = [0u8; 8];
    word.copy_from_slice(chunk);
    let v = u64::from_le_bytes(word);
    // Per byte, a high bit where the byte is below a bound: XOR with 0x02 moves `"` (0x22)
    // to 0x20 and keeps control characters below 0x20 (everything else stays at 0x21 or
    // above), so one test below 0x21 finds both; XOR with `\` makes a backslash zero, below
    // 0x01. A borrow only marks bytes above a real hit, so the lowest mark is exact.
    let quote_or_control = v ^ (ONES * 0x02);
    let backslash = v ^ (ONES * u64::from(b'\\'));
    let hits = (quote_or_control.wrapping_sub(ONES * 0x21) & !quote_or_control)
        | (backslash.wrapping_sub(ONES) & !backslash);
    hits & HIGH
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> AttrValue<'_> {
        AttrValue::S(text.into())
    }

    fn value(text: &str) -> AttrValue<'_> {
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
        // Beyond f64 too: serde_json refuses the text, this reader takes it as JSON and
        // leaves the refusal to validation, which names the field.
        assert!(!parse("1E310").unwrap().storable);
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
        // Every byte value, at every position of a chunk and of the tail.
        for special in 0..=255u8 {
            let expected = special < 0x20 || special == b'"' || special == b'\\';
            for at in 0..20 {
                let mut text = vec![b'a'; 20];
                text[at] = special;
                let found = find_special(&text, 0);
                assert_eq!(
                    found,
                    if expected { at } else { 20 },
                    "{special:#x} at {at}"
                );
                if at > 0 {
                    assert_eq!(find_special(&text, at), if expected { at } else { 20 });
                }
            }
        }
        assert_eq!(find_special(b"abc", 3), 3);
        assert_eq!(find_special(b"abc", 4), 4);
    }
}
