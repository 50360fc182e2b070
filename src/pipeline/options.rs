//! How one pipeline run behaves: names in topics, every-frame or latest-wins, limits, and what it
//! reports to (live metrics, events).

use std::sync::{Arc, Mutex};

use super::Controls;
use crate::metrics::FrameObserver;
use crate::snapshot::LatestFrame;
use crate::track::TrackStage;

#[derive(Debug, Clone)]
pub struct ReplayOptions {
    pub device: String,
    pub camera: String,
    pub topic_prefix: String,
    /// Latest-wins between capture and inference (for paced sources); otherwise every frame.
    pub latest_wins: bool,
    /// Stop after this many frames (warm-up included).
    pub max_frames: Option<u64>,
    /// Write each message as a JSON line to the output.
    pub json_lines: bool,
    /// Frames processed before statistics start (model and caches warm up).
    pub warmup: u64,
    /// Release frames to the pipeline at this fixed rate, as a camera would (use with `latest_wins`).
    pub pace_fps: Option<f64>,
    /// Process at most this many frames per second; the others are dropped as `fps_cap`.
    pub max_fps: Option<f64>,
    pub observer: Option<Arc<dyn FrameObserver>>,
    pub controls: Option<Arc<Controls>>,
    /// Turns detections into object appeared/left events on `<camera>/events` (with MQTT).
    pub events: Option<Arc<Mutex<crate::events::Tracker>>>,
    /// The camera's tracker, zones and lines; kept by the caller across source restarts.
    pub tracking: Option<Arc<Mutex<TrackStage>>>,
    /// Publish the retained `<camera>/counts` (objects per class, these classes at zero too)
    /// whenever they change: what Home Assistant's count and occupancy entities read.
    pub counts: Option<Vec<String>>,
    /// Where each processed frame goes, with its objects, for snapshots (`lookout run`).
    pub snapshot: Option<Arc<LatestFrame>>,
    /// Keep every measured frame's stage times in the summary (`bench --plot`).
    pub record_frames: bool,
}

impl ReplayOptions {
    pub fn new(device: &str, camera: &str, topic_prefix: &str) -> ReplayOptions {
        ReplayOptions {
            device: device.into(),
            camera: camera.into(),
            topic_prefix: topic_prefix.into(),
            latest_wins: false,
            max_frames: None,
            json_lines: true,
            warmup: 0,
            pace_fps: None,
            max_fps: None,
            observer: None,
            controls: None,
            events: None,
            tracking: None,
            counts: None,
            snapshot: None,
            record_frames: false,
        }
    }
}
