//! One captured frame, what every source is (the [`Source`] trait), and the largest frame lookout
//! takes.

use std::time::{Duration, Instant, SystemTime};

use crate::error::Result;

/// One captured frame, RGB24, row-major, no padding.
#[derive(Debug)]
pub struct Frame {
    /// 0-based index of the frame from this source; contiguous unless frames were dropped.
    pub seq: u64,
    /// Wall-clock time the frame was in hand (last byte received from the decoder).
    pub captured_at: SystemTime,
    /// Monotonic twin of `captured_at`, for latency arithmetic.
    pub captured_mono: Instant,
    /// Presentation time in the source, seconds from its start, where known.
    pub pts: Option<f64>,
    pub width: u32,
    pub height: u32,
    pub pixels: Vec<u8>,
    /// Time spent waiting for this frame from the decoder (see `docs/mqtt.md`).
    pub decode: Duration,
    /// The file a still image came from.
    pub label: Option<String>,
}

pub trait Source: Send {
    /// The next frame, written into `buf` (a recycled buffer, possibly empty); `None` at the end.
    fn next_frame(&mut self, buf: Vec<u8>) -> Result<Option<Frame>>;
}

/// The largest frame lookout takes, in pixels: 40 MP (8K UHD is 33 MP). Checked from the header
/// of an image and from ffprobe's answer for a video, before anything is decoded, so a small file
/// declaring huge dimensions (a decompression bomb) is refused instead of allocating gigabytes.
pub const MAX_FRAME_PIXELS: u64 = 40_000_000;

/// The longest side lookout takes, in pixels.
pub const MAX_FRAME_SIDE: u32 = 16_384;

/// Why a frame of `w`×`h` is refused, if it is.
pub fn frame_size_error(w: u32, h: u32) -> Option<String> {
    let pixels = w as u64 * h as u64;
    if w == 0 || h == 0 {
        Some(format!("its frames are {w}x{h}: empty"))
    } else if w > MAX_FRAME_SIDE || h > MAX_FRAME_SIDE || pixels > MAX_FRAME_PIXELS {
        Some(format!(
            "its frames are {w}x{h} ({:.0} MP), over lookout's limit of {} MP and {MAX_FRAME_SIDE} \
             pixels a side (8K UHD is 33 MP): scale it down first",
            pixels as f64 / 1e6,
            MAX_FRAME_PIXELS / 1_000_000
        ))
    } else {
        None
    }
}
