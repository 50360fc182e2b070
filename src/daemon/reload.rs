//! The one way cameras are started, changed and stopped ([`Supervisor::reconcile`]): at start,
//! from an empty set, and on SIGHUP, after the config file is read again and checked. A bad file
//! is rejected and the running config stays. Cameras added or removed start or stop; a changed score
//! threshold, IoU threshold or class list, and changed tracker settings, zones or lines apply live
//! (tracks and line totals go on); any other change to a camera (and turning tracking on or off)
//! restarts that camera only. `[mqtt]`, `[admin]` and `[events]` changes need a restart of lookout and are
//! reported as such, as are `[homeassistant]` changes (a removed camera's Home Assistant entities
//! go at once).

use std::collections::BTreeMap;

use crossbeam_channel::Receiver;

use super::camera::Camera;
use super::discovery;
use super::state::publish_list;
use super::supervisor::Supervisor;
use super::systemd::sd_notify;
use crate::camera::{track_stage, Kept};
use crate::config::{CameraConfig, Config};
use crate::detect::{Detector, DetectorConfig};
use crate::error::Error;
use crate::pipeline::Filters;
use crate::sink::mqtt::{clear_regions, publish_regions};
use crate::track::TrackingConfig;

/// Detectors already loaded (and warmed up) for cameras of the new config, by camera name: at
/// start, every camera's, so that a bad model fails the start before anything runs.
pub(super) type Loaded = BTreeMap<String, Detector>;

/// A channel that receives one message per SIGHUP (several before the supervisor looks are one
/// reload). Install it early: until then SIGHUP's default action ends the process.
pub fn on_sighup() -> std::io::Result<Receiver<()>> {
    let mut signals = signal_hook::iterator::Signals::new([signal_hook::consts::SIGHUP])?;
    let (tx, rx) = crossbeam_channel::bounded(1);
    std::thread::Builder::new()
        .name("sighup".into())
        .spawn(move || {
            for _ in signals.forever() {
                // Full: a reload is already pending, and it will read the newest file.
                if let Err(crossbeam_channel::TrySendError::Disconnected(())) = tx.try_send(()) {
                    return;
                }
            }
        })?;
    Ok(rx)
}

impl Supervisor<'_> {
    /// Reloads the config file, telling systemd (RELOADING, then READY).
    pub(super) fn reload(&mut self) {
        sd_notify("RELOADING=1");
        self.apply_new_config();
        publish_list(&self.list, &self.cameras);
        sd_notify("READY=1");
    }

    fn apply_new_config(&mut self) {
        let path = self.daemon.config_path;
        let new = match Config::load(path) {
            Ok(c) if c.cameras.is_empty() => Err(Error::Config(format!(
                "{}: the config has no [[cameras]]",
                path.display()
            ))),
            // Class names and input sizes against each model, before anything changes: a bad
            // one rejects the whole reload (never "applied live", then refused).
            Ok(c) => c.check_models(path).map(|()| c),
            other => other,
        };
        let new = match new {
            Ok(c) => c,
            Err(e) => {
                tracing::error!("reload rejected, the running config stays: {e}");
                sd_notify("STATUS=reload rejected (see the log); running the previous config");
                return;
            }
        };
        tracing::info!(config = %path.display(), "reloading");
        warn_of_sections_needing_a_restart(&self.config, &new);
        self.reconcile(new, Loaded::new());
        sd_notify(&format!(
            "STATUS=reloaded; running {} camera(s)",
            self.cameras.len()
        ));
    }

    /// Makes the running cameras those of `new`: removes the ones it lacks, changes the others
    /// live where it can, (re)starts the rest, and declares them to Home Assistant. The sections
    /// that need a restart of lookout keep their running values.
    pub(super) fn reconcile(&mut self, new: Config, mut loaded: Loaded) {
        let gone = self.remove_cameras_not_in(&new);
        for cfg in &new.cameras {
            let (detector, tracking) = (cfg.detector(&new.detector), cfg.tracking(&new.tracker));
            self.apply_camera(cfg, detector, tracking, &mut loaded);
        }
        let current = &self.config;
        self.config = Config {
            mqtt: current.mqtt.clone(),
            admin: current.admin.clone(),
            events: current.events.clone(),
            homeassistant: current.homeassistant.clone(),
            snapshots: current.snapshots.clone(),
            ..new
        };
        // Home Assistant: removed cameras' entities go, the others follow their new settings.
        discovery::withdraw(&self.shared, &self.config, &gone);
        discovery::announce(&self.shared, &self.config, &self.cameras);
    }

    /// Stops the cameras `new` does not have; returns their names.
    fn remove_cameras_not_in(&mut self, new: &Config) -> Vec<String> {
        let gone: Vec<String> = self
            .cameras
            .keys()
            .filter(|name| !new.cameras.iter().any(|c| c.name == **name))
            .cloned()
            .collect();
        for name in &gone {
            if let Some(cam) = self.cameras.remove(name) {
                let (zones, lines) = match &cam.kept.tracking {
                    Some(stage) => stage.lock().unwrap_or_else(|p| p.into_inner()).current(),
                    None => Default::default(),
                };
                cam.shut_down();
                // Its retained messages go too: a removed camera leaves no stale state, counts,
                // snapshot, zones or lines for subscribers to read.
                if let Some(m) = &self.shared.mqtt {
                    let topics = self.shared.topics.camera(name);
                    let zones: Vec<String> = zones.into_iter().map(|z| z.zone).collect();
                    let lines: Vec<String> = lines.into_iter().map(|l| l.line).collect();
                    clear_regions(m, &topics, &zones, &lines);
                    for topic in topics.retained() {
                        m.publish_state(&topic, Vec::new());
                    }
                }
                tracing::info!(camera = %name, "camera removed");
            }
        }
        gone
    }

    /// Leaves the camera alone, changes its filters live, or (re)starts it, whichever the change
    /// needs.
    fn apply_camera(
        &mut self,
        cfg: &CameraConfig,
        detector: DetectorConfig,
        tracking: Option<TrackingConfig>,
        loaded: &mut Loaded,
    ) {
        match self.cameras.get_mut(&cfg.name) {
            Some(cam)
                if cam.config == *cfg && cam.detector == detector && cam.tracking == tracking => {}
            Some(cam)
                if same_source(&cam.config, cfg)
                    && same_model(&cam.detector, &detector)
                    && cam.tracking.is_some() == tracking.is_some() =>
            {
                if cam.detector != detector {
                    cam.controls.set_filters(Filters::of(&detector));
                    tracing::info!(camera = %cfg.name, "new detector thresholds/classes: applied live");
                }
                if let (Some(new), Some(stage)) = (&tracking, &cam.kept.tracking) {
                    if cam.tracking.as_ref() != Some(new) {
                        let mut stage = stage.lock().unwrap_or_else(|p| p.into_inner());
                        let removed = stage.reconfigure(new);
                        tracing::info!(camera = %cfg.name, "new tracker settings, zones or lines: applied live");
                        if let Some(m) = &self.shared.mqtt {
                            // Removed zones and lines disappear; the others (new ones at zero)
                            // show their counts now.
                            let topics = self.shared.topics.camera(&cfg.name);
                            clear_regions(m, &topics, &removed.0, &removed.1);
                            let (zones, lines) = stage.current();
                            let who = (self.shared.device.as_str(), cfg.name.as_str());
                            publish_regions(m, &topics, who, &zones, &lines);
                        }
                    }
                }
                cam.detector = detector;
                cam.tracking = tracking;
                cam.config = cfg.clone();
            }
            _ => self.restart_camera(cfg, detector, tracking, loaded),
        }
    }

    /// Starts the camera with its new settings, stopping the old one (whose counters and events
    /// carry over) only once the new detector has loaded: a bad model keeps the old one running.
    fn restart_camera(
        &mut self,
        cfg: &CameraConfig,
        detector: DetectorConfig,
        tracking: Option<TrackingConfig>,
        loaded: &mut Loaded,
    ) {
        let already = loaded.remove(&cfg.name);
        let loaded = match already
            .map_or_else(|| self.daemon.load_detector(&cfg.name, detector), Ok)
        {
            Ok(d) => d,
            Err(e) => {
                tracing::error!(camera = %cfg.name, "reload: cannot load its detector ({e}); keeping it as it was");
                return;
            }
        };
        let (kept, action) = match self.cameras.remove(&cfg.name) {
            Some(old) => {
                let mut kept = old.kept.clone();
                old.shut_down_for_restart();
                // Tracks and line totals go on; tracking turned on or off starts or drops them.
                match (&tracking, &kept.tracking) {
                    (Some(new), Some(stage)) => {
                        stage
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .reconfigure(new);
                    }
                    _ => kept.tracking = track_stage(tracking.as_ref(), &loaded),
                }
                (kept, "restarted with its new settings")
            }
            None => {
                let stage = track_stage(tracking.as_ref(), &loaded);
                let who = (self.shared.device.as_str(), cfg.name.as_str());
                let with_broker = self.shared.mqtt.is_some();
                let kept = Kept::new(who, &self.shared.events, with_broker, stage);
                (kept, "added")
            }
        };
        let cam = Camera::start(cfg, loaded, kept, tracking, &self.shared);
        self.cameras.insert(cfg.name.clone(), cam);
        tracing::info!(camera = %cfg.name, "camera {action}");
    }
}

fn warn_of_sections_needing_a_restart(current: &Config, new: &Config) {
    for (section, changed) in [
        ("[mqtt]", new.mqtt != current.mqtt),
        ("[admin]", new.admin != current.admin),
        ("[events]", new.events != current.events),
        (
            "[homeassistant]",
            new.homeassistant != current.homeassistant,
        ),
        ("[snapshots]", new.snapshots != current.snapshots),
    ] {
        if changed {
            tracing::warn!("{section} changed: it applies after a restart of lookout (systemctl restart lookout); keeping the running one");
        }
    }
}

/// Whether two detector configs differ at most in what `Detector::set_filters` changes.
fn same_model(a: &DetectorConfig, b: &DetectorConfig) -> bool {
    let strip = |d: &DetectorConfig| DetectorConfig {
        score_threshold: 0.0,
        iou_threshold: 0.0,
        classes: Vec::new(),
        ..d.clone()
    };
    strip(a) == strip(b)
}

/// Whether two camera entries differ at most in the detector settings that apply live.
fn same_source(a: &CameraConfig, b: &CameraConfig) -> bool {
    let strip = |c: &CameraConfig| {
        let mut c = c.clone();
        (
            c.detector.score_threshold,
            c.detector.iou_threshold,
            c.detector.classes,
        ) = (None, None, None);
        // Tracking settings apply live too (compared separately, with `[tracker]` applied).
        c.tracker = Default::default();
        (c.zones, c.lines) = (Vec::new(), Vec::new());
        c
    };
    strip(a) == strip(b)
}
