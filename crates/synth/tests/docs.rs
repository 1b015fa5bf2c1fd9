//! The README is the front door and docs/ the manual: the README stays short, says what synth
//! really prints, and every link in either resolves; each generated block lives in exactly
//! one file (the tests that regenerate them are in src/config/tests.rs and tests/cost.rs).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The README's budget: a quick start, what you get, the layout and links, not the manual.
const README_MAX_LINES: usize = 250;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// README.md and every markdown file of docs/, as (path relative to the root, text).
fn documents() -> Vec<(String, String)> {
    let root = root();
    let mut names: Vec<String> = std::fs::read_dir(root.join("docs"))
        .expect("docs/ exists")
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".md"))
        .map(|name| format!("docs/{name}"))
        .collect();
    names.sort();
    names.insert(0, "README.md".to_string());
    names
        .into_iter()
        .map(|name| {
            let text = read(&root.join(&name));
            (name, text)
        })
        .collect()
}

/// Markdown text outside fenced code blocks, where links and headings are what they seem.
fn prose(text: &str) -> impl Iterator<Item = &str> {
    let mut fenced = false;
    text.lines().filter(move |line| {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            return false;
        }
        !fenced
    })
}

/// The targets of inline links, `[text](target)`.
fn links(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for line in prose(text) {
        let mut rest = line;
        while let Some(at) = rest.find("](") {
            rest = &rest[at + 2..];
            if let Some(end) = rest.find(')') {
                found.push(rest[..end].to_string());
                rest = &rest[end..];
            }
        }
    }
    found
}

/// GitHub's anchors for a document's headings (see [`anchor`]).
fn anchors(text: &str) -> BTreeSet<String> {
    prose(text)
        .filter_map(|line| line.strip_prefix('#'))
        .map(|heading| anchor(heading.trim_start_matches('#')))
        .collect()
}

/// GitHub's anchor for a heading's text: lowercase, punctuation dropped, spaces to `-`.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

#[test]
fn the_readme_is_a_front_door_not_the_manual() {
    let readme = read(&root().join("README.md"));
    let lines = readme.lines().count();
    assert!(
        lines < README_MAX_LINES,
        "README.md has {lines} lines, the budget is under {README_MAX_LINES}: move reference \
         material into docs/ and link it"
    );
    for section in [
        "## Quick start",
        "## What you get",
        "## Layout",
        "## Deploy and review",
    ] {
        assert!(readme.contains(section), "README.md lacks {section:?}");
    }
}

#[test]
fn every_link_in_the_readme_and_docs_resolves() {
    let root = root();
    let mut broken = Vec::new();
    for (name, text) in documents() {
        let dir = Path::new(&name).parent().unwrap_or(Path::new(""));
        for link in links(&text) {
            if link.contains("://") || link.starts_with("mailto:") {
                continue;
            }
            let (file, anchor) = link.split_once('#').unwrap_or((&link, ""));
            let target = if file.is_empty() {
                root.join(&name)
            } else {
                root.join(dir).join(file)
            };
            if !target.exists() {
                broken.push(format!("{name}: {link} (no such file)"));
                continue;
            }
            let is_markdown = target.extension().is_some_and(|ext| ext == "md");
            if !anchor.is_empty() && is_markdown && !anchors(&read(&target)).contains(anchor) {
                broken.push(format!("{name}: {link} (no such heading)"));
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

/// A generated block in two files drifts in one of them; each has exactly one home.
#[test]
fn each_generated_block_lives_in_one_file() {
    let homes = [
        ("<!-- cost:begin -->", "docs/cost.md"),
        (
            "| Key | Type | Default | Allowed | Description |",
            "docs/configuration.md",
        ),
        ("| Preset | Changes |", "docs/configuration.md"),
    ];
    let documents = documents();
    for (marker, home) in homes {
        let holders: Vec<&str> = documents
            .iter()
            .filter(|(_, text)| text.contains(marker))
            .map(|(name, _)| name.as_str())
            .collect();
        assert_eq!(holders, [home], "{marker:?}");
    }
}

/// The README quotes synth's error for a bad value word for word.
#[test]
fn the_readme_shows_the_error_synth_prints() {
    let output = Command::new(env!("CARGO_BIN_EXE_synth"))
        .args(["--set", "kinesis_shard_count=0"])
        .output()
        .expect("run synth");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let message = stderr.lines().next().expect("an error line");
    let readme = read(&root().join("README.md"));
    assert!(
        readme.contains(&format!("\n{message}\n")),
        "README.md should show synth's message as it is printed:\n{message}"
    );
}

/// Every output the template can have is named in the README's "What you get".
#[test]
fn the_readme_names_every_stack_output() {
    let output = Command::new(env!("CARGO_BIN_EXE_synth"))
        .args([
            "--format",
            "json",
            "--set",
            "sns_email_endpoint=ops@example.com",
        ])
        .output()
        .expect("run synth");
    assert!(output.status.success());
    let template: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let outputs = template["Outputs"].as_object().expect("Outputs");
    let readme = read(&root().join("README.md"));
    let missing: Vec<&String> = outputs.keys().filter(|k| !readme.contains(*k)).collect();
    assert!(missing.is_empty(), "README.md does not name {missing:?}");
}

/// Every `.rs` file under crates/ (build output skipped), as (path relative to the root, text).
/// A file that vanishes while it is read (someone is moving it) is skipped.
fn rust_sources() -> Vec<(String, String)> {
    fn walk(dir: &Path, root: &Path, found: &mut Vec<(String, String)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| Some(e.ok()?.path())).collect();
        paths.sort();
        for path in paths {
            let file_name = path.file_name().unwrap_or_default().to_string_lossy();
            if path.is_dir() {
                if file_name != "target" && !file_name.starts_with('.') {
                    walk(&path, root, found);
                }
            } else if file_name.ends_with(".rs") {
                if let Ok(text) = std::fs::read_to_string(&path) {
                    let relative = path.strip_prefix(root).unwrap_or(&path);
                    found.push((relative.display().to_string(), text));
                }
            }
        }
    }
    let root = root();
    let mut found = Vec::new();
    walk(&root.join("crates"), &root, &mut found);
    found
}

/// Skips whitespace and the markers of a comment wrapped onto the next line (`//!`, `///`,
/// `//`), so a citation reads the same however rustfmt or a person wrapped it.
fn skip_gap(mut text: &str) -> &str {
    loop {
        let trimmed = text.trim_start();
        match ["//!", "///", "//"]
            .iter()
            .find_map(|marker| trimmed.strip_prefix(marker))
        {
            Some(rest) => text = rest,
            None => return trimmed,
        }
    }
}

/// The sections a citation names after the file: `, "Dead letters"`, or several joined by
/// `,`, `and` or `or` (`, "Record identity" and "On-failure records"`). Nothing when the file
/// name is not followed by a comma and a quoted name.
fn cited_sections(after: &str) -> Vec<&str> {
    let mut sections = Vec::new();
    let Some(mut rest) = after.strip_prefix(',') else {
        return sections;
    };
    while let Some(quoted) = skip_gap(rest).strip_prefix('"') {
        let Some(end) = quoted.find('"') else { break };
        let section = &quoted[..end];
        if section.is_empty() || section.contains('\n') {
            break;
        }
        sections.push(section);
        let next = skip_gap(&quoted[end + 1..]);
        match [",", "and ", "or "]
            .iter()
            .find_map(|joint| next.strip_prefix(joint))
        {
            Some(more) => rest = more,
            None => break,
        }
    }
    sections
}

/// The design document's file name, written in two pieces so that this file's own text, which
/// the test below reads too, holds no citation of it.
const DESIGN_FILE: &str = concat!("design", ".md");

/// What is wrong with the mentions of the design file in `text` (the file `name`): a
/// spelling other than the lower-case one (the old upper-case name is no file of the
/// repository), a Rust source or the README not citing it from the root as `docs/design.md`,
/// and a section, `#anchor` or quoted heading, that `headings` (docs/design.md's anchors)
/// lacks.
fn design_citation_problems(name: &str, text: &str, headings: &BTreeSet<String>) -> Vec<String> {
    const FILE: &str = DESIGN_FILE;
    let from_root = name.ends_with(".rs") || name == "README.md";
    let lower = text.to_ascii_lowercase();
    let mut problems = Vec::new();
    for (at, _) in lower.match_indices(FILE) {
        let before = &text[..at];
        if before.ends_with(|c: char| c.is_ascii_alphanumeric()) {
            continue; // another file's name, e.g. "redesign.md"
        }
        let line = before.matches('\n').count() + 1;
        let spelled = &text[at..at + FILE.len()];
        if spelled != FILE {
            problems.push(format!(
                "{name}:{line}: `{spelled}` is no file of the repository; cite docs/{FILE}"
            ));
            continue;
        }
        if from_root && !before.ends_with("docs/") {
            problems.push(format!(
                "{name}:{line}: cite the design as docs/{FILE}, its path from the root"
            ));
        }
        let after = &text[at + FILE.len()..];
        let sections: Vec<String> = match after.strip_prefix('#') {
            Some(fragment) => vec![fragment
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '-' || *c == '_')
                .collect()],
            None => cited_sections(after).into_iter().map(anchor).collect(),
        };
        for section in sections {
            if !headings.contains(&section) {
                problems.push(format!(
                    "{name}:{line}: cites a section of docs/{FILE} it does not have (#{section})"
                ));
            }
        }
    }
    problems
}

#[test]
fn the_design_citation_rules_read_wrapped_comments_and_links() {
    let headings: BTreeSet<String> = ["record-identity", "on-failure-records", "table-items"]
        .map(String::from)
        .into();
    // `@` stands for the file's name, so these examples are no citations themselves.
    let check = |name: &str, text: &str| {
        let text = text.replace('@', DESIGN_FILE);
        design_citation_problems(name, &text, &headings)
    };
    let wrapped = "//! written once (docs/@,\n//! \"Record identity\" and \"On-failure records\").";
    assert_eq!(check("a.rs", wrapped), Vec::<String>::new());
    assert_eq!(check("a.rs", "let path = root.join(\"docs/@\");").len(), 0);
    assert_eq!(check("a.rs", "//! (docs/@, \"Dead letters\")").len(), 1);
    assert_eq!(
        check("a.rs", "//! (docs/@, \"Record identity\", \"Metrics\")").len(),
        1
    );
    assert_eq!(check("a.rs", "//! keyed as @ says").len(), 1);
    let upper = format!("//! keyed as {}.md says", "DESIGN");
    assert_eq!(check("a.rs", &upper).len(), 1);
    assert_eq!(check("docs/a.md", "[the key](@#table-items)").len(), 0);
    assert_eq!(check("docs/a.md", "[the key](@#the-key)").len(), 1);
    assert_eq!(check("docs/a.md", "a re@ is another file").len(), 0);
}

/// The project's contracts are stated in docs/design.md, and the code and docs cite that file:
/// every `.rs` file under crates/ and every document names it `docs/design.md` (the old
/// upper-case name is no file here), and a citation that names a section, as
/// `docs/design.md, "Dead letters"` or `docs/design.md#dead-letters`, names a heading the
/// file has, so a renamed section cannot leave comments pointing nowhere.
#[test]
fn design_citations_point_at_docs_design_md_and_its_sections() {
    let design = read(&root().join("docs/design.md"));
    let headings = anchors(&design);
    let mut problems: Vec<String> = rust_sources()
        .into_iter()
        .chain(documents())
        .flat_map(|(name, text)| design_citation_problems(&name, &text, &headings))
        .collect();
    problems.sort();
    let files: BTreeSet<&str> = problems
        .iter()
        .filter_map(|problem| problem.split(':').next())
        .collect();
    assert!(
        problems.is_empty(),
        "{} citation(s) of the design in {} file(s) to fix:\n{}",
        problems.len(),
        files.len(),
        problems.join("\n")
    );
}
