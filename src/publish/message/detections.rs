//! `<root>/<camera>/detections` (docs/schema/detections.schema.json): a processed frame, its
//! objects and every stage's latency; and `lookout detect`'s line per image, which shares its
//! objects.

use serde::Serialize;

use crate::wire::round_to;

/// Schema identifier carried in every detections message; bumped on incompatible changes.
pub const DETECTIONS_SCHEMA: &str = "lookout.detections.v1";

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
    pub objects: &'a [Object<'a>],
}

/// Output of `lookout detect`, one per image.
#[derive(Debug, Serialize)]
pub struct ImageResult<'a> {
    pub image: &'a str,
    pub width: u32,
    pub height: u32,
    pub objects: Vec<Object<'a>>,
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
    fn objects_are_rounded() {
        let o = object("car", 2, 0.123456, [1.06, 2.0, 3.94, 4.0]);
        assert_eq!(o.score, 0.1235);
        assert_eq!(o.bbox, [1.1, 2.0, 3.9, 4.0]);
    }
}
