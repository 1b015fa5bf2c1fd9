//! DynamoDB attribute values, independent of any AWS SDK (the processor converts them at
//! the edge), with DynamoDB's size accounting.

/// One attribute value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttrValue {
    /// A string.
    S(String),
    /// A number as its exact decimal text: never rounded through a float.
    N(String),
    /// A boolean.
    Bool(bool),
    /// JSON null.
    Null,
    /// A map, in the order the source had it.
    M(Vec<(String, AttrValue)>),
    /// A list.
    L(Vec<AttrValue>),
}

impl AttrValue {
    /// Bytes DynamoDB counts for this value (its item size rules): strings by UTF-8
    /// length, numbers about one byte per two significant digits plus one, booleans and
    /// null one byte, maps and lists three bytes plus one per element plus their contents.
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

fn number_size(text: &str) -> usize {
    let digits = text
        .bytes()
        .take_while(|b| *b != b'e' && *b != b'E')
        .filter(u8::is_ascii_digit)
        .count();
    digits.div_ceil(2) + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_follow_dynamodbs_rules() {
        assert_eq!(AttrValue::S("héllo".into()).size_bytes(), 6);
        assert_eq!(AttrValue::N("12345".into()).size_bytes(), 4);
        assert_eq!(AttrValue::N("-1.5e10".into()).size_bytes(), 2);
        assert_eq!(AttrValue::Bool(true).size_bytes(), 1);
        let map = AttrValue::M(vec![("a".into(), AttrValue::S("xy".into()))]);
        assert_eq!(map.size_bytes(), 3 + 1 + 1 + 2);
        assert_eq!(AttrValue::L(vec![AttrValue::Null]).size_bytes(), 3 + 1 + 1);
    }
}
