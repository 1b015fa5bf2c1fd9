//! `synth`: prints the pipeline's CloudFormation template.
//!
//! Exit codes: 0 success, 1 the template failed synth-time validation (a bug in a
//! construct), 2 bad input (arguments or configuration). Errors go to stderr only, so
//! `synth > stack.yaml` never leaves half a template behind.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, ValueEnum};

use synth::config::{Config, PRESETS};

/// Synthesize the Kinesis → Lambda → DynamoDB pipeline as a CloudFormation template.
///
/// With no arguments, prints the dev preset's template as YAML. Configuration composes in
/// this order: the preset, then the TOML file, then each --set.
#[derive(Debug, Parser)]
#[command(name = "synth", version, about, long_about = None, after_help = AFTER_HELP)]
struct Cli {
    /// TOML file of configuration keys (see crates/synth/docs/configuration.md).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,

    /// Preset to start from: dev, staging, prod, high-throughput or cost-optimized.
    #[arg(long, value_name = "NAME")]
    preset: Option<String>,

    /// Override one key, e.g. --set kinesis_shard_count=4 (repeatable; applied last).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    overrides: Vec<String>,

    /// Output format on stdout.
    #[arg(long, value_enum, default_value_t = OutputFormat::Yaml)]
    format: OutputFormat,

    /// Write stack.yaml and stack.json into DIR instead of printing.
    #[arg(long, value_name = "DIR")]
    out_dir: Option<PathBuf>,

    /// Print one resolved configuration value instead of the template (for scripts and the
    /// Makefile, e.g. --get lambda_architecture).
    #[arg(long, value_name = "KEY", conflicts_with = "out_dir")]
    get: Option<String>,
}

const AFTER_HELP: &str = "Examples:
  synth > stack.yaml                          the dev preset as YAML
  synth --preset prod --format json           the prod preset as JSON
  synth --config my.toml --set lambda_memory_size=1024
  synth --preset staging --out-dir cfn-out    writes cfn-out/stack.yaml and stack.json

Exit status: 0 ok, 1 the template failed validation, 2 bad arguments or configuration.";

#[derive(Debug, Clone, Copy, ValueEnum)]
enum OutputFormat {
    Yaml,
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(cli.preset.as_deref(), cli.config.as_deref(), &cli.overrides) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("error: {err}");
            if cli.preset.as_deref().is_some_and(|p| !PRESETS.contains(&p)) {
                eprintln!("hint: run `synth --help` for the options");
            }
            return ExitCode::from(2);
        }
    };
    if let Some(key) = &cli.get {
        return print_value(&config, key);
    }
    let template = synth::stack::build(&config);
    let result = match &cli.out_dir {
        Some(dir) => write_files(&template, dir),
        None => print(&template, cli.format),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(1)
        }
    }
}

fn print_value(config: &Config, key: &str) -> ExitCode {
    let table = toml::Table::try_from(config).unwrap_or_default();
    match table.get(key) {
        Some(toml::Value::String(text)) => println!("{text}"),
        Some(value) => println!("{value}"),
        None => {
            eprintln!(
                "error: unknown key `{key}`; see crates/synth/docs/configuration.md for the keys"
            );
            return ExitCode::from(2);
        }
    }
    ExitCode::SUCCESS
}

fn print(template: &cfn::Template, format: OutputFormat) -> anyhow::Result<()> {
    let format = match format {
        OutputFormat::Yaml => cfn::Format::Yaml,
        OutputFormat::Json => cfn::Format::Json,
    };
    let rendered = template.render(format)?;
    warn(&rendered.warnings);
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (`synth | head`) is not an error worth a message.
    if let Err(err) = stdout
        .write_all(rendered.body.as_bytes())
        .and_then(|()| stdout.flush())
    {
        if err.kind() != std::io::ErrorKind::BrokenPipe {
            return Err(err.into());
        }
    }
    Ok(())
}

fn write_files(template: &cfn::Template, dir: &Path) -> anyhow::Result<()> {
    use anyhow::Context;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for (name, format) in [
        ("stack.yaml", cfn::Format::Yaml),
        ("stack.json", cfn::Format::Json),
    ] {
        let rendered = template.render(format)?;
        warn(&rendered.warnings);
        let path = dir.join(name);
        std::fs::write(&path, rendered.body)
            .with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

fn warn(warnings: &[String]) {
    for warning in warnings {
        eprintln!("warning: {warning}");
    }
}
