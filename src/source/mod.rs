//! Frame sources: video files and streams through the `ffmpeg` command-line tool, still images and
//! folders of images, V4L2 cameras; [`open`] picks one for a URI. What they share lives in files of
//! its own (`frame.rs`, `options.rs`, `kind.rs`), so the sources never import this file back.

pub mod ffmpeg;
pub mod images;
#[cfg(feature = "v4l2")]
pub mod v4l2;

mod frame;
mod kind;
mod options;

pub use frame::{frame_size_error, Frame, Source, MAX_FRAME_PIXELS, MAX_FRAME_SIDE};
pub use kind::{is_device, is_image_path, is_stream, IMAGE_EXTENSIONS};
pub use options::{CaptureRequest, PixelFormat, SourceFaults, SourceOptions};

use std::path::Path;

use crate::error::Result;

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
