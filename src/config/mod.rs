//! The config file (`config/lookout.toml` documents every key). It gathers each component's own
//! config struct; unknown keys are rejected, and every error names the file, line and column
//! (from toml's own spans) and what is allowed.

mod cameras;

use std::collections::HashSet;
use std::path::Path;

use serde::Deserialize;

pub use cameras::CameraConfig;

use crate::detect::DetectorConfig;
use crate::error::{Error, Result};
use crate::publish::mqtt::MqttConfig;
use crate::text::toml_span::{Spans, Step};
use crate::track::TrackerConfig;

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
    /// `[tracker]`: multi-object tracking for every camera (and `replay`); a camera changes it in
    /// `[cameras.tracker]`.
    pub tracker: TrackerConfig,
    /// `[homeassistant]`: MQTT discovery for Home Assistant.
    pub homeassistant: crate::homeassistant::HomeAssistantConfig,
    /// `[snapshots]`: annotated JPEGs of each camera's latest frame (admin endpoint, MQTT).
    pub snapshots: crate::snapshot::SnapshotsConfig,
}

/// The largest config file lookout reads: the documented example is about 20 KB.
pub const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// The most `[[cameras]]` one process runs (each is a thread, a decoder and a detector).
pub const MAX_CAMERAS: usize = 64;

impl Config {
    /// The `[[cameras]]` entry named `camera` (its tracker settings, zones and lines), for
    /// `replay --config` and `track --config`; an entry with only the name when there is none.
    /// Then a config whose cameras do have zones or lines gets a warning naming them: a renamed
    /// file or a typo in `--camera` would otherwise count nothing, silently.
    pub fn camera_named(&self, camera: &str) -> CameraConfig {
        if let Some(entry) = self.cameras.iter().find(|c| c.name == camera) {
            return entry.clone();
        }
        let counting: Vec<&str> = self
            .cameras
            .iter()
            .filter(|c| !c.zones.is_empty() || !c.lines.is_empty())
            .map(|c| c.name.as_str())
            .collect();
        if !counting.is_empty() {
            tracing::warn!(
                "the config has no [[cameras]] entry named '{camera}', so no zones or lines \
                 apply; it has {}: pick one with --camera NAME",
                counting
                    .iter()
                    .map(|n| format!("'{n}'"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        CameraConfig::without_source(camera)
    }

    pub fn load(path: &Path) -> Result<Config> {
        use std::io::Read;
        let read_err = |source| Error::ConfigRead {
            path: path.to_path_buf(),
            source,
        };
        let file = std::fs::File::open(path).map_err(read_err)?;
        let mut text = String::new();
        // One byte over the limit is enough to know; a huge file (or /dev/zero) is never read whole.
        file.take(MAX_CONFIG_BYTES + 1)
            .read_to_string(&mut text)
            .map_err(read_err)?;
        Config::parse(&text, path)
    }

    /// Parses and checks `text`, read from `path` (for messages, and to find models beside it).
    pub fn parse(text: &str, path: &Path) -> Result<Config> {
        if text.len() as u64 > MAX_CONFIG_BYTES {
            return Err(Error::Config(format!(
                "{}: the config is over {} KiB; lookout reads at most that much (is it the right file?)",
                path.display(),
                MAX_CONFIG_BYTES / 1024
            )));
        }
        let mut cfg: Config = toml::from_str(text).map_err(|source| Error::ConfigSyntax {
            at: format!(
                "{}:{}",
                path.display(),
                crate::text::toml_span::error_line(text, &source)
            ),
            source,
        })?;
        let spans = Spans::parse(text);
        let located = |(line, col): (usize, usize), m: String| {
            Error::Config(format!("{}:{line}:{col}: {m}", path.display()))
        };
        cfg.detector.validate().map_err(|e| {
            let at = spans.nearest(&["detector".into(), e.key.into()]);
            located(at, format!("[detector] {e}"))
        })?;
        cfg.mqtt
            .validate()
            .map_err(|m| located(named_key(&spans, "mqtt", &m), format!("[mqtt] {m}")))?;
        cfg.events
            .validate()
            .map_err(|m| located(named_key(&spans, "events", &m), format!("[events] {m}")))?;
        cfg.homeassistant.validate().map_err(|m| {
            located(
                named_key(&spans, "homeassistant", &m),
                format!("[homeassistant] {m}"),
            )
        })?;
        cfg.snapshots.validate().map_err(|m| {
            located(
                named_key(&spans, "snapshots", &m),
                format!("[snapshots] {m}"),
            )
        })?;
        cfg.admin.validate().map_err(|m| {
            located(
                spans.nearest(&["admin".into(), "listen".into()]),
                format!("[admin] {m}"),
            )
        })?;
        cfg.tracker.validate().map_err(|(key, m)| {
            located(
                spans.nearest(&["tracker".into(), key.into()]),
                format!("[tracker] {key}: {m}"),
            )
        })?;
        if cfg.cameras.len() > MAX_CAMERAS {
            return Err(located(
                spans.nearest(&["cameras".into(), MAX_CAMERAS.into()]),
                format!(
                    "[[cameras]] {} cameras: one lookout process runs at most {MAX_CAMERAS}; run \
                     another process (another config and admin port) for the rest",
                    cfg.cameras.len()
                ),
            ));
        }
        cfg.check_cameras().map_err(|(i, keys, m)| {
            let path: Vec<Step> = ["cameras".into(), i.into()]
                .into_iter()
                .chain(keys.into_iter().map(Step::Key))
                .collect();
            located(spans.nearest(&path), format!("[[cameras]] {m}"))
        })?;
        for (i, cam) in cfg.cameras.iter().enumerate() {
            cam.check_tracking(&cfg.tracker).map_err(|(key, m)| {
                let mut at: Vec<Step> = vec!["cameras".into(), i.into()];
                at.extend(key_path(&key));
                located(spans.nearest(&at), format!("[[cameras]] {m}"))
            })?;
        }
        cfg.find_models(path);
        Ok(cfg)
    }

    /// Every model the config names (`[detector]`'s and each camera's) loads, with the classes and
    /// input size asked of it, and every zone's and line's classes are the model's: what `run`
    /// checks as it loads each camera's detector, `check-config` reports and a reload checks
    /// before it changes anything. `path` is the config file, for messages and to
    /// find models beside it.
    pub fn check_models(&self, path: &Path) -> Result<()> {
        use crate::detect::{self, DetectorConfig, ModelSpec};
        let check = |d: &DetectorConfig, whose: &str| -> Result<ModelSpec> {
            let spec = ModelSpec::load_as(
                &detect::model_path(&d.model_to_load().0, Some(path)),
                d.family,
            )?;
            detect::check(&spec, d).map_err(|e| match e {
                Error::Usage(m) => Error::Config(format!("{}: {whose}: {m}", path.display())),
                other => other,
            })?;
            Ok(spec)
        };
        check(&self.detector, "[detector]")?;
        for cam in &self.cameras {
            let spec = check(
                &cam.detector(&self.detector),
                &format!("camera '{}'", cam.name),
            )?;
            cam.check_counted_classes(&spec.classes)
                .map_err(|m| Error::Config(format!("{}: {m}", path.display())))?;
        }
        Ok(())
    }

    /// The first camera entry in error: its index, the key path inside it, the message.
    fn check_cameras(&self) -> std::result::Result<(), (usize, Vec<&'static str>, String)> {
        let mut names = HashSet::new();
        // Home Assistant ids write '.' as '_': `cam.1` and `cam_1` would share every entity.
        let mut entity_ids = std::collections::HashMap::new();
        for (i, cam) in self.cameras.iter().enumerate() {
            let fail = |(keys, m): cameras::Problem| (i, keys, m);
            cam.check_name().map_err(fail)?;
            if !names.insert(cam.name.as_str()) {
                let m = format!(
                    "name '{}' is used twice; camera names must be unique",
                    cam.name
                );
                return Err((i, vec!["name"], m));
            }
            let id = crate::homeassistant::discovery::object_id(&cam.name);
            match entity_ids.insert(id, cam.name.as_str()) {
                Some(other) if self.homeassistant.enabled => {
                    let m = format!(
                        "name '{}' and '{other}' give the same Home Assistant entity ids (a '.' \
                         becomes '_'), so one camera's entities would replace the other's; rename \
                         one of them",
                        cam.name
                    );
                    return Err((i, vec!["name"], m));
                }
                _ => {}
            }
            cam.check(&self.detector).map_err(fail)?;
        }
        Ok(())
    }

    /// Relative model paths, `[detector]`'s and the cameras' alike, resolved once by
    /// [`crate::detect::model_path`] (working directory, beside this file, install tree).
    fn find_models(&mut self, file: &Path) {
        let find = |model: &mut std::path::PathBuf| {
            *model = crate::detect::model_path(model, Some(file));
        };
        find(&mut self.detector.model);
        for cam in &mut self.cameras {
            if let Some(model) = cam.detector.model.as_mut() {
                find(model);
            }
        }
    }
}

/// `zones[2].polygon[1]` as steps into the TOML document.
fn key_path(path: &str) -> Vec<Step<'_>> {
    let mut steps = Vec::new();
    for part in path.split('.') {
        let mut rest = part;
        if let Some(i) = rest.find('[') {
            steps.push(Step::Key(&rest[..i]));
            rest = &rest[i..];
            while let Some(end) = rest.find(']') {
                if let Ok(n) = rest[1..end].parse() {
                    steps.push(Step::Index(n));
                }
                rest = &rest[end + 1..];
            }
        } else {
            steps.push(Step::Key(rest));
        }
    }
    steps
}

/// Where a message about `[table]` points: the first word of it that is a key the file sets in
/// that table (validators name the key they reject), else the table's header.
fn named_key(spans: &Spans, table: &str, message: &str) -> (usize, usize) {
    message
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .find_map(|w| {
            // "bad MQTT URL" names the key `url`.
            let lower = w.to_ascii_lowercase();
            spans
                .exact(&[table.into(), w.into()])
                .or_else(|| spans.exact(&[table.into(), lower.as_str().into()]))
        })
        .unwrap_or_else(|| spans.nearest(&[table.into()]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        Config::parse(text, Path::new("x.toml"))
            .expect_err("must fail")
            .to_string()
    }

    /// #17 probe defect 13: an error about a key points at the key's line, not the table's.
    #[test]
    fn mqtt_errors_point_at_their_key() {
        let e = err("[mqtt]\nqos_note = 1\n");
        assert!(e.starts_with("x.toml:2:"), "{e}");
        let e = err("[mqtt]\ndevice = \"d\"\nurl = \"mqtt://h:99999\"\n");
        assert!(
            e.starts_with("x.toml:3:1:") && e.contains("port must be"),
            "{e}"
        );
        let e = err("[mqtt]\n\npassword_env = \"1x\"\n");
        assert!(
            e.starts_with("x.toml:3:1:") && e.contains("not a variable name"),
            "{e}"
        );
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
        // The documented [snapshots] values are the defaults.
        assert_eq!(cfg.snapshots, crate::snapshot::SnapshotsConfig::default());
    }

    #[test]
    fn snapshots_errors_name_the_key_and_its_line() {
        let e = err("[snapshots]
mqtt_interval_s = 5
jpeg_quality = 0
");
        assert!(
            e.starts_with("x.toml:3:") && e.contains("[snapshots] jpeg_quality = 0"),
            "{e}"
        );
        // beyond a byte: the same message with the range, not serde's "expected u8"
        let e = err("[snapshots]
jpeg_quality = 500
");
        assert!(
            e.starts_with("x.toml:2:") && e.contains("use 1 (smallest) to 100"),
            "{e}"
        );
        let e = err("[snapshots]
mqtt_interval_s = -2.5
");
        assert!(
            e.starts_with("x.toml:2:") && e.contains("or 0 to publish none"),
            "{e}"
        );
        let ok = Config::parse(
            "[snapshots]
mqtt_interval_s = 5
",
            Path::new("c.toml"),
        )
        .expect("an integer is seconds too");
        assert_eq!(ok.snapshots.mqtt_interval_s, 5.0);
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
            e.contains("used twice") && e.starts_with("x.toml:5:1"),
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
    fn camera_names_that_home_assistant_would_merge_are_refused() {
        let pair = "[[cameras]]\nname = \"cam.1\"\nsource = \"x\"\n\
                    [[cameras]]\nname = \"cam_1\"\nsource = \"y\"\n";
        let e = err(&format!("[homeassistant]\nenabled = true\n{pair}"));
        assert!(
            e.starts_with(
                "x.toml:7:1: [[cameras]] name 'cam_1' and 'cam.1' give the same Home Assistant"
            ),
            "{e}"
        );
        // Without Home Assistant the names are distinct topics and nothing collides.
        let ok = Config::parse(pair, Path::new("x.toml"));
        assert!(ok.is_ok(), "{:?}", ok.err());
    }

    #[test]
    fn camera_errors_point_into_the_camera_at_fault() {
        // The duplicate is the second entry: its `name` line, not the first entry's.
        let e = err("[[cameras]]\nname = \"a\"\nsource = \"x\"\n[[cameras]]\nname = \"a\"\nsource = \"y\"\n");
        assert!(
            e.starts_with("x.toml:5:1: [[cameras]] name 'a' is used twice"),
            "{e}"
        );
        let three = "[[cameras]]\nname = \"a\"\nsource = \"x\"\nfps = 5.0\n\
                     [[cameras]]\nname = \"b\"\nsource = \"y\"\nfps = 5.0\n\
                     [[cameras]]\nname = \"c\"\nsource = \"z\"\n  fps = 5000.0\n";
        let e = err(three);
        assert!(e.starts_with("x.toml:12:3: [[cameras]] 'c' fps"), "{e}");
        // A camera's detector override, and a problem with no key of its own in the file.
        let e = err(&format!(
            "{three}[[cameras]]\nname = \"d\"\nsource = \"w\"\n[cameras.detector]\nthreads = 0\n"
        )
        .replace("5000.0", "5.0"));
        assert!(
            e.starts_with("x.toml:17:1: [[cameras]] 'd' detector: threads 0"),
            "{e}"
        );
        let e = err("[[cameras]]\nname = \"a\"\nsource = \"x\"\n\n[cameras.capture]\nfps = 30\n");
        assert!(
            e.starts_with("x.toml:5:1:") && e.contains("V4L2 cameras"),
            "{e}"
        );
    }

    #[test]
    fn the_same_text_elsewhere_does_not_move_the_location() {
        // Old text search found the comment's `score_threshold =` and `name = "a"` first.
        let e = err(
            "# score_threshold = 0.5 is a good start\n[mqtt]\nqueue = 64\n\
                     [detector]\nscore_threshold = 2.0\n",
        );
        assert!(
            e.starts_with("x.toml:5:1: [detector] score_threshold 2"),
            "{e}"
        );
        let e = err(
            "[[cameras]]\nname = \"a\"\nsource = \"x\"\n# name = \"b\" was the old one\n\
                     [[cameras]]\nname = \"b\"\nsource = \"y\"\nstall_timeout_s = 0.1\n",
        );
        assert!(
            e.starts_with("x.toml:8:1: [[cameras]] 'b' stall_timeout_s"),
            "{e}"
        );
        // [mqtt] problems point at the key they name, inside [mqtt] only.
        let e = err("[detector]\nthreads = 1\n[mqtt]\ntopic_prefix = \"a/#\"\n");
        assert!(e.starts_with("x.toml:4:1: [mqtt] topic_prefix"), "{e}");
    }

    #[test]
    fn qos_other_than_0_1_2_is_rejected_where_it_is_written() {
        let e = err("[mqtt]\nevents_qos = 3\n");
        assert!(
            e.starts_with("x.toml:2:14:") && e.contains("QoS 3 does not exist"),
            "{e}"
        );
        let e = err("[mqtt]\n\ndetections_qos = 2\n");
        assert!(
            e.starts_with("x.toml:3:1: [mqtt] detections_qos must be 0 or 1"),
            "{e}"
        );
        let ok = Config::parse("[mqtt]\nevents_qos = 2\n", Path::new("x.toml")).expect("valid");
        assert_eq!(ok.mqtt.events_qos, crate::publish::mqtt::Qos::ExactlyOnce);
    }

    #[test]
    fn unreadable_file_says_what_to_pass() {
        let e = Config::load(Path::new("/nonexistent/lookout.toml")).expect_err("missing");
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("pass --config"), "{e}");
    }
}
