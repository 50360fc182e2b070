//! What a camera keeps when its source restarts or a reload restarts it with new settings:
//! counters stay monotonic, event numbers contiguous, track ids and line totals go on, and the
//! admin pages keep their latest frame.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::detect::{named_classes, Detector};
use crate::events::{EventLog, EventsConfig};
use crate::metrics::CameraMetrics;
use crate::snapshot::LatestFrame;
use crate::track::{TrackStage, TrackingConfig};

#[derive(Clone)]
pub struct Kept {
    pub metrics: Arc<CameraMetrics>,
    /// The latest processed frame and its objects (snapshots).
    pub latest_frame: Arc<LatestFrame>,
    /// Class and object events, when `[events]` is on and there is a broker to send them to.
    pub events: Option<Arc<Mutex<EventLog>>>,
    /// The tracker, zones and lines, when tracking is on for this camera.
    pub tracking: Option<Arc<Mutex<TrackStage>>>,
}

impl Kept {
    /// A new camera's state: fresh counters and, when `events` is on and `with_broker`, a fresh
    /// event log.
    pub fn new(
        (device, camera): (&str, &str),
        events: &EventsConfig,
        with_broker: bool,
        tracking: Option<Arc<Mutex<TrackStage>>>,
    ) -> Kept {
        let events = (events.enabled && with_broker).then(|| {
            Arc::new(Mutex::new(EventLog::new(
                device,
                camera,
                Duration::from_secs_f64(events.left_after_s),
            )))
        });
        Kept {
            events,
            tracking,
            ..Kept::bare()
        }
    }

    /// Fresh counters, and neither events nor tracking (`bench`).
    pub fn bare() -> Kept {
        Kept {
            metrics: Arc::default(),
            latest_frame: Arc::default(),
            events: None,
            tracking: None,
        }
    }
}

/// The tracking stage of a camera with this detector (its classes, and the ones its filter lists,
/// shown at zero in zones and lines); `None` when its tracking is off.
pub fn track_stage(
    tracking: Option<&TrackingConfig>,
    detector: &Detector,
) -> Option<Arc<Mutex<TrackStage>>> {
    let listed = named_classes(&detector.config().classes);
    tracking.map(|cfg| {
        Arc::new(Mutex::new(TrackStage::new(
            cfg,
            &detector.spec().classes,
            listed,
        )))
    })
}
