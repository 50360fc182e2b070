//! The `lookout` command line: parse, set up logging, run the subcommand (one file each in
//! `cli/`), and turn an error into one line on stderr and its exit code.

mod cli;

use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    cli.logging.init();
    let result = match &cli.command {
        Command::Detect(args) => cli::detect::run(args),
        Command::Replay(args) => cli::replay::run(args),
        Command::Bench(args) => cli::bench::run(args),
        Command::Run(args) => cli::run::run(args),
        Command::Track(args) => cli::track::run(args),
        Command::CheckConfig(args) => cli::check_config::run(args),
        Command::Model(args) => cli::model::run(args),
        Command::Completions(args) => cli::completions::run(args),
        Command::Manpage(args) => cli::manpage::run(args),
    };
    result.unwrap_or_else(|e| {
        let line = e.to_string().replace('\n', " ");
        eprintln!("error: {}", lookout::redact::text(&line));
        ExitCode::from(e.exit_code())
    })
}
