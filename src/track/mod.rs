//! Multi-object tracking: detections in, objects with stable ids, velocities and lifetimes out.
//! A leaf stage (std, serde and external crates only), so tests and `lookout track` drive it with exact inputs.

pub mod assign;
pub mod bytetrack;
pub mod config;
pub mod kalman;

pub use bytetrack::{iou, DetIn, Ended, TrackOut, TrackState, Tracker, TrackerUpdate};
pub use config::TrackerConfig;
