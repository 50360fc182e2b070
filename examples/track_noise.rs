//! Writes seeded noisy detections made from a MOTChallenge ground-truth file as lookout detections
//! messages (one JSON line per frame, as `lookout replay` prints), so that `lookout track` and
//! `benches/track_compare.py` (supervision's ByteTrack) see identical input.
//!
//! cargo run --release --features onnxruntime --example track_noise -- target/motmetrics/TUD-Campus/gt.txt \
//!     [--seed N] [--fps 25] [--drop 0.15] [--jitter 0.05] [--fp 0.5] [--low 0.2] > detections.jsonl

use std::path::PathBuf;
use std::process::ExitCode;

#[path = "../tests/support/mot/mod.rs"]
mod mot;

use mot::noise::{noisy_detections, write_json_lines, NoiseConfig};
use mot::MotSequence;

const USAGE: &str =
    "usage: track_noise GT.txt [--seed N] [--fps F] [--drop P] [--jitter F] [--fp MEAN] [--low P]";

fn parse_args() -> Result<(PathBuf, NoiseConfig), String> {
    let mut args = std::env::args().skip(1);
    let gt = args.next().filter(|a| !a.starts_with("--")).ok_or(USAGE)?;
    let mut cfg = NoiseConfig::default();
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .ok_or_else(|| format!("{flag} needs a value; {USAGE}"))?;
        let bad = |_| format!("{flag} {value:?} is not a number; {USAGE}");
        match flag.as_str() {
            "--seed" => {
                cfg.seed = value
                    .parse()
                    .map_err(|_| format!("--seed {value:?} is not an integer"))?
            }
            "--fps" => cfg.fps = value.parse().map_err(bad)?,
            "--drop" => cfg.drop_rate = value.parse().map_err(bad)?,
            "--jitter" => cfg.jitter = value.parse().map_err(bad)?,
            "--fp" => cfg.false_positives_per_frame = value.parse().map_err(bad)?,
            "--low" => cfg.low_score_rate = value.parse().map_err(bad)?,
            _ => return Err(format!("unknown option {flag}; {USAGE}")),
        }
    }
    Ok((PathBuf::from(gt), cfg))
}

fn main() -> ExitCode {
    let run = || -> Result<(), String> {
        let (gt_path, cfg) = parse_args()?;
        let gt = MotSequence::read(&gt_path).map_err(|e| e.to_string())?;
        let frames = noisy_detections(&gt, &cfg);
        write_json_lines(&frames, cfg.frame_wh, std::io::stdout().lock())
            .map_err(|e| format!("cannot write detections: {e}"))
    };
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("track_noise: {e}");
            ExitCode::FAILURE
        }
    }
}
