//! What can go wrong while building a [`Config`](super::Config), worded for the person who
//! typed the value: every message names the key, the rule and the value given, and says
//! which layer (preset, file, `--set`) the value came from.

use std::fmt;
use std::path::PathBuf;

/// Why a configuration could not be built.
///
/// Problems with values are collected, not reported one at a time, so a user fixing a file
/// sees every mistake in one run ([`ConfigError::Invalid`]). Problems that stop us from
/// reading the input at all (a missing file, broken TOML) are reported on their own.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// `--preset` named a preset we do not ship.
    #[error("unknown preset {name:?}; choose one of {}", super::PRESETS.join(", "))]
    UnknownPreset {
        /// The name as given.
        name: String,
    },

    /// The `--config` file could not be read. The I/O error is part of the message (and
    /// deliberately not a `source`), so an error chain does not print it twice.
    #[error("cannot read config file {}: {}", path.display(), describe_io(error))]
    Read {
        /// The path as given.
        path: PathBuf,
        /// What the operating system said.
        error: std::io::Error,
    },

    /// A file (or an embedded preset) is not valid TOML; the message carries line and column.
    #[error("invalid TOML in {input}: {message}")]
    Syntax {
        /// The file path, or `preset "name"`.
        input: String,
        /// The parser's report, with line, column and a pointer to the spot.
        message: String,
    },

    /// A `--set` argument is not of the form `key=value`.
    #[error("--set expects key=value, got `{arg}`")]
    BadOverride {
        /// The argument as given.
        arg: String,
    },

    /// One or more keys or values break the rules; all of them are listed.
    #[error("{}", list(.0))]
    Invalid(Vec<Violation>),

    /// A bug in this module (a checked configuration failed to convert); never the user's fault.
    #[error("internal error in the configuration module ({0}); please report it")]
    Internal(String),
}

impl ConfigError {
    /// The individual problems, so callers and tests can look at them one by one.
    /// Errors other than [`ConfigError::Invalid`] have none.
    pub fn violations(&self) -> &[Violation] {
        match self {
            ConfigError::Invalid(found) => found,
            _ => &[],
        }
    }
}

/// One broken rule, tied to the key it concerns and, when known, to where the value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The key as written by the user (for unknown keys, the unknown name).
    pub key: String,
    /// What is wrong.
    pub problem: Problem,
    /// The layer that set the offending value; `None` for built-in defaults and for
    /// [`Config::validate`](super::Config::validate), which has no layers to point at.
    pub origin: Option<Origin>,
}

/// What is wrong with a key or its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The key is not a configuration key; `suggestion` is the closest known key, if any is close.
    UnknownKey {
        /// The known key the user probably meant.
        suggestion: Option<&'static str>,
    },
    /// The value breaks a rule. Rendered as `{key} must {rule}, got {got}`.
    Rule {
        /// The rule, phrased to follow "must": `be between 1 and 1000`.
        rule: String,
        /// The offending value as TOML (strings quoted), shortened if very long.
        got: String,
    },
}

/// The layer a value came from, so a message can point the user at the right place to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A built-in preset, by name.
    Preset(String),
    /// The `--config` file, with the line of the value when the parser reported it.
    File {
        /// The path as given.
        path: PathBuf,
        /// 1-based line of the value.
        line: Option<usize>,
    },
    /// A `--set key=value` argument, as given.
    Set(String),
}

impl Violation {
    /// A rule violation on `key`, with no origin yet.
    pub(crate) fn rule(key: &str, rule: impl Into<String>, got: impl Into<String>) -> Self {
        Violation {
            key: key.to_string(),
            problem: Problem::Rule {
                rule: rule.into(),
                got: got.into(),
            },
            origin: None,
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.problem {
            Problem::UnknownKey {
                suggestion: Some(known),
            } => write!(f, "unknown key `{}` (did you mean `{known}`?)", self.key)?,
            Problem::UnknownKey { suggestion: None } => write!(f, "unknown key `{}`", self.key)?,
            Problem::Rule { rule, got } => write!(f, "{} must {rule}, got {got}", self.key)?,
        }
        match &self.origin {
            Some(origin) => write!(f, " (from {origin})"),
            None => Ok(()),
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Preset(name) => write!(f, "preset {name:?}"),
            Origin::File {
                path,
                line: Some(line),
            } => write!(f, "{}, line {line}", path.display()),
            Origin::File { path, line: None } => write!(f, "{}", path.display()),
            Origin::Set(arg) => write!(f, "--set {arg}"),
        }
    }
}

/// One problem reads as a sentence; several read as a list under a count.
fn list(found: &[Violation]) -> String {
    match found {
        [one] => one.to_string(),
        many => {
            let lines: Vec<String> = many.iter().map(|v| format!("\n  - {v}")).collect();
            format!(
                "{} problems in the configuration:{}",
                many.len(),
                lines.concat()
            )
        }
    }
}

/// "No such file or directory" rather than "No such file or directory (os error 2)": the
/// error number means nothing to the person who mistyped a path.
fn describe_io(error: &std::io::Error) -> String {
    let text = error.to_string();
    match text.find(" (os error") {
        Some(cut) => text[..cut].to_string(),
        None => text,
    }
}
