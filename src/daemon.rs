//! `lookout run`: every camera of the config concurrently, one shared MQTT connection, systemd
//! notifications (READY, STATUS, WATCHDOG, RELOADING, STOPPING), a config reload on SIGHUP and a
//! clean stop on SIGTERM/SIGINT. A camera whose source fails or stalls is restarted with
//! exponential backoff and a logged reason; it never takes the others down.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::admin::{AdminState, CameraList};
use crate::backoff::Backoff;
use crate::config::{CameraConfig, Config};
use crate::control::{self, Command, CommandAck};
use crate::detect::{Detector, DetectorConfig, ModelSpec};
use crate::error::{Error, Result};
use crate::events::Tracker;
use crate::metrics::{CameraMetrics, FrameObserver, RestartReason};
use crate::pipeline::{self, Controls, Filters, ReplayOptions};
use crate::publish::mqtt::MqttPublisher;
use crate::source::{self, SourceOptions};
use crate::stop::StopToken;

/// Sends a state line to systemd when run with `Type=notify` ($NOTIFY_SOCKET); a no-op otherwise.
pub fn sd_notify(state: &str) {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    let Ok(sock) = std::os::unix::net::UnixDatagram::unbound() else {
        return;
    };
    let bytes = path.as_encoded_bytes();
    let sent = if let Some(name) = bytes.strip_prefix(b"@") {
        use std::os::linux::net::SocketAddrExt;
        std::os::unix::net::SocketAddr::from_abstract_name(name)
            .and_then(|a| sock.send_to_addr(state.as_bytes(), &a))
    } else {
        sock.send_to(state.as_bytes(), &path)
    };
    if let Err(e) = sent {
        tracing::debug!("sd_notify failed: {e}");
    }
}

/// The systemd watchdog interval ($WATCHDOG_USEC, for this process), if one is set.
fn watchdog_interval() -> Option<Duration> {
    if let Ok(pid) = std::env::var("WATCHDOG_PID") {
        if pid.parse::<u32>().ok() != Some(std::process::id()) {
            return None;
        }
    }
    let usec: u64 = std::env::var("WATCHDOG_USEC").ok()?.parse().ok()?;
    (usec > 0).then(|| Duration::from_micros(usec))
}

/// What `run` needs besides the config.
pub struct Daemon<'a> {
    /// The config file, read again on SIGHUP.
    pub config_path: &'a Path,
    pub resolve_model: &'a (dyn Fn(&Path) -> PathBuf + Sync),
    /// Topic segment naming this machine.
    pub device: String,
    /// Stopped by SIGTERM/SIGINT.
    pub stop: StopToken,
    /// Set by SIGHUP; `run` clears it and reloads.
    pub reload: Arc<AtomicBool>,
}

/// A running camera: its thread and what the supervisor may change.
struct Camera {
    config: CameraConfig,
    detector: DetectorConfig,
    metrics: Arc<CameraMetrics>,
    controls: Arc<Controls>,
    /// Kept across restarts of the camera, so event numbers stay contiguous.
    events: Option<Arc<Mutex<Tracker>>>,
    /// The answer to the last command on `<camera>/set`.
    ack: Option<CommandAck>,
    stop: StopToken,
    thread: Option<JoinHandle<()>>,
}

/// What a camera thread shares with the daemon.
#[derive(Clone)]
struct Shared {
    mqtt: Option<Arc<MqttPublisher>>,
    device: String,
    topic_prefix: String,
    events: crate::events::EventsConfig,
    /// The daemon's token: every camera's stops with it.
    stop: StopToken,
}

impl Shared {
    fn root(&self) -> String {
        format!("{}/{}", self.topic_prefix, self.device)
    }

    fn tracker(&self, camera: &str) -> Option<Arc<Mutex<Tracker>>> {
        (self.events.enabled && self.mqtt.is_some()).then(|| {
            Arc::new(Mutex::new(Tracker::new(
                &self.device,
                camera,
                Duration::from_secs_f64(self.events.left_after_s),
            )))
        })
    }
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
        let mut detectors = Vec::new();
        for cam in &config.cameras {
            let cfg = cam.detector(&config.detector);
            detectors.push(self.load_detector(&cam.name, cfg)?);
        }
        let listener = match config.admin.listen.as_str() {
            "" => None,
            addr => Some(crate::admin::bind(addr)?),
        };
        let mqtt = match &config.mqtt.url {
            Some(_) => Some(Arc::new(MqttPublisher::start(
                &config.mqtt,
                &format!("{}/{}", config.mqtt.topic_prefix, self.device),
            )?)),
            None => None,
        };
        let shared = Shared {
            mqtt: mqtt.clone(),
            device: self.device.clone(),
            topic_prefix: config.mqtt.topic_prefix.clone(),
            events: config.events.clone(),
            stop: self.stop.clone(),
        };
        let mut cameras: BTreeMap<String, Camera> = BTreeMap::new();
        for (cam, detector) in config.cameras.iter().zip(detectors) {
            let metrics = Arc::default();
            let camera = start_camera(cam, detector, metrics, shared.tracker(&cam.name), &shared);
            cameras.insert(cam.name.clone(), camera);
        }
        let list: CameraList = Arc::default();
        publish_list(&list, &cameras);
        let admin_done = Arc::new(AtomicBool::new(false));
        let admin = listener.map(|listener| {
            let state = AdminState {
                cameras: list.clone(),
                mqtt: mqtt.clone(),
            };
            let done = admin_done.clone();
            std::thread::Builder::new()
                .name("admin".into())
                .spawn(move || {
                    crate::admin::serve(listener, &state, &|| done.load(Ordering::SeqCst))
                })
        });
        sd_notify(&format!(
            "READY=1\nSTATUS=running {} camera(s)",
            cameras.len()
        ));
        tracing::info!(cameras = cameras.len(), "lookout running");

        let mut config = config;
        let watchdog = watchdog_interval();
        if let Some(w) = watchdog {
            let longest = config
                .cameras
                .iter()
                .map(|c| c.stall_timeout_s)
                .fold(0.0, f64::max);
            if longest >= w.as_secs_f64() {
                tracing::warn!(
                    "the systemd watchdog ({:.0} s) is shorter than a camera's stall_timeout_s \
                     ({longest} s): a stalled camera restarts the whole service",
                    w.as_secs_f64()
                );
            }
        }
        let mut supervisor = Supervisor {
            last_ping: Instant::now(),
            silent_logged: false,
            status_rate: RateMeter::new(),
            stats_rate: RateMeter::new(),
            fps: BTreeMap::new(),
        };
        let stats_every = (config.mqtt.stats_interval_s > 0.0)
            .then(|| Duration::from_secs_f64(config.mqtt.stats_interval_s));
        publish_states(&shared, &cameras, &supervisor.fps, None);
        loop {
            if self.stop.is_stopped() {
                break;
            }
            if self.reload.swap(false, Ordering::SeqCst) {
                sd_notify("RELOADING=1");
                self.reload_config(&mut config, &mut cameras, &shared);
                publish_list(&list, &cameras);
                sd_notify("READY=1");
            }
            if cameras.values().all(|c| c.finished()) {
                tracing::info!("every camera reached the end of its source");
                break;
            }
            if let Some(w) = watchdog {
                supervisor.watchdog(w, &cameras);
            }
            supervisor.status(&cameras, mqtt.as_deref());
            if let Some(m) = &mqtt {
                let commands: Vec<(String, Vec<u8>)> = m.commands().try_iter().collect();
                for (topic, payload) in commands {
                    let changed = apply_command(&shared, &mut cameras, &topic, &payload);
                    publish_states(&shared, &cameras, &supervisor.fps, changed.as_deref());
                }
                if stats_every.is_some_and(|every| supervisor.stats_rate.since.elapsed() >= every) {
                    supervisor.fps = supervisor.stats_rate.rates(&cameras);
                    let list: Vec<(&str, &CameraMetrics, f64)> = cameras
                        .iter()
                        .map(|(n, c)| {
                            let fps = supervisor.fps.get(n).copied().unwrap_or(0.0);
                            (n.as_str(), c.metrics.as_ref(), fps)
                        })
                        .collect();
                    m.publish_json(
                        &format!("{}/stats", shared.root()),
                        crate::publish::message::STATS_SCHEMA,
                        control::stats_json(&self.device, &list, m),
                    );
                    publish_states(&shared, &cameras, &supervisor.fps, None);
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        sd_notify("STOPPING=1\nSTATUS=stopping");
        for cam in cameras.values() {
            cam.stop.stop();
        }
        for (name, cam) in cameras.iter_mut() {
            if let Some(t) = cam.thread.take() {
                if t.join().is_err() {
                    tracing::error!(camera = %name, "the camera thread panicked");
                }
            }
        }
        publish_states(&shared, &cameras, &BTreeMap::new(), None);
        admin_done.store(true, Ordering::SeqCst);
        if let Some(Ok(t)) = admin {
            let _ = t.join();
        }
        if let Some(m) = mqtt {
            m.close(Duration::from_secs(3));
        }
        Ok(())
    }

    fn load_detector(&self, camera: &str, cfg: DetectorConfig) -> Result<Detector> {
        let spec = ModelSpec::load(&(self.resolve_model)(&cfg.model))?;
        let mut detector = Detector::new(spec, cfg)?;
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

    /// SIGHUP: reads the config again. A bad file is rejected and everything keeps running. Cameras
    /// added or removed start or stop; a changed score threshold, IoU threshold or class list applies
    /// live; any other change to a camera restarts that camera only. `[mqtt]`, `[admin]` and `[events]`
    /// changes need a restart of lookout and are reported as such.
    fn reload_config(
        &self,
        current: &mut Config,
        cameras: &mut BTreeMap<String, Camera>,
        shared: &Shared,
    ) {
        let new = match Config::load(self.config_path) {
            Ok(c) if c.cameras.is_empty() => Err(Error::Config(format!(
                "{}: the config has no [[cameras]]",
                self.config_path.display()
            ))),
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
        tracing::info!(config = %self.config_path.display(), "reloading");
        for (section, changed) in [
            ("[mqtt]", new.mqtt != current.mqtt),
            ("[admin]", new.admin != current.admin),
            ("[events]", new.events != current.events),
        ] {
            if changed {
                tracing::warn!("{section} changed: it applies after a restart of lookout (systemctl restart lookout); keeping the running one");
            }
        }
        let names: Vec<String> = cameras.keys().cloned().collect();
        for name in names {
            if !new.cameras.iter().any(|c| c.name == name) {
                if let Some(cam) = cameras.remove(&name) {
                    cam.shut_down();
                    tracing::info!(camera = %name, "camera removed");
                }
            }
        }
        for cfg in &new.cameras {
            let detector = cfg.detector(&new.detector);
            match cameras.get(&cfg.name) {
                Some(cam) if cam.config == *cfg && cam.detector == detector => {}
                Some(cam)
                    if same_source(&cam.config, cfg) && same_model(&cam.detector, &detector) =>
                {
                    cam.controls.set_filters(Filters::of(&detector));
                    tracing::info!(camera = %cfg.name, "new detector thresholds/classes: applied live");
                    if let Some(cam) = cameras.get_mut(&cfg.name) {
                        cam.detector = detector;
                        cam.config = cfg.clone();
                    }
                }
                existing => {
                    let loaded = match self.load_detector(&cfg.name, detector) {
                        Ok(d) => d,
                        Err(e) => {
                            tracing::error!(camera = %cfg.name, "reload: cannot load its detector ({e}); keeping it as it was");
                            continue;
                        }
                    };
                    let (metrics, events) = match existing {
                        Some(c) => (c.metrics.clone(), c.events.clone()),
                        None => (Arc::default(), shared.tracker(&cfg.name)),
                    };
                    let action = match cameras.remove(&cfg.name) {
                        Some(old) => {
                            old.shut_down();
                            "restarted with its new settings"
                        }
                        None => "added",
                    };
                    let cam = start_camera(cfg, loaded, metrics, events, shared);
                    cameras.insert(cfg.name.clone(), cam);
                    tracing::info!(camera = %cfg.name, "camera {action}");
                }
            }
        }
        let (mqtt, admin, events) = (
            current.mqtt.clone(),
            current.admin.clone(),
            current.events.clone(),
        );
        *current = Config {
            mqtt,
            admin,
            events,
            ..new
        };
        sd_notify(&format!(
            "STATUS=reloaded; running {} camera(s)",
            cameras.len()
        ));
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
        c
    };
    strip(a) == strip(b)
}

fn publish_list(list: &CameraList, cameras: &BTreeMap<String, Camera>) {
    let mut l = list.write().unwrap_or_else(|p| p.into_inner());
    *l = cameras
        .iter()
        .map(|(n, c)| (n.clone(), c.metrics.clone()))
        .collect();
}

impl Camera {
    fn finished(&self) -> bool {
        self.thread.as_ref().is_none_or(|t| t.is_finished())
    }

    fn shut_down(mut self) {
        self.stop.stop();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Frames processed per second by each camera since the last reading.
struct RateMeter {
    since: Instant,
    counts: BTreeMap<String, u64>,
}

impl RateMeter {
    fn new() -> RateMeter {
        RateMeter {
            since: Instant::now(),
            counts: BTreeMap::new(),
        }
    }

    /// Each camera's rate since the last call (or since `new`), and starts a new interval.
    fn rates(&mut self, cameras: &BTreeMap<String, Camera>) -> BTreeMap<String, f64> {
        let elapsed = self.since.elapsed().as_secs_f64().max(1e-3);
        let mut out = BTreeMap::new();
        for (name, cam) in cameras {
            let now = cam.metrics.frames_processed.load(Ordering::Relaxed);
            let before = self.counts.insert(name.clone(), now).unwrap_or(0);
            out.insert(name.clone(), now.saturating_sub(before) as f64 / elapsed);
        }
        self.since = Instant::now();
        out
    }
}

/// The supervisor loop's bookkeeping: watchdog pings, STATUS lines and the stats rate.
struct Supervisor {
    last_ping: Instant,
    silent_logged: bool,
    /// For the STATUS= line (every 5 s).
    status_rate: RateMeter,
    /// For stats and state (every stats interval).
    stats_rate: RateMeter,
    /// Processing rate per camera over the last stats interval.
    fps: BTreeMap<String, f64>,
}

impl Supervisor {
    /// Pings the systemd watchdog at half its interval, but only while every running camera shows
    /// progress (frames published, or its restart loop working): a hung pipeline stops the pings and
    /// systemd restarts the service.
    fn watchdog(&mut self, interval: Duration, cameras: &BTreeMap<String, Camera>) {
        if self.last_ping.elapsed() < interval / 2 {
            return;
        }
        let silent: Vec<&str> = cameras
            .iter()
            .filter(|(_, c)| !c.finished() && c.metrics.silent_for() >= interval / 2)
            .map(|(n, _)| n.as_str())
            .collect();
        if silent.is_empty() {
            sd_notify("WATCHDOG=1");
            self.last_ping = Instant::now();
            self.silent_logged = false;
        } else if !self.silent_logged {
            tracing::error!(
                "no progress from camera(s) {}: not pinging the systemd watchdog",
                silent.join(", ")
            );
            self.silent_logged = true;
        }
    }

    /// A STATUS= line with each camera's processing rate every 5 s.
    fn status(&mut self, cameras: &BTreeMap<String, Camera>, mqtt: Option<&MqttPublisher>) {
        if self.status_rate.since.elapsed() < Duration::from_secs(5) {
            return;
        }
        let parts: Vec<String> = self
            .status_rate
            .rates(cameras)
            .iter()
            .map(|(name, fps)| format!("{name} {fps:.1} fps"))
            .collect();
        let broker = match mqtt {
            Some(m) if m.is_connected() => "; mqtt connected",
            Some(_) => "; mqtt disconnected",
            None => "",
        };
        sd_notify(&format!("STATUS={}{broker}", parts.join(", ")));
    }
}

fn start_camera(
    cfg: &CameraConfig,
    detector: Detector,
    metrics: Arc<CameraMetrics>,
    events: Option<Arc<Mutex<Tracker>>>,
    shared: &Shared,
) -> Camera {
    let stop = shared.stop.child();
    let controls = Arc::new(Controls::default());
    let effective = detector.config().clone();
    let thread = {
        let (cfg, metrics, controls, stop, shared, events) = (
            cfg.clone(),
            metrics.clone(),
            controls.clone(),
            stop.clone(),
            shared.clone(),
            events.clone(),
        );
        std::thread::Builder::new()
            .name(format!("camera-{}", cfg.name))
            .spawn(move || run_camera(&cfg, detector, &shared, &metrics, controls, events, &stop))
    };
    let thread = match thread {
        Ok(t) => Some(t),
        Err(e) => {
            tracing::error!(camera = %cfg.name, "cannot start the camera thread: {e}");
            None
        }
    };
    Camera {
        detector: effective,
        config: cfg.clone(),
        metrics,
        controls,
        events,
        ack: None,
        stop,
        thread,
    }
}

/// One camera: open, process until the source ends or fails, restart with backoff.
fn run_camera(
    cam: &CameraConfig,
    mut detector: Detector,
    shared: &Shared,
    metrics: &Arc<CameraMetrics>,
    controls: Arc<Controls>,
    events: Option<Arc<Mutex<Tracker>>>,
    stop: &StopToken,
) {
    let mut backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(30));
    let observer: Arc<dyn FrameObserver> = metrics.clone();
    let stream = source::is_stream(&cam.source);
    // A live source (camera, network stream) never waits for the detector: latest wins.
    let live = stream || source::is_device(&cam.source);
    let opts = ReplayOptions {
        latest_wins: cam.realtime || live,
        json_lines: false,
        max_fps: cam.fps,
        observer: Some(observer),
        controls: Some(controls),
        events,
        ..ReplayOptions::new(&shared.device, &cam.name, &shared.topic_prefix)
    };
    let source_opts = SourceOptions {
        realtime: cam.realtime,
        looping: cam.looping,
        stall_timeout: Some(Duration::from_secs_f64(cam.stall_timeout_s)),
        stop: Some(stop.clone()),
        capture: cam.capture.clone(),
        ..SourceOptions::default()
    };
    while !stop.is_stopped() {
        metrics.beat();
        let started = Instant::now();
        let outcome = source::open(&cam.source, source_opts.clone()).and_then(|src| {
            pipeline::replay(
                &mut detector,
                src,
                shared.mqtt.as_deref(),
                &mut std::io::sink(),
                &opts,
                stop,
            )
        });
        if stop.is_stopped() {
            return;
        }
        let (reason, why) = match outcome {
            // A file that ends is done; a stream or a looping file that ends is restarted.
            Ok(s) if s.source_error.is_none() && !cam.looping && !stream => {
                tracing::info!(camera = %cam.name, frames = s.frames, "source ended");
                return;
            }
            Ok(s) => match s.source_error {
                Some(e @ Error::Stalled { .. }) => (RestartReason::Stalled, e.to_string()),
                Some(e) => (RestartReason::Failed, e.to_string()),
                None => (RestartReason::Ended, "the source ended".to_string()),
            },
            Err(e @ Error::Stalled { .. }) => (RestartReason::Stalled, e.to_string()),
            Err(e) => (RestartReason::OpenFailed, e.to_string()),
        };
        // A source that ran a while before failing starts again quickly.
        if started.elapsed() > Duration::from_secs(30) {
            backoff.reset();
        }
        let delay = backoff.next_delay();
        if reason == RestartReason::Ended {
            tracing::info!(camera = %cam.name, "{why}; restarting");
        } else {
            tracing::warn!(camera = %cam.name, %reason, "{why}; retrying in {delay:?}");
        }
        metrics.restarted(reason, (reason != RestartReason::Ended).then_some(why));
        // The restart loop waiting is progress too (the watchdog sees the camera alive).
        let until = Instant::now() + delay;
        while Instant::now() < until && !stop.is_stopped() {
            metrics.beat();
            stop.wait_until(until.min(Instant::now() + Duration::from_millis(50)));
        }
    }
}

fn camera_status(cam: &Camera) -> &'static str {
    let errored = cam
        .metrics
        .last_error
        .lock()
        .map(|e| e.is_some())
        .unwrap_or(false);
    if cam.finished() {
        "stopped"
    } else if cam.controls.is_paused() {
        "paused"
    } else if errored {
        "restarting"
    } else if cam.metrics.has_produced() {
        "running"
    } else {
        "starting"
    }
}

/// Publishes the retained state of every camera (or only `only`).
fn publish_states(
    shared: &Shared,
    cameras: &BTreeMap<String, Camera>,
    fps: &BTreeMap<String, f64>,
    only: Option<&str>,
) {
    let Some(m) = &shared.mqtt else { return };
    for (name, cam) in cameras {
        if only.is_some_and(|o| o != name) {
            continue;
        }
        let status = camera_status(cam);
        let state = control::State {
            schema: crate::publish::message::STATE_SCHEMA,
            device: &shared.device,
            camera: name,
            status,
            online: status == "running",
            paused: status == "paused",
            source: &cam.config.source,
            fps: crate::publish::message::round_to(fps.get(name).copied().unwrap_or(0.0), 2),
            model: cam.detector.model.display().to_string(),
            score_threshold: cam.detector.score_threshold,
            classes: &cam.detector.classes,
            last_error: cam.metrics.last_error.lock().ok().and_then(|e| e.clone()),
            command: cam.ack.as_ref(),
            updated_at: crate::publish::message::rfc3339_ms(std::time::SystemTime::now()),
        };
        if let Ok(payload) = serde_json::to_vec(&state) {
            m.publish_state(&format!("{}/{name}/state", shared.root()), payload);
        }
    }
}

/// Applies a command from `<root>/<camera>/set`; returns the camera it addressed.
fn apply_command(
    shared: &Shared,
    cameras: &mut BTreeMap<String, Camera>,
    topic: &str,
    payload: &[u8],
) -> Option<String> {
    let name = control::camera_of(&shared.root(), topic)?;
    let Some(cam) = cameras.get_mut(name) else {
        tracing::warn!(topic, "command for an unknown camera ignored");
        return None;
    };
    let at = crate::publish::message::rfc3339_ms(std::time::SystemTime::now());
    cam.ack = Some(match Command::parse(payload) {
        Ok((received, cmd)) => {
            if let Some(p) = cmd.paused {
                cam.controls.set_paused(p);
            }
            if let Some(t) = cmd.score_threshold {
                cam.detector.score_threshold = t;
                cam.controls.set_filters(Filters::of(&cam.detector));
            }
            tracing::info!(camera = name, command = %received, "command applied");
            CommandAck {
                received,
                accepted: true,
                error: None,
                at,
            }
        }
        Err((received, error)) => {
            tracing::warn!(camera = name, command = %received, "command rejected: {error}");
            CommandAck {
                received,
                accepted: false,
                error: Some(error),
                at,
            }
        }
    });
    Some(name.to_string())
}
