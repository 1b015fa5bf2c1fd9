//! The `synth` subcommands: thin shells that read arguments, call the `review` crate
//! (`diff`, `changeset-report`) or this crate's `cost` and `capacity` modules, print, and
//! choose the exit status; and [`stack_facts`], the facts `tools/stack.sh` reads from what
//! the aws CLI printed.

pub mod capacity;
pub mod changeset;
pub mod completions;
pub mod cost;
pub mod diff;
pub mod stack_facts;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use synth::config::{Config, PRESETS};

/// Where the stack's configuration comes from; shared by printing the template and `cost`.
#[derive(Debug, Clone, Args)]
pub struct ConfigArgs {
    /// TOML file of configuration keys (see docs/configuration.md).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Preset to start from: dev, staging, prod, high-throughput or cost-optimized.
    #[arg(long, value_name = "NAME")]
    pub preset: Option<String>,

    /// Override one key, e.g. --set kinesis_shard_count=4 (repeatable; applied last).
    #[arg(long = "set", value_name = "KEY=VALUE", value_parser = key_equals_value)]
    pub overrides: Vec<String>,
}

/// When clap refuses the command line, the first `--set` word without `=` explains it
/// better than clap can (it reads `--set key 1024` as a subcommand `1024`).
pub fn misused_set(args: impl IntoIterator<Item = String>) -> Option<String> {
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let value = match arg.strip_prefix("--set=") {
            Some(value) => value.to_owned(),
            None if arg == "--set" => args.next().unwrap_or_default(),
            None => continue,
        };
        if let Err(message) = key_equals_value(&value) {
            return Some(message);
        }
    }
    None
}

/// `--set` takes one `key=value` word with a key: refused here, naming what is wrong, so
/// `--set key 1024` (a space for the `=`) is not read as a stray subcommand `1024`, and
/// `--set =5` is not taken for a key called `=5`.
fn key_equals_value(text: &str) -> Result<String, String> {
    match text.split_once('=') {
        Some((key, _)) if !key.trim().is_empty() => Ok(text.to_owned()),
        Some((_, value)) => Err(format!(
            "--set {text:?} has an empty key before the `=`; name the key, e.g. --set \
             lambda_memory_size={}",
            if value.trim().is_empty() {
                "1024"
            } else {
                value.trim()
            }
        )),
        None => Err(format!(
            "--set takes KEY=VALUE as one word, e.g. --set {}=1024, got {text:?}",
            if text.trim().is_empty() {
                "lambda_memory_size"
            } else {
                text.trim()
            }
        )),
    }
}

impl ConfigArgs {
    /// Whether none of the options was given.
    pub fn is_empty(&self) -> bool {
        self.config.is_none() && self.preset.is_none() && self.overrides.is_empty()
    }

    /// These options, given before a subcommand (`synth --preset prod cost`), together with
    /// the subcommand's own (`after`): a preset or file named on both sides must be the same
    /// one, and the `--set`s apply in command-line order, these first.
    pub fn then(self, after: ConfigArgs) -> Result<ConfigArgs, String> {
        fn one<T: PartialEq + std::fmt::Debug>(
            flag: &str,
            before: Option<T>,
            after: Option<T>,
        ) -> Result<Option<T>, String> {
            match (before, after) {
                (Some(a), Some(b)) if a != b => Err(format!(
                    "{flag} is given twice, {a:?} before the subcommand and {b:?} after it; \
                     give it once"
                )),
                (a, b) => Ok(b.or(a)),
            }
        }
        let mut overrides = self.overrides;
        overrides.extend(after.overrides);
        Ok(ConfigArgs {
            config: one("--config", self.config, after.config)?,
            preset: one("--preset", self.preset, after.preset)?,
            overrides,
        })
    }

    /// The validated configuration, or exit status 2 after the message is printed.
    pub fn load(&self) -> Result<Config, ExitCode> {
        Config::load(
            self.preset.as_deref(),
            self.config.as_deref(),
            &self.overrides,
        )
        .map_err(|err| {
            eprintln!("error: {err}");
            if self
                .preset
                .as_deref()
                .is_some_and(|p| !PRESETS.contains(&p))
            {
                eprintln!("hint: run `synth --help` for the options");
            }
            ExitCode::from(2)
        })
    }
}

/// Writes to stdout; a closed pipe (`synth diff a b | head`) is not an error worth a
/// message.
pub fn print_stdout(text: &str) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(err) if err.kind() != std::io::ErrorKind::BrokenPipe => Err(err),
        _ => Ok(()),
    }
}

/// Whether to colour stdout: a terminal, and `NO_COLOR` unset or empty (no-color.org).
pub fn colour_stdout() -> bool {
    use std::io::IsTerminal;
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}
