//! How one pipeline run behaves: the names in its messages, every-frame or latest-wins, limits,
//! live controls and metrics, and its tracking stage. Where its frames go are its sinks
//! (`crate::sink`), not options.

use std::sync::{Arc, Mutex};

use super::Controls;
use crate::metrics::FrameObserver;
use crate::track::TrackStage;

#[derive(Debug, Clone)]
pub struct ReplayOptions {
    pub device: String,
    pub camera: String,
    /// Latest-wins between capture and inference (for paced sources); otherwise every frame.
    pub latest_wins: bool,
    /// Stop after this many frames (warm-up included).
    pub max_frames: Option<u64>,
    /// Frames processed before statistics start (model and caches warm up).
    pub warmup: u64,
    /// Release frames to the pipeline at this fixed rate, as a camera would (use with `latest_wins`).
    pub pace_fps: Option<f64>,
    /// Process at most this many frames per second; the others are dropped as `fps_cap`.
    pub max_fps: Option<f64>,
    pub observer: Option<Arc<dyn FrameObserver>>,
    pub controls: Option<Arc<Controls>>,
    /// The camera's tracker, zones and lines; kept by the caller across source restarts.
    pub tracking: Option<Arc<Mutex<TrackStage>>>,
    /// Keep every measured frame's stage times in the summary (`bench --plot`).
    pub record_frames: bool,
}

impl ReplayOptions {
    pub fn new(device: &str, camera: &str) -> ReplayOptions {
        ReplayOptions {
            device: device.into(),
            camera: camera.into(),
            latest_wins: false,
            max_frames: None,
            warmup: 0,
            pace_fps: None,
            max_fps: None,
            observer: None,
            controls: None,
            tracking: None,
            record_frames: false,
        }
    }
}
