//! `lookout run`: every camera of the config concurrently, one shared MQTT connection, systemd
//! notifications (READY, STATUS, WATCHDOG, RELOADING, STOPPING), a config reload on SIGHUP and a
//! clean stop on SIGTERM/SIGINT. A camera whose source fails or stalls is restarted with
//! exponential backoff and a logged reason; it never takes the others down.
//!
//! Where things are: [`Daemon::run`] here (start-up and the shutdown order) with [`Shared`], what
//! every camera thread shares; `supervisor` (the loop that waits on stops, reloads, commands and
//! a tick); `reload` (the one way cameras are started, changed and stopped: at start from an
//! empty set, and on SIGHUP); `camera` (one camera's thread: built by `crate::camera`, run,
//! restarted with backoff); `state` and `control` (the bus besides detections: retained state,
//! stats, commands and their answers); `systemd` (sd_notify and the watchdog).
//!
//! Stopping: SIGTERM/SIGINT stop [`Daemon::stop`]; the cameras run under a child of it (each with
//! its own child, so a reload can stop one). The admin endpoint has a token of its own: it keeps
//! answering until the cameras' final states are out.

mod camera;
pub mod control;
mod discovery;
mod reload;
mod snapshots;
mod state;
mod supervisor;
mod systemd;

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::Receiver;

use crate::admin::{AdminState, CameraList};
use crate::config::Config;
use crate::detect::{Detector, DetectorConfig};
use crate::error::{Error, Result};
use crate::events::EventsConfig;
use crate::publish::mqtt::MqttPublisher;
use crate::publish::topics::DeviceTopics;
use crate::snapshot::SnapshotsConfig;
use crate::stop::StopToken;
use supervisor::Supervisor;

pub use reload::on_sighup;
pub use systemd::sd_notify;

/// What every camera thread shares with the daemon.
#[derive(Clone)]
pub(crate) struct Shared {
    pub mqtt: Option<Arc<MqttPublisher>>,
    pub device: String,
    /// `<prefix>/<device>` and every topic under it.
    pub topics: DeviceTopics,
    pub events: EventsConfig,
    /// Publish each camera's retained `<camera>/counts` (Home Assistant's count entities).
    pub counts: bool,
    /// `[snapshots]`: the JPEG quality of snapshots and how often they go to MQTT.
    pub snapshots: SnapshotsConfig,
    /// The parent of every camera's token: stopping it stops them all.
    pub stop: StopToken,
}

/// How long the MQTT connection may take to hand over what is queued when lookout stops.
const MQTT_CLOSE_WITHIN: Duration = Duration::from_secs(3);

/// What `run` needs besides the config.
pub struct Daemon<'a> {
    /// The config file, read again on SIGHUP.
    pub config_path: &'a Path,
    pub resolve_model: &'a (dyn Fn(&Path) -> PathBuf + Sync),
    /// Topic segment naming this machine.
    pub device: String,
    /// Stopped by SIGTERM/SIGINT ([`StopToken::on_signals`]).
    pub stop: StopToken,
    /// One message per SIGHUP ([`on_sighup`]); each reloads the config file.
    pub reload: Receiver<()>,
}

impl Daemon<'_> {
    /// Loads and warms every camera's detector (failing early on a bad model; a GPU compiles its
    /// kernels here, before READY), then runs until SIGTERM/SIGINT or every non-looping camera has
    /// reached the end of its file.
    pub fn run(&self, config: Config) -> Result<()> {
        if config.cameras.is_empty() {
            return Err(Error::Config(
                "the config has no [[cameras]]; add one (see config/lookout.toml)".into(),
            ));
        }
        // Every model loads (and warms up) before anything connects: a bad one fails the start.
        let detectors = config
            .cameras
            .iter()
            .map(|cam| {
                let detector = self.load_detector(&cam.name, cam.detector(&config.detector))?;
                cam.check_counted_classes(&detector.spec().classes)
                    .map_err(|m| Error::Config(format!("{}: {m}", self.config_path.display())))?;
                Ok((cam.name.clone(), detector))
            })
            .collect::<Result<BTreeMap<_, _>>>()?;
        let listener = match config.admin.listen.as_str() {
            "" => None,
            addr => Some(crate::admin::bind(addr)?),
        };
        let topics = DeviceTopics::new(&config.mqtt.topic_prefix, &self.device);
        let mqtt = match &config.mqtt.url {
            Some(_) => Some(Arc::new(MqttPublisher::start(&config.mqtt, &topics)?)),
            None => None,
        };
        let cameras_stop = self.stop.child();
        let stopped = supervisor::closed_on_stop(&cameras_stop).map_err(|e| {
            Error::Internal(format!("cannot start the supervisor's stop watcher: {e}"))
        })?;
        let shared = Shared {
            mqtt: mqtt.clone(),
            device: self.device.clone(),
            topics,
            events: config.events.clone(),
            counts: config.homeassistant.enabled,
            snapshots: config.snapshots.clone(),
            stop: cameras_stop,
        };
        // The cameras start as a reload starts them, from an empty set.
        let list = CameraList::default();
        let mut supervisor =
            Supervisor::new(self, config.clone(), BTreeMap::new(), shared, list.clone());
        supervisor.reconcile(config, detectors);
        if let (Some(m), true) = (&mqtt, supervisor.config.homeassistant.enabled) {
            // Every camera is declared: what else this lookout declared before goes.
            discovery::of(&supervisor.shared, &supervisor.config).watch(m, true);
        }
        state::publish_list(&list, &supervisor.cameras);
        let admin = AdminThread::start(listener, &list, &mqtt);
        sd_notify(&format!(
            "READY=1\nSTATUS=running {} camera(s)",
            supervisor.cameras.len()
        ));
        tracing::info!(cameras = supervisor.cameras.len(), "lookout running");

        supervisor.run(&stopped);
        // The shutdown order: cameras stopped and joined, their final states published, the
        // admin endpoint stopped, then MQTT closed (flushing those states).
        sd_notify("STOPPING=1\nSTATUS=stopping");
        supervisor.shut_down();
        admin.stop();
        if let Some(m) = mqtt {
            m.close(MQTT_CLOSE_WITHIN);
        }
        Ok(())
    }

    /// Loads a camera's model and runs it once, so its first frame does not pay for the warm-up.
    fn load_detector(&self, camera: &str, cfg: DetectorConfig) -> Result<Detector> {
        let mut detector = crate::camera::load_detector(Some(camera), cfg, self.resolve_model)?;
        sd_notify(&format!(
            "STATUS=warming up the {} engine for camera {camera}",
            detector.engine_name()
        ));
        let took = detector.warm_up()?;
        tracing::info!(
            camera,
            engine = detector.engine_name(),
            ms = took.as_millis() as u64,
            "detector warmed up"
        );
        Ok(detector)
    }
}

/// The admin endpoint's thread, stopped by its own token (see the module doc for why).
struct AdminThread {
    stop: StopToken,
    thread: Option<JoinHandle<()>>,
}

impl AdminThread {
    fn start(
        listener: Option<TcpListener>,
        cameras: &CameraList,
        mqtt: &Option<Arc<MqttPublisher>>,
    ) -> AdminThread {
        let stop = StopToken::new();
        let thread = listener.and_then(|listener| {
            let state = AdminState {
                cameras: cameras.clone(),
                mqtt: mqtt.clone(),
            };
            let stop = stop.clone();
            let spawned = std::thread::Builder::new()
                .name("admin".into())
                .spawn(move || crate::admin::serve(listener, &state, &stop));
            spawned
                .inspect_err(|e| {
                    tracing::error!("admin endpoint off: cannot start its thread ({e})")
                })
                .ok()
        });
        AdminThread { stop, thread }
    }

    fn stop(self) {
        self.stop.stop();
        if let Some(t) = self.thread {
            if t.join().is_err() {
                tracing::error!("the admin thread panicked");
            }
        }
    }
}
