//! lookout: camera frames or recorded video → pretrained COCO detector (tract) → detections on MQTT.
//!
//! Pipeline: [`source`] → [`pipeline::FrameSlot`] → [`detect::Detector`] → [`publish`].

pub mod admin;
pub mod backoff;
pub mod bench;
pub mod config;
pub mod control;
pub mod daemon;
pub mod detect;
pub mod error;
pub mod events;
pub mod metrics;
pub mod pipeline;
pub mod publish;
pub mod source;
pub mod stop;
pub mod track;

pub use error::{Error, Result};
