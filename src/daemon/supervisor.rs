//! The supervisor loop of `lookout run`: it waits on what can happen (a stop, a SIGHUP, a command
//! on `<camera>/set`, a tick for periodic work) and handles each as it comes. The periodic work is
//! the systemd watchdog and STATUS line, the `stats` message, and noticing that every camera has
//! reached the end of its file. At the end it stops and joins the cameras and publishes their
//! final state.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crossbeam_channel::{never, select, tick, Receiver};

use super::camera::Camera;
use super::state::{apply_command, publish_states, publish_stats};
use super::systemd::{sd_notify, Watchdog};
use super::{Daemon, Shared};
use crate::admin::CameraList;
use crate::config::Config;
use crate::stop::StopToken;

/// How often the periodic work runs: a quarter of the shortest stats interval (1 s), well under
/// the STATUS period (5 s) and any watchdog. Stops, reloads and commands never wait for it.
const TICK: Duration = Duration::from_millis(250);
/// The STATUS= line with each camera's rate, for `systemctl status`.
const STATUS_EVERY: Duration = Duration::from_secs(5);

/// A channel that disconnects the moment `stop` is stopped, so that `select!` can wait on the
/// token beside the other channels (a token has no channel of its own).
pub(super) fn closed_on_stop(stop: &StopToken) -> std::io::Result<Receiver<()>> {
    let (closer, closed) = crossbeam_channel::bounded::<()>(0);
    stop.on_stop("supervisor-stop", move || drop(closer))?;
    Ok(closed)
}

/// The running daemon: its config, its cameras, and the bookkeeping of the periodic work.
pub(super) struct Supervisor<'d> {
    pub daemon: &'d Daemon<'d>,
    /// The running config (after reloads, with the sections that need a restart kept as started).
    pub config: Config,
    pub cameras: BTreeMap<String, Camera>,
    pub shared: Shared,
    /// The admin pages' view of `cameras`.
    pub list: CameraList,
    watchdog: Option<Watchdog>,
    /// For the STATUS= line.
    status_rate: RateMeter,
    /// For `stats` and `state`, every stats interval (with MQTT, when the interval is not 0).
    stats_every: Option<Duration>,
    stats_rate: RateMeter,
    /// Processing rate per camera over the last stats interval.
    fps: BTreeMap<String, f64>,
}

impl<'d> Supervisor<'d> {
    pub fn new(
        daemon: &'d Daemon<'d>,
        config: Config,
        cameras: BTreeMap<String, Camera>,
        shared: Shared,
        list: CameraList,
    ) -> Supervisor<'d> {
        let longest_stall = config
            .cameras
            .iter()
            .map(|c| c.stall_timeout_s)
            .fold(0.0, f64::max);
        let stats_every = (shared.mqtt.is_some() && config.mqtt.stats_interval_s > 0.0)
            .then(|| Duration::from_secs_f64(config.mqtt.stats_interval_s));
        Supervisor {
            daemon,
            config,
            cameras,
            shared,
            list,
            watchdog: Watchdog::from_env(longest_stall),
            status_rate: RateMeter::new(),
            stats_every,
            stats_rate: RateMeter::new(),
            fps: BTreeMap::new(),
        }
    }

    /// Runs until `stopped` disconnects (SIGTERM/SIGINT) or every camera has ended.
    pub fn run(&mut self, stopped: &Receiver<()>) {
        let ticks = tick(TICK);
        let mut reloads = self.daemon.reload.clone();
        let mut commands = match &self.shared.mqtt {
            Some(m) => m.commands().clone(),
            None => never(),
        };
        publish_states(&self.shared, &self.cameras, &self.fps, None);
        loop {
            select! {
                recv(stopped) -> _ => return,
                recv(reloads) -> signal => match signal {
                    Ok(()) => self.reload(),
                    // Nobody sends reloads any more: stop listening rather than spin.
                    Err(_) => reloads = never(),
                },
                recv(commands) -> command => match command {
                    Ok((topic, payload, reply)) => {
                        let changed = apply_command(
                            &self.shared,
                            &mut self.cameras,
                            &topic,
                            &payload,
                            reply.as_ref(),
                        );
                        publish_states(&self.shared, &self.cameras, &self.fps, changed.as_deref());
                    }
                    Err(_) => commands = never(),
                },
                recv(ticks) -> _ => {
                    if self.cameras.values().all(Camera::finished) {
                        tracing::info!("every camera reached the end of its source");
                        return;
                    }
                    self.periodic();
                }
            }
        }
    }

    /// Stops every camera, waits for their threads, and publishes their final (stopped) state.
    pub fn shut_down(mut self) {
        self.shared.stop.stop();
        for (name, cam) in self.cameras.iter_mut() {
            cam.join(name);
        }
        publish_states(&self.shared, &self.cameras, &BTreeMap::new(), None);
    }

    fn periodic(&mut self) {
        if let Some(w) = &mut self.watchdog {
            w.tick(&self.cameras);
        }
        self.status_line();
        self.stats();
    }

    /// A STATUS= line with each camera's processing rate and the broker connection.
    fn status_line(&mut self) {
        if self.status_rate.since.elapsed() < STATUS_EVERY {
            return;
        }
        let parts: Vec<String> = self
            .status_rate
            .rates(&self.cameras)
            .iter()
            .map(|(name, fps)| format!("{name} {fps:.1} fps"))
            .collect();
        let broker = match &self.shared.mqtt {
            Some(m) if m.is_connected() => "; mqtt connected",
            Some(_) => "; mqtt disconnected",
            None => "",
        };
        sd_notify(&format!("STATUS={}{broker}", parts.join(", ")));
    }

    /// `stats`, then every camera's `state` with the new rates, once per stats interval.
    fn stats(&mut self) {
        let (Some(every), Some(m)) = (self.stats_every, &self.shared.mqtt) else {
            return;
        };
        if self.stats_rate.since.elapsed() < every {
            return;
        }
        self.fps = self.stats_rate.rates(&self.cameras);
        publish_stats(&self.shared, m, &self.cameras, &self.fps);
        publish_states(&self.shared, &self.cameras, &self.fps, None);
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
            let now = cam.kept.metrics.frames_processed.load(Ordering::Relaxed);
            let before = self.counts.insert(name.clone(), now).unwrap_or(0);
            out.insert(name.clone(), now.saturating_sub(before) as f64 / elapsed);
        }
        self.since = Instant::now();
        out
    }
}
