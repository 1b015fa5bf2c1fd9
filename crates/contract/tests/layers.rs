//! The workspace's layers as a test (docs/design.md, "Layers"): every crate's manifest is
//! read and each dependency on another crate of the workspace is checked against the table
//! in docs/design.md, so an edge that breaks the layers fails `cargo test` naming the edge,
//! instead of waiting for a reviewer to notice a tool importing another tool's plumbing.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// The crates' layers, lowest first.
const LAYERS: &[&str] = &["contract", "library", "tool", "test"];

/// Dependencies no crate of the contract layer may have: it is pure (no AWS SDK, no runtime).
const NOT_PURE: &[&str] = &[
    "aws-config",
    "aws-sdk-",
    "aws-smithy-",
    "tokio",
    "lambda_runtime",
];

/// The workspace-hack crate (`cargo hakari`, .config/hakari.toml): the crates above the
/// contract layer depend on it so that every tool builds one feature set of each shared
/// dependency. It is no edge of the architecture, and it carries the AWS runtime, so the
/// contract layer must not depend on it.
const HACK: &str = "workspace-hack";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// One row of the table: the crate's layer and the workspace crates it may depend on
/// (`None`: any).
#[derive(Debug)]
struct Rule {
    layer: usize,
    allowed: Option<BTreeSet<String>>,
}

/// The table between `<!-- layers:begin -->` and `<!-- layers:end -->` of `design`.
fn rules(design: &str) -> BTreeMap<String, Rule> {
    let begin = design
        .find("<!-- layers:begin -->")
        .expect("the layers table's begin marker");
    let end = design
        .find("<!-- layers:end -->")
        .expect("the layers table's end marker");
    let names = |cell: &str| -> BTreeSet<String> {
        cell.split(',')
            .map(|name| name.trim().trim_matches('`').to_owned())
            .filter(|name| !name.is_empty() && name != "—")
            .collect()
    };
    let mut rules = BTreeMap::new();
    for line in design[begin..end].lines().filter(|l| l.starts_with('|')) {
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        let [name, layer, allowed] = cells[..] else {
            panic!("a layers row has three cells: {line}")
        };
        if name == "crate" || name.starts_with("---") {
            continue;
        }
        let layer = LAYERS
            .iter()
            .position(|l| *l == layer)
            .unwrap_or_else(|| panic!("unknown layer {layer:?} in: {line}"));
        let allowed = (allowed != "*").then(|| names(allowed));
        rules.insert(name.trim_matches('`').to_owned(), Rule { layer, allowed });
    }
    rules
}

/// A crate's manifest: its name and the dependencies of each kind.
#[derive(Debug)]
struct Manifest {
    name: String,
    normal: BTreeSet<String>,
    dev: BTreeSet<String>,
}

fn manifests() -> Vec<Manifest> {
    let mut found = Vec::new();
    for entry in fs::read_dir(root().join("crates")).expect("crates/") {
        let path = entry.expect("a crates/ entry").path().join("Cargo.toml");
        let Ok(text) = fs::read_to_string(&path) else {
            continue;
        };
        let value: toml::Value = text
            .parse()
            .unwrap_or_else(|e| panic!("{} is not TOML: {e}", path.display()));
        let keys = |table: &str| -> BTreeSet<String> {
            value
                .get(table)
                .and_then(toml::Value::as_table)
                .map(|t| t.keys().cloned().collect())
                .unwrap_or_default()
        };
        let mut normal = keys("dependencies");
        normal.extend(keys("build-dependencies"));
        found.push(Manifest {
            name: value["package"]["name"]
                .as_str()
                .expect("package.name")
                .to_owned(),
            normal,
            dev: keys("dev-dependencies"),
        });
    }
    found.sort_by(|a, b| a.name.cmp(&b.name));
    found
}

/// Every edge that breaks the rules, one line each.
fn violations(rules: &BTreeMap<String, Rule>, manifests: &[Manifest]) -> Vec<String> {
    let ours: BTreeSet<&str> = manifests.iter().map(|m| m.name.as_str()).collect();
    let mut broken = Vec::new();
    for manifest in manifests {
        let Some(rule) = rules.get(&manifest.name) else {
            broken.push(format!(
                "crate {} is not in the layers table of docs/design.md",
                manifest.name
            ));
            continue;
        };
        if rule.layer == 0 && manifest.normal.contains(HACK) {
            broken.push(format!(
                "{} -> {HACK}: the contract layer is pure, and the workspace-hack carries the \
                 AWS runtime (list the crate in .config/hakari.toml's traversal-excludes)",
                manifest.name
            ));
        }
        for dep in manifest
            .normal
            .iter()
            .filter(|d| ours.contains(d.as_str()) && *d != HACK)
        {
            if rule.allowed.as_ref().is_some_and(|a| !a.contains(dep)) {
                broken.push(format!(
                    "{} -> {dep}: docs/design.md does not allow {} to depend on {dep}",
                    manifest.name, manifest.name
                ));
            }
        }
        for dep in manifest.dev.iter().filter(|d| ours.contains(d.as_str())) {
            let Some(target) = rules.get(dep) else {
                continue;
            };
            let tool = LAYERS.iter().position(|l| *l == "tool").unwrap_or(2);
            if rule.layer < tool && target.layer == tool {
                broken.push(format!(
                    "{} -> {dep} (dev): a {} crate's tests may not depend on a tool",
                    manifest.name, LAYERS[rule.layer]
                ));
            }
        }
        if rule.layer == 0 {
            for dep in &manifest.normal {
                if NOT_PURE.iter().any(|p| dep.starts_with(p)) {
                    broken.push(format!(
                        "{} -> {dep}: the contract layer is pure (no AWS SDK, no runtime)",
                        manifest.name
                    ));
                }
            }
        }
    }
    broken
}

/// The workspace crates `name` depends on, directly or through others (normal edges).
fn closure<'a>(name: &'a str, manifests: &'a [Manifest]) -> BTreeSet<&'a str> {
    let by_name: BTreeMap<&str, &Manifest> =
        manifests.iter().map(|m| (m.name.as_str(), m)).collect();
    let mut seen = BTreeSet::new();
    let mut todo = vec![name];
    while let Some(next) = todo.pop() {
        for dep in by_name.get(next).map(|m| &m.normal).into_iter().flatten() {
            if by_name.contains_key(dep.as_str()) && seen.insert(dep.as_str()) {
                todo.push(dep);
            }
        }
    }
    seen
}

#[test]
fn every_dependency_edge_is_one_the_layers_allow() {
    let design = fs::read_to_string(root().join("docs/design.md")).expect("docs/design.md");
    let rules = rules(&design);
    let manifests = manifests();
    assert!(manifests.len() >= 15, "read {} manifests", manifests.len());
    let broken = violations(&rules, &manifests);
    assert!(
        broken.is_empty(),
        "the layers are broken:\n{}",
        broken.join("\n")
    );
    for row in rules.keys() {
        assert!(
            manifests.iter().any(|m| &m.name == row),
            "docs/design.md lists crate {row}, which the workspace does not have"
        );
    }
}

#[test]
fn only_the_tools_that_run_the_processor_build_it() {
    let manifests = manifests();
    for tool in ["verify", "query", "producer", "synth"] {
        let reached = closure(tool, &manifests);
        for forbidden in ["processor", "local-runner"] {
            assert!(
                !reached.contains(forbidden),
                "{tool} depends on {forbidden} (through {:?})",
                reached
            );
        }
        let runtime = manifests
            .iter()
            .filter(|m| reached.contains(m.name.as_str()) || m.name == tool)
            .find(|m| m.normal.contains("lambda_runtime"));
        assert!(
            runtime.is_none(),
            "{tool} builds lambda_runtime through {runtime:?}"
        );
    }
}

#[test]
fn an_edge_against_the_rules_is_named() {
    let design = "<!-- layers:begin -->\n| crate | layer | may depend on |\n|---|---|---|\n\
                  | `contract` | contract | — |\n| `aws-edge` | library | — |\n\
                  | `query` | tool | `aws-edge` |\n| `verify` | tool | `aws-edge` |\n\
                  | `pipeline-tests` | test | * |\n<!-- layers:end -->";
    let manifest = |name: &str, normal: &[&str], dev: &[&str]| Manifest {
        name: name.into(),
        normal: normal.iter().map(|s| s.to_string()).collect(),
        dev: dev.iter().map(|s| s.to_string()).collect(),
    };
    let manifests = [
        manifest("contract", &["tokio"], &[]),
        manifest("aws-edge", &[], &["query"]),
        manifest("query", &["aws-edge", "verify"], &[]),
        manifest("verify", &["aws-edge"], &["query"]),
        manifest("pipeline-tests", &["query", "verify"], &[]),
    ];
    assert_eq!(
        violations(&rules(design), &manifests),
        [
            "contract -> tokio: the contract layer is pure (no AWS SDK, no runtime)",
            "aws-edge -> query (dev): a library crate's tests may not depend on a tool",
            "query -> verify: docs/design.md does not allow query to depend on verify",
        ]
    );
}
