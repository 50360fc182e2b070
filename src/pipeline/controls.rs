//! What may change while a camera runs (SIGHUP reload, the control topic), applied between frames.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// Settings changed while a camera runs (SIGHUP reload, control topic); applied between frames.
#[derive(Debug, Default)]
pub struct Controls {
    paused: AtomicBool,
    filters: Mutex<Option<Filters>>,
}

/// The detector settings that apply without reloading the model.
#[derive(Debug, Clone, PartialEq)]
pub struct Filters {
    pub score_threshold: f32,
    pub iou_threshold: f32,
    pub classes: Vec<String>,
}

impl Filters {
    pub fn of(cfg: &crate::detect::DetectorConfig) -> Filters {
        Filters {
            score_threshold: cfg.score_threshold,
            iou_threshold: cfg.iou_threshold,
            classes: cfg.classes.clone(),
        }
    }
}

impl Controls {
    pub fn set_paused(&self, paused: bool) {
        self.paused.store(paused, Ordering::SeqCst);
    }

    pub fn is_paused(&self) -> bool {
        self.paused.load(Ordering::SeqCst)
    }

    /// Asks the camera to apply `filters` before its next frame.
    pub fn set_filters(&self, filters: Filters) {
        *self.filters.lock().unwrap_or_else(|p| p.into_inner()) = Some(filters);
    }

    pub(super) fn take_filters(&self) -> Option<Filters> {
        self.filters
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
    }
}
