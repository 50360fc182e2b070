//! The messages lookout publishes. `docs/mqtt.md` and `docs/schema/*.json` document them; tests
//! validate what is published against those schemas.

use std::time::SystemTime;

use serde::Serialize;

/// Schema identifier carried in every detections message; bumped on incompatible changes.
pub const DETECTIONS_SCHEMA: &str = "lookout.detections.v1";
/// `<root>/<camera>/events`.
pub const EVENT_SCHEMA: &str = "lookout.event.v1";
/// `<root>/<camera>/state` (retained).
pub const STATE_SCHEMA: &str = "lookout.state.v1";
/// `<root>/stats`.
pub const STATS_SCHEMA: &str = "lookout.stats.v1";
/// `<root>/<camera>/events`: a tracked object's life (new, update, end).
pub const OBJECT_EVENT_SCHEMA: &str = "lookout.object.v1";

#[derive(Debug, Serialize)]
pub struct Object<'a> {
    pub class: &'a str,
    pub class_id: usize,
    pub score: f64,
    #[serde(rename = "box")]
    pub bbox: [f64; 4],
    /// With tracking: the track, unique per camera per run (`(run, camera, track_id)`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub track_id: Option<u64>,
    /// With tracking: px/s of the box's bottom centre.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub velocity: Option<[f64; 2]>,
    /// With tracking: seconds since the track's first detection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub age_s: Option<f64>,
    /// With tracking: the object has not moved for a while (a parked car).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stationary: Option<bool>,
    /// The detector skipped this frame (`detect_every`): the box is the track's prediction.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub predicted: bool,
}

#[derive(Debug, Serialize)]
pub struct Size {
    pub width: u32,
    pub height: u32,
}

#[derive(Debug, Serialize)]
pub struct ModelInfo<'a> {
    pub name: &'a str,
    pub precision: &'a str,
    pub engine: &'a str,
}

/// Milliseconds spent in each stage (see docs/mqtt.md for exact definitions).
#[derive(Debug, Serialize, Clone, Copy, Default)]
pub struct Latency {
    pub decode: f64,
    pub preprocess: f64,
    pub queue: f64,
    pub inference: f64,
    pub postprocess: f64,
    pub total: f64,
}

impl Latency {
    pub fn as_array(&self) -> [f64; 6] {
        [
            self.decode,
            self.preprocess,
            self.queue,
            self.inference,
            self.postprocess,
            self.total,
        ]
    }
}

#[derive(Debug, Serialize)]
pub struct DetectionsMessage<'a> {
    pub schema: &'static str,
    pub device: &'a str,
    pub camera: &'a str,
    pub seq: u64,
    pub captured_at: String,
    pub source_pts: Option<f64>,
    pub width: u32,
    pub height: u32,
    pub input: Size,
    pub model: ModelInfo<'a>,
    pub latency_ms: Latency,
    pub objects: Vec<Object<'a>>,
}

/// Output of `lookout detect`, one per image.
#[derive(Debug, Serialize)]
pub struct ImageResult<'a> {
    pub image: &'a str,
    pub width: u32,
    pub height: u32,
    pub objects: Vec<Object<'a>>,
}

/// RFC 3339, UTC, millisecond precision: `2026-11-26T05:01:02.345Z`.
pub fn rfc3339_ms(t: SystemTime) -> String {
    let t = time::OffsetDateTime::from(t);
    let fmt = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    t.format(&fmt)
        .unwrap_or_else(|_| "1970-01-01T00:00:00.000Z".into())
}

pub fn round_to(v: f64, decimals: i32) -> f64 {
    let k = 10f64.powi(decimals);
    (v * k).round() / k
}

pub fn object<'a>(class: &'a str, class_id: usize, score: f32, bbox: [f32; 4]) -> Object<'a> {
    Object {
        class,
        class_id,
        score: round_to(score as f64, 4),
        bbox: bbox.map(|v| round_to(v as f64, 1)),
        track_id: None,
        velocity: None,
        age_s: None,
        stationary: None,
        predicted: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339_with_milliseconds() {
        let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(1_764_133_262_345);
        assert_eq!(rfc3339_ms(t), "2025-11-26T05:01:02.345Z");
    }

    #[test]
    fn objects_are_rounded() {
        let o = object("car", 2, 0.123456, [1.06, 2.0, 3.94, 4.0]);
        assert_eq!(o.score, 0.1235);
        assert_eq!(o.bbox, [1.1, 2.0, 3.9, 4.0]);
    }
}
