//! `lookout completions SHELL`: the shell's completion script on stdout, generated from the same clap
//! definition that parses the command line, so it knows every subcommand and flag of this build.

use std::io::Write;
use std::process::ExitCode;

use clap::{Args, CommandFactory};
use clap_complete::Shell;
use lookout::Error;

#[derive(Args)]
pub struct CompletionsArgs {
    /// The shell to complete for. Install the output where the shell looks, e.g. bash:
    /// ~/.local/share/bash-completion/completions/lookout; zsh: a file `_lookout` in a folder of
    /// $fpath; fish: ~/.config/fish/completions/lookout.fish (the Debian package installs them).
    #[arg(value_enum)]
    shell: Shell,
}

pub fn run(args: &CompletionsArgs) -> Result<ExitCode, Error> {
    // clap_complete panics when its writer fails; a buffer cannot, and stdout's error is returned.
    let script = script(args.shell);
    std::io::stdout().lock().write_all(&script).map_err(|e| {
        Error::Internal(format!("cannot write the completion script to stdout: {e}"))
    })?;
    Ok(ExitCode::SUCCESS)
}

/// The completion script of `lookout` for `shell`.
pub fn script(shell: Shell) -> Vec<u8> {
    let mut cmd = super::Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "lookout", &mut out);
    out
}
