//! What kind of source a URI names: a V4L2 device, a network stream, an image (or else a file
//! for ffmpeg).

use std::path::Path;

/// Image file extensions that go to the image source instead of ffmpeg (the formats compiled in).
pub const IMAGE_EXTENSIONS: [&str; 4] = ["jpg", "jpeg", "png", "bmp"];

pub fn is_image_path(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
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
