//! `[[cameras]]`: one entry per camera that `lookout run` captures, and the checks that need more
//! than serde (names usable in topics, ranges, V4L2-only settings).

use serde::Deserialize;

use crate::detect::{DetectorConfig, DetectorOverrides};
use crate::source::CaptureRequest;
use crate::track::lines::{validate_lines, LineConfig};
use crate::track::zones::{validate_zones, ZoneConfig};
use crate::track::{TrackerConfig, TrackerOverrides, TrackingConfig};

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
    /// `[cameras.detector]`: per-camera detector settings; unset keys come from `[detector]`.
    #[serde(default)]
    pub detector: DetectorOverrides,
    /// `[cameras.capture]`: mode requested from a V4L2 camera.
    #[serde(default)]
    pub capture: CaptureRequest,
    /// `[cameras.tracker]`: per-camera tracker settings; unset keys come from `[tracker]`.
    #[serde(default)]
    pub tracker: TrackerOverrides,
    /// `[[cameras.zones]]`: areas whose occupancy is counted per class.
    #[serde(default)]
    pub zones: Vec<ZoneConfig>,
    /// `[[cameras.lines]]`: lines whose crossings are counted per class and direction.
    #[serde(default)]
    pub lines: Vec<LineConfig>,
}

fn default_true() -> bool {
    true
}

fn default_stall_timeout() -> f64 {
    10.0
}

/// What is wrong with a camera entry: the key path inside the entry, and the message.
pub(super) type Problem = (Vec<&'static str>, String);

impl CameraConfig {
    /// Every class a zone or line counts is one of the model's `classes`: a typo would count
    /// nothing, silently. The error names the zone or line.
    pub fn check_counted_classes(&self, classes: &[String]) -> Result<(), String> {
        let counted = self
            .zones
            .iter()
            .map(|z| ("zone", &z.name, &z.classes))
            .chain(self.lines.iter().map(|l| ("line", &l.name, &l.classes)));
        for (kind, name, counts) in counted {
            if let Some(bad) = counts.iter().find(|c| !classes.contains(c)) {
                return Err(format!(
                    "camera '{}' {kind} '{name}': {}; a {kind} counts classes of the model (it has {})",
                    self.name,
                    crate::detect::unknown_class(bad, classes),
                    classes.len()
                ));
            }
        }
        Ok(())
    }

    /// `[detector]` with this camera's overrides applied.
    pub fn detector(&self, base: &DetectorConfig) -> DetectorConfig {
        self.detector.over(base)
    }

    /// An entry with only a name: what `replay` uses for a camera the config does not list.
    pub fn without_source(name: &str) -> CameraConfig {
        CameraConfig {
            name: name.into(),
            source: String::new(),
            realtime: true,
            looping: false,
            fps: None,
            stall_timeout_s: default_stall_timeout(),
            detector: DetectorOverrides::default(),
            capture: CaptureRequest::default(),
            tracker: TrackerOverrides::default(),
            zones: Vec::new(),
            lines: Vec::new(),
        }
    }

    /// This camera's tracking (`[tracker]` with its overrides, its zones and lines); `None` when
    /// tracking is off for it.
    pub fn tracking(&self, base: &TrackerConfig) -> Option<TrackingConfig> {
        let tracker = self.tracker.over(base);
        tracker.enabled.then(|| TrackingConfig {
            line_totals: tracker
                .line_totals_dir
                .as_ref()
                .map(|d| d.join(format!("lines-{}.json", self.name))),
            tracker,
            zones: self.zones.clone(),
            lines: self.lines.clone(),
        })
    }

    /// The tracker settings, zones and lines: (key path from the entry, message).
    pub(super) fn check_tracking(&self, base: &TrackerConfig) -> Result<(), (String, String)> {
        self.tracker.over(base).validate().map_err(|(k, m)| {
            (
                format!("tracker.{k}"),
                format!("'{}' tracker {k}: {m}", self.name),
            )
        })?;
        validate_zones(&self.zones)
            .map_err(|(k, m)| (k.clone(), format!("'{}' {k}: {m}", self.name)))?;
        validate_lines(&self.lines)
            .map_err(|(k, m)| (k.clone(), format!("'{}' {k}: {m}", self.name)))
    }

    /// The name goes into MQTT topics: one topic segment.
    pub(super) fn check_name(&self) -> Result<(), Problem> {
        if crate::publish::valid_topic_segment(&self.name) {
            return Ok(());
        }
        Err((
            vec!["name"],
            format!(
                "name '{}' may only use letters, digits, '-', '_' and '.'",
                self.name
            ),
        ))
    }

    /// Every check on one entry but its name's.
    pub(super) fn check(&self, base: &DetectorConfig) -> Result<(), Problem> {
        let name = &self.name;
        if self.fps.is_some_and(|f| !(f > 0.0 && f <= 1000.0)) {
            return Err((
                vec!["fps"],
                format!("'{name}' fps must be between 0 and 1000 (unset: no cap)"),
            ));
        }
        self.check_capture()?;
        if !(self.stall_timeout_s >= 0.5 && self.stall_timeout_s <= 3600.0) {
            return Err((
                vec!["stall_timeout_s"],
                format!("'{name}' stall_timeout_s must be between 0.5 and 3600"),
            ));
        }
        self.detector(base)
            .validate()
            .map_err(|e| (vec!["detector", e.key], format!("'{name}' detector: {e}")))
    }

    fn check_capture(&self) -> Result<(), Problem> {
        let (c, name) = (&self.capture, &self.name);
        if *c != CaptureRequest::default() && !crate::source::is_device(&self.source) {
            return Err((
                vec!["capture"],
                format!("'{name}' [cameras.capture] applies to V4L2 cameras (/dev/videoN) only"),
            ));
        }
        let bad_resolution = c
            .resolution
            .is_some_and(|(w, h)| !(1..=16384).contains(&w) || !(1..=16384).contains(&h));
        let bad_fps = c.fps.is_some_and(|f| !(1..=1000).contains(&f));
        if bad_resolution || bad_fps {
            let key = if bad_resolution { "resolution" } else { "fps" };
            return Err((
                vec!["capture", key],
                format!(
                    "'{name}' [cameras.capture] resolution must be [width, height] up to 16384 \
                     and fps 1..1000"
                ),
            ));
        }
        Ok(())
    }
}
