//! Frame sources: video files and streams through the `ffmpeg` command-line tool, still images and
//! folders of images.

pub mod ffmpeg;
pub mod images;
#[cfg(feature = "v4l2")]
pub mod v4l2;

use std::path::Path;
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

/// Image file extensions that go to the image source instead of ffmpeg (the formats compiled in).
pub const IMAGE_EXTENSIONS: [&str; 4] = ["jpg", "jpeg", "png", "bmp"];

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

pub fn is_image_path(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

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

/// What a source passed over instead of failing.
#[derive(Debug, Default)]
pub struct SourceFaults {
    /// Images in a folder that could not be decoded: skipped, logged, counted.
    pub skipped: std::sync::atomic::AtomicU64,
    /// Decoder errors ffmpeg reported for a video or stream (damaged or truncated data): the
    /// frames it could decode went on.
    pub damaged: std::sync::atomic::AtomicU64,
}

impl SourceFaults {
    pub fn skipped(&self) -> u64 {
        self.skipped.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn damaged(&self) -> u64 {
        self.damaged.load(std::sync::atomic::Ordering::Relaxed)
    }
}

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

/// Whether `uri` is a network stream (rtsp://, http://, ...) rather than a file.
pub fn is_stream(uri: &str) -> bool {
    uri.contains("://") && !uri.starts_with("file://")
}

/// Whether `uri` names a V4L2 device (`/dev/videoN`, `/dev/v4l/...`, `v4l2://N`) rather than
/// something for ffmpeg.
pub fn is_device(uri: &str) -> bool {
    uri.starts_with("/dev/video") || uri.starts_with("/dev/v4l/") || uri.starts_with("v4l2://")
}

/// Opens a V4L2 camera, video file, stream URL, image or folder of images.
pub fn open(uri: &str, opts: SourceOptions) -> Result<Box<dyn Source>> {
    if is_device(uri) {
        #[cfg(feature = "v4l2")]
        return Ok(Box::new(v4l2::V4l2Source::open(uri, opts)?));
        #[cfg(not(feature = "v4l2"))]
        return Err(crate::Error::Source {
            uri: uri.into(),
            msg: "this build has no V4L2 support; build with the `v4l2` feature (default)".into(),
        });
    }
    let path = Path::new(uri);
    if path.is_dir() || is_image_path(path) {
        Ok(Box::new(images::ImageSource::new(
            &[path.to_path_buf()],
            opts,
        )?))
    } else {
        Ok(Box::new(ffmpeg::FfmpegSource::open(uri, opts)?))
    }
}
