//! The `synth` subcommands: thin shells that read arguments, call the `review` crate
//! (`diff`, `changeset-report`) or this crate's `cost` module, print, and choose the exit
//! status.

pub mod changeset;
pub mod cost;
pub mod diff;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use synth::config::{Config, PRESETS};

/// Where the stack's configuration comes from; shared by printing the template and `cost`.
#[derive(Debug, Clone, Args)]
pub struct ConfigArgs {
    /// TOML file of configuration keys (see crates/synth/docs/configuration.md).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Preset to start from: dev, staging, prod, high-throughput or cost-optimized.
    #[arg(long, value_name = "NAME")]
    pub preset: Option<String>,

    /// Override one key, e.g. --set kinesis_shard_count=4 (repeatable; applied last).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub overrides: Vec<String>,
}

impl ConfigArgs {
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
