//! Documents and items stored flat, and the views that read them.
//!
//! A [`Tape`] holds a JSON document as nodes in document order (a container's node comes
//! first and knows where its last child ends) and the text of every string and number as
//! a span of one buffer: the record's own text, followed by whatever had to be made (an
//! unescaped string, the enrichment's text). An item is then two allocations however many
//! values it has, dropping it frees two blocks without visiting a value, and cloning it is
//! two copies. [`AttrRef`] reads a value in place.

use std::borrow::Cow;
use std::fmt;

use crate::attr::{number_size, AttrValue};

/// A document (or an item): nodes, and the text their spans point into.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Tape {
    pub(crate) text: String,
    pub(crate) nodes: Vec<Node>,
}

/// A string's place in [`Tape::text`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    pub(crate) start: u32,
    pub(crate) len: u32,
}

impl Span {
    /// The span as a range of byte positions.
    pub(crate) fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.start as usize + self.len as usize
    }
}

/// One value, or one key of a map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Node {
    S(Span),
    N(Span),
    Bool(bool),
    Null,
    /// A map of `len` entries, each a key node and then its value's nodes; `end` is the
    /// index after the map's last node.
    M {
        len: u32,
        end: u32,
    },
    /// A list of `len` values; `end` as for maps.
    L {
        len: u32,
        end: u32,
    },
    /// A key; its value is the next node.
    Key(Span),
    /// A key that appears again later in its map: its value is the later one's, at node
    /// `value` (JSON readers keep a repeated key's last value, in the first one's place).
    KeyAt(Span, u32),
    /// A later occurrence of a repeated key (see [`Node::KeyAt`]): skipped with its value.
    Repeated,
}

impl Tape {
    /// The text of `span`.
    pub(crate) fn str(&self, span: Span) -> &str {
        self.text.get(span.range()).unwrap_or_default()
    }

    /// The bytes of `span` (cheaper than [`Tape::str`] when only compared).
    pub(crate) fn bytes(&self, span: Span) -> &[u8] {
        self.text.as_bytes().get(span.range()).unwrap_or_default()
    }

    /// The span of `text`, which must be a slice of this tape's text (as every string a
    /// view of this tape is).
    pub(crate) fn span_of(&self, text: &str) -> Span {
        let start = (text.as_ptr() as usize).wrapping_sub(self.text.as_ptr() as usize);
        debug_assert!(start + text.len() <= self.text.len());
        span(start, text.len())
    }

    /// The text of `span` for a reader that lets the tape grow meanwhile: a slice of
    /// `source`, the document this tape's text begins with, where the span lies within it
    /// (a string without escapes, a number); else (an unescaped string) a copy.
    pub(crate) fn verbatim<'s>(&self, source: &'s str, span: Span) -> Cow<'s, str> {
        match source.get(span.range()) {
            Some(verbatim) => Cow::Borrowed(verbatim),
            None => Cow::Owned(self.str(span).to_owned()),
        }
    }

    /// Appends what `write` writes to the text; its span.
    pub(crate) fn append(&mut self, write: impl FnOnce(&mut String)) -> Span {
        let start = self.text.len();
        write(&mut self.text);
        span(start, self.text.len() - start)
    }

    /// The value whose first node is at `index`.
    #[inline]
    pub(crate) fn view(&self, index: usize) -> AttrRef<'_> {
        match self.nodes.get(index) {
            Some(Node::S(s)) => AttrRef::S(self.str(*s)),
            Some(Node::N(n)) => AttrRef::N(self.str(*n)),
            Some(Node::Bool(b)) => AttrRef::Bool(*b),
            Some(Node::M { len, .. }) => AttrRef::M(MapRef {
                tape: self,
                index,
                len: *len as usize,
            }),
            Some(Node::L { len, .. }) => AttrRef::L(ListRef {
                tape: self,
                index,
                len: *len as usize,
            }),
            _ => AttrRef::Null,
        }
    }

    /// The index after the value whose first node is at `index`.
    #[inline]
    pub(crate) fn skip(&self, index: usize) -> usize {
        match self.nodes.get(index) {
            Some(Node::M { end, .. } | Node::L { end, .. }) => *end as usize,
            _ => index + 1,
        }
    }

    /// Where the value of the entry whose key node is at `index` starts, if the entry is
    /// to be read (not a [`Node::Repeated`] one).
    fn entry_value(&self, index: usize) -> Option<(Span, usize)> {
        match self.nodes.get(index) {
            Some(Node::Key(key)) => Some((*key, index + 1)),
            Some(Node::KeyAt(key, value)) => Some((*key, *value as usize)),
            _ => None,
        }
    }
}

/// A span from a position and length in a text of at most `u32::MAX` bytes (the reader
/// refuses anything longer before a span is made).
pub(crate) fn span(start: usize, len: usize) -> Span {
    Span {
        start: start as u32,
        len: len as u32,
    }
}

/// An attribute value read in place from an item (or a parsed document): strings and
/// numbers are slices of the item's text, maps and lists are iterated without being built.
/// [`AttrRef::to_value`] makes the equivalent [`AttrValue`].
#[derive(Clone, Copy)]
pub enum AttrRef<'i> {
    /// A string.
    S(&'i str),
    /// A number as its exact decimal text (JSON number syntax).
    N(&'i str),
    /// A boolean.
    Bool(bool),
    /// JSON null.
    Null,
    /// A map, in the order the source had it (a repeated key keeps its last value).
    M(MapRef<'i>),
    /// A list.
    L(ListRef<'i>),
}

/// A map read in place; see [`AttrRef`].
#[derive(Clone, Copy)]
pub struct MapRef<'i> {
    tape: &'i Tape,
    /// The map's node.
    index: usize,
    len: usize,
}

/// A list read in place; see [`AttrRef`].
#[derive(Clone, Copy)]
pub struct ListRef<'i> {
    tape: &'i Tape,
    index: usize,
    len: usize,
}

impl<'i> AttrRef<'i> {
    /// The equivalent value: strings borrowed from the item, maps and lists built.
    pub fn to_value(&self) -> AttrValue<'i> {
        match *self {
            AttrRef::S(s) => AttrValue::S(Cow::Borrowed(s)),
            AttrRef::N(n) => AttrValue::N(Cow::Borrowed(n)),
            AttrRef::Bool(b) => AttrValue::Bool(b),
            AttrRef::Null => AttrValue::Null,
            AttrRef::M(map) => AttrValue::M(
                map.iter()
                    .map(|(k, v)| (Cow::Borrowed(k), v.to_value()))
                    .collect(),
            ),
            AttrRef::L(list) => AttrValue::L(list.iter().map(|v| v.to_value()).collect()),
        }
    }

    /// Bytes DynamoDB counts for this value (as [`AttrValue::size_bytes`]).
    pub fn size_bytes(&self) -> usize {
        match self {
            AttrRef::S(s) => s.len(),
            AttrRef::N(n) => number_size(n),
            AttrRef::Bool(_) | AttrRef::Null => 1,
            AttrRef::M(map) => {
                3 + map
                    .iter()
                    .map(|(k, v)| 1 + k.len() + v.size_bytes())
                    .sum::<usize>()
            }
            AttrRef::L(list) => 3 + list.iter().map(|v| 1 + v.size_bytes()).sum::<usize>(),
        }
    }
}

impl<'i> MapRef<'i> {
    /// How many entries.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the map has no entries.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The entries in order.
    pub fn iter(&self) -> impl Iterator<Item = (&'i str, AttrRef<'i>)> + 'i {
        let tape = self.tape;
        self.keys()
            .map(move |(key, value)| (tape.str(key), tape.view(value)))
    }

    /// Each entry's key and the node its value starts at, for a reader that looks at only
    /// some of the values ([`MapRef::value`]).
    pub(crate) fn keys(&self) -> impl Iterator<Item = (Span, usize)> + 'i {
        let tape = self.tape;
        let end = tape.skip(self.index);
        let mut at = self.index + 1;
        std::iter::from_fn(move || {
            while at < end {
                let key = at;
                at = tape.skip(key + 1);
                if let Some(entry) = tape.entry_value(key) {
                    return Some(entry);
                }
            }
            None
        })
    }

    /// The bytes of a key from [`MapRef::keys`].
    pub(crate) fn key_bytes(&self, key: Span) -> &'i [u8] {
        self.tape.bytes(key)
    }

    /// The value starting at a node from [`MapRef::keys`].
    pub(crate) fn value(&self, index: usize) -> AttrRef<'i> {
        self.tape.view(index)
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<AttrRef<'i>> {
        self.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }
}

impl<'i> ListRef<'i> {
    /// How many values.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the list has no values.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The values in order.
    pub fn iter(&self) -> impl Iterator<Item = AttrRef<'i>> + 'i {
        let tape = self.tape;
        let end = tape.skip(self.index);
        let mut at = self.index + 1;
        std::iter::from_fn(move || {
            (at < end).then(|| {
                let value = at;
                at = tape.skip(value);
                tape.view(value)
            })
        })
    }
}

impl PartialEq for AttrRef<'_> {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (AttrRef::S(a), AttrRef::S(b)) | (AttrRef::N(a), AttrRef::N(b)) => a == b,
            (AttrRef::Bool(a), AttrRef::Bool(b)) => a == b,
            (AttrRef::Null, AttrRef::Null) => true,
            (AttrRef::M(a), AttrRef::M(b)) => a.len == b.len && a.iter().eq(b.iter()),
            (AttrRef::L(a), AttrRef::L(b)) => a.len == b.len && a.iter().eq(b.iter()),
            _ => false,
        }
    }
}

impl Eq for AttrRef<'_> {}

impl PartialEq<AttrValue<'_>> for AttrRef<'_> {
    fn eq(&self, other: &AttrValue<'_>) -> bool {
        self.to_value() == *other
    }
}

impl fmt::Debug for AttrRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.to_value(), f)
    }
}

impl fmt::Debug for MapRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl fmt::Debug for ListRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `{"a":"x","b":[1,true],"a":null}` as the reader stores it.
    fn sample() -> Tape {
        let text = r#"{"a":"x","b":[1,true],"a":null}"#.to_owned();
        let at = |needle: &str| span(text.find(needle).unwrap(), needle.len());
        let nodes = vec![
            Node::M { len: 2, end: 9 },
            Node::KeyAt(at("a"), 8),
            Node::S(at("x")),
            Node::Key(at("b")),
            Node::L { len: 2, end: 7 },
            Node::N(at("1")),
            Node::Bool(true),
            Node::Repeated,
            Node::Null,
        ];
        Tape { text, nodes }
    }

    #[test]
    fn views_read_maps_lists_and_repeated_keys() {
        let tape = sample();
        let AttrRef::M(map) = tape.view(0) else {
            panic!("the root is a map")
        };
        assert_eq!((map.len(), map.is_empty()), (2, false));
        let keys: Vec<&str> = map.iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["a", "b"]);
        assert_eq!(map.get("a"), Some(AttrRef::Null));
        let Some(AttrRef::L(list)) = map.get("b") else {
            panic!("b is a list")
        };
        assert_eq!(list.len(), 2);
        assert_eq!(
            list.iter().collect::<Vec<_>>(),
            [AttrRef::N("1"), AttrRef::Bool(true)]
        );
        assert_eq!(map.get("c"), None);
    }

    #[test]
    fn a_view_is_its_value() {
        let tape = sample();
        let value = AttrValue::M(vec![
            ("a".into(), AttrValue::Null),
            (
                "b".into(),
                AttrValue::L(vec![AttrValue::N("1".into()), AttrValue::Bool(true)]),
            ),
        ]);
        let view = tape.view(0);
        assert_eq!(view.to_value(), value);
        assert_eq!(view, value);
        assert_eq!(view.size_bytes(), value.size_bytes());
        assert_eq!(format!("{view:?}"), format!("{value:?}"));
    }

    #[test]
    fn spans_of_the_tapes_text() {
        let mut tape = sample();
        let b = tape.span_of(&tape.text[9..12]);
        assert_eq!(tape.str(b), "\"b\"");
        let added = tape.append(|text| text.push_str("more"));
        assert_eq!(tape.str(added), "more");
        assert_eq!(
            tape.str(span(1000, 4)),
            "",
            "a span out of range reads as empty"
        );
        let source = tape.text[..31].to_owned();
        assert!(matches!(tape.verbatim(&source, b), Cow::Borrowed("\"b\"")));
        assert!(matches!(tape.verbatim(&source, added), Cow::Owned(ref s) if s == "more"));
    }
}
