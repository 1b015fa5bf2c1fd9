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

/// GitHub's anchors for a document's headings: lowercase, punctuation dropped, spaces to `-`.
fn anchors(text: &str) -> BTreeSet<String> {
    prose(text)
        .filter_map(|line| line.strip_prefix('#'))
        .map(|heading| {
            heading
                .trim_start_matches('#')
                .trim()
                .to_lowercase()
                .chars()
                .filter_map(|c| match c {
                    ' ' => Some('-'),
                    c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
                    _ => None,
                })
                .collect()
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
