//! The subcommands of the `lookout` binary, one file each, and the flags they share. They live in
//! the binary, not the library: clap's argument structs and the printing of reports are the
//! executable's concern, and the library stays usable without them.

mod annotate_out;
pub mod bench;
pub mod check_config;
pub mod completions;
pub mod detect;
mod detector_args;
pub mod logging;
pub mod manpage;
pub mod model;
mod mqtt_args;
mod progress;
pub mod replay;
mod replay_summary;
pub mod run;
pub mod track;

use clap::{Parser, Subcommand};
use lookout::stop::StopToken;
use lookout::Error;

#[derive(Parser)]
#[command(
    name = "lookout",
    version,
    about = "Pedestrian and vehicle detection on camera frames or recorded video, published over MQTT"
)]
pub struct Cli {
    #[command(flatten)]
    pub logging: logging::LogArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Detect objects in still images; prints one JSON object per image.
    Detect(detect::DetectArgs),
    /// Replay a video file or stream through the detector: one JSON line per frame on stdout, the
    /// same message to MQTT with --mqtt, and a latency summary on stderr.
    Replay(replay::ReplayArgs),
    /// Measure the real pipeline (decode → preprocess → inference → postprocess → serialise →
    /// publish) on a video or images: per-stage p50/p95/p99/max, throughput, CPU per frame, peak RSS.
    Bench(bench::BenchArgs),
    /// Run every camera of a config file until SIGTERM/SIGINT (the service; see systemd/).
    Run(run::RunArgs),
    /// Track objects in recorded detection messages (`replay` output) without the detector:
    /// prints them with track ids, plus object events and zone and line counts.
    Track(track::TrackArgs),
    /// Validate a config file without running anything (exit 0 when valid).
    CheckConfig(check_config::CheckConfigArgs),
    /// Look at a model file: `lookout model inspect FILE.onnx [--write]`.
    Model(model::ModelArgs),
    /// Print the shell completion script for bash, zsh, fish, elvish or powershell.
    Completions(completions::CompletionsArgs),
    /// Write the manual pages (lookout.1 and one per subcommand) into a folder, or lookout.1 to
    /// stdout.
    Manpage(manpage::ManpageArgs),
}

/// A token stopped by SIGINT or SIGTERM: the pipeline finishes the frame in flight and stops.
fn stop_on_signals() -> Result<StopToken, Error> {
    StopToken::on_signals()
        .map_err(|e| Error::Internal(format!("cannot install a signal handler: {e}")))
}
