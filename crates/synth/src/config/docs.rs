//! The configuration reference, generated from the key table so the documentation cannot
//! drift from what is enforced. docs/configuration.md (at the repository root) holds its
//! markdown form, the only copy; a test keeps that file current.

use super::keys::{self, KEYS};
use super::{layers, preset_source, Config, PRESETS};

/// One configuration key as documented for users: what it is, its default, what is accepted
/// and why it exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyDoc {
    /// The key, as written in TOML and `--set`.
    pub key: &'static str,
    /// The TOML type: integer, boolean, string, list of strings or table of strings.
    pub kind: &'static str,
    /// The default (the `dev` preset's value), written as TOML; `unset` for a key the
    /// defaults leave out (its value then follows from other keys).
    pub default: String,
    /// The accepted values, e.g. `1–1000`.
    pub allowed: String,
    /// What the key controls, and where its default or range came from when not the recipe.
    pub description: &'static str,
}

/// The default shown for a key the defaults leave out (`lambda_filter_encryption`).
pub const UNSET: &str = "unset";

/// One row per key, in documentation order, for docs/configuration.md and for tests.
pub fn reference() -> Vec<KeyDoc> {
    let defaults = Config::default().to_table().unwrap_or_default();
    KEYS.iter()
        .map(|spec| KeyDoc {
            key: spec.key,
            kind: spec.check.kind(),
            default: defaults
                .get(spec.key)
                .map(|v| v.to_string())
                .unwrap_or_else(|| UNSET.to_owned()),
            allowed: spec.check.allowed(),
            description: spec.description,
        })
        .collect()
}

/// The whole of docs/configuration.md: how layers combine, every key, and what each preset
/// changes.
pub fn reference_markdown() -> String {
    let mut out = String::from(HEADER);
    out.push_str("| Key | Type | Default | Allowed | Description |\n");
    out.push_str("|---|---|---|---|---|\n");
    for doc in reference() {
        out.push_str(&format!(
            "| `{}` | {} | `{}` | {} | {} |\n",
            doc.key,
            doc.kind,
            cell(&doc.default),
            cell(&doc.allowed),
            cell(doc.description)
        ));
    }
    out.push_str(PRESETS_HEADER);
    for name in PRESETS {
        out.push_str(&format!("| `{name}` | {} |\n", preset_changes(name)));
    }
    out
}

const HEADER: &str = "\
# Configuration reference

<!-- Generated from crates/synth/src/config/keys.rs and crates/synth/presets/*.toml.
     Do not edit by hand: run `UPDATE_DOCS=1 cargo test -p synth config` to regenerate. -->

The stack is configured by one TOML file whose keys keep the names of the original Terraform
recipe's variables. Values are layered key by key, later layers winning:

1. the preset (`--preset NAME`, default `dev`, whose values are the recipe's defaults),
2. the file (`--config FILE`), which lists only the keys it wants to change,
3. each `--set key=value`, in order. The value is read as TOML when it parses (`5`, `true`,
   `[\"ALL\"]`, `{ Team = \"data\" }`), otherwise as plain text, so
   `--set sns_email_endpoint=ops@example.com` needs no quotes. `--set additional_tags.Team=data`
   sets a single tag.

Every value is checked before anything is synthesized; all problems are reported at once, each
naming the key, the rule, the value given and where it came from.

";

const PRESETS_HEADER: &str = "
## Presets

Each preset starts from the defaults above and changes only these keys.

| Preset | Changes |
|---|---|
";

/// The keys a preset sets, as `key = value` items.
fn preset_changes(name: &str) -> String {
    let Some(source) = preset_source(name) else {
        return "(missing)".to_string();
    };
    match layers::parse_document(source, &format!("preset {name:?}")) {
        Ok(entries) if entries.is_empty() => "none: the recipe's defaults".to_string(),
        Ok(entries) => {
            let items: Vec<String> = entries
                .iter()
                .map(|(key, value, _)| format!("`{key} = {}`", cell(&keys::show(value))))
                .collect();
            items.join(", ")
        }
        Err(error) => format!("(invalid: {})", cell(&error.to_string())),
    }
}

/// Keeps a value inside its table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}
