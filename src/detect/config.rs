//! The detector's own settings: [`DetectorConfig`] (the `[detector]` table, with defaults) and
//! [`DetectorOverrides`], the one overlay that command-line flags and `[cameras.detector]` apply
//! on top of it.

use std::path::PathBuf;

use serde::Deserialize;

use super::engine::api::EngineKind;
use super::family::descriptor::Family;
use crate::error::Invalid;

/// The bundled FP32 model's manifest, relative to the working directory (the repository root);
/// [`super::model_path`] also finds it from an installed binary.
pub const DEFAULT_MODEL: &str = "models/nanodet-m-fp32.toml";

/// The traffic classes a vehicle or robot cares about; the default class filter.
pub const TRAFFIC_CLASSES: [&str; 6] = ["person", "bicycle", "car", "motorcycle", "bus", "truck"];

/// Detector settings (the `[detector]` table of the config, or CLI flags).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DetectorConfig {
    /// Model manifest (`.toml`) or `.onnx` (with or without a manifest beside it).
    pub model: PathBuf,
    /// The model's output format, where the file does not settle it (see models/README.md).
    pub family: Option<Family>,
    /// Long side of the network input in pixels; the short side keeps the frame's aspect ratio.
    pub long_side: u32,
    /// Fixed input size (width, height) instead of `long_side`; each a multiple of 32.
    #[serde(deserialize_with = "crate::text::exact::opt_pair")]
    pub input_size: Option<(u32, u32)>,
    pub score_threshold: f32,
    pub iou_threshold: f32,
    /// Class names to report; an empty list or `["all"]` reports every class.
    pub classes: Vec<String>,
    /// Threads for one inference (tract's matrix products, onnxruntime's intra-op pool).
    pub threads: usize,
    /// Inference engine: tract (default, pure Rust), onnxruntime or cuda (cargo features).
    pub engine: EngineKind,
    /// Path of libonnxruntime.so for the onnxruntime engine; default: $ORT_DYLIB_PATH, then
    /// target/onnxruntime/ beside the binary, then the system library path.
    pub onnxruntime_library: Option<PathBuf>,
    /// Which of the bundled NanoDet-m models runs when `model` names one of them: as named
    /// (unset), `fp32`, `int8`, or `auto` (see [`DetectorConfig::model_to_load`]).
    pub precision: Option<Precision>,
}

/// `[detector] precision`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// INT8 where tract has an int8 dot-product kernel for this CPU (AVX-512 VNNI, AVX-VNNI, AMX,
    /// arm64 SDOT) and the engine is tract; FP32 elsewhere.
    Auto,
    Fp32,
    Int8,
}

/// The bundled models' manifests differ only in this part of their file name.
const BUNDLED: [(&str, Precision); 2] = [
    ("nanodet-m-fp32.toml", Precision::Fp32),
    ("nanodet-m-int8.toml", Precision::Int8),
];

impl Default for DetectorConfig {
    fn default() -> Self {
        DetectorConfig {
            model: DEFAULT_MODEL.into(),
            family: None,
            long_side: 416,
            input_size: None,
            score_threshold: 0.35,
            iou_threshold: 0.5,
            classes: TRAFFIC_CLASSES.iter().map(|s| s.to_string()).collect(),
            threads: 1,
            engine: EngineKind::Tract,
            onnxruntime_library: None,
            precision: None,
        }
    }
}

impl DetectorConfig {
    /// The model file to load: `model`, unless `precision` is set and `model` is one of the
    /// bundled NanoDet-m manifests; then the bundled manifest of that precision, beside it. With
    /// `auto` the choice and its reason come back too (for the log and `bench`).
    pub fn model_to_load(&self) -> (PathBuf, Option<String>) {
        let Some(wanted) = self.precision else {
            return (self.model.clone(), None);
        };
        let named = self.model.file_name().and_then(|n| n.to_str());
        if !BUNDLED.iter().any(|(file, _)| Some(*file) == named) {
            return (self.model.clone(), None);
        }
        let (chosen, why) = match wanted {
            Precision::Auto => auto_precision(self.engine),
            p => (p, None),
        };
        let file = BUNDLED
            .iter()
            .find(|(_, p)| *p == chosen)
            .map(|(f, _)| *f)
            .unwrap_or(BUNDLED[0].0);
        (self.model.with_file_name(file), why)
    }
}

/// What `precision = "auto"` picks for `engine` on this CPU, and why.
fn auto_precision(engine: EngineKind) -> (Precision, Option<String>) {
    if engine != EngineKind::Tract {
        return (
            Precision::Fp32,
            Some(format!(
                "precision auto: fp32 (INT8 is chosen only for the tract engine, not {engine:?})"
            )),
        );
    }
    use super::rewrite::Int8Backend;
    let kernel = super::rewrite::int8_kernel();
    let kernel = kernel.as_deref().unwrap_or("none");
    match super::rewrite::int8_backend() {
        Some(Int8Backend::Tract) => (
            Precision::Int8,
            Some(format!("precision auto: int8 (tract's int8 kernel here is {kernel}, a dot-product kernel: INT8 runs faster than FP32)")),
        ),
        Some(Int8Backend::Avx2) => (
            Precision::Int8,
            Some(format!(
                "precision auto: int8 (no int8 dot-product instruction here, tract's int8 kernel is {kernel}; \
                 lookout's AVX2 int8 convolution {} runs INT8 faster than FP32)",
                super::rewrite::avx2::KERNEL_NAME
            )),
        ),
        None => (
            Precision::Fp32,
            Some(format!(
                "precision auto: fp32 (tract's int8 kernel here is {kernel}, not a dot-product kernel, \
                 and no AVX2: INT8 would be no faster)"
            )),
        ),
    }
}

impl DetectorConfig {
    /// The first setting out of range, with the key that holds it.
    pub fn validate(&self) -> Result<(), Invalid> {
        if self.model.as_os_str().is_empty() {
            return Err(Invalid::new(
                "model",
                "model is empty: name a model manifest or .onnx file, e.g. \"models/nanodet-m-int8.toml\", \
                 or leave the key out for the default"
                    .to_string(),
            ));
        }
        if !(0.0..=1.0).contains(&self.score_threshold) {
            return Err(Invalid::new(
                "score_threshold",
                format!(
                    "score_threshold {} must be between 0 and 1",
                    self.score_threshold
                ),
            ));
        }
        if !(0.0..=1.0).contains(&self.iou_threshold) {
            return Err(Invalid::new(
                "iou_threshold",
                format!(
                    "iou_threshold {} must be between 0 and 1",
                    self.iou_threshold
                ),
            ));
        }
        if !(32..=4096).contains(&self.long_side) {
            return Err(Invalid::new(
                "long_side",
                format!("long_side {} must be between 32 and 4096", self.long_side),
            ));
        }
        if let Some((w, h)) = self.input_size {
            if w == 0 || h == 0 || w % 32 != 0 || h % 32 != 0 || w > 4096 || h > 4096 {
                return Err(Invalid::new(
                    "input_size",
                    format!("input size {w}x{h} must be positive multiples of 32 up to 4096"),
                ));
            }
        }
        if !(1..=256).contains(&self.threads) {
            return Err(Invalid::new(
                "threads",
                format!("threads {} must be between 1 and 256", self.threads),
            ));
        }
        Ok(())
    }
}

/// What a camera (`[cameras.detector]`) or the command line changes of a [`DetectorConfig`];
/// unset fields keep the base's value.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetectorOverrides {
    pub model: Option<PathBuf>,
    pub family: Option<Family>,
    pub long_side: Option<u32>,
    #[serde(default, deserialize_with = "crate::text::exact::opt_pair")]
    pub input_size: Option<(u32, u32)>,
    pub score_threshold: Option<f32>,
    pub iou_threshold: Option<f32>,
    pub classes: Option<Vec<String>>,
    pub threads: Option<usize>,
    pub engine: Option<EngineKind>,
}

impl DetectorOverrides {
    /// `base` with every set field replaced.
    pub fn over(&self, base: &DetectorConfig) -> DetectorConfig {
        let mut d = base.clone();
        if let Some(v) = &self.model {
            d.model = v.clone();
            // Another model: the base's family was about the base's model.
            d.family = None;
        }
        if self.family.is_some() {
            d.family = self.family;
        }
        d.long_side = self.long_side.unwrap_or(d.long_side);
        if self.input_size.is_some() {
            d.input_size = self.input_size;
        }
        d.score_threshold = self.score_threshold.unwrap_or(d.score_threshold);
        d.iou_threshold = self.iou_threshold.unwrap_or(d.iou_threshold);
        if let Some(v) = &self.classes {
            d.classes = v.clone();
        }
        d.threads = self.threads.unwrap_or(d.threads);
        d.engine = self.engine.unwrap_or(d.engine);
        d
    }
}

/// The class names of a class list, or none when it reports every class (empty, or `"all"`).
pub fn named_classes(classes: &[String]) -> &[String] {
    if classes.iter().any(|c| c == "all") {
        &[]
    } else {
        classes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_replace_only_what_they_set() {
        let base = DetectorConfig {
            score_threshold: 0.4,
            input_size: Some((320, 256)),
            ..DetectorConfig::default()
        };
        assert_eq!(DetectorOverrides::default().over(&base), base);
        let o = DetectorOverrides {
            threads: Some(3),
            classes: Some(vec!["car".into()]),
            model: Some("m.toml".into()),
            ..DetectorOverrides::default()
        };
        let d = o.over(&base);
        assert_eq!((d.threads, d.score_threshold), (3, 0.4));
        assert_eq!(d.classes, ["car"]);
        assert_eq!(d.model, PathBuf::from("m.toml"));
        assert_eq!(d.input_size, Some((320, 256)), "unset: the base's value");
        let all = DetectorOverrides {
            long_side: Some(320),
            input_size: Some((64, 64)),
            score_threshold: Some(0.1),
            iou_threshold: Some(0.2),
            engine: Some(EngineKind::Tract),
            ..o
        };
        let d = all.over(&base);
        assert_eq!((d.long_side, d.input_size), (320, Some((64, 64))));
        assert_eq!((d.score_threshold, d.iou_threshold), (0.1, 0.2));
    }

    #[test]
    fn precision_swaps_only_the_bundled_manifests() {
        let with = |model: &str, precision, engine| DetectorConfig {
            model: model.into(),
            precision,
            engine,
            ..DetectorConfig::default()
        };
        let tract = EngineKind::Tract;
        let load = |c: DetectorConfig| c.model_to_load().0;
        assert_eq!(
            load(with("/m/nanodet-m-fp32.toml", None, tract)),
            PathBuf::from("/m/nanodet-m-fp32.toml")
        );
        assert_eq!(
            load(with("/m/nanodet-m-fp32.toml", Some(Precision::Int8), tract)),
            PathBuf::from("/m/nanodet-m-int8.toml")
        );
        assert_eq!(
            load(with(
                "models/nanodet-m-int8.toml",
                Some(Precision::Fp32),
                tract
            )),
            PathBuf::from("models/nanodet-m-fp32.toml")
        );
        // A user's model is never swapped.
        assert_eq!(
            load(with("yolo11n.onnx", Some(Precision::Int8), tract)),
            PathBuf::from("yolo11n.onnx")
        );
        // auto: INT8 exactly where tract has an int8 dot-product kernel, and only on tract.
        let (auto, why) = with(DEFAULT_MODEL, Some(Precision::Auto), tract).model_to_load();
        let int8 = super::super::rewrite::int8_kernels_available();
        assert_eq!(auto.ends_with("nanodet-m-int8.toml"), int8, "{why:?}");
        assert!(why.is_some_and(|w| w.starts_with("precision auto: ")));
        let (auto, _) = with(
            DEFAULT_MODEL,
            Some(Precision::Auto),
            EngineKind::Onnxruntime,
        )
        .model_to_load();
        assert!(auto.ends_with("nanodet-m-fp32.toml"));
        let parsed: DetectorConfig = toml::from_str("precision = \"auto\"").expect("parses");
        assert_eq!(parsed.precision, Some(Precision::Auto));
        assert!(toml::from_str::<DetectorConfig>("precision = \"fp16\"").is_err());
    }

    #[test]
    fn validation_names_the_key() {
        let bad = |d: DetectorConfig| d.validate().expect_err("invalid").key;
        let d = DetectorConfig::default;
        assert_eq!(
            bad(DetectorConfig {
                score_threshold: 1.5,
                ..d()
            }),
            "score_threshold"
        );
        assert_eq!(
            bad(DetectorConfig {
                input_size: Some((30, 32)),
                ..d()
            }),
            "input_size"
        );
        assert_eq!(bad(DetectorConfig { threads: 0, ..d() }), "threads");
        assert!(d().validate().is_ok());
    }
}
