//! The detector flags that `detect`, `replay` and `bench` share, and how they become a detector:
//! defaults < the config file's `[detector]` < flags.

use std::path::{Path, PathBuf};

use clap::Args;
use lookout::config::Config;
use lookout::detect::{self, Detector, DetectorConfig, DetectorOverrides, ModelSpec};
use lookout::Error;

#[derive(Args, Clone, Default)]
pub struct DetectorArgs {
    /// Config file to take defaults from (flags override it).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Model manifest (.toml) or .onnx file (yolov8n.onnx works bare), e.g. models/nanodet-m-int8.toml.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// The model's output format where the file does not settle it: yolov5, yolov8, yolo-e2e, yolox,
    /// rtdetr, ssd, nanodet-gfl (`lookout model inspect FILE.onnx` says which fit).
    #[arg(long, value_enum)]
    pub family: Option<detect::Family>,
    /// Long side of the network input; the short side keeps the aspect ratio (multiple of 32).
    #[arg(long)]
    pub long_side: Option<u32>,
    /// Fixed network input size WIDTHxHEIGHT (multiples of 32) instead of --long-side.
    #[arg(long, value_parser = parse_size)]
    input_size: Option<(u32, u32)>,
    /// Minimum score to report.
    #[arg(long)]
    score: Option<f32>,
    /// IoU above which a box of the same class is suppressed.
    #[arg(long)]
    iou: Option<f32>,
    /// Comma-separated class names to report, or "all" (default: person,bicycle,car,motorcycle,bus,truck).
    #[arg(long, value_delimiter = ',')]
    classes: Option<Vec<String>>,
    /// Threads for one inference.
    #[arg(long)]
    threads: Option<usize>,
    /// Inference engine: tract (default), onnxruntime or cuda (the latter two need cargo features).
    #[arg(long, value_enum)]
    engine: Option<detect::engine::EngineKind>,
}

fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let (w, h) = s
        .split_once(['x', 'X'])
        .ok_or("expected WIDTHxHEIGHT, e.g. 416x416")?;
    let w = w.trim().parse().map_err(|_| "width must be a number")?;
    let h = h.trim().parse().map_err(|_| "height must be a number")?;
    Ok((w, h))
}

impl DetectorArgs {
    /// The flags as an overlay on the config file's `[detector]`.
    pub fn overrides(&self) -> DetectorOverrides {
        DetectorOverrides {
            model: self.model.clone(),
            family: self.family,
            long_side: self.long_side,
            input_size: self.input_size,
            score_threshold: self.score,
            iou_threshold: self.iou,
            // `--classes "person, car,"`: spaces and empty items are typing, not class names.
            classes: self.classes.as_ref().map(|v| {
                v.iter()
                    .map(|c| c.trim().to_string())
                    .filter(|c| !c.is_empty())
                    .collect()
            }),
            threads: self.threads,
            engine: self.engine,
        }
    }

    /// The `--config` file, or the defaults without one.
    pub fn load_config(&self) -> Result<Config, Error> {
        load_config(self.config.as_deref())
    }
}

pub fn load_config(path: Option<&Path>) -> Result<Config, Error> {
    match path {
        Some(p) => Config::load(p),
        None => Ok(Config::default()),
    }
}

/// Checks the settings, finds the model and loads it.
pub fn build_detector(cfg: DetectorConfig) -> Result<Detector, Error> {
    cfg.validate()?;
    let (model, why) = cfg.model_to_load();
    if let Some(why) = why {
        tracing::info!("{why}");
    }
    let spec = ModelSpec::load_as(&detect::model_path(&model, None), cfg.family)?;
    Detector::new(spec, cfg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_the_config_and_tidy_class_lists() {
        let args = DetectorArgs {
            threads: Some(4),
            classes: Some(vec![" person".into(), "".into(), "car ".into()]),
            input_size: parse_size("320x256").ok(),
            ..DetectorArgs::default()
        };
        let base = DetectorConfig {
            score_threshold: 0.6,
            ..DetectorConfig::default()
        };
        let d = args.overrides().over(&base);
        assert_eq!((d.threads, d.score_threshold), (4, 0.6));
        assert_eq!(d.classes, ["person", "car"]);
        assert_eq!(d.input_size, Some((320, 256)));
        assert!(parse_size("320").is_err());
    }
}
