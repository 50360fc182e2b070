//! What lookout measures about itself: per-stage latency histograms, per-camera counters, and the
//! process's CPU time and memory. The lowest layer: it imports no other lookout module.

mod camera;
mod histogram;
mod process;
pub mod prometheus;
mod stage;

pub use camera::{CameraMetrics, DropReason, FrameObserver, RestartReason, SourceFaults};
pub use histogram::Histogram;
pub use process::{children_cpu_time, cpu_time, peak_rss_bytes};
pub use stage::{Stage, StageHistograms, StageMs};
