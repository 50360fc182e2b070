//! Tracking: detections in, objects with stable ids, velocities and lifetimes out, and what they
//! do in zones and across lines. A leaf stage (std, serde and external crates only, besides
//! `crate::error` and `crate::wire`), so tests and `lookout track` drive it with exact inputs.

pub mod assign;
pub mod bytetrack;
pub mod config;
pub mod geometry;
pub mod jsonl;
pub mod kalman;
pub mod lines;
pub mod objects;
pub mod region;
pub mod stage;
pub mod totals;
pub mod tracker;
pub mod zones;

pub use bytetrack::{iou, ByteTracker};
pub use config::{TrackerConfig, TrackerOverrides};
pub use objects::{FrameRef, ObjectEvent};
pub use stage::{FrameOutput, TrackStage, TrackedObject, TrackingConfig};
pub use tracker::{DetIn, Ended, TrackOut, TrackState, Tracker, TrackerUpdate};
