//! `lookout check-config FILE`: the config file parses, every value is in range, and every model it
//! names (the `[detector]` one and each camera's) loads with the classes and input size asked of
//! it; the checks `lookout run` makes before it starts anything. Nothing runs. Exit 0 when valid, 2
//! with `file:line:col` when not.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use lookout::config::Config;
use lookout::Error;

#[derive(Args)]
pub struct CheckConfigArgs {
    file: PathBuf,
}

pub fn run(args: &CheckConfigArgs) -> Result<ExitCode, Error> {
    let cfg = Config::load(&args.file)?;
    cfg.check_models(&args.file)?;
    if cfg.cameras.is_empty() {
        eprintln!(
            "note: {} has no [[cameras]]: fine for detect, replay and bench, but `lookout run` needs one",
            args.file.display()
        );
    }
    println!("{}: ok", args.file.display());
    Ok(ExitCode::SUCCESS)
}
