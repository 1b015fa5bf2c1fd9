//! Comparing two JSON values into the list of paths that differ, and a line diff for the
//! multi-line strings (dashboard bodies, inline code) whose change is one line in two hundred.

use std::fmt;

use serde_json::Value;

use super::intrinsic::is_intrinsic;

/// One step into a value: a mapping key or a list index.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Segment {
    /// A mapping key.
    Key(String),
    /// A list index.
    Index(usize),
}

/// Where a change is, below the compared value: `Properties.Tags[1].Value`.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Path(pub Vec<Segment>);

impl Path {
    /// The path one step further in.
    pub fn child(&self, segment: Segment) -> Path {
        let mut segments = self.0.clone();
        segments.push(segment);
        Path(segments)
    }

    /// The mapping keys of the path, list indexes left out: what schema paths name.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().filter_map(|segment| match segment {
            Segment::Key(key) => Some(key.as_str()),
            Segment::Index(_) => None,
        })
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Key(key) if i == 0 => write!(f, "{key}")?,
                Segment::Key(key) => write!(f, ".{key}")?,
                Segment::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

/// A value that differs between the old and the new template at one path. `old` is `None`
/// when the path was added, `new` when it was removed.
#[derive(Debug, Clone, PartialEq)]
pub struct PropertyChange {
    /// Where, below the compared entry.
    pub path: Path,
    /// The old value, if the path existed.
    pub old: Option<Value>,
    /// The new value, if the path exists.
    pub new: Option<Value>,
}

/// Every path at which `old` and `new` differ, in document order.
///
/// Mappings are compared key by key and lists of equal length item by item; in a list whose
/// length changed, equal items are matched and the others reported as removed or added.
/// Scalars and intrinsic function calls are compared as a whole, so a change reads
/// `Properties.Name: !Sub "a" → !Sub "b"` rather than ending in `.Fn::Sub`.
pub fn changes(old: &Value, new: &Value) -> Vec<PropertyChange> {
    let mut found = Vec::new();
    walk(&Path::default(), old, new, &mut found);
    found
}

fn walk(path: &Path, old: &Value, new: &Value, found: &mut Vec<PropertyChange>) {
    if old == new {
        return;
    }
    match (old, new) {
        (Value::Object(a), Value::Object(b)) if !is_intrinsic(old) && !is_intrinsic(new) => {
            for (key, old_value) in a {
                let child = path.child(Segment::Key(key.clone()));
                match b.get(key) {
                    Some(new_value) => walk(&child, old_value, new_value, found),
                    None => found.push(PropertyChange {
                        path: child,
                        old: Some(old_value.clone()),
                        new: None,
                    }),
                }
            }
            for (key, new_value) in b.iter().filter(|(k, _)| !a.contains_key(*k)) {
                found.push(PropertyChange {
                    path: path.child(Segment::Key(key.clone())),
                    old: None,
                    new: Some(new_value.clone()),
                });
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (index, (x, y)) in a.iter().zip(b).enumerate() {
                walk(&path.child(Segment::Index(index)), x, y, found);
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len().max(b.len()) <= MAX_LINE_DIFF => {
            // Items inserted or dropped: match equal items, report the rest one by one.
            for edit in edits(a, b) {
                match edit {
                    Edit::Keep(..) => {}
                    Edit::Remove(i) => found.push(PropertyChange {
                        path: path.child(Segment::Index(i)),
                        old: Some(a[i].clone()),
                        new: None,
                    }),
                    Edit::Add(j) => found.push(PropertyChange {
                        path: path.child(Segment::Index(j)),
                        old: None,
                        new: Some(b[j].clone()),
                    }),
                }
            }
        }
        _ => found.push(PropertyChange {
            path: path.clone(),
            old: Some(old.clone()),
            new: Some(new.clone()),
        }),
    }
}

/// A value on one line for reports (intrinsics in short form), cut to `max_chars` with `…`;
/// `(absent)` for a side that does not exist.
pub fn brief(value: Option<&Value>, max_chars: usize) -> String {
    let Some(value) = value else {
        return "(absent)".into();
    };
    let text = super::intrinsic::show(value).replace('\n', " ");
    if text.chars().count() <= max_chars {
        return text;
    }
    let cut: String = text.chars().take(max_chars.saturating_sub(1)).collect();
    format!("{cut}…")
}

/// Both sides of a change on one line each, cut to `max_chars`; when both are long, the
/// window starts a little before their first difference, so the change stays visible.
pub fn brief_pair(old: Option<&Value>, new: Option<&Value>, max_chars: usize) -> (String, String) {
    let (Some(a), Some(b)) = (old, new) else {
        return (brief(old, max_chars), brief(new, max_chars));
    };
    let a: Vec<char> = super::intrinsic::show(a)
        .replace('\n', " ")
        .chars()
        .collect();
    let b: Vec<char> = super::intrinsic::show(b)
        .replace('\n', " ")
        .chars()
        .collect();
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let start = if a.len().max(b.len()) > max_chars {
        common.saturating_sub(CONTEXT_CHARS)
    } else {
        0
    };
    let window = |text: &[char]| -> String {
        let budget = max_chars.saturating_sub(2);
        let end = (start + budget).min(text.len());
        let mut out: String = if start > 0 {
            "…".into()
        } else {
            String::new()
        };
        out.extend(&text[start.min(text.len())..end]);
        if end < text.len() {
            out.push('…');
        }
        out
    };
    (window(&a), window(&b))
}

/// Characters kept before the first difference when a long value is cut.
const CONTEXT_CHARS: usize = 30;

/// The text of a multi-line string, or of a `Fn::Sub` over one.
pub fn multiline_text(value: &Value) -> Option<&str> {
    let text = match value {
        Value::String(text) => text.as_str(),
        Value::Object(map) if map.len() == 1 => match map.get("Fn::Sub")? {
            Value::String(text) => text.as_str(),
            Value::Array(items) => items.first()?.as_str()?,
            _ => return None,
        },
        _ => return None,
    };
    text.contains('\n').then_some(text)
}

/// One line of a line diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line<'a> {
    /// Only in the old text.
    Removed(&'a str),
    /// Only in the new text.
    Added(&'a str),
}

/// The lines removed and added between two texts (a longest-common-subsequence diff), in
/// order. Texts of more than [`MAX_LINE_DIFF`] lines are compared as two blocks.
pub fn line_diff<'a>(old: &'a str, new: &'a str) -> Vec<Line<'a>> {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    if a.len() > MAX_LINE_DIFF || b.len() > MAX_LINE_DIFF {
        let mut out: Vec<Line> = a.into_iter().map(Line::Removed).collect();
        out.extend(b.into_iter().map(Line::Added));
        return out;
    }
    edits(&a, &b)
        .into_iter()
        .filter_map(|edit| match edit {
            Edit::Keep(..) => None,
            Edit::Remove(i) => Some(Line::Removed(a[i])),
            Edit::Add(j) => Some(Line::Added(b[j])),
        })
        .collect()
}

/// One step of turning `a` into `b`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Edit {
    /// `a[i]` equals `b[j]`.
    Keep(usize, usize),
    /// `a[i]` is not in `b`.
    Remove(usize),
    /// `b[j]` is not in `a`.
    Add(usize),
}

/// A shortest edit from `a` to `b` by longest common subsequence (quadratic: callers bound
/// the lengths by [`MAX_LINE_DIFF`]).
fn edits<T: PartialEq>(a: &[T], b: &[T]) -> Vec<Edit> {
    // lcs[i][j]: length of the common subsequence of a[i..] and b[j..].
    let mut lcs = vec![vec![0u32; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < a.len() && j < b.len() {
        if a[i] == b[j] {
            out.push(Edit::Keep(i, j));
            i += 1;
            j += 1;
        } else if lcs[i + 1][j] >= lcs[i][j + 1] {
            out.push(Edit::Remove(i));
            i += 1;
        } else {
            out.push(Edit::Add(j));
            j += 1;
        }
    }
    out.extend((i..a.len()).map(Edit::Remove));
    out.extend((j..b.len()).map(Edit::Add));
    out
}

/// Texts (and lists) longer than this are not diffed item by item (the table is quadratic).
pub const MAX_LINE_DIFF: usize = 3000;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn paths(old: Value, new: Value) -> Vec<String> {
        changes(&old, &new)
            .iter()
            .map(|c| c.path.to_string())
            .collect()
    }

    #[test]
    fn equal_values_have_no_changes() {
        let value = json!({"A": [1, {"B": "c"}]});
        assert!(changes(&value, &value).is_empty());
    }

    #[test]
    fn nested_changes_name_their_path() {
        assert_eq!(
            paths(
                json!({"Properties": {"Tags": [{"Key": "E", "Value": "dev"}], "Old": 1}}),
                json!({"Properties": {"Tags": [{"Key": "E", "Value": "prod"}], "New": 2}}),
            ),
            [
                "Properties.Tags[0].Value",
                "Properties.Old",
                "Properties.New"
            ]
        );
    }

    #[test]
    fn added_and_removed_keys_have_one_side() {
        let found = changes(&json!({"A": 1}), &json!({"B": 2}));
        assert_eq!(found[0].new, None);
        assert_eq!(found[1].old, None);
    }

    #[test]
    fn intrinsics_change_as_a_whole() {
        assert_eq!(
            paths(
                json!({"N": {"Fn::Sub": "a-${X}"}}),
                json!({"N": {"Fn::Sub": "b-${X}"}})
            ),
            ["N"]
        );
    }

    #[test]
    fn line_diff_shows_only_changed_lines() {
        let old = "a\nb\nc\nd";
        let new = "a\nB\nc\nd\ne";
        assert_eq!(
            line_diff(old, new),
            [Line::Removed("b"), Line::Added("B"), Line::Added("e")]
        );
    }

    #[test]
    fn brief_cuts_long_values_and_names_absent_ones() {
        assert_eq!(brief(Some(&json!("abcdef")), 5), "\"abc…");
        assert_eq!(brief(Some(&json!(3)), 5), "3");
        assert_eq!(brief(None, 5), "(absent)");
    }

    #[test]
    fn long_values_are_cut_around_their_first_difference() {
        let old = json!(format!("{}-dev-{}", "a".repeat(100), "z".repeat(100)));
        let new = json!(format!("{}-prod-{}", "a".repeat(100), "z".repeat(100)));
        let (a, b) = brief_pair(Some(&old), Some(&new), 60);
        assert!(a.starts_with('…') && a.contains("-dev-"), "{a}");
        assert!(b.contains("-prod-"), "{b}");
        assert!(a.chars().count() <= 60);
        assert_eq!(
            brief_pair(Some(&json!(1)), None, 60),
            ("1".into(), "(absent)".into())
        );
    }

    #[test]
    fn inserted_list_items_are_reported_alone() {
        let found = changes(&json!({"L": ["a", "b", "c"]}), &json!({"L": ["a", "c"]}));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].path.to_string(), "L[1]");
        assert_eq!(found[0].old, Some(json!("b")));
        assert_eq!(found[0].new, None);
    }

    #[test]
    fn multiline_text_sees_through_sub() {
        assert_eq!(multiline_text(&json!({"Fn::Sub": "a\nb"})), Some("a\nb"));
        assert_eq!(multiline_text(&json!("one line")), None);
    }
}
