//! `lookout check-config FILE`: the config file parses, every value is in range, and every model it
//! names (the `[detector]` one and each camera's) loads with the classes and input size asked of
//! it; the checks `lookout run` makes before it starts anything. Nothing runs. Exit 0 when valid, 2
//! with `file:line:col` when not.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use lookout::config::Config;
use lookout::detect::{self, DetectorConfig, ModelSpec};
use lookout::Error;

#[derive(Args)]
pub struct CheckConfigArgs {
    file: PathBuf,
}

pub fn run(args: &CheckConfigArgs) -> Result<ExitCode, Error> {
    let cfg = Config::load(&args.file)?;
    let check = |d: &DetectorConfig, whose: &str| -> Result<(), Error> {
        let spec = ModelSpec::load_as(&detect::model_path(&d.model, Some(&args.file)), d.family)?;
        detect::check(&spec, d).map_err(|e| match e {
            Error::Usage(m) => Error::Config(format!("{}: {whose}: {m}", args.file.display())),
            other => other,
        })?;
        Ok(())
    };
    check(&cfg.detector, "[detector]")?;
    for cam in &cfg.cameras {
        check(
            &cam.detector(&cfg.detector),
            &format!("camera '{}'", cam.name),
        )?;
    }
    if cfg.cameras.is_empty() {
        eprintln!(
            "note: {} has no [[cameras]]: fine for detect, replay and bench, but `lookout run` needs one",
            args.file.display()
        );
    }
    println!("{}: ok", args.file.display());
    Ok(ExitCode::SUCCESS)
}
