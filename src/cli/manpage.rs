//! `lookout manpage [DIR]`: manual pages in roff, generated from the clap definition that parses the
//! command line: `lookout.1` and one page per subcommand (`lookout-replay.1`, `lookout-model-inspect.1`,
//! ...) written into DIR, or `lookout.1` alone on stdout without DIR (`lookout manpage | man -l -`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, CommandFactory};
use clap_mangen::Man;
use lookout::Error;

#[derive(Args)]
pub struct ManpageArgs {
    /// The folder to write the pages into (created if missing); each written file's path is
    /// printed. Without it, lookout.1 goes to stdout.
    dir: Option<PathBuf>,
}

pub fn run(args: &ManpageArgs) -> Result<ExitCode, Error> {
    let Some(dir) = &args.dir else {
        let mut page = Vec::new();
        Man::new(command())
            .render(&mut page)
            .map_err(|e| Error::Internal(format!("cannot render the manual page: {e}")))?;
        std::io::stdout()
            .lock()
            .write_all(&page)
            .map_err(|e| Error::Internal(format!("cannot write the manual page to stdout: {e}")))?;
        return Ok(ExitCode::SUCCESS);
    };
    std::fs::create_dir_all(dir).map_err(|e| {
        Error::Usage(format!(
            "cannot create {}: {e}; pass a folder you can write to",
            dir.display()
        ))
    })?;
    for path in write_pages(dir)? {
        println!("{}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes `lookout.1` and a page for every subcommand, nested ones included, into `dir`; returns
/// the files written.
pub fn write_pages(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let mut written = Vec::new();
    write_tree(command(), dir, &mut written)?;
    Ok(written)
}

/// The command line's definition, built, so that each subcommand carries its full name
/// (`lookout-model-inspect`) and the flags clap adds (--help, --version). The `help` subcommand
/// is left out: it has no page of its own to point to.
fn command() -> clap::Command {
    let mut cmd = super::Cli::command().disable_help_subcommand(true);
    cmd.build();
    cmd
}

fn write_tree(cmd: clap::Command, dir: &Path, written: &mut Vec<PathBuf>) -> Result<(), Error> {
    let subcommands: Vec<clap::Command> = cmd
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
        .cloned()
        .collect();
    let path = Man::new(cmd).generate_to(dir).map_err(|e| {
        Error::Usage(format!(
            "cannot write a manual page into {}: {e}; pass a folder you can write to",
            dir.display()
        ))
    })?;
    written.push(path);
    for sub in subcommands {
        write_tree(sub, dir, written)?;
    }
    Ok(())
}
