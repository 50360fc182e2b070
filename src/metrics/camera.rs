//! Live counters of one camera (for `/metrics`, `/ready`, the state topic and the systemd
//! watchdog), and the events the pipeline reports to them as they happen.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::stage::{StageHistograms, StageMs};

/// Why a captured frame never reached the detector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    /// Replaced by a newer frame while the detector was busy.
    LatestWins,
    /// Above the camera's `fps` cap.
    FpsCap,
    /// The camera is paused (control topic).
    Paused,
}

impl DropReason {
    pub const ALL: [DropReason; 3] = [
        DropReason::LatestWins,
        DropReason::FpsCap,
        DropReason::Paused,
    ];

    /// Position in [`DropReason::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::LatestWins => "latest_wins",
            DropReason::FpsCap => "fps_cap",
            DropReason::Paused => "paused",
        }
    }
}

/// Why a camera's source was started again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RestartReason {
    /// The source could not be opened.
    OpenFailed,
    /// No frame within the stall timeout.
    Stalled,
    /// The source failed after delivering frames.
    Failed,
    /// A stream or looping file ended.
    Ended,
}

impl RestartReason {
    pub const ALL: [RestartReason; 4] = [
        RestartReason::OpenFailed,
        RestartReason::Stalled,
        RestartReason::Failed,
        RestartReason::Ended,
    ];

    /// The label in metrics and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            RestartReason::OpenFailed => "open_failed",
            RestartReason::Stalled => "stalled",
            RestartReason::Failed => "failed",
            RestartReason::Ended => "ended",
        }
    }
}

impl std::fmt::Display for RestartReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Told about every frame as it happens (live metrics); `replay`'s summary comes only at the end.
pub trait FrameObserver: Send + Sync + std::fmt::Debug {
    /// A frame arrived from the source.
    fn frame_captured(&self) {}
    /// A frame was published, with its time in each stage.
    fn frame_done(&self, stages_ms: &StageMs);
    /// A captured frame did not reach the detector.
    fn frame_dropped(&self, reason: DropReason);
}

/// What a source passed over instead of failing.
#[derive(Debug, Default)]
pub struct SourceFaults {
    /// Images in a folder that could not be decoded: skipped, logged, counted.
    pub skipped: std::sync::atomic::AtomicU64,
    /// Decoder errors ffmpeg reported for a video or stream (damaged or truncated data): the
    /// frames it could decode went on.
    pub damaged: std::sync::atomic::AtomicU64,
}

impl SourceFaults {
    pub fn skipped(&self) -> u64 {
        self.skipped.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn damaged(&self) -> u64 {
        self.damaged.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// Live counters of one camera, for `/metrics`, `/ready` and the systemd watchdog.
#[derive(Debug)]
pub struct CameraMetrics {
    pub frames_captured: AtomicU64,
    pub frames_processed: AtomicU64,
    /// Per [`DropReason::ALL`], in that order.
    pub frames_dropped: [AtomicU64; 3],
    /// Source restarts by reason.
    pub source_restarts: Mutex<std::collections::BTreeMap<RestartReason, u64>>,
    pub stages: Mutex<StageHistograms>,
    /// Last sign of life: a frame processed, a paused frame, or the restart loop waiting.
    heartbeat: Mutex<Instant>,
    /// Why the source last failed, until it produces a frame again.
    pub last_error: Mutex<Option<String>>,
    /// Images skipped and decoder errors, over every restart of the camera's source.
    pub source_faults: std::sync::Arc<SourceFaults>,
}

impl Default for CameraMetrics {
    fn default() -> Self {
        CameraMetrics {
            frames_captured: AtomicU64::new(0),
            frames_processed: AtomicU64::new(0),
            frames_dropped: Default::default(),
            source_restarts: Mutex::default(),
            stages: Mutex::default(),
            heartbeat: Mutex::new(Instant::now()),
            last_error: Mutex::default(),
            source_faults: Default::default(),
        }
    }
}

impl CameraMetrics {
    pub fn has_produced(&self) -> bool {
        self.frames_processed.load(Relaxed) > 0
    }

    pub fn dropped(&self, reason: DropReason) -> u64 {
        self.frames_dropped[reason.index()].load(Relaxed)
    }

    pub fn restarted(&self, reason: RestartReason, error: Option<String>) {
        if let Ok(mut m) = self.source_restarts.lock() {
            *m.entry(reason).or_default() += 1;
        }
        if let Some(e) = error {
            *self.last_error.lock().unwrap_or_else(|p| p.into_inner()) =
                Some(crate::redact::url(&e));
        }
        self.beat();
    }

    pub fn restarts_total(&self) -> u64 {
        self.source_restarts
            .lock()
            .map(|m| m.values().sum())
            .unwrap_or(0)
    }

    /// Records a sign of life (see `heartbeat`).
    pub fn beat(&self) {
        *self.heartbeat.lock().unwrap_or_else(|p| p.into_inner()) = Instant::now();
    }

    /// Time since the last sign of life.
    pub fn silent_for(&self) -> Duration {
        self.heartbeat
            .lock()
            .map(|t| t.elapsed())
            .unwrap_or_default()
    }
}

impl FrameObserver for CameraMetrics {
    fn frame_captured(&self) {
        self.frames_captured.fetch_add(1, Relaxed);
    }

    fn frame_done(&self, stages_ms: &StageMs) {
        self.frames_processed.fetch_add(1, Relaxed);
        if let Ok(mut s) = self.stages.lock() {
            s.record(stages_ms);
        }
        if let Ok(mut e) = self.last_error.lock() {
            *e = None;
        }
        self.beat();
    }

    fn frame_dropped(&self, reason: DropReason) {
        self.frames_dropped[reason.index()].fetch_add(1, Relaxed);
        if reason == DropReason::Paused {
            self.beat();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drop_reasons_index_their_list() {
        for (i, r) in DropReason::ALL.iter().enumerate() {
            assert_eq!(r.index(), i, "{}", r.as_str());
        }
    }
}
