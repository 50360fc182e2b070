//! `lookout run --config FILE`: the service. Every camera of the file until SIGTERM/SIGINT; SIGHUP
//! reloads the file.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use lookout::config::Config;
use lookout::publish::hostname;
use lookout::Error;

#[derive(Args)]
pub struct RunArgs {
    /// Config file (config/lookout.toml documents every key).
    #[arg(long)]
    config: PathBuf,
}

pub fn run(args: &RunArgs) -> Result<ExitCode, Error> {
    let file = args.config.as_path();
    let config = Config::load(file)?;
    let device = config.mqtt.device.clone().unwrap_or_else(hostname);
    let stop = super::stop_on_signals()?;
    let reload = lookout::daemon::on_sighup()
        .map_err(|e| Error::Internal(format!("cannot install a signal handler: {e}")))?;
    // The config resolves its models when loaded (and reloaded); this finds the rest the same way.
    let resolve_model = |model: &Path| lookout::detect::model_path(model, Some(file));
    let daemon = lookout::daemon::Daemon {
        config_path: file,
        resolve_model: &resolve_model,
        device,
        stop,
        reload,
    };
    daemon.run(config)?;
    Ok(ExitCode::SUCCESS)
}
