//! Documentation generated from the code: a block between two markers in a markdown file
//! (the cost and capacity tables), or a whole file (the configuration reference). Tests
//! compare each with what the code generates now, and `UPDATE_DOCS=1` rewrites it, so the
//! documents cannot drift from the models they describe.

use std::path::Path;

/// A generated block's place in its document.
#[derive(Debug, Clone, Copy)]
pub struct Markers {
    /// The line before the block, e.g. `<!-- cost:begin -->`.
    pub begin: &'static str,
    /// The line after it.
    pub end: &'static str,
}

impl Markers {
    /// `document` with the text between the markers replaced by `block`; `None` when the
    /// markers are missing or out of order.
    pub fn splice(&self, document: &str, block: &str) -> Option<String> {
        let start = document.find(self.begin)? + self.begin.len();
        let end = document[start..].find(self.end)? + start;
        Some(format!("{}{block}{}", &document[..start], &document[end..]))
    }
}

/// What a document should hold.
pub enum Expected<'a> {
    /// The whole file.
    Whole(&'a str),
    /// A block between markers; the rest of the file is written by hand.
    Block(Markers, &'a str),
}

/// Checks that the file at `path` holds what is `expected`, or with `UPDATE_DOCS=1` in the
/// environment makes it so. The error says what is stale and `regenerate`, the command
/// that refreshes it.
pub fn check_or_update(path: &Path, expected: Expected, regenerate: &str) -> Result<(), String> {
    let shown = path.display();
    let current = std::fs::read_to_string(path).unwrap_or_default();
    let wanted = match expected {
        Expected::Whole(text) => text.to_owned(),
        Expected::Block(markers, block) => markers.splice(&current, block).ok_or_else(|| {
            format!(
                "{shown} lacks the {} / {} markers",
                markers.begin, markers.end
            )
        })?,
    };
    if std::env::var_os("UPDATE_DOCS").is_some_and(|v| v == "1") {
        if wanted != current {
            std::fs::write(path, &wanted).map_err(|e| format!("cannot write {shown}: {e}"))?;
        }
        return Ok(());
    }
    if wanted == current {
        Ok(())
    } else {
        Err(format!(
            "{shown} is out of date with the code; run `{regenerate}` and commit the result"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MARKERS: Markers = Markers {
        begin: "<!-- x:begin -->",
        end: "<!-- x:end -->",
    };

    #[test]
    fn splice_replaces_only_between_the_markers() {
        let document = "a\n<!-- x:begin -->\nold\n<!-- x:end -->\nb\n";
        assert_eq!(
            MARKERS.splice(document, "\nnew\n").unwrap(),
            "a\n<!-- x:begin -->\nnew\n<!-- x:end -->\nb\n"
        );
        assert_eq!(MARKERS.splice("no markers", "x"), None);
        assert_eq!(MARKERS.splice("<!-- x:end --> <!-- x:begin -->", "x"), None);
    }

    #[test]
    fn a_stale_block_names_the_file_and_the_command() {
        let dir = std::env::temp_dir().join(format!("synth-generated-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("doc.md");
        std::fs::write(&path, "a\n<!-- x:begin -->\nold\n<!-- x:end -->\n").unwrap();
        if std::env::var_os("UPDATE_DOCS").is_none() {
            let err = check_or_update(&path, Expected::Block(MARKERS, "\nnew\n"), "make docs")
                .unwrap_err();
            assert!(
                err.ends_with(
                    "is out of date with the code; run `make docs` and commit the result"
                ),
                "{err}"
            );
            assert!(
                check_or_update(&path, Expected::Block(MARKERS, "\nold\n"), "make docs").is_ok()
            );
            assert!(check_or_update(&path, Expected::Whole("other"), "make docs").is_err());
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
