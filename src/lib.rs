//! lookout: camera frames or recorded video → pretrained COCO detector (tract) → detections on MQTT.
//!
//! Pipeline: [`source`] → [`pipeline::FrameSlot`] → [`detect::Detector`] → [`track`] → [`publish`].
//! docs/architecture.md says where a frame goes, file by file.

pub mod admin;
pub mod annotate;
mod backoff;
pub mod camera;
pub mod config;
pub mod daemon;
pub mod detect;
mod error;
pub mod events;
pub mod homeassistant;
pub mod metrics;
pub mod pipeline;
pub mod publish;
pub mod redact;
mod sink;
mod snapshot;
pub mod source;
pub mod stop;
mod text;
pub mod track;
pub mod wire;

pub use error::{Error, Result};
