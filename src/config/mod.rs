//! The config file (`config/lookout.toml` documents every key). Unknown keys are rejected, and every
//! error names the file, line and column, and what is allowed.

use std::path::Path;

use serde::Deserialize;

use crate::detect::DetectorConfig;
use crate::error::{Error, Result};
use crate::publish::mqtt::MqttConfig;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub detector: DetectorConfig,
    pub mqtt: MqttConfig,
    /// `[[cameras]]`: what `lookout run` captures.
    pub cameras: Vec<CameraConfig>,
    /// `[admin]`: the /live, /ready, /metrics endpoint of `lookout run`.
    pub admin: crate::admin::AdminConfig,
    /// `[events]`: object appeared / left events.
    pub events: crate::events::EventsConfig,
}

/// One `[[cameras]]` entry.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CameraConfig {
    /// Camera name in topics and messages.
    pub name: String,
    /// Anything `ffmpeg` reads (file, rtsp://, http://), an image or a folder of images.
    pub source: String,
    /// Pace files at their frame rate, like a live camera; latest wins (default true).
    #[serde(default = "default_true")]
    pub realtime: bool,
    /// Start a file again at its end (default false: the camera is done at the end).
    #[serde(default, rename = "loop")]
    pub looping: bool,
    /// Process at most this many frames per second; the rest are dropped (counted as `fps_cap`).
    pub fps: Option<f64>,
    /// No frame for this many seconds: the source is restarted (reason `stalled`).
    #[serde(default = "default_stall_timeout")]
    pub stall_timeout_s: f64,
    /// Per-camera detector settings; unset keys come from `[detector]`.
    #[serde(default)]
    pub detector: DetectorOverrides,
    /// `[cameras.capture]`: mode requested from a V4L2 camera.
    #[serde(default)]
    pub capture: crate::source::CaptureRequest,
}

fn default_true() -> bool {
    true
}

fn default_stall_timeout() -> f64 {
    10.0
}

/// `[cameras.detector]`: what a camera changes of `[detector]`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetectorOverrides {
    pub model: Option<std::path::PathBuf>,
    pub long_side: Option<u32>,
    pub input_size: Option<(u32, u32)>,
    pub score_threshold: Option<f32>,
    pub iou_threshold: Option<f32>,
    pub classes: Option<Vec<String>>,
    pub threads: Option<usize>,
    pub engine: Option<crate::detect::engine::EngineKind>,
}

impl CameraConfig {
    /// `[detector]` with this camera's overrides applied.
    pub fn detector(&self, base: &DetectorConfig) -> DetectorConfig {
        let o = &self.detector;
        let mut d = base.clone();
        if let Some(v) = &o.model {
            d.model = v.clone();
        }
        d.long_side = o.long_side.unwrap_or(d.long_side);
        if o.input_size.is_some() {
            d.input_size = o.input_size;
        }
        d.score_threshold = o.score_threshold.unwrap_or(d.score_threshold);
        d.iou_threshold = o.iou_threshold.unwrap_or(d.iou_threshold);
        if let Some(v) = &o.classes {
            d.classes = v.clone();
        }
        d.threads = o.threads.unwrap_or(d.threads);
        d.engine = o.engine.unwrap_or(d.engine);
        d
    }
}

/// The bundled FP32 model's manifest, relative to the working directory (the repository root).
pub const DEFAULT_MODEL: &str = "models/nanodet-m-fp32.toml";

impl Config {
    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::Config(format!(
                "{}: cannot read the config file: {e}; pass --config with an existing file \
                 (config/lookout.toml is the documented example)",
                path.display()
            ))
        })?;
        Config::parse(&text, path)
    }

    pub fn parse(text: &str, path: &Path) -> Result<Config> {
        let mut cfg: Config = toml::from_str(text).map_err(|e| {
            Error::Config(format!("{}:{}", path.display(), toml_error_line(text, &e)))
        })?;
        let pos = |key: &str| {
            key_position(text, key)
                .map(|(l, c)| format!("{l}:{c}"))
                .unwrap_or("1:1".into())
        };
        cfg.detector.validate().map_err(|m| {
            let key = m.split_whitespace().next().unwrap_or("detector");
            Error::Config(format!("{}:{}: [detector] {m}", path.display(), pos(key)))
        })?;
        cfg.mqtt.validate().map_err(|m| {
            // The first key the message names that the file sets.
            let at = m
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .find_map(|w| key_position(text, w))
                .map(|(l, c)| format!("{l}:{c}"))
                .unwrap_or_else(|| "1:1".into());
            Error::Config(format!("{}:{at}: [mqtt] {m}", path.display()))
        })?;
        cfg.events.validate().map_err(|m| {
            Error::Config(format!(
                "{}:{}: [events] {m}",
                path.display(),
                pos("left_after_s")
            ))
        })?;
        let mut names = std::collections::HashSet::new();
        for cam in &cfg.cameras {
            let at = camera_position(text, &cam.name);
            let fail =
                |m: String| Error::Config(format!("{}:{at}: [[cameras]] {m}", path.display()));
            if !crate::publish::valid_topic_segment(&cam.name) {
                return Err(fail(format!(
                    "name '{}' may only use letters, digits, '-', '_' and '.'",
                    cam.name
                )));
            }
            if !names.insert(cam.name.clone()) {
                return Err(fail(format!(
                    "name '{}' is used twice; camera names must be unique",
                    cam.name
                )));
            }
            if cam.fps.is_some_and(|f| !(f > 0.0 && f <= 1000.0)) {
                return Err(fail(format!(
                    "'{}' fps must be between 0 and 1000 (unset: no cap)",
                    cam.name
                )));
            }
            let c = &cam.capture;
            if *c != crate::source::CaptureRequest::default()
                && !crate::source::is_device(&cam.source)
            {
                return Err(fail(format!(
                    "'{}' [cameras.capture] applies to V4L2 cameras (/dev/videoN) only",
                    cam.name
                )));
            }
            if c.resolution
                .is_some_and(|(w, h)| !(1..=16384).contains(&w) || !(1..=16384).contains(&h))
                || c.fps.is_some_and(|f| !(1..=1000).contains(&f))
            {
                return Err(fail(format!(
                    "'{}' [cameras.capture] resolution must be [width, height] up to 16384 and fps 1..1000",
                    cam.name
                )));
            }
            if !(cam.stall_timeout_s >= 0.5 && cam.stall_timeout_s <= 3600.0) {
                return Err(fail(format!(
                    "'{}' stall_timeout_s must be between 0.5 and 3600",
                    cam.name
                )));
            }
            cam.detector(&cfg.detector)
                .validate()
                .map_err(|m| fail(format!("'{}' detector: {m}", cam.name)))?;
        }
        // Model paths: the working directory first, then beside this file; the same rule for the
        // cameras' own models as for [detector]'s.
        let beside_config = |model: &mut std::path::PathBuf| {
            if model.is_relative() && !model.exists() {
                if let Some(beside) = path
                    .parent()
                    .map(|dir| dir.join(&*model))
                    .filter(|b| b.exists())
                {
                    *model = beside;
                }
            }
        };
        beside_config(&mut cfg.detector.model);
        for cam in &mut cfg.cameras {
            if let Some(model) = cam.detector.model.as_mut() {
                beside_config(model);
            }
        }
        Ok(cfg)
    }
}

/// `line:col: message` for a TOML/serde error, with a suggestion for a misspelt key.
pub fn toml_error_line(text: &str, e: &toml::de::Error) -> String {
    let (line, col) = match e.span() {
        Some(span) => line_col(text, span.start),
        None => (1, 1),
    };
    let msg = e.message().trim().replace('\n', " ");
    let hint = unknown_field_hint(&msg)
        .map(|s| format!(" (did you mean `{s}`?)"))
        .unwrap_or_default();
    format!("{line}:{col}: {msg}{hint}")
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rfind('\n')
        .map(|i| before.len() - i)
        .unwrap_or(before.len() + 1);
    (line, col)
}

/// `line:col` of the `name = "..."` line of a camera, for error messages.
fn camera_position(text: &str, name: &str) -> String {
    let quoted = format!("\"{name}\"");
    text.lines()
        .enumerate()
        .find(|(_, l)| l.trim_start().starts_with("name") && l.contains(&quoted))
        .map(|(i, l)| format!("{}:{}", i + 1, l.len() - l.trim_start().len() + 1))
        .unwrap_or_else(|| "1:1".into())
}

/// Position of the first line that assigns `key`.
fn key_position(text: &str, key: &str) -> Option<(usize, usize)> {
    text.lines().enumerate().find_map(|(i, l)| {
        let t = l.trim_start();
        let rest = t.strip_prefix(key)?;
        rest.trim_start()
            .starts_with('=')
            .then_some((i + 1, l.len() - t.len() + 1))
    })
}

/// serde says "unknown field `scor_threshold`, expected one of `a`, `b`": suggest the nearest.
fn unknown_field_hint(msg: &str) -> Option<String> {
    let rest = msg.strip_prefix("unknown field `")?;
    let (field, rest) = rest.split_once('`')?;
    let expected: Vec<&str> = rest.split('`').skip(1).step_by(2).collect();
    closest(field, expected.into_iter()).map(str::to_string)
}

/// The candidate within a small edit distance of `name`, if any.
pub fn closest<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (name.len() / 3).max(2);
    candidates
        .map(|c| (edit_distance(name, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        Config::parse(text, Path::new("x.toml"))
            .expect_err("must fail")
            .to_string()
    }

    #[test]
    fn unknown_key_names_line_column_and_suggestion() {
        let e = err("[detector]\nlong_side = 416\nscore_treshold = 0.4\n");
        assert!(e.starts_with("x.toml:3:1:"), "{e}");
        assert!(e.contains("did you mean `score_threshold`"), "{e}");
    }

    #[test]
    fn wrong_type_and_bad_value_are_located() {
        let e = err("[detector]\nthreads = \"two\"\n");
        assert!(e.starts_with("x.toml:2:11:"), "{e}");
        let e = err("[detector]\n\nscore_threshold = 1.5\n");
        assert!(
            e.starts_with("x.toml:3:1:") && e.contains("between 0 and 1"),
            "{e}"
        );
    }

    #[test]
    fn shipped_config_is_valid() {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/lookout.toml");
        let cfg = Config::load(&p).expect("config/lookout.toml parses");
        assert_eq!(cfg.detector.score_threshold, 0.35);
    }

    #[test]
    fn cameras_are_checked_and_inherit_the_detector() {
        let ok = Config::parse(
            "[detector]\nscore_threshold = 0.4\n[[cameras]]\nname = \"a\"\nsource = \"x.mp4\"\n\
             [cameras.detector]\nthreads = 2\ninput_size = [320, 256]\n[[cameras]]\nname = \"b\"\nsource = \"y.mp4\"\nloop = true\n",
            Path::new("c.toml"),
        )
        .expect("valid");
        assert_eq!(ok.cameras.len(), 2);
        let a = ok.cameras[0].detector(&ok.detector);
        assert_eq!((a.threads, a.score_threshold), (2, 0.4));
        assert_eq!(a.input_size, Some((320, 256)));
        assert_eq!(ok.cameras[1].detector(&ok.detector).input_size, None);
        assert!(ok.cameras[0].realtime && !ok.cameras[0].looping && ok.cameras[1].looping);
        let e = err("[[cameras]]\nname = \"a\"\nsource = \"x\"\n[[cameras]]\nname = \"a\"\nsource = \"y\"\n");
        assert!(
            e.contains("used twice") && e.starts_with("x.toml:2:1"),
            "{e}"
        );
        let e = err("[[cameras]]\nname = \"a b\"\nsource = \"x\"\n");
        assert!(e.contains("may only use"), "{e}");
        let e = err("[[cameras]]\nname = \"a\"\nsource = \"x\"\nfsp = 3\n");
        assert!(
            e.starts_with("x.toml:4:1") && e.contains("did you mean `fps`"),
            "{e}"
        );
        let e = err("[[cameras]]\nname = \"a\"\nsource = \"x\"\nfps = -1.0\n");
        assert!(e.contains("fps must be between"), "{e}");
    }

    #[test]
    fn relative_models_are_found_beside_the_config() {
        let dir = tempfile::tempdir().expect("tmp");
        std::fs::write(dir.path().join("my-model.toml"), "").expect("write");
        let cfg = Config::parse(
            "[detector]\nmodel = \"my-model.toml\"\n[[cameras]]\nname = \"a\"\nsource = \"x\"\n\
             [cameras.detector]\nmodel = \"my-model.toml\"\n",
            &dir.path().join("lookout.toml"),
        )
        .expect("valid");
        assert_eq!(cfg.detector.model, dir.path().join("my-model.toml"));
        assert_eq!(
            cfg.cameras[0].detector.model.as_deref(),
            Some(dir.path().join("my-model.toml").as_path())
        );
    }

    #[test]
    fn edit_distance_suggestions() {
        assert_eq!(
            closest("persn", ["person", "car"].into_iter()),
            Some("person")
        );
        assert_eq!(
            closest("zebra_crossing", ["person", "car"].into_iter()),
            None
        );
    }
}
