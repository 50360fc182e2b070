//! One camera of `lookout run`: its thread, which opens the source, runs the pipeline until the
//! source ends or fails, and restarts it with backoff; and the handle the supervisor keeps to read
//! its status, change its filters, and stop it. A camera that fails never takes the others down.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::control::{CameraStatus, CommandAck};
use super::Shared;
use crate::backoff::Backoff;
use crate::camera::{Bus, CameraPlan, Drive, Kept};
use crate::config::CameraConfig;
use crate::detect::{Detector, DetectorConfig};
use crate::error::{Error, Result};
use crate::metrics::{CameraMetrics, RestartReason};
use crate::pipeline::{Controls, ReplaySummary};
use crate::source;
use crate::stop::StopToken;
use crate::track::TrackingConfig;

/// The first wait before a failed source is opened again; it doubles up to [`RESTART_MAX`].
const RESTART_FIRST: Duration = Duration::from_millis(500);
const RESTART_MAX: Duration = Duration::from_secs(30);
/// A source that ran this long before failing starts again after the first, short wait.
const BACKOFF_RESET_AFTER: Duration = Duration::from_secs(30);

/// While the restart loop waits: when it will open the source again. The watchdog counts a camera
/// waiting here as alive: the backoff working is progress, not a hang.
type RestartAt = Arc<Mutex<Option<Instant>>>;

/// A running camera: its thread and what the supervisor may read or change.
pub(super) struct Camera {
    pub config: CameraConfig,
    /// The detector settings in effect (commands change the score threshold live).
    pub detector: DetectorConfig,
    /// The tracking settings in effect (`[tracker]` with the camera's overrides, zones, lines).
    pub tracking: Option<TrackingConfig>,
    pub kept: Kept,
    pub controls: Arc<Controls>,
    /// The answer to the last command on `<camera>/set`.
    pub ack: Option<CommandAck>,
    restart_at: RestartAt,
    /// Shared with the thread: set by [`Camera::shut_down_for_restart`].
    keep_tracks: Arc<AtomicBool>,
    stop: StopToken,
    thread: Option<JoinHandle<()>>,
    /// Publishes the retained `<camera>/snapshot` (`[snapshots] mqtt_interval_s`).
    snapshots: Option<JoinHandle<()>>,
}

impl Camera {
    /// Starts the camera's thread with a loaded, warmed-up detector.
    pub fn start(
        cfg: &CameraConfig,
        detector: Detector,
        kept: Kept,
        tracking: Option<TrackingConfig>,
        shared: &Shared,
    ) -> Camera {
        let stop = shared.stop.child();
        let controls = Arc::new(Controls::default());
        let restart_at = RestartAt::default();
        let effective = detector.config().clone();
        let latest = kept.latest_frame.clone();
        latest.set_jpeg_quality(shared.snapshots.quality());
        let snapshots = super::snapshots::start(
            &cfg.name,
            shared.topics.camera(&cfg.name).snapshot(),
            latest,
            shared.mqtt.clone(),
            &shared.snapshots,
            &stop,
        );
        let bus = Bus {
            device: &shared.device,
            topics: &shared.topics,
            mqtt: shared.mqtt.as_ref(),
            counts: shared
                .counts
                .then(|| crate::homeassistant::entity_classes(&effective.classes)),
        };
        let drive = Drive::Daemon {
            controls: controls.clone(),
        };
        let keep_tracks = Arc::new(AtomicBool::new(false));
        let runner = Runner {
            keep_tracks: keep_tracks.clone(),
            plan: CameraPlan::build(cfg, &kept, &bus, drive, &stop),
            cam: cfg.clone(),
            detector,
            metrics: kept.metrics.clone(),
            restart_at: restart_at.clone(),
            stop: stop.clone(),
        };
        let thread = std::thread::Builder::new()
            .name(format!("camera-{}", cfg.name))
            .spawn(move || runner.run());
        let thread = match thread {
            Ok(t) => Some(t),
            Err(e) => {
                tracing::error!(camera = %cfg.name, "cannot start the camera thread: {e}");
                None
            }
        };
        Camera {
            config: cfg.clone(),
            detector: effective,
            tracking,
            kept,
            controls,
            ack: None,
            restart_at,
            keep_tracks,
            stop,
            thread,
            snapshots,
        }
    }

    /// The thread has ended (its file reached the end, or it was stopped).
    pub fn finished(&self) -> bool {
        self.thread.as_ref().is_none_or(|t| t.is_finished())
    }

    /// No sign of life for `limit` while running: not finished, not waiting to restart, and no
    /// frame processed (or skipped while paused) for that long.
    pub fn hung(&self, limit: Duration) -> bool {
        let waiting = self
            .restart_at
            .lock()
            .map(|at| at.is_some())
            .unwrap_or(false);
        !self.finished() && !waiting && self.kept.metrics.silent_for() >= limit
    }

    /// The status on the camera's retained `state`.
    pub fn status(&self) -> CameraStatus {
        let errored = self
            .kept
            .metrics
            .last_error
            .lock()
            .map(|e| e.is_some())
            .unwrap_or(false);
        if self.finished() {
            CameraStatus::Stopped
        } else if self.controls.is_paused() {
            CameraStatus::Paused
        } else if errored {
            CameraStatus::Restarting
        } else if self.kept.metrics.has_produced() {
            CameraStatus::Running
        } else {
            CameraStatus::Starting
        }
    }

    /// Waits for the thread to end (after its token, or its parent's, was stopped).
    pub fn join(&mut self, name: &str) {
        if let Some(t) = self.thread.take() {
            if t.join().is_err() {
                tracing::error!(camera = %name, "the camera thread panicked");
            }
        }
        if let Some(t) = self.snapshots.take() {
            if t.join().is_err() {
                tracing::error!(camera = %name, "the snapshot thread panicked");
            }
        }
    }

    /// Stops this camera alone (it is removed) and waits for its thread; its objects end.
    pub fn shut_down(mut self) {
        self.stop.stop();
        let name = self.config.name.clone();
        self.join(&name);
    }

    /// Stops this camera to start it again with new settings: its tracks, kept, go on.
    pub fn shut_down_for_restart(self) {
        self.keep_tracks.store(true, Ordering::SeqCst);
        self.shut_down();
    }
}

/// The camera's thread: open, process until the source ends or fails, restart with backoff.
struct Runner {
    cam: CameraConfig,
    /// Set before a restart with new settings: the tracks outlive this thread.
    keep_tracks: Arc<AtomicBool>,
    plan: CameraPlan,
    detector: Detector,
    metrics: Arc<CameraMetrics>,
    restart_at: RestartAt,
    stop: StopToken,
}

impl Runner {
    fn run(mut self) {
        self.run_until_done();
        if self.keep_tracks.load(Ordering::SeqCst) {
            // Restarted with new settings: its tracks go on in the new thread. The lines'
            // totals are written now rather than at their next interval.
            if let Some(t) = &self.plan.run.tracking {
                t.lock().unwrap_or_else(|p| p.into_inner()).close();
            }
        } else {
            // Done for good (its file ended, lookout stops, or it was removed): the objects
            // still tracked end and the zones empty.
            self.plan.finish();
        }
    }

    fn run_until_done(&mut self) {
        let mut backoff = Backoff::new(RESTART_FIRST, RESTART_MAX);
        while !self.stop.is_stopped() {
            self.metrics.beat();
            let started = Instant::now();
            let outcome = self.run_once();
            if self.stop.is_stopped() {
                return;
            }
            let Some((reason, why)) = self.restart_reason(outcome) else {
                return;
            };
            if started.elapsed() > BACKOFF_RESET_AFTER {
                backoff.reset();
            }
            let delay = backoff.next_delay();
            if reason == RestartReason::Ended {
                tracing::info!(camera = %self.cam.name, "{why}; restarting");
            } else {
                tracing::warn!(camera = %self.cam.name, %reason, "{why}; retrying in {delay:?}");
            }
            let error = (reason != RestartReason::Ended).then_some(why);
            self.metrics.restarted(reason, error);
            if self.wait_before_restart(delay) {
                return;
            }
        }
    }

    /// Opens the source and runs the pipeline on it until it ends, fails or is stopped.
    fn run_once(&mut self) -> Result<ReplaySummary> {
        self.plan
            .run_once(std::slice::from_mut(&mut self.detector), &self.stop)
    }

    /// Why the source must be opened again, with the error in words; None when it is done.
    fn restart_reason(&self, outcome: Result<ReplaySummary>) -> Option<(RestartReason, String)> {
        let stream = source::is_stream(&self.cam.source);
        Some(match outcome {
            // A file that ends is done; a stream or a looping file that ends is restarted.
            Ok(s) if s.source_error.is_none() && !self.cam.looping && !stream => {
                tracing::info!(camera = %self.cam.name, frames = s.frames, "source ended");
                return None;
            }
            Ok(s) => match s.source_error {
                Some(e @ Error::Stalled { .. }) => (RestartReason::Stalled, e.to_string()),
                Some(e) => (RestartReason::Failed, e.to_string()),
                None => (RestartReason::Ended, "the source ended".to_string()),
            },
            Err(e @ Error::Stalled { .. }) => (RestartReason::Stalled, e.to_string()),
            Err(e) => (RestartReason::OpenFailed, e.to_string()),
        })
    }

    /// The backoff wait, cut short by a stop (then true). The watchdog sees the wait through
    /// `restart_at`, so nothing needs to beat the heartbeat meanwhile.
    fn wait_before_restart(&self, delay: Duration) -> bool {
        let until = Instant::now() + delay;
        self.set_restart_at(Some(until));
        let stopped = self.stop.wait_until(until);
        // Beat before clearing, so the watchdog never sees an old heartbeat outside the wait.
        self.metrics.beat();
        self.set_restart_at(None);
        stopped
    }

    fn set_restart_at(&self, at: Option<Instant>) {
        *self.restart_at.lock().unwrap_or_else(|p| p.into_inner()) = at;
    }
}
