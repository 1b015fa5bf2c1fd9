//! `synth`: prints the pipeline's CloudFormation template, and reviews changes to it.
//!
//! With no subcommand it prints the template. Exit codes: 0 success, 1 the template failed
//! synth-time validation (a bug in a construct), 2 bad input (arguments or configuration).
//! Errors go to stderr only, so `synth > stack.yaml` never leaves half a template behind.
//! The subcommands `diff`, `changeset-report`, `cost`, `capacity` and `stack-facts` document
//! their own exit codes.

mod commands;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use synth::config::Config;

use commands::ConfigArgs;

/// Synthesize the Kinesis → Lambda → DynamoDB pipeline as a CloudFormation template.
///
/// With no arguments, prints the dev preset's template as YAML. Configuration composes in
/// this order: the preset, then the TOML file, then each --set.
#[derive(Debug, Parser)]
#[command(
    name = "synth",
    version,
    about,
    long_about = None,
    after_help = AFTER_HELP,
    args_conflicts_with_subcommands = true
)]
struct Cli {
    /// Review and estimate instead of printing the template.
    #[command(subcommand)]
    command: Option<Command>,

    /// Where the configuration comes from.
    #[command(flatten)]
    config: ConfigArgs,

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

/// The subcommands. Their help text is the doc comment of their arguments' struct in
/// src/commands/ (a doc comment here would replace it).
#[derive(Debug, Subcommand)]
enum Command {
    Diff(commands::diff::DiffArgs),
    #[command(name = "changeset-report")]
    ChangesetReport(commands::changeset::ChangesetArgs),
    Cost(commands::cost::CostArgs),
    Capacity(commands::capacity::CapacityArgs),
    #[command(name = "stack-facts")]
    StackFacts(commands::stack_facts::StackFactsArgs),
}

const AFTER_HELP: &str = "Examples:
  synth > stack.yaml                          the dev preset as YAML
  synth --preset prod --format json           the prod preset as JSON
  synth --config my.toml --set lambda_memory_size=1024
  synth --preset staging --out-dir cfn-out    writes cfn-out/stack.yaml and stack.json
  synth diff templates/dev.yaml templates/prod.yaml
                                              what changes, what is replaced, IAM changes
  synth diff old.yaml new.yaml --format markdown > comment.md
  aws cloudformation describe-change-set --stack-name S --change-set-name C \\
    | synth changeset-report -                the change set as markdown, with warnings
  synth cost --preset prod --events-per-second 500 --avg-event-bytes 800
  synth capacity --preset high-throughput    the ceiling in events/s and its bottleneck
  synth stack-facts capabilities cfn-out/stack.json
                                              what tools/stack.sh reads (synth stack-facts --help)

Exit status: 0 ok, 1 the template failed validation, 2 bad arguments or configuration.
synth diff: 0 equal, 1 different, 2 a file cannot be read or is not a template.";

#[derive(Debug, Clone, Copy, ValueEnum)]
enum OutputFormat {
    Yaml,
    Json,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => match commands::misused_set(std::env::args().skip(1)) {
            Some(message) if err.use_stderr() => {
                eprintln!("error: {message}");
                return ExitCode::from(2);
            }
            _ => err.exit(),
        },
    };
    match &cli.command {
        Some(Command::Diff(args)) => return commands::diff::run(args),
        Some(Command::ChangesetReport(args)) => return commands::changeset::run(args),
        Some(Command::Cost(args)) => return commands::cost::run(args),
        Some(Command::Capacity(args)) => return commands::capacity::run(args),
        Some(Command::StackFacts(args)) => return commands::stack_facts::run(args),
        None => {}
    }
    let config = match cli.config.load() {
        Ok(config) => config,
        Err(code) => return code,
    };
    if let Some(key) = &cli.get {
        return print_value(&config, key);
    }
    // Said with the template, not with every `--get` a script makes.
    warn(&config.warnings());
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
            eprintln!("error: unknown key `{key}`; see docs/configuration.md for the keys");
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
    commands::print_stdout(&rendered.body)?;
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
