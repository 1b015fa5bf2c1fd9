//! `synth`: prints the pipeline's CloudFormation template, and reviews changes to it.
//!
//! With no subcommand it prints the template. Exit codes: 0 success, 1 the template failed
//! synth-time validation (a bug in a construct), 2 bad input (arguments or configuration).
//! Errors go to stderr only, so `synth > stack.yaml` never leaves half a template behind.
//! The subcommands `diff`, `changeset-report`, `cost`, `capacity`, `stack-facts` and
//! `completions` document their own exit codes. The configuration options may come before
//! `cost` and `capacity` too (`synth --preset prod cost`).

mod commands;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

use synth::config::Config;

use commands::ConfigArgs;

/// The crate's version and the git commit it was built from (build.rs).
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("SYNTH_GIT_COMMIT"),
    ")"
);

/// Synthesize the Kinesis → Lambda → DynamoDB pipeline as a CloudFormation template.
///
/// With no arguments, prints the dev preset's template as YAML. Configuration composes in
/// this order: the preset, then the TOML file, then each --set.
#[derive(Debug, Parser)]
#[command(
    name = "synth",
    version = VERSION,
    about,
    long_about = None,
    after_help = AFTER_HELP
)]
struct Cli {
    /// Review and estimate instead of printing the template.
    #[command(subcommand)]
    command: Option<Command>,

    /// Where the configuration comes from (also for cost and capacity, before or after
    /// their name).
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
    Completions(commands::completions::CompletionsArgs),
}

impl Command {
    /// The name the user typed.
    fn name(&self) -> &'static str {
        match self {
            Command::Diff(_) => "diff",
            Command::ChangesetReport(_) => "changeset-report",
            Command::Cost(_) => "cost",
            Command::Capacity(_) => "capacity",
            Command::StackFacts(_) => "stack-facts",
            Command::Completions(_) => "completions",
        }
    }
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
  synth completions bash > ~/.local/share/bash-completion/completions/synth
                                              shell completions (also zsh, fish, elvish, powershell)

Exit status: 0 ok, 1 the template failed validation, 2 bad arguments or configuration
(an --out-dir that cannot be written included).
synth diff: 0 equal, 1 different, 2 a file cannot be read or is not a template.";

#[derive(Debug, Clone, Copy, ValueEnum)]
enum OutputFormat {
    Yaml,
    Json,
}

/// Why printing or writing the template failed, which decides the exit status.
enum Failure {
    /// The template failed validation: a bug in a construct (exit 1).
    Invalid(cfn::SynthErrors),
    /// The output could not be written: a bad `--out-dir` or stdout (exit 2).
    Write(String),
}

impl From<cfn::SynthErrors> for Failure {
    fn from(errors: cfn::SynthErrors) -> Self {
        Failure::Invalid(errors)
    }
}

fn main() -> ExitCode {
    let matches = match Cli::command().try_get_matches() {
        Ok(matches) => matches,
        Err(err) => return refused(err),
    };
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(err) => return refused(err),
    };
    match cli.command {
        Some(command) => {
            if let Some(flag) = template_flag(&matches) {
                eprintln!(
                    "error: {flag} is for printing the template and goes without a \
                     subcommand; `synth {name}` takes its own options after its name \
                     (synth {name} --help)",
                    name = command.name()
                );
                return ExitCode::from(2);
            }
            run(command, cli.config)
        }
        None => synthesize(&cli),
    }
}

/// clap's refusal, or ours when a `--set` word explains it better.
fn refused(err: clap::Error) -> ExitCode {
    match commands::misused_set(std::env::args().skip(1)) {
        Some(message) if err.use_stderr() => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
        _ => err.exit(),
    }
}

/// The first option only printing the template reads that was given on the command line.
fn template_flag(matches: &ArgMatches) -> Option<&'static str> {
    [
        ("format", "--format"),
        ("out_dir", "--out-dir"),
        ("get", "--get"),
    ]
    .into_iter()
    .find(|(id, _)| matches.value_source(id) == Some(ValueSource::CommandLine))
    .map(|(_, flag)| flag)
}

/// Runs a subcommand; `before` is the configuration given before its name.
fn run(command: Command, before: ConfigArgs) -> ExitCode {
    let configured = |own: ConfigArgs| {
        before.clone().then(own).map_err(|message| {
            eprintln!("error: {message}");
            ExitCode::from(2)
        })
    };
    match command {
        Command::Cost(mut args) => match configured(args.config) {
            Ok(config) => {
                args.config = config;
                commands::cost::run(&args)
            }
            Err(code) => code,
        },
        Command::Capacity(mut args) => match configured(args.config) {
            Ok(config) => {
                args.config = config;
                commands::capacity::run(&args)
            }
            Err(code) => code,
        },
        _ if !before.is_empty() => {
            eprintln!(
                "error: --preset, --config and --set configure the stack (the template, cost \
                 and capacity); `synth {}` takes none of them",
                command.name()
            );
            ExitCode::from(2)
        }
        Command::Diff(args) => commands::diff::run(&args),
        Command::ChangesetReport(args) => commands::changeset::run(&args),
        Command::StackFacts(args) => commands::stack_facts::run(&args),
        Command::Completions(args) => commands::completions::run(&args, &mut Cli::command()),
    }
}

/// Prints or writes the template.
fn synthesize(cli: &Cli) -> ExitCode {
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
        Err(Failure::Invalid(errors)) => {
            eprintln!("error: {errors}");
            ExitCode::from(1)
        }
        Err(Failure::Write(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
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

fn print(template: &cfn::Template, format: OutputFormat) -> Result<(), Failure> {
    let yaml = template.render(cfn::Format::Yaml)?;
    warn(&deploy_warnings(&yaml));
    let body = match format {
        OutputFormat::Yaml => yaml.body,
        OutputFormat::Json => template.render(cfn::Format::Json)?.body,
    };
    commands::print_stdout(&body)
        .map_err(|err| Failure::Write(format!("cannot write the template: {err}")))
}

fn write_files(template: &cfn::Template, dir: &Path) -> Result<(), Failure> {
    let yaml = template.render(cfn::Format::Yaml)?;
    let json = template.render(cfn::Format::Json)?;
    warn(&deploy_warnings(&yaml));
    std::fs::create_dir_all(dir).map_err(|err| {
        Failure::Write(format!(
            "--out-dir {}: cannot create the directory: {err}",
            dir.display()
        ))
    })?;
    for (name, body) in [("stack.yaml", &yaml.body), ("stack.json", &json.body)] {
        let path = dir.join(name);
        std::fs::write(&path, body).map_err(|err| {
            Failure::Write(format!("--out-dir: cannot write {}: {err}", path.display()))
        })?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

/// What a deployer should know about the template, judged on its YAML, the body
/// `make deploy` uploads (tools/stack.sh). cfn's own size advice measures whichever format
/// was rendered and names only the aws CLI; this one replaces it.
fn deploy_warnings(yaml: &cfn::Rendered) -> Vec<String> {
    let mut warnings: Vec<String> = yaml
        .warnings
        .iter()
        .filter(|w| !w.contains("--template-body"))
        .cloned()
        .collect();
    let size = yaml.body.len();
    if size > cfn::INLINE_BODY_LIMIT {
        warnings.push(format!(
            "the template is {size} bytes as YAML, over CloudFormation's {}-byte limit for a \
             template sent inline, so it is deployed through S3 (--template-url): `make \
             deploy` uploads it to the artifact bucket for you",
            cfn::INLINE_BODY_LIMIT
        ));
    }
    warnings
}

fn warn(warnings: &[String]) {
    for warning in warnings {
        eprintln!("warning: {warning}");
    }
}
