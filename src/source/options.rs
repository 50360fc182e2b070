//! How a source is opened, what a V4L2 camera is asked for, and what a source passed over.

/// Options for opening a source.
#[derive(Debug, Clone, Default)]
pub struct SourceOptions {
    /// Pace frames at the source's frame rate (like a live camera) instead of as fast as possible.
    pub realtime: bool,
    /// With `realtime`, play files this many times faster than their frame rate (0 or 1: normal).
    pub speed: f64,
    /// Start again from the beginning at the end (files only).
    pub looping: bool,
    /// No frame (or no answer while opening) for this long is an error: [`Error::Stalled`].
    ///
    /// [`Error::Stalled`]: crate::Error::Stalled
    pub stall_timeout: Option<std::time::Duration>,
    /// Set to give up waiting for a frame (shutdown); the source then ends.
    pub stop: Option<crate::stop::StopToken>,
    /// What to ask a V4L2 camera for.
    pub capture: CaptureRequest,
    /// Counts what the source passed over; shared with whoever reports it (replay's exit code, the
    /// daemon's metrics), and kept across the source's restarts.
    pub faults: std::sync::Arc<SourceFaults>,
}

/// What a source passed over instead of failing: counters, kept with the camera's other metrics.
pub use crate::metrics::SourceFaults;

/// What to ask the camera for; unset fields: the largest mode at its highest rate.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaptureRequest {
    /// [width, height] in pixels; the nearest mode the camera offers is used.
    #[serde(default, deserialize_with = "crate::text::exact::opt_pair")]
    pub resolution: Option<(u32, u32)>,
    /// Frames per second to request from the camera (nearest offered).
    pub fps: Option<u32>,
    /// "mjpeg" or "yuyv"; default: either, MJPEG preferred.
    pub format: Option<PixelFormat>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PixelFormat {
    Mjpeg,
    Yuyv,
}
