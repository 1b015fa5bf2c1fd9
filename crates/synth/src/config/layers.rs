//! Layering: the defaults, then a preset, then a file, then `--set` overrides, merged key by
//! key into one TOML table that remembers which layer set each key.
//!
//! Merging tables rather than typed structs is what lets a layer set only the keys it names,
//! and lets us check every value (and point at its origin) before anything is converted.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use toml::{Spanned, Table, Value};

use super::error::{ConfigError, Origin, Problem, Violation};
use super::keys::{self, Check, KEYS};
use super::{preset_source, Config};

/// The key under which `--set additional_tags.NAME=value` sets one tag.
const TAGS_KEY: &str = "additional_tags";

/// A configuration being assembled: the merged values, where each came from, and the problems
/// found so far (collected so the user sees them all at once).
pub(crate) struct Draft {
    table: Table,
    origins: BTreeMap<String, Origin>,
    problems: Vec<Violation>,
}

/// One top-level `key = value` of a document, with the value's 1-based line.
pub(crate) type Entry = (String, Value, usize);

impl Draft {
    /// Starts from the built-in defaults, which are the `dev` preset.
    pub(crate) fn new() -> Result<Draft, ConfigError> {
        Ok(Draft {
            table: Config::default().to_table()?,
            origins: BTreeMap::new(),
            problems: Vec::new(),
        })
    }

    /// Applies a built-in preset by name.
    pub(crate) fn apply_preset(&mut self, name: &str) -> Result<(), ConfigError> {
        let source = preset_source(name).ok_or_else(|| ConfigError::UnknownPreset {
            name: name.to_string(),
        })?;
        for (key, value, _) in parse_document(source, &format!("preset {name:?}"))? {
            self.set(key, value, Origin::Preset(name.to_string()));
        }
        Ok(())
    }

    /// Applies the keys of a TOML file.
    pub(crate) fn apply_file(&mut self, path: &Path) -> Result<(), ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Read {
            path: path.to_path_buf(),
            error,
        })?;
        for (key, value, line) in parse_document(&text, &path.display().to_string())? {
            let origin = Origin::File {
                path: path.to_path_buf(),
                line: Some(line),
            };
            self.set(key, value, origin);
        }
        Ok(())
    }

    /// Applies one `key=value` argument.
    pub(crate) fn apply_set(&mut self, arg: &str) -> Result<(), ConfigError> {
        let bad = || ConfigError::BadOverride {
            arg: arg.to_string(),
        };
        let (key, raw) = arg.split_once('=').ok_or_else(bad)?;
        let key = key.trim();
        if key.is_empty() {
            return Err(bad());
        }
        let origin = Origin::Set(arg.to_string());
        match key
            .strip_prefix(TAGS_KEY)
            .and_then(|rest| rest.strip_prefix('.'))
        {
            Some(tag) => self.set_tag(tag, raw, origin),
            None => {
                let value = parse_set_value(key, raw);
                self.set(key.to_string(), value, origin);
            }
        }
        Ok(())
    }

    /// Checks every value, converts, then checks the rules that span several keys.
    pub(crate) fn finish(mut self) -> Result<Config, ConfigError> {
        let found = keys::check_table(&self.table);
        self.record(found);
        if !self.problems.is_empty() {
            return Err(ConfigError::Invalid(self.problems));
        }
        let config: Config = Value::Table(self.table.clone())
            .try_into()
            .map_err(|error: toml::de::Error| ConfigError::Internal(error.to_string()))?;
        self.record(config.cross_field_violations());
        if self.problems.is_empty() {
            Ok(config)
        } else {
            Err(ConfigError::Invalid(self.problems))
        }
    }

    /// Keeps `found`, each marked with the layer that set its key.
    fn record(&mut self, found: Vec<Violation>) {
        for mut violation in found {
            violation.origin = self.origins.get(&violation.key).cloned();
            self.problems.push(violation);
        }
    }

    fn set(&mut self, key: String, value: Value, origin: Origin) {
        if keys::spec(&key).is_none() {
            let suggestion = suggest(&key);
            self.problems.push(Violation {
                key,
                problem: Problem::UnknownKey { suggestion },
                origin: Some(origin),
            });
            return;
        }
        self.origins.insert(key.clone(), origin);
        self.table.insert(key, value);
    }

    /// `--set additional_tags.Team=data`: adds or replaces one tag, keeping the others.
    fn set_tag(&mut self, tag: &str, raw: &str, origin: Origin) {
        let mut tags = match self.table.get(TAGS_KEY) {
            Some(Value::Table(tags)) => tags.clone(),
            _ => Table::new(),
        };
        tags.insert(tag.trim().to_string(), Value::String(plain_text(raw)));
        self.set(TAGS_KEY.to_string(), Value::Table(tags), origin);
    }
}

/// Parses a TOML document into its top-level entries, in file order, with their lines.
/// `input` names the document in syntax errors.
pub(crate) fn parse_document(text: &str, input: &str) -> Result<Vec<Entry>, ConfigError> {
    let parsed: BTreeMap<String, Spanned<Value>> =
        toml::from_str(text).map_err(|error| ConfigError::Syntax {
            input: input.to_string(),
            message: error.to_string().trim_end().to_string(),
        })?;
    let mut entries: Vec<(usize, Entry)> = parsed
        .into_iter()
        .map(|(key, spanned)| {
            let start = spanned.span().start;
            let line = line_of(text, start);
            (start, (key, spanned.into_inner(), line))
        })
        .collect();
    entries.sort_by_key(|(start, _)| *start);
    Ok(entries.into_iter().map(|(_, entry)| entry).collect())
}

fn line_of(text: &str, offset: usize) -> usize {
    let before = text.get(..offset).unwrap_or(text);
    before.matches('\n').count() + 1
}

/// Reads a `--set` value: as TOML where that parses (numbers, booleans, lists, inline
/// tables), otherwise as plain text, so nobody has to quote an e-mail address or a region.
/// For string keys the text is always taken as is (unless quoted), so `environment=2024`
/// stays the string the user meant.
fn parse_set_value(key: &str, raw: &str) -> Value {
    let text = raw.trim();
    let parsed = Value::deserialize(toml::de::ValueDeserializer::new(text)).ok();
    let wants_string = keys::spec(key).is_some_and(|spec| {
        matches!(
            spec.check,
            Check::Choice(_) | Check::Name { .. } | Check::Region | Check::EmailOrEmpty
        )
    });
    match parsed {
        Some(Value::String(quoted)) => Value::String(quoted),
        Some(value) if !wants_string && !is_datetime(&value) => value,
        _ => Value::String(text.to_string()),
    }
}

/// A quoted TOML string loses its quotes; anything else is taken literally.
fn plain_text(raw: &str) -> String {
    let text = raw.trim();
    match Value::deserialize(toml::de::ValueDeserializer::new(text)) {
        Ok(Value::String(unquoted)) => unquoted,
        _ => text.to_string(),
    }
}

/// TOML dates come out of a lone-value parse as a private marker table, which would only
/// confuse a message; no key takes a date, so such input is kept as text instead.
fn is_datetime(value: &Value) -> bool {
    match value {
        Value::Datetime(_) => true,
        Value::Table(table) => table.keys().any(|k| k.starts_with("$__toml_private")),
        _ => false,
    }
}

/// The known key closest to a mistyped one, if any is close enough to be a likely intent:
/// a few edits away, or containing (or contained in) what was typed.
pub(crate) fn suggest(unknown: &str) -> Option<&'static str> {
    let typed = unknown.trim().to_ascii_lowercase().replace('-', "_");
    KEYS.iter()
        .map(|spec| (edit_distance(&typed, spec.key), spec.key))
        .filter(|(distance, known)| {
            let related = typed.len() >= 4 && (known.contains(&typed) || typed.contains(known));
            *distance <= 3 || (related && *distance <= known.len() / 2)
        })
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, known)| known)
}

/// Levenshtein distance: the fewest single-character edits turning `a` into `b`.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != *cb);
            current.push(substitute.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}
