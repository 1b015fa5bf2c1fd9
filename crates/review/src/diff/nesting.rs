//! A linear look at how deeply a template's text nests brackets, before any parser sees it.
//!
//! Both readers stop at 128 levels (serde_json's and serde_yaml's recursion limits), but
//! serde_yaml's parser (libyaml) first reads the whole text, and it re-checks every open
//! flow collection (`[`, `{`) at each token: 100,000 nested `[` take it tens of seconds
//! before the depth limit is even looked at. This scan refuses such text in one pass.
//!
//! It counts flow brackets, not YAML nodes, with just enough YAML to skip what is not a
//! bracket: quoted scalars (`'it''s'`, `"a\"b"`) and comments are skipped; inside a flow
//! collection every bracket counts; outside one (block style), a bracket counts only where
//! a node can start, after a space or at the start of a line, so `arn:${Bucket}` in a plain
//! scalar does not. It can be fooled by text no template holds (hundreds of unbalanced
//! brackets in a block scalar): it may then refuse a document serde_yaml would also have
//! refused at 128 levels of anything, or let through one the parsers then refuse slowly;
//! it never changes how an accepted document reads.

/// The deepest bracket nesting read, as deep as serde_json and serde_yaml go.
pub const MAX_DEPTH: usize = 128;

/// Where the text first nests deeper than `limit`: the 1-based line and column (in
/// characters) of the bracket that opens level `limit + 1`. `None` when it never does.
pub fn too_deep(text: &str, limit: usize) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        let byte = bytes[i];
        let after_space = i == 0 || matches!(bytes[i - 1], b' ' | b'\t' | b'\n' | b'\r');
        // Where a scalar can start: after a space, or after a flow indicator (`{"a":"b"}`).
        let node_start =
            after_space || (depth > 0 && matches!(bytes[i - 1], b'[' | b'{' | b',' | b':'));
        match byte {
            b'#' if after_space => i = skip_line(bytes, i),
            b'"' if node_start => i = skip_double_quoted(bytes, i),
            b'\'' if node_start => i = skip_single_quoted(bytes, i),
            b'[' | b'{' if depth > 0 || node_start => {
                depth += 1;
                if depth > limit {
                    return Some(position(text, i));
                }
            }
            b']' | b'}' if depth > 0 => depth -= 1,
            _ => {}
        }
        i += 1;
    }
    None
}

/// The index of the line's end (its `\n`, or the text's end).
fn skip_line(bytes: &[u8], start: usize) -> usize {
    bytes[start..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |n| start + n)
}

/// The index of the `"` closing the scalar opened at `start` (backslash escapes skipped).
fn skip_double_quoted(bytes: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// The index of the `'` closing the scalar opened at `start` (`''` is a quote inside it).
fn skip_single_quoted(bytes: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while i < bytes.len() {
        if bytes[i] == b'\'' {
            if bytes.get(i + 1) == Some(&b'\'') {
                i += 2;
                continue;
            }
            return i;
        }
        i += 1;
    }
    bytes.len()
}

/// The 1-based line and character column of a byte offset.
fn position(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |n| n + 1);
    (
        before.matches('\n').count() + 1,
        before[line_start..].chars().count() + 1,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_brackets_are_found_at_the_first_one_past_the_limit() {
        let text = format!("{}{}", "[".repeat(200), "]".repeat(200));
        assert_eq!(too_deep(&text, MAX_DEPTH), Some((1, 129)));
        let json = format!("{}1{}", r#"{"a":"#.repeat(200), "}".repeat(200));
        assert_eq!(too_deep(&json, 3), Some((1, 16)));
        let yaml = "a:\n  b: [[[\n   [x]]]]\n";
        assert_eq!(too_deep(yaml, 3), Some((3, 4)));
        assert_eq!(too_deep(yaml, 4), None);
    }

    #[test]
    fn brackets_in_quotes_comments_and_plain_scalars_do_not_count() {
        let text = "A: \"[[[[\" # {{{{\nB: '[[''[['\nC: arn:${X}{{{{\nD: [\"]]]\", '}'] \n";
        assert_eq!(too_deep(text, 1), None);
        let json = r#"{"a": "[[[[", "b": ["\"[[", {"c": "{{"}]}"#;
        assert_eq!(too_deep(json, 3), None);
        assert_eq!(too_deep(json, 2), Some((1, 29)));
    }

    #[test]
    fn closing_brackets_outside_flow_style_are_ignored() {
        assert_eq!(too_deep("a: x]]]]}}\nb: [[1]]\n", 2), None);
        assert_eq!(too_deep("", 0), None);
        assert_eq!(too_deep("é: [[", 1), Some((1, 5)));
    }
}
