//! Still images and folders of images as a frame source.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant, SystemTime};

use super::frame::{Frame, Source};
use super::kind::is_image_path;
use super::options::SourceOptions;
use crate::error::{Error, Result};

pub struct ImageSource {
    files: Vec<PathBuf>,
    next: usize,
    seq: u64,
    opts: SourceOptions,
    /// For `realtime`: one image per second.
    due: Option<Instant>,
}

impl ImageSource {
    /// `paths` are image files or folders (their images, sorted by name, not recursive).
    pub fn new(paths: &[PathBuf], opts: SourceOptions) -> Result<ImageSource> {
        let mut files = Vec::new();
        for p in paths {
            if p.is_dir() {
                files.extend(list_folder(p)?);
            } else if p.exists() {
                files.push(p.clone());
            } else {
                return Err(source_err(
                    p,
                    "no such file or folder; check the path".into(),
                ));
            }
        }
        if files.is_empty() {
            return Err(Error::Source {
                uri: paths
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                msg: "no images found (jpg, jpeg, png, bmp)".into(),
            });
        }
        Ok(ImageSource {
            files,
            next: 0,
            seq: 0,
            opts,
            due: None,
        })
    }
}

/// The images in a folder (jpg, jpeg, png, bmp), sorted by name, not recursive.
pub fn list_folder(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| source_err(dir, format!("cannot list the folder: {e}")))?;
    let mut found: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|f| f.is_file() && is_image_path(f))
        .collect();
    found.sort();
    Ok(found)
}

fn source_err(p: &Path, msg: String) -> Error {
    Error::Source {
        uri: p.display().to_string(),
        msg,
    }
}

/// Decodes an image file to RGB24 into `buf`. Returns (width, height).
pub fn load_rgb(path: &Path, buf: &mut Vec<u8>) -> Result<(u32, u32)> {
    let reader = || {
        image::ImageReader::open(path)
            .map_err(|e| source_err(path, format!("cannot open: {e}")))?
            .with_guessed_format()
            .map_err(|e| source_err(path, format!("cannot read: {e}")))
    };
    decode_rgb(path, reader, buf)
}

/// Decodes an image held in memory to RGB24 into `buf`, with the same limits as [`load_rgb`];
/// `label` names it in errors. Returns (width, height).
pub fn decode_rgb_bytes(label: &Path, bytes: &[u8], buf: &mut Vec<u8>) -> Result<(u32, u32)> {
    let reader = || {
        image::ImageReader::new(std::io::Cursor::new(bytes))
            .with_guessed_format()
            .map_err(|e| source_err(label, format!("cannot read: {e}")))
    };
    decode_rgb(label, reader, buf)
}

fn decode_rgb<R: std::io::BufRead + std::io::Seek>(
    path: &Path,
    reader: impl Fn() -> Result<image::ImageReader<R>>,
    buf: &mut Vec<u8>,
) -> Result<(u32, u32)> {
    let unreadable = |e: image::ImageError| {
        source_err(
            path,
            format!("not a readable image ({e}); supported: jpeg, png, bmp"),
        )
    };
    // The header first: a file declaring huge dimensions is refused before any pixel is allocated.
    let (w, h) = reader()?.into_dimensions().map_err(unreadable)?;
    if let Some(why) = super::frame::frame_size_error(w, h) {
        return Err(source_err(path, why));
    }
    let mut r = reader()?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(w);
    limits.max_image_height = Some(h);
    limits.max_alloc = Some(super::frame::MAX_FRAME_PIXELS * 4);
    r.limits(limits);
    // Taken over, not copied: one RGB buffer besides the decoder's own (grey, RGBA...) output.
    let img = r.decode().map_err(unreadable)?.into_rgb8();
    let (w, h) = img.dimensions();
    *buf = img.into_raw();
    Ok((w, h))
}

impl ImageSource {
    /// At the end of the list: back to the first file when looping, else false (done).
    fn rewind_if_done(&mut self) -> bool {
        if self.next < self.files.len() {
            return true;
        }
        if !self.opts.looping {
            return false;
        }
        self.next = 0;
        true
    }
}

impl Source for ImageSource {
    fn next_frame(&mut self, mut buf: Vec<u8>) -> Result<Option<Frame>> {
        if !self.rewind_if_done() {
            return Ok(None);
        }
        if self.opts.realtime {
            let now = Instant::now();
            let due = *self.due.get_or_insert(now);
            if due > now {
                let stopped = match &self.opts.stop {
                    Some(stop) => stop.wait_until(due),
                    None => {
                        std::thread::sleep(due - now);
                        false
                    }
                };
                if stopped {
                    return Ok(None);
                }
            }
            self.due = Some(due + Duration::from_secs(1));
        }
        // An image that cannot be decoded is skipped, logged and counted; only a folder where
        // none can be read is an error.
        let mut failed = 0;
        let t0 = Instant::now();
        let (path, width, height) = loop {
            if !self.rewind_if_done() {
                return Ok(None);
            }
            let path = self.files[self.next].clone();
            self.next += 1;
            match load_rgb(&path, &mut buf) {
                Ok((w, h)) => break (path, w, h),
                Err(e) => {
                    self.opts.faults.skipped.fetch_add(1, Relaxed);
                    tracing::warn!("skipping an image: {e}");
                    failed += 1;
                    if failed >= self.files.len() {
                        return Err(Error::Source {
                            uri: path.display().to_string(),
                            msg: format!(
                                "none of the {} images can be read (the last: {e})",
                                self.files.len()
                            ),
                        });
                    }
                }
            }
        };
        let frame = Frame {
            seq: self.seq,
            captured_at: SystemTime::now(),
            captured_mono: Instant::now(),
            pts: None,
            width,
            height,
            pixels: buf,
            decode: t0.elapsed(),
            label: Some(path.display().to_string()),
        };
        self.seq += 1;
        Ok(Some(frame))
    }
}
