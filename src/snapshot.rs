//! The latest processed frame of a camera, kept for snapshots: the admin endpoint's
//! `/cameras/<name>/snapshot.jpg` and the retained `<camera>/snapshot` on MQTT. The pipeline
//! hands over the frame it already has (no copy) with the objects it published; it is drawn on
//! and encoded only when a snapshot is asked for.

use std::sync::atomic::{AtomicU8, Ordering::Relaxed};
use std::sync::{Arc, Mutex};

use serde::Deserialize;

use crate::annotate::{self, Annotation, Format};

/// `[snapshots]` in the config.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SnapshotsConfig {
    /// Seconds between two annotated JPEGs on `<camera>/snapshot` (retained); 0 = none.
    pub mqtt_interval_s: f64,
    /// JPEG quality of snapshots, 1..=100 (read wider, so that 500 gets this range in its error
    /// rather than "expected u8"; [`SnapshotsConfig::quality`] is the checked value).
    pub jpeg_quality: i64,
}

impl Default for SnapshotsConfig {
    fn default() -> Self {
        SnapshotsConfig {
            mqtt_interval_s: 0.0,
            jpeg_quality: 80,
        }
    }
}

impl SnapshotsConfig {
    /// The JPEG quality, within 1..=100 (what `validate` accepts).
    pub fn quality(&self) -> u8 {
        self.jpeg_quality.clamp(1, 100) as u8
    }

    pub fn validate(&self) -> Result<(), String> {
        if !(self.mqtt_interval_s.is_finite() && self.mqtt_interval_s >= 0.0) {
            return Err(format!(
                "mqtt_interval_s = {}: use seconds between snapshots (e.g. 10), or 0 to publish none",
                self.mqtt_interval_s
            ));
        }
        if !(1..=100).contains(&self.jpeg_quality) {
            return Err(format!(
                "jpeg_quality = {}: use 1 (smallest) to 100 (best); 80 is a good default",
                self.jpeg_quality
            ));
        }
        Ok(())
    }
}

/// A processed frame (RGB24) and the objects published for it.
#[derive(Debug)]
pub struct Snapshot {
    /// The frame's index from its source.
    pub seq: u64,
    pub width: u32,
    pub height: u32,
    pub pixels: Vec<u8>,
    pub annotations: Vec<Annotation>,
}

impl Snapshot {
    /// The frame with its objects drawn, as a JPEG.
    pub fn annotated_jpeg(&self, quality: u8) -> Result<Vec<u8>, String> {
        let mut img = image::RgbImage::from_raw(self.width, self.height, self.pixels.clone())
            .ok_or_else(|| {
                format!(
                    "frame {} has {} bytes, not {}×{} RGB",
                    self.seq,
                    self.pixels.len(),
                    self.width,
                    self.height
                )
            })?;
        annotate::draw(&mut img, &self.annotations);
        annotate::encode(&img, Format::Jpeg { quality }).map_err(|e| e.to_string())
    }
}

/// One camera's latest snapshot, replaced frame after frame, and the JPEG quality it is served at.
#[derive(Debug)]
pub struct LatestFrame {
    latest: Mutex<Option<Arc<Snapshot>>>,
    jpeg_quality: AtomicU8,
}

impl Default for LatestFrame {
    fn default() -> Self {
        LatestFrame {
            latest: Mutex::default(),
            jpeg_quality: AtomicU8::new(SnapshotsConfig::default().quality()),
        }
    }
}

impl LatestFrame {
    /// `[snapshots] jpeg_quality`, set when the camera starts (and on a reload).
    pub fn set_jpeg_quality(&self, quality: u8) {
        self.jpeg_quality.store(quality.clamp(1, 100), Relaxed);
    }

    pub fn jpeg_quality(&self) -> u8 {
        self.jpeg_quality.load(Relaxed)
    }

    /// Keeps `s` as the latest; returns the previous frame's pixel buffer for reuse when no
    /// reader holds it any more.
    pub fn put(&self, s: Snapshot) -> Option<Vec<u8>> {
        let old = self
            .latest
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .replace(Arc::new(s));
        old.and_then(|o| Arc::try_unwrap(o).ok()).map(|o| o.pixels)
    }

    /// The latest snapshot; None before the first processed frame.
    pub fn latest(&self) -> Option<Arc<Snapshot>> {
        self.latest
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// An HTTP answer: status line, content type, body.
pub type HttpAnswer = (&'static str, &'static str, Vec<u8>);

/// The answer to `GET /cameras/<name>/snapshot.jpg`, or None when `path` is not a snapshot path.
/// `find` looks a camera up by name: an unknown camera is 404, one without a frame yet 503.
pub fn http_answer(
    path: &str,
    find: impl Fn(&str) -> Option<Arc<LatestFrame>>,
) -> Option<HttpAnswer> {
    let name = path
        .strip_prefix("/cameras/")?
        .strip_suffix("/snapshot.jpg")?;
    let text = |status, body: String| Some((status, "text/plain", body.into_bytes()));
    let Some(frame) = find(name) else {
        return text(
            "404 Not Found",
            format!("no camera named '{name}'; the names are the [[cameras]] name keys\n"),
        );
    };
    let Some(snapshot) = frame.latest() else {
        return text(
            "503 Service Unavailable",
            format!("camera '{name}' has not processed a frame yet; try again shortly\n"),
        );
    };
    match snapshot.annotated_jpeg(frame.jpeg_quality()) {
        Ok(jpeg) => Some(("200 OK", "image/jpeg", jpeg)),
        Err(e) => text(
            "500 Internal Server Error",
            format!("cannot encode the snapshot: {e}\n"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(seq: u64) -> Snapshot {
        Snapshot {
            seq,
            width: 32,
            height: 24,
            pixels: vec![128; 32 * 24 * 3],
            annotations: vec![],
        }
    }

    #[test]
    fn put_returns_the_old_buffer_unless_a_reader_holds_it() {
        let latest = LatestFrame::default();
        assert!(latest.latest().is_none());
        assert!(latest.put(snapshot(0)).is_none(), "nothing before");
        assert_eq!(latest.put(snapshot(1)).map(|p| p.len()), Some(32 * 24 * 3));
        let held = latest.latest().expect("a frame");
        assert_eq!(held.seq, 1);
        assert!(latest.put(snapshot(2)).is_none(), "frame 1 is still read");
        assert_eq!(held.seq, 1, "the reader's frame is unchanged");
    }

    #[test]
    fn http_answers_404_503_and_a_jpeg() {
        let cam = Arc::new(LatestFrame::default());
        let find = |n: &str| (n == "gate").then(|| cam.clone());
        assert!(http_answer("/metrics", find).is_none());
        assert_eq!(
            http_answer("/cameras/nope/snapshot.jpg", find).map(|a| a.0),
            Some("404 Not Found")
        );
        assert_eq!(
            http_answer("/cameras/gate/snapshot.jpg", find).map(|a| a.0),
            Some("503 Service Unavailable")
        );
        cam.put(snapshot(0));
        let (status, ctype, body) =
            http_answer("/cameras/gate/snapshot.jpg", find).expect("an answer");
        assert_eq!((status, ctype), ("200 OK", "image/jpeg"));
        let img = image::load_from_memory(&body).expect("a JPEG");
        assert_eq!((img.width(), img.height()), (32, 24));
    }

    #[test]
    fn config_rejects_what_cannot_work() {
        assert!(SnapshotsConfig::default().validate().is_ok());
        for bad in [
            SnapshotsConfig {
                mqtt_interval_s: -1.0,
                ..Default::default()
            },
            SnapshotsConfig {
                jpeg_quality: 0,
                ..Default::default()
            },
            SnapshotsConfig {
                jpeg_quality: 101,
                ..Default::default()
            },
        ] {
            assert!(bad.validate().is_err(), "{bad:?}");
        }
    }
}
