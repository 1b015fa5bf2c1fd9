//! `synth completions SHELL`.

use std::process::ExitCode;

use clap::Args;
use clap_complete::Shell;

/// Print a completion script for a shell: subcommands, options and their values.
///
/// Install it where the shell looks, e.g.
///   bash: synth completions bash > ~/.local/share/bash-completion/completions/synth
///   zsh:  synth completions zsh > ~/.zfunc/_synth   (with fpath+=~/.zfunc before compinit)
///   fish: synth completions fish > ~/.config/fish/completions/synth.fish
///
/// Exit status: 0 printed, 2 an unknown shell.
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: Shell,
}

/// Prints the script for `command`, the whole `synth` command line.
pub fn run(args: &CompletionsArgs, command: &mut clap::Command) -> ExitCode {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, command, "synth", &mut script);
    match super::print_stdout(&String::from_utf8_lossy(&script)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: cannot write the completions: {err}");
            ExitCode::from(2)
        }
    }
}
