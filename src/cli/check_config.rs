//! `lookout check-config FILE`: the config file parses, every value is in range, and the model it
//! names loads; nothing runs. Exit 0 when valid, 2 with `file:line:col` when not.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use lookout::config::Config;
use lookout::detect::{self, ModelSpec};
use lookout::Error;

#[derive(Args)]
pub struct CheckConfigArgs {
    file: PathBuf,
}

pub fn run(args: &CheckConfigArgs) -> Result<ExitCode, Error> {
    let cfg = Config::load(&args.file)?;
    ModelSpec::load_as(
        &detect::model_path(&cfg.detector.model, Some(&args.file)),
        cfg.detector.family,
    )?;
    println!("{}: ok", args.file.display());
    Ok(ExitCode::SUCCESS)
}
